"""Firmware exports: packed index bytes, RGB565 pixels, and a C header that compiles and, built
into a small C program, gives back exactly the pixels ``quantize decode`` writes."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from quantize.io import container
from quantize.cli import main
from quantize.errors import ParameterError
from quantize.io.exports import (c_header, c_identifier, index_bits, page_bytes, plane_bytes,
                                 raw_indices, rgb565, rgb565_note, rgb565_values)

PARROTS = Path(__file__).resolve().parents[1] / "test_images" / "parrots.png"
CC = shutil.which("gcc") or shutil.which("cc")

# Unpacks STEM_indices exactly as documented and prints the RGB888 pixels as raw bytes.
PROGRAM = r"""
#include <stdio.h>
#include "STEM.h"

int main(void) {
    int y, x, b;
    for (y = 0; y < STEM_height; y++) {
        const uint8_t *row = STEM_indices + (long)y * STEM_row_bytes;
        for (x = 0; x < STEM_width; x++) {
            unsigned index = 0;
            for (b = 0; b < STEM_bits_per_index; b++) {
                long bit = (long)x * STEM_bits_per_index + b;
                index = index << 1 | ((row[bit >> 3] >> (7 - (bit & 7))) & 1u);
            }
            uint32_t c = STEM_palette_rgb888[index];
            putchar((int)(c >> 16 & 0xFF));
            putchar((int)(c >> 8 & 0xFF));
            putchar((int)(c & 0xFF));
        }
    }
    return 0;
}
"""


def unpack(data: bytes, bits: int, h: int, w: int, msb_first: bool, row_padding: bool) -> np.ndarray:
    """A reference unpacker, one bit at a time."""
    row_bits = -(-w * bits // 8) * 8 if row_padding else w * bits
    stream = np.unpackbits(np.frombuffer(data, np.uint8), bitorder="big" if msb_first else "little")
    out = np.zeros((h, w), np.int64)
    for y in range(h):
        for x in range(w):
            start = y * row_bits + x * bits
            chunk = stream[start:start + bits]
            weights = 1 << (np.arange(bits)[::-1] if msb_first else np.arange(bits))
            out[y, x] = int((chunk * weights).sum())
    return out


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 9), st.integers(1, 9), st.integers(1, 16), st.booleans(), st.booleans(),
       st.integers(0, 2**32 - 1))
def test_raw_indices_round_trip(h, w, bits, msb_first, row_padding, seed) -> None:
    indices = np.random.default_rng(seed).integers(0, 1 << bits, (h, w))
    data = raw_indices(indices, bits, msb_first=msb_first, row_padding=row_padding)
    row_bytes = -(-w * bits // 8)
    assert len(data) == (h * row_bytes if row_padding else -(-h * w * bits // 8))
    np.testing.assert_array_equal(unpack(data, bits, h, w, msb_first, row_padding), indices)


def test_raw_indices_layout() -> None:
    # 2-bit indices 1, 2, 3 in a 3-pixel row: 01 10 11 00 MSB-first; LSB-first 1 | 2 << 2 | 3 << 4
    assert raw_indices(np.array([[1, 2, 3]]), 2) == bytes([0b01101100])
    assert raw_indices(np.array([[1, 2, 3]]), 2, msb_first=False) == bytes([0b00111001])
    # rows of 3 one-bit pixels: padded, a byte per row; unpadded, 6 bits in one byte
    assert raw_indices(np.array([[1, 0, 1], [1, 1, 1]]), 1) == bytes([0b10100000, 0b11100000])
    assert raw_indices(np.array([[1, 0, 1], [1, 1, 1]]), 1, row_padding=False) == bytes([0b10111100])
    with pytest.raises(ValueError):
        raw_indices(np.array([[4]]), 2)


def test_page_bytes_layout() -> None:
    """SSD1306/SH1106 display memory: a byte is 8 rows of one column, the top one in bit 0
    (Adafruit_SSD1306's buffer[x + (y / 8) * WIDTH] |= 1 << (y & 7)), pages top to bottom."""
    image = np.zeros((10, 2), np.uint8)
    image[0, 0] = image[7, 1] = image[8, 0] = image[9, 1] = 1
    assert page_bytes(image) == bytes([0x01, 0x80, 0x01, 0x02])  # the last page's rows 10-15 zero
    assert page_bytes(image, top_in_msb=True) == bytes([0x80, 0x01, 0x80, 0x40])
    with pytest.raises(ValueError, match="1 bit"):
        page_bytes(np.array([[2]]))


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 20), st.integers(1, 9), st.integers(0, 2**32 - 1))
def test_page_bytes_round_trip(h, w, seed) -> None:
    image = np.random.default_rng(seed).integers(0, 2, (h, w))
    data = np.frombuffer(page_bytes(image), np.uint8).reshape(-(-h // 8), w)
    rows = np.unpackbits(data[:, None, :], axis=1, bitorder="little").reshape(-1, w)
    np.testing.assert_array_equal(rows[:h], image)
    assert not rows[h:].any()


def test_raw_rows_pages_writes_an_oled_buffer(capsys, tmp_path: Path) -> None:
    pixels = np.zeros((9, 3, 3), np.uint8)
    pixels[0, 0] = pixels[8, 2] = 255  # white is bw's index 1: a lit OLED pixel
    Image.fromarray(pixels).save(tmp_path / "oled.png")
    with pytest.raises(SystemExit) as exc:
        main(["compress", str(tmp_path / "oled.png"), "--palette", "bw", "--format", "raw",
              "--raw-rows", "pages", "-o", str(tmp_path), "-q"])
    assert exc.value.code == 0, capsys.readouterr().err
    assert (tmp_path / "oled.raw").read_bytes() == bytes([0x01, 0, 0, 0, 0, 0x01])


@pytest.mark.parametrize("layout, palette, words", [
    ("pages", "bw", "--raw-rows pages holds 2 colours (1 bit a pixel), not 3: the transparent pixels"),
    ("planes", "bwr", "--raw-rows planes holds 3 colours (black, white and red), not 4: the "
                      "transparent pixels take an entry of their own")])
def test_a_panel_layout_of_a_transparent_image_is_one_line(capsys, tmp_path: Path, layout, palette,
                                                           words) -> None:
    """Transparent pixels add an entry to the panel's palette: a colour more than its layout
    holds, found after the mapping; with pages it was an internal error (exit 70)."""
    pixels = np.zeros((4, 4, 4), np.uint8)
    pixels[:2] = 255  # white, opaque; the lower half fully transparent
    Image.fromarray(pixels, "RGBA").save(tmp_path / "icon.png")
    with pytest.raises(SystemExit) as exc:
        main(["compress", str(tmp_path / "icon.png"), "--palette", palette, "--format", "qnt,raw",
              "--raw-rows", layout, "-o", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert exc.value.code == 2, err
    assert words in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_raw_rows_planes_with_bw_leaves_the_red_plane_blank(capsys, tmp_path: Path) -> None:
    """A black-and-white picture on a tri-colour panel: the driver still takes both planes."""
    Image.fromarray(np.array([[(0, 0, 0), (255, 255, 255)] * 5], np.uint8)).save(tmp_path / "bw.png")
    with pytest.raises(SystemExit) as exc:
        main(["compress", str(tmp_path / "bw.png"), "--palette", "bw", "--format", "raw",
              "--raw-rows", "planes", "-o", str(tmp_path), "-q"])
    assert exc.value.code == 0, capsys.readouterr().err
    data = (tmp_path / "bw.raw").read_bytes()
    assert data == bytes([0x55, 0x7F, 0xFF, 0xFF])  # black at 0, 2, …; no red ink anywhere
    np.testing.assert_array_equal(driver_pixels(data, 1, 10), [[0, 1] * 5])


def test_planes_with_bw_refuse_the_transparent_entry(capsys, tmp_path: Path) -> None:
    """With --palette bw the transparent pixels' entry took index 2, the red ink: a transparent
    icon came out with a red half on the panel, and exit 0."""
    pixels = np.zeros((4, 4, 4), np.uint8)
    pixels[:2] = 255
    Image.fromarray(pixels, "RGBA").save(tmp_path / "icon.png")
    with pytest.raises(SystemExit) as exc:
        main(["compress", str(tmp_path / "icon.png"), "--palette", "bw", "--format", "raw,c",
              "--raw-rows", "planes", "-o", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and len(err.strip().splitlines()) == 1, err
    assert "--raw-rows planes holds 3 colours (black, white and red): the transparent pixels take " \
           "an entry of their own; flatten the image onto the panel's background first" in err, err
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_a_transparent_entry_added_to_a_display_palette_is_noted(capsys, tmp_path: Path) -> None:
    """The transparent pixels' entry, appended to --palette bw, made the .raw 2 bits a pixel with
    an index 2 no panel has, and nothing said so beside the transparency note."""
    pixels = np.zeros((4, 4, 4), np.uint8)
    pixels[:2] = 255
    Image.fromarray(pixels, "RGBA").save(tmp_path / "icon.png")
    with pytest.raises(SystemExit) as exc:
        main(["compress", str(tmp_path / "icon.png"), "--palette", "bw", "--format", "raw,c",
              "-o", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert exc.value.code == 0, err
    assert ("note: the raw and c files hold the transparent pixels as index 2, which --palette has "
            "no colour for, at 2 bits a pixel instead of 1") in err, err


@pytest.mark.parametrize("args, words", [(("--palette", "acep7"), "not one of 7 colours"),
                                         (("-k", "4"), "not a fit"), ((), "not a fit"),
                                         (("--palette", "ONE"), "not one of 1 colour")])
def test_raw_rows_pages_needs_a_two_colour_palette(capsys, tmp_path: Path, args, words) -> None:
    """A fitted pair comes in no set order: a 128x64 kodim23 fitted at K=2 put its light colour
    at index 0, unlit on an OLED, so the panel showed the picture inverted. A palette of one
    colour, said to be refused, was taken: its index 0, unlit, whatever the colour."""
    err = _panel_refusal(capsys, tmp_path, "pages", args, "255 255 255 white")
    assert "--raw-rows pages needs a --palette of 2 colours" in err and words in err, err


def _panel_refusal(capsys, tmp_path: Path, rows: str, args, one_colour: str) -> str:
    """stderr of a compress to ``--raw-rows rows`` with ``args`` (ONE: a palette file of the one
    colour ``one_colour``), checked to be one line, exit 2, nothing written."""
    (tmp_path / "one.gpl").write_text(f"GIMP Palette\nName: one\n#\n{one_colour}\n")
    args = [str(tmp_path / "one.gpl") if arg == "ONE" else arg for arg in args]
    with pytest.raises(SystemExit) as exc:
        main(["compress", str(PARROTS), *args, "--format", "raw", "--raw-rows", rows,
              "-o", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "o").exists()
    return err


def test_raw_rows_pages_refuses_drop_unused(capsys, tmp_path: Path) -> None:
    """--palette bw --drop-unused on an all-white image left white at index 0: the page memory
    came out 0x00, every pixel unlit, the picture inverted."""
    Image.new("RGB", (4, 8), "white").save(tmp_path / "white.png")
    with pytest.raises(SystemExit) as exc:
        main(["compress", str(tmp_path / "white.png"), "--palette", "bw", "--drop-unused",
              "--format", "raw", "--raw-rows", "pages", "-o", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert exc.value.code == 2, err
    assert "--drop-unused renumbers the palette's codes: it cannot be combined with --raw-rows " \
           "pages" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "o").exists()


def driver_pixels(data: bytes, h: int, w: int) -> np.ndarray:
    """Reads two planes back as Waveshare's tri-colour drivers address them
    (EPD_2IN13B_V4_Display(blackimage, ryimage): byte i + j * Width of each, Width = (w + 7) / 8,
    pixel x in bit 0x80 >> (x % 8); GUI_Paint draws an ink by clearing its bit): black 0, white 1,
    red 2."""
    width = (w + 7) // 8
    assert len(data) == 2 * width * h
    black, red = data[:width * h], data[width * h:]
    out = np.ones((h, w), np.int64)
    for y in range(h):
        for x in range(w):
            address, bit = x // 8 + y * width, 0x80 >> (x % 8)
            assert black[address] & bit or red[address] & bit, "black and red inks on one pixel"
            out[y, x] = 0 if not black[address] & bit else 2 if not red[address] & bit else 1
        for x in range(w, width * 8):  # the padding past the panel's last column: no ink
            assert black[x // 8 + y * width] & red[x // 8 + y * width] & (0x80 >> (x % 8))
    return out


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 9), st.integers(1, 20), st.integers(0, 2**32 - 1))
def test_plane_bytes_round_trip(h, w, seed) -> None:
    indices = np.random.default_rng(seed).integers(0, 3, (h, w))
    np.testing.assert_array_equal(driver_pixels(plane_bytes(indices), h, w), indices)


def test_plane_bytes_layout() -> None:
    # black, white, red, white | 4 padding bits: black plane 0111 1111, red plane 1101 1111
    assert plane_bytes(np.array([[0, 1, 2, 1]])) == bytes([0x7F, 0xDF])
    assert plane_bytes(np.array([[0, 1, 2, 1]]), msb_first=False) == bytes([0xFE, 0xFB])
    with pytest.raises(ValueError, match="3 colours"):
        plane_bytes(np.array([[3]]))


def test_raw_rows_planes_writes_a_tri_colour_panels_buffers(capsys, tmp_path: Path) -> None:
    black, white, red = (0, 0, 0), (255, 255, 255), (230, 20, 10)
    pixels = np.array([[black, white, red] * 3 + [white], [red] * 5 + [black] * 5], np.uint8)
    Image.fromarray(pixels).save(tmp_path / "label.png")
    with pytest.raises(SystemExit) as exc:
        main(["compress", str(tmp_path / "label.png"), "--palette", "bwr", "--format", "raw",
              "--raw-rows", "planes", "-o", str(tmp_path), "-q"])
    assert exc.value.code == 0, capsys.readouterr().err
    data = (tmp_path / "label.raw").read_bytes()
    assert data == bytes([0x6D, 0xFF, 0xF8, 0x3F, 0xDB, 0x7F, 0x07, 0xFF])
    np.testing.assert_array_equal(driver_pixels(data, 2, 10),
                                  [[0, 1, 2, 0, 1, 2, 0, 1, 2, 1], [2] * 5 + [0] * 5])


def header_arrays(header: str) -> tuple[dict[str, int], dict[str, bytes]]:
    """A header's enum constants and its uint8_t arrays, each checked against its declared size."""
    constants = {k: int(v) for k, v in re.findall(r"(\w+) = (\d+)", header.split("static")[0])}
    arrays = {}
    for name, size, body in re.findall(r"static const uint8_t (\w+)\[(\d+)\] QUANTIZE_FLASH = "
                                       r"\{(.*?)\};", header, re.S):
        arrays[name] = bytes(int(v, 16) for v in re.findall(r"0x([0-9A-F]{2})", body))
        assert len(arrays[name]) == int(size), name
    return constants, arrays


@pytest.mark.parametrize("order", [(), ("--raw-bit-order", "lsb")])
def test_c_header_of_planes_holds_the_raw_planes(capsys, tmp_path: Path, order) -> None:
    """--raw-rows planes shaped the .raw only: the .h held 2-bit indices, which no tri-colour
    driver takes; its two arrays are now the .raw's black and red planes, byte for byte."""
    black, white, red = (0, 0, 0), (255, 255, 255), (230, 20, 10)
    pixels = np.array([[black, white, red] * 3 + [white], [red] * 5 + [black] * 5], np.uint8)
    Image.fromarray(pixels).save(tmp_path / "label.png")
    with pytest.raises(SystemExit) as exc:
        main(["compress", str(tmp_path / "label.png"), "--palette", "bwr", "--format", "raw,c",
              "--raw-rows", "planes", *order, "-o", str(tmp_path), "-q"])
    assert exc.value.code == 0, capsys.readouterr().err
    raw = (tmp_path / "label.raw").read_bytes()
    constants, arrays = header_arrays((tmp_path / "label.h").read_text())
    assert set(arrays) == {"label_black_plane", "label_red_plane"}
    assert arrays["label_black_plane"] + arrays["label_red_plane"] == raw
    assert constants["label_plane_bytes"] == len(raw) // 2 == 2 * constants["label_row_bytes"]
    assert constants["label_width"] == 10 and constants["label_height"] == 2


@pytest.mark.parametrize("order", [(), ("--raw-bit-order", "msb")])
def test_c_header_of_pages_holds_the_raw_pages(capsys, tmp_path: Path, order) -> None:
    pixels = np.zeros((9, 3, 3), np.uint8)
    pixels[0, 0] = pixels[8, 2] = 255
    Image.fromarray(pixels).save(tmp_path / "oled.png")
    with pytest.raises(SystemExit) as exc:
        main(["compress", str(tmp_path / "oled.png"), "--palette", "bw", "--format", "raw,c",
              "--raw-rows", "pages", *order, "-o", str(tmp_path), "-q"])
    assert exc.value.code == 0, capsys.readouterr().err
    constants, arrays = header_arrays((tmp_path / "oled.h").read_text())
    assert arrays == {"oled_pages": (tmp_path / "oled.raw").read_bytes()}
    assert constants["oled_page_count"] == 2 and constants["oled_page_bytes"] == 3


def test_a_panel_layout_applies_to_the_c_header_alone(capsys, tmp_path: Path) -> None:
    """--format c --raw-rows planes was refused as an option of a file not written."""
    Image.new("RGB", (9, 2), "red").save(tmp_path / "tag.png")
    with pytest.raises(SystemExit) as exc:
        main(["compress", str(tmp_path / "tag.png"), "--palette", "bwr", "--format", "c",
              "--raw-rows", "planes", "--raw-bit-order", "lsb", "-o", str(tmp_path), "-q"])
    assert exc.value.code == 0, capsys.readouterr().err
    _, arrays = header_arrays((tmp_path / "tag.h").read_text())
    assert arrays == {"tag_black_plane": plane_bytes(np.full((2, 9), 2), False)[:4],
                      "tag_red_plane": plane_bytes(np.full((2, 9), 2), False)[4:]}
    with pytest.raises(SystemExit) as exc:
        main(["compress", str(tmp_path / "tag.png"), "--palette", "bwr", "--format", "c",
              "--raw-rows", "packed", "-o", str(tmp_path / "o")])
    assert exc.value.code == 2 and "--raw-rows applies to --format raw" in capsys.readouterr().err


@pytest.mark.skipif(CC is None, reason="no C compiler")
@pytest.mark.parametrize("layout, first", [("planes", "tri_red_plane[0]"), ("pages", "tri_pages[0]")])
def test_c_header_of_a_panel_layout_compiles(tmp_path: Path, layout, first) -> None:
    palette = np.array([[0, 0, 0], [255, 255, 255], [255, 0, 0]], np.uint8)[:3 if layout == "planes" else 2]
    (tmp_path / "tri.h").write_bytes(c_header("tri", palette, np.array([[0, 1], [1, 1]]), layout))
    (tmp_path / "main.c").write_text(f'#include "tri.h"\nint main(void) {{ return {first} != 0; }}\n')
    build = subprocess.run([CC, "-std=c99", "-Wall", "-Wextra", "-pedantic", "-Werror", "-c", "-o",
                            str(tmp_path / "main.o"), str(tmp_path / "main.c")],
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stderr


@pytest.mark.parametrize("layout, colors, words", [
    ("planes", 4, "--raw-rows planes needs a palette of 3 colours, or 2 with no red, in the panel's "
                  "order (bwr: black 0, white 1, red 2; bw: black 0, white 1), not one of 4 colours"),
    ("planes", 1, "not one of 1 colour"),
    ("pages", 3, "--raw-rows pages needs a palette of 2 colours in the panel's order (bw: black 0, "
                 "white 1 lit), not one of 3 colours")])
def test_c_header_refuses_a_palette_its_panel_layout_cannot_take(layout, colors, words) -> None:
    """The library refuses as the command line does: indices within the panel's codes do not make
    a 4-colour palette one the panel shows."""
    palette = np.array([[0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 0, 255]], np.uint8)[:colors]
    with pytest.raises(ParameterError) as exc:
        c_header("tri", palette, np.zeros((2, 2), np.uint8), layout)
    assert words in str(exc.value)


@pytest.mark.parametrize("layout", ["planes", "pages"])
@pytest.mark.parametrize("colors", [1, 4])
def test_the_raw_and_c_files_refuse_the_same_panel_palettes(layout, colors) -> None:
    """Through the library the raw file had a looser check of its own: a palette of one colour,
    which the c file and the command line refuse, was written as the panel's codes."""
    from quantize.io.outputs import FileOptions, encode_one

    palette = np.array([[0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 0, 255]], np.uint8)[:colors]
    files = FileOptions(raw_pages=layout == "pages", raw_planes=layout == "planes")
    refusals = []
    for fmt in ("raw", "c"):
        with pytest.raises(ParameterError) as exc:
            encode_one(fmt, palette, np.zeros((2, 2), np.uint8), codec="cm", stem="x", files=files)
        refusals.append(str(exc.value))
    assert refusals[0] == refusals[1] and f"not one of {colors} colour" in refusals[0]


def test_a_library_caller_writes_a_panels_files_by_the_packages_names(tmp_path: Path) -> None:
    """compress_file's ``files`` took a FileOptions that only quantize.io.outputs had."""
    import quantize

    bwr = np.array([[0, 0, 0], [255, 255, 255], [255, 0, 0]], np.uint8)
    result = quantize.compress_file(PARROTS, tmp_path, formats="raw,c",
                                    files=quantize.FileOptions(raw_planes=True),
                                    options=quantize.CompressOptions(palette=bwr))
    assert (tmp_path / "parrots.raw").read_bytes() == plane_bytes(result.indices)
    assert b"parrots_red_plane[" in (tmp_path / "parrots.h").read_bytes()


@pytest.mark.parametrize("fmt", ["raw", "c"])
def test_a_library_fit_is_refused_as_a_panels_codes_before_any_work(fmt, tmp_path: Path) -> None:
    """The command line refuses a fitted palette for a panel layout (its colours come in no set
    order); compress_file wrote one, its ink whichever colour the fit put third."""
    import quantize

    with pytest.raises(ParameterError, match="not a fit"):
        quantize.compress_file(PARROTS, tmp_path, formats=fmt,
                               files=quantize.FileOptions(raw_planes=True),
                               options=quantize.CompressOptions(fit=quantize.FitOptions(k=3)))
    assert not list(tmp_path.iterdir())


def test_one_raw_layout_at_a_time() -> None:
    from quantize.io.outputs import FileOptions

    with pytest.raises(ParameterError, match="give one"):
        FileOptions(raw_pages=True, raw_planes=True).validated()


def test_a_yellow_panels_second_buffer_is_the_red_plane() -> None:
    """Black, white, yellow in that order (as README says for a black/white/yellow panel): the
    yellow pixels are the 0 bits of ``STEM_red_plane``, the header's other names unchanged."""
    palette = np.array([[0, 0, 0], [255, 255, 255], [255, 255, 0]], np.uint8)
    text = c_header("bwy", palette, np.array([[2, 1, 0, 2, 1, 1, 1, 1]]), "planes").decode()
    assert "bwy_red_plane[1] QUANTIZE_FLASH = {\n    0x6F," in text
    assert "bwy_black_plane[1] QUANTIZE_FLASH = {\n    0xDF," in text
    assert "yellow" not in text and "color_plane" not in text


def test_a_panel_layout_warns_of_a_palette_lighter_first(capsys, tmp_path: Path) -> None:
    """White before black was taken in silence, and the panel showed a negative; it is still
    taken (a user may want the negative), with one warning naming the order the panel takes."""
    (tmp_path / "wbr.gpl").write_text("GIMP Palette\n#\n255 255 255 w\n0 0 0 k\n255 0 0 r\n")
    (tmp_path / "wb.gpl").write_text("GIMP Palette\n#\n255 255 255 w\n0 0 0 k\n")
    for palette, rows, order in (("WBR", "planes", "bwr: black 0, white 1, red 2; bw: black 0, "
                                                   "white 1"),
                                 ("WB", "pages", "bw: black 0, white 1 lit"),
                                 ("bwr", "planes", None), ("bw", "pages", None)):
        palette = str(tmp_path / f"{palette.lower()}.gpl") if palette.isupper() else palette
        with pytest.raises(SystemExit) as exc:
            main(["compress", str(PARROTS), "--palette", palette, "--format", "c", "--raw-rows",
                  rows, "-o", str(tmp_path / rows / Path(palette).stem), "-q"])
        err = capsys.readouterr().err
        assert exc.value.code == 0 and (tmp_path / rows / Path(palette).stem / "parrots.h").exists()
        warned = [line for line in err.splitlines() if "warning" in line]
        assert warned == ([] if order is None else [
            f"quantize: warning: the --palette's colour 0 (#FFFFFF) is lighter than its colour 1 "
            f"(#000000), but --raw-rows {rows} takes the panel's order ({order}): the panel shows "
            "a negative"]), err


@pytest.mark.parametrize("layout, palette, words", [
    ("pages", [[255, 255, 255], [0, 0, 0]], "the panel shows a negative"),
    ("planes", [[0, 0, 0], [255, 0, 0], [255, 255, 255]], "the panel shows white and its colour "
                                                          "swapped")])
def test_c_header_warns_of_a_palette_out_of_the_panels_order(layout, palette, words) -> None:
    """Only the command line warned: a library caller of c_header got a negative in silence."""
    import warnings

    palette, indices = np.array(palette, np.uint8), np.zeros((2, 2), np.uint8)
    with pytest.warns(UserWarning, match=words) as caught:
        c_header("x", palette, indices, layout)
    assert [w.filename for w in caught] == [__file__]  # one, at the caller's line
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        c_header("x", palette, indices, layout, order_warning=False)
        c_header("x", palette[[1, 0]] if layout == "pages" else palette[[0, 2, 1]], indices, layout)


def test_a_planes_palette_with_its_ink_lighter_than_white_is_warned(capsys, tmp_path: Path) -> None:
    """Black, red, white in that order passed the lighter-first check (it compared colours 0 and 1
    only), and the panel printed red where the picture was white and left white where it was red."""
    (tmp_path / "brw.gpl").write_text("GIMP Palette\n#\n0 0 0 k\n255 0 0 r\n255 255 255 w\n")
    with pytest.raises(SystemExit) as exc:
        main(["compress", str(PARROTS), "--palette", str(tmp_path / "brw.gpl"), "--format", "raw",
              "--raw-rows", "planes", "-o", str(tmp_path / "o"), "-q"])
    err = capsys.readouterr().err
    assert exc.value.code == 0 and (tmp_path / "o" / "parrots.raw").exists()
    assert [line for line in err.splitlines() if "warning" in line] == [
        "quantize: warning: the --palette's colour 2 (#FFFFFF) is lighter than its colour 1 "
        "(#FF0000), but --raw-rows planes takes the panel's order (bwr: black 0, white 1, red 2; "
        "bw: black 0, white 1): the panel shows white and its colour swapped"], err


@pytest.mark.parametrize("args, words", [
    (("--palette", "acep7"), "--raw-rows planes needs a --palette of 3 colours, or 2 with no red, "
                             "in the panel's order (bwr: black 0, white 1, red 2; bw: black 0, "
                             "white 1), not one of 7 colours"),
    (("-k", "3"), "--raw-rows planes needs a --palette of 3 colours, or 2 with no red, in the "
                  "panel's order (bwr: black 0, white 1, red 2; bw: black 0, white 1), not a fit"),
    (("--palette", "ONE"), "--raw-rows planes needs a --palette of 3 colours, or 2 with no red, "
                           "in the panel's order (bwr: black 0, white 1, red 2; bw: black 0, "
                           "white 1), not one of 1 colour"),
    (("--palette", "bwr", "--drop-unused"), "--drop-unused renumbers the palette's codes: it "
                                            "cannot be combined with --raw-rows planes")])
def test_raw_rows_planes_refuses_what_the_panel_cannot_show(capsys, tmp_path, args, words) -> None:
    assert words in _panel_refusal(capsys, tmp_path, "planes", args, "  0   0   0 black")


@pytest.mark.parametrize("degrees, turns", [("90", -1), ("180", 2), ("270", 1)])
def test_rotate_turns_every_file_clockwise(capsys, tmp_path: Path, degrees, turns) -> None:
    """A panel whose memory is portrait (Waveshare's 2.13": 122 wide, 250 high) takes a landscape
    picture turned as GUI_Paint's ROTATE_90 draws it: memory pixel (X, Y) shows picture pixel
    (x = Y, y = H - 1 - X), H the picture's height; the other formats hold the same pixels."""
    black, white, red = (0, 0, 0), (255, 255, 255), (255, 0, 0)
    pixels = np.array([[black, white, red, white, black], [red, red, black, white, white],
                       [white, black, black, red, white]], np.uint8)
    Image.fromarray(pixels).save(tmp_path / "wide.png")
    with pytest.raises(SystemExit) as exc:
        main(["compress", str(tmp_path / "wide.png"), "--palette", "bwr", "--rotate", degrees,
              "--format", "qnt,png,c,raw,rgb565", "--raw-rows", "planes", "-o", str(tmp_path), "-q"])
    assert exc.value.code == 0, capsys.readouterr().err
    turned = np.rot90(pixels, turns)
    codes = (turned == np.array(red)).all(-1) * 2 + (turned == np.array(white)).all(-1)
    h, w = codes.shape
    assert (tmp_path / "wide.raw").read_bytes() == plane_bytes(codes)
    np.testing.assert_array_equal(container.load(tmp_path / "wide.qnt").indices, codes)
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "wide.preview.png").convert("RGB")),
                                  turned)
    assert (tmp_path / "wide.rgb565").read_bytes() == rgb565(np.array([black, white, red]), codes)
    constants, _ = header_arrays((tmp_path / "wide.h").read_text())
    assert (constants["wide_width"], constants["wide_height"]) == (w, h)
    if degrees == "90":  # the picture's left column is the memory's top row, read bottom to top
        np.testing.assert_array_equal(codes[0], [1, 2, 0])


def test_rotate_takes_quarter_turns_only(capsys, tmp_path: Path) -> None:
    Image.new("RGB", (4, 2), "white").save(tmp_path / "w.png")
    with pytest.raises(SystemExit) as exc:
        main(["compress", str(tmp_path / "w.png"), "--rotate", "45", "-o", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and len(err.strip().splitlines()) == 1, err
    assert "'45' is not one of '0', '90', '180', '270'" in err and not (tmp_path / "o").exists()


def test_rgb565() -> None:
    palette = np.array([[255, 255, 255], [255, 0, 0], [0, 255, 0], [0, 0, 255], [8, 4, 8]], np.uint8)
    assert rgb565_values(palette).tolist() == [0xFFFF, 0xF800, 0x07E0, 0x001F, 0x0821]
    assert rgb565(palette, np.array([[1, 2]])) == bytes([0x00, 0xF8, 0xE0, 0x07])
    assert rgb565(palette, np.array([[1, 2]]), big_endian=True) == bytes([0xF8, 0x00, 0x07, 0xE0])


@pytest.mark.parametrize("stem, name", [("parrots", "parrots"), ("my photo-2", "my_photo_2"),
                                        ("2x", "img_2x"), ("int", "img_int"), ("", "img"),
                                        ("façade", "facade"), ("über", "uber"), ("_Foo", "Foo"),
                                        ("a--b__c.", "a_b_c"), ("日本", "img")])
def test_c_identifier(stem: str, name: str) -> None:
    assert c_identifier(stem) == name  # never a leading "_" or a "__": reserved in C or C++


def test_c_header_refuses_what_it_cannot_write_faithfully() -> None:
    with pytest.raises(ValueError, match="integers 0 to 255"):
        c_header("f", np.array([[0.5, 0.2, 1.0], [0.0, 0.0, 0.0]]), np.zeros((1, 2), np.uint8))
    with pytest.raises(ValueError, match="integers 0 to 1"):
        c_header("f", np.zeros((2, 3), np.uint8), np.array([[0, 2]]))
    with pytest.raises(ValueError, match="must hold a pixel, got 0x4"):  # f_indices[0] is no C
        c_header("f", np.zeros((2, 3), np.uint8), np.zeros((0, 4), np.uint8))


@pytest.mark.parametrize("indices,words", [(np.array([[0.0, 1.0]]), "integers, got 2-D float64"),
                                           (np.array([0, 1]), "integers, got 1-D"),
                                           (np.array([[0, -1]]), "0 or more, got -1")])
def test_every_export_refuses_indices_it_cannot_write(indices, words) -> None:
    """Float, negative or 1-D indices went through raw_indices and page_bytes as bytes, or as
    NumPy's own errors (a negative index into the rgb565 palette took its last colour)."""
    palette = np.array([[0, 0, 0], [255, 255, 255]], np.uint8)
    for export in (lambda: raw_indices(indices, 1), lambda: page_bytes(indices),
                   lambda: plane_bytes(indices), lambda: rgb565(palette, indices),
                   lambda: c_header("f", palette, indices)):
        with pytest.raises(ValueError, match=words):
            export()
    with pytest.raises(ValueError, match="the palette has 2 colours: an index is above 1"):
        rgb565(palette, np.array([[2]]))


def test_index_bits() -> None:
    # whole divisors of a byte (or two), as displays and graphics libraries read them: 3, 5 or 9
    # bits would make pixels straddle bytes, which no driver unpacks
    assert [index_bits(k) for k in (1, 2, 3, 4, 5, 16, 17, 256, 257)] == [1, 1, 2, 2, 4, 4, 8, 8, 16]


def test_a_seven_colour_panel_gets_two_pixels_a_byte(capsys, tmp_path: Path) -> None:
    """Waveshare's ACeP drivers (EPD_5in65F, EPD_7in3f) and Inky take 4-bit nibbles, the first
    pixel in the high one, each row on a new byte; acep7's 7 colours were packed at 3 bits."""
    orange, black, white = (255, 128, 0), (0, 0, 0), (255, 255, 255)
    Image.fromarray(np.array([[orange, black, white]], np.uint8)).save(tmp_path / "epd.png")
    with pytest.raises(SystemExit) as exc:
        main(["compress", str(tmp_path / "epd.png"), "--palette", "acep7", "--format", "raw,c",
              "-o", str(tmp_path), "-q"])
    assert exc.value.code == 0, capsys.readouterr().err
    assert (tmp_path / "epd.raw").read_bytes() == bytes([0x60, 0x10])
    header = (tmp_path / "epd.h").read_text()
    assert "epd_bits_per_index = 4" in header and "epd_row_bytes = 2" in header


@pytest.mark.skipif(CC is None, reason="no C compiler")
@pytest.mark.parametrize("k, crop", [(16, None), (7, (37, 23)), (2, (13, 5)), (300, (41, 17))])
def test_c_header_compiles_and_reproduces_decode(capsys, tmp_path: Path, k, crop) -> None:
    source = tmp_path / "my photo.png"
    image = Image.open(PARROTS).convert("RGB")
    (image.crop((100, 100, 100 + crop[0], 100 + crop[1])) if crop else image).save(source)
    with pytest.raises(SystemExit) as exc:
        main(["compress", str(source), "-k", str(k), "-o", str(tmp_path), "--no-preview"])
    assert exc.value.code == 0, capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["decode", str(tmp_path / "my photo.qnt"), "-o", str(tmp_path / "decoded.png")])
    assert exc.value.code == 0
    decoded = np.asarray(Image.open(tmp_path / "decoded.png").convert("RGB"))

    packed = container.load(tmp_path / "my photo.qnt")
    stem = c_identifier("my photo")
    (tmp_path / f"{stem}.h").write_bytes(c_header("my photo", packed.palette, packed.indices))
    (tmp_path / "main.c").write_text(PROGRAM.replace("STEM", stem))
    build = subprocess.run([CC, "-std=c99", "-Wall", "-Werror", "-pedantic", "-o",
                            str(tmp_path / "show"), str(tmp_path / "main.c")],
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    shown = subprocess.run([str(tmp_path / "show")], capture_output=True, check=True).stdout
    np.testing.assert_array_equal(np.frombuffer(shown, np.uint8).reshape(decoded.shape), decoded)


@pytest.mark.skipif(CC is None, reason="no C compiler")
def test_c_header_of_an_rgba_palette_compiles(tmp_path: Path) -> None:
    palette = np.array([[0, 0, 0, 0], [255, 128, 0, 255], [10, 20, 30, 128]], np.uint8)
    (tmp_path / "sprite.h").write_bytes(c_header("sprite", palette, np.array([[0, 1, 2, 1]])))
    (tmp_path / "main.c").write_text('#include "sprite.h"\nint main(void) {\n'
                                     '    return sprite_palette_alpha[2] == 128 && '
                                     'sprite_indices[0] == 0x19 ? 0 : 1;\n}\n')
    build = subprocess.run([CC, "-std=c99", "-Wall", "-Werror", "-o", str(tmp_path / "t"),
                            str(tmp_path / "main.c")], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    assert subprocess.run([str(tmp_path / "t")]).returncode == 0


@pytest.mark.skipif(CC is None or shutil.which("objdump") is None, reason="no C compiler or objdump")
def test_c_header_puts_its_arrays_in_avr_flash(tmp_path: Path) -> None:
    """Adafruit GFX's drawBitmap reads a const bitmap with pgm_read_byte on AVR (an Arduino Uno):
    an array left in RAM was drawn as whatever flash held at its address."""
    (tmp_path / "avr").mkdir()
    (tmp_path / "avr" / "pgmspace.h").write_text('#define PROGMEM __attribute__((section(".progmem.data")))\n')
    palette, indices = np.array([[0, 0, 0], [255, 255, 255]], np.uint8), np.array([[0, 1, 1]])
    (tmp_path / "logo.h").write_bytes(c_header("logo", palette, indices))
    (tmp_path / "main.c").write_text('#include "logo.h"\nint main(void) {\n    return logo_indices[0] '
                                     '+ (int)logo_palette_rgb888[0] + logo_palette_rgb565[0];\n}\n')
    build = subprocess.run([CC, "-std=c99", "-Wall", "-Wextra", "-pedantic", "-Werror", "-D__AVR__",
                            "-I", str(tmp_path), "-c", "-o", str(tmp_path / "main.o"),
                            str(tmp_path / "main.c")], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    symbols = subprocess.run(["objdump", "-t", str(tmp_path / "main.o")], capture_output=True,
                             text=True, check=True).stdout
    placed = {line.split()[-1]: ".progmem.data" in line for line in symbols.splitlines()
              if line.split() and line.split()[-1].startswith("logo_")}
    assert placed == {"logo_palette_rgb888": True, "logo_palette_rgb565": True,
                      "logo_indices": True}, symbols


@pytest.mark.skipif(CC is None, reason="no C compiler")
def test_two_stems_of_one_identifier_clash_loudly(tmp_path: Path) -> None:
    palette, indices = np.array([[255, 0, 0], [0, 0, 255]], np.uint8), np.array([[0, 1]])
    for stem in ("a-b", "a_b"):
        (tmp_path / f"{stem}.h").write_bytes(c_header(stem, palette, indices))
    twice = '#include "a_b.h"\n#include "a_b.h"\nint main(void) { return a_b_width - 2; }\n'
    both = '#include "a-b.h"\n#include "a_b.h"\nint main(void) { return a_b_width - 2; }\n'
    for source, builds in ((twice, True), (both, False)):  # not the second header skipped
        (tmp_path / "main.c").write_text(source)
        build = subprocess.run([CC, "-std=c99", "-o", str(tmp_path / "t"), str(tmp_path / "main.c")],
                               capture_output=True, text=True)
        assert (build.returncode == 0) == builds, build.stderr


# Macro names C reserves: _ and a capital, or __ anywhere (C11 7.1.3); the library's prefixes
# followed by a capital or digit, from C11 7.31 and C23 7.33's potentially reserved ones.
RESERVED_MACRO = re.compile(r"_[A-Z_]|.*__|E[0-9A-Z]|(FE|LC|ATOMIC|TIME|FP|MATH|DBL|FLT|LDBL)_[A-Z]"
                            r"|SIG_?[A-Z]|(PRI|SCN)[a-zX]")


def include_guard(header: bytes) -> str:
    return re.search(rb"^#ifndef (\w+)$", header, re.M).group(1).decode()


@pytest.mark.parametrize("stem", ["epd_x", "e1", "Eink", "e", "fe_panel", "lc_screen", "signal",
                                  "sig_a", "atomic_clock", "prix", "time_left", "_epd", "parrots"])
def test_include_guard_is_no_reserved_identifier(stem: str) -> None:
    """The guard was the stem's identifier in capitals: 'epd_x' gave EPD_X_…_H, in errno.h's
    namespace (E and a capital, C11 7.31.3), 'signal' SIGNAL_…_H in signal.h's."""
    palette, indices = np.array([[0, 0, 0], [255, 255, 255]], np.uint8), np.array([[0, 1]])
    guard = include_guard(c_header(stem, palette, indices))
    assert not RESERVED_MACRO.match(guard), guard
    assert guard == include_guard(c_header(stem, palette, indices)) and guard.endswith("_H")


@pytest.mark.skipif(CC is None, reason="no C compiler")
def test_a_header_of_a_reserved_looking_stem_compiles_as_c11(tmp_path: Path) -> None:
    palette, indices = np.array([[0, 0, 0], [255, 255, 255]], np.uint8), np.array([[0, 1]])
    (tmp_path / "epd_x.h").write_bytes(c_header("epd_x", palette, indices))
    (tmp_path / "main.c").write_text('#include "epd_x.h"\n#include "epd_x.h"\n'
                                     'int main(void) { return epd_x_indices[0] - 0x40; }\n')
    build = subprocess.run([CC, "-std=c11", "-Wall", "-Wextra", "-pedantic", "-Werror", "-c", "-o",
                            str(tmp_path / "main.o"), str(tmp_path / "main.c")],
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stderr


@pytest.mark.parametrize("n", [1, 15, 16, 17, 33])
def test_c_header_lays_out_sixteen_values_a_line(n: int) -> None:
    palette = np.random.default_rng(n).integers(0, 256, (n, 4)).astype(np.uint8)
    header = c_header("a", palette, np.zeros((1, 1), np.uint8)).decode()
    header += c_header("a", np.zeros((256, 3), np.uint8),
                       np.arange(n, dtype=np.uint8)[None]).decode()
    for array, values in (("indices", [f"0x{i:02X}" for i in range(n)]),
                          ("palette_rgb888", [f"0x{r:02X}{g:02X}{b:02X}u" for r, g, b, _ in
                                              palette.tolist()]),
                          ("palette_alpha", [f"0x{a:02X}" for a in palette[:, 3].tolist()])):
        rows = [", ".join(values[i:i + 16]) for i in range(0, n, 16)]
        body = "".join(f"    {row},\n" for row in rows)
        assert f"a_{array}[{n}] QUANTIZE_FLASH = {{\n{body}}};\n" in header, array


def test_c_header_of_a_large_image_is_laid_out_in_bulk() -> None:
    """Every value was a Python string first: a 24-megapixel header took 2.4 GB and 29 s."""
    import tracemalloc

    indices = np.random.default_rng(0).integers(0, 256, (1000, 1000)).astype(np.uint8)
    tracemalloc.start()
    try:
        c_header("big", np.zeros((256, 3), np.uint8), indices)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 * indices.size  # bytes a value, its text six


def test_rgb565_notes_the_colours_it_cannot_hold(tmp_path):
    """--format was said to hold 'the same pixels' everywhere; RGB565 keeps 5-6-5 bits of each
    colour, so a note says so unless the palette was fitted on that lattice."""
    from conftest import make_photo
    from quantize.core.fitting import FitOptions
    from quantize.jobs.pipeline import CompressOptions, compress_file

    Image.fromarray(make_photo()).save(tmp_path / "p.png")
    free = compress_file(tmp_path / "p.png", tmp_path / "a", formats="rgb565",
                         options=CompressOptions(fit=FitOptions(k=8)))
    assert [n for n in free.notes if "rgb565" in n] == [
        "the rgb565 file holds all 8 colours to 5-6-5 bits only (the report measures the "
        "palette's own); --bits 5,6,5 fits the palette to what RGB565 shows"]  # not "8 of the 8"
    grey = np.array([[77, 77, 77], [0, 0, 0]], np.uint8)  # 77 is off the 5-6-5 lattice, 0 on it
    assert "holds its one colour to" in rgb565_note(grey[:1])[0]
    assert "holds 1 of the 2 colours to" in rgb565_note(grey)[0]
    fitted = compress_file(tmp_path / "p.png", tmp_path / "b", formats="rgb565",
                           options=CompressOptions(fit=FitOptions(k=8, bits=(5, 6, 5))))
    assert not [n for n in fitted.notes if "rgb565" in n]


# Draws STEM_indices as Adafruit GFX's drawXBitmap reads an XBM bitmap (the first pixel in bit 0)
# and prints a 1 or 0 a pixel.
XBM_PROGRAM = r"""
#include <stdio.h>
#include "STEM.h"

int main(void) {
    int y, x;
    for (y = 0; y < STEM_height; y++)
        for (x = 0; x < STEM_width; x++)
            putchar(STEM_indices[y * STEM_row_bytes + x / 8] & (1 << (x % 8)) ? '1' : '0');
    return 0;
}
"""


@pytest.mark.skipif(CC is None, reason="no C compiler")
def test_c_header_takes_the_lsb_bit_order_of_an_xbm_bitmap(capsys, tmp_path: Path) -> None:
    """--format c --raw-bit-order lsb was refused as an option of a file not written, and with
    --format c,raw the .h stayed MSB-first beside an LSB-first .raw: drawXBitmap and u8g2's
    drawXBM, which read bit 0 first, drew each byte mirrored."""
    pixels = np.zeros((3, 11, 3), np.uint8)
    pixels[0, [0, 9]] = pixels[1, 1] = pixels[2, 10] = 255
    Image.fromarray(pixels).save(tmp_path / "icon.png")
    for formats in ("c", "c,raw"):
        with pytest.raises(SystemExit) as exc:
            main(["compress", str(tmp_path / "icon.png"), "--palette", "bw", "--format", formats,
                  "--raw-bit-order", "lsb", "-o", str(tmp_path / formats), "-q"])
        assert exc.value.code == 0, capsys.readouterr().err
    header = (tmp_path / "c" / "icon.h").read_text()
    assert "the first in each byte's least significant bits" in header
    _, arrays = header_arrays(header)
    assert arrays == {"icon_indices": raw_indices(pixels[..., 0] // 255, 1, msb_first=False)}
    assert arrays["icon_indices"] == (tmp_path / "c,raw" / "icon.raw").read_bytes()
    (tmp_path / "main.c").write_text(XBM_PROGRAM.replace("STEM", "icon"))
    build = subprocess.run([CC, "-std=c99", "-Wall", "-Werror", "-pedantic", "-o",
                            str(tmp_path / "show"), "-I", str(tmp_path / "c"),
                            str(tmp_path / "main.c")], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr
    shown = subprocess.run([str(tmp_path / "show")], capture_output=True, check=True).stdout
    assert shown == "".join("1" if v else "0" for v in pixels[..., 0].ravel()).encode()


@pytest.mark.parametrize("k, words", [(2, "1 bit a pixel, the first in each byte's most significant"),
                                      (200, "a byte a pixel"), (300, "2 bytes a pixel, its high byte first")])
def test_c_header_says_how_its_indices_are_packed(k: int, words: str) -> None:
    palette = np.zeros((k, 3), np.uint8)
    assert f"/* the palette's indices: {words}" in c_header("x", palette, np.zeros((1, 9), np.uint8)).decode()
