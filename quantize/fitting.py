"""Fitting a palette to an image's colours: coarse-to-fine weighted k-means.

The default reaches the k-means objective over *all* pixels: Lloyd's final run is on every
distinct colour weighted by its pixel count, which is exactly that objective. For a photo with
many colours, the starts run first on the weighted mean colours of a 6- or 7-bit-per-channel
grid (the coarsest with enough cells per centre; k-means++ seeds from a still coarser one when
it keeps 32 cells per centre, as seeding costs most at its start) and the best quarter of them
are refined on the distinct colours. Seeding tries more candidates per centre than scikit-learn
at large K (cheap with the pruned kernel, and it finds better minima there); small problems get
more starts, within a work budget (local minima matter most at small K).

The fit runs in ``FitOptions.space`` (see :mod:`quantize.colorspace`): the weighted points are
converted once, the centres converted back to sRGB(A) at the end. Fully transparent pixels get one
palette entry of their own and do not pull the other centres.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .colorspace import decode, encode
from .colorstats import ColorStats, binned_points, sampled_pixels
from .kmeans import kmeans, kmeans_starts, lloyd, tolerance

COARSE_MIN_COLORS = 1 << 17  # fewer distinct colours than this are fitted directly
COARSE_BITS = (6, 7)  # starts run on the coarsest of these grids with enough cells per centre
POINTS_PER_CENTER = 150
SEED_MIN_BITS = 5  # k-means++ draws from the coarsest grid from here with enough cells per centre
SEED_POINTS_PER_CENTER = 32
START_BUDGET = 16_000_000  # extra starts while their (points x centres) work stays within this
MAX_STARTS = 32
MAX_SEED_TRIALS = 32  # k-means++ candidates per centre: K / 8 within [2 + ln K, this]
DEFAULT_SPACE = "rgb+lab"  # measured in docs/QUALITY.md
LARGE_K = 4096  # above this, plain k-means++ (one candidate): greedy trials cost O(K^2) each


@dataclass(frozen=True)
class FitOptions:
    """How to fit: K, restarts, iteration cap, relative tolerance, seed, optional pixel sample,
    and the colour space the centres are fitted (and pixels mapped) in."""

    k: int = 64
    n_init: int = 1
    max_iter: int = 300
    tol: float = 1e-4
    seed: int = 0
    sample: int | None = None
    space: str = DEFAULT_SPACE


@dataclass(frozen=True)
class PaletteFit:
    """The fitted centres (sRGB(A) floats in 0..255, K x C) and the Lloyd iterations spent."""

    centers: np.ndarray
    n_iter: int


def fit_palette(pixels: np.ndarray, stats: ColorStats, options: FitOptions) -> PaletteFit:
    """Fit ``options.k`` centres to the image; an image with at most K colours gets exactly them.

    At least ``options.n_init`` starts; more while they are cheap (see ``START_BUDGET``)."""
    if stats.n_colors <= options.k:
        return PaletteFit(stats.colors.astype(np.float64), 0)
    if stats.transparent_row is None or options.k == 1:
        return _fit(pixels, stats, options)
    # One entry for the fully transparent pixels; the other K - 1 fitted to the rest.
    fit = _fit(pixels, stats.without_transparent(), replace(options, k=options.k - 1))
    return PaletteFit(np.vstack([np.zeros((1, 4)), fit.centers]), fit.n_iter)


def _fit(pixels: np.ndarray, stats: ColorStats, options: FitOptions) -> PaletteFit:
    """:func:`fit_palette` in ``options.space``, centres converted back to sRGB(A)."""
    fit = _fit_points(pixels, stats, options)
    return PaletteFit(decode(fit.centers, options.space), fit.n_iter)


def _fit_points(pixels: np.ndarray, stats: ColorStats, options: FitOptions) -> PaletteFit:
    k = options.k
    if options.sample:
        sample = sampled_pixels(pixels, options.sample, options.seed)
        if sample.shape[1] == 4 and sample[:, 3].any():
            sample = sample[sample[:, 3] > 0]  # fully transparent pixels have their own entry
        X = encode(sample, options.space)
        fit = kmeans(X, np.ones(len(X)), min(k, len(X)), n_init=options.n_init,
                     max_iter=options.max_iter, tol=options.tol, seed=options.seed)
        return PaletteFit(fit.centers, fit.n_iter)
    X, w = stats.points(options.space)
    coarse_X, coarse_w, seed_points = X, w, None
    coarse = (_grid(stats, X, POINTS_PER_CENTER * k, COARSE_BITS)
              if len(X) >= max(COARSE_MIN_COLORS, 2 * POINTS_PER_CENTER * k) else None)
    if coarse is not None:
        bits, coarse_X, coarse_w = coarse
        seed_grid = _grid(stats, X, SEED_POINTS_PER_CENTER * k, range(SEED_MIN_BITS, bits))
        seed_points = None if seed_grid is None else seed_grid[1:]
    refined_share = 0 if coarse_X is X else len(X) // 4  # a quarter of the starts are refined
    n_starts = max(options.n_init,
                   min(MAX_STARTS, START_BUDGET // ((len(coarse_X) + refined_share) * k)))
    trials = 1 if k > LARGE_K else min(MAX_SEED_TRIALS, max(2 + int(np.log(k)), k // 8))
    starts = kmeans_starts(coarse_X, coarse_w, k, n_init=n_starts, max_iter=options.max_iter,
                           tol=options.tol, seed=options.seed, n_local_trials=trials,
                           seed_points=seed_points)
    if coarse_X is X:
        return PaletteFit(starts[0].centers, starts[0].n_iter)
    fine_tol = tolerance(X, options.tol)
    refined = [(lloyd(X, w, start.centers, max_iter=options.max_iter, tol=fine_tol), start.n_iter)
               for start in starts[:max(2, n_starts // 4)]]
    fine, coarse_iter = min(refined, key=lambda pair: pair[0].inertia)
    return PaletteFit(fine.centers, coarse_iter + fine.n_iter)


def _grid(stats: ColorStats, X: np.ndarray, min_cells: int,
          bits_options) -> tuple[int, np.ndarray, np.ndarray] | None:
    """The coarsest grid (bits, mean points of X, weights) among ``bits_options`` (ascending) with
    at least ``min_cells`` occupied cells and at most half as many as there are distinct colours."""
    for bits in bits_options:
        points, weights = binned_points(stats, bits, X)
        if 2 * len(points) > stats.n_colors:
            return None
        if len(points) >= min_cells:
            return bits, points, weights
    return None


def to_palette(centers: np.ndarray) -> np.ndarray:
    """Round centres to uint8 colours, dropping duplicates that rounding creates (order kept)."""
    colors = np.clip(np.rint(centers), 0, 255).astype(np.uint8)
    _, first = np.unique(colors, axis=0, return_index=True)
    return colors[np.sort(first)]
