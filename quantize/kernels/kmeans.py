"""k-means on weighted points: greedy k-means++ seeding and Lloyd iterations with Hamerly's bounds.

The Lloyd loop follows scikit-learn's (same convergence tests, same empty-cluster relocation, a
final E-step when not strictly converged), so from the same initial centres it reaches the same
centres and labels; Hamerly's bounds only skip distance computations whose outcome is known.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .nearest import sqdist, two_nearest

_CHUNK = 4096  # fixed chunk size: partial sums are combined in chunk order, whatever the threads


@njit(cache=True, parallel=True)
def kmeans_plusplus(X, w, first, uniforms):
    """Greedy k-means++ (as scikit-learn): centre 0 is X[first]; for each further centre, draw
    ``uniforms.shape[1]`` candidates with probability proportional to weight x squared distance
    (``uniforms`` (k-1, trials) in [0, 1), drawn by the caller) and keep the one that lowers the
    potential most. Returns the indices of the chosen points."""
    n = X.shape[0]
    k = uniforms.shape[0] + 1
    n_trials = uniforms.shape[1]
    n_chunks = (n + _CHUNK - 1) // _CHUNK
    chosen = np.empty(k, np.int64)
    chosen[0] = first
    closest = np.empty(n)
    for i in prange(n):
        closest[i] = sqdist(X, i, X, first)
    weighted = np.empty(n)
    cand = np.empty(n_trials, np.int64)
    partial = np.empty((n_chunks, n_trials))
    for c in range(1, k):
        acc = 0.0
        for i in range(n):
            acc += w[i] * closest[i]
            weighted[i] = acc
        for t in range(n_trials):
            cand[t] = min(np.searchsorted(weighted, uniforms[c - 1, t] * acc), n - 1)
        for ch in prange(n_chunks):
            for t in range(n_trials):
                s = 0.0
                for i in range(ch * _CHUNK, min(n, (ch + 1) * _CHUNK)):
                    s += w[i] * min(closest[i], sqdist(X, i, X, cand[t]))
                partial[ch, t] = s
        best_t = 0
        best_pot = np.inf
        for t in range(n_trials):
            pot = 0.0
            for ch in range(n_chunks):
                pot += partial[ch, t]
            if pot < best_pot:
                best_pot = pot
                best_t = t
        chosen[c] = cand[best_t]
        for i in prange(n):
            closest[i] = min(closest[i], sqdist(X, i, X, chosen[c]))
    return chosen


@njit(cache=True)
def _sorted_by_projection(centers, axis):
    proj = centers @ axis
    order = np.argsort(proj, kind="mergesort")
    return centers[order], order, proj[order]


@njit(cache=True, parallel=True)
def _assign(X, centers, axis, labels, upper, lower, half_gap, use_bounds):
    """E-step: labels[i] = nearest centre, skipping points whose bounds prove their label.

    Returns how many labels changed. ``upper``/``lower`` bound the distance to the assigned and to
    the second-nearest centre; ``half_gap[j]`` is half the distance from centre j to its nearest
    other centre (Hamerly, 2010)."""
    sorted_centers, order, proj = _sorted_by_projection(centers, axis)
    changed = 0
    for i in prange(X.shape[0]):
        a = labels[i]
        if use_bounds:
            m = max(half_gap[a], lower[i])
            if upper[i] < m:
                continue
            upper[i] = np.sqrt(sqdist(X, i, centers, a))
            if upper[i] < m:
                continue
        j, b2, s2 = two_nearest(X, i, sorted_centers, order, proj, axis, True)
        upper[i] = np.sqrt(b2)
        lower[i] = np.sqrt(s2)
        if j != a:
            labels[i] = j
            changed += 1
    return changed


@njit(cache=True)
def _half_gaps(centers):
    k = centers.shape[0]
    out = np.full(k, np.inf)
    for a in range(k):
        for b in range(a + 1, k):
            d = 0.5 * np.sqrt(sqdist(centers, a, centers, b))
            out[a] = min(out[a], d)
            out[b] = min(out[b], d)
    return out


@njit(cache=True)
def _update(X, w, centers, labels):
    """M-step in point order, with scikit-learn's relocation of empty clusters to far points."""
    n, d = X.shape
    k = centers.shape[0]
    sums = np.zeros((k, d))
    weight = np.zeros(k)
    for i in range(n):
        a = labels[i]
        weight[a] += w[i]
        for f in range(d):
            sums[a, f] += w[i] * X[i, f]
    n_empty = 0
    for j in range(k):
        if weight[j] == 0.0:
            n_empty += 1
    if n_empty > 0:
        dist = np.empty(n)
        for i in range(n):
            dist[i] = sqdist(X, i, centers, labels[i])
        far = np.argsort(-dist, kind="mergesort")
        e = 0
        for j in range(k):
            if weight[j] != 0.0:
                continue
            p = far[e]
            e += 1
            old = labels[p]
            for f in range(d):
                sums[old, f] -= X[p, f] * w[p]
                sums[j, f] = X[p, f] * w[p]
            weight[j] = w[p]
            weight[old] -= w[p]
    new = centers.copy()
    for j in range(k):
        if weight[j] > 0.0:
            for f in range(d):
                new[j, f] = sums[j, f] / weight[j]
    return new


@njit(cache=True, parallel=True)
def _move_bounds(labels, upper, lower, shift):
    k = shift.shape[0]
    top = 0
    for j in range(1, k):
        if shift[j] > shift[top]:
            top = j
    runner_up = 0.0
    for j in range(k):
        if j != top:
            runner_up = max(runner_up, shift[j])
    for i in prange(labels.shape[0]):
        a = labels[i]
        upper[i] += shift[a]
        lower[i] -= runner_up if a == top else shift[top]


@njit(cache=True)
def lloyd(X, w, centers_init, axis, max_iter, tol, use_half_gaps):
    """Weighted Lloyd iterations from ``centers_init`` until the labels stop changing, the total
    squared centre shift is <= ``tol``, or ``max_iter``. ``axis`` is a unit vector for the projection
    search. Returns (centers, labels, inertia, n_iter)."""
    n = X.shape[0]
    k = centers_init.shape[0]
    centers = centers_init.copy()
    labels = np.zeros(n, np.int64)
    upper = np.zeros(n)
    lower = np.zeros(n)
    half_gap = np.zeros(k)
    strict = False
    n_iter = 0
    for it in range(max_iter):
        n_iter = it + 1
        if use_half_gaps and it > 0:
            half_gap = _half_gaps(centers)
        changed = _assign(X, centers, axis, labels, upper, lower, half_gap, it > 0)
        new = _update(X, w, centers, labels)
        shift = np.sqrt(((new - centers) ** 2).sum(axis=1))
        centers = new
        _move_bounds(labels, upper, lower, shift)
        if it > 0 and changed == 0:
            strict = True
            break
        if (shift ** 2).sum() <= tol:
            break
    if not strict:
        if use_half_gaps:
            half_gap = _half_gaps(centers)
        _assign(X, centers, axis, labels, upper, lower, half_gap, True)
    inertia = 0.0
    for i in range(n):
        inertia += w[i] * sqdist(X, i, centers, labels[i])
    return centers, labels, inertia, n_iter
