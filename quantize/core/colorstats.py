"""Colour statistics: an image's pixels as weighted points (its distinct colours with their counts).

Fully transparent RGBA pixels are one colour, (0, 0, 0, 0), whatever RGB they hide."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .threads import serial_below

# Colours converted to points at a time (bounds the conversion's temporaries). The conversion works
# row by row, so the chunks' points equal one conversion's bit for bit (checked on all 2^24).
POINTS_CHUNK = 1 << 16
DENSE_GRID_CELLS = 1 << 21  # grids up to this many cells rank their cells with a dense count
# Points of up to this many bytes are kept for the next use (a sweep fits and maps many times);
# larger ones are made afresh, so a very colourful image never holds them beside its mapping.
POINTS_CACHE_BYTES = 32 << 20


@dataclass(frozen=True)
class ColorStats:
    """The distinct colours of an image and how many pixels have each.

    :meth:`gather` maps pixels back to rows of ``colors``: for RGB through ``index``, the colour
    index of :mod:`quantize.core.kernels.colorstats` (3 MB; rows in ascending colour order); for RGBA
    through ``inverse``, the row of every pixel.
    """

    colors: np.ndarray  # (M, C) uint8
    counts: np.ndarray  # (M,) float64
    inverse: np.ndarray | None  # RGBA: the row of every pixel
    n_pixels: int
    index: tuple[np.ndarray, np.ndarray] | None = field(default=None, repr=False, compare=False)
    _points: dict[str, np.ndarray] = field(default_factory=dict, init=False, repr=False,
                                           compare=False)
    _grids: dict[tuple[int, str], tuple[np.ndarray, np.ndarray]] = field(
        default_factory=dict, init=False, repr=False, compare=False)
    _cell_colors: dict[tuple[int, str], tuple[np.ndarray, np.ndarray]] = field(
        default_factory=dict, init=False, repr=False, compare=False)
    _occupied: dict[int, int] = field(default_factory=dict, init=False, repr=False, compare=False)
    _rows: dict[int, np.ndarray] = field(default_factory=dict, init=False, repr=False,
                                         compare=False)
    _variances: dict[str, float] = field(default_factory=dict, init=False, repr=False,
                                         compare=False)

    def gather(self, pixels: np.ndarray, values: np.ndarray) -> np.ndarray:
        """``values[row]`` (N,) for the row of every pixel of ``pixels`` (the pixels these
        statistics were made from), e.g. each colour's palette label; ``np.arange`` gives the rows."""
        if self.colors.shape[1] == 4:
            if self.inverse is None:
                raise ValueError("these RGBA statistics hold no pixel rows")
            return values[self.inverse]
        if self.index is None:
            raise ValueError("these RGB statistics hold no colour index (made by color_stats)")
        from .kernels.colorstats import gather_rows

        flat = pixels.reshape(-1, 3)
        with serial_below(len(flat)):
            return gather_rows(flat, *self.index, values, np.empty(len(flat), values.dtype))

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
        :func:`~quantize.core.colorspace.encode`) and their weights. Callers must not modify them."""
        from .colorspace import dims

        if space in self._points:
            return self._points[space], self.counts
        width = dims(space) * (1 if self.colors.shape[1] == 3 else 2)
        X = np.empty((self.n_colors, width))
        for start, chunk in self.points_chunks(space):
            X[start:start + len(chunk)] = chunk
        if X.nbytes <= POINTS_CACHE_BYTES:
            self._points[space] = X
        return X, self.counts

    def points_chunks(self, space: str = "rgb", size: int = POINTS_CHUNK):
        """:meth:`points` (without weights) as (first row, points of up to ``size`` rows) pairs."""
        from .colorspace import encode

        held = self._points.get(space)
        for start in range(0, self.n_colors, size):
            yield start, (held[start:start + size] if held is not None else
                          encode(self.colors[start:start + size], space))

    def grid(self, bits: int, space: str, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:func:`binned_points` of ``points``, this image's :meth:`points` of ``space``; kept
        for the next use (a grid has at most one row per occupied cell)."""
        if (bits, space) not in self._grids:
            self._grids[bits, space] = binned_points(self, bits, points, self.grid_rows(bits))
        return self._grids[bits, space]

    def cell_colors(self, bits: int, space: str) -> tuple[np.ndarray, np.ndarray]:
        """The weighted mean colour of every occupied cell of a ``bits``-per-channel grid, as a
        point of ``space`` (see :func:`~quantize.core.colorspace.encode`), and the cell's weight: like
        :meth:`grid`, without the :meth:`points` (in rgb, the same); kept for the next use."""
        from .colorspace import encode

        if (bits, space) not in self._cell_colors:
            means, weights = binned_points(self, bits, rows=self.grid_rows(bits))
            self._cell_colors[bits, space] = encode(means, space), weights
        return self._cell_colors[bits, space]

    def grid_rows(self, bits: int) -> np.ndarray:
        """:func:`cell_rows` of a ``bits``-per-channel grid; kept for the next fit."""
        if bits not in self._rows:
            self._rows[bits] = cell_rows(self, bits)
        return self._rows[bits]

    def occupied(self, bits: int) -> int:
        """:func:`occupied_cells` of a ``bits``-per-channel grid; kept for the next fit."""
        if bits not in self._occupied:
            self._occupied[bits] = occupied_cells(self, bits)
        return self._occupied[bits]

    def variance(self, space: str, points: np.ndarray) -> float:
        """The mean per-feature variance of ``points``, this image's :meth:`points` of ``space``
        (the scale of scikit-learn's tolerance); kept for the next fit."""
        from .kmeans import mean_variance

        if space not in self._variances:
            self._variances[space] = mean_variance(points)
        return self._variances[space]

    def in_space(self, space: str) -> "SpaceColors":
        """These colours as points of ``space``, for the fit, the mapping and the dithering."""
        return SpaceColors(self, space)

    def without_transparent(self) -> "ColorStats":
        """These statistics without the fully transparent colour (and without pixel rows)."""
        if self.transparent_row is None:
            return self
        return ColorStats(self.colors[1:], self.counts[1:], None,
                          self.n_pixels - self.n_transparent)



@dataclass(frozen=True)
class SpaceColors:
    """An image's distinct colours in one working space: the points (and their grids) that the
    fit, the mapping and the dithering read, and the way palettes enter and leave that space. The
    pipeline makes it once (:meth:`ColorStats.in_space`); the space then travels with the colours
    instead of beside them."""

    stats: ColorStats
    space: str

    def points(self) -> tuple[np.ndarray, np.ndarray]:
        """The distinct colours as points of the space, and their weights (see
        :meth:`ColorStats.points`)."""
        return self.stats.points(self.space)

    def chunks(self, size: int = POINTS_CHUNK):
        """:meth:`points` as (first row, points) pairs of up to ``size`` rows."""
        return self.stats.points_chunks(self.space, size)

    def grid(self, bits: int, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The ``bits``-per-channel grid of ``points`` (:meth:`ColorStats.grid`)."""
        return self.stats.grid(bits, self.space, points)

    def cell_colors(self, bits: int) -> tuple[np.ndarray, np.ndarray]:
        """The cells' mean colours as points, and their weights (:meth:`ColorStats.cell_colors`)."""
        return self.stats.cell_colors(bits, self.space)

    def variance(self, points: np.ndarray) -> float:
        """The mean per-feature variance of :meth:`points` (:meth:`ColorStats.variance`)."""
        return self.stats.variance(self.space, points)

    def without_transparent(self) -> "SpaceColors":
        """The same space over the colours without the fully transparent one."""
        return SpaceColors(self.stats.without_transparent(), self.space)

    def encode(self, colors: np.ndarray) -> np.ndarray:
        """sRGB(A) colours (a palette, locked colours) as points of the space."""
        from .colorspace import encode

        return encode(colors, self.space)

    def decode(self, points: np.ndarray) -> np.ndarray:
        """Points of the space (fitted centres) as sRGB(A) colours."""
        from .colorspace import decode

        return decode(points, self.space)

def color_stats(pixels: np.ndarray) -> ColorStats:
    """Count the distinct colours of ``pixels`` (H, W, C) uint8, C in {3, 4}."""
    flat = pixels.reshape(-1, pixels.shape[-1])
    if flat.shape[1] == 3:
        from .kernels.colorstats import WORDS, distinct_rgb

        index = np.zeros(WORDS, np.uint64), np.empty(WORDS, np.int32)
        most = min(len(flat), 1 << 24)  # room for every colour; only the first m are written
        keys, counts = np.empty(most, np.int32), np.empty(most)
        m = distinct_rgb(flat, *index, keys, counts)
        return ColorStats(rgb_of_keys(keys[:m]), counts[:m], None, len(flat), index=index)
    keys = np.ascontiguousarray(flat).view("<u4").ravel()
    keys = np.where(keys < (1 << 24), np.uint32(0), keys)  # alpha 0 (the top byte): one colour
    uniq, inverse, counts = np.unique(keys, return_inverse=True, return_counts=True)
    colors = uniq.astype("<u4").view(np.uint8).reshape(-1, 4)
    return ColorStats(colors, counts.astype(np.float64), inverse.astype(np.int32).ravel(), len(flat))


def color_keys(colors: np.ndarray, bits: int = 8) -> np.ndarray:
    """One int64 per colour row of 3 or 4 uint8 channels: the top ``bits`` of each channel, first
    channel highest (all 8: the colour itself; fewer: its cell in a coarser grid)."""
    keys = np.zeros(len(colors), np.int64)
    for ch in range(colors.shape[1]):
        keys <<= bits
        keys |= colors[:, ch] >> (8 - bits)
    return keys


def rgba_keys(colors: np.ndarray) -> np.ndarray:
    """One int64 per (N, 4) uint8 RGBA colour, alpha highest (the little-endian key): the order
    RGBA colour statistics keep their rows in, fully transparent first."""
    channels = colors.astype(np.int64)
    return channels[:, 0] | channels[:, 1] << 8 | channels[:, 2] << 16 | channels[:, 3] << 24


def rgb_of_keys(keys: np.ndarray) -> np.ndarray:
    """The (N, 3) uint8 colours of 24-bit RGB keys (the inverse of :func:`color_keys`)."""
    colors = np.empty((len(keys), 3), np.uint8)
    for ch in range(3):
        colors[:, ch] = (keys >> (16 - 8 * ch)) & 0xFF
    return colors


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


def binary_alpha(pixels: np.ndarray, threshold: int) -> tuple[np.ndarray, int]:
    """``pixels`` with every alpha made 0 or 255 (below ``threshold``: fully transparent, RGB
    0), and how many pixels had alpha strictly between (a copy only if any)."""
    if pixels.shape[-1] != 4:
        return pixels, 0
    alpha = pixels[..., 3]
    partial = int(np.count_nonzero((alpha > 0) & (alpha < 255)))
    if not partial:
        return pixels, 0
    pixels = pixels.copy()
    hidden = pixels[..., 3] < threshold
    pixels[..., 3] = 255
    pixels[hidden] = 0
    return pixels, partial


def _cells(stats: ColorStats, bits: int) -> tuple[np.ndarray, int]:
    """The cell of every colour in a ``bits``-per-channel grid, and how many cells the grid has."""
    return color_keys(stats.colors, bits), 1 << (bits * stats.colors.shape[1])


def occupied_cells(stats: ColorStats, bits: int) -> int:
    """How many cells of a ``bits``-per-channel grid hold a colour (the rows of
    :func:`binned_points`, without averaging anything)."""
    cells, n_cells = _cells(stats, bits)
    if n_cells <= DENSE_GRID_CELLS:
        return int(np.count_nonzero(np.bincount(cells, minlength=n_cells)))
    return len(np.unique(cells))


def cell_rows(stats: ColorStats, bits: int) -> np.ndarray:
    """The row of every colour's cell in :func:`binned_points` of a ``bits``-per-channel grid
    (int32: the rank of the cell among the occupied ones)."""
    cells, n_cells = _cells(stats, bits)
    if n_cells <= DENSE_GRID_CELLS:
        occupied = np.zeros(n_cells, np.int32)
        occupied[cells] = 1
        return (np.cumsum(occupied, dtype=np.int32) - 1)[cells]
    return np.unique(cells, return_inverse=True)[1].astype(np.int32).ravel()


def binned_points(stats: ColorStats, bits: int, points: np.ndarray | None = None,
                  rows: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The weighted mean point and weight of every occupied cell of a ``bits``-per-channel grid
    over the 8-bit colours; ``points`` are the colours' coordinates to average (default: RGB),
    ``rows`` the grid's :func:`cell_rows` if already known."""
    points = stats.colors if points is None else points
    rows = cell_rows(stats, bits) if rows is None else rows
    weights = np.bincount(rows, weights=stats.counts)
    means = np.empty((len(weights), points.shape[1]))
    for ch in range(points.shape[1]):
        sums = np.bincount(rows, weights=stats.counts * points[:, ch], minlength=len(weights))
        means[:, ch] = sums / weights
    return means, weights


def sampled_pixels(pixels: np.ndarray, n: int, seed: int | None) -> np.ndarray:
    """``n`` pixels (n, C) uint8 drawn uniformly without replacement, in image order."""
    flat = pixels.reshape(-1, pixels.shape[-1])
    rng = np.random.default_rng(seed)
    take = rng.choice(len(flat), size=min(n, len(flat)), replace=False)
    return flat[np.sort(take)]
