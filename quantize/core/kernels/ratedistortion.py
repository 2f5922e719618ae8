"""Rate–distortion mapping: a pixel takes its left or upper neighbour's index when that colour is
nearly as close as its own, so the index map has the repeats the ``cm`` coder codes cheapest."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, inline="always")
def _error(pixels, y, x, palette, j):
    """Squared error of pixel (y, x) against palette entry j, over every channel."""
    acc = 0.0
    for f in range(pixels.shape[2]):
        diff = np.float64(pixels[y, x, f]) - np.float64(palette[j, f])
        acc += diff * diff
    return acc


@njit(cache=True, nogil=True)
def prefer_neighbours(pixels, palette, indices, allowance):
    """In raster order, give pixel (y, x) the index of its left (else upper) neighbour, as decided
    so far, when that entry's squared error is at most ``allowance`` above its own entry's (the
    lower of the two errors wins, the left on a tie). A pixel whose index already equals one of
    them keeps it. ``indices`` change in place; returns how many did."""
    height, width = indices.shape
    changed = 0
    for y in range(height):
        for x in range(width):
            own = indices[y, x]
            left = indices[y, x - 1] if x > 0 else own
            up = indices[y - 1, x] if y > 0 else own
            if left == own or up == own:
                continue
            limit = _error(pixels, y, x, palette, own) + allowance
            best = own
            best_error = np.inf
            if x > 0:
                e = _error(pixels, y, x, palette, left)
                if e <= limit:
                    best, best_error = left, e
            if y > 0:
                e = _error(pixels, y, x, palette, up)
                if e <= limit and e < best_error:
                    best = up
            if best != own:
                indices[y, x] = best
                changed += 1
    return changed
