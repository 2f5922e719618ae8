"""Dithered mapping: error diffusion by any small matrix (serpentine, clamped error), a threshold
mask (Bayer, blue noise) or Knoll's pattern, one pixel at a time with the exact nearest search;
sequential, hence deterministic."""

from __future__ import annotations

import numpy as np
from numba import njit

from .nearest import nearest_one

DIFFUSION = 1
THRESHOLD = 2
PATTERN = 3
MIX = 0.5  # the share of the candidates' running error each next candidate is chosen to cancel
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
    times ``offset`` (D,). A pattern (Knoll's) takes the my*mx palette entries that :func:`_pattern`
    mixes for the pixel's colour, ordered along ``offset``, and the mask picks one.
    """
    h, w = pixels.shape[:2]
    d = points.shape[1]
    my, mx = mask.shape
    levels = float(my * mx)
    # error for this row and the next two, MAX_REACH pixels of padding a side, as a ring
    errors = np.zeros((MAX_REACH + 1, w + 2 * MAX_REACH, d))
    target = np.empty((1, d))
    lightness = np.zeros(centers.shape[0])  # along ``offset``: the order a pattern's mix is laid in
    for j in range(centers.shape[0]):
        for f in range(d):
            lightness[j] += centers[j, f] * offset[f]
    mixed = np.empty(my * mx, np.int64)
    mixed_row = -1  # the colour ``mixed`` was made for: runs of one colour make it once
    error = np.empty(d)
    for y in range(h):
        here = errors[y % (MAX_REACH + 1)]
        step = 1 if mode != DIFFUSION or y % 2 == 0 else -1
        for s in range(w):
            x = s if step == 1 else w - 1 - s
            i = y * w + x
            row = rows[i]
            if mode == PATTERN:
                if row != mixed_row:
                    _pattern(points[row], centers, sorted_centers, order, proj, axis,
                             strength * MIX, lightness, mixed, error, target)
                    mixed_row = row
                out[i] = mixed[mask[y % my, x % mx]]
                continue
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


@njit(cache=True, inline="always")
def _pattern(point, centers, sorted_centers, order, proj, axis, mix, lightness, mixed, error, target):
    """Fill ``mixed`` with palette entries whose mean approaches ``point`` (T. Knoll's pattern
    dither, as J. Yliluoma describes it): each the entry nearest to the point plus ``mix`` times
    the error of those before, kept in order of ``lightness`` (ties by index)."""
    d = point.shape[0]
    error[:] = 0.0
    for c in range(mixed.shape[0]):
        for f in range(d):
            target[0, f] = point[f] + mix * error[f]
        j = nearest_one(target, 0, sorted_centers, order, proj, axis)
        for f in range(d):
            error[f] += point[f] - centers[j, f]
        k = c
        while k > 0 and (lightness[mixed[k - 1]] > lightness[j]
                         or (lightness[mixed[k - 1]] == lightness[j] and mixed[k - 1] > j)):
            mixed[k] = mixed[k - 1]
            k -= 1
        mixed[k] = j
    return mixed
