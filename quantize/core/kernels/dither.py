"""Dithered mapping: error diffusion by any small matrix (serpentine, clamped error) or a threshold
mask (Bayer, blue noise), one pixel at a time with the exact nearest search; sequential, hence
deterministic."""

from __future__ import annotations

import numpy as np
from numba import njit

from .nearest import nearest_one

DIFFUSION = 1
THRESHOLD = 2
MAX_REACH = 2  # the farthest a diffusion tap may reach, in rows below and columns either side


@njit(cache=True)
def dither(pixels, rows, points, centers, sorted_centers, order, proj, axis, mode, strength,
           limit, offset, mask, taps, weights, edge, out):
    """Write into ``out`` (H*W,) the palette index of every pixel of ``pixels`` (H, W, C) uint8.

    ``points`` (M, D) are the image's distinct colours in the working space, ``rows`` (H*W,) the
    row of every pixel's colour. ``centers`` (K, D)
    is the palette in that space, the next four arrays its search index (see ``nearest_one``).
    Error diffusion adds ``strength`` times the error, its length clamped to ``limit``, to the
    pixels at offsets ``taps`` (T, 2) of (dx, dy), dy in 0..2 and |dx| <= 2, in shares
    ``weights`` (T,), scanning rows alternately left to right and right to left (dx mirrored);
    a pixel takes error in proportion to ``edge`` (H*W,) in [0, 1]. A threshold mask (my, mx)
    holding 0 .. my*mx - 1 adds ``strength * ((mask[y % my, x % mx] + 0.5) / (my*mx) - 0.5)``
    times ``offset`` (D,).
    """
    h, w = pixels.shape[:2]
    d = points.shape[1]
    my, mx = mask.shape
    levels = float(my * mx)
    # error for this row and the next two, MAX_REACH pixels of padding a side, as a ring
    errors = np.zeros((MAX_REACH + 1, w + 2 * MAX_REACH, d))
    target = np.empty((1, d))
    for y in range(h):
        here = errors[y % (MAX_REACH + 1)]
        step = 1 if mode != DIFFUSION or y % 2 == 0 else -1
        for s in range(w):
            x = s if step == 1 else w - 1 - s
            i = y * w + x
            row = rows[i]
            if mode == THRESHOLD:
                t = strength * ((mask[y % my, x % mx] + 0.5) / levels - 0.5)
                for f in range(d):
                    target[0, f] = points[row, f] + t * offset[f]
            else:
                for f in range(d):
                    target[0, f] = points[row, f] + edge[i] * here[x + MAX_REACH, f]
            j = nearest_one(target, 0, sorted_centers, order, proj, axis)
            out[i] = j
            if mode != DIFFUSION:
                continue
            norm = 0.0
            for f in range(d):
                target[0, f] = strength * (target[0, f] - centers[j, f])
                norm += target[0, f] * target[0, f]
            scale = 1.0 if norm <= limit * limit else limit / np.sqrt(norm)
            for t in range(len(weights)):
                ahead = errors[(y + taps[t, 1]) % (MAX_REACH + 1)]
                col = x + MAX_REACH + step * taps[t, 0]
                for f in range(d):
                    ahead[col, f] += scale * target[0, f] * weights[t]
        here[:, :] = 0.0  # the ring's row for y + MAX_REACH + 1
    return out
