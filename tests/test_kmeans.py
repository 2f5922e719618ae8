"""k-means kernels: scikit-learn's Lloyd from the same start, greedy k-means++, determinism."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cluster import KMeans

import quantize.core.kmeans as km
from quantize.core.colorstats import color_stats
from quantize.core.kmeans import kmeans, kmeans_plusplus, kmeans_starts, lloyd, tolerance


def colour_points(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Integer colours in a few blobs (like a photo's distinct colours) with pixel counts."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(30, 225, (6, 3))
    X = np.rint(centres[rng.integers(0, 6, n)] + rng.normal(0, 25, (n, 3))).clip(0, 255)
    return X, rng.integers(1, 50, n).astype(np.float64)


@pytest.mark.parametrize("k", [1, 2, 5, 16, 64, 300])
@pytest.mark.parametrize("tol", [1e-4, 0.0])
def test_lloyd_matches_sklearn_from_same_start(k: int, tol: float) -> None:
    X, w = colour_points(6000, seed=k)
    rng = np.random.default_rng(k)
    # Non-integer starts: integer data with integer centres has exact ties sklearn breaks arbitrarily.
    init = X[rng.choice(len(X), k, replace=False)] + rng.uniform(-0.5, 0.5, (k, 3))
    ref = KMeans(k, init=init, n_init=1, max_iter=300, tol=tol).fit(X, sample_weight=w)
    fit = lloyd(X, w, init, max_iter=300, tol=tolerance(X, tol))
    np.testing.assert_array_equal(fit.labels, ref.labels_)
    assert fit.inertia == pytest.approx(ref.inertia_, rel=1e-6)
    np.testing.assert_allclose(fit.centers, ref.cluster_centers_, rtol=1e-9, atol=1e-9)
    assert fit.n_iter == ref.n_iter_


@pytest.mark.parametrize("weights", ["counts", "fractions"])
def test_lloyd_matches_sklearn_through_relocations(weights: str) -> None:
    """Pixel counts let the M-steps move only the points that changed label, fractional weights
    make them sum every point; both stay on scikit-learn's run, empty clusters (from duplicated
    starts) relocated to far points on the way."""
    X, w = colour_points(8000, seed=11)
    if weights == "fractions":
        w = w * 0.37 + 0.01
    rng = np.random.default_rng(11)
    init = X[rng.choice(len(X), 40, replace=False)] + rng.uniform(-0.5, 0.5, (40, 3))
    init[30:] = init[:10]  # ten duplicates: empty clusters at the first M-step
    ref = KMeans(40, init=init, n_init=1, max_iter=300, tol=0.0).fit(X, sample_weight=w)
    fit = lloyd(X, w, init, max_iter=300, tol=0.0)
    assert fit.n_iter == ref.n_iter_ > 20
    np.testing.assert_array_equal(fit.labels, ref.labels_)
    np.testing.assert_allclose(fit.centers, ref.cluster_centers_, rtol=1e-9, atol=1e-9)
    assert fit.inertia == pytest.approx(ref.inertia_, rel=1e-9)


@pytest.mark.parametrize("k, bits", [(2, 4), (16, 5), (64, 4), (64, 6), (300, 5)])
def test_first_e_step_through_a_summary_changes_nothing(k: int, bits: int) -> None:
    """The first E-step through a coarse grid's cell means (as the fine fit runs it) gives the
    same run as the full E-step: centres, labels, inertia and iterations, bit for bit; the
    margins it leaves still bound the gap to the second-nearest centre."""
    rng = np.random.default_rng(k + bits)
    stats = color_stats(np.clip(rng.normal(128, 50, (90, 80, 3)), 0, 255).astype(np.uint8))
    X, w = stats.points("rgb+lab")
    summary = stats.grid(bits, "rgb+lab", X)[0], stats.grid_rows(bits)
    init = X[rng.choice(len(X), k, replace=False)] + rng.uniform(-0.5, 0.5, (k, 6))
    for options in ({}, {"min_gain": 1e-4, "relax": 0.7}):
        plain = lloyd(X, w, init, max_iter=300, tol=1e-4, margins=True, **options)
        via = lloyd(X, w, init, max_iter=300, tol=1e-4, margins=True, summary=summary, **options)
        np.testing.assert_array_equal(via.centers, plain.centers)
        np.testing.assert_array_equal(via.labels, plain.labels)
        assert (via.inertia, via.n_iter) == (plain.inertia, plain.n_iter)
        d = np.sqrt(((X[:, None, :] - via.centers[None]) ** 2).sum(-1))
        own = d[np.arange(len(X)), via.labels]
        d[np.arange(len(X)), via.labels] = np.inf
        assert (d.min(1) - own >= via.margin.astype(np.float64) - 1e-9).all()


def test_min_gain_stops_early_and_keeps_labels_consistent() -> None:
    """The gain test ends the run at the first iteration whose update gains little; the run up
    to there is exactly the plain one (same centres for the same iterations)."""
    X, w = colour_points(20000, seed=4)
    init = X[np.random.default_rng(4).choice(len(X), 64, replace=False)] + 0.25
    full = lloyd(X, w, init, max_iter=300, tol=0.0)
    early = lloyd(X, w, init, max_iter=300, tol=0.0, min_gain=1e-4)
    assert early.n_iter < full.n_iter
    same = lloyd(X, w, init, max_iter=early.n_iter, tol=0.0)
    np.testing.assert_array_equal(early.centers, same.centers)
    np.testing.assert_array_equal(early.labels, same.labels)
    assert full.inertia <= early.inertia <= 1.01 * full.inertia
    nearest = ((X[:, None, :] - early.centers[None]) ** 2).sum(-1).argmin(1)
    np.testing.assert_array_equal(early.labels, nearest)


def test_relaxed_lloyd_converges_to_as_good_a_fit_in_fewer_iterations() -> None:
    """Over-relaxed updates reach fits as good as plain Lloyd's on blob-like colour data (each
    run may land in another local minimum: within 0.5 % over eight starts), in fewer iterations;
    every run ends on labels that are each point's nearest centre."""
    ratios, plain_iters, relaxed_iters = [], 0, 0
    for seed in range(8):
        X, w = colour_points(20000, seed=seed)
        init = X[np.random.default_rng(seed).choice(len(X), 48, replace=False)] + 0.25
        plain = lloyd(X, w, init, max_iter=500, tol=tolerance(X, 1e-4))
        relaxed = lloyd(X, w, init, max_iter=500, tol=tolerance(X, 1e-4), relax=0.7)
        nearest = ((X[:, None, :] - relaxed.centers[None]) ** 2).sum(-1).argmin(1)
        np.testing.assert_array_equal(relaxed.labels, nearest)
        ratios.append(relaxed.inertia / plain.inertia)
        plain_iters += plain.n_iter
        relaxed_iters += relaxed.n_iter
    assert np.mean(ratios) <= 1.005 and max(ratios) <= 1.03, ratios
    assert relaxed_iters < 0.8 * plain_iters


def test_lloyd_with_capped_group_bounds_still_matches_sklearn(monkeypatch) -> None:
    """Many points per bound budget: fewer Yinyang groups, same (exact) iterations."""
    X, w = colour_points(6000, seed=9)
    rng = np.random.default_rng(9)
    init = X[rng.choice(len(X), 64, replace=False)] + rng.uniform(-0.5, 0.5, (64, 3))
    monkeypatch.setattr(km, "_MAX_BOUNDS", 2 * len(X))  # 2 groups instead of 4
    ref = KMeans(64, init=init, n_init=1, max_iter=300, tol=1e-4).fit(X, sample_weight=w)
    fit = lloyd(X, w, init, max_iter=300, tol=tolerance(X, 1e-4))
    np.testing.assert_array_equal(fit.labels, ref.labels_)
    assert fit.labels.dtype == np.int32 and fit.n_iter == ref.n_iter_


def test_lloyd_large_k_labels_are_nearest_centres() -> None:
    X, w = colour_points(20000, seed=3)
    rng = np.random.default_rng(0)
    init = X[rng.choice(len(X), 4096, replace=False)] + 0.25
    fit = lloyd(X, w, init, max_iter=5, tol=0.0)
    brute = np.array([np.argmin(((fit.centers - x) ** 2).sum(1)) for x in X[:2000]])
    np.testing.assert_array_equal(fit.labels[:2000], brute)


def gap_to_second_nearest(X: np.ndarray, centers: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Per point: distance to the nearest centre other than its label, less the distance to it."""
    d = np.sqrt(((X[:, None, :] - centers[None]) ** 2).sum(-1))
    own = d[np.arange(len(X)), labels]
    d[np.arange(len(X)), labels] = np.inf
    return d.min(1) - own


@pytest.mark.parametrize("options", [
    dict(tol=0.0),  # strict convergence: the last E-step saw the centres before their last move
    dict(tol=1e-4), dict(tol=1e-4, min_gain=1e-4, relax=0.7), dict(tol=0.0, max_iter=3)])
@pytest.mark.parametrize("k", [2, 40, 3000])  # 3000: no half-gap bounds
def test_lloyd_margin_bounds_the_gap_to_the_second_nearest_centre(options: dict, k: int) -> None:
    X, w = colour_points(8000, seed=k)
    init = X[np.random.default_rng(k).choice(len(X), k, replace=False)] + 0.25
    fit = lloyd(X, w, init, margins=True, **({"max_iter": 300} | options))
    assert lloyd(X, w, init, **({"max_iter": 300} | options)).margin is None
    gap = gap_to_second_nearest(X, fit.centers, fit.labels)
    assert fit.margin.dtype == np.float32 and fit.margin.shape == (len(X),)
    assert (fit.margin <= gap).all()
    assert (fit.margin > 0).mean() > 0.5  # a bound worth having, not just -inf


def greedy_kmeans_plusplus(X: np.ndarray, w: np.ndarray, k: int, rng: np.random.Generator,
                           trials: int) -> list[int]:
    """scikit-learn's greedy k-means++ written plainly (the reference for the pruned kernel)."""
    chosen = [int(rng.choice(len(X), p=w / w.sum()))]
    uniforms = rng.uniform(size=(k - 1, trials))
    closest = ((X - X[chosen[0]]) ** 2).sum(1)
    for c in range(k - 1):
        cum = np.cumsum(w * closest)
        cand = np.minimum(np.searchsorted(cum, uniforms[c] * cum[-1], side="right"), len(X) - 1)
        d = ((X[None, :, :] - X[cand][:, None, :]) ** 2).sum(2)
        pots = (w * np.minimum(closest, d)).sum(1)
        best = int(np.argmin(pots))
        chosen.append(int(cand[best]))
        closest = np.minimum(closest, d[best])
    return chosen


@pytest.mark.parametrize("k,trials", [(2, 3), (20, 4), (64, 8)])
def test_kmeans_plusplus_is_the_greedy_variant(k: int, trials: int) -> None:
    X, w = colour_points(3000, seed=k)
    X = X + np.random.default_rng(1).uniform(-0.3, 0.3, X.shape)  # no exact distance ties
    got = kmeans_plusplus(X, w, k, np.random.default_rng(7), n_local_trials=trials)
    want = greedy_kmeans_plusplus(X, w, k, np.random.default_rng(7), trials)
    assert list(got) == want


def test_kmeans_plusplus_picks_distinct_data_points_deterministically() -> None:
    X, w = colour_points(5000, seed=11)
    X = np.unique(X, axis=0)
    w = np.ones(len(X))
    a = kmeans_plusplus(X, w, 256, np.random.default_rng(5), n_local_trials=32)
    b = kmeans_plusplus(X, w, 256, np.random.default_rng(5), n_local_trials=32)
    np.testing.assert_array_equal(a, b)
    assert len(set(a.tolist())) == 256 and a.min() >= 0 and a.max() < len(X)


def test_kmeans_best_of_starts_and_determinism() -> None:
    X, w = colour_points(4000, seed=2)
    starts = kmeans_starts(X, w, 8, n_init=4, seed=3)
    assert [s.inertia for s in starts] == sorted(s.inertia for s in starts)
    best = kmeans(X, w, 8, n_init=4, seed=3)
    np.testing.assert_array_equal(best.centers, starts[0].centers)
    again = kmeans(X, w, 8, n_init=4, seed=3)
    np.testing.assert_array_equal(best.centers, again.centers)
    assert best.inertia == again.inertia
