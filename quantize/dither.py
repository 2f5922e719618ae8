"""Dithered mapping: Floyd–Steinberg (optionally edge-aware) or ordered, in the fit's colour space.

Every pixel is searched (not every distinct colour), with the same exact search as plain mapping.
"""

from __future__ import annotations

import numpy as np

from .colorspace import encode
from .colorstats import ColorStats

DITHERS = ("none", "fs", "fs-edge", "ordered")
# Floyd–Steinberg error longer than this share of the black-to-white distance is shortened to it.
ERROR_LIMIT = 0.25
# Edge-aware mode: pixels whose colour differs from a neighbour's by this share of the
# black-to-white distance or more take no diffused error.
EDGE_CONTRAST = 0.12


def bayer(n: int) -> np.ndarray:
    """The n x n Bayer threshold matrix (n a power of two), values 0 .. n² - 1."""
    m = np.zeros((1, 1), np.int64)
    while len(m) < n:
        m = np.block([[4 * m, 4 * m + 2], [4 * m + 3, 4 * m + 1]])
    return m


def dither_pixels(pixels: np.ndarray, stats: ColorStats, palette: np.ndarray, space: str,
                  method: str, strength: float = 1.0) -> np.ndarray:
    """Indices (H, W) of ``palette`` for ``pixels`` (H, W, C), dithered by ``method`` ("fs",
    "fs-edge" or "ordered") at ``strength`` in [0, 1], distances measured in ``space``."""
    from .kernels.dither import FLOYD_STEINBERG, ORDERED, dither
    from .mapping import index_dtype, search_index

    h, w = pixels.shape[:2]
    points = stats.points(space)[0]
    rows = stats.gather(pixels, np.arange(stats.n_colors, dtype=np.int32))
    centers = encode(palette, space)
    grey = _grey_axis(space, pixels.shape[-1])
    extent = float(np.linalg.norm(grey))
    edge = (_edge_weights(pixels, rows, points, EDGE_CONTRAST * extent) if method == "fs-edge"
            else np.ones(h * w))
    if pixels.shape[-1] == 4:
        edge[pixels.reshape(-1, 4)[:, 3] == 0] = 0.0  # fully transparent pixels stay transparent
    offset = grey * (_spacing(centers) / extent)
    out = np.empty(h * w, np.int64)
    dither(pixels, rows, points, centers, *search_index(centers),
           ORDERED if method == "ordered" else FLOYD_STEINBERG, float(strength),
           ERROR_LIMIT * extent, offset, bayer(8), edge, out)
    return out.astype(index_dtype(len(palette))).reshape(h, w)


def _grey_axis(space: str, channels: int) -> np.ndarray:
    """The vector from black to white in ``space`` (for RGBA: both composites)."""
    ends = np.array([[0, 0, 0, 255], [255, 255, 255, 255]], np.uint8)[:, :channels]
    black, white = encode(ends, space)
    return white - black


def _spacing(centers: np.ndarray, n: int = 256) -> float:
    """The median distance from a palette entry to its nearest other entry (from up to ``n``
    entries): the step an ordered dither has to span."""
    if len(centers) < 2:
        return 0.0
    picks = centers[np.linspace(0, len(centers) - 1, min(n, len(centers))).astype(np.int64)]
    d = ((picks[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)
    d[d == 0] = np.inf  # the entry itself
    return float(np.median(np.sqrt(d.min(axis=1))))


def _edge_weights(pixels: np.ndarray, rows: np.ndarray, points: np.ndarray,
                  contrast: float) -> np.ndarray:
    """Per pixel (H*W,): 1 where the largest step to a 4-neighbour is 0, falling linearly to 0 at
    ``contrast`` (error does not cross edges or pile up in busy texture)."""
    h, w = pixels.shape[:2]
    img = points[rows].reshape(h, w, -1)
    step = np.zeros((h, w))
    dy = np.sqrt(((img[1:] - img[:-1]) ** 2).sum(axis=2))
    dx = np.sqrt(((img[:, 1:] - img[:, :-1]) ** 2).sum(axis=2))
    for part, sl in ((dy, (slice(1, None), slice(None))), (dy, (slice(None, -1), slice(None))),
                     (dx, (slice(None), slice(1, None))), (dx, (slice(None), slice(None, -1)))):
        np.maximum(step[sl], part, out=step[sl])
    return np.clip(1.0 - step / contrast, 0.0, 1.0).ravel()
