"""Colour counting: one pass over the pixels into a table indexed by the 24-bit colour."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def count_rgb(pixels, table, seen):
    """Add the count of every 24-bit colour of ``pixels`` (N, 3) uint8 into ``table`` (2**24,)
    (zero on entry); write each colour's key into ``seen`` the first time it occurs (first-seen
    order). Returns how many distinct colours there are."""
    m = 0
    for i in range(pixels.shape[0]):
        key = (np.int64(pixels[i, 0]) << 16) | (np.int64(pixels[i, 1]) << 8) | np.int64(pixels[i, 2])
        if table[key] == 0:
            seen[m] = key
            m += 1
        table[key] += 1
    return m
