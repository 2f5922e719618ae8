"""GIF's LZW coder, decoded by Pillow."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from PIL import Image

from quantize.animation.gif import lzw_blocks


def one_frame_gif(indices: np.ndarray, min_size: int, palette: np.ndarray) -> bytes:
    h, w = indices.shape
    table = np.zeros((1 << min_size, 3), np.uint8)
    table[:len(palette)] = palette[:1 << min_size]
    return (b"GIF89a" + struct.pack("<HHBBB", w, h, 0x80 | (min_size - 1), 0, 0) + table.tobytes()
            + b"," + struct.pack("<HHHHB", 0, 0, w, h, 0) + lzw_blocks(indices, min_size) + b";")


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
    assert len(lzw_blocks(indices, 4)) < 0.97 * len(lzw_blocks(indices, 8))
