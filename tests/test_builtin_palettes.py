"""Built-in palettes by name: their colours, ``--palette NAME`` keeping every entry in order, the
listing, panel-measured colours and ``--drop-unused``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage

from quantize.io import container
from quantize.cli import main
from quantize.io.images import image_from_array, load_image
from quantize.io.palettes import Palette, write_palette
from quantize.io.palettes.builtin import BUILTIN_NAMES, builtin_palette, find_palette
from quantize.jobs.pipeline import CompressOptions, quantize_image

PARROTS = Path(__file__).resolve().parents[1] / "test_images" / "parrots.png"
# Pimoroni's measured colours of an Inky Impression ACeP panel (inky library, "saturated")
INKY_MEASURED = np.array([[57, 48, 57], [255, 255, 255], [58, 91, 70], [61, 59, 94],
                          [156, 72, 75], [208, 190, 71], [177, 106, 73]], np.uint8)


def run(capsys, *args) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def test_the_palettes_named_in_the_issue_have_their_hardware_sizes() -> None:
    sizes = {"bw": 2, "bwr": 3, "grey2": 4, "grey4": 16, "web216": 216, "cga": 16, "ega": 64,
             "c64": 16,
             "nes": 64, "gameboy": 4, "pico8": 16, "rgb332": 256, "acep7": 7, "spectra6": 7, "epd4grey": 4,
             "bwyr": 4}
    for name, size in sizes.items():
        palette = builtin_palette(name)
        assert len(palette) == size and palette.colors.shape[1] == 3, name
    web = builtin_palette("web216").colors
    assert len(np.unique(web, axis=0)) == 216 and set(web.ravel()) == {0, 51, 102, 153, 204, 255}
    assert builtin_palette("ega").hex[20] == "#aa5500"  # EGA's default colour 6, brown
    assert builtin_palette("ega").hex[:8] == builtin_palette("cga").hex[:6] + ["#aaaa00", "#aaaaaa"]
    assert builtin_palette("grey4").hex[1] == "#111111"  # 4-bit level 1 by bit replication
    assert builtin_palette("PICO8").hex[8] == "#ff004d"


def test_rgb332_indices_are_the_displays_pixel_bytes(capsys, tmp_path: Path) -> None:
    """An RGB332 TFT (or LVGL at 8-bit colour depth) takes a byte a pixel, rrrgggbb; --bits 3,3,2
    fits a palette in its own order, so its indices are not those bytes."""
    colors = builtin_palette("rgb332").colors
    codes = np.arange(256)
    np.testing.assert_array_equal(colors[:, 0] >> 5, codes >> 5)
    np.testing.assert_array_equal(colors[:, 1] >> 5, codes >> 2 & 7)
    np.testing.assert_array_equal(colors[:, 2] >> 6, codes & 3)
    assert builtin_palette("rgb332").hex[:2] + builtin_palette("rgb332").hex[-1:] == [
        "#000000", "#000055", "#ffffff"]  # levels widened by bit replication, as --bits does
    pixels = np.array([[[255, 0, 0], [0, 255, 0], [0, 0, 255], [255, 255, 255], [146, 36, 85]]],
                      np.uint8)
    PILImage.fromarray(pixels).save(tmp_path / "tft.png")
    code, _, err = run(capsys, "compress", tmp_path / "tft.png", "--palette", "rgb332",
                       "--format", "raw", "-o", tmp_path, "-q")
    assert code == 0, err
    assert (tmp_path / "tft.raw").read_bytes() == bytes([0xE0, 0x1C, 0x03, 0xFF, 0b10000101])


def test_bwyr_is_a_four_colour_panels_two_bit_buffer(capsys, tmp_path: Path) -> None:
    """Waveshare's (G) panels code black 0, white 1, yellow 2, red 3 and take 4 pixels a byte, the
    first in the high bits; no built-in palette held those codes."""
    pixels = np.array([[[0, 0, 0], [255, 255, 255], [250, 240, 10], [230, 20, 20], [255] * 3]],
                      np.uint8)
    PILImage.fromarray(pixels).save(tmp_path / "g.png")
    code, _, err = run(capsys, "compress", tmp_path / "g.png", "--palette", "bwyr", "--format",
                       "raw", "-o", tmp_path, "-q")
    assert code == 0, err
    assert (tmp_path / "g.raw").read_bytes() == bytes([0b00011011, 0b01000000])


@pytest.mark.parametrize("dither", ["none", "fs", "ordered"])
def test_spectra6_indices_are_the_drivers_codes(capsys, tmp_path: Path, dither: str) -> None:
    """Waveshare's EPD_7in3e (and Inky's Spectra 6 driver) code black 0, white 1, yellow 2, red 3,
    blue 5, green 6; blue and green were indices 4 and 5, so a .raw sent as it was showed blue as
    the undefined code 4 and green as blue."""
    assert builtin_palette("spectra6").hex == ["#000000", "#ffffff", "#ffff00", "#ff0000",
                                               "#000000", "#0000ff", "#00ff00"]
    pixels = np.array([[[0, 0, 255], [0, 255, 0], [255, 0, 0], [10, 10, 10]]], np.uint8)
    PILImage.fromarray(pixels).save(tmp_path / "s6.png")
    code, _, err = run(capsys, "compress", tmp_path / "s6.png", "--palette", "spectra6", "--dither",
                       dither, "--format", "raw", "-o", tmp_path, "-q")
    assert code == 0, err
    assert (tmp_path / "s6.raw").read_bytes() == bytes([0x56, 0x30])  # code 4 repeats black: unused
    photo = quantize_image(load_image(PARROTS), CompressOptions(
        palette=builtin_palette("spectra6").colors, dither=dither))
    assert 4 not in photo.indices


def test_epd4grey_is_in_the_codes_waveshares_4gray_display_takes(capsys, tmp_path: Path) -> None:
    """Waveshare's 4GrayDisplay writes each 2-bit code's bits to its old and new RAMs, (1, 1) being
    white and (0, 0) black in the driver's own table; the Python driver packs 0xFF as 0b11: a
    white-first palette showed a negative."""
    lightness = {0b11: 3, 0b10: 2, 0b01: 1, 0b00: 0}  # white, gray1, gray2, black (driver's table)
    greys = builtin_palette("epd4grey").colors[:, 0]
    assert sorted(range(4), key=lambda code: greys[code]) == sorted(range(4), key=lightness.get)
    pixels = np.array([[[255] * 3, [170] * 3, [85] * 3, [0] * 3, [250] * 3]], np.uint8)
    PILImage.fromarray(pixels).save(tmp_path / "g.png")
    code, _, err = run(capsys, "compress", tmp_path / "g.png", "--palette", "epd4grey", "--format",
                       "raw", "-o", tmp_path, "-q")
    assert code == 0, err
    assert (tmp_path / "g.raw").read_bytes() == bytes([0b11100100, 0b11000000])


@pytest.mark.parametrize("name", BUILTIN_NAMES)
def test_a_fixed_palette_keeps_every_entry_in_order(name: str, tmp_path: Path) -> None:
    palette = builtin_palette(name).colors
    result = quantize_image(load_image(PARROTS), CompressOptions(palette=palette))
    np.testing.assert_array_equal(result.palette, palette)
    assert result.k == result.to_dict()["k"] == len(palette)  # the K asked is the palette's
    packed = container.decode(container.encode(result.palette, result.indices))
    np.testing.assert_array_equal(packed.palette, palette)
    assert packed.indices.max() < len(palette)


def test_drop_unused_leaves_out_unused_entries() -> None:
    palette = builtin_palette("web216").colors
    result = quantize_image(load_image(PARROTS), CompressOptions(palette=palette, drop_unused=True))
    used = np.unique(quantize_image(load_image(PARROTS), CompressOptions(palette=palette)).indices)
    np.testing.assert_array_equal(result.palette, palette[used])


def test_palette_name_on_the_command_line(capsys, tmp_path: Path) -> None:
    code, _, err = run(capsys, "compress", PARROTS, "--palette", "gameboy", "-o", tmp_path)
    assert code == 0, err
    packed = container.load(tmp_path / "parrots.qnt")
    np.testing.assert_array_equal(packed.palette, builtin_palette("gameboy").colors)


def test_a_file_of_that_name_wins(tmp_path: Path, monkeypatch) -> None:
    write_palette(Palette(np.array([[1, 2, 3], [4, 5, 6]])), tmp_path / "bw", fmt="gpl")
    monkeypatch.chdir(tmp_path)
    np.testing.assert_array_equal(find_palette("bw").colors, [[1, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(find_palette("nes").colors, builtin_palette("nes").colors)


def test_an_unknown_name_lists_the_valid_ones(capsys, tmp_path: Path) -> None:
    code, out, err = run(capsys, "compress", PARROTS, "--palette", "amiga", "-o", tmp_path / "o")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "unknown palette 'amiga'" in err
    assert all(name in err for name in BUILTIN_NAMES)
    assert not (tmp_path / "o").exists()
    code, _, err = run(capsys, "compress", PARROTS, "--palette", tmp_path / "missing.gpl")
    assert code == 3 and "no such file" in err


def test_listing_is_plain_hex_off_a_terminal(capsys, monkeypatch) -> None:
    code, out, err = run(capsys, "palette", "--list")
    assert code == 0 and "\x1b[" not in out
    assert "warning" not in err  # Click 8.2 deprecated get_text_stream, which it used to ask
    for name in BUILTIN_NAMES:
        assert any(line.startswith(name + " ") for line in out.splitlines())
    assert "#ff004d" in out and "#9bbc0f" in out


@pytest.mark.parametrize("env, color", [({}, True), ({"NO_COLOR": "1"}, False),
                                        ({"TERM": "dumb"}, False)])
def test_listing_draws_blocks_only_on_a_colour_terminal(env, color, monkeypatch) -> None:
    import io

    from quantize.io.palettes.terminal import wants_color

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert wants_color(Tty()) is color
    assert wants_color(io.StringIO()) is False


def test_panel_colors_map_to_what_the_panel_shows(capsys, tmp_path: Path) -> None:
    nominal = builtin_palette("acep7").colors
    image = load_image(PARROTS)
    for dither in ("none", "fs"):
        result = quantize_image(image, CompressOptions(palette=nominal, panel=INKY_MEASURED,
                                                       dither=dither))
        measured = quantize_image(image, CompressOptions(palette=INKY_MEASURED, dither=dither))
        np.testing.assert_array_equal(result.palette, nominal)  # the native palette is written
        np.testing.assert_array_equal(result.indices, measured.indices)  # chosen by the panel's
        assert result.psnr == measured.psnr  # the report measures what the panel shows
    write_palette(Palette(INKY_MEASURED), tmp_path / "inky.gpl")
    code, _, err = run(capsys, "compress", PARROTS, "--palette", "acep7", "--panel-colors",
                       tmp_path / "inky.gpl", "--dither", "atkinson", "-o", tmp_path)
    assert code == 0, err
    np.testing.assert_array_equal(container.load(tmp_path / "parrots.qnt").palette, nominal)


def test_panel_colors_must_match_the_palette(capsys, tmp_path: Path) -> None:
    write_palette(Palette(INKY_MEASURED[:6]), tmp_path / "six.gpl")
    code, _, err = run(capsys, "compress", PARROTS, "--palette", "acep7", "--panel-colors",
                       tmp_path / "six.gpl", "-o", tmp_path / "o")
    assert code == 2 and err.count("\n") == 1 and "gives 6 colours for the 7 of --palette" in err
    code, _, err = run(capsys, "compress", PARROTS, "--panel-colors", tmp_path / "six.gpl",
                       "-o", tmp_path / "o")
    assert code == 2 and err.count("\n") == 1
    assert not (tmp_path / "o").exists()


def test_panel_colors_repeat_where_the_palette_repeats(capsys, tmp_path: Path) -> None:
    """spectra6's code 4 repeats black so that no pixel takes it; a --panel-colors file with
    another colour there (six measured colours and a filler) sent a fifth of a photo's pixels to
    that undefined code, silently."""
    measured = np.array([[30, 30, 40], [240, 240, 230], [220, 200, 30], [160, 40, 40],
                         [128, 128, 128], [40, 60, 140], [50, 110, 60]], np.uint8)
    write_palette(Palette(measured), tmp_path / "filler.gpl")
    code, _, err = run(capsys, "compress", PARROTS, "--palette", "spectra6", "--panel-colors",
                       tmp_path / "filler.gpl", "--format", "raw", "-o", tmp_path / "o")
    assert code == 2 and err.count("\n") == 1 and not (tmp_path / "o").exists()
    assert "gives #808080 for entry 4, but --palette's entry 4 repeats entry 0" in err
    assert "measured colour (#1E1E28) there too" in err
    measured[4] = measured[0]
    result = quantize_image(load_image(PARROTS), CompressOptions(
        palette=builtin_palette("spectra6").colors, panel=measured))
    assert 4 not in result.indices


def test_transparent_pixels_with_a_fixed_palette() -> None:
    pixels = np.zeros((4, 4, 4), np.uint8)
    pixels[..., :3] = 200
    pixels[:2, ..., 3] = 255
    result = quantize_image(image_from_array(pixels), CompressOptions(palette=builtin_palette("bw").colors))
    # the named entries keep their indices; the clear pixels' entry comes after them
    assert result.palette.tolist() == [[0, 0, 0, 255], [255, 255, 255, 255], [0, 0, 0, 0]]
    assert (result.indices[2:] == 2).all() and (result.indices[:2] == 1).all()


def test_drop_unused_cannot_renumber_a_panel(capsys, tmp_path: Path) -> None:
    write_palette(Palette(INKY_MEASURED), tmp_path / "inky.gpl")
    code, _, err = run(capsys, "compress", PARROTS, "--palette", "acep7", "--panel-colors",
                       tmp_path / "inky.gpl", "--drop-unused", "-o", tmp_path / "o")
    assert code == 2 and err.count("\n") == 1 and "native indices" in err
    code, _, err = run(capsys, "compress", PARROTS, "--drop-unused", "-o", tmp_path / "o")
    assert code == 2 and err.count("\n") == 1 and "apply to --palette" in err
    assert not (tmp_path / "o").exists()


def test_drop_unused_says_the_indices_are_no_longer_the_palettes_codes(capsys, tmp_path: Path) -> None:
    """With --drop-unused a display palette's .raw was renumbered (spectra6's blue, code 5, became
    4) with no word: the raw carries no palette to tell."""
    for extra, noted in (("--drop-unused",), True), ((), False):
        code, _, err = run(capsys, "compress", PARROTS, "--palette", "spectra6", *extra,
                           "--format", "raw", "-o", tmp_path / str(noted))
        assert code == 0, err
        assert ("entries no pixel uses were left out: the indices are renumbered" in err) == noted


def test_pico8_colours_carry_the_manuals_names_to_the_listing_and_exports(capsys,
                                                                          tmp_path: Path) -> None:
    manual = {"#1d2b53": "dark-blue", "#5f574f": "dark-gray", "#83769c": "indigo",
              "#ffccaa": "peach"}
    code, out, _ = run(capsys, "palette", "--list")
    listed = [line.split() for line in out.splitlines()]
    assert code == 0 and all([hex_, name] in listed for hex_, name in manual.items())
    code, _, err = run(capsys, "compress", PARROTS, "--palette", "pico8", "-o", tmp_path,
                       "--export-palette", "gpl,css", "--swatch-names", "plain")
    assert code == 0, err
    from quantize.io.palettes import read_palette

    written = read_palette(tmp_path / "parrots.gpl")
    assert {h: n for h, n in zip(written.hex, written.names) if h in manual} == manual
    assert "--color-dark-blue: #1d2b53;" in (tmp_path / "parrots.css").read_text()
