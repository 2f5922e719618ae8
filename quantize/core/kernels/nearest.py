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
def lower_bound(sorted_values, v):
    """The first index whose value is not below ``v`` (np.searchsorted's left side, which would
    make a cached kernel load Numba's whole array-math module)."""
    lo, hi = 0, sorted_values.shape[0]
    while lo < hi:
        mid = (lo + hi) >> 1
        if sorted_values[mid] < v:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, inline="always")
def nearest_one(X, i, sorted_centers, order, proj, axis):
    """The index of the centre nearest to row i of X (ties to the lowest index).

    ``sorted_centers`` are the centres in ascending order of ``proj`` (their dot product with the
    unit vector ``axis``); ``order`` maps sorted positions back to centre indices. A centre whose
    projection differs from the point's by more than the best distance so far cannot be nearer,
    so the search walks outward from the point's projection and stops there.
    """
    k = sorted_centers.shape[0]
    p = 0.0
    for f in range(X.shape[1]):
        p += X[i, f] * axis[f]
    hi = lower_bound(proj, p)
    lo = hi - 1
    best = np.inf
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
        if gap * gap > best * (1.0 + _SLACK) + _SLACK:
            break
        dd = sqdist(X, i, sorted_centers, t)
        j = order[t]
        if dd < best or (dd == best and j < best_j):
            best = dd
            best_j = j
    return best_j


@njit(cache=True, parallel=True)
def nearest_labels(X, sorted_centers, order, proj, axis, out):
    """Write into ``out[i]`` the index of the centre nearest to X[i] (see :func:`nearest_one`)."""
    for i in prange(X.shape[0]):
        out[i] = nearest_one(X, i, sorted_centers, order, proj, axis)
    return out
