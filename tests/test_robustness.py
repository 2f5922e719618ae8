"""Hostile and unusual inputs through the command line, data safety, and determinism.

Every case ends either in a correct result (exit 0, a note on stderr where something was changed)
or in exactly one error line with the documented exit code: never a traceback, never an output
left behind, never a modified input. docs/ERRORS.md lists these cases.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from PIL import Image, features

from conftest import swapped_icc_profile
from quantize.io import container
from quantize.jobs import pipeline
from quantize.cli import main

REPO = Path(__file__).resolve().parents[1]
RNG = np.random.default_rng(4)


# ------------------------------------------------------------------------------------------ helpers

def cli(capsys, *args) -> tuple[int, str, str]:
    """Run the CLI in this process; return exit code, stdout and stderr."""
    try:
        main([os.fsdecode(a) if isinstance(a, bytes) else str(a) for a in args])
    except SystemExit as exc:
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def run(*args, env: dict | None = None, **popen) -> subprocess.Popen:
    """Start ``python -m quantize`` as a real process."""
    return subprocess.Popen([sys.executable, "-m", "quantize", *map(str, args)], cwd=REPO,
                            env={**os.environ, **(env or {})}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **popen)


def assert_one_error_line(err: str, code: int, expected_code: int, *fragments: str) -> None:
    """Exactly one error line (after any notes, with no warning), the right code, no traceback."""
    lines = err.strip().splitlines()
    assert code == expected_code, err
    assert lines and all(line.startswith(("quantize: note: ", "quantize: error: ")) for line in lines), err
    assert [line for line in lines if line.startswith("quantize: error:")] == [lines[-1]], err
    for fragment in fragments:
        assert fragment in lines[-1], err


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_declaring(width: int, height: int) -> bytes:
    """A grey PNG whose header declares width x height pixels, with one row of data."""
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + _chunk(b"IDAT", zlib.compress(b"\0" * (width + 1))) + _chunk(b"IEND", b""))


def _photo(h: int = 24, w: int = 32) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    rgb = np.stack([x * 255 // (w - 1), y * 255 // (h - 1), (x * y) % 256], axis=-1)
    return (rgb + RNG.integers(0, 8, rgb.shape)).clip(0, 255).astype(np.uint8)


def _encoded(fmt: str, im: Image.Image | None = None, **options) -> bytes:
    buf = io.BytesIO()
    (im or Image.fromarray(_photo())).save(buf, fmt, **options)
    return buf.getvalue()


def _flip_bytes(data: bytes, start: int, step: int = 29) -> bytes:
    out = bytearray(data)
    for i in range(start, len(out) - 4, step):
        out[i] ^= 0x5A
    return bytes(out)


def _frames(fmt: str) -> bytes:
    frames = [Image.new("RGB", (10, 8), c) for c in [(200, 0, 0), (0, 200, 0), (0, 0, 200)]]
    return _encoded(fmt, frames[0], save_all=True, append_images=frames[1:], duration=40)


def _exif_rotated() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6
    return _encoded("JPEG", Image.fromarray(_photo(20, 30)), exif=exif, quality=95)


def _tiff16() -> bytes:
    return _encoded("TIFF", Image.fromarray(_photo()[..., 0].astype(np.uint16) * 257))


def _tiff_float() -> bytes:
    tifffile = pytest.importorskip("tifffile")
    buf = io.BytesIO()
    tifffile.imwrite(buf, RNG.random((12, 9, 3)).astype(np.float32), photometric="rgb")
    return buf.getvalue()


def _zero_width() -> bytes:
    data = _png_declaring(1, 1)
    ihdr = b"IHDR" + struct.pack(">IIBBBBB", 0, 1, 8, 0, 0, 0, 0)
    return data[:12] + ihdr + struct.pack(">I", zlib.crc32(ihdr)) + data[33:]


def _tiff_bad_first_page() -> bytes:
    data = bytearray(_encoded("TIFF"))
    data[4:8] = struct.pack("<I", 10**8)
    return bytes(data)


# ----------------------------------------------------------------------------- image inputs via CLI

def _half(fmt: str, **options) -> bytes:
    data = _encoded(fmt, **options)
    return data[:len(data) // 2]


# name -> (file content, exit code, text expected on stderr: the note, or in the error line)
FAILING: dict[str, tuple[Callable[[], bytes], int, str]] = {
    "decompression bomb": (lambda: _png_declaring(40_000, 40_000), 3, "use --allow-huge"),
    "truncated PNG": (lambda: _half("PNG"), 3, "cannot decode the image (damaged or truncated: "),
    "truncated JPEG": (lambda: _half("JPEG"), 3, "cannot decode the image (damaged or truncated: "),
    "truncated GIF": (lambda: _half("GIF"), 3, "cannot decode the image (a damaged or truncated GIF file)"),
    "GIF cut in its image data": (lambda: _encoded("GIF")[:-3], 3,
                                  "cannot decode the image (damaged or truncated: "),
    "GIF with no frames": (lambda: b"GIF89a\x08\0\x08\0\x80\0\0" + bytes(6) + b"!\xfe\x02hi\0;", 3,
                           "no frames (the GIF ends after its header)"),
    "truncated TIFF": (lambda: _half("TIFF"), 3, "truncated"),
    "TIFF cut before its tags' data": (lambda: _half("TIFF", compression="tiff_lzw"), 3,
                                       "no readable page"),
    "truncated WebP": (lambda: _half("WEBP"), 3, "cannot decode the image (damaged or truncated: "),
    "PNG with a damaged header": (lambda: _flip_bytes(_encoded("PNG"), 20), 3,
                                  "cannot decode the image (a damaged or truncated PNG file)"),
    "corrupt PNG (CRC)": (lambda: _flip_bytes(_encoded("PNG"), 60), 3, "cannot decode the image"),
    "corrupt JPEG": (lambda: _flip_bytes(_encoded("JPEG", quality=90), 400), 3, "cannot decode"),
    "corrupt GIF": (lambda: _flip_bytes(_encoded("GIF"), 800, 97), 3, "cannot decode the image"),
    "corrupt TIFF": (_tiff_bad_first_page, 3, "no readable page"),
    "zero-size PNG": (_zero_width, 3, "zero.png"),
    "empty file": (lambda: b"", 3, "is empty"),
    "not an image": (lambda: b"hello\n" * 20, 3, "not an image"),
    "HEIC photo": (lambda: struct.pack(">I", 24) + b"ftypheicmif1heic" + bytes(64), 3,
                   "zero.png is a HEIF (HEIC) image, a format quantize does not read (it reads PNG"),
    "web page saved as an image": (lambda: b"\n<!DOCTYPE html>\n<html><body>403</body></html>", 3,
                                   "zero.png is an HTML page, a format quantize does not read"),
    "SVG": (lambda: b'<?xml version="1.0"?>\n<!-- drawn -->\n<svg xmlns="http://www.w3.org/2000/svg"/>',
            3, "zero.png is an SVG drawing, a format quantize does not read"),
    "ICO": (lambda: _encoded("ICO", sizes=[(16, 16), (32, 32)]), 3,
            "zero.png is a Windows icon (ICO), a format quantize does not read"),
    "TGA of an unknown depth (its first bytes as an icon's)": (
        lambda: b"\0\0\2\0\1\0" + bytes(10) + b"\x07" + bytes(60), 3,
        "zero.png is not an image in a format quantize reads"),
}

WORKING: dict[str, tuple[Callable[[], bytes], str]] = {
    "animated GIF": (lambda: _frames("GIF"), "GIF: used frame 1 of 3"),
    "APNG": (lambda: _frames("PNG"), "APNG: used frame 1 of 3"),
    "16-bit TIFF": (_tiff16, "16-bit reduced to 8 bits"),
    "float TIFF": (_tiff_float, "32-bit float samples converted to 8 bits"),
    "CMYK JPEG": (lambda: _encoded("JPEG", Image.fromarray(_photo()).convert("CMYK")),
                  "CMYK converted to RGB"),
    "ICC profile": (lambda: _encoded("PNG", icc_profile=swapped_icc_profile()),
                    "ICC profile converted to sRGB"),
    "EXIF orientation": (_exif_rotated, "EXIF orientation applied"),
}


@pytest.mark.parametrize("case", FAILING)
def test_bad_image_one_line_and_nothing_written(tmp_path, capsys, case):
    make, expected_code, fragment = FAILING[case]
    path = tmp_path / "zero.png"
    path.write_bytes(make())
    out = tmp_path / "out"
    code, stdout, err = cli(capsys, "compress", path, "-o", out, "-k", "8")
    assert_one_error_line(err, code, expected_code, fragment, "zero.png")
    assert stdout == "" and not out.exists()


@pytest.mark.parametrize("case", WORKING)
def test_unusual_image_works_with_a_note(tmp_path, capsys, case):
    make, note = WORKING[case]
    path = tmp_path / "in.img"
    path.write_bytes(make())
    code, stdout, err = cli(capsys, "compress", path, "-o", tmp_path / "out", "-k", "8", "--json")
    assert code == 0, err
    assert f"quantize: note: {note}" in err
    report = json.loads(stdout)
    packed = container.load(report["packed_file"])
    preview = np.asarray(Image.open(report["preview_file"]).convert(packed.pixels().shape[2] == 4
                                                                    and "RGBA" or "RGB"))
    np.testing.assert_array_equal(packed.pixels(), preview)
    if case == "EXIF orientation":
        assert (report["width"], report["height"]) == (20, 30)


@pytest.mark.skipif(not features.check("avif"), reason="Pillow reads no AVIF here")
def test_an_animated_avif_is_read_by_animate_frame_by_frame(tmp_path, capsys):
    colours = [(200, 30, 30), (30, 200, 30), (30, 30, 200)]
    path = tmp_path / "clip.avif"
    Image.new("RGB", (16, 12), colours[0]).save(
        path, save_all=True, append_images=[Image.new("RGB", (16, 12), c) for c in colours[1:]],
        duration=[80, 160, 240])
    shown = []  # the lossy frames as Pillow decodes them
    with Image.open(path) as im:
        for index in range(im.n_frames):
            im.seek(index)
            shown.append(np.asarray(im.convert("RGB")))
    code, _, err = cli(capsys, "compress", path, "-o", tmp_path / "out", "-k", "8")
    assert code == 0 and "AVIF: used frame 1 of 3" in err, err
    assert "quantize animate writes every frame" in err
    code, _, err = cli(capsys, "animate", path, "-o", tmp_path / "anim", "-k", "8", "--format", "webp")
    assert code == 0, err
    with Image.open(tmp_path / "anim" / "clip.anim.webp") as written:
        assert written.n_frames == 3
        for index, pixels in enumerate(shown):
            written.seek(index)
            np.testing.assert_array_equal(np.asarray(written.convert("RGB")), pixels)
            assert written.info["duration"] == 80 * (index + 1)


@pytest.mark.parametrize("role", ["input", "output"])
def test_a_symlink_loop_is_one_line(tmp_path, capsys, role):
    (tmp_path / "a.png").symlink_to(tmp_path / "b.png")
    (tmp_path / "b.png").symlink_to(tmp_path / "a.png")
    photo = tmp_path / "photo.png"
    Image.fromarray(_photo()).save(photo)
    source, target = (tmp_path / "a.png", tmp_path / "out") if role == "input" \
        else (photo, tmp_path / "b.png")
    code, stdout, err = cli(capsys, "compress", source, "-o", target, "-k", "8")
    assert_one_error_line(err, code, 3 if role == "input" else 5, "Too many levels of symbolic links")
    assert stdout == "" and not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", [["compress", "{photo}", "-o", ""], ["compress", ""],
                                     ["animate", "{photo}", "-o", ""], ["batch", "{photo}", "-o", ""]])
def test_an_empty_path_is_refused_not_read_as_the_current_folder(tmp_path, capsys, monkeypatch,
                                                                  command):
    photo = tmp_path / "in" / "photo.png"
    photo.parent.mkdir()
    Image.fromarray(_photo()).save(photo)
    monkeypatch.chdir(tmp_path)
    code, stdout, err = cli(capsys, *(part.format(photo=photo) for part in command))
    assert_one_error_line(err, code, 2, "an empty path (an unset shell variable?)")
    assert stdout == "" and sorted(p.name for p in tmp_path.iterdir()) == ["in"]


def test_a_library_warning_is_one_line_after_the_report(tmp_path, capsys):
    """Pillow's warning on a decodable JPEG's damaged EXIF follows the run, once, in one line."""
    exif = b"Exif\0\0II*\0" + struct.pack("<IH", 8, 5) + b"\x12\x01\x03\x00"  # an IFD cut short
    data = _encoded("JPEG")
    path = tmp_path / "exif.jpg"
    path.write_bytes(data[:2] + b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif + data[2:])
    code, stdout, err = cli(capsys, "compress", path, "-o", tmp_path / "out", "-k", "8", "-q")
    assert code == 0 and stdout, err
    assert err.splitlines() == [f"quantize: warning: Corrupt EXIF data. Expecting to read 12 bytes "
                                f"but only got 4."], err


@pytest.mark.parametrize("shape", [(1, 1), (1, 97), (97, 1), (1, 250)])
@pytest.mark.parametrize("k", ["2", "256"])
def test_one_pixel_wide_or_high_images_decode_exactly(tmp_path, capsys, shape, k):
    pixels = RNG.integers(0, 256, (*shape, 3), dtype=np.uint8)
    if k == "2":
        pixels[:] = pixels[0, 0]
        pixels.reshape(-1, 3)[::3] = (9, 200, 31)
    Image.fromarray(pixels).save(tmp_path / "thin.png")
    code, stdout, err = cli(capsys, "compress", tmp_path / "thin.png", "-o", tmp_path, "-k", k, "--json")
    assert code == 0, err
    report = json.loads(stdout)
    assert report["mse"] == 0 and (report["width"], report["height"]) == shape[::-1]
    np.testing.assert_array_equal(container.load(tmp_path / "thin.qnt").pixels(), pixels)
    code, _, err = cli(capsys, "decode", tmp_path / "thin.qnt", "-o", tmp_path / "back.png")
    assert code == 0, err
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "back.png").convert("RGB")), pixels)


def test_a_newline_in_a_file_name_keeps_every_message_one_line(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "bad\nname.png").write_bytes(b"")
    code, _, err = cli(capsys, "compress", tmp_path / "in" / "bad\nname.png", "-o", tmp_path / "o")
    assert_one_error_line(err, code, 3, "bad\\nname.png is empty")
    code, _, err = cli(capsys, "batch", tmp_path / "in", "-o", tmp_path / "b")
    failed = [line for line in err.splitlines() if "name.png" in line]
    assert code == 1 and len(failed) == 1, err
    assert failed[0].startswith("quantize: failed: bad\\nname.png") and failed[0].endswith(" is empty")


def test_non_utf8_file_name(tmp_path, capsys):
    name = os.fsdecode(b"caf\xe9 \xff.png")
    Image.fromarray(_photo()).save(tmp_path / name)
    code, stdout, err = cli(capsys, "compress", tmp_path / name, "-k", "8")
    assert code == 0, err
    assert "caf\\xe9 \\xff.png" in stdout  # shown escaped, not as mojibake or an exception
    assert (tmp_path / os.fsdecode(b"caf\xe9 \xff.qnt")).exists()
    (tmp_path / name).write_bytes(b"junk")
    code, _, err = cli(capsys, "compress", tmp_path / name, "-o", tmp_path / "o")
    assert_one_error_line(err, code, 3, "caf\\xe9 \\xff.png")


def test_longest_file_name(tmp_path, capsys):
    """A 255-byte input name: the packed file's name fits, the preview's would not."""
    stem = "n" * 251
    Image.fromarray(_photo()).save(tmp_path / f"{stem}.png")
    out = tmp_path / "out"
    code, _, err = cli(capsys, "compress", tmp_path / f"{stem}.png", "-o", out, "-k", "4")
    assert_one_error_line(err, code, 5, "File name too long")
    assert not out.exists()
    code, _, err = cli(capsys, "compress", tmp_path / f"{stem}.png", "-o", out, "-k", "4", "--no-preview")
    assert code == 0, err
    assert os.listdir(out) == [f"{stem}.qnt"]


def test_decode_below_a_file_names_the_image_asked_for(tmp_path, capsys):
    Image.fromarray(_photo()).save(tmp_path / "in.png")
    code, _, err = cli(capsys, "compress", tmp_path / "in.png", "-k", "4", "-o", tmp_path / "q")
    assert code == 0, err
    (tmp_path / "o.gif").write_bytes(b"GIF89a")
    code, _, err = cli(capsys, "decode", tmp_path / "q" / "in.qnt", "-o", tmp_path / "o.gif" / "x.png")
    assert_one_error_line(err, code, 5, f"cannot write {tmp_path}/o.gif/x.png: {tmp_path}/o.gif is "
                                        f"a file, not a folder")


def test_an_output_name_longer_than_the_file_system_allows(tmp_path, capsys):
    """Every command's -o of a name too long for the file system: one line, exit 5, nothing
    written (the checks whether -o is a folder once raised an internal error, exit 70)."""
    Image.fromarray(_photo()).save(tmp_path / "in.png")
    code, _, err = cli(capsys, "compress", tmp_path / "in.png", "-k", "4", "-o", tmp_path / "q")
    assert code == 0, err
    long = tmp_path / ("n" * 300)
    for args in (("compress", tmp_path / "in.png", "-k", "4", "-o", long),
                 ("compress", tmp_path / "in.png", "-k", "4", "-o", f"{long}.png"),
                 ("decode", tmp_path / "q" / "in.qnt", "-o", f"{long}.png"),
                 ("palette", tmp_path / "in.png", "-k", "4", "-o", f"{long}.gpl"),
                 ("sweep", tmp_path / "in.png", "-k", "2,4", "-o", long),
                 ("animate", tmp_path / "in.png", "-k", "4", "-o", f"{long}.gif")):
        code, _, err = cli(capsys, *args)
        assert_one_error_line(err, code, 5, "File name too long")
    assert sorted(os.listdir(tmp_path)) == ["in.png", "q"]


def test_fifo_and_directory(tmp_path, capsys):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    start = time.perf_counter()
    code, _, err = cli(capsys, "compress", fifo, "-o", tmp_path / "o")
    assert_one_error_line(err, code, 3, "pipe.png is not a regular file")
    assert time.perf_counter() - start < 5  # did not block waiting for a writer
    code, _, err = cli(capsys, "compress", tmp_path, "-o", tmp_path / "o")
    assert_one_error_line(err, code, 3, "is a directory")
    assert sorted(os.listdir(tmp_path)) == ["pipe.png"]


# ------------------------------------------------------------------------------------- data safety

def test_input_untouched_when_output_goes_to_its_folder(tmp_path, capsys):
    source = tmp_path / "photo.png"
    Image.fromarray(_photo()).save(source)
    before = sha(source), source.stat().st_mtime_ns
    for _ in range(2):  # the second time the outputs exist and --force replaces them
        code, _, err = cli(capsys, "compress", source, "-o", tmp_path, "-k", "8", "--force")
        assert code == 0, err
    assert (sha(source), source.stat().st_mtime_ns) == before
    assert sorted(os.listdir(tmp_path)) == ["photo.png", "photo.preview.png", "photo.qnt"]


def test_an_input_named_like_an_output_is_never_overwritten(tmp_path, capsys):
    """``x.qnt`` given as input would be its own packed output: refused, even with --force."""
    source = tmp_path / "x.qnt"
    source.write_bytes(_encoded("PNG"))
    before = sha(source)
    code, _, err = cli(capsys, "compress", source, "-k", "8", "--force")
    assert_one_error_line(err, code, 5, "refusing to overwrite the input")
    assert sha(source) == before and sorted(os.listdir(tmp_path)) == ["x.qnt"]


def test_existing_outputs_replaced_only_with_force(tmp_path, capsys):
    source = tmp_path / "photo.png"
    Image.fromarray(_photo()).save(source)
    (tmp_path / "photo.preview.png").write_bytes(b"mine")
    code, _, err = cli(capsys, "compress", source, "-k", "8")
    assert_one_error_line(err, code, 5, "photo.preview.png already exists (use --force")
    assert (tmp_path / "photo.preview.png").read_bytes() == b"mine"
    assert not (tmp_path / "photo.qnt").exists()  # all or nothing: not even the packed file
    code, _, err = cli(capsys, "compress", source, "-k", "8", "--force")
    assert code == 0, err
    assert (tmp_path / "photo.preview.png").read_bytes() != b"mine"


def test_write_error_during_compress_keeps_previous_outputs(tmp_path, capsys, monkeypatch):
    source = tmp_path / "photo.png"
    Image.fromarray(_photo()).save(source)
    assert cli(capsys, "compress", source, "-k", "8")[0] == 0
    before = {name: sha(tmp_path / name) for name in ("photo.qnt", "photo.preview.png")}
    replace = os.replace

    def full_disk_on_preview(src, dst):
        if str(dst).endswith(".preview.png"):
            raise OSError(28, "No space left on device")
        replace(src, dst)

    monkeypatch.setattr(os, "replace", full_disk_on_preview)
    code, _, err = cli(capsys, "compress", source, "-k", "4", "--force")
    assert_one_error_line(err, code, 5, "No space left on device")
    assert {name: sha(tmp_path / name) for name in before} == before
    assert sorted(os.listdir(tmp_path)) == ["photo.png", "photo.preview.png", "photo.qnt"]


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs /proc to see the child working")
def test_ctrl_c_during_compress(tmp_path):
    """SIGINT while a 48-MP image is being decoded: exit 130, one line, nothing written."""
    source = tmp_path / "big.png"
    Image.new("RGB", (8000, 6000), (30, 90, 200)).save(source, compress_level=1)
    out = tmp_path / "out"
    proc = run("compress", source, "-o", out, "-k", "256")
    deadline = time.monotonic() + 60
    while proc.poll() is None and _rss_mb(proc.pid) < 120 and time.monotonic() < deadline:
        time.sleep(0.01)  # until the decoded pixels start to fill its memory
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert_one_error_line(err, proc.returncode, 130, "interrupted")
    assert not out.exists()


def test_ctrl_c_inside_a_numba_kernel_is_an_interrupt():
    """Numba reports a KeyboardInterrupt raised while it loads a kernel as a SystemError."""
    with pytest.raises(KeyboardInterrupt):
        with pipeline._Clock().stage("fit"):
            try:
                raise KeyboardInterrupt
            except KeyboardInterrupt as exc:
                raise SystemError("CPUDispatcher returned a result with an exception set") from exc
    with pytest.raises(SystemError):
        with pipeline._Clock().stage("fit"):
            raise SystemError("a genuine bug")


def test_newer_packed_version_is_refused_by_name(tmp_path, capsys):
    data = bytearray(container.encode(np.zeros((2, 3), np.uint8), np.zeros((4, 4), np.uint8)))
    data[8:10] = (container.FORMAT_VERSION + 1).to_bytes(2, "little")
    (tmp_path / "new.qnt").write_bytes(bytes(data))
    for command in (["info"], ["decode", "-o", tmp_path / "back.png"]):
        code, stdout, err = cli(capsys, command[0], tmp_path / "new.qnt", *command[1:])
        assert_one_error_line(err, code, 4, f"version {container.FORMAT_VERSION + 1} is newer")
        assert stdout == ""
    assert not (tmp_path / "back.png").exists()


@pytest.mark.parametrize("option,message", [
    (["-k", "65537"], "K must be between 1 and 65536, got 65537"),
    (["--n-init", "0"], "--n-init must be a whole number >= 1, got 0"),
    (["--max-iter", "0"], "--max-iter must be a whole number >= 1, got 0"),
    (["--tol", "-1"], "--tol must be a number >= 0, got -1.0"),
    (["--sample", "0"], "--sample must be a whole number >= 1, got 0"),
    (["--codec", "rar"], "Invalid value for '--codec'"),
])
def test_bad_option_values(tmp_path, capsys, option, message):
    source = tmp_path / "photo.png"
    source.write_bytes(_encoded("PNG"))
    code, _, err = cli(capsys, "compress", source, *option)
    assert_one_error_line(err, code, 2, message)
    assert os.listdir(tmp_path) == ["photo.png"]


def test_decode_over_an_existing_file_needs_force(tmp_path, capsys):
    packed = tmp_path / "x.qnt"
    packed.write_bytes(container.encode(np.zeros((1, 3), np.uint8), np.zeros((2, 2), np.uint8)))
    (tmp_path / "x.png").write_bytes(b"mine")
    code, _, err = cli(capsys, "decode", packed, "-o", tmp_path / "x.png")
    assert_one_error_line(err, code, 5, "already exists (use --force")
    assert (tmp_path / "x.png").read_bytes() == b"mine"
    assert cli(capsys, "decode", packed, "-o", tmp_path / "x.png", "--force")[0] == 0
    disguised = packed.rename(tmp_path / "packed.png")  # a packed file with an image's name
    code, _, err = cli(capsys, "decode", disguised, "-o", disguised, "--force")
    assert_one_error_line(err, code, 5, "refusing to overwrite the input")
    assert container.load(disguised).header.k == 1


# ------------------------------------------------------------------------------------- determinism

@pytest.mark.parametrize("image,options", [
    ("test_images/logo.png", ["-k", "32"]),
    ("test_images/parrots.png", ["-k", "64", "--sample", "5000", "--seed", "3"]),
], ids=["rgba-logo", "sample"])
def test_same_seed_same_bytes_across_runs_and_threads(tmp_path, image, options):
    procs = {threads: run("compress", REPO / image, "-o", tmp_path / threads, *options,
                          env={"NUMBA_NUM_THREADS": threads}) for threads in ("1", "2")}
    outputs = []
    for threads, proc in procs.items():
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        stem = Path(image).stem
        outputs.append([(tmp_path / threads / f"{stem}{suffix}").read_bytes()
                        for suffix in (".qnt", ".preview.png")])
    assert outputs[0] == outputs[1]
    if "logo" in image:
        assert container.load(tmp_path / "1" / "logo.qnt").header.channels == 4


PHOTO = str(Path(__file__).resolve().parents[1] / "test_images" / "parrots.png")


@pytest.mark.parametrize("call, words", [
    (lambda q: q.compress(Image.new("RGB", (0, 0)), k=8), "Pillow image has no pixels (0x0)"),
    (lambda q: q.compress(np.zeros((4, 4, 3), np.uint8), k=4, init_centers="abc"),
     "init_centers must be finite numbers"),
    (lambda q: q.compress_file(PHOTO, "o", options=q.FitOptions(k=8)),
     "options must be CompressOptions, not FitOptions"),
    # a CompressOptions has validated() too: it passed, and failed later with an AttributeError
    (lambda q: q.compress_file(PHOTO, "o", files=q.CompressOptions()),
     "files must be FileOptions, not CompressOptions"),
    # pathlib's TypeError once: "expected str, bytes or os.PathLike object, not int"
    (lambda q: q.compress_file(PHOTO, 5), "compress_file's out_dir must be a path, not int"),
    (lambda q: q.compress_file(PHOTO, out_file=["o"]),
     "compress_file's out_file must be a path, not list"),
    (lambda q: pipeline.quantize_image(q.load_image(PHOTO), q.CompressOptions(delta_e_samples=0)),
     "delta_e_samples must be a whole number >= 1, got 0"),
    (lambda q: pipeline.quantize_image(q.load_image(PHOTO), q.CompressOptions(
        dither="fs", dither_strength="1")), "dither_strength must be between 0 and 1, got '1'"),
    (lambda q: q.encode(np.zeros((2, 3), np.uint8), np.zeros((2, 2), np.uint8), codec="zstd",
                        level=3.5), "zstd level must be a whole number 1 to 22, got 3.5"),
    (lambda q: q.frames_clip([np.zeros((2, 2, 3), np.uint8)], durations=40.0),
     "durations must be whole milliseconds"),
    # an Image built by hand holds what the kernels read: values past 255 once crashed them
    (lambda q: q.compress(q.Image(np.full((4, 4, 3), 300, np.uint16)), k=2),
     "Image pixels must be an (H, W, 3) or (H, W, 4) uint8 array, not uint16 of shape (4, 4, 3)"),
    (lambda q: q.Image(np.zeros((4, 4, 3))), "not float64 of shape (4, 4, 3)"),
    (lambda q: q.Image(np.zeros((4, 4), np.uint8)), "not uint8 of shape (4, 4)"),
    (lambda q: q.Image([[0, 0, 0]]), "not a list: image_from_array converts other arrays"),
    (lambda q: q.quantize_image(np.zeros((4, 4, 3), np.uint8)),
     "quantize_image takes an Image (load_image, image_from_array or image_from_pillow make one), "
     "not ndarray"),
    (lambda q: q.compress_file(np.zeros((4, 4, 3), np.uint8), "o"),
     "compress_file's path must be a file path, not ndarray"),
    (lambda q: q.compress(""), "an image must be a file path, not an empty name"),
    # a file's bytes where its name belongs once gave os.stat's ValueError
    (lambda q: q.compress(b"\x89PNG\r\n\x1a\n\0\0"), "an image must be a file path, not a name holding "
     "a NUL byte"),
    (lambda q: q.compress_file("a\0.png", "o"), "compress_file's path must be a file path, not a "
     "name holding a NUL byte"),
    (lambda q: q.load(None), "a packed file must be a file path, not NoneType"),
    (lambda q: q.load("a\0.qnt"), "a packed file must be a file path, not a name holding a NUL"),
    (lambda q: q.load_animation(3), "a packed file must be a file path, not int"),
    (lambda q: q.decode("photo.qnt"), "decode takes a packed file's bytes, not str (load reads"),
    (lambda q: q.compress([[[0.0, 0, 0], [1, 1]]]), "an image array must be rectangular"),
    (lambda q: q.image_from_pillow(np.zeros((4, 4, 3), np.uint8)),
     "image_from_pillow takes a Pillow image, not ndarray"),
    (lambda q: q.animate([np.zeros((4, 4, 3), np.uint8)] * 2),
     "animate takes a path, a binary file object, a Clip (frames_clip makes one of frames in "
     "memory) or a ScannedClip, not list"),
    (lambda q: q.animate_file(q.frames_clip([np.zeros((4, 4, 3), np.uint8)] * 2), "o"),
     "animate_file's source (a Clip goes to animate) must be a file path, not Clip"),
])
def test_library_values_of_the_wrong_kind_are_one_parameter_error(call, words, tmp_path,
                                                                  monkeypatch):
    import quantize

    monkeypatch.chdir(tmp_path)
    with pytest.raises(quantize.ParameterError, match=re.escape(words)):
        call(quantize)
    assert not (tmp_path / "o").exists()


def test_an_output_path_holding_a_nul_is_one_parameter_error(tmp_path, monkeypatch):
    """Given to the library, a NUL in an output folder once ended in os.stat's ValueError."""
    import quantize
    from quantize.jobs.batch import Settings, run_batch

    monkeypatch.chdir(tmp_path)
    Image.fromarray(_photo(8, 8)).save("p.png")
    for call in (lambda: quantize.compress_file("p.png", "o\0"),
                 lambda: quantize.animate_file("p.png", "o\0"),
                 lambda: run_batch(["p.png"], "o\0", settings=Settings(quantize.CompressOptions()))):
        with pytest.raises(quantize.ParameterError, match=r"an output path must not hold a NUL byte: "
                                                          r".*o\\x00"):
            call()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.png"]


def test_a_pillow_image_that_cannot_load_is_one_input_error(tmp_path):
    import quantize

    path = tmp_path / "cut.jpg"
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), np.uint8)).save(
        buffer, "JPEG")
    path.write_bytes(buffer.getvalue()[:len(buffer.getvalue()) // 2])
    with pytest.raises(quantize.InputError, match=r"^Pillow image: cannot decode the image \("
                                                   r"image file is truncated"):
        quantize.compress(Image.open(path), k=4)  # Pillow opens lazily: it fails on load
    closed = Image.new("RGB", (4, 4))
    closed.close()
    with pytest.raises(quantize.InputError, match=r"Operation on closed image"):
        quantize.compress(closed, k=4)


def test_library_defaults_match_the_command_line_and_in_memory_images_compare_by_identity():
    import quantize

    assert quantize.CompressOptions().fit.k == quantize.AnimationOptions().fit.k == 256
    image = quantize.image_from_array(np.zeros((2, 2, 3), np.uint8))
    result = quantize.compress(image, k=2)
    assert image == image and image != quantize.image_from_array(image.pixels)  # no array ==
    assert len({image, result}) == 2 and result == result
    lists = quantize.compress([[[0.0, 0, 0], [1, 1, 1]]], k=2)  # nested lists are arrays
    assert lists.k == 2
    with pytest.raises(quantize.ParameterError, match=r"not int64: \.astype\(np\.uint8\) for"):
        quantize.compress(np.array([[[0, 0, 0]]]))
    dark = quantize.image_from_array(np.full((2, 2, 3), 200, np.uint16))
    assert dark.notes == ("16-bit samples all 0..255, so nearly black: 8-bit values belong in "
                          "uint8",)


def test_a_packed_file_given_as_an_image_says_what_reads_it(tmp_path):
    import quantize

    packed = tmp_path / "photo.qnt"
    packed.write_bytes(quantize.encode(np.zeros((1, 3), np.uint8), np.zeros((2, 2), np.uint8)))
    for read in (quantize.compress, quantize.animate):
        with pytest.raises(quantize.InputError, match=re.escape(
                "photo.qnt is a packed .qnt file, not an image: quantize decode (quantize.load in "
                "Python) gives its pixels back")):
            read(packed)



@pytest.mark.parametrize("extra", [(), ("--force",), ("--max-bytes", "10k"), ("--target-psnr", "30")])
def test_compress_of_a_packed_file_beside_it_says_so_not_that_it_is_the_output(capsys, tmp_path, extra):
    """`quantize compress photo.qnt` (the outputs beside it) was refused as "refusing to overwrite
    the input file photo.qnt" (exit 5): its own photo.qnt was checked before the input was read."""
    import quantize

    packed = tmp_path / "photo.qnt"
    packed.write_bytes(quantize.encode(np.zeros((1, 3), np.uint8), np.zeros((2, 2), np.uint8)))
    before = sha(packed)
    code, _, err = cli(capsys, "compress", packed, *extra)
    assert_one_error_line(err, code, 3, "photo.qnt is a packed .qnt file, not an image: quantize "
                          "decode (quantize.load in Python) gives its pixels back")
    assert sha(packed) == before and sorted(p.name for p in tmp_path.iterdir()) == ["photo.qnt"]


def test_a_bytes_path_and_big_endian_samples_are_read():
    import quantize

    assert quantize.compress(os.fsencode(PHOTO), k=8).width > 0
    wide = (np.arange(48).reshape(4, 4, 3) * 1000).astype(">u2")
    np.testing.assert_array_equal(quantize.compress(wide, k=8).indices,
                                  quantize.compress(wide.astype("<u2"), k=8).indices)


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # Pillow's, on open
def test_compress_of_a_path_lifts_its_size_guard_with_max_pixels_none(tmp_path):
    import quantize

    bomb = tmp_path / "bomb.ppm"  # a header that claims 100 megapixels
    bomb.write_bytes(b"P6\n10000 10000\n255\n")
    with pytest.raises(quantize.InputError, match="more than the limit"):
        quantize.compress(bomb, k=4)
    with pytest.raises(quantize.InputError, match="truncated"):  # read past our guard
        quantize.compress(bomb, k=4, max_pixels=None)
    with pytest.raises(quantize.ParameterError, match="not bogus"):
        quantize.compress(PHOTO, k=4, bogus=1)
