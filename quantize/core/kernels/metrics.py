"""Error measures: the exact squared error of a quantised image, and the distance sums of the
silhouette."""

from __future__ import annotations

import numpy as np
from numba import njit, prange


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


@njit(cache=True, parallel=True)
def cluster_distance_sums(points, cluster, n_clusters):
    """``sums[i, c]``: the summed Euclidean distance from point i to the points of cluster c, for
    ``points`` (n, C) uint8 (squared distances exact in integers) and ``cluster`` (n,) in
    [0, n_clusters). Each row is summed in point order, so no thread count changes it."""
    n, channels = points.shape
    sums = np.zeros((n, n_clusters))
    for i in prange(n):
        for j in range(n):
            d2 = 0
            for c in range(channels):
                t = np.int64(points[i, c]) - np.int64(points[j, c])
                d2 += t * t
            sums[i, cluster[j]] += np.sqrt(np.float64(d2))
    return sums
