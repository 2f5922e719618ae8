"""Standard image files of the quantised pixels: PNG, lossless WebP and GIF, as bytes.

Every encoder takes the palette (K, 3|4) uint8 and the indices (H, W) integers < K, and its bytes
decode (with Pillow, for instance) to exactly ``palette[indices]``. Nothing here writes files.
"""

from __future__ import annotations

import io

import numpy as np

from ..choices import DEFAULT_PNG_EFFORT, PNG_EFFORTS  # 0 fastest ... 3 smallest (docs/CODEC.md)
from ..errors import ParameterError

#: libwebp's method for lossless WebP: 0 (fastest) to 6 (smallest); 4 is libwebp's default.
DEFAULT_WEBP_METHOD = 4
_GIF_MAX_SIDE = 65535


def checked(palette: np.ndarray, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``palette`` and ``indices`` as arrays, checked; an opaque RGBA palette loses its alpha."""
    palette = np.asarray(palette)
    indices = np.asarray(indices)
    if palette.dtype != np.uint8 or palette.ndim != 2 or palette.shape[1] not in (3, 4) \
            or not 1 <= palette.shape[0] <= 65536:
        raise ParameterError(f"palette must be a (K, 3|4) uint8 array with 1 <= K <= 65536, "
                             f"got {palette.dtype} {palette.shape}")
    if indices.ndim != 2 or indices.dtype.kind not in "ui" or indices.size == 0:
        raise ParameterError(f"indices must be a non-empty 2-D integer array, "
                             f"got {indices.dtype} {indices.shape}")
    low, high = int(indices.min()), int(indices.max())
    if low < 0 or high >= len(palette):
        raise ParameterError(f"indices must lie in [0, {len(palette)}), found {low}..{high}")
    if palette.shape[1] == 4 and palette[:, 3].min() == 255:
        palette = palette[:, :3]  # opaque: no alpha channel, tRNS chunk or transparent index needed
    return palette, indices


def _pixels(palette: np.ndarray, indices: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(palette[indices])


# -------------------------------------------------------------------------------------------- PNG

def _co_occurrence(indices: np.ndarray, k: int) -> np.ndarray:
    """How often each pair of palette entries is horizontally or vertically adjacent (symmetric)."""
    idx = indices.astype(np.intp, copy=False)
    pairs = np.bincount((idx[:, :-1] * k + idx[:, 1:]).ravel(), minlength=k * k)
    pairs += np.bincount((idx[:-1] * k + idx[1:]).ravel(), minlength=k * k)
    matrix = pairs.reshape(k, k)
    matrix = matrix + matrix.T
    np.fill_diagonal(matrix, 0)
    return matrix


def _neighbour_order(matrix: np.ndarray) -> np.ndarray:
    """A palette order that puts often-adjacent entries at nearby indices, so that PNG's row
    filters leave small differences: the modified Zeng re-indexing (Pinho and Neves, 2004), which
    grows the order from the most frequent pair, adding the entry most tied to those placed at the
    end where its neighbours are nearer."""
    k = len(matrix)
    if k <= 2:
        return np.arange(k)
    first, second = divmod(int(np.argmax(matrix)), k)
    order = [first, second]
    free = np.ones(k, bool)
    free[[first, second]] = False
    ties = matrix[first] + matrix[second]
    for _ in range(k - 2):
        best = int(np.argmax(np.where(free, ties, -1)))
        placed = len(order)
        # positive: the entry's neighbours sit nearer the front, so it goes there
        delta = int(np.dot(placed - 2 * np.arange(placed), matrix[best, order]))
        if delta > 0:
            order.insert(0, best)
        else:
            order.append(best)
        free[best] = False
        ties += matrix[best]
    return np.asarray(order)


def _png_order(palette: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Neighbour order with the non-opaque entries first, so tRNS ends at the last of them."""
    order = _neighbour_order(_co_occurrence(indices, len(palette)))
    if palette.shape[1] == 4:
        opaque = palette[order, 3] == 255
        order = np.concatenate([order[~opaque], order[opaque]])
    return order


def _oxipng_options(effort: int, indexed: bool) -> dict[str, object]:
    import oxipng

    filters = oxipng.RowFilter
    if effort == 3:
        options: dict[str, object] = {"level": 6}
    elif effort == 2:
        # libdeflate 12 also has oxipng try its own palette orders (luma, Zeng, Battiato) against ours
        options = {"filter": [filters.NoOp, filters.Entropy], "deflate": oxipng.Deflaters.libdeflater(12)}
    else:
        options = {"filter": [filters.NoOp] if effort == 0 else [filters.NoOp, filters.BigEnt],
                   "deflate": oxipng.Deflaters.libdeflater(8 if effort == 0 else 11),
                   "palette_reduction": False}
    if indexed:
        options["color_type_reduction"] = False  # a truecolour trial of a palette image only costs time
    return options


def encode_png(palette: np.ndarray, indices: np.ndarray, *, effort: int = DEFAULT_PNG_EFFORT) -> bytes:
    """The quantised image as a PNG: indexed when K <= 256 (palette ordered for the row filters,
    the bit depth that codes smallest, tRNS only as long as the last non-opaque entry), else RGB(A).

    ``effort`` 0 to 3 trades time for size (3 is oxipng's level 6); the deflate is libdeflate's,
    through oxipng.
    """
    import oxipng

    if effort not in PNG_EFFORTS:
        raise ParameterError(f"PNG effort must be one of {', '.join(map(str, PNG_EFFORTS))}, got {effort}")
    palette, indices = checked(palette, indices)
    height, width = indices.shape
    if len(palette) > 256:
        alpha = palette.shape[1] == 4
        image = oxipng.RawImage(_pixels(palette, indices).tobytes(), width, height,
                                color_type=oxipng.ColorType.rgba() if alpha else oxipng.ColorType.rgb())
        return image.create_optimized_png(force=True, **_oxipng_options(effort, indexed=False))
    order = _png_order(palette, indices)
    remap = np.empty(len(order), np.uint8)
    remap[order] = np.arange(len(order), dtype=np.uint8)
    ordered = palette[order]
    if ordered.shape[1] == 3:
        ordered = np.column_stack([ordered, np.full(len(ordered), 255, np.uint8)])
    image = oxipng.RawImage(remap[indices].tobytes(), width, height,
                            color_type=oxipng.ColorType.indexed(ordered.tolist()))
    return image.create_optimized_png(force=True, **_oxipng_options(effort, indexed=True))


# ------------------------------------------------------------------------------------------- WebP

def encode_webp(palette: np.ndarray, indices: np.ndarray, *, method: int = DEFAULT_WEBP_METHOD) -> bytes:
    """The quantised image as lossless WebP (libwebp codes images of up to 256 colours with its
    colour-indexing transform); ``method`` 0 to 6 trades time for size. Colours under zero alpha are
    kept exactly."""
    from PIL import Image as PILImage

    if not 0 <= method <= 6:
        raise ParameterError(f"WebP method must be 0 to 6, got {method}")
    palette, indices = checked(palette, indices)
    if max(indices.shape) > 16383:
        raise ParameterError(f"WebP images are at most 16383 pixels a side, got {indices.shape[1]}x"
                             f"{indices.shape[0]}")
    buf = io.BytesIO()
    PILImage.fromarray(_pixels(palette, indices)).save(buf, "WEBP", lossless=True, quality=100,
                                                       method=method, exact=True)
    return buf.getvalue()


# -------------------------------------------------------------------------------------------- GIF

def encode_gif(palette: np.ndarray, indices: np.ndarray) -> bytes:
    """The quantised image as a GIF (K <= 256). GIF has one fully transparent colour and no partial
    alpha: a palette with partial alpha, or with fully transparent entries of different colours,
    raises :class:`ParameterError`."""
    from PIL import Image as PILImage

    palette, indices = checked(palette, indices)
    if len(palette) > 256:
        raise ParameterError(f"GIF holds at most 256 colours, got K={len(palette)}")
    if max(indices.shape) > _GIF_MAX_SIDE:
        raise ParameterError(f"GIF images are at most {_GIF_MAX_SIDE} pixels a side, got "
                             f"{indices.shape[1]}x{indices.shape[0]}")
    transparent = None
    if palette.shape[1] == 4:
        alpha = palette[:, 3]
        if np.any((alpha > 0) & (alpha < 255)):
            raise ParameterError("GIF has no partial transparency; this palette has alpha other "
                                 "than 0 and 255 (write PNG or WebP instead)")
        clear = np.flatnonzero(alpha == 0)
        if len(np.unique(palette[clear], axis=0)) > 1:
            raise ParameterError("GIF has one transparent colour; this palette has fully "
                                 "transparent entries of different colours")
        transparent = int(clear[0])
        indices = np.where(alpha[indices] == 0, transparent, indices)  # one index for all of them
    height, width = indices.shape
    index8 = np.ascontiguousarray(indices, np.uint8)
    image = PILImage.frombuffer("P", (width, height), index8, "raw", "P", 0, 1)
    image.putpalette(np.ascontiguousarray(palette[:, :3]).tobytes(), "RGB")
    options: dict[str, object] = {"optimize": False}
    if transparent is not None:
        options["transparency"] = transparent
    buf = io.BytesIO()
    image.save(buf, "GIF", **options)
    return buf.getvalue()
