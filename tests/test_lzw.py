"""GIF's LZW coder and its lossy choice of indices, decoded by Pillow."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from PIL import Image

from quantize.io.formats import gif_lzw_blocks
from quantize.core.kernels.lzw import lzw_choose


def one_frame_gif(indices: np.ndarray, min_size: int, palette: np.ndarray) -> bytes:
    h, w = indices.shape
    table = np.zeros((1 << min_size, 3), np.uint8)
    table[:len(palette)] = palette[:1 << min_size]
    return (b"GIF89a" + struct.pack("<HHBBB", w, h, 0x80 | (min_size - 1), 0, 0) + table.tobytes()
            + b"," + struct.pack("<HHHHB", 0, 0, w, h, 0) + gif_lzw_blocks(indices, min_size) + b";")


@pytest.mark.parametrize("shape,k", [((1, 1), 2), ((3, 5), 4), ((64, 64), 16), ((300, 301), 256),
                                     ((90, 500), 3), ((257, 259), 64)])
def test_lzw_blocks_decode_to_the_indices(shape, k):
    rng = np.random.default_rng(k)
    indices = rng.integers(0, k, shape)
    indices[: shape[0] // 2, : shape[1] // 3] = 1  # long runs: strings met again as they are made
    min_size = max(2, (k - 1).bit_length())
    data = one_frame_gif(indices, min_size, rng.integers(0, 256, (256, 3), dtype=np.uint8))
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(data))), indices)


def test_a_smaller_table_codes_smaller():
    indices = np.random.default_rng(0).integers(0, 16, (64, 64))
    assert len(gif_lzw_blocks(indices, 4)) < 0.97 * len(gif_lzw_blocks(indices, 8))


def choice(tolerance: float, n: int = 4000):
    """A noisy gradient mapped to a 64-colour grey ramp, chosen with ``tolerance``."""
    rng = np.random.default_rng(3)
    grey = np.clip(np.linspace(0, 255, n) + rng.normal(0, 12, n), 0, 255)
    targets = np.repeat(grey[:, None], 3, axis=1)
    table = np.repeat(np.linspace(0, 255, 64)[:, None], 3, axis=1)
    preferred = np.abs(grey[:, None] - table[None, :, 0]).argmin(axis=1).astype(np.int32)
    kept = np.zeros((n, 3))
    chosen = lzw_choose(preferred, targets, table, 64, 64, kept, np.full(n, tolerance), 7)
    cost = lambda idx: ((np.where((idx == 64)[:, None], kept, table[np.minimum(idx, 63)])
                         - targets) ** 2).sum(axis=1)
    return preferred, chosen, cost


def test_the_lossy_choice_stays_within_the_tolerance_and_codes_smaller():
    preferred, chosen, cost = choice(300.0)
    assert np.all(cost(chosen) <= cost(preferred) + 300.0 + 1e-9)
    assert (chosen != preferred).mean() > 0.2
    assert len(gif_lzw_blocks(chosen, 7)) < 0.85 * len(gif_lzw_blocks(preferred, 7))


def test_a_negative_tolerance_keeps_every_index():
    preferred, chosen, _ = choice(-1.0)
    assert np.array_equal(chosen, preferred)


def test_a_negative_tolerance_keeps_its_own_index_even_when_another_is_nearer():
    n = 300
    targets = np.full((n, 3), 100.0)
    table = np.array([[0.0, 0, 0], [100.0, 100, 100]])
    preferred = np.zeros(n, np.int32)  # far from the wanted colour; index 1 is exact
    tolerance = np.where(np.arange(n) % 7 == 3, 50.0, -1.0)  # a few pixels free to move
    chosen = lzw_choose(preferred, targets, table, 2, -1, np.zeros((n, 3)), tolerance, 2)
    assert np.all(chosen[tolerance < 0] == 0)


def test_the_clear_index_shows_the_kept_colour():
    n = 50
    targets = np.full((n, 3), 100.0)
    kept = np.full((n, 3), 101.0)  # on screen already, 3 away
    table = np.array([[0.0, 0, 0], [255.0, 255, 255]])
    preferred = np.zeros(n, np.int32)  # far from the wanted colour, but the caller's choice
    chosen = lzw_choose(preferred, targets, table, 2, 2, kept, np.zeros(n), 2)
    assert np.all(chosen == 2)  # the kept colour is nearer: allowed with no tolerance at all
