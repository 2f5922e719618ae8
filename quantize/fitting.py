"""Fitting a palette to an image's colours: coarse-to-fine weighted k-means.

The default reaches the k-means objective over *all* pixels: k-means++ and Lloyd run first on the
weighted mean colours of a 6-bit-per-channel grid (tens of thousands of points for a photo), then
Lloyd refines those centres on every distinct colour weighted by its pixel count, which is exactly
the all-pixel objective.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .colorstats import ColorStats, binned_points, sampled_points
from .kmeans import kmeans, lloyd, principal_axis, tolerance

COARSE_BITS = 6


@dataclass(frozen=True)
class FitOptions:
    """How to fit: K, restarts, iteration cap, relative tolerance, seed, optional pixel sample."""

    k: int = 64
    n_init: int = 1
    max_iter: int = 300
    tol: float = 1e-4
    seed: int = 0
    sample: int | None = None


@dataclass(frozen=True)
class PaletteFit:
    """The fitted centres (float, K x C) and the Lloyd iterations spent."""

    centers: np.ndarray
    n_iter: int


def fit_palette(pixels: np.ndarray, stats: ColorStats, options: FitOptions) -> PaletteFit:
    """Fit ``options.k`` centres to the image; an image with at most K colours gets exactly them."""
    if stats.n_colors <= options.k:
        return PaletteFit(stats.colors.astype(np.float64), 0)
    if options.sample:
        X, w = sampled_points(pixels, options.sample, options.seed)
        fit = kmeans(X, w, options.k, n_init=options.n_init, max_iter=options.max_iter,
                     tol=options.tol, seed=options.seed)
        return PaletteFit(fit.centers, fit.n_iter)
    X, w = stats.points()
    coarse_X, coarse_w = binned_points(stats, COARSE_BITS)
    if len(coarse_X) <= options.k or len(coarse_X) * 2 > len(X):
        coarse_X, coarse_w = X, w
    coarse = kmeans(coarse_X, coarse_w, options.k, n_init=options.n_init,
                    max_iter=options.max_iter, tol=options.tol, seed=options.seed)
    if coarse_X is X:
        return PaletteFit(coarse.centers, coarse.n_iter)
    fine = lloyd(X, w, coarse.centers, max_iter=options.max_iter,
                 tol=tolerance(X, options.tol), axis=principal_axis(X, w))
    return PaletteFit(fine.centers, coarse.n_iter + fine.n_iter)


def to_palette(centers: np.ndarray) -> np.ndarray:
    """Round centres to uint8 colours, dropping duplicates that rounding creates (order kept)."""
    colors = np.clip(np.rint(centers), 0, 255).astype(np.uint8)
    _, first = np.unique(colors, axis=0, return_index=True)
    return colors[np.sort(first)]
