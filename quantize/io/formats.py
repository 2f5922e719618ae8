"""Standard image files of the quantised pixels: PNG, lossless WebP and GIF, as bytes.

Every encoder takes the palette (K, 3|4) uint8 and the indices (H, W) integers < K, and its bytes
decode (with Pillow, for instance) to exactly ``palette[indices]``. Nothing here writes files.
"""

from __future__ import annotations

import io
import struct

import numpy as np

from ..choices import DEFAULT_PNG_EFFORT, DEFAULT_WEBP_METHOD, PNG_EFFORTS, WEBP_METHODS
from ..errors import ParameterError

GIF_MAX_SIDE = 65535
_BAND_PIXELS = 1 << 20


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
    """How often each pair of palette entries is horizontally or vertically adjacent (symmetric).

    Counted in bands of rows, so the pair codes never take more than a few MB, whatever the image.
    """
    height, width = indices.shape
    rows = max(1, _BAND_PIXELS // width)
    pairs = np.zeros(k * k, np.int64)
    for top in range(0, height, rows):
        band = indices[top:top + rows + 1].astype(np.intp)  # one row more, for the vertical pairs
        inner = band[:rows]
        pairs += np.bincount((inner[:, :-1] * k + inner[:, 1:]).ravel(), minlength=k * k)
        pairs += np.bincount((band[:-1] * k + band[1:]).ravel(), minlength=k * k)
    matrix = pairs.reshape(k, k)
    matrix = matrix + matrix.T
    np.fill_diagonal(matrix, 0)
    return matrix


def _neighbour_order(matrix: np.ndarray) -> np.ndarray:
    """A palette order that puts often-adjacent entries at nearby indices, so that PNG's row
    filters leave small differences: Battiato et al.'s re-indexing (2004), a greedy travelling
    salesman path through the co-occurrence graph. Pairs are taken from the most to the least
    adjacent (never-adjacent ones last, in index order); a pair joins the ends of two paths unless
    an entry already has two neighbours or the two are one path's ends, until one path is left."""
    k = len(matrix)
    rows, cols = np.triu_indices(k, 1)
    degree = np.zeros(k, np.int8)
    path_of = np.arange(k)
    paths: dict[int, list[int]] = {i: [i] for i in range(k)}
    for edge in np.argsort(-matrix[rows, cols], kind="stable"):
        if len(paths) == 1:
            break
        i, j = int(rows[edge]), int(cols[edge])
        if degree[i] == 2 or degree[j] == 2 or path_of[i] == path_of[j]:
            continue
        a, b = (i, j) if path_of[i] < path_of[j] else (j, i)
        first, second = paths[path_of[a]], paths.pop(path_of[b])
        if first[-1] != a:
            first.reverse()
        if second[0] != b:
            second.reverse()
        first.extend(second)
        path_of[second] = path_of[a]
        degree[i] += 1
        degree[j] += 1
    return np.asarray(paths.popitem()[1])


def _png_order(palette: np.ndarray, indices: np.ndarray) -> np.ndarray:
    """Neighbour order with the non-opaque entries first, so tRNS ends at the last of them."""
    order = _neighbour_order(_co_occurrence(indices, len(palette)))
    if palette.shape[1] == 4:
        opaque = palette[order, 3] == 255
        order = np.concatenate([order[~opaque], order[opaque]])
    return order


def _oxipng_options(effort: int, other_types: bool) -> dict[str, object]:
    """oxipng's settings at ``effort``; ``other_types``: colour types other than the one given are
    tried too (a truecolour trial of a colour palette image only costs time; a grey palette's image
    may code smaller as grey, whose row filters see the levels)."""
    import oxipng

    filters = oxipng.RowFilter
    if effort == 3:
        options: dict[str, object] = {"level": 6}  # oxipng's own palette orders are tried too
    else:
        options = {"filter": [filters.NoOp] if effort == 0 else [filters.NoOp, filters.Entropy],
                   "deflate": oxipng.Deflaters.libdeflater((8, 10, 12)[effort]),
                   "palette_reduction": False}
    if not other_types:
        options["color_type_reduction"] = False
    return options


def encode_png(palette: np.ndarray, indices: np.ndarray, *, effort: int = DEFAULT_PNG_EFFORT) -> bytes:
    """The quantised image as a PNG: indexed when K <= 256 (palette ordered for the row filters,
    the bit depth that codes smallest, tRNS only as long as the last non-opaque entry; a grey
    palette's image as grey where that codes smaller), else RGB(A).

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
        image = oxipng.RawImage(memoryview(_pixels(palette, indices).reshape(-1)), width, height,
                                color_type=oxipng.ColorType.rgba() if alpha else oxipng.ColorType.rgb())
        return image.create_optimized_png(force=True, **_oxipng_options(effort, other_types=True))
    order = _png_order(palette, indices)
    remap = np.empty(len(order), np.uint8)
    remap[order] = np.arange(len(order), dtype=np.uint8)
    ordered = palette[order]
    if ordered.shape[1] == 3:
        ordered = np.column_stack([ordered, np.full(len(ordered), 255, np.uint8)])
    # a view, not bytes: oxipng copies it anyway, and a large image's extra copy is many MB
    image = oxipng.RawImage(memoryview(remap[indices].reshape(-1)), width, height,
                            color_type=oxipng.ColorType.indexed(ordered.tolist()))
    grey = bool((palette[:, 0] == palette[:, 1]).all() and (palette[:, 1] == palette[:, 2]).all())
    return image.create_optimized_png(force=True, **_oxipng_options(effort, other_types=grey))


# ------------------------------------------------------------------------------------------- WebP

def encode_webp(palette: np.ndarray, indices: np.ndarray, *, method: int = DEFAULT_WEBP_METHOD) -> bytes:
    """The quantised image as lossless WebP (libwebp codes images of up to 256 colours with its
    colour-indexing transform); ``method`` 0 to 6 trades time for size. Colours under zero alpha are
    kept exactly."""
    from PIL import Image as PILImage

    if method not in WEBP_METHODS:
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

def gif_table(palette: np.ndarray, spare: bool = False) -> tuple[bytes, int]:
    """A GIF colour table of ``palette`` (padded to a power of two, at least 2 entries, with an
    unused entry if ``spare``) and its size field (entries = 2 ** (field + 1))."""
    bits = max(1, (len(palette) - 1 + spare).bit_length())
    table = np.zeros((1 << bits, 3), np.uint8)
    table[:len(palette)] = palette[:, :3]
    return table.tobytes(), bits - 1


def gif_lzw_blocks(indices: np.ndarray, min_size: int = 8) -> bytes:
    """The LZW-coded image data of ``indices`` (h, w), each below 2**``min_size``, as GIF
    sub-blocks: the minimum code size byte, the blocks of up to 255 bytes and the terminator."""
    from ..core.kernels.lzw import lzw_codes

    symbols = np.ascontiguousarray(indices, np.int32).ravel()
    out = np.empty(2 * symbols.size + 8, np.uint8)
    data = out[:lzw_codes(symbols, min_size, out)].tobytes()
    blocks = bytearray([min_size])
    for start in range(0, len(data), 255):
        blocks.append(min(255, len(data) - start))
        blocks += data[start:start + 255]
    blocks.append(0)
    return bytes(blocks)


def encode_gif(palette: np.ndarray, indices: np.ndarray) -> bytes:
    """The quantised image as a GIF (K <= 256), its LZW codes as narrow as the palette allows.
    GIF has one fully transparent colour and no partial alpha: a palette with partial alpha, or
    with fully transparent entries of different colours, raises :class:`ParameterError`."""
    palette, indices = checked(palette, indices)
    if len(palette) > 256:
        raise ParameterError(f"GIF holds at most 256 colours, got K={len(palette)}")
    if max(indices.shape) > GIF_MAX_SIDE:
        raise ParameterError(f"GIF images are at most {GIF_MAX_SIDE} pixels a side, got "
                             f"{indices.shape[1]}x{indices.shape[0]}")
    control = b""
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
        control = b"\x21\xf9\x04\x01" + struct.pack("<HBB", 0, transparent, 0)
    height, width = indices.shape
    table, size = gif_table(palette)
    return b"".join((b"GIF89a", struct.pack("<HHBBB", width, height, 0x80 | size, 0, 0), table,
                     control, b"," + struct.pack("<HHHHB", 0, 0, width, height, 0),
                     gif_lzw_blocks(indices, max(2, size + 1)), b";"))
