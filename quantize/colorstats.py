"""Colour statistics: an image's pixels as weighted points (its distinct colours with their counts)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_TABLE_SIZE = 1 << 24


@dataclass(frozen=True)
class ColorStats:
    """The distinct colours of an image and how many pixels have each.

    ``lookup`` maps pixels back to rows of ``colors``: for RGB it is a table indexed by the 24-bit
    colour; for RGBA it is the row of every pixel (``inverse``).
    """

    colors: np.ndarray  # (M, C) uint8
    counts: np.ndarray  # (M,) float64
    lookup: np.ndarray
    n_pixels: int

    @property
    def n_colors(self) -> int:
        return len(self.colors)

    def points(self) -> tuple[np.ndarray, np.ndarray]:
        """The distinct colours as float64 points and their weights."""
        return self.colors.astype(np.float64), self.counts


def color_stats(pixels: np.ndarray) -> ColorStats:
    """Count the distinct colours of ``pixels`` (H, W, C) uint8, C in {3, 4}."""
    flat = pixels.reshape(-1, pixels.shape[-1])
    if flat.shape[1] == 3:
        from .kernels.colorstats import count_rgb

        table = count_rgb(flat, np.zeros(_TABLE_SIZE, np.int32))
        keys = np.flatnonzero(table)
        counts = table[keys].astype(np.float64)
        table[keys] = np.arange(len(keys), dtype=np.int32)
        colors = np.empty((len(keys), 3), np.uint8)
        colors[:, 0] = keys >> 16
        colors[:, 1] = (keys >> 8) & 0xFF
        colors[:, 2] = keys & 0xFF
        return ColorStats(colors, counts, table, len(flat))
    keys = flat.view(np.uint32).ravel() if flat.flags.c_contiguous else \
        np.ascontiguousarray(flat).view(np.uint32).ravel()
    uniq, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    colors = uniq.view(np.uint8).reshape(-1, 4)
    return ColorStats(colors, counts.astype(np.float64), inverse.astype(np.int64), len(flat))


def binned_points(stats: ColorStats, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """The weighted mean colour and weight of every occupied cell of a ``bits``-per-channel grid."""
    shift = 8 - bits
    cells = np.zeros(len(stats.colors), np.int64)
    for ch in range(stats.colors.shape[1]):
        cells = (cells << bits) | (stats.colors[:, ch] >> shift)
    occupied, cell_of = np.unique(cells, return_inverse=True)
    weights = np.bincount(cell_of, weights=stats.counts, minlength=len(occupied))
    points = np.empty((len(occupied), stats.colors.shape[1]))
    for ch in range(stats.colors.shape[1]):
        points[:, ch] = np.bincount(cell_of, weights=stats.counts * stats.colors[:, ch],
                                    minlength=len(occupied)) / weights
    return points, weights


def sampled_points(pixels: np.ndarray, n: int, seed: int | None) -> tuple[np.ndarray, np.ndarray]:
    """``n`` pixels drawn uniformly without replacement, as unit-weight float64 points."""
    flat = pixels.reshape(-1, pixels.shape[-1])
    rng = np.random.default_rng(seed)
    take = rng.choice(len(flat), size=min(n, len(flat)), replace=False)
    return flat[np.sort(take)].astype(np.float64), np.ones(len(take))
