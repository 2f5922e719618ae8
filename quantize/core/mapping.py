"""Nearest-palette mapping: every pixel to the index of its nearest palette colour (exact, ties to
the lowest index) in the fit's colour space. Each distinct colour is searched once, or not at all
when the fit's margins prove its answer; pixels then gather their colour's index."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .colorstats import POINTS_CHUNK, SpaceColors, color_keys
from .kmeans import principal_axis
from .threads import serial_below

if TYPE_CHECKING:
    from .kmeans import PaletteFit


def index_dtype(k: int) -> type:
    """The smallest unsigned integer type holding indices into a palette of ``k`` colours."""
    return np.uint8 if k <= 256 else np.uint16


_COUNT_CHUNK = 1 << 20  # indices per bincount call: it widens them to int64 (8 bytes each)


def index_counts(indices: np.ndarray, k: int) -> np.ndarray:
    """How many pixels use each of ``k`` palette entries, counted in chunks (no int64 copy)."""
    flat = indices.reshape(-1)
    counts = np.zeros(k, np.int64)
    for start in range(0, flat.size, _COUNT_CHUNK):
        counts += np.bincount(flat[start:start + _COUNT_CHUNK], minlength=k)
    return counts


def nearest_indices(points: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """For each row of ``points`` (n, d), the index of the nearest row of ``centers`` (K, d)."""
    from .kernels.nearest import nearest_labels

    X = np.ascontiguousarray(points, dtype=np.float64)
    return nearest_labels(X, *search_index(centers), np.empty(len(X), np.int64))


def search_index(centers: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """What the exact search kernel takes: (sorted centres, their indices, their projections, the
    projection axis); see :func:`quantize.core.kernels.nearest.nearest_one`."""
    C = np.ascontiguousarray(centers, dtype=np.float64)
    axis = principal_axis(C)
    proj = C @ axis
    order = np.argsort(proj, kind="stable")
    return np.ascontiguousarray(C[order]), order, proj[order], axis


def _settled_by_fit(fit: PaletteFit | None, palette: np.ndarray, encoded: np.ndarray):
    """For a ``fit`` with labels: a function (first row, count) -> the palette index of each of
    those colours, or -1 where it must be searched. Rounding moves centre j to its palette entry
    by s_j; a colour with centre a stays nearest to a's entry when its margin exceeds s_a + max s
    (the triangle inequality on both sides). None without labels."""
    if fit is None or fit.labels is None:
        return None
    rounded = color_keys(np.clip(np.rint(fit.centers), 0, 255).astype(np.uint8))
    keys = color_keys(palette)
    order = np.argsort(keys, kind="stable")
    if not np.isin(keys, rounded).all():
        return None  # an entry no centre was rounded to: the margins say nothing about it
    at = np.minimum(np.searchsorted(keys[order], rounded), len(keys) - 1)
    entry = np.where(keys[order[at]] == rounded, order[at], -1)  # the first entry of that colour
    moved = np.sqrt(((encoded[entry] - fit.points) ** 2).sum(1))
    moved[entry < 0] = 0.0  # those centres have no entry: every other entry is some centre's
    # the margins are float32 bounds rounded outward; slack covers the float64 arithmetic here
    need = np.where(entry >= 0, (moved + moved.max()) * (1 + 1e-9) + 1e-9, np.inf)

    def known(start: int, count: int) -> np.ndarray:
        labels = fit.labels[start:start + count]
        return np.where(fit.margin[start:start + count] > need[labels], entry[labels], -1)

    return known


def map_pixels(pixels: np.ndarray, colors: SpaceColors, palette: np.ndarray,
               fit: PaletteFit | None = None) -> np.ndarray:
    """Indices (H, W) of the ``palette`` entry nearest, in the space of ``colors`` (the image's),
    to every pixel of ``pixels`` (H, W, C). With the ``fit`` the palette was rounded from (fitted
    on these ``colors``), colours whose fitted centre stays nearest after rounding need no search."""
    return colors.stats.gather(pixels, map_colors(colors, palette, fit)).reshape(pixels.shape[:2])


def map_colors(colors: SpaceColors, palette: np.ndarray,
               fit: PaletteFit | None = None) -> np.ndarray:
    """The index of the nearest ``palette`` entry of each of the distinct ``colors`` (in their
    order), as :func:`map_pixels` gives it to their pixels."""
    from .kernels.nearest import nearest_labels

    dtype = index_dtype(len(palette))
    encoded = colors.encode(palette)
    index = search_index(encoded)
    known = _settled_by_fit(fit, palette, encoded)
    n_colors = colors.stats.n_colors
    labels = np.empty(n_colors, dtype)  # per colour, searched a chunk of points at a time
    found = np.empty(min(n_colors, POINTS_CHUNK), np.int64)
    with serial_below(n_colors * len(palette)):
        for start, X in colors.chunks():
            if known is None:
                labels[start:start + len(X)] = nearest_labels(np.ascontiguousarray(X), *index,
                                                              found[:len(X)])
                continue
            chunk = known(start, len(X))
            rest = np.flatnonzero(chunk < 0)
            chunk[rest] = nearest_labels(np.ascontiguousarray(X[rest]), *index, found[:len(rest)])
            labels[start:start + len(X)] = chunk
    return labels


def prefer_cheap_indices(pixels: np.ndarray, palette: np.ndarray, indices: np.ndarray,
                         allowance: float) -> int:
    """Rate–distortion mapping, in place: a pixel takes its left or upper neighbour's index when
    that colour's squared error (sRGB, summed over channels) is at most ``allowance`` above its
    own. The coder then codes it as a repeat, at a small, measured cost in error. Returns how many
    pixels changed."""
    from .kernels.ratedistortion import prefer_neighbours

    return int(prefer_neighbours(pixels, palette, indices, float(allowance)))
