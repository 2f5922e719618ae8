"""Nearest-palette mapping: every pixel to the index of its nearest palette colour (exact, ties to
the lowest index) in the fit's colour space. Each distinct colour is searched once; pixels then
gather their colour's index."""

from __future__ import annotations

import numpy as np

from .colorspace import encode
from .colorstats import _TABLE_SIZE, POINTS_CHUNK, ColorStats
from .kmeans import principal_axis


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
    projection axis); see :func:`quantize.kernels.nearest.nearest_one`."""
    C = np.ascontiguousarray(centers, dtype=np.float64)
    axis = principal_axis(C)
    proj = C @ axis
    order = np.argsort(proj, kind="stable")
    return np.ascontiguousarray(C[order]), order, proj[order], axis


def map_pixels(pixels: np.ndarray, stats: ColorStats, palette: np.ndarray,
               space: str = "rgb") -> np.ndarray:
    """Indices (H, W) of the ``palette`` entry nearest in ``space`` to every pixel of ``pixels``
    (H, W, C)."""
    from .kernels.nearest import gather_rgb, nearest_labels

    dtype = index_dtype(len(palette))
    index = search_index(encode(palette, space))
    labels = np.empty(stats.n_colors, dtype)  # per colour, searched a chunk of points at a time
    found = np.empty(min(stats.n_colors, POINTS_CHUNK), np.int64)
    for start, X in stats.points_chunks(space):
        labels[start:start + len(X)] = nearest_labels(np.ascontiguousarray(X), *index,
                                                      found[:len(X)])
    del found
    h, w = pixels.shape[:2]
    if pixels.shape[-1] != 3:
        return labels[stats.lookup].reshape(h, w)
    out = np.empty(h * w, dtype)
    if stats.table is not None:
        gather_rgb(pixels.reshape(-1, 3), stats.table, labels, out)
        return out.reshape(h, w)
    # Per-colour labels spread into a table indexed by the 24-bit colour (1 or 2 bytes a colour,
    # not the 4 of a row table), then gathered through the identity.
    table = np.zeros(_TABLE_SIZE, dtype)
    table[stats.keys] = labels
    del labels
    gather_rgb(pixels.reshape(-1, 3), table, np.arange(len(palette), dtype=dtype), out)
    return out.reshape(h, w)
