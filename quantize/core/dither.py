"""Dithered mapping in the fit's colour space: error diffusion (Floyd–Steinberg, optionally
edge-aware, and six other matrices), a threshold mask (Bayer 8x8, blue noise), or Knoll's pattern
(a mix of palette entries laid along a Bayer 4x4 matrix).

Every pixel is searched (not every distinct colour), with the same exact search as plain mapping.

The diffusion matrices, as (dx, dy, weight) with the current pixel at (0, 0), dx mirrored on
right-to-left rows, are those of the original papers, as collected in Tanner Helland, "Image
Dithering: Eleven Algorithms and Source Code" (2012) and libcaca's "Study on colour dithering":

- fs: R. W. Floyd and L. Steinberg, "An adaptive algorithm for spatial greyscale", Proc. SID 17
  (1976), 75-77;
- jjn: J. F. Jarvis, C. N. Judice and W. H. Ninke, "A survey of techniques for the display of
  continuous tone pictures on bilevel displays", Computer Graphics and Image Processing 5 (1976);
- stucki: P. Stucki, "MECCA - a multiple-error correcting computation algorithm for bilevel image
  hardcopy reproduction", IBM Research RZ1060 (1981);
- burkes: D. Burkes, "Presentation of the Burkes error filter for use in preparing continuous-tone
  images for presentation on bi-level devices", CIS Graphics Support Forum (1988);
- sierra (three rows) and sierra-lite: F. Sierra, CompuServe Graphics Support Forum (1989, 1990);
- atkinson: Bill Atkinson's dither of the Apple Macintosh (HyperCard), which diffuses only 6/8 of
  the error, so flat areas keep their colour and highlights do not bleed.
"""

from __future__ import annotations

import numpy as np

from ..choices import DITHERS  # noqa: F401  (the names, shared with the command line)
from .colorstats import SpaceColors

# (dx, dy, numerator) per tap; the weights are the numerators over their sum (Atkinson's over 8)
_FS = ((1, 0, 7), (-1, 1, 3), (0, 1, 5), (1, 1, 1))
DIFFUSION = {
    "fs": (_FS, 16),
    "fs-edge": (_FS, 16),
    "atkinson": (((1, 0, 1), (2, 0, 1), (-1, 1, 1), (0, 1, 1), (1, 1, 1), (0, 2, 1)), 8),
    "sierra": (((1, 0, 5), (2, 0, 3), (-2, 1, 2), (-1, 1, 4), (0, 1, 5), (1, 1, 4), (2, 1, 2),
                (-1, 2, 2), (0, 2, 3), (1, 2, 2)), 32),
    "sierra-lite": (((1, 0, 2), (-1, 1, 1), (0, 1, 1)), 4),
    "jjn": (((1, 0, 7), (2, 0, 5), (-2, 1, 3), (-1, 1, 5), (0, 1, 7), (1, 1, 5), (2, 1, 3),
             (-2, 2, 1), (-1, 2, 3), (0, 2, 5), (1, 2, 3), (2, 2, 1)), 48),
    "stucki": (((1, 0, 8), (2, 0, 4), (-2, 1, 2), (-1, 1, 4), (0, 1, 8), (1, 1, 4), (2, 1, 2),
                (-2, 2, 1), (-1, 2, 2), (0, 2, 4), (1, 2, 2), (2, 2, 1)), 42),
    "burkes": (((1, 0, 8), (2, 0, 4), (-2, 1, 2), (-1, 1, 4), (0, 1, 8), (1, 1, 4), (2, 1, 2)), 32),
}
# Diffused error longer than this share of the black-to-white distance, or than the palette's
# median spacing where that is larger, is shortened to it: the limit keeps a colour the palette
# lacks from bleeding, and a sparse palette's own steps (black to white) must pass whole.
ERROR_LIMIT = 0.25
# Edge-aware mode: pixels whose colour differs from a neighbour's by this share of the
# black-to-white distance or more take no diffused error.
EDGE_CONTRAST = 0.12
# Pattern dither: the Bayer matrix's side, whose levels are the mixes of palette entries a pixel
# chooses among (its square many, each a nearest search).
PATTERN_SIZE = 4


def bayer(n: int) -> np.ndarray:
    """The n x n Bayer threshold matrix (n a power of two), values 0 .. n² - 1."""
    m = np.zeros((1, 1), np.int64)
    while len(m) < n:
        m = np.block([[4 * m, 4 * m + 2], [4 * m + 3, 4 * m + 1]])
    return m


def diffusion_matrix(method: str) -> tuple[np.ndarray, np.ndarray]:
    """The taps (T, 2) int64 of (dx, dy) and their weights (T,) of a diffusion ``method``."""
    taps, total = DIFFUSION[method]
    return (np.array([t[:2] for t in taps], np.int64),
            np.array([t[2] / total for t in taps], np.float64))


def threshold_mask(method: str) -> np.ndarray:
    """The threshold mask of an ordered ``method``: Bayer 8x8, or the 64x64 blue-noise mask."""
    if method == "blue-noise":
        from .bluenoise import blue_noise_mask

        return blue_noise_mask()
    return bayer(PATTERN_SIZE if method == "pattern" else 8)


def dither_pixels(pixels: np.ndarray, colors: SpaceColors, palette: np.ndarray,
                  method: str, strength: float = 1.0) -> np.ndarray:
    """Indices (H, W) of ``palette`` for ``pixels`` (H, W, C), dithered by ``method`` (one of
    :data:`DITHERS` but "none") at ``strength`` in [0, 1], distances measured in the space of
    ``colors`` (the image's)."""
    from .kernels.dither import DIFFUSION as DIFFUSE, PATTERN, THRESHOLD as MASK, dither
    from .mapping import index_dtype, search_index

    h, w = pixels.shape[:2]
    points = colors.points()[0]
    stats = colors.stats
    rows = stats.gather(pixels, np.arange(stats.n_colors, dtype=np.int32))
    centers = colors.encode(palette)
    grey = _grey_axis(colors, pixels.shape[-1])
    extent = float(np.linalg.norm(grey))
    edge = (_edge_weights(pixels, rows, points, EDGE_CONTRAST * extent) if method == "fs-edge"
            else np.ones(h * w))
    if pixels.shape[-1] == 4:
        edge[pixels.reshape(-1, 4)[:, 3] == 0] = 0.0  # fully transparent pixels stay transparent
    spacing = _spacing(centers)
    offset = grey * (spacing / extent)
    out = np.empty(h * w, np.int64)
    diffused = method in DIFFUSION  # the kernel takes a matrix and a mask; its mode uses one
    taps, weights = diffusion_matrix(method if diffused else "fs")
    mask = bayer(8) if diffused else threshold_mask(method)
    dither(pixels, rows, points, centers, *search_index(centers),
           DIFFUSE if diffused else PATTERN if method == "pattern" else MASK,
           float(strength), max(ERROR_LIMIT * extent, spacing), offset,
           np.ascontiguousarray(mask, np.int64), taps, weights, edge, out)
    return out.astype(index_dtype(len(palette))).reshape(h, w)


def _grey_axis(colors: SpaceColors, channels: int) -> np.ndarray:
    """The vector from black to white in the colours' space (for RGBA: both composites)."""
    ends = np.array([[0, 0, 0, 255], [255, 255, 255, 255]], np.uint8)[:, :channels]
    black, white = colors.encode(ends)
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
