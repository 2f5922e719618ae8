"""Error measures: the exact squared error of a quantised image."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def squared_error_sum(pixels, palette, indices):
    """Sum over pixels and channels of (pixel - palette[index])², in int64 (exact)."""
    height, width, channels = pixels.shape
    total = 0
    for y in range(height):
        for x in range(width):
            j = indices[y, x]
            for c in range(channels):
                d = np.int64(pixels[y, x, c]) - palette[j, c]
                total += d * d
    return total
