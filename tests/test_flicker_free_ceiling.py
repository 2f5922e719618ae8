"""The animation benchmark's flicker-free ceiling: what no GIF without flicker can pass."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.animation import flicker_free_ceiling
from quantize.animation.measure import PSNR_CAP
from quantize.animation.run import animate
from test_change_tables import as_clip, options, patch_frames


@pytest.mark.parametrize("k", [16, 64, 256])
def test_no_flicker_free_gif_of_ours_passes_the_ceiling(k):
    frames = patch_frames()
    result = animate(as_clip(frames), options(k=k, formats=("gif",)))
    ceiling = flicker_free_ceiling(frames, k)
    assert result.flicker == 0.0
    assert result.mean_psnr < ceiling < PSNR_CAP


def test_a_still_the_table_holds_exactly_has_no_ceiling_below_the_cap():
    frames = [f // 64 * 64 for f in patch_frames()]  # at most 64 colours
    assert flicker_free_ceiling(frames, 64) == PSNR_CAP
    assert flicker_free_ceiling(frames, 8) < PSNR_CAP


def test_a_clip_where_every_pixel_changes_every_frame_has_no_ceiling():
    frames = [np.full((4, 6, 3), 10 * t, np.uint8) for t in range(5)]
    assert flicker_free_ceiling(frames) is None
