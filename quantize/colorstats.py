"""Colour statistics: an image's pixels as weighted points (its distinct colours with their counts).

Fully transparent RGBA pixels are one colour, (0, 0, 0, 0), whatever RGB they hide."""

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

    @property
    def transparent_row(self) -> int | None:
        """The row of the fully transparent colour, if the image has one."""
        if self.colors.shape[1] != 4 or not len(self.colors) or self.colors[0, 3] != 0:
            return None  # rows are sorted by their little-endian key: alpha 0 comes first
        return 0

    @property
    def n_transparent(self) -> int:
        """How many pixels are fully transparent."""
        row = self.transparent_row
        return 0 if row is None else int(self.counts[row])

    def points(self, space: str = "rgb") -> tuple[np.ndarray, np.ndarray]:
        """The distinct colours as float64 points of ``space`` (see
        :func:`~quantize.colorspace.encode`) and their weights."""
        from .colorspace import encode

        return encode(self.colors, space), self.counts

    def without_transparent(self) -> "ColorStats":
        """These statistics without the fully transparent colour (``lookup`` is then unusable)."""
        if self.transparent_row is None:
            return self
        return ColorStats(self.colors[1:], self.counts[1:], self.lookup[:0],
                          self.n_pixels - self.n_transparent)


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
    keys = np.ascontiguousarray(flat).view("<u4").ravel()
    keys = np.where(keys < (1 << 24), np.uint32(0), keys)  # alpha 0 (the top byte): one colour
    uniq, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    colors = uniq.astype("<u4").view(np.uint8).reshape(-1, 4)
    return ColorStats(colors, counts.astype(np.float64), inverse.astype(np.int32).ravel(), len(flat))


def clear_transparent(pixels: np.ndarray) -> np.ndarray:
    """``pixels`` with the RGB of fully transparent pixels set to 0 (a copy only if any changes)."""
    if pixels.shape[-1] != 4:
        return pixels
    hidden = (pixels[..., 3] == 0) & pixels[..., :3].any(axis=-1)
    if not hidden.any():
        return pixels
    pixels = pixels.copy()
    pixels[hidden] = 0
    return pixels


def binned_points(stats: ColorStats, bits: int,
                  points: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The weighted mean point and weight of every occupied cell of a ``bits``-per-channel grid
    over the 8-bit colours; ``points`` are the colours' coordinates to average (default: RGB)."""
    points = stats.colors if points is None else points
    shift = 8 - bits
    cells = np.zeros(len(stats.colors), np.int64)
    for ch in range(stats.colors.shape[1]):
        cells = (cells << bits) | (stats.colors[:, ch] >> shift)
    occupied, cell_of = np.unique(cells, return_inverse=True)
    weights = np.bincount(cell_of, weights=stats.counts, minlength=len(occupied))
    means = np.empty((len(occupied), points.shape[1]))
    for ch in range(points.shape[1]):
        means[:, ch] = np.bincount(cell_of, weights=stats.counts * points[:, ch],
                                   minlength=len(occupied)) / weights
    return means, weights


def sampled_pixels(pixels: np.ndarray, n: int, seed: int | None) -> np.ndarray:
    """``n`` pixels (n, C) uint8 drawn uniformly without replacement, in image order."""
    flat = pixels.reshape(-1, pixels.shape[-1])
    rng = np.random.default_rng(seed)
    take = rng.choice(len(flat), size=min(n, len(flat)), replace=False)
    return flat[np.sort(take)]
