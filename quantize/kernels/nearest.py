"""Exact nearest-centre search: centres sorted by their projection on an axis, searched outward."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

# Slack on the projection stopping rule so rounding never skips an exact tie.
_SLACK = 1e-9


@njit(cache=True, inline="always")
def sqdist(X, i, C, j):
    """Squared distance between row i of X and row j of C."""
    acc = 0.0
    for f in range(X.shape[1]):
        diff = X[i, f] - C[j, f]
        acc += diff * diff
    return acc


@njit(cache=True, inline="always")
def two_nearest(X, i, sorted_centers, order, proj, axis, need_second):
    """Nearest centre of X[i] (lowest index on ties), its squared distance, and the second-best one.

    ``sorted_centers`` are the centres in ascending order of ``proj`` (their dot product with the
    unit vector ``axis``); ``order`` maps sorted positions back to centre indices. A centre whose
    projection differs from the point's by more than the current threshold cannot be nearer, so the
    search walks outward from the point's projection and stops there. With ``need_second`` false the
    second distance is not tracked (a tighter, faster stop).
    """
    k = sorted_centers.shape[0]
    p = 0.0
    for f in range(X.shape[1]):
        p += X[i, f] * axis[f]
    hi = np.searchsorted(proj, p)
    lo = hi - 1
    best = np.inf
    second = np.inf
    best_j = -1
    while lo >= 0 or hi < k:
        if hi < k and (lo < 0 or proj[hi] - p <= p - proj[lo]):
            t = hi
            gap = proj[hi] - p
            hi += 1
        else:
            t = lo
            gap = p - proj[lo]
            lo -= 1
        limit = second if need_second else best
        if gap * gap > limit * (1.0 + _SLACK) + _SLACK:
            break
        dd = sqdist(X, i, sorted_centers, t)
        j = order[t]
        if dd < best or (dd == best and j < best_j):
            second = best
            best = dd
            best_j = j
        elif dd < second:
            second = dd
    return best_j, best, second


@njit(cache=True, parallel=True)
def nearest_labels(X, sorted_centers, order, proj, axis, out):
    """Write into ``out[i]`` the index of the centre nearest to X[i] (ties to the lowest index)."""
    for i in prange(X.shape[0]):
        j, _, _ = two_nearest(X, i, sorted_centers, order, proj, axis, False)
        out[i] = j
    return out


@njit(cache=True, parallel=True)
def gather_rgb(pixels, table, labels, out):
    """Per-pixel labels from per-colour labels: ``out[i] = labels[table[r << 16 | g << 8 | b]]``."""
    for i in prange(pixels.shape[0]):
        key = (np.int64(pixels[i, 0]) << 16) | (np.int64(pixels[i, 1]) << 8) | np.int64(pixels[i, 2])
        out[i] = labels[table[key]]
    return out
