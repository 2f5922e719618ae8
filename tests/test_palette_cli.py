"""``quantize palette`` and the palette options of ``compress``, end to end through the command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from quantize.io import container
from quantize.cli import main
from quantize.cli import palette as palette_cli
from quantize.io.palettes import (FORMATS, SORT_KEYS, SWATCH_NAMES, Palette, read_palette, sort_palette,
                                  write_palette)

from conftest import make_photo

PARROTS = Path(__file__).resolve().parents[1] / "test_images" / "parrots.png"
ROOT = Path(__file__).resolve().parents[1]
FAST = ("--sample", "5000")  # a fit on 5,000 pixels with one start: the tests run in seconds


def run(capsys, *args) -> tuple[int, str, str]:
    """``quantize ARGS`` in this process: exit code, stdout, stderr."""
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    out, err = capsys.readouterr()
    return exc.value.code, out, err


def swatch_lines(out: str) -> list[tuple[str, float]]:
    """(hex, share) from the printed swatches."""
    return [(line.split()[0], float(line.split()[1].rstrip("%")) / 100) for line in out.splitlines()]


def one_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("quantize: error: "), err
    return lines[0]


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def same_colors(a: np.ndarray, b: np.ndarray) -> bool:
    return sorted(map(tuple, a.tolist())) == sorted(map(tuple, b.tolist()))


def test_cli_lists_match_the_library():
    assert palette_cli.SORT_KEYS == SORT_KEYS and palette_cli.SWATCH_NAMES == SWATCH_NAMES
    assert palette_cli.FORMAT_NAMES == tuple(FORMATS)


@pytest.mark.parametrize("command", ["palette", "compress"])
def test_format_help_says_which_file_each_format_writes(capsys, command):
    code, out, _ = run(capsys, command, "--help")
    text = " ".join(out.split())
    assert code == 0 and "gpl (GIMP, Inkscape, Krita, Aseprite)" in text
    for fmt, info in FORMATS.items():
        if info.ext != "." + fmt:
            assert f"{fmt} (" in text and info.ext in text, fmt


def test_palette_prints_swatches_hex_and_share(capsys, tmp_path):
    image = tmp_path / "parrots.png"
    image.write_bytes(PARROTS.read_bytes())
    code, out, err = run(capsys, "palette", *FAST, image, "-k", "8")
    assert code == 0, err
    rows = swatch_lines(out)
    assert len(rows) == 8 and "\x1b[" not in out  # no colour codes when stdout is not a terminal
    assert all(len(h) == 7 and h.startswith("#") for h, _ in rows)
    shares = [s for _, s in rows]
    assert shares == sorted(shares, reverse=True) and sum(shares) == pytest.approx(1, abs=0.01)
    assert files_in(tmp_path) == ["parrots.png"]  # without -f nothing is written


def test_palette_writes_design_formats_that_read_back(capsys, tmp_path):
    out_dir = tmp_path / "palettes"
    code, out, err = run(capsys, "palette", *FAST, PARROTS, "-k", "8", "--format", "gpl,ase,aco,act", "-o", out_dir)
    assert code == 0, err
    assert files_in(out_dir) == ["parrots.aco", "parrots.act", "parrots.ase", "parrots.gpl"]
    rows = swatch_lines(out)
    printed = np.array([[int(h[i:i + 2], 16) for i in (1, 3, 5)] for h, _ in rows])
    for name in files_in(out_dir):
        palette = read_palette(out_dir / name)
        np.testing.assert_array_equal(palette.rgb, printed, err_msg=name)  # same colours, same order
    gpl = read_palette(out_dir / "parrots.gpl")
    assert gpl.title == "parrots"
    np.testing.assert_allclose(gpl.shares, [s for _, s in rows], atol=0.0006)
    assert err.count("quantize: note: wrote ") == 4


def test_palette_web_formats_sorted_by_hue_with_names(capsys, tmp_path):
    code, out, err = run(capsys, "palette", *FAST, PARROTS, "-k", "12", "--format", "css,scss,tailwind,json",
                         "--sort", "hue", "--names", "-o", tmp_path)
    assert code == 0, err
    assert files_in(tmp_path) == ["parrots.css", "parrots.json", "parrots.scss", "parrots.theme.css"]
    doc = json.loads((tmp_path / "parrots.json").read_text())
    colors = doc["colors"]
    assert len(colors) == 12 and all(c["name"] and "share" in c for c in colors)
    palette = read_palette(tmp_path / "parrots.json")
    np.testing.assert_array_equal(sort_palette(palette, "hue").colors, palette.colors)  # hue order
    assert [line.split(None, 2)[2] for line in out.splitlines()] == list(palette.names)
    for name in ("parrots.css", "parrots.scss", "parrots.theme.css"):
        np.testing.assert_array_equal(read_palette(tmp_path / name).rgb, palette.rgb, err_msg=name)


def test_palette_json_is_the_json_format_and_default_folder_is_beside_the_input(capsys, photo_path):
    code, out, err = run(capsys, "palette", *FAST, photo_path, "-k", "5", "--json", "--format", "json", "--sort",
                         "lightness")
    assert code == 0, err
    assert out == (photo_path.parent / "photo.json").read_text()
    lightness = [c["oklch"][0] for c in json.loads(out)["colors"]]
    assert lightness == sorted(lightness)


def test_palette_leaves_out_fully_transparent_pixels_unless_asked(capsys, tmp_path):
    rgba = np.dstack([make_photo(), np.full((48, 64), 255, np.uint8)])
    rgba[:, :32] = (17, 200, 99, 0)  # the left half fully transparent, with some hidden colour
    path = tmp_path / "logo.png"
    Image.fromarray(rgba).save(path)
    code, out, err = run(capsys, "palette", *FAST, path, "-k", "4", "--json")
    assert code == 0, err
    colors = json.loads(out)["colors"]
    assert len(colors) == 4 and all("alpha" not in c for c in colors)  # all K colours are visible
    assert sum(c["share"] for c in colors) == pytest.approx(1)
    assert "1,536 fully transparent pixels (50.0%) left out of the palette" in err
    code, out, err = run(capsys, "palette", *FAST, path, "-k", "4", "--json", "--keep-transparent")
    assert code == 0, err
    colors = json.loads(out)["colors"]
    assert len(colors) == 5 and colors[0]["hex"] == "#00000000" and colors[0]["share"] == 0.5
    assert [c["alpha"] for c in colors] == [0, 1, 1, 1, 1]
    rgba[...] = (17, 200, 99, 0)  # nothing visible: no palette to give, asked or not
    Image.fromarray(rgba).save(path)
    for keep in ((), ("--keep-transparent",)):
        code, out, err = run(capsys, "palette", *FAST, path, "-k", "4", *keep)
        assert code == 3 and one_error(err).endswith(
            "logo.png has no visible pixels: every pixel is fully transparent")


def test_formats_without_alpha_say_which_colours_they_write_opaque(capsys, tmp_path):
    rgba = np.zeros((40, 40, 4), np.uint8)
    rgba[:20] = (200, 30, 30, 255)
    rgba[20:, :20] = (30, 30, 200, 128)
    rgba[20:, 20:30] = (30, 200, 30, 64)  # the rest fully transparent
    path = tmp_path / "logo.png"
    Image.fromarray(rgba).save(path)
    out_dir = tmp_path / "out"
    code, _, err = run(capsys, "palette", path, "-k", "3", "--format", "gpl,json,act,ase", "-o", out_dir)
    assert code == 0, err
    assert ("2 colours with alpha written opaque by gpl, act and ase (#1e1ec880, #1ec81e40)"
            in err)
    assert read_palette(out_dir / "logo.gpl").colors.shape == (3, 3)
    code, _, err = run(capsys, "palette", path, "-k", "3", "--format", "gpl,act", "-o", out_dir, "-f",
                       "--keep-transparent")
    assert code == 0, err  # ACT marks the transparent entry by its index
    assert "3 colours with alpha written opaque by gpl (#1e1ec880, #1ec81e40, #00000000)" in err
    assert "2 colours with alpha written opaque by act (" in err
    code, _, err = run(capsys, "compress", path, "-k", "4", "--export-palette", "kpl,hex", "-o", out_dir)
    assert code == 0, err
    line = next(line for line in err.splitlines() if "2 colours with alpha written opaque by kpl" in line)
    assert "#1e1ec880" in line and "#1ec81e40" in line  # in the order of the indices
    code, _, err = run(capsys, "palette", path, "-k", "3", "--format", "css,png", "-o", out_dir, "-f")
    assert code == 0 and "opaque" not in err


def test_output_folder_without_format_is_refused(capsys, tmp_path, photo_path):
    """-o pdir without --format wrote nothing, said nothing and exited 0."""
    for out in (tmp_path / "pdir", tmp_path):
        code, out_text, err = run(capsys, "palette", *FAST, photo_path, "-k", "4", "-o", out)
        assert code == 2 and out_text == "", err
        assert "no --format is given: give --format LIST" in one_error(err)
    assert files_in(tmp_path) == ["photo.png"]


@pytest.mark.parametrize("name", ["x.png", "y.jpg", "x.qnt", "-"])
def test_output_named_as_no_palette_file_is_refused(capsys, tmp_path, photo_path, name, monkeypatch):
    """-o x.png, y.jpg or - with --format made a folder of that name holding photo.swatch.png."""
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "palette", *FAST, photo_path, "-k", "4", "--format", "png", "-o", name)
    assert code == 2 and "-o takes a folder or one palette file (brand.gpl" in one_error(err)
    assert files_in(tmp_path) == ["photo.png"]


def test_output_ending_in_a_slash_is_a_folder(capsys, tmp_path, photo_path):
    """-o kit.gpl/ was taken as the file kit.gpl, and with --format gpl,ase refused saying "give -o
    a folder", as compress and animate take a trailing slash to mean one."""
    code, _, err = run(capsys, "palette", *FAST, photo_path, "-k", "4", "--format", "gpl,ase", "-o",
                       f"{tmp_path / 'kit.gpl'}/")
    assert code == 0, err
    assert files_in(tmp_path / "kit.gpl") == ["photo.ase", "photo.gpl"]


def test_output_named_as_a_palette_file_writes_that_file(capsys, tmp_path, photo_path):
    code, _, err = run(capsys, "palette", *FAST, photo_path, "-k", "4", "-o", tmp_path / "brand.gpl")
    assert code == 0, err
    assert files_in(tmp_path) == ["brand.gpl", "photo.png"]
    assert read_palette(tmp_path / "brand.gpl").title == "brand"
    code, _, err = run(capsys, "palette", *FAST, photo_path, "-k", "4", "--format", "tailwind", "-o",
                       tmp_path / "sub" / "brand.theme.css")
    assert code == 0 and files_in(tmp_path / "sub") == ["brand.theme.css"], err
    code, _, err = run(capsys, "palette", *FAST, photo_path, "-k", "4", "--format", "gpl,ase", "-o",
                       tmp_path / "two.ase")
    assert code == 2 and "-o " in one_error(err) and "two.ase names one ase file, but --format gpl,ase" \
        in err and not (tmp_path / "two.ase").exists()
    (tmp_path / "kept.gpl").mkdir()  # a folder of that name is a folder
    code, _, err = run(capsys, "palette", *FAST, photo_path, "-k", "4", "--format", "gpl", "-o",
                       tmp_path / "kept.gpl")
    assert code == 0 and files_in(tmp_path / "kept.gpl") == [photo_path.stem + ".gpl"], err
    from quantize.errors import ParameterError
    from quantize.jobs.palette import PaletteExport, palette_file

    for export, name in ((PaletteExport(("gpl", "ase")), "x.gpl"), (PaletteExport(("gpl",)), "x.ase")):
        with pytest.raises(ParameterError, match="out_file"):
            palette_file(photo_path, out_file=tmp_path / name, export=export)


def test_a_palette_of_fewer_colours_than_asked_says_why(capsys, tmp_path):
    pixels = np.zeros((16, 16, 3), np.uint8)
    pixels[8:] = (255, 0, 0)
    pixels[:8, :8] = (0, 0, 255)
    path = tmp_path / "flag.png"
    Image.fromarray(pixels).save(path)
    code, out, err = run(capsys, "palette", path, "-k", "8")
    assert code == 0 and len(swatch_lines(out)) == 3, err
    assert "only 3 distinct colours to fit, fewer than K = 8: the palette holds those 3" in err
    code, out, err = run(capsys, "palette", path, "-k", "3")
    assert code == 0 and "distinct" not in err


def test_a_palette_file_as_input_is_shown_and_converted_not_fitted(capsys, tmp_path):
    brand = Palette([[230, 57, 70], [29, 53, 87], [241, 250, 238]], [0.2, 0.5, 0.3],
                    ("Brand red", "Navy", "Paper"), "Brand")
    source = write_palette(brand, tmp_path / "brand.theme.css")
    code, out, err = run(capsys, "palette", source)
    assert code == 0, err
    assert out.split() == ["#1d3557", "50.0%", "Navy", "#f1faee", "30.0%", "Paper", "#e63946", "20.0%",
                           "Brand", "red"]  # by share, the command's default order
    code, _, err = run(capsys, "palette", source, "-k", "4", "--format", "gpl,swatches", "--sort", "none",
                       "-o", tmp_path / "out")
    assert code == 0 and "brand.theme.css is a palette file and nothing is fitted: -k ignored" in err
    assert files_in(tmp_path / "out") == ["brand.gpl", "brand.swatches"]
    converted = read_palette(tmp_path / "out" / "brand.gpl")
    assert converted.colors.tolist() == brand.colors.tolist() and converted.names == brand.names
    assert read_palette(tmp_path / "out" / "brand.swatches").colors.tolist() == brand.colors.tolist()
    code, _, err = run(capsys, "palette", tmp_path / "out" / "brand.gpl", "--format", "gpl")
    assert code == 5 and "refusing to overwrite the input file" in one_error(err)
    (tmp_path / "typo.hex").write_text("ff0000\n00ff0g\n")
    code, _, err = run(capsys, "palette", tmp_path / "typo.hex", "--format", "gpl")
    assert code == 4 and "'00ff0g' is not a hex colour" in one_error(err)
    assert not (tmp_path / "typo.gpl").exists()


@pytest.mark.parametrize("name", ["Brand", "Brand.colors"])
def test_a_palette_file_known_by_its_content_is_shown_and_converted(capsys, tmp_path, name):
    """KDE keeps its colour collections as ~/.config/colors/<name>, or <name>.colors: no palette
    format's extension, but GIMP's format under KDE's first line."""
    (tmp_path / name).write_bytes(b"KDE RGB Palette\n#Brand colours\n255 0 0\tRed\n0 128 255\tSky blue\n")
    code, out, err = run(capsys, "palette", tmp_path / name, "-k", "4", "-o", tmp_path / "brand.gpl")
    assert code == 0, err
    assert out.split() == ["#ff0000", "Red", "#0080ff", "Sky", "blue"]
    assert f"{name} is a palette file and nothing is fitted: -k ignored" in err
    converted = read_palette(tmp_path / "brand.gpl")
    assert converted.rgb.tolist() == [[255, 0, 0], [0, 128, 255]] and converted.names == ("Red", "Sky blue")


def test_compress_exports_the_packed_palette(capsys, tmp_path):
    out_dir = tmp_path / "out"
    code, out, err = run(capsys, "compress", PARROTS, "-k", "64", "-o", out_dir, "--export-palette",
                         "gpl,ase")
    assert code == 0, err
    assert files_in(out_dir) == ["parrots.ase", "parrots.gpl", "parrots.preview.png", "parrots.qnt"]
    packed = container.load(out_dir / "parrots.qnt")
    shares = np.bincount(packed.indices.ravel(), minlength=len(packed.palette)) / packed.indices.size
    for name in ("parrots.gpl", "parrots.ase"):  # in the order of the indices written
        np.testing.assert_array_equal(read_palette(out_dir / name).rgb, packed.palette, err_msg=name)
    np.testing.assert_allclose(read_palette(out_dir / "parrots.gpl").shares, shares, atol=0.0006)
    assert "wrote " in err and "out/parrots.gpl" in err
    code, out, err = run(capsys, "compress", PARROTS, "-k", "64", "-o", tmp_path / "share",
                         "--export-palette", "gpl", "--sort", "share")
    assert code == 0, err
    order = np.argsort(-shares, kind="stable")
    np.testing.assert_array_equal(read_palette(tmp_path / "share" / "parrots.gpl").rgb,
                                  packed.palette[order])


def test_compress_export_leaves_out_the_transparent_entry(capsys, tmp_path):
    rgba = np.dstack([make_photo(), np.full((48, 64), 255, np.uint8)])
    rgba[:, :32, 3] = 0
    path = tmp_path / "logo.png"
    Image.fromarray(rgba).save(path)
    code, _, err = run(capsys, "compress", path, *FAST, "-k", "5", "--export-palette", "json", "-o", tmp_path)
    assert code == 0, err
    packed = container.load(tmp_path / "logo.qnt").palette
    exported = read_palette(tmp_path / "logo.json")
    assert (packed[:, 3] == 0).sum() == 1 and len(exported) == len(packed) - 1
    assert same_colors(exported.rgb, packed[packed[:, 3] > 0, :3])
    assert exported.shares.sum() == pytest.approx(1, abs=1e-5)
    assert "the exported palettes leave out the fully transparent entry" in err


def test_compress_maps_to_a_fixed_palette(capsys, tmp_path):
    brand = np.array([[230, 57, 70], [241, 250, 238], [168, 218, 220], [69, 123, 157], [29, 53, 87]])
    brand_file = write_palette(Palette(brand, names=("red", "white", "mint", "blue", "navy")),
                               tmp_path / "brand.ase")
    out_dir = tmp_path / "out"
    code, out, err = run(capsys, "compress", PARROTS, "--palette", brand_file, "-k", "64", "-o", out_dir,
                         "--json")
    assert code == 0, err
    assert "-k ignored" in err
    report = json.loads(out)
    assert report["k"] == 5 and report["n_iter"] == 0
    preview = np.asarray(Image.open(out_dir / "parrots.preview.png").convert("RGB")).reshape(-1, 3)
    used = np.unique(preview, axis=0)
    assert len(used) >= 3 and all(any((c == b).all() for b in brand) for c in used)
    # a packed file's palette, in its order, as batch --palette-from takes it
    code, out, err = run(capsys, "compress", PARROTS, "--palette", out_dir / "parrots.qnt", "-o",
                         tmp_path / "again", "--json")
    assert code == 0, err
    np.testing.assert_array_equal(container.load(tmp_path / "again" / "parrots.qnt").palette,
                                  container.load(out_dir / "parrots.qnt").palette)


def test_compress_lock_keeps_the_locked_colours(capsys, tmp_path):
    pixels = np.asarray(Image.open(PARROTS).convert("RGB"))
    locked = np.array([pixels[0, 0], pixels[128, 200], pixels[255, 383]])  # exact pixels: each is used
    lock_file = write_palette(Palette(locked), tmp_path / "brand.gpl")
    code, out, err = run(capsys, "compress", PARROTS, *FAST, "-k", "32", "--lock", lock_file, "-o", tmp_path,
                         "--json")
    assert code == 0, err
    assert json.loads(out)["k_used"] == 32
    palette = container.load(tmp_path / "parrots.qnt").palette
    assert all(any((c == p).all() for p in palette) for c in locked)
    code, _, err = run(capsys, "compress", PARROTS, "-k", "3", "--lock", lock_file, "-o", tmp_path / "x")
    assert code == 2 and "3 locked colours leave none to fit at K=3" in one_error(err)


def test_locked_colours_keep_their_names_in_the_exported_palette(capsys, tmp_path):
    pixels = np.asarray(Image.open(PARROTS).convert("RGB"))
    locked = np.array([pixels[0, 0], pixels[128, 200]])
    lock_file = write_palette(Palette(locked, names=("Brand red", "Navy")), tmp_path / "brand.gpl")
    code, _, err = run(capsys, "compress", PARROTS, *FAST, "-k", "6", "--lock", lock_file, "-o",
                       tmp_path / "out", "--export-palette", "gpl,ase", "--swatch-names", "plain")
    assert code == 0, err
    for name in ("parrots.gpl", "parrots.ase"):
        exported = read_palette(tmp_path / "out" / name)
        given = {tuple(locked[0].tolist()): "Brand red", tuple(locked[1].tolist()): "Navy"}
        # the fitted colours are called by their hex code, as in any export
        assert [given.get(tuple(c), h) for c, h in zip(exported.rgb.tolist(), exported.hex)] == \
            list(exported.names) and len(exported) == 6


def test_a_colour_locked_twice_is_one_entry_and_k_is_kept(capsys, tmp_path):
    """Red listed twice in the --lock file gave 5 colours at -k 6, with no word why."""
    lock_file = write_palette(Palette(np.array([[255, 0, 0], [0, 0, 255], [255, 0, 0]], np.uint8)),
                              tmp_path / "lock.gpl")
    code, out, err = run(capsys, "compress", PARROTS, *FAST, "-k", "6", "--lock", lock_file,
                         "-o", tmp_path, "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["k_used"] == 6 and report["palette"][:2] == ["#ff0000", "#0000ff"]
    assert "lists 1 colour more than once: each is kept once" in err


@pytest.mark.parametrize("args", [
    ("palette", "{img}", "--format", "gpl,photoshop"),
    ("compress", "{img}", "--export-palette", "gpl,photoshop"),
])
def test_unknown_format_is_one_line_listing_the_valid_names(capsys, photo_path, tmp_path, args):
    out_dir = tmp_path / "out"
    code, _, err = run(capsys, *[a.format(img=photo_path) for a in args], "-o", out_dir)
    assert code == 2
    assert "unknown palette format 'photoshop'; choose from gpl, ase, aco, act" in one_error(err)
    assert not out_dir.exists()


def test_malformed_or_missing_palette_file_names_it_and_writes_nothing(capsys, photo_path, tmp_path):
    bad = tmp_path / "brand.gpl"
    bad.write_text("GIMP Palette\n300 0 0 red\n")
    out_dir = tmp_path / "out"
    code, _, err = run(capsys, "compress", photo_path, "--palette", bad, "-o", out_dir)
    assert code == 4 and str(bad) in one_error(err)
    code, _, err = run(capsys, "compress", photo_path, "-k", "8", "--lock", bad, "-o", out_dir)
    assert code == 4 and "brand.gpl" in one_error(err) and "300" in err
    code, _, err = run(capsys, "compress", photo_path, "--palette", tmp_path / "nope.ase", "-o", out_dir)
    assert code == 3 and "nope.ase: no such file" in one_error(err)
    assert not out_dir.exists()


def test_format_limits_fail_before_the_fit_unless_truncate(capsys, photo_path, tmp_path):
    out_dir = tmp_path / "out"
    code, _, err = run(capsys, "palette", *FAST, photo_path, "-k", "300", "--format", "gpl,act", "-o", out_dir)
    assert code == 2
    assert "act palettes hold at most 256 colours, K = 300 was asked for (use fewer colours, or --truncate" in one_error(err)
    code, _, err = run(capsys, "compress", photo_path, "-k", "40", "--export-palette", "procreate",
                       "-o", out_dir)
    assert code == 2 and "at most 30 colours" in one_error(err)
    assert not out_dir.exists()
    code, out, err = run(capsys, "palette", *FAST, photo_path, "-k", "300", "--format", "gpl,act,json",
                         "--truncate", "-o", out_dir)
    assert code == 0, err
    assert len(read_palette(out_dir / "photo.act")) == 256 and len(read_palette(out_dir / "photo.gpl")) == 300
    shares = read_palette(out_dir / "photo.json").shares  # by share, so the least are left out
    assert f"act palettes hold at most 256 colours: the last 44 left out ({100 * shares[256:].sum():.1f}% " \
           "of the pixels)" in err
    assert "gpl palettes" not in err


def test_a_fixed_palette_too_large_for_a_format_is_not_called_asked(capsys, photo_path, tmp_path):
    """"K = 300 was asked for" was said of a --palette file of 300 colours, where no K was asked."""
    colors = np.stack([np.arange(300) % 256, np.arange(300) // 256, np.full(300, 7)], 1).astype(np.uint8)
    write_palette(Palette(colors), tmp_path / "big.gpl")
    code, _, err = run(capsys, "compress", photo_path, "--palette", tmp_path / "big.gpl",
                       "--export-palette", "act", "-o", tmp_path / "out")
    assert code == 2 and "act palettes hold at most 256 colours, this one has 300" in one_error(err)
    assert not (tmp_path / "out").exists()


def test_a_fixed_palettes_names_reach_the_exported_palette(capsys, photo_path, tmp_path):
    """Exported from compress --palette brand.gpl, the entries came out as '#c81e28 (74.4%)'."""
    brand = Palette(np.array([[200, 30, 40], [20, 20, 20], [240, 240, 230], [200, 30, 40]], np.uint8),
                    names=("Brand red", "Ink", "Paper", "Red again"))
    write_palette(brand, tmp_path / "brand.gpl")
    code, _, err = run(capsys, "compress", photo_path, "--palette", tmp_path / "brand.gpl",
                       "--export-palette", "gpl,json", "-o", tmp_path / "out")
    assert code == 0, err
    exported = read_palette(tmp_path / "out" / "photo.json")
    assert exported.names == ("Brand red", "Ink", "Paper", "Red again")  # the order of the indices
    assert "Brand red" in (tmp_path / "out" / "photo.gpl").read_text()


def test_each_fixed_entry_keeps_its_own_name_whatever_its_alpha(capsys, photo_path, tmp_path):
    """Exported from --palette tokens.gpl, a colour listed twice took the first one's name for both,
    and an RGBA file's entries lost their names on an opaque image (hex '#ff0000ff' never matched
    the written '#ff0000')."""
    (tmp_path / "tokens.gpl").write_text(
        "GIMP Palette\nChannels: RGBA\n#\n200 30 40 255 Brand red\n20 20 20 255 Ink\n"
        "200 30 40 255 Link\n240 240 230 128 Paper\n")
    code, _, err = run(capsys, "compress", photo_path, "--palette", tmp_path / "tokens.gpl",
                       "--export-palette", "json", "-o", tmp_path / "out")
    assert code == 0, err
    exported = read_palette(tmp_path / "out" / "photo.json")
    assert exported.names == ("Brand red", "Ink", "Link", "Paper")


def test_existing_outputs_need_force_and_nothing_is_written_without(capsys, photo_path, tmp_path):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / "photo.ase").write_bytes(b"keep")
    code, _, err = run(capsys, "palette", *FAST, photo_path, "-k", "4", "--format", "gpl,ase", "-o", out_dir)
    assert code == 5 and "photo.ase already exists (use --force" in one_error(err)
    code, _, err = run(capsys, "compress", photo_path, *FAST, "-k", "4", "--export-palette", "gpl,ase",
                       "-o", out_dir)
    assert code == 5 and "photo.ase already exists" in one_error(err)
    assert files_in(out_dir) == ["photo.ase"] and (out_dir / "photo.ase").read_bytes() == b"keep"
    code, _, err = run(capsys, "palette", *FAST, photo_path, "-k", "4", "--format", "gpl,ase", "-o", out_dir,
                       "--force")
    assert code == 0, err
    assert len(read_palette(out_dir / "photo.ase")) == 4 and files_in(out_dir) == ["photo.ase", "photo.gpl"]


@pytest.mark.parametrize("args, message", [
    (("--sort", "hue"), "--sort, --names, --swatch-names, --truncate and --keep-transparent apply to"),
    (("--swatch-names", "plain"), "--swatch-names, --truncate and --keep-transparent apply to --export"),
    (("--export-palette", "gpl", "--target-psnr", "30"), "cannot be combined with a target"),
    (("--lock", "brand.gpl", "--palette", "brand.gpl"), "cannot be combined with --lock"),
])
def test_compress_palette_option_mistakes(capsys, photo_path, tmp_path, args, message):
    code, _, err = run(capsys, "compress", photo_path, *args, "-o", tmp_path / "out")
    assert code == 2 and message in one_error(err)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("args, message", [
    (("--list", "photo"), "--list lists the built-in palettes: it takes no INPUT"),
    (("photo", "--format", ""), "--format names no palette format: ''"),
    (("photo", "--format", " , "), "--format names no palette format"),
])
def test_palette_says_what_it_would_ignore(capsys, photo_path, tmp_path, args, message):
    args = [photo_path if a == "photo" else a for a in args]
    code, _, err = run(capsys, "palette", *args, "-o", tmp_path / "out")
    assert code == 2 and message in one_error(err)
    assert not (tmp_path / "out").exists()


def test_a_fixed_palettes_export_keeps_the_order_of_its_indices(capsys, photo_path, tmp_path):
    from quantize.io.palettes.builtin import builtin_palette

    code, _, err = run(capsys, "compress", photo_path, "--palette", "pico8", "--export-palette",
                       "hex", "-o", tmp_path)
    assert code == 0, err
    exported = read_palette(tmp_path / "photo.hex").colors
    np.testing.assert_array_equal(exported, builtin_palette("pico8").colors)
    np.testing.assert_array_equal(exported, container.load(tmp_path / "photo.qnt").palette)


def test_swatches_are_coloured_blocks_on_a_terminal(photo_path):
    """A real process whose stdout is a pseudo-terminal gets 24-bit ANSI blocks."""
    import pty

    main_fd, sub_fd = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "quantize", "palette", str(photo_path), "-k", "3", *FAST],
                            stdout=sub_fd, stderr=subprocess.PIPE, cwd=ROOT)
    os.close(sub_fd)
    chunks = []
    while True:
        try:
            chunk = os.read(main_fd, 4096)
        except OSError:  # the terminal closes when the process ends
            break
        if not chunk:
            break
        chunks.append(chunk)
    assert proc.wait(timeout=120) == 0, proc.stderr.read()
    os.close(main_fd)
    # Numba's colorama writes a lone reset code at exit on a terminal
    lines = [line for line in b"".join(chunks).decode().splitlines() if line != "\x1b[0m"]
    assert len(lines) == 3 and all(line.startswith("\x1b[48;2;") for line in lines)


def test_compress_export_as_a_user_runs_it(tmp_path, photo_path):
    proc = subprocess.run([sys.executable, "-m", "quantize", "compress", str(photo_path), "-k", "6", *FAST,
                           "-o", str(tmp_path / "out"), "--export-palette", "json,strip", "-q"],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    assert files_in(tmp_path / "out") == ["photo.json", "photo.preview.png", "photo.qnt", "photo.strip.png"]
    packed = container.load(tmp_path / "out" / "photo.qnt")
    assert same_colors(read_palette(tmp_path / "out" / "photo.json").rgb, packed.palette)


def test_the_transparent_entry_beside_a_named_palette_is_called_transparent(capsys, tmp_path):
    """With a named --palette and --keep-transparent the appended entry was named '#00000000'."""
    logo = Path(__file__).resolve().parents[1] / "test_images" / "logo.png"
    write_palette(Palette(np.array([[20, 20, 20], [240, 240, 230]], np.uint8), names=("Ink", "Paper")),
                  tmp_path / "two.gpl")
    code, _, err = run(capsys, "compress", logo, "--palette", tmp_path / "two.gpl", "--export-palette",
                       "json", "--keep-transparent", "-o", tmp_path / "out")
    assert code == 0, err
    assert read_palette(tmp_path / "out" / "logo.json").names == ("Ink", "Paper", "transparent")


@pytest.mark.parametrize("command", ["palette", "compress"])
def test_swatch_names_plain_writes_the_names_alone(capsys, photo_path, tmp_path, command):
    export = ("--format",) if command == "palette" else ("--export-palette",)
    code, _, err = run(capsys, command, *FAST, photo_path, "-k", "4", *export, "gpl,css,ase", "--names",
                       "--swatch-names", "plain", "-o", tmp_path)
    assert code == 0, err
    for name in ("photo.gpl", "photo.css", "photo.ase"):
        palette = read_palette(tmp_path / name)
        assert palette.shares is None and all("%" not in n for n in palette.names), name
    assert "%)" not in (tmp_path / "photo.gpl").read_text()


def test_swatch_names_is_in_the_help_of_every_exporting_command(capsys):
    for command in ("palette", "compress"):
        code, out, _ = run(capsys, command, "--help")
        assert code == 0 and "--swatch-names [share|plain]" in out, command


def test_a_packed_file_as_input_shows_and_converts_its_palette(capsys, tmp_path):
    colors = np.array([[200, 30, 40], [20, 40, 90], [240, 240, 230]], np.uint8)
    indices = np.array([[0, 1, 1, 2], [2, 2, 2, 2]], np.uint8)  # shares 1/8, 2/8, 5/8
    packed = tmp_path / "photo.qnt"
    container.save(packed, colors, indices)
    code, out, err = run(capsys, "palette", packed)
    assert code == 0 and err == ""
    assert swatch_lines(out) == [("#c81e28", 0.125), ("#14285a", 0.25), ("#f0f0e6", 0.625)]
    code, _, err = run(capsys, "palette", packed, "-k", "4", "-o", tmp_path / "brand.gpl")
    assert code == 0 and "photo.qnt is a packed file and nothing is fitted: -k ignored" in err
    written = read_palette(tmp_path / "brand.gpl")
    assert written.colors.tolist() == colors.tolist()
    assert written.title == "brand"  # titled after -o, as a fitted palette is; a .qnt holds none
    assert written.shares.tolist() == pytest.approx([0.125, 0.25, 0.625], abs=1e-3)

    damaged = bytearray(packed.read_bytes())
    damaged[-1] ^= 0xFF
    packed.write_bytes(bytes(damaged))
    code, _, err = run(capsys, "palette", packed, "--format", "ase")
    _, _, decode_err = run(capsys, "decode", packed, "-o", tmp_path / "x.png")
    assert code == 4 and one_error(err) == one_error(decode_err)
    assert not (tmp_path / "photo.ase").exists()

    clip = tmp_path / "clip.qnt"
    clip.write_bytes(container.ANIMATION_MAGIC + bytes(64))
    code, _, err = run(capsys, "palette", clip)
    assert code == 3 and one_error(err).endswith(
        "clip.qnt is a multi-frame .qnt (an animation), not a still: quantize decode writes it as a "
        "GIF, APNG or WebP")
