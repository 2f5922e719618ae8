"""Issue 26 ("Hardening"): the newer paths (fixed palettes, batch, palette files, sweep, decode,
the library) as safe as compress. One test (or parametrised class of tests) per numbered item;
each names its item. docs/ERRORS.md is walked by tests/test_errors_doc.py.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import re
import signal
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import make_photo
from quantize.io import container
from quantize.jobs.batch import Settings, run_batch
from quantize.cli import main
from quantize.jobs.pipeline import CompressOptions
from quantize.core.fitting import FitOptions

CAFE = os.fsdecode(b"caf\xe9")  # a name that is not valid UTF-8, as Python keeps it
CAFE_SHOWN = "caf\\xe9"  # how every message shows it
SETTINGS = Settings(CompressOptions(fit=FitOptions(k=8)))


def cli(capsys, *args) -> tuple[int, str, str]:
    """Run the CLI in this process; return exit code, stdout and stderr."""
    code = 0
    try:
        main([str(a) for a in args])
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_error(err: str, code: int, expected: int, *fragments: str) -> str:
    """Exactly one error line (after any notes), the right code, each fragment in it."""
    lines = err.strip().splitlines()
    assert code == expected, err
    assert lines and all(line.startswith("quantize: ") for line in lines), err
    errors = [line for line in lines if line.startswith("quantize: error:")]
    assert errors == [lines[-1]], err
    for fragment in fragments:
        assert fragment in errors[0], err
    assert "Traceback" not in err and "<_io." not in err
    return errors[0]


def files_below(folder: Path) -> list[str]:
    return sorted(os.fsdecode(p.relative_to(folder)) for p in folder.rglob("*"))


def save_rgba(path: Path, clear_rows: int = 8) -> np.ndarray:
    """A photo whose top ``clear_rows`` rows are fully transparent; returns its alpha."""
    rgba = np.dstack([make_photo(24, 32), np.full((24, 32), 255, np.uint8)])
    rgba[:clear_rows, :, 3] = 0
    Image.fromarray(rgba).save(path)
    return rgba[..., 3]


@contextlib.contextmanager
def no_blocking(seconds: int = 60):
    """Fail instead of hanging if the block waits on a FIFO."""
    def fail(signum, frame):
        raise TimeoutError("blocked (on a FIFO?)")

    previous = signal.signal(signal.SIGALRM, fail)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def photo(tmp_path) -> Path:
    path = tmp_path / "photo.png"
    Image.fromarray(make_photo()).save(path)
    return path


@pytest.fixture
def packed(tmp_path, photo) -> Path:
    from quantize.jobs.pipeline import compress_file

    compress_file(photo, tmp_path / "packed", options=CompressOptions(fit=FitOptions(k=8)),
                  formats="qnt")
    return tmp_path / "packed" / "photo.qnt"


# ------------------------------------------------------------------------------ item 1: names

def test_item1_swatch_never_replaces_a_photo_beside_the_input(capsys, tmp_path):
    """``palette photo.jpg -f gpl,png --force`` wrote the swatch over photo.png."""
    Image.fromarray(make_photo(seed=1)).save(tmp_path / "photo.jpg")
    Image.fromarray(make_photo(seed=2)).save(tmp_path / "photo.png")
    before = (tmp_path / "photo.png").read_bytes()
    code, _, err = cli(capsys, "palette", tmp_path / "photo.jpg", "--format", "gpl,png", "--force")
    assert code == 0, err
    assert (tmp_path / "photo.png").read_bytes() == before
    with Image.open(tmp_path / "photo.swatch.png") as swatch:
        assert swatch.size == (8, 1)


def test_item1_swatch_of_a_png_needs_no_output_folder(capsys, tmp_path):
    """``palette row.png -f png`` could never succeed without -o (its output was the input)."""
    Image.fromarray(make_photo()).save(tmp_path / "row.png")
    code, _, err = cli(capsys, "palette", tmp_path / "row.png", "--format", "png")
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["row.png", "row.swatch.png"]
    code, _, err = cli(capsys, "compress", tmp_path / "row.png", "-k", "4", "--export-palette", "png",
                       "--force")
    assert code == 0, err
    assert (tmp_path / "row.swatch.png").exists() and (tmp_path / "row.preview.png").exists()


# ----------------------------------------------------------------------------- item 2: resume

@pytest.mark.parametrize("same_size_and_time", [False, True])
def test_item2_resume_redoes_an_input_whose_content_changed(tmp_path, same_size_and_time):
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    for i in range(2):
        Image.fromarray(make_photo(seed=i)).save(src / f"p{i}.bmp")  # BMP: size fixed by the shape
    first = run_batch([src], out, settings=SETTINGS, jobs=1)
    old_sha = first.manifest.rows["p0.bmp"]["sha256"]
    target = src / "p0.bmp"
    st = target.stat()
    Image.fromarray(make_photo(seed=7)).save(target)
    if same_size_and_time:  # only the content hash can tell
        assert target.stat().st_size == st.st_size
        os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    again = run_batch([src], out, settings=SETTINGS, jobs=1, resume=True)
    assert again.kept == 1  # p1 only
    row = again.manifest.rows["p0.bmp"]
    assert row["sha256"] != old_sha
    assert row["input_sha256"] == hashlib.sha256(target.read_bytes()).hexdigest()
    assert container.load(out / "p0.qnt").pixels().shape == (48, 64, 3)


# ------------------------------------------------------------------ item 3: fixed palettes and alpha

def _alpha_of(qnt: Path) -> np.ndarray:
    pixels = container.load(qnt).pixels()
    return pixels[..., 3] if pixels.shape[2] == 4 else np.full(pixels.shape[:2], 255)


def test_item3_compress_with_a_fixed_palette_keeps_transparency(capsys, tmp_path):
    logo = tmp_path / "logo.png"
    alpha = save_rgba(logo)
    brand = tmp_path / "brand.gpl"
    brand.write_text("GIMP Palette\n255 0 0 red\n0 0 255 blue\n255 255 255 white\n")
    code, _, err = cli(capsys, "compress", logo, "--palette", brand, "-o", tmp_path / "o")
    assert code == 0, err
    np.testing.assert_array_equal(_alpha_of(tmp_path / "o" / "logo.qnt") == 0, alpha == 0)
    assert "256 fully transparent pixels share the transparent palette entry" in err
    assert "added to the fixed palette" in err


def test_a_fixed_palette_says_what_it_does_to_partial_alpha(capsys, tmp_path):
    """Partly transparent pixels take a palette's opaque colours, and an opaque image drops a
    palette's partial alpha: each is said in a note, not done silently."""
    rgba = np.zeros((8, 8, 4), np.uint8)
    rgba[..., :3], rgba[..., 3] = 200, 255
    rgba[:2, :, 3] = 128  # 16 partly transparent pixels
    Image.fromarray(rgba).save(tmp_path / "soft.png")
    Image.fromarray(rgba[..., :3].copy()).save(tmp_path / "opaque.png")
    opaque = tmp_path / "opaque.hex"
    opaque.write_text("#c8c8c8\n#000000\n")
    half = tmp_path / "half.hex"
    half.write_text("#c8c8c8\n#ffffff80\n")
    cases = [("soft.png", opaque, "16 partly transparent pixels take the fixed palette's opaque"),
             ("opaque.png", half, "the fixed palette's partial alpha is dropped"),
             ("soft.png", half, None), ("opaque.png", opaque, None)]
    for image, palette, note in cases:
        code, _, err = cli(capsys, "compress", tmp_path / image, "--palette", palette, "-o",
                           tmp_path / "o", "--force")
        assert code == 0, err
        assert (note in err) if note else "alpha" not in err


@pytest.mark.parametrize("mode", ["palette_from", "shared"])
def test_item3_batch_fixed_and_shared_palettes_keep_transparency(tmp_path, mode):
    src = tmp_path / "in"
    src.mkdir()
    alpha = save_rgba(src / "logo.png")
    Image.fromarray(make_photo(seed=3)).save(src / "photo.png")
    brand = tmp_path / "brand.hex"
    brand.write_text("ff0000\n00ff00\n0000ff\n")
    kwargs = {"palette_from": brand} if mode == "palette_from" else {"shared_palette": True}
    result = run_batch([src], tmp_path / "out", settings=SETTINGS, jobs=1, **kwargs)
    assert result.summary.failed == 0
    np.testing.assert_array_equal(_alpha_of(tmp_path / "out" / "logo.qnt") == 0, alpha == 0)
    assert "transparent palette entry" in result.manifest.rows["logo.png"]["notes"]
    assert _alpha_of(tmp_path / "out" / "photo.qnt").min() == 255  # opaque images stay opaque


# ---------------------------------------------------------- item 4: outputs are never inputs

def test_item4_batch_never_takes_its_own_previews_as_inputs(capsys, tmp_path):
    folder = tmp_path / "pics"
    folder.mkdir()
    Image.fromarray(make_photo()).save(folder / "a.png")
    for _ in range(2):
        code, _, err = cli(capsys, "batch", folder, "-o", folder, "--preview", "--force", "-k", "4",
                           "-j", "1")
        assert code == 0, err
    assert not [p for p in folder.iterdir() if p.name.endswith(".preview.preview.png")]
    rows = json.loads((folder / "manifest.json").read_text())["rows"]
    assert [(r["path"], r["preview_file"]) for r in rows] == [("a.png", "a.preview.png")]
    code, _, err = cli(capsys, "batch", folder, "-o", folder, "--force", "-k", "4", "-j", "1")
    rows = json.loads((folder / "manifest.json").read_text())["rows"]  # a preview it did not write
    skipped = {r["path"]: r["error"] for r in rows if r["status"] == "skipped"}
    assert code == 0 and skipped["a.preview.png"] == "an output of quantize", err
    code, _, err = cli(capsys, "batch", f"{folder}/*.png", "-o", tmp_path / "o2", "-k", "4", "-j", "1")
    assert code == 0 and not (tmp_path / "o2" / "a.preview.qnt").exists(), err


# ------------------------------------------------------------------ item 5: non-UTF-8 names

def test_item5_non_utf8_names_through_batch_resume_sweep_and_palette(capsys, tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(make_photo()).save(src / f"{CAFE}.png")
    out = tmp_path / f"out-{CAFE}"
    code, out_text, err = cli(capsys, "batch", src, "-o", out, "-k", "4", "-j", "1", "--preview")
    assert code == 0, err
    assert CAFE_SHOWN in out_text and "done 1" in out_text
    assert os.path.exists(out / f"{CAFE}.qnt") and os.path.exists(out / f"{CAFE}.preview.png")
    code, out_text, err = cli(capsys, "batch", src, "-o", out, "-k", "4", "-j", "1", "--preview",
                              "--resume")
    assert code == 0 and "(1 kept from the last run)" in out_text, err
    # UTF-8 for every CSV reader, the name shown as everywhere; the JSON keeps it for --resume
    assert f"{CAFE_SHOWN}.png" in (out / "manifest.csv").read_bytes().decode("utf-8")

    image = src / f"{CAFE}.png"
    code, out_text, err = cli(capsys, "sweep", image, "-k", "2,4", "-o", tmp_path / f"sw-{CAFE}")
    assert code == 0 and CAFE_SHOWN in err, err  # "open .../sw-caf\xe9/report.html"
    code, out_text, err = cli(capsys, "palette", image, "-k", "3", "--format", "gpl,json",
                              "-o", tmp_path / f"pal-{CAFE}")
    assert code == 0, err
    assert CAFE_SHOWN in err  # "wrote .../caf\xe9.gpl"
    assert os.path.exists(tmp_path / f"pal-{CAFE}" / f"{CAFE}.gpl")
    code, out_text, err = cli(capsys, "compress", image, "-k", "4", "-o", tmp_path / "c")
    assert code == 0 and out_text.startswith(str(src).replace(CAFE, CAFE_SHOWN)), err


# ----------------------------------- items 6 and 11: every reading path, through the one opener

def _reading_commands(tmp_path: Path, photo: Path, packed: Path, bad: Path) -> dict[str, list]:
    """Every command line that reads ``bad``: as the image, the packed file or the palette."""
    return {
        "compress": ["compress", bad, "-o", tmp_path / "o"],
        "compress --palette": ["compress", photo, "--palette", bad, "-o", tmp_path / "o"],
        "compress --lock": ["compress", photo, "--lock", bad, "-k", "8", "-o", tmp_path / "o"],
        "decode": ["decode", bad, "-o", tmp_path / "o" / "x.png"],
        "info": ["info", bad],
        "sweep": ["sweep", bad, "-k", "2,4"],
        "palette": ["palette", bad],
        "batch --palette-from": ["batch", photo, "-o", tmp_path / "o", "--palette-from", bad, "-j", "1"],
    }


COMMANDS = ("compress", "compress --palette", "compress --lock", "decode", "info", "sweep", "palette",
            "batch --palette-from")


@pytest.mark.parametrize("command", COMMANDS)
def test_item6_a_fifo_never_blocks_any_reading_path(capsys, tmp_path, photo, packed, command):
    fifo = tmp_path / f"{CAFE}.pipe"
    os.mkfifo(fifo)
    with no_blocking():
        code, _, err = cli(capsys, *_reading_commands(tmp_path, photo, packed, fifo)[command])
    one_error(err, code, 3, "is not a regular file (a FIFO, socket or device)", CAFE_SHOWN)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("command", COMMANDS)
def test_item11_an_unreadable_file_is_exit_3_on_every_reading_path(capsys, tmp_path, photo, packed,
                                                                   monkeypatch, command):
    """Tests run as root, who reads anything: the opener's open and click's access check are made
    to fail for this one path, as they do for a user without permission."""
    locked = tmp_path / f"{CAFE}.png"
    locked.write_bytes(photo.read_bytes())
    real_open, real_access = os.open, os.access

    def denied(path, *args, **kwargs):
        if os.fsdecode(path) == str(locked):
            raise PermissionError(13, "Permission denied", os.fsdecode(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", denied)
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: os.fsdecode(p) != str(locked)
                        and real_access(p, mode, **kw))
    code, _, err = cli(capsys, *_reading_commands(tmp_path, photo, packed, locked)[command])
    one_error(err, code, 3, "cannot read ", f"{CAFE_SHOWN}.png: Permission denied")


@pytest.mark.parametrize("command", COMMANDS)
def test_item6_a_missing_file_is_named_the_same_way_everywhere(capsys, tmp_path, photo, packed,
                                                               command):
    missing = tmp_path / f"{CAFE}.gpl"
    code, _, err = cli(capsys, *_reading_commands(tmp_path, photo, packed, missing)[command])
    one_error(err, code, 3, f"{CAFE_SHOWN}.gpl: no such file")


# ------------------------------------------------------------------------ item 7: seeds

@pytest.mark.parametrize("command", ["compress", "sweep", "palette", "batch"])
def test_item7_negative_seed_is_refused_before_any_work(capsys, tmp_path, photo, command):
    args = {"compress": ["compress", photo, "-o", tmp_path / "o"],
            "sweep": ["sweep", photo, "-k", "2,4", "-o", tmp_path / "o"],
            "palette": ["palette", photo, "--format", "gpl", "-o", tmp_path / "o"],
            "batch": ["batch", photo, "-o", tmp_path / "o", "-j", "1"]}[command]
    code, _, err = cli(capsys, *args, "--seed", "-1")
    one_error(err, code, 2, "--seed must be a whole number >= 0, got -1")
    assert not (tmp_path / "o").exists()
    code, _, err = cli(capsys, *args, "--seed", str(2 ** 70))  # large seeds are fine
    assert code == 0, err


# --------------------------------------------------------------- item 8: malformed palette files

@pytest.mark.parametrize("name, content, fragment", [
    ("deep.json", "[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ("many.hex", "".join(f"{i:06x}\n" for i in range(70_000)), "more than the 65,536 colours a palette"),
    ("noextension", "not a palette at all", "not a palette file quantize reads"),
    ("bad.json", '{"colors": [{"rgb": [1, 2]}]}', "colour 1 has neither"),
])
def test_item8_malformed_palette_files_name_the_file(capsys, tmp_path, photo, name, content, fragment):
    bad = tmp_path / name
    bad.write_text(content)
    for args in (["compress", photo, "--palette", bad, "-o", tmp_path / "o"],
                 ["compress", photo, "--lock", bad, "-k", "8", "-o", tmp_path / "o"],
                 ["batch", photo, "--palette-from", bad, "-o", tmp_path / "o", "-j", "1"]):
        code, _, err = cli(capsys, *args)
        one_error(err, code, 4, str(bad), fragment)
        assert not (tmp_path / "o").exists()


# ------------------------------------------------------- item 9: batch validates before any work

@pytest.mark.parametrize("option", [["-k", "0"], ["-k", "70000"], ["--n-init", "0"], ["--tol", "-1"],
                                    ["--sample", "0"], ["--max-iter", "0"], ["--seed", "-3"],
                                    ["--jobs", "0"], ["--jobs", "-1"]])
def test_item9_batch_refuses_bad_parameters_before_any_work(capsys, tmp_path, photo, option):
    out = tmp_path / "out"
    code, _, err = cli(capsys, "batch", photo, "-o", out, *option)
    one_error(err, code, 2)
    assert not out.exists()  # no manifest to block the corrected run
    code, _, err = cli(capsys, "batch", photo, "-o", out, "-k", "4", "-j", "1")
    assert code == 0, err


# -------------------------------------------------------------------------- item 10: decode

def test_item10_decode_refuses_lossy_targets_and_creates_folders(capsys, tmp_path, packed):
    for name in ("out.jpg", "out.JPEG"):
        code, _, err = cli(capsys, "decode", packed, "-o", tmp_path / "d" / name)
        one_error(err, code, 2, "JPEG is lossy")
        assert not (tmp_path / "d").exists()
    target = tmp_path / "new" / "sub" / "out.webp"
    code, out, err = cli(capsys, "decode", packed, "-o", target)
    assert code == 0 and "8 colours" in out, err
    with Image.open(target) as im:
        np.testing.assert_array_equal(np.asarray(im.convert("RGB")), container.load(packed).pixels())


def test_a_dash_for_standard_input_is_named_as_such(capsys, tmp_path, monkeypatch, packed):
    """`quantize compress - < photo.png` (pngquant reads standard input so) said only
    "-: no such file"; a file named "-" is still read."""
    monkeypatch.chdir(tmp_path)
    for args in (["compress", "-", "-o", "out"], ["info", "-"]):
        code, _, err = cli(capsys, *args)
        one_error(err, code, 3, "-: no such file (quantize reads files, not standard input)")
    code, _, err = cli(capsys, "batch", "-", "-o", "out")  # batch takes folders too
    one_error(err, code, 3, "-: no such file or folder (quantize reads files, not standard input)")
    (tmp_path / "-").write_bytes(packed.read_bytes())
    code, out, err = cli(capsys, "info", "-")
    assert code == 0 and "8" in out, err


def test_decode_to_a_folder_or_a_name_without_suffix_says_what_to_give(capsys, tmp_path, packed):
    """compress's -o is a folder, decode's the image: `decode photo.qnt -o out` into an existing
    folder said "cannot write 'out' images", as if out were a format."""
    (tmp_path / "out").mkdir()
    code, _, err = cli(capsys, "decode", packed, "-o", tmp_path / "out")
    one_error(err, code, 2, "is a folder: decode writes one image, name it, such as "
              f"{tmp_path / 'out' / packed.stem}.png")
    code, _, err = cli(capsys, "decode", packed, "-o", tmp_path / "restored")
    one_error(err, code, 2, "restored names no image format: end it in .png, ")
    assert files_below(tmp_path / "out") == [] and not (tmp_path / "restored").exists()


# --------------------------------------------------------------------------- item 12: chart

def test_item12_chart_caption_is_clear_of_the_axis_label(photo):
    """Between the x-axis label and the caption there is at least one blank row."""
    from quantize.jobs.sweep import sweep_file
    from quantize.render.chart import PLOT_BOTTOM, chart

    png = chart(sweep_file(photo, [2, 4, 8]))
    rows = np.asarray(Image.open(io.BytesIO(png)).convert("L"))[PLOT_BOTTOM + 20:, 60:600]
    inked = np.flatnonzero((rows < 200).any(axis=1))
    assert len(inked) and (np.diff(inked) > 1).any(), "the caption touches the axis label"


# -------------------------------------------------------------------------- item 13: library

def test_item13_library_takes_pillow_images_arrays_and_no_options(tmp_path, photo):
    import quantize

    rgba = Image.open(photo).convert("RGBA")
    rgba.putalpha(Image.fromarray(np.where(np.arange(64)[None, :] < 8, 0, 255).astype(np.uint8)
                                  .repeat(48, axis=0)))
    for image, channels in [(Image.open(photo), 3), (rgba, 4), (Image.open(photo).convert("P"), 3),
                            (Image.open(photo).convert("L"), 3), (np.asarray(Image.open(photo)), 3)]:
        result = quantize.compress(image, k=4)
        assert result.channels == channels and result.k_used <= 4 + (channels == 4)
    assert quantize.compress(Image.open(photo), k=4).psnr == quantize.compress(photo, k=4).psnr
    with pytest.raises(quantize.ParameterError, match="not int"):
        quantize.compress(3)
    result = quantize.compress_file(photo, tmp_path / "lib", options=None)
    assert result.k == CompressOptions().fit.k and (tmp_path / "lib" / "photo.qnt").exists()


# ----------------------------------------------------------------------- item 14: small things

def test_item14_report_wording_at_k1_k2_and_with_a_fixed_palette(capsys, tmp_path, photo):
    code, out, err = cli(capsys, "compress", photo, "-k", "1", "-o", tmp_path / "a")
    assert code == 0 and "no index bits: one colour" in out and "inf" not in out, err
    assert "0 bits per pixel" in out
    code, out, err = cli(capsys, "compress", photo, "-k", "2", "-o", tmp_path / "b")
    assert "-> 1 bit per pixel" in out
    brand = tmp_path / "brand.hex"
    brand.write_text("ff0000\n00ff00\n0000ff\n")
    code, out, err = cli(capsys, "compress", photo, "--palette", brand, "-o", tmp_path / "c")
    assert code == 0 and "3 fixed colours given" in out and "mapped in rgb+lab" in out
    brand.write_text("ff0000\n")
    code, out, err = cli(capsys, "compress", photo, "--palette", brand, "-o", tmp_path / "one")
    assert code == 0 and "1 fixed colour given, 1 used" in out, out
    pico = tmp_path / "pico"  # a few of its 16 entries serve the photo; all stay, in their order
    code, out, err = cli(capsys, "compress", photo, "--palette", "pico8", "-o", pico, "--json")
    shown = np.unique(container.load(pico / "photo.qnt").indices).size
    assert shown < 16 and json.loads(out)["k_used"] == 16
    code, out, err = cli(capsys, "compress", photo, "--palette", "pico8", "-o", pico, "--force")
    assert f"16 fixed colours given, {shown} used ({16 - shown} more kept: stable indices)" in out
    assert "asked" not in out and "fitted" not in out
    logo = tmp_path / "logo.png"
    save_rgba(logo, clear_rows=0)
    rgba = np.asarray(Image.open(logo)).copy()
    rgba[0, 0, 3] = 0
    Image.fromarray(rgba).save(logo)
    code, out, err = cli(capsys, "compress", logo, "-k", "4", "-o", tmp_path / "d")
    assert "1 fully transparent pixel takes the transparent palette entry" in err


def test_item14_bare_quantize_prints_its_help(capsys):
    code, out, err = cli(capsys)
    assert code == 0 and out.startswith("Usage: quantize") and "error" not in err


def test_item14_batch_rate_counts_from_the_start_of_the_phase(capsys, monkeypatch):
    from quantize.cli import batch as batch_cli

    progress = batch_cli.Progress()
    progress.enabled = True
    monkeypatch.setattr(batch_cli.shutil, "get_terminal_size", lambda: os.terminal_size((120, 24)))
    time.sleep(0.2)
    progress("compress", 1, 10, "first.png")
    rate = float(re.search(r"([\d.]+)/s", capsys.readouterr().err).group(1))
    assert rate <= 1 / 0.2


def test_item14_info_keeps_its_palette_line_short(capsys, tmp_path):
    path = tmp_path / "big.qnt"
    colors = np.stack([np.arange(300) % 256, np.arange(300) // 256, np.zeros(300)], 1).astype(np.uint8)
    container.save(path, colors, np.arange(300, dtype=np.uint16).reshape(10, 30))
    code, out, err = cli(capsys, "info", path)
    assert code == 0, err
    line = next(line for line in out.splitlines() if line.startswith("palette"))
    assert line.count("#") == 64 and "and 236 more (--json lists them all)" in line
    code, out, _ = cli(capsys, "info", path, "--json")
    assert len(json.loads(out)["palette"]) == 300


def test_item14_dither_strength_needs_a_dither(capsys, tmp_path, photo):
    code, _, err = cli(capsys, "compress", photo, "--dither-strength", "0.5", "-o", tmp_path / "o")
    one_error(err, code, 2, "--dither-strength applies to a dither")
    code, _, err = cli(capsys, "compress", photo, "--dither", "fs", "--dither-strength", "0.5", "-k", "4",
                       "-o", tmp_path / "o")
    assert code == 0, err


def test_item14_a_fifo_in_a_batch_folder_is_counted_as_skipped(capsys, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    Image.fromarray(make_photo()).save(folder / "a.png")
    os.mkfifo(folder / "pipe.png")
    with no_blocking():
        code, out, err = cli(capsys, "batch", folder, "-o", tmp_path / "out", "-k", "4", "-j", "1")
    assert code == 0 and "done 1" in out and "skipped 1" in out, err
    rows = {r["path"]: r for r in json.loads((tmp_path / "out" / "manifest.json").read_text())["rows"]}
    assert rows["pipe.png"]["error"].startswith("not a regular file")


def test_item4_every_output_image_name_is_known_whatever_its_format(capsys, tmp_path):
    """WebP and GIF previews and animations are outputs too: a batch over the folder skips them."""
    from quantize.io.files import is_output_name

    assert all(map(is_output_name, ["a.preview.webp", "a.preview.gif", "clip.anim.gif",
                                    "clip.anim.webp", "A.SWATCH.PNG"]))
    assert not any(map(is_output_name, ["a.png", "preview.png", "a.previews.webp", "anim.gif"]))
    folder = tmp_path / "pics"
    folder.mkdir()
    Image.fromarray(make_photo()).save(folder / "a.png")
    code, _, err = cli(capsys, "batch", folder, "-o", folder, "--format", "qnt,webp,gif", "--force",
                       "-k", "4", "-j", "1")
    assert code == 0, err
    code, _, err = cli(capsys, "batch", folder, "-o", folder, "--format", "qnt,webp,gif", "--force",
                       "-k", "4", "-j", "1")
    assert code == 0, err
    rows = json.loads((folder / "manifest.json").read_text())["rows"]
    assert [(r["path"], r["webp_file"], r["gif_file"]) for r in rows] == [
        ("a.png", "a.preview.webp", "a.preview.gif")]  # its own outputs are no input rows
    assert not [p for p in folder.iterdir() if ".preview.preview" in p.name]


@pytest.mark.parametrize("palette", [[[300, 300, 300], [0, 0, 0]], [[-1, 0, 0]], [[np.nan, 0, 0]],
                                     [[10.5, 0, 0]]])
def test_a_fixed_palette_out_of_range_is_refused_not_wrapped(palette):
    from quantize.errors import ParameterError
    from quantize.io.images import image_from_array
    from quantize.jobs.pipeline import CompressOptions, quantize_image

    image = image_from_array(np.full((4, 4, 3), 44, np.uint8))
    with pytest.raises(ParameterError, match="palette colours must be whole numbers 0 to 255"):
        quantize_image(image, CompressOptions(palette=np.array(palette)))
    whole = quantize_image(image, CompressOptions(palette=np.array([[10.0, 20, 30], [44, 44, 44]])))
    assert whole.palette.tolist() == [[10, 20, 30], [44, 44, 44]]


@pytest.mark.parametrize("sample, noted", [(6, True), (5000, False)])
def test_a_sample_of_fewer_pixels_than_k_says_why_fewer_colours(sample, noted):
    from quantize.jobs.pipeline import quantize_image
    from quantize.io.images import image_from_array

    result = quantize_image(image_from_array(make_photo(60, 80)),
                            CompressOptions(fit=FitOptions(k=32, sample=sample, seed=0)))
    assert (result.k_used <= sample < 32) == noted
    assert any(f"a sample of {sample:,} pixels" in note for note in result.notes) == noted


def test_a_target_missed_for_a_small_sample_names_the_sample():
    """--target-psnr 40 --sample 6 said only 'raise the K limit or the target', though no K could
    pass: 6 pixels hold at most 6 colours."""
    from quantize.io.images import image_from_array
    from quantize.jobs.sweep import Target, TargetMissed, search_k

    image = image_from_array(make_photo(24, 32, seed=2))
    with pytest.raises(TargetMissed, match="a sample of 6 pixels holds at most 6 colours"):
        search_k(image, Target(psnr=40), CompressOptions(fit=FitOptions(sample=6, seed=0)),
                 max_k=32)
