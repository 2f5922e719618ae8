"""Nearest-palette mapping: every pixel to the index of its nearest palette colour (exact, ties to
the lowest index) in the fit's colour space. Each distinct colour is searched once; pixels then
gather their colour's index."""

from __future__ import annotations

import numpy as np

from .colorspace import encode
from .colorstats import ColorStats
from .kmeans import principal_axis


def index_dtype(k: int) -> type:
    """The smallest unsigned integer type holding indices into a palette of ``k`` colours."""
    return np.uint8 if k <= 256 else np.uint16


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
    labels = nearest_indices(stats.points(space)[0], encode(palette, space))
    labels = labels.astype(index_dtype(len(palette)))
    h, w = pixels.shape[:2]
    if pixels.shape[-1] == 3:
        from .kernels.nearest import gather_rgb

        out = np.empty(h * w, labels.dtype)
        gather_rgb(pixels.reshape(-1, 3), stats.lookup, labels, out)
        return out.reshape(h, w)
    return labels[stats.lookup].reshape(h, w)
