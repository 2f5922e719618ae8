"""The standard outputs (PNG, lossless WebP, GIF) decode with Pillow to exactly palette[indices]."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from quantize.errors import ParameterError
from quantize.io import formats
from quantize.io.formats import PNG_EFFORTS, encode_gif, encode_png, encode_webp

ENCODERS = {"png": encode_png, "webp": encode_webp, "gif": encode_gif}


def case(k: int, shape: tuple[int, int], alpha: bool = False, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A palette of k distinct colours and smooth-ish indices that use every entry (when there
    are enough pixels), as a quantised photo would."""
    rng = np.random.default_rng(seed)
    codes = rng.choice(1 << 24, size=k, replace=False)
    palette = np.stack([codes >> 16, (codes >> 8) & 255, codes & 255], axis=1).astype(np.uint8)
    if alpha:
        palette = np.column_stack([palette, np.full(k, 255, np.uint8)])
        palette[::3, 3] = 0
        palette[::3, :3] = 7  # one transparent colour, as the pipeline makes it
        palette[1::5, 3] = rng.integers(1, 255, size=len(palette[1::5]))
    h, w = shape
    y, x = np.mgrid[0:h, 0:w]
    indices = ((x + 2 * y) * k // max(h + 2 * w, 1) + rng.integers(0, 2, size=shape)) % k
    flat = indices.reshape(-1)
    flat[:min(k, flat.size)] = np.arange(min(k, flat.size))
    return palette, indices


def decoded(data: bytes, channels: int) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGBA" if channels == 4 else "RGB"))


def png_chunks(data: bytes) -> dict[bytes, bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, pos = {}, 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        assert zlib.crc32(kind + body) == int.from_bytes(data[pos + 8 + length:pos + 12 + length], "big")
        chunks[kind] = chunks.get(kind, b"") + body
        pos += 12 + length
    return chunks


SHAPES = [(1, 1), (7, 13), (33, 5), (40, 57)]


@pytest.mark.parametrize("fmt", ["png", "webp", "gif"])
@pytest.mark.parametrize("k", [1, 2, 3, 16, 255, 256])
@pytest.mark.parametrize("shape", SHAPES)
def test_round_trip_rgb(fmt: str, k: int, shape: tuple[int, int]) -> None:
    palette, indices = case(k, shape)
    assert np.array_equal(decoded(ENCODERS[fmt](palette, indices), 3), palette[indices])


@pytest.mark.parametrize("fmt", ["png", "webp"])
@pytest.mark.parametrize("k", [2, 16, 255, 256, 257, 600])
def test_round_trip_rgba(fmt: str, k: int) -> None:
    palette, indices = case(k, (31, 45), alpha=True)
    assert np.array_equal(decoded(ENCODERS[fmt](palette, indices), 4), palette[indices])


@pytest.mark.parametrize("k", [257, 1000])
def test_png_above_256_colours_is_truecolour(k: int) -> None:
    palette, indices = case(k, (40, 57))
    data = encode_png(palette, indices)
    assert data[25] == 2  # IHDR colour type: RGB
    assert np.array_equal(decoded(data, 3), palette[indices])
    assert encode_webp(palette, indices)[:4] == b"RIFF"


@pytest.mark.parametrize("effort", PNG_EFFORTS)
def test_png_efforts_round_trip(effort: int) -> None:
    palette, indices = case(64, (50, 71), alpha=True)
    assert np.array_equal(decoded(encode_png(palette, indices, effort=effort), 4), palette[indices])


@pytest.mark.parametrize("effort", [2, 3])  # 0 and 1 filter too little for grey to pay
def test_a_grey_palettes_png_is_grey_where_that_codes_smaller(effort: int) -> None:
    # 256 grey levels in a smooth ramp: as grey, the row filters see the levels themselves
    palette = np.repeat(np.arange(256, dtype=np.uint8)[::-1, None], 3, axis=1)
    y, x = np.mgrid[0:64, 0:256]
    indices = (255 - (x + y // 8) % 256).astype(np.uint8)
    data = encode_png(palette, indices, effort=effort)
    assert data[25] == 0  # IHDR colour type: grey
    assert np.array_equal(decoded(data, 3), palette[indices])
    colour = palette.copy()
    colour[:, 0] //= 2  # the same picture in colour: stays indexed
    assert encode_png(colour, indices, effort=effort)[25] == 3


def test_png_is_indexed_with_the_smallest_depth_for_two_colours() -> None:
    palette, indices = case(2, (64, 64))
    data = encode_png(palette, indices)
    assert data[24:26] == bytes([1, 3])  # bit depth 1, colour type 3 (indexed)


def test_png_opaque_has_no_trns() -> None:
    palette, indices = case(16, (30, 30))
    opaque = np.column_stack([palette, np.full(16, 255, np.uint8)])
    chunks = png_chunks(encode_png(opaque, indices))
    assert b"tRNS" not in chunks and len(chunks[b"PLTE"]) == 3 * 16


def test_png_trns_ends_at_the_last_non_opaque_entry() -> None:
    palette, indices = case(40, (50, 50), alpha=True)
    chunks = png_chunks(encode_png(palette, indices))
    plte = np.frombuffer(chunks[b"PLTE"], np.uint8).reshape(-1, 3)
    trns = np.frombuffer(chunks[b"tRNS"], np.uint8)
    non_opaque = int((palette[:, 3] < 255).sum())
    assert len(trns) >= non_opaque and trns[-1] < 255  # no opaque entries after the last one
    assert len(plte) == 40


def test_png_is_smaller_than_a_plain_pillow_png() -> None:
    """On a photo-like image, ordering the palette and libdeflate beat Pillow's best zlib."""
    from conftest import make_photo
    from quantize.core.mapping import nearest_indices

    photo = make_photo(96, 128)
    palette = np.unique(photo.reshape(-1, 3) // 64 * 64 + 32, axis=0).astype(np.uint8)
    indices = nearest_indices(photo.reshape(-1, 3).astype(np.float64), palette).reshape(96, 128)
    im = Image.frombuffer("P", (128, 96), indices.astype(np.uint8), "raw", "P", 0, 1)
    im.putpalette(palette.tobytes())
    buf = io.BytesIO()
    im.save(buf, "PNG", compress_level=9, optimize=True)
    assert len(encode_png(palette, indices)) < len(buf.getvalue())


def test_gif_keeps_one_transparent_colour() -> None:
    palette, indices = case(10, (20, 20))
    palette = np.column_stack([palette, np.full(10, 255, np.uint8)])
    palette[[2, 6]] = (1, 2, 3, 0)  # two entries, one transparent colour
    data = encode_gif(palette, indices)
    assert np.array_equal(decoded(data, 4), palette[indices])


def test_gif_refuses_partial_alpha_and_several_transparent_colours() -> None:
    palette, indices = case(8, (10, 10))
    palette = np.column_stack([palette, np.full(8, 255, np.uint8)])
    palette[1, 3] = 128
    with pytest.raises(ParameterError, match="partial"):
        encode_gif(palette, indices)
    palette[1] = (0, 0, 0, 0)
    palette[2] = (9, 9, 9, 0)
    with pytest.raises(ParameterError, match="one transparent colour"):
        encode_gif(palette, indices)


@pytest.mark.parametrize("k", [4, 64, 256])
def test_gif_codes_narrow_and_smaller_than_pillows(k: int) -> None:
    palette, indices = case(k, (120, 160))
    data = encode_gif(palette, indices)
    table_end = 13 + 3 * (2 << (data[10] & 7))
    assert data[table_end] == ord(",") and data[table_end + 10] == max(2, (k - 1).bit_length())
    im = Image.fromarray(indices.astype(np.uint8), "P")
    im.putpalette(palette.tobytes())
    buf = io.BytesIO()
    im.save(buf, "GIF", optimize=False)
    assert len(data) < len(buf.getvalue())


def test_gif_refuses_more_than_256_colours() -> None:
    palette, indices = case(257, (20, 20))
    with pytest.raises(ParameterError, match="256"):
        encode_gif(palette, indices)


@pytest.mark.parametrize("fmt", ["png", "webp", "gif"])
def test_bad_input_is_a_parameter_error(fmt: str) -> None:
    palette, indices = case(4, (5, 5))
    with pytest.raises(ParameterError, match="indices must lie"):
        ENCODERS[fmt](palette, indices + 1)
    with pytest.raises(ParameterError, match="palette must be"):
        ENCODERS[fmt](palette.astype(np.int32), indices)
    with pytest.raises(ParameterError, match="2-D"):
        ENCODERS[fmt](palette, indices[0])


def test_bad_effort_and_method() -> None:
    palette, indices = case(4, (5, 5))
    with pytest.raises(ParameterError, match="effort"):
        encode_png(palette, indices, effort=4)
    with pytest.raises(ParameterError, match="method"):
        encode_webp(palette, indices, method=7)


def test_the_palette_order_counts_neighbours_in_bands_as_in_one_piece(monkeypatch) -> None:
    rng = np.random.default_rng(5)
    for shape, k in (((7, 5), 3), ((40, 333), 17), ((1, 9), 4), ((300, 64), 256)):
        indices = rng.integers(0, k, shape).astype(np.uint8)
        whole = formats._co_occurrence(indices, k)
        monkeypatch.setattr(formats, "_BAND_PIXELS", 100)
        assert np.array_equal(formats._co_occurrence(indices, k), whole)
        monkeypatch.undo()
        wide = indices.astype(np.intp)
        horizontal = np.bincount((wide[:, :-1] * k + wide[:, 1:]).ravel(), minlength=k * k)
        vertical = np.bincount((wide[:-1] * k + wide[1:]).ravel(), minlength=k * k)
        pairs = (horizontal + vertical).reshape(k, k)
        assert np.array_equal(whole, (pairs + pairs.T) * (1 - np.eye(k, dtype=np.int64)))


def test_the_palette_order_is_a_path_through_the_most_adjacent_pairs() -> None:
    # entries 0-3 sit in a ring 0-2-1-3-0 of which 3-0 is the weakest link: the path drops it
    matrix = np.zeros((4, 4), np.int64)
    for a, b, w in ((0, 2, 50), (2, 1, 40), (1, 3, 30), (3, 0, 10)):
        matrix[a, b] = matrix[b, a] = w
    order = formats._neighbour_order(matrix).tolist()
    assert order in ([0, 2, 1, 3], [3, 1, 2, 0])
    for k in (1, 2, 3, 256):
        assert sorted(formats._neighbour_order(np.ones((k, k), np.int64)).tolist()) == list(range(k))
