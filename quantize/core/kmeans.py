"""k-means on weighted points, driving the Numba kernels: seeding, restarts, tolerance."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .threads import serial_below, start_parallel_layer

# Hamerly's half-gaps cost O(K^2) per iteration; past this K the point bounds alone pay better.
_HALF_GAP_MAX_K = 2048
# Yinyang groups: about this many centres per group, and at most this many (float32) group bounds
# in all (32 MB: fewer groups for very many colours, to keep a 100-MP image within issue 4's memory
# budget; with labels and point bounds a Lloyd run keeps 16 + 4 x groups bytes per point). Smaller
# groups prune more centres per bound with over-relaxed updates (docs/TUNING.md).
_GROUP_SIZE = 8
_MAX_BOUNDS = 1 << 23


@dataclass(frozen=True)
class KMeansFit:
    """Centres, labels, weighted inertia and Lloyd iterations of one fit; ``margin`` (per point,
    float32, when asked for) bounds from below how much farther than its own centre every other
    centre is."""

    centers: np.ndarray
    labels: np.ndarray
    inertia: float
    n_iter: int
    margin: np.ndarray | None = None


@dataclass(frozen=True)
class PaletteFit:
    """The fitted centres (sRGB(A) floats in 0..255, K x C) and the Lloyd iterations spent.

    When the last Lloyd run was on the image's distinct colours (and they were few enough for
    ``POINTS_CACHE_BYTES``), also what lets :func:`~quantize.core.mapping.map_pixels` skip most nearest
    searches: the centres in the fit's space (``points``), each colour's nearest centre
    (``labels``) and the margin to every other (``margin``, see :class:`~quantize.core.kmeans.KMeansFit`).
    """

    centers: np.ndarray
    n_iter: int
    points: np.ndarray | None = None
    labels: np.ndarray | None = None
    margin: np.ndarray | None = None


def principal_axis(X: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Unit vector along which X spreads most (the search axis of the nearest-centre kernel)."""
    X = np.asarray(X, dtype=np.float64)
    if X.shape[1] == 1:
        return np.ones(1)
    w = np.ones(len(X)) if weights is None else np.asarray(weights, dtype=np.float64)
    total = w.sum()
    if len(X) < 2 or total <= 0:
        axis = np.zeros(X.shape[1])
        axis[0] = 1.0
        return axis
    mean = w @ X / total
    centred = X - mean
    cov = (centred * w[:, None]).T @ centred / total
    _, vectors = np.linalg.eigh(cov)
    axis = vectors[:, -1]
    return axis / np.linalg.norm(axis) if np.linalg.norm(axis) > 0 else np.eye(X.shape[1])[0]


def tolerance(X: np.ndarray, tol: float, variance: float | None = None) -> float:
    """scikit-learn's absolute tolerance: ``tol`` times the mean per-feature variance of X
    (``variance``, when known; see :func:`mean_variance`)."""
    if tol == 0:
        return 0.0
    return (mean_variance(X) if variance is None else variance) * tol


def mean_variance(X: np.ndarray) -> float:
    """The mean per-feature variance of X (a column at a time: no temporary copy of X)."""
    return float(np.mean([np.var(X[:, j]) for j in range(X.shape[1])]))


def kmeans_plusplus(X: np.ndarray, w: np.ndarray, k: int, rng: np.random.Generator,
                    n_local_trials: int | None = None,
                    fixed: np.ndarray | None = None) -> np.ndarray:
    """Indices of k seeds chosen by greedy k-means++ (the variant scikit-learn uses). With
    ``fixed`` centres (L, d), 1 <= L < k, the k - L seeds that continue from them."""
    from .kernels.kmeans import kmeans_plusplus as greedy

    trials = n_local_trials or 2 + int(np.log(k))
    if fixed is not None and len(fixed):
        uniforms = rng.uniform(size=(k - len(fixed), trials))
        return greedy(X, w, np.ascontiguousarray(fixed, dtype=np.float64), uniforms)
    first = int(rng.choice(len(X), p=w / w.sum()))
    uniforms = rng.uniform(size=(k - 1, trials))
    return np.concatenate(([first], greedy(X, w, X[first:first + 1], uniforms)))


def center_groups(centers: np.ndarray, n_groups: int) -> np.ndarray:
    """Group id of every centre: ``n_groups`` (rounded down to a power of two) compact groups
    from recursive median splits along the widest coordinate."""
    segments = [np.arange(len(centers))]
    while 2 * len(segments) <= n_groups:
        halves = []
        for seg in segments:
            pts = centers[seg]
            dim = int(np.argmax(pts.max(axis=0) - pts.min(axis=0)))
            order = seg[np.argsort(pts[:, dim], kind="stable")]
            halves += [order[: len(order) // 2], order[len(order) // 2:]]
        segments = halves
    group_of = np.empty(len(centers), np.int64)
    for g, seg in enumerate(segments):
        group_of[seg] = g
    return group_of


def lloyd(X: np.ndarray, w: np.ndarray, centers: np.ndarray, *, max_iter: int, tol: float,
          n_fixed: int = 0, min_gain: float = 0.0, relax: float = 0.0,
          margins: bool = False,
          summary: tuple[np.ndarray, np.ndarray] | None = None) -> KMeansFit:
    """Lloyd iterations (with Yinyang bounds) from the given centres; ``tol`` is absolute. The
    first ``n_fixed`` centres stay where they are (they are never moved nor relocated). With
    ``min_gain`` > 0, also stop once an update lowers the objective by at most that fraction of
    the first iteration's; with ``relax`` in (0, 1), over-relaxed updates (see the kernel).
    scikit-learn has neither: 0 keeps its iterations exactly. ``margins``: also each point's
    margin (see :class:`KMeansFit`). ``summary`` (S (m, d) float64, rows (n,) int32): points near
    X's, X[i] near S[rows[i]] (e.g. a coarse grid's cell means), through which the first E-step
    runs with fewer distances; the result is the same."""
    from .kernels.kmeans import lloyd as run

    centers = np.ascontiguousarray(centers, dtype=np.float64)
    k = len(centers)
    n_groups = max(1, min(k // _GROUP_SIZE, _MAX_BOUNDS // max(len(X), 1)))
    group_of = center_groups(centers, n_groups)
    S, rows = (np.empty((0, X.shape[1])), np.empty(0, np.int32)) if summary is None else summary
    start_parallel_layer()  # before the kernel loads (see there)
    with serial_below(len(X) * k):
        c, labels, inertia, n_iter, margin = run(
            X, w, centers, n_fixed, group_of, int(group_of.max()) + 1, max_iter, tol,
            k <= _HALF_GAP_MAX_K, min_gain, relax, margins, S, rows)
    return KMeansFit(c, labels, float(inertia), int(n_iter), margin if margins else None)


def kmeans_seeds(S: np.ndarray, w: np.ndarray, k: int, n: int,
                 seed: int | np.random.Generator | None = 0, n_local_trials: int | None = None,
                 fixed: np.ndarray | None = None) -> list[np.ndarray]:
    """``n`` sets of k initial centres by greedy k-means++ on the weighted points ``S``, drawn in
    turn from one generator seeded with ``seed``; each starts with the ``fixed`` centres (L, d)."""
    rng = np.random.default_rng(seed)
    fixed = np.empty((0, S.shape[1])) if fixed is None else fixed
    return [np.vstack([fixed, S[kmeans_plusplus(S, w, k, rng, n_local_trials, fixed)]])
            for _ in range(n)]


def kmeans_starts(X: np.ndarray, w: np.ndarray, k: int, *, n_init: int = 1, max_iter: int = 300,
                  tol: float = 1e-4, seed: int | np.random.Generator | None = 0,
                  n_local_trials: int | None = None, fixed: np.ndarray | None = None,
                  min_gain: float = 0.0, relax: float = 0.0, margins: bool = False,
                  inits: list[np.ndarray] | None = None) -> list[KMeansFit]:
    """``n_init`` k-means++-seeded Lloyd runs on weighted points, best (lowest inertia) first;
    runs of equal inertia keep their order. ``tol`` is relative, as in scikit-learn. X (n, d)
    float64 and w (n,) float64 must be C-contiguous; callers validate them. ``fixed`` centres
    (L, d), L < k, are the first L of every run and never move; seeding continues from them.
    ``inits`` (from :func:`kmeans_seeds`, e.g. on a coarser summary of X) are the runs' initial
    centres instead of seeds drawn from X. ``min_gain``, ``relax`` and ``margins`` as in
    :func:`lloyd`."""
    fixed = np.empty((0, X.shape[1])) if fixed is None else fixed
    if inits is None:
        inits = kmeans_seeds(X, w, k, n_init, seed, n_local_trials, fixed)
    abs_tol = tolerance(X, tol)
    fits = [lloyd(X, w, init, max_iter=max_iter, tol=abs_tol, n_fixed=len(fixed),
                  min_gain=min_gain, relax=relax, margins=margins) for init in inits]
    return sorted(fits, key=lambda fit: fit.inertia)


def kmeans(X: np.ndarray, w: np.ndarray, k: int, *, n_init: int = 1, max_iter: int = 300,
           tol: float = 1e-4, seed: int | np.random.Generator | None = 0,
           fixed: np.ndarray | None = None) -> KMeansFit:
    """The best of ``n_init`` k-means++-seeded Lloyd runs (see :func:`kmeans_starts`)."""
    return kmeans_starts(X, w, k, n_init=n_init, max_iter=max_iter, tol=tol, seed=seed,
                         fixed=fixed)[0]


def ward_merge(centers: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
    """Merge weighted centres (n, d) pairwise down to ``k``, each time the pair whose merge adds
    least to the within-cluster sum of squares (Ward: w_a w_b / (w_a + w_b) |c_a - c_b|^2); returns
    the k merged centres (weighted means), in order of their first member. O(n^2) memory."""
    c = np.array(centers, dtype=np.float64)
    w = np.array(weights, dtype=np.float64)
    n = len(c)
    alive = np.ones(n, bool)
    cost = np.full((n, n), np.inf)
    for i in range(n):
        cost[i, i + 1:] = _ward_costs(c, w, i)[i + 1:]
        cost[i + 1:, i] = cost[i, i + 1:]
    best, partner = cost.min(1), cost.argmin(1)
    for _ in range(n - k):
        i = int(np.argmin(best))
        j = int(partner[i])
        c[i] = (w[i] * c[i] + w[j] * c[j]) / (w[i] + w[j])
        w[i] += w[j]
        alive[j] = False
        cost[j], cost[:, j], best[j] = np.inf, np.inf, np.inf
        row = np.where(alive, _ward_costs(c, w, i), np.inf)
        row[i] = np.inf
        cost[i], cost[:, i] = row, row
        best[i], partner[i] = row.min(), row.argmin()
        stale = np.flatnonzero(alive & ((partner == i) | (partner == j)))
        stale = stale[stale != i]
        best[stale], partner[stale] = cost[stale].min(1), cost[stale].argmin(1)
        closer = row < best
        best[closer], partner[closer] = row[closer], i
    return c[alive]


def _ward_costs(c: np.ndarray, w: np.ndarray, i: int) -> np.ndarray:
    """The Ward cost of merging centre i with each centre."""
    return w * w[i] / (w + w[i]) * ((c - c[i]) ** 2).sum(1)
