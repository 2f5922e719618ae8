"""Tests for quantize.io.images: every kind of input file, hostile files, arrays, previews, restored images."""

from __future__ import annotations

import io
import logging
import os
import struct
import threading
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image as PILImage
from PIL import ImageCms, ImageOps

from conftest import swapped_icc_profile
from quantize.errors import InputError, OutputError, ParameterError
from quantize.io.images import (
    DEFAULT_MAX_PIXELS,
    Image,
    display_name,
    image_from_array,
    image_from_pillow,
    load_image,
    save_indexed,
    save_pixels,
    used_part,
)

REPO = Path(__file__).resolve().parents[1]
RNG = np.random.default_rng(20240601)


# ------------------------------------------------------------------------------------------- helpers

def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(samples: np.ndarray, colour_type: int, depth: int = 16, extra: bytes = b"") -> bytes:
    """A minimal PNG (filter 0 on every row): Pillow cannot write 16-bit colour PNGs itself."""
    h, w = samples.shape[:2]
    dtype = ">u2" if depth == 16 else np.uint8
    raw = b"".join(b"\0" + samples[y].astype(dtype).tobytes() for y in range(h))
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, colour_type, 0, 0, 0))
            + extra + _chunk(b"IDAT", zlib.compress(raw)) + _chunk(b"IEND", b""))


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _save(tmp_path: Path, name: str, im: PILImage.Image, **options) -> Path:
    path = tmp_path / name
    im.save(path, **options)
    return path


def _round16(v: np.ndarray) -> np.ndarray:
    return np.rint(v.astype(np.float64) * 255 / 65535).astype(np.uint8)


def _photo(h: int = 48, w: int = 64) -> np.ndarray:
    """A smooth RGB test picture (compresses like a photo, unlike noise)."""
    y, x = np.mgrid[0:h, 0:w]
    return np.stack([x * 255 // max(1, w - 1), y * 255 // max(1, h - 1), (x + y) * 255 // (h + w)],
                    axis=-1).astype(np.uint8)


# ------------------------------------------------------------------------------------- ordinary files

@pytest.mark.parametrize(("suffix", "options"), [
    (".png", {}), (".bmp", {}), (".tif", {}), (".tif", {"compression": "tiff_lzw"}),
    (".webp", {"lossless": True}), (".ppm", {})])
def test_lossless_rgb_files_load_exactly(tmp_path: Path, suffix: str, options: dict) -> None:
    pixels = _photo()
    path = _save(tmp_path, "a" + suffix, PILImage.fromarray(pixels), **options)
    image = load_image(path)
    assert isinstance(image, Image)
    np.testing.assert_array_equal(image.pixels, pixels)
    assert image.pixels.dtype == np.uint8 and image.pixels.flags.c_contiguous and image.pixels.flags.writeable
    assert (image.height, image.width, image.channels) == (48, 64, 3)
    assert image.source == path and image.file_bytes == path.stat().st_size
    assert image.notes == ()


def test_jpeg_loads(tmp_path: Path) -> None:
    path = _save(tmp_path, "a.jpg", PILImage.fromarray(_photo()), quality=95)
    image = load_image(path)
    assert image.format == "JPEG" and image.pixels.shape == (48, 64, 3)
    assert np.abs(image.pixels.astype(int) - _photo()).mean() < 3


def test_one_by_n_and_n_by_one(tmp_path: Path) -> None:
    for shape in [(1, 300, 3), (300, 1, 3), (1, 1, 3)]:
        pixels = RNG.integers(0, 256, shape, dtype=np.uint8)
        image = load_image(_save(tmp_path, f"{shape[0]}x{shape[1]}.png", PILImage.fromarray(pixels)))
        np.testing.assert_array_equal(image.pixels, pixels)


def test_grayscale_becomes_rgb(tmp_path: Path) -> None:
    grey = RNG.integers(0, 256, (20, 30), dtype=np.uint8)
    image = load_image(_save(tmp_path, "g.png", PILImage.fromarray(grey)))
    np.testing.assert_array_equal(image.pixels, np.repeat(grey[:, :, None], 3, axis=2))
    assert image.grey and image.raw_channels == 1  # its raw pixels were a byte each
    rgb = load_image(_save(tmp_path, "rgb.png", PILImage.fromarray(image.pixels)))
    assert not rgb.grey and rgb.raw_channels == 3  # grey values stored as RGB stay RGB


def test_one_bit_image(tmp_path: Path) -> None:
    bits = RNG.integers(0, 2, (9, 13), dtype=np.uint8).astype(bool)
    image = load_image(_save(tmp_path, "b.png", PILImage.fromarray(bits)))
    assert image.raw_channels == 1
    np.testing.assert_array_equal(image.pixels, np.repeat(bits[:, :, None], 3, axis=2) * np.uint8(255))


def test_la_becomes_rgba(tmp_path: Path) -> None:
    la = RNG.integers(0, 256, (10, 12, 2), dtype=np.uint8)
    image = load_image(_save(tmp_path, "la.png", PILImage.fromarray(la, "LA")))
    assert image.channels == 4 and image.raw_channels == 2
    np.testing.assert_array_equal(image.pixels[..., :3], np.repeat(la[..., :1], 3, axis=2))
    np.testing.assert_array_equal(image.pixels[..., 3], la[..., 1])


def test_rgba_with_transparency_kept_exactly(tmp_path: Path) -> None:
    rgba = RNG.integers(0, 256, (16, 16, 4), dtype=np.uint8)
    image = load_image(_save(tmp_path, "t.png", PILImage.fromarray(rgba)))
    np.testing.assert_array_equal(image.pixels, rgba)
    assert image.notes == ()


def test_fully_opaque_rgba_drops_alpha(tmp_path: Path) -> None:
    rgba = np.dstack([_photo(), np.full((48, 64), 255, np.uint8)])
    image = load_image(_save(tmp_path, "o.png", PILImage.fromarray(rgba)))
    assert image.channels == 3
    np.testing.assert_array_equal(image.pixels, _photo())
    assert image.notes == ("alpha channel dropped: fully opaque",)


def test_palette_image_with_trns(tmp_path: Path) -> None:
    index = RNG.integers(0, 4, (8, 9), dtype=np.uint8)
    colours = np.array([[255, 0, 0], [0, 255, 0], [0, 0, 255], [9, 9, 9]], np.uint8)
    alpha = np.array([0, 128, 255, 255], np.uint8)
    im = PILImage.fromarray(index, "P")
    im.putpalette(colours.tobytes())
    image = load_image(_save(tmp_path, "p.png", im, transparency=alpha.tobytes()))
    assert image.channels == 4
    np.testing.assert_array_equal(image.pixels[..., :3], colours[index])
    np.testing.assert_array_equal(image.pixels[..., 3], alpha[index])


def test_palette_image_with_unused_trns_entry_is_opaque(tmp_path: Path) -> None:
    index = RNG.integers(1, 3, (8, 9), dtype=np.uint8)
    im = PILImage.fromarray(index, "P")
    im.putpalette(bytes(range(9)))
    image = load_image(_save(tmp_path, "p.png", im, transparency=0))
    assert image.channels == 3
    assert image.notes == ("alpha channel dropped: fully opaque",)


def test_rgb_png_with_trns_colour(tmp_path: Path) -> None:
    pixels = _photo()
    key = tuple(int(v) for v in pixels[5, 7])
    image = load_image(_save(tmp_path, "k.png", PILImage.fromarray(pixels), transparency=key))
    assert image.channels == 4
    np.testing.assert_array_equal(image.pixels[..., 3] == 0, (pixels == key).all(axis=-1))


def test_palette_without_transparency(tmp_path: Path) -> None:
    im = PILImage.fromarray(_photo()).quantize(7)
    image = load_image(_save(tmp_path, "q.png", im))
    np.testing.assert_array_equal(image.pixels, np.asarray(im.convert("RGB")))


# -------------------------------------------------------------------------------------- deep samples

def test_16bit_grey_png_values(tmp_path: Path) -> None:
    v = np.array([[0xFFFF, 0x8080, 0x0000, 0x00FF, 0x0080, 0x0081, 0x7FFF, 0xFF7F]], np.uint16)
    image = load_image(_write(tmp_path, "g16.png", _png(v, colour_type=0)))
    assert image.pixels[0, :2, 0].tolist() == [255, 128]
    np.testing.assert_array_equal(image.pixels[..., 0], _round16(v))
    assert (image.pixels == image.pixels[..., :1]).all()
    assert image.notes == ("16-bit reduced to 8 bits",)


@pytest.mark.parametrize("magic, shape", [(b"P6", (5, 7, 3)), (b"P5", (5, 7))])
def test_16bit_ppm_and_pgm_say_they_were_reduced(tmp_path: Path, magic: bytes, shape) -> None:
    """A grey PGM of 2-byte samples had the note, a colour PPM (scaled by Pillow's decoder) not."""
    samples = RNG.integers(0, 65536, shape, dtype=np.uint16)
    head = b"%s\n7 5\n65535\n" % magic
    image = load_image(_write(tmp_path, "deep.pnm", head + samples.astype(">u2").tobytes()))
    assert image.notes == ("16-bit reduced to 8 bits",)
    first = _round16(samples.reshape(5, 7, -1)[..., 0]).astype(int)
    assert np.abs(image.pixels[..., 0].astype(int) - first).max() <= 1  # Pillow's scaling


@pytest.mark.parametrize("colour_type", [2, 6])
def test_16bit_colour_png_rounds_each_sample(tmp_path: Path, colour_type: int) -> None:
    samples = RNG.integers(0, 65536, (21, 17, 3 if colour_type == 2 else 4), dtype=np.uint16)
    samples[0, 0, :3] = [0xFFFF, 0x8080, 0x0000]
    samples[..., 3:] &= 0xFEFF  # alpha never 0xFFFF, so the alpha channel is kept
    image = load_image(_write(tmp_path, "c16.png", _png(samples, colour_type)))
    assert image.pixels[0, 0, :3].tolist() == [255, 128, 0]
    np.testing.assert_array_equal(image.pixels, _round16(samples))
    assert image.notes == ("16-bit reduced to 8 bits",)


def test_16bit_grey_alpha_png(tmp_path: Path) -> None:
    samples = RNG.integers(0, 65536, (9, 8, 2), dtype=np.uint16)
    samples[..., 1] &= 0xFEFF
    image = load_image(_write(tmp_path, "la16.png", _png(samples, colour_type=4)))
    assert image.channels == 4 and image.notes == ("16-bit reduced to 8 bits",)
    expected = _round16(samples[..., [0, 0, 0, 1]])
    assert np.abs(image.pixels.astype(int) - expected).max() <= 1  # Pillow keeps only the high byte here


def test_16bit_grey_png_with_trns(tmp_path: Path) -> None:
    v = np.array([[0x1234, 0x1235, 0x1234]], np.uint16)
    trns = _chunk(b"tRNS", struct.pack(">H", 0x1234))
    image = load_image(_write(tmp_path, "t16.png", _png(v, 0, extra=trns)))
    assert image.pixels[0, :, 3].tolist() == [0, 255, 0]


def test_16bit_rgb_png_with_trns_matches_the_full_16_bits(tmp_path: Path) -> None:
    v = np.array([[[0x1234, 5, 6], [0x1235, 5, 6], [0x1234, 5, 6]]], np.uint16)
    trns = _chunk(b"tRNS", struct.pack(">HHH", 0x1234, 5, 6))
    image = load_image(_write(tmp_path, "t16.png", _png(v, 2, extra=trns)))
    assert image.pixels[0, :, 3].tolist() == [0, 255, 0]  # 0x1234 and 0x1235 both round to 18


@pytest.mark.parametrize("options", [{}, {"compression": "zlib"}, {"byteorder": ">"}])
def test_16bit_rgb_tiff_rounds_each_sample(tmp_path: Path, options: dict) -> None:
    tifffile = pytest.importorskip("tifffile")
    samples = RNG.integers(0, 65536, (13, 11, 3), dtype=np.uint16)
    samples[0, 0] = [0xFFFF, 0x8080, 0x7FFF]
    path = tmp_path / "c16.tif"
    tifffile.imwrite(path, samples, photometric="rgb", **options)
    image = load_image(path)
    assert image.pixels[0, 0].tolist() == [255, 128, 127]
    np.testing.assert_array_equal(image.pixels, _round16(samples))
    assert image.notes == ("16-bit reduced to 8 bits",)


@pytest.mark.parametrize("alpha", [False, True])
def test_a_16bit_tiff_stored_plane_by_plane_is_read_whole(tmp_path: Path, alpha: bool) -> None:
    """Pillow's raw decoder read each 16-bit plane as bytes: colours garbled, nothing said."""
    tifffile = pytest.importorskip("tifffile")
    samples = RNG.integers(0, 65536, (4 if alpha else 3, 9, 7), dtype=np.uint16)
    path = tmp_path / "planes.tif"
    tifffile.imwrite(path, samples, photometric="rgb", planarconfig="separate",
                     extrasamples=["unassalpha"] if alpha else None)
    image = load_image(path)
    np.testing.assert_array_equal(image.pixels, _round16(np.moveaxis(samples, 0, -1)))
    assert image.notes == ("16-bit reduced to 8 bits",)


def test_a_16bit_grey_alpha_png_rounds_each_sample(tmp_path: Path) -> None:
    """Pillow has no unpacker for its low bytes: each sample's high byte was kept (0x40FF read
    64, not 65), and a gAMA curve was put on the cut grey."""
    from quantize.core.colorspace import linear_to_srgb, to_srgb8

    samples = RNG.integers(0, 65536, (5, 7, 2), dtype=np.uint16)
    samples[0, 0] = [0x40FF, 0xFF00]
    image = load_image(_write(tmp_path, "la.png", _png(samples, 4)))
    grey, alpha = _round16(samples[..., 0]), _round16(samples[..., 1])
    assert image.pixels[0, 0].tolist() == [65, 65, 65, 254]
    np.testing.assert_array_equal(image.pixels, np.dstack([grey, grey, grey, alpha]))
    assert image.notes == ("16-bit reduced to 8 bits",)
    linear = _chunk(b"gAMA", struct.pack(">I", 100000))
    curved = load_image(_write(tmp_path, "lg.png", _png(samples, 4, extra=linear)))
    shown = to_srgb8(linear_to_srgb(samples[..., 0] / 65535.0))
    np.testing.assert_array_equal(curved.pixels, np.dstack([shown, shown, shown, alpha]))


def test_16bit_grey_tiff(tmp_path: Path) -> None:
    v = np.array([[0xFFFF, 0x8080, 0x0101, 0]], np.uint16)
    image = load_image(_save(tmp_path, "g16.tif", PILImage.fromarray(v)))
    assert image.pixels[0, :, 0].tolist() == [255, 128, 1, 0]


def test_float_tiffs(tmp_path: Path) -> None:
    tifffile = pytest.importorskip("tifffile")
    rgb = RNG.random((9, 10, 3)).astype(np.float32)
    tifffile.imwrite(tmp_path / "f.tif", rgb, photometric="rgb")
    image = load_image(tmp_path / "f.tif")
    np.testing.assert_array_equal(image.pixels, np.rint(rgb.astype(np.float64) * 255).astype(np.uint8))
    assert image.format == "TIFF" and image.notes == ("32-bit float samples converted to 8 bits",)
    grey = np.array([[-0.5, 0.0, 0.5, 1.0, 2.0]], np.float32)
    image = load_image(_save(tmp_path, "g.tif", PILImage.fromarray(grey, "F")))
    assert image.pixels[0, :, 0].tolist() == [0, 0, 128, 255, 255]
    assert image.notes == ("32-bit float samples converted to 8 bits (values outside [0, 1] clipped)",)


def test_a_float_tiff_of_several_pages_counts_them_as_pillows_tiffs_do(tmp_path: Path) -> None:
    """Read by tifffile, its note said 'used page 1 of 2' but the image held 1 page, so a report
    set its file's bytes against page 1 alone."""
    tifffile = pytest.importorskip("tifffile")
    pages = RNG.random((2, 6, 5, 3)).astype(np.float32)
    tifffile.imwrite(tmp_path / "f.tif", pages, photometric="rgb")
    image = load_image(tmp_path / "f.tif")
    assert image.frames == 2 and used_part(image.notes) == "page 1 of 2"


def test_pillow_images_of_modes_f_and_i_made_in_memory_follow_an_arrays_rules() -> None:
    # a file's float samples may stray past [0, 1] (clipped, above); a made image's 0..255 floats
    # would all clip to white, and mode I's small values could be 8-bit ones read as 16-bit
    ramp = np.linspace(0, 1, 40, dtype=np.float32).reshape(5, 8)
    assert image_from_pillow(PILImage.fromarray(ramp)).pixels[..., 0].tolist() == \
        np.rint(ramp.astype(np.float64) * 255).astype(np.uint8).tolist()
    with pytest.raises(ParameterError, match="mode F has values 0..200; float samples are read in"):
        image_from_pillow(PILImage.fromarray(ramp * 200))
    wide = (np.arange(40).reshape(5, 8) * 1600).astype(np.int32)
    assert image_from_pillow(PILImage.fromarray(wide)).pixels[..., 0].tolist() == \
        np.rint(wide * 255 / 65535).astype(np.uint8).tolist()
    with pytest.raises(ParameterError, match="mode I has values 0..255 only"):
        image_from_pillow(PILImage.fromarray(np.full((5, 8), 200, np.int32)))


# ---------------------------------------------------------------------- CMYK, frames, EXIF, ICC profile

def test_cmyk_jpeg(tmp_path: Path) -> None:
    rgb = np.zeros((16, 48, 3), np.uint8)
    rgb[:, :16], rgb[:, 16:32], rgb[:, 32:] = (255, 0, 0), (0, 128, 255), (30, 200, 60)
    path = _save(tmp_path, "cmyk.jpg", PILImage.fromarray(rgb).convert("CMYK"), quality=95)
    assert PILImage.open(path).mode == "CMYK"
    image = load_image(path)
    assert image.channels == 3 and image.notes == ("CMYK converted to RGB",)
    # Pillow reads Adobe's inverted CMYK the right way round: red stays red, not cyan.
    assert np.abs(image.pixels[8, [8, 24, 40]].astype(int) - rgb[8, [8, 24, 40]]).max() <= 3


@pytest.mark.parametrize(("name", "colours", "save", "note"), [
    ("anim.gif", [(255, 0, 0), (0, 255, 0), (0, 0, 255)], {"duration": 50, "loop": 0},
     "GIF: used frame 1 of 3"),
    ("anim.png", [(1, 2, 3), (40, 50, 60)], {"duration": 50}, "APNG: used frame 1 of 2"),
    ("anim_default.png", [(1, 2, 3), (40, 50, 60), (7, 8, 9)], {"default_image": True},
     "APNG: used its default image, none of its 2 frames"),  # was "frame 1 of 3"
    ("pages.tif", [(7, 8, 9), (1, 1, 1)], {}, "TIFF: used page 1 of 2"),
    ("camera.jpg", [(128, 128, 128), (0, 0, 0)], {"format": "MPO"}, "MPO: used image 1 of 2"),
])
def test_multi_frame_files_use_the_first_frame(tmp_path: Path, name, colours, save, note) -> None:
    """Only animated GIF, APNG and WebP are clips (a batch animates them): a camera's MPO (a photo
    and its preview) and a TIFF's pages are stills whose first picture is used."""
    from quantize.animation.source import is_clip

    frames = [PILImage.new("RGB", (10, 8), c) for c in colours]
    path = tmp_path / name
    frames[0].save(path, save_all=True, append_images=frames[1:], **save)
    image = load_image(path)
    assert is_clip(path) == name.startswith("anim")
    assert image.notes == (note,) and used_part(image.notes) == note.split(": used ")[1]
    assert (image.pixels == colours[0]).all()
    # the file's bytes are not these pixels' alone: its size and frames say so
    assert (image.file_bytes, image.frames) == (path.stat().st_size, len(colours))
    assert load_image(_save(tmp_path, "one.png", frames[0])).frames == 1


def _second_picture_at(data: bytes, suffix: str) -> int:
    """Where the second frame of a GIF (its graphic control) or page of a TIFF (its IFD) starts."""
    if suffix == ".gif":
        return data.index(b"\x21\xf9", data.index(b"\x21\xf9") + 1)
    first = struct.unpack("<I", data[4:8])[0]
    entries = struct.unpack("<H", data[first:first + 2])[0]
    return struct.unpack("<I", data[first + 2 + 12 * entries:first + 6 + 12 * entries])[0]


@pytest.mark.parametrize("suffix, note", [(".gif", "GIF: used frame 1"), (".tif", "TIFF: used page 1")])
@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")  # Pillow on the cut TIFF's second IFD
def test_a_file_cut_after_its_first_picture_gives_that_picture(tmp_path: Path, suffix, note) -> None:
    """A partial download: counting the pictures failed on the cut one, and the whole file was
    refused with Pillow's words ('index out of range'), its first picture whole."""
    colours = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]
    frames = [PILImage.new("RGB", (10, 8), c) for c in colours]
    buffer = io.BytesIO()
    frames[0].save(buffer, suffix[1:].replace("tif", "tiff"), save_all=True,
                   append_images=frames[1:], duration=50)
    data = buffer.getvalue()
    path = tmp_path / f"cut{suffix}"
    path.write_bytes(data[:_second_picture_at(data, suffix) + 5])
    image = load_image(path)
    assert image.notes == (f"{note}; the file is cut or damaged after it",)
    assert (image.pixels == colours[0]).all() and image.frames == 1


@pytest.mark.parametrize("transparent", [None, 1])
def test_a_gif_screen_its_image_leaves_uncovered_is_transparent(tmp_path: Path, transparent) -> None:
    """As browsers and quantize animate show it: without a transparent index, Pillow painted the
    rest of the screen with the background colour (here red, the image's own colour)."""
    from test_compose import write_gif

    path = write_gif(tmp_path / "part.gif", (5, 4), [{"indices": np.zeros((2, 3), np.uint8),
                                                     "x": 1, "y": 2, "transparent": transparent}],
                     table=[(255, 0, 0), (0, 255, 0)])
    image = load_image(path)
    assert image.pixels.shape == (4, 5, 4)
    inside = np.zeros((4, 5), bool)
    inside[2:4, 1:4] = True
    assert (image.pixels[inside] == (255, 0, 0, 255)).all() and (image.pixels[~inside, 3] == 0).all()
    assert "GIF: its 3x2 image leaves the rest of its 5x4 screen uncovered" in image.notes[0]
    whole = write_gif(tmp_path / "whole.gif", (3, 2), [{"indices": np.zeros((2, 3), np.uint8)}],
                      table=[(255, 0, 0)])
    assert load_image(whole).notes == ()


def test_an_animated_webp_is_named_as_the_format_is(tmp_path: Path) -> None:
    """Its note said 'WEBP: used frame 1 of 3', Pillow's plugin name, where every other line
    says WebP."""
    frames = [PILImage.new("RGB", (10, 8), c) for c in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    frames[0].save(tmp_path / "anim.webp", save_all=True, append_images=frames[1:], lossless=True)
    assert load_image(tmp_path / "anim.webp").notes[0] == "WebP: used frame 1 of 3"


def test_gif_with_transparency(tmp_path: Path) -> None:
    index = np.zeros((6, 6), np.uint8)
    index[2:4, 2:4] = 1
    im = PILImage.fromarray(index, "P")
    im.putpalette([255, 255, 255, 200, 0, 0])
    image = load_image(_save(tmp_path, "t.gif", im, transparency=0))
    assert image.channels == 4
    np.testing.assert_array_equal(image.pixels[..., 3], np.where(index == 1, 255, 0))


def test_exif_rotated_jpeg_has_swapped_dimensions(tmp_path: Path) -> None:
    pixels = np.zeros((40, 60, 3), np.uint8)
    pixels[:, :30] = (250, 250, 250)  # left half white
    exif = PILImage.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    path = _save(tmp_path, "r.jpg", PILImage.fromarray(pixels), exif=exif, quality=95)
    image = load_image(path)
    assert (image.height, image.width) == (60, 40)
    assert image.pixels[:25].mean() > 240 and image.pixels[35:].mean() < 15  # the left half is now on top
    assert image.notes == ("EXIF orientation applied",)


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("name", ["o.png", "o.tif", "o.webp"])  # Pillow turns a TIFF itself
def test_every_exif_orientation_matches_pillow(tmp_path: Path, orientation: int, name: str) -> None:
    pixels = RNG.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    exif = PILImage.Exif()
    exif[0x0112] = orientation
    path = _save(tmp_path, name, PILImage.fromarray(pixels), exif=exif)
    expected = np.asarray(ImageOps.exif_transpose(PILImage.open(path)))
    image = load_image(path)
    np.testing.assert_array_equal(image.pixels, expected)
    assert image.notes == (() if orientation == 1 else ("EXIF orientation applied",))


def test_icc_profile_converted_to_srgb(tmp_path: Path) -> None:
    rgb = np.zeros((4, 6, 3), np.uint8)
    rgb[:, :3] = (255, 0, 0)
    rgb[:, 3:] = (30, 200, 60)
    path = _save(tmp_path, "icc.png", PILImage.fromarray(rgb), icc_profile=swapped_icc_profile())
    image = load_image(path)
    assert image.pixels[0, 0].tolist() == [0, 255, 0]  # red and green swapped by the profile
    assert image.pixels[0, 5].tolist() == [200, 30, 60]
    assert image.notes == ("ICC profile converted to sRGB (from 'swap built-in')",)


@pytest.mark.parametrize("order, scale", [("<", b"-1.0"), (">", b"1.0")])
def test_colour_pfm_is_read_bottom_row_first(tmp_path: Path, order: str, scale: bytes) -> None:
    """Pillow reads only grey PFM ("Pf"); a colour one ("PF") was refused as not an image."""
    rgb = np.array([[[0.0, 0.5, 1.0], [1.0, 0.0, 0.25]], [[0.2, 0.4, 0.6], [2.0, 0.0, 0.0]]])
    data = b"PF\n2 2\n" + scale + b"\n" + rgb[::-1].astype(f"{order}f4").tobytes()
    image = load_image(_write(tmp_path, "c.pfm", data))
    assert image.pixels.tolist() == [[[0, 128, 255], [255, 0, 64]], [[51, 102, 153], [255, 0, 0]]]
    assert image.format == "PFM"
    _refused(_write(tmp_path, "cut.pfm", data[:-5]), "a damaged or truncated PFM file")


def test_a_profile_is_judged_by_what_it_does_not_by_its_name(tmp_path: Path) -> None:
    """"GIMP built-in Linear sRGB" is not sRGB: a profile named sRGB once went unconverted."""
    rgb = np.zeros((4, 6, 3), np.uint8)
    rgb[:, :3] = (255, 0, 0)
    path = _save(tmp_path, "icc.png", PILImage.fromarray(rgb), icc_profile=swapped_icc_profile("sRGB"))
    image = load_image(path)
    assert image.pixels[0, 0].tolist() == [0, 255, 0]
    assert image.notes == ("ICC profile converted to sRGB (from 'sRGB built-in')",)


_SYSTEM_CMYK = Path("/usr/share/color/icc/ghostscript/default_cmyk.icc")


@pytest.mark.skipif(not _SYSTEM_CMYK.exists(), reason="needs a CMYK ICC profile from Ghostscript")
def test_cmyk_jpeg_with_its_profile(tmp_path: Path) -> None:
    cmyk = ImageCms.ImageCmsProfile(str(_SYSTEM_CMYK))
    rgb = np.zeros((16, 32, 3), np.uint8)
    rgb[:, :16], rgb[:, 16:] = (200, 30, 30), (40, 90, 200)
    im = ImageCms.profileToProfile(PILImage.fromarray(rgb), ImageCms.createProfile("sRGB"), cmyk,
                                   outputMode="CMYK")
    path = _save(tmp_path, "c.tif", im, icc_profile=_SYSTEM_CMYK.read_bytes())
    image = load_image(path)
    assert image.notes[0] == "CMYK converted to RGB"
    assert image.notes[1].startswith("ICC profile converted to sRGB")
    expected = ImageCms.profileToProfile(im, cmyk, ImageCms.createProfile("sRGB"), outputMode="RGB")
    np.testing.assert_array_equal(image.pixels, np.asarray(expected))
    jpeg = load_image(_save(tmp_path, "c.jpg", im, quality=95, icc_profile=_SYSTEM_CMYK.read_bytes()))
    assert np.abs(jpeg.pixels.astype(int) - np.asarray(expected)).max() <= 8  # JPEG loss only


def test_icc_profile_keeps_alpha(tmp_path: Path) -> None:
    rgba = np.zeros((3, 3, 4), np.uint8)
    rgba[...] = (255, 0, 0, 77)
    path = _save(tmp_path, "icc.png", PILImage.fromarray(rgba), icc_profile=swapped_icc_profile())
    assert load_image(path).pixels[1, 1].tolist() == [0, 255, 0, 77]


def test_srgb_profile_is_left_alone(tmp_path: Path) -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    pixels = _photo()
    image = load_image(_save(tmp_path, "s.png", PILImage.fromarray(pixels), icc_profile=srgb))
    np.testing.assert_array_equal(image.pixels, pixels)
    assert image.notes == ()


def test_a_png_gamma_other_than_srgbs_is_converted_as_browsers_show_it(tmp_path: Path) -> None:
    """A PNG whose gAMA chunk says 1.0 (linear samples) and nothing else of its colours is shown
    brighter by browsers and by pngquant's output, but was read as sRGB, so every file written
    of it was darker than the input looked; its colour samples are now put in sRGB's curve."""
    from quantize.core.colorspace import linear_to_srgb, to_srgb8

    levels = np.arange(256, dtype=np.uint8).reshape(16, 16)
    srgb = to_srgb8(linear_to_srgb(levels / 255.0))
    linear = _chunk(b"gAMA", struct.pack(">I", 100000))
    rgb = np.dstack([levels, levels[::-1], levels.T])
    image = load_image(_write(tmp_path, "g.png", _png(rgb, 2, 8, linear)))
    np.testing.assert_array_equal(image.pixels, np.dstack([srgb, srgb[::-1], srgb.T]))
    assert image.notes == ("PNG gamma 1.00 (its gAMA chunk) converted to sRGB",)
    grey_alpha = load_image(_write(tmp_path, "la.png", _png(np.dstack([levels, levels.T]), 4, 8,
                                                            linear)))
    np.testing.assert_array_equal(grey_alpha.pixels, np.dstack([srgb, srgb, srgb, levels.T]))
    # sRGB's own gamma, or a gamma beside an sRGB chunk, changes nothing
    for extra in (_chunk(b"gAMA", struct.pack(">I", 45455)),
                  _chunk(b"sRGB", b"\0") + linear):
        image = load_image(_write(tmp_path, "s.png", _png(rgb, 2, 8, extra)))
        np.testing.assert_array_equal(image.pixels, rgb)
        assert image.notes == ()


def test_a_16bit_png_gamma_is_applied_to_its_16bit_samples_then_rounded_once(tmp_path: Path) -> None:
    """The samples were rounded to 8 bits before the curve: a linear dark ramp of 16-bit
    samples came out in the few sRGB levels of 8-bit 0..4 (0, 13, 22, 28, 34)."""
    from quantize.core.colorspace import linear_to_srgb, to_srgb8

    ramp = np.arange(0, 1024, 4, dtype=np.uint16).reshape(16, 16)  # 0 .. 1020 of 65535: dark
    shown = to_srgb8(linear_to_srgb(ramp / 65535.0))  # each 16-bit sample curved, rounded once
    linear = _chunk(b"gAMA", struct.pack(">I", 100000))
    rgb = load_image(_write(tmp_path, "rgb.png", _png(np.dstack([ramp, ramp.T, ramp[::-1]]), 2,
                                                      extra=linear)))
    np.testing.assert_array_equal(rgb.pixels, np.dstack([shown, shown.T, shown[::-1]]))
    assert len(np.unique(rgb.pixels)) > 5  # 8-bit 0..4 first: 5 levels at most
    assert rgb.notes == ("16-bit reduced to 8 bits",
                         "PNG gamma 1.00 (its gAMA chunk) converted to sRGB")
    alpha = (ramp * 64).astype(np.uint16)  # alpha is linear: rounded, not curved
    rgba = load_image(_write(tmp_path, "rgba.png", _png(np.dstack([ramp, ramp, ramp, alpha]), 6,
                                                        extra=linear)))
    np.testing.assert_array_equal(rgba.pixels, np.dstack([shown, shown, shown, _round16(alpha)]))
    grey = load_image(_write(tmp_path, "grey.png", _png(ramp, 0, extra=linear)))
    np.testing.assert_array_equal(grey.pixels, np.dstack([shown] * 3))
    assert grey.notes == rgb.notes


@pytest.mark.parametrize("chunks", [[b"zTXt"], [b"iCCP", b"iTXt"]])
def test_a_png_text_or_profile_chunk_past_pillows_limit_is_left_out(tmp_path: Path, chunks) -> None:
    """Pillow refused the whole file, 'Decompressed data too large for
    PngImagePlugin.MAX_TEXT_CHUNK'; browsers show its picture."""
    from PIL import PngImagePlugin

    stream = zlib.compress(bytes(PngImagePlugin.MAX_TEXT_CHUNK + 1))
    bodies = {b"zTXt": b"Comment\0\0", b"iCCP": b"icc\0\0", b"iTXt": b"XML:com.adobe.xmp\0\1\0en\0\0"}
    extra = b"".join(_chunk(kind, bodies[kind] + stream) for kind in chunks)
    rgb = _photo(6, 5)
    image = load_image(_write(tmp_path, "t.png", _png(rgb, 2, 8, extra)))
    np.testing.assert_array_equal(image.pixels, rgb)
    names = ", ".join(kind.decode() for kind in chunks)
    assert len(image.notes) == 1 and image.notes[0].startswith(f"PNG: its {names} chunk")
    assert "past Pillow's limit for text and colour profiles" in image.notes[0]
    small = _chunk(b"zTXt", bodies[b"zTXt"] + zlib.compress(b"fine"))  # one within it is read as ever
    assert load_image(_write(tmp_path, "s.png", _png(rgb, 2, 8, small))).notes == ()


def test_a_png_ancillary_chunk_of_a_wrong_crc_is_left_out_as_browsers_do(tmp_path: Path) -> None:
    """libpng (Chromium's and Firefox's reader) drops such a chunk and shows the image; Pillow
    refused the file, 'a damaged or truncated PNG file'. A damaged critical chunk still is."""
    from quantize.animation.source import open_clip

    def damaged(kind: bytes, data: bytes) -> bytes:
        chunk = bytearray(_chunk(kind, data))
        chunk[-1] ^= 1
        return bytes(chunk)

    rgb = _photo(6, 5)
    text = damaged(b"tEXt", b"Comment\0made by a broken tool")
    path = _write(tmp_path, "t.png", _png(rgb, 2, 8, text + damaged(b"gAMA", struct.pack(">I", 1))))
    note = "PNG: its damaged tEXt, gAMA chunks (CRC error) left out, as browsers read it"
    image = load_image(path)
    np.testing.assert_array_equal(image.pixels, rgb)
    assert image.notes == (note,)
    clip = open_clip(path)
    assert len(list(clip.frames())) == 1 and clip.notes == (note,)
    # an APNG's frames are not read past such damage: refused, not played as its first frame
    from test_compose import solid, write_apng

    apng = write_apng(tmp_path / "a.png", (2, 2), [{"rgba": solid(2, 2, (255, 0, 0, 255))},
                                                   {"rgba": solid(2, 2, (0, 0, 255, 255))}])
    data = apng.read_bytes()
    at = data.index(b"fcTL") - 4
    apng.write_bytes(data[:at] + text + data[at:])
    with pytest.raises(InputError, match=r"a.png: cannot decode the image \(a damaged"):
        open_clip(apng)
    whole = _png(rgb, 2, 8, text)
    at = whole.index(b"IHDR") + 17  # a bit flipped in the header's CRC
    _write(tmp_path, "d.png", whole[:at] + bytes([whole[at] ^ 1]) + whole[at + 1:])
    with pytest.raises(InputError, match=r"d.png: cannot decode the image \(a damaged or "
                                         r"truncated PNG file\)"):
        load_image(tmp_path / "d.png")


def test_a_bmp_alpha_channel_of_zeros_is_read_as_opaque_as_browsers_do(tmp_path: Path) -> None:
    """A 32-bit BMP whose alpha mask is set but whose alpha is 0 everywhere (a writer that never
    used it) read fully transparent; Chromium shows it opaque. Alpha used anywhere is kept."""
    def bmp(name: str, bgra: np.ndarray) -> Path:
        h, w = bgra.shape[:2]
        rows = bgra[::-1].tobytes()
        info = struct.pack("<IiiHHIIiiII", 108, w, h, 1, 32, 3, len(rows), 2835, 2835, 0, 0)
        masks = struct.pack("<IIII", 0xFF0000, 0xFF00, 0xFF, 0xFF000000)  # R, G, B, alpha
        info += masks.ljust(108 - len(info), b"\0")
        return _write(tmp_path, name, b"BM" + struct.pack("<IHHI", 14 + len(info) + len(rows), 0, 0,
                                                          14 + len(info)) + info + rows)

    rgb = _photo(3, 4)
    bgra = np.dstack([rgb[..., ::-1], np.zeros(rgb.shape[:2], np.uint8)])
    image = load_image(bmp("zero.bmp", bgra))
    np.testing.assert_array_equal(image.pixels, rgb)
    assert image.notes == ("BMP: its alpha channel is 0 everywhere (written, never used): read "
                           "as opaque",)
    tga = _write(tmp_path, "zero.tga", struct.pack("<BBBHHBHHHHBB", 0, 0, 2, 0, 0, 0, 0, 0, 4, 3,
                                                   32, 0x20) + bgra.tobytes())
    image = load_image(tga)  # a TGA too: its header gave it no alpha bits, Pillow read them
    np.testing.assert_array_equal(image.pixels, rgb)
    assert image.notes == ("TGA: its alpha channel is 0 everywhere (written, never used): read "
                           "as opaque",)
    bgra[0, 0, 3] = 128
    used = load_image(bmp("used.bmp", bgra))
    assert used.channels == 4 and used.pixels[0, 0, 3] == 128 and used.pixels[1, 1, 3] == 0


def test_unusable_icc_profiles_are_ignored_with_a_note(tmp_path: Path) -> None:
    pixels = _photo()
    image = load_image(_save(tmp_path, "bad.png", PILImage.fromarray(pixels), icc_profile=b"junk" * 50))
    np.testing.assert_array_equal(image.pixels, pixels)
    assert image.notes == ("ICC profile ignored (unreadable)",)
    lab = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()
    image = load_image(_save(tmp_path, "lab.png", PILImage.fromarray(pixels), icc_profile=lab))
    np.testing.assert_array_equal(image.pixels, pixels)
    assert image.notes == ("ICC profile ignored (it is for Lab data, the image is RGB)",)


# --------------------------------------------------------------------------------------- bad input

def _refused(path: Path | str, *fragments: str, **kwargs) -> str:
    with pytest.raises(InputError) as info:
        load_image(path, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message
    return message


def test_missing_file(tmp_path: Path) -> None:
    _refused(tmp_path / "nope.png", "nope.png", "no such file")
    _refused(tmp_path / "nodir" / "x.png", "no such file")


def test_directory(tmp_path: Path) -> None:
    _refused(tmp_path, "is a directory")


def test_fifo_does_not_block(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    errors: list[InputError] = []

    def attempt() -> None:
        try:
            load_image(fifo)
        except InputError as exc:
            errors.append(exc)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(5)
    assert not worker.is_alive(), "load_image blocked on a FIFO"
    assert len(errors) == 1 and "not a regular file" in str(errors[0])


def test_device(tmp_path: Path) -> None:
    _refused("/dev/null", "not a regular file")


def test_unreadable_file(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads every file")
    path = _save(tmp_path, "a.png", PILImage.fromarray(_photo()))
    path.chmod(0)
    _refused(path, "cannot read", "ermission denied")


def test_empty_and_text_files(tmp_path: Path) -> None:
    _refused(_write(tmp_path, "empty.png", b""), "empty.png is empty")
    _refused(_write(tmp_path, "notes.png", b"hello, this is text\n" * 10), "notes.png is not an image")


def test_ghostscript_formats_are_not_opened(tmp_path: Path) -> None:
    eps = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nshowpage\n"
    _refused(_write(tmp_path, "x.eps", eps), "is not an image")


@pytest.mark.parametrize("kind", ["png", "jpg", "gif", "tif", "webp"])
def test_truncated_files(tmp_path: Path, kind: str) -> None:
    buf = io.BytesIO()
    PILImage.fromarray(RNG.integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(
        buf, {"jpg": "JPEG", "tif": "TIFF"}.get(kind, kind.upper()))
    data = buf.getvalue()
    for cut in (len(data) // 2, len(data) - 30):
        _refused(_write(tmp_path, f"cut{cut}.{kind}", data[:cut]), f"cut{cut}.{kind}")


def test_corrupt_png_crc_and_zlib(tmp_path: Path) -> None:
    data = bytearray(_png(np.zeros((8, 8), np.uint16), 0))
    data[33 + 8 + 3] ^= 0xFF  # inside the compressed IDAT stream
    _refused(_write(tmp_path, "z.png", bytes(data)), "z.png")


def test_zero_size_image(tmp_path: Path) -> None:
    data = _png(np.zeros((1, 1), np.uint16), 0)
    data = data[:16] + struct.pack(">II", 0, 1) + data[24:]
    ihdr = data[12:29]
    data = data[:29] + struct.pack(">I", zlib.crc32(ihdr)) + data[33:]
    _refused(_write(tmp_path, "zero.png", data), "zero.png")


def _bomb_png(width: int, height: int) -> bytes:
    """A PNG declaring width x height grey pixels, with only a sliver of image data."""
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + _chunk(b"IDAT", zlib.compress(b"\0" * (width + 1))) + _chunk(b"IEND", b""))


def test_decompression_bomb_refused_before_decoding(tmp_path: Path) -> None:
    path = _write(tmp_path, "bomb.png", _bomb_png(30000, 30000))
    start = time.perf_counter()
    message = _refused(path, "bomb.png", "900,000,000 pixels", "use max_pixels=None to load it")
    assert time.perf_counter() - start < 1.0
    assert message.count("bomb.png") == 1
    assert PILImage.MAX_IMAGE_PIXELS == DEFAULT_MAX_PIXELS  # Pillow's own guard is back in place


def test_max_pixels_none_lifts_the_guard(tmp_path: Path) -> None:
    pixels = np.zeros((1500, 1400, 3), np.uint8)
    pixels[::7] = 200
    path = _save(tmp_path, "big.png", PILImage.fromarray(pixels))
    _refused(path, "2,100,000 pixels", "max_pixels=None", max_pixels=1_000_000)
    assert load_image(path, max_pixels=2_100_000).width == 1400
    np.testing.assert_array_equal(load_image(path, max_pixels=None).pixels, pixels)
    assert PILImage.MAX_IMAGE_PIXELS == DEFAULT_MAX_PIXELS


def test_pillows_own_limit_belongs_to_the_process(tmp_path: Path, monkeypatch) -> None:
    # 200 MP is beyond Pillow's own hard limit (2 x 89.5 MP). The library leaves that limit as the
    # process set it and names it when it refuses; the command line's process lifts it
    # (quantize.runtime), and the sliver of data then makes it a truncated file.
    path = _write(tmp_path, "wide.png", _bomb_png(200_000_000, 1))
    assert "PIL.Image.MAX_IMAGE_PIXELS" in _refused(path, "wide.png", max_pixels=None)
    assert PILImage.MAX_IMAGE_PIXELS == DEFAULT_MAX_PIXELS
    monkeypatch.setattr(PILImage, "MAX_IMAGE_PIXELS", None)
    assert "decompression" not in _refused(path, "wide.png", max_pixels=None).lower()


def test_non_utf8_and_long_file_names(tmp_path: Path) -> None:
    pixels = _photo()
    odd = Path(os.fsdecode(bytes(tmp_path) + b"/caf\xe9.png"))
    PILImage.fromarray(pixels).save(odd, "PNG")
    np.testing.assert_array_equal(load_image(odd).pixels, pixels)
    assert display_name(odd).endswith("caf\\xe9.png")
    missing = Path(os.fsdecode(bytes(tmp_path) + b"/gone\xff.png"))
    message = _refused(missing, "gone\\xff.png")
    message.encode("utf-8")  # printable on any terminal
    long_name = tmp_path / ("x" * 250 + ".png")
    PILImage.fromarray(pixels).save(long_name, "PNG")
    assert load_image(long_name).width == 64
    _refused(tmp_path / ("y" * 300 + ".png"), "File name too long")


_SEEDS = {}


def _seed_file(kind: str) -> bytes:
    if kind not in _SEEDS:
        buf = io.BytesIO()
        if kind == "png16":
            buf.write(_png(RNG.integers(0, 65536, (6, 5, 3), dtype=np.uint16), 2))
        else:
            im = PILImage.fromarray(_photo(12, 10))
            im = im.quantize(8) if kind == "GIF" else im
            im.save(buf, kind)
        _SEEDS[kind] = buf.getvalue()
    return _SEEDS[kind]


@pytest.mark.filterwarnings("ignore:.*:UserWarning:PIL")  # Pillow warns about the damage it skips
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # a flip made it huge
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(["PNG", "JPEG", "GIF", "TIFF", "BMP", "WEBP", "png16"]),
       flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(1, 255)), max_size=4),
       cut=st.integers(0, 10_000) | st.none())
def test_mutated_files_load_or_fail_cleanly(tmp_path: Path, kind: str, flips, cut) -> None:
    data = bytearray(_seed_file(kind))
    for pos, mask in flips:
        data[pos % len(data)] ^= mask
    if cut is not None:
        data = data[:cut % (len(data) + 1)]
    path = _write(tmp_path, "fuzz.img", bytes(data))
    try:
        image = load_image(path, max_pixels=1_000_000)
    except InputError as exc:
        assert "\n" not in str(exc) and "fuzz.img" in str(exc)
    else:
        assert image.pixels.dtype == np.uint8 and image.pixels.ndim == 3 and image.channels in (3, 4)
        assert image.pixels.flags.c_contiguous and image.height * image.width <= 1_000_000


# ----------------------------------------------------------------------------------------- arrays

def test_image_from_array_shapes() -> None:
    grey = RNG.integers(0, 256, (4, 5), dtype=np.uint8)
    rgb = np.repeat(grey[:, :, None], 3, axis=2)
    np.testing.assert_array_equal(image_from_array(grey).pixels, rgb)
    np.testing.assert_array_equal(image_from_array(grey[:, :, None]).pixels, rgb)
    alpha = np.full((4, 5), 9, np.uint8)
    la = image_from_array(np.dstack([grey, alpha]))
    np.testing.assert_array_equal(la.pixels, np.dstack([rgb, alpha]))
    assert image_from_array(grey).raw_channels == 1 and la.raw_channels == 2
    opaque = image_from_array(np.dstack([rgb, np.full((4, 5), 255, np.uint8)]))
    assert opaque.channels == 3 and opaque.notes == ("alpha channel dropped: fully opaque",)
    assert opaque.raw_channels == 3
    image = image_from_array(rgb)
    assert image.pixels is rgb or np.shares_memory(image.pixels, rgb)
    assert (image.source, image.format, image.file_bytes, image.notes) == (None, None, 0, ())
    strided = image_from_array(rgb[:, ::2])
    assert strided.pixels.flags.c_contiguous and strided.width == 3


def test_image_from_array_deep_samples() -> None:
    v = np.array([[0xFFFF, 0x8080, 0, 0x00FF, 0x7FFF]], np.uint16)
    image = image_from_array(v)
    assert image.pixels[0, :, 0].tolist() == _round16(v)[0].tolist() == [255, 128, 0, 1, 127]
    assert image.notes == ("16-bit reduced to 8 bits",)
    f = np.array([[0.0, 0.5, 1.0, 0.499 / 255, 0.501 / 255]], np.float64)
    assert image_from_array(f).pixels[0, :, 0].tolist() == [0, 128, 255, 0, 1]


@pytest.mark.parametrize("bad", [
    np.zeros((2, 2), np.int64), np.zeros((2, 2), bool), np.zeros((2, 2, 3), np.float32) + 1.5,
    np.full((2, 2), np.nan), np.zeros((2, 2, 5), np.uint8), np.zeros((2, 2, 3, 1), np.uint8),
    np.zeros(5, np.uint8), np.zeros((0, 3, 3), np.uint8), np.zeros((2, 2), np.float32) - 0.1])
def test_image_from_array_rejects(bad: np.ndarray) -> None:
    with pytest.raises(ParameterError):
        image_from_array(bad)


# -------------------------------------------------------------------------------------- save_pixels

@pytest.mark.parametrize(("suffix", "channels"), [
    (".png", 3), (".png", 4), (".PNG", 3), (".tif", 3), (".tiff", 4), (".webp", 3), (".webp", 4),
    (".bmp", 3)])
def test_save_pixels_lossless_round_trip(tmp_path: Path, suffix: str, channels: int) -> None:
    pixels = RNG.integers(0, 256, (13, 17, channels), dtype=np.uint8)
    path = tmp_path / ("out" + suffix)
    assert save_pixels(path, pixels) == path.stat().st_size
    np.testing.assert_array_equal(load_image(path).pixels, pixels)


def test_save_indexed_writes_bmp_and_tiff_with_their_palette(tmp_path: Path) -> None:
    """`decode -o x.bmp` wrote 24-bit pixels, three times the bytes of the 8-bit indexed BMP that
    holds the same pixels; a TIFF takes its colour map where that is smaller."""
    palette = np.unique(_photo(96, 128).reshape(-1, 3) // 32 * 32, axis=0)[:16]
    indices = np.random.default_rng(0).integers(0, len(palette), (96, 128), dtype=np.uint8)
    pixels = palette[indices]
    for name in ("a.bmp", "a.tif", "b.tiff"):
        written = save_indexed(tmp_path / name, palette, indices)
        rgb = save_pixels(tmp_path / ("rgb" + name[1:]), pixels)
        assert written == (tmp_path / name).stat().st_size and written < rgb, name
        with PILImage.open(tmp_path / name) as im:
            assert im.mode == "P", name
            np.testing.assert_array_equal(np.asarray(im.convert("RGB")), pixels)
    tiny = save_indexed(tmp_path / "t.tif", palette[:2], np.zeros((2, 2), np.uint8))
    assert tiny == save_pixels(tmp_path / "rgb_t.tif", np.repeat(palette[:1], 4, 0).reshape(2, 2, 3))
    clear = np.concatenate([palette, np.full((len(palette), 1), 255, np.uint8)], axis=1)
    clear[0, 3] = 0
    save_indexed(tmp_path / "c.tif", clear, indices)
    np.testing.assert_array_equal(np.asarray(PILImage.open(tmp_path / "c.tif")), clear[indices])
    with pytest.raises(ParameterError, match="BMP cannot store transparency"):
        save_indexed(tmp_path / "c.bmp", clear, indices)
    save_indexed(tmp_path / "many.bmp", np.zeros((300, 3), np.uint8), indices.astype(np.uint16))
    assert PILImage.open(tmp_path / "many.bmp").mode == "RGB"


def test_save_pixels_jpeg_and_refusals(tmp_path: Path) -> None:
    pixels = _photo()
    save_pixels(tmp_path / "a.jpg", pixels)
    assert np.abs(load_image(tmp_path / "a.jpg").pixels.astype(int) - pixels).mean() < 2
    for name in ("b.jpg", "b.bmp"):
        with pytest.raises(ParameterError, match="cannot store transparency"):
            save_pixels(tmp_path / name, np.zeros((2, 2, 4), np.uint8))
    with pytest.raises(ParameterError, match="cannot write '.xyz'"):
        save_pixels(tmp_path / "c.xyz", pixels)
    with pytest.raises(ParameterError, match="pixels must be"):
        save_pixels(tmp_path / "d.png", pixels.astype(np.float32))
    with pytest.raises(OutputError, match="refusing to overwrite the input"):
        save_pixels(tmp_path / "a.jpg", pixels, force=True, protect=(tmp_path / "a.jpg",))
    with pytest.raises(ParameterError, match=r"JPEG cannot hold this 70000x1 image \("):
        save_pixels(tmp_path / "wide.jpg", np.zeros((1, 70_000, 3), np.uint8))  # libjpeg: 65500
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.jpg"]


# --------------------------------------------------------------------------------- bundled images

def test_bundled_images_load_and_are_documented() -> None:
    folder = REPO / "test_images"
    files = sorted(p for p in folder.iterdir() if p.name != "SOURCES.md")
    assert files, "test_images/ is empty"
    sources = (folder / "SOURCES.md").read_text(encoding="utf-8")
    assert sum(p.stat().st_size for p in files) < 1_500_000
    for path in files:
        assert f"`{path.name}`" in sources, f"{path.name} is not described in SOURCES.md"
        image = load_image(path)
        assert image.height >= 64 and image.width >= 64
    assert load_image(folder / "parrots.png").pixels.shape == (256, 384, 3)
    assert load_image(folder / "logo.png").channels == 4


def test_suffixes_are_those_pillow_registers_for_the_formats() -> None:
    """The batch's list of image file endings matches Pillow's own (which loads every plugin)."""
    from quantize.io.images import FORMATS, SUFFIXES

    assert SUFFIXES == {ext for ext, fmt in PILImage.registered_extensions().items() if fmt in FORMATS}


@pytest.mark.parametrize("tail, fragment", [
    (b";", "no frames (the GIF ends after its header)"),
    (b"!\xf9\x04\x01\x0a\x00\x00\x00;", "no frames (the GIF ends after its header)"),
    (b"!\xf9\x04\x01", "a damaged or truncated GIF file"),  # cut inside an extension
])
def test_a_gif_with_no_image_says_so_as_animate_does(tmp_path: Path, tail: bytes,
                                                     fragment: str) -> None:
    """compress said "a damaged or truncated GIF file" where animate said "no frames"."""
    _refused(_write(tmp_path, "e.gif", b"GIF89a\x08\0\x08\0\x80\0\0" + bytes(6) + tail), fragment)


def test_library_warnings_become_notes_of_the_reading_thread_only_and_the_logger_is_restored():
    # Two threads reading TIFFs at once once left tifffile's logger with propagate=False for good
    # (each saved and restored it, out of order) and each thread's notes held the other's warnings.
    from quantize.io.images import _log_as_notes

    logger = logging.getLogger("tifffile")
    before = (logger.propagate, list(logger.filters), list(logger.handlers))
    notes: dict[str, list[str]] = {"a": [], "b": []}
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()

    def reader(name: str, enter: threading.Event, wait: threading.Event, leave: threading.Event | None):
        with _log_as_notes("tifffile", "TIFF", notes[name]):
            enter.set()
            wait.wait(10)
            logger.warning(f"<TiffPages @8> odd tag in {name}")
        if leave is not None:
            leave.set()

    a = threading.Thread(target=reader, args=("a", a_in, b_in, a_out))
    b = threading.Thread(target=reader, args=("b", b_in, a_out, None))  # leaves after a
    a.start()
    a_in.wait(10)
    b.start()
    a.join(10)
    b.join(10)
    assert notes == {"a": ["TIFF: odd tag in a"], "b": ["TIFF: odd tag in b"]}
    assert (logger.propagate, list(logger.filters), list(logger.handlers)) == before


@pytest.mark.parametrize("name, head, container", [
    ("talk.mp4", b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2", "MP4 or QuickTime"),
    ("talk.mov", b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  ", "MP4 or QuickTime"),
    ("talk.webm", b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81", "Matroska or WebM"),
    ("talk.avi", b"RIFF\x00\x10\x00\x00AVI LIST\x00\x00", "AVI"),
    ("talk.mpg", b"\x00\x00\x01\xba\x44\x00\x04\x00\x04\x01\x01\x89\xc3\xf8\x00\x00", "MPEG"),
])
def test_a_video_is_named_as_one_and_sent_to_animate(tmp_path, name, head, container):
    path = tmp_path / name
    path.write_bytes(head + bytes(200))
    with pytest.raises(InputError, match=rf"{name} is a video \({container}\), not an image: "
                                         "quantize animate reads its frames"):
        load_image(path)


@pytest.mark.filterwarnings("ignore:image file could not be identified")  # Pillow's, then ours
def test_an_avif_a_pillow_without_libavif_cannot_read_is_named_so(tmp_path, monkeypatch):
    """It was 'a damaged or truncated AVIF file', as under Pillow 11.0 to 11.2 (no AVIF plugin)."""
    plugin = pytest.importorskip("PIL.AvifImagePlugin")
    path = tmp_path / "photo.avif"  # a major brand of mif1, AVIF among the compatible ones
    path.write_bytes(b"\x00\x00\x00\x1cftypmif1\x00\x00\x00\x00mif1avifmiaf" + bytes(200))
    monkeypatch.setattr(plugin, "SUPPORTED", False)
    with pytest.raises(InputError, match=r"photo.avif is an AVIF image, and this Pillow reads no "
                                         r"AVIF \(Pillow 11.3 or later, built with libavif, does\)"):
        load_image(path)


def test_a_still_in_an_iso_box_is_no_video(tmp_path):
    """AVIF and HEIF open with an ftyp box too: an unreadable one is no video."""
    path = tmp_path / "broken.avif"
    path.write_bytes(b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1" + bytes(200))
    with pytest.raises(InputError) as info:
        load_image(path)
    assert "video" not in str(info.value)
