"""Lattice-constrained fitting: what moving one palette entry to another point would change."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .nearest import sqdist


@njit(cache=True, parallel=True)
def move_gains(X, w, centers, candidates, owner, out):
    """Write into ``out`` (M,) the change of the weighted squared error of the points ``X`` (n, D),
    weights ``w`` (n,), nearest to ``centers`` (K, D), if centre ``owner[m]`` moved to
    ``candidates[m]`` (M, D), the other centres staying: a point of that centre goes to the nearer
    of the new point and its second-nearest centre, any other point to the nearer of its centre and
    the new point. Each sum runs over the points in order, so the result does not depend on the
    number of threads."""
    n, k = X.shape[0], centers.shape[0]
    first = np.empty(n)
    second = np.empty(n)
    label = np.empty(n, np.int64)
    for i in prange(n):
        a, b, j_a = np.inf, np.inf, 0
        for j in range(k):
            d = sqdist(X, i, centers, j)
            if d < a:
                a, b, j_a = d, a, j
            elif d < b:
                b = d
        first[i], second[i], label[i] = a, b, j_a
    for m in prange(candidates.shape[0]):
        total = 0.0
        for i in range(n):
            d = sqdist(X, i, candidates, m)
            stay = second[i] if label[i] == owner[m] else first[i]
            total += w[i] * ((d if d < stay else stay) - first[i])
        out[m] = total
    return out
