"""Dithered mapping: Floyd–Steinberg (serpentine, clamped error) or ordered (Bayer 8x8), one
pixel at a time with the exact nearest search; sequential, hence deterministic."""

from __future__ import annotations

import numpy as np
from numba import njit

from .nearest import nearest_one

FLOYD_STEINBERG = 1
ORDERED = 2

@njit(cache=True)
def dither(pixels, rows, points, centers, sorted_centers, order, proj, axis, mode, strength,
           limit, offset, bayer, edge, out):
    """Write into ``out`` (H*W,) the palette index of every pixel of ``pixels`` (H, W, C) uint8.

    ``points`` (M, D) are the image's distinct colours in the working space, ``rows`` (H*W,) the
    row of every pixel's colour. ``centers`` (K, D)
    is the palette in that space, the next four arrays its search index (see ``nearest_one``).
    Floyd–Steinberg adds ``strength`` times the error, its length clamped to ``limit``, scanning
    rows alternately left to right and right to left; a pixel takes error in proportion to
    ``edge`` (H*W,) in [0, 1] (all ones: plain Floyd–Steinberg). Ordered adds
    ``strength * (bayer[y % 8, x % 8] + 0.5) / 64 - 0.5`` times ``offset`` (D,).
    """
    h, w = pixels.shape[:2]
    d = points.shape[1]
    errors = np.zeros((2, w + 2, d))  # this row's error and the next's, one pixel of padding a side
    target = np.empty((1, d))
    for y in range(h):
        here = errors[y & 1]
        below = errors[1 - (y & 1)]
        below[:, :] = 0.0
        step = 1 if mode != FLOYD_STEINBERG or y % 2 == 0 else -1
        for s in range(w):
            x = s if step == 1 else w - 1 - s
            i = y * w + x
            row = rows[i]
            if mode == ORDERED:
                t = strength * ((bayer[y & 7, x & 7] + 0.5) / 64.0 - 0.5)
                for f in range(d):
                    target[0, f] = points[row, f] + t * offset[f]
            else:
                for f in range(d):
                    target[0, f] = points[row, f] + edge[i] * here[x + 1, f]
            j = nearest_one(target, 0, sorted_centers, order, proj, axis)
            out[i] = j
            if mode != FLOYD_STEINBERG:
                continue
            norm = 0.0
            for f in range(d):
                target[0, f] = strength * (target[0, f] - centers[j, f])
                norm += target[0, f] * target[0, f]
            scale = 1.0 if norm <= limit * limit else limit / np.sqrt(norm)
            for f in range(d):
                e = scale * target[0, f]
                here[x + 1 + step, f] += e * (7.0 / 16.0)
                below[x + 1 - step, f] += e * (3.0 / 16.0)
                below[x + 1, f] += e * (5.0 / 16.0)
                below[x + 1 + step, f] += e * (1.0 / 16.0)
    return out
