"""The command line as a user meets it: outputs, reports, exit codes, one-line errors."""

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

JSON_KEYS = {"input", "width", "height", "k", "k_used", "bits_per_pixel", "ratio", "packed_file",
             "packed_bytes", "preview_file", "mse", "psnr", "delta_e", "inertia", "n_iter", "seconds"}


def run(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m quantize`` in a fresh process, as a user would."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "quantize", *map(str, args)], capture_output=True,
                          text=True, env=full_env, cwd=cwd, timeout=300)


def files_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_compress_writes_packed_file_preview_and_json(photo_path, tmp_path):
    out = tmp_path / "out"
    proc = run("compress", photo_path, "-k", "16", "-o", out, "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert JSON_KEYS <= report.keys()
    assert files_in(out) == ["photo.preview.png", "photo.qnt"]
    assert report["k_used"] == 16 and report["bits_per_pixel"] == 4 and report["ratio"] == 6.0
    assert report["packed_file_bytes"] == (out / "photo.qnt").stat().st_size
    for fmt, name in (("qnt", "photo.qnt"), ("png", "photo.preview.png")):
        size = (out / name).stat().st_size
        assert report["files"][fmt]["ratio_vs_input"] == round(photo_path.stat().st_size / size, 4)
    packed = container.load(out / "photo.qnt")
    preview = np.asarray(Image.open(out / "photo.preview.png").convert("RGB"))
    np.testing.assert_array_equal(packed.pixels(), preview)
    original = np.asarray(Image.open(photo_path)).astype(float)
    mse = ((original - packed.pixels()) ** 2).sum(-1).mean()
    assert report["mse"] == pytest.approx(mse, rel=1e-6)
    assert report["psnr"] == pytest.approx(10 * np.log10(255 ** 2 * 3 / mse), abs=1e-4)
    # metrics and write run side by side: the stages keep the pipeline's order, and the total is
    # the call's wall time, at least the serial stages and the longer of the two
    seconds = report["seconds"]
    assert list(seconds) == ["load", "stats", "fit", "map", "metrics", "write", "total"]
    serial = sum(seconds[s] for s in ("load", "stats", "fit", "map"))
    assert serial + max(seconds["metrics"], seconds["write"]) <= seconds["total"] + 2e-3


def test_compress_process_loads_cached_kernels_lean(photo_path, tmp_path):
    """The CLI owns its process, so cached kernels load without Numba's full compiler refresh
    (see quantize.core.kernels): no array-math module, no scipy.linalg for its BLAS probe. The files
    are the same as with the refresh (run first, so the kernels are cached)."""
    def compress(out: Path, lean: str) -> str:
        proc = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "quantize", "compress", str(photo_path),
             "-k", "16", "-o", str(out)], capture_output=True, text=True, timeout=300,
            env={**os.environ, "QUANTIZE_LEAN_START": lean})
        assert proc.returncode == 0, proc.stderr
        return proc.stderr

    full = compress(tmp_path / "full", "0")
    assert "numba.np.arraymath" in full and "scipy.linalg" in full
    lean = compress(tmp_path / "lean", "1")
    assert "numba.np.arraymath" not in lean and "scipy.linalg" not in lean
    assert (tmp_path / "lean" / "photo.qnt").read_bytes() == (tmp_path / "full" / "photo.qnt").read_bytes()


def test_lean_process_still_compiles_what_is_not_cached(tmp_path):
    """After a lean load of a cached kernel, a function Numba must compile gets the full compiler
    (here np.searchsorted, from the registries the lean load skips)."""
    script = (
        "from quantize import runtime\n"
        "runtime.lean_kernel_loading()\n"
        "import numpy as np\n"
        "from numba import njit\n"
        "from quantize.core.kernels.colorstats import WORDS, distinct_rgb\n"
        "distinct_rgb(np.zeros((1, 3), np.uint8), np.zeros(WORDS, np.uint64),\n"
        "             np.empty(WORDS, np.int32), np.empty(1, np.int32), np.empty(1))\n"
        "@njit\n"
        "def where(a, v):\n"
        "    return np.searchsorted(a, v)\n"
        "print(where(np.array([1.0, 2.0, 3.0]), 2.5))\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "2"


def test_human_report_and_decode_round_trip(photo_path, tmp_path):
    out = tmp_path / "out"
    proc = run("compress", photo_path, "-k", "8", "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert "3 bits per pixel" in proc.stdout and "PSNR" in proc.stdout
    for name in ("restored.png", "restored.gif", "restored.webp"):
        restored = tmp_path / name
        proc = run("decode", out / "photo.qnt", "-o", restored)
        assert proc.returncode == 0, proc.stderr
        np.testing.assert_array_equal(np.asarray(Image.open(restored).convert("RGB")),
                                      container.load(out / "photo.qnt").pixels())
    # decode's PNG is compress's own, not a quick one (it was 32 % larger on kodim23)
    assert (tmp_path / "restored.png").read_bytes() == (out / "photo.preview.png").read_bytes()
    many = run("compress", photo_path, "-k", "1500", "-o", tmp_path / "many", "--json")
    info = json.loads(run("info", tmp_path / "many" / "photo.qnt", "--json").stdout)
    assert json.loads(many.stdout)["k_used"] > 1024 and info["k"] > 1024  # past cm's range
    assert json.loads(many.stdout)["codec"] == info["codec"] == "zstd"  # the codec written
    refused = run("decode", tmp_path / "many" / "photo.qnt", "-o", tmp_path / "gif" / "x.gif")
    assert refused.returncode == 2 and "at most 256 colours" in refused.stderr
    assert not (tmp_path / "gif").exists()
    info = run("info", out / "photo.qnt", "--json")
    assert json.loads(info.stdout)["k"] == 8
    wide = tmp_path / "wide.qnt"  # past WebP's 16,383 pixels a side: refused as --format webp is
    wide.write_bytes(container.encode(np.zeros((2, 3), np.uint8), np.zeros((2, 16_384), np.uint8)))
    refused = run("decode", wide, "-o", tmp_path / "webp" / "x.webp")
    assert refused.returncode == 2 and "at most 16383 pixels a side" in refused.stderr
    assert not (tmp_path / "webp").exists()


@pytest.mark.parametrize("args, words", [
    (("--codec", "zstd", "--format", "png"), "--codec applies to --format qnt, which is not written"),
    (("--png-effort", "3", "--format", "qnt"), "--png-effort applies to --format png"),
    (("--webp-method", "6"), "--webp-method applies to --format webp"),
    (("--raw-bit-order", "lsb", "--raw-rows", "packed"),
     "--raw-bit-order and --raw-rows apply to --format raw"),
    (("--rgb565-endian", "big", "--format", "qnt,raw"), "--rgb565-endian applies to --format rgb565"),
    # the header takes these too: naming raw alone sent a user after the wrong file
    (("--raw-bit-order", "lsb", "--format", "qnt"),
     "--raw-bit-order applies to --format raw or c, neither of which is written"),
    # the firmware files are a fixed size a pixel: the repeats it makes only cost quality
    (("--rdo", "auto", "--format", "raw,c,rgb565"),
     "--rdo applies to --format qnt, png, webp or gif, none of which is written"),
])
def test_an_option_for_a_format_not_written_is_refused(photo_path, tmp_path, args, words):
    """They were ignored silently: a user believed the file was written as asked."""
    refused = run("compress", photo_path, "-k", "8", "-o", tmp_path / "o", *args)
    assert refused.returncode == 2 and words in refused.stderr
    assert not (tmp_path / "o").exists()


def test_webp_method_reaches_the_webp_and_keeps_its_pixels(photo_path, tmp_path):
    sizes = {}
    for method in ("0", "6"):
        out = tmp_path / method
        done = run("compress", photo_path, "-k", "16", "-o", out, "--format", "webp,png",
                   "--webp-method", method, "--json")
        assert done.returncode == 0, done.stderr
        sizes[method] = json.loads(done.stdout)["files"]["webp"]["bytes"]
        webp = np.asarray(Image.open(out / "photo.preview.webp").convert("RGB"))
        assert np.array_equal(webp, np.asarray(Image.open(out / "photo.preview.png").convert("RGB")))
    assert sizes["6"] < sizes["0"]


def test_no_preview_drops_the_png_and_refuses_to_leave_nothing(photo_path, tmp_path):
    done = run("compress", photo_path, "-k", "8", "-o", tmp_path / "a", "--no-preview")
    assert done.returncode == 0 and sorted(p.name for p in (tmp_path / "a").iterdir()) == ["photo.qnt"]
    refused = run("compress", photo_path, "-k", "8", "-o", tmp_path / "b", "--format", "png",
                  "--no-preview")
    assert refused.returncode == 2 and "leaves nothing to write" in refused.stderr
    assert not (tmp_path / "b").exists()


def test_existing_output_needs_force(photo_path, tmp_path):
    out = tmp_path / "out"
    assert run("compress", photo_path, "-k", "4", "-o", out).returncode == 0
    before = (out / "photo.qnt").read_bytes()
    again = run("compress", photo_path, "-k", "8", "-o", out)
    assert again.returncode != 0 and "--force" in again.stderr
    assert (out / "photo.qnt").read_bytes() == before
    assert run("compress", photo_path, "-k", "8", "-o", out, "--force").returncode == 0
    assert (out / "photo.qnt").read_bytes() != before


def test_few_colours_are_kept_exactly(tmp_path):
    img = np.zeros((10, 13, 3), np.uint8)
    img[:, 5:] = (10, 200, 30)
    img[3:6] = (255, 255, 255)
    Image.fromarray(img).save(tmp_path / "flat.png")
    proc = run("compress", tmp_path / "flat.png", "-k", "64", "-o", tmp_path, "--json")
    report = json.loads(proc.stdout)
    assert report["k_used"] == 3 and report["mse"] == 0 and report["bits_per_pixel"] == 2
    np.testing.assert_array_equal(container.load(tmp_path / "flat.qnt").pixels(), img)


def test_a_grey_input_counts_its_raw_pixels_as_a_byte_each(tmp_path):
    grey = np.add.outer(np.arange(12), np.arange(20)).astype(np.uint8) * 9
    Image.fromarray(grey).save(tmp_path / "grey.png")
    human = run("compress", tmp_path / "grey.png", "-k", "4", "-o", tmp_path / "h")
    assert human.returncode == 0, human.stderr
    assert "raw 240 B" in human.stdout and "classic ratio 4.00x = 8/2" in human.stdout
    report = json.loads(run("compress", tmp_path / "grey.png", "-k", "4", "-o", tmp_path / "j",
                            "--json").stdout)
    assert (report["raw_channels"], report["raw_bytes"], report["ratio"]) == (1, 240, 4.0)
    assert report["channels"] == 3  # the palette's colours stay RGB


def test_same_seed_same_bytes_whatever_the_threads(photo_path, tmp_path):
    outputs = []
    for threads in ("1", "2"):
        out = tmp_path / f"t{threads}"
        proc = run("compress", photo_path, "-k", "32", "--seed", "7", "-o", out,
                   env={"NUMBA_NUM_THREADS": threads})
        assert proc.returncode == 0, proc.stderr
        outputs.append(((out / "photo.qnt").read_bytes(), (out / "photo.preview.png").read_bytes()))
    assert outputs[0] == outputs[1]


def _bad_inputs(tmp_path: Path, photo_path: Path) -> dict[str, list]:
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "text.png").write_text("not an image\n")
    data = photo_path.read_bytes()
    (tmp_path / "truncated.png").write_bytes(data[: len(data) // 2])
    Image.fromarray(np.zeros((40, 40, 3), np.uint8) + 90).save(tmp_path / "x.jpg", quality=90)
    jpg = (tmp_path / "x.jpg").read_bytes()
    (tmp_path / "truncated.jpg").write_bytes(jpg[: len(jpg) // 2])
    (tmp_path / "bad.qnt").write_bytes(b"\x89QNT\r\n\x1a\n" + b"\0" * 40)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    return {
        "missing file": ["compress", tmp_path / "nope.png"],
        "a directory": ["compress", tmp_path],
        "empty file": ["compress", tmp_path / "empty.png"],
        "not an image": ["compress", tmp_path / "text.png"],
        "truncated png": ["compress", tmp_path / "truncated.png"],
        "truncated jpeg": ["compress", tmp_path / "truncated.jpg"],
        "K = 0": ["compress", photo_path, "-k", "0"],
        "K too large": ["compress", photo_path, "-k", "65537"],
        "K not a number": ["compress", photo_path, "-k", "many"],
        "unwritable output": ["compress", photo_path, "-o", locked / "sub"],
        "corrupt packed file": ["decode", tmp_path / "bad.qnt", "-o", tmp_path / "r.png"],
        "truncated packed file": ["info", tmp_path / "bad.qnt"],
    }


def test_bad_input_one_line_nonzero_nothing_written(tmp_path, photo_path):
    out = tmp_path / "out"
    for name, args in _bad_inputs(tmp_path, photo_path).items():
        if args[0] == "compress" and "-o" not in args:
            args = [*args, "-o", out]
        if name == "unwritable output" and os.geteuid() == 0:
            continue  # root writes anywhere; covered by the test below
        proc = run(*args)
        assert proc.returncode != 0, name
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("quantize: error:"), (name, proc.stderr)
        assert "Traceback" not in proc.stderr
        assert files_in(out) == [], name
    assert not (tmp_path / "r.png").exists()


def test_output_folder_that_is_a_file(tmp_path, photo_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    proc = run("compress", photo_path, "-o", blocker / "sub")
    assert proc.returncode == 5 and len(proc.stderr.strip().splitlines()) == 1


def test_help_and_version():
    assert run("--version").stdout.startswith("quantize, version")
    for cmd in ("compress", "decode", "info"):
        proc = run(cmd, "--help")
        assert proc.returncode == 0 and "Usage:" in proc.stdout


def test_help_gives_each_command_its_own_k_limit():
    """An animation's K ends at GIF's 256 colours, a still's at 65536."""
    for cmd, limit in (("compress", 65536), ("batch", 65536), ("animate", 256)):
        help_text = " ".join(run(cmd, "--help").stdout.split())
        assert f"Palette size K (1 to {limit})" in help_text, cmd


def test_animate_help_names_the_psnr_its_target_judges():
    """animate's --target-psnr judges the PSNR of the frames' mean squared error, not the mean of
    their PSNRs that its report gives first; a still's is the one PSNR."""
    help_text = " ".join(run("animate", "--help").stdout.split())
    assert ("the smallest K whose clip PSNR (of the mean squared error over the frames) is at "
            "least DB") in help_text
    assert "whose means over the frames" not in help_text
    compress_help = " ".join(run("compress", "--help").stdout.split())
    assert "the smallest K whose PSNR is at least DB" in compress_help


@pytest.mark.parametrize("delay", [0.8, 1.4, 2.0])
def test_ctrl_c_at_any_stage_is_one_line_and_leaves_nothing(tmp_path, delay):
    """SIGINT at different moments (loading kernels, fitting, mapping): exit 130, one line."""
    import signal
    import time

    from conftest import make_photo

    source = tmp_path / "noisy.png"
    Image.fromarray(make_photo(1200, 1600, seed=3)).save(source, compress_level=1)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "quantize", "compress", str(source), "-k", "256",
                             "-o", str(out)], stderr=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    time.sleep(delay)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    if proc.returncode == 0:
        pytest.skip("the run finished before the signal")
    assert proc.returncode == 130, err
    assert err.strip().splitlines() == ["quantize: error: interrupted"]
    assert files_in(out) == [] and not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


def test_compress_of_an_animation_reports_its_file_but_no_ratio_to_it(tmp_path):
    """The first frame of an animated GIF is compressed: the report gives the file's size and
    frames, and no ratio of one frame's output to the bytes of all of them."""
    frames = [Image.new("RGB", (24, 16), c) for c in ((200, 10, 10), (10, 200, 10), (10, 10, 200))]
    path = tmp_path / "clip.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    proc = run("compress", path, "-k", "4", "-o", tmp_path / "out", "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert (report["input_bytes"], report["input_frames"]) == (path.stat().st_size, 3)
    assert report["ratio_file_vs_input"] is None and report["ratio_file_vs_raw"] > 0
    assert all(file["ratio_vs_input"] is None for file in report["files"].values())
    text = run("compress", path, "-k", "4", "-o", tmp_path / "text").stdout
    assert f"{path.stat().st_size:,} B on disk (frame 1 of 3)" in text and "vs input" not in text


def test_compress_of_a_multi_page_tiff_reports_the_page_it_used(tmp_path):
    """A TIFF's pages are no frames: its report said '(3 frames)' beside the note 'TIFF: used
    page 1 of 3'."""
    pages = [Image.new("RGB", (24, 16), c) for c in ((200, 10, 10), (10, 200, 10), (10, 10, 200))]
    path = tmp_path / "scan.tif"
    pages[0].save(path, save_all=True, append_images=pages[1:])
    proc = run("compress", path, "-k", "4", "-o", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    assert f"{path.stat().st_size:,} B on disk (page 1 of 3)" in proc.stdout
    assert "frame" not in proc.stdout and "vs input" not in proc.stdout


def test_decode_and_info_take_quiet_as_compress_does(photo_path, tmp_path):
    """`quantize decode x.qnt -o y.png -q` was a usage error: the compile note could not be hushed."""
    assert run("compress", photo_path, "-k", "8", "-o", tmp_path, "-q").returncode == 0
    done = run("decode", tmp_path / "photo.qnt", "-o", tmp_path / "back.png", "-q")
    assert done.returncode == 0 and done.stderr == "", done.stderr
    done = run("info", tmp_path / "photo.qnt", "--quiet")
    assert done.returncode == 0 and done.stderr == "" and "photo.qnt" in done.stdout


@pytest.mark.parametrize("name", ["SIGTERM", "SIGHUP", "SIGINT"])
def test_a_signal_during_compress_write_is_one_line_and_leaves_nothing(tmp_path, name):
    """SIGTERM (``kill``) or SIGHUP ends a compress as Ctrl-C does while its outputs are being
    written (held there by a slowed fsync, so the signal lands in the write): the temporaries
    removed, nothing written, one line, exit code 128 + the signal's number."""
    import signal
    import time

    from conftest import make_photo

    if not hasattr(signal, name):
        pytest.skip(f"no {name} on this platform")
    signum = getattr(signal, name)
    source = tmp_path / "big.png"
    Image.fromarray(make_photo(1200, 1600, seed=3)).save(source, compress_level=1)
    out, writing = tmp_path / "out", tmp_path / "writing"
    hold = (f"import runpy, time\nfrom quantize.io import files\nsync = files._sync\n"
            f"def held(fh):\n    sync(fh)\n    open({str(writing)!r}, 'w').close()\n"
            f"    time.sleep(120)\nfiles._sync = held\n"
            f"runpy.run_module('quantize', run_name='__main__')\n")
    proc = subprocess.Popen([sys.executable, "-c", hold, "compress", str(source), "-k", "64",
                             "-o", str(out)], stderr=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    while not writing.exists() and proc.poll() is None:
        time.sleep(0.05)
    assert [p.name for p in out.iterdir() if p.name.endswith(".part")]  # caught in the write
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=120)
    assert err.splitlines() == [f"quantize: error: interrupted{'' if name == 'SIGINT' else ' by ' + name}"]
    assert proc.returncode == 128 + signum
    assert files_in(out) == []


def test_compress_o_named_as_no_format_says_which_file_names_it_takes(photo_path, tmp_path):
    """`compress photo.png -o small.jpg` said "-o takes a folder, not a file name", though -o
    small.png writes that one file (as pngquant's and cwebp's -o): the line now names the endings
    -o takes, and a .png so named is written."""
    proc = run("compress", photo_path, "-o", tmp_path / "small.jpg", cwd=tmp_path)
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1
    assert "or one file ending .qnt, .png, .webp, .gif, .h, .raw or .rgb565" in proc.stderr
    assert run("compress", photo_path, "-k", "4", "-o", tmp_path / "small.png", "-q").returncode == 0
    assert files_in(tmp_path) == ["photo.png", "small.png"]

def test_an_output_folder_named_as_an_input_file_is_refused(photo_path, tmp_path):
    """`compress photo.png -o small.jpg` made a folder small.jpg holding photo.qnt and
    photo.preview.png; `-o -` made a folder named '-'; sweep's -o is always a folder."""
    for args in (("compress", photo_path, "-o", tmp_path / "small.jpg"),
                 ("compress", photo_path, "-o", "-"),
                 ("sweep", photo_path, "-k", "2,4", "-o", tmp_path / "report.html"),
                 # batch made a folder sprites.c of headers
                 ("batch", photo_path, "--format", "c", "-o", tmp_path / "sprites.c")):
        proc = run(*args, cwd=tmp_path)
        assert proc.returncode == 2, args
        assert "-o takes a folder" in proc.stderr and len(proc.stderr.splitlines()) == 1
        assert files_in(tmp_path) == ["photo.png"], args
    (tmp_path / "icons.png").mkdir()  # an existing folder is taken whatever its name
    for folder in ("icons.png", "v1.0"):
        assert run("compress", photo_path, "-k", "4", "-o", tmp_path / folder, "-q").returncode == 0
        assert files_in(tmp_path / folder) == ["photo.preview.png", "photo.qnt"]


def test_compress_o_named_as_a_firmware_file_is_refused(photo_path, tmp_path):
    """`compress photo.png -o logo.c` (or splash.bin) made a folder of that name holding photo.qnt
    and photo.preview.png; the line now points at the header and raw files compress writes."""
    for name in ("logo.c", "splash.bin", "lcd.HPP"):
        proc = run("compress", photo_path, "-k", "4", "-o", tmp_path / name, cwd=tmp_path)
        assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1, proc.stderr
        stem = name.split(".")[0]
        assert f"-o {stem}.h writes the C header, -o {stem}.raw the raw buffer" in proc.stderr
        assert files_in(tmp_path) == ["photo.png"]
    assert run("compress", photo_path, "-k", "4", "-o", f"{tmp_path / 'logo.c'}/", "-q").returncode == 0
    assert files_in(tmp_path / "logo.c") == ["photo.preview.png", "photo.qnt"]


def test_compress_o_named_as_a_palette_file_is_refused(photo_path, tmp_path):
    """`compress photo.png -o v.gpl` made a folder v.gpl holding photo.qnt and photo.preview.png;
    the line now points at the commands that write a palette file."""
    for name, fmt in (("v.gpl", "gpl"), ("brand.theme.css", "tailwind"), ("v.pal", "jasc")):
        proc = run("compress", photo_path, "-k", "4", "-o", tmp_path / name, cwd=tmp_path)
        assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1, proc.stderr
        assert f"{name}: compress names its files after the input" in proc.stderr
        assert f"--export-palette {fmt}, or use quantize palette -o {name}" in proc.stderr
        assert files_in(tmp_path) == ["photo.png"]
    assert run("compress", photo_path, "-k", "4", "-o", f"{tmp_path / 'v.gpl'}/", "-q").returncode == 0
    assert files_in(tmp_path / "v.gpl") == ["photo.preview.png", "photo.qnt"]


@pytest.mark.parametrize("command", ["batch", "sweep", "animate"])
def test_o_named_as_a_palette_file_is_refused_by_the_folder_commands(photo_path, tmp_path, command):
    """`batch photo.png -o v.gpl` and `sweep photo.png -o v.gpl` made a folder v.gpl; they, and
    animate, now point at quantize palette, as compress does (without its --export-palette)."""
    proc = run(command, photo_path, "-k", "4", "-o", "v.gpl", cwd=tmp_path)
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1, proc.stderr
    assert "not a file name such as v.gpl: " in proc.stderr
    assert "; for a palette file use quantize palette -o v.gpl" in proc.stderr
    assert files_in(tmp_path) == ["photo.png"]


@pytest.mark.parametrize("command", ["batch", "sweep", "animate"])
def test_o_ending_in_a_slash_is_a_folder_whatever_its_name(photo_path, tmp_path, command):
    """As compress's and palette's -o v.gpl/: batch's and sweep's -o took the name without its
    slash (a Path), and animate's too, so v.gpl/ was refused as a palette file's name."""
    proc = run(command, photo_path, "-k", "4", "-o", "v.gpl/", "-q", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "v.gpl").is_dir() and files_in(tmp_path / "v.gpl")


@pytest.mark.parametrize("name", ["-", "out.png", "out.qnt"])
def test_batch_o_named_as_a_file_or_standard_output_is_refused(photo_path, tmp_path, name):
    """`batch photo.png -o -` made a folder named '-' (and -o out.png one named out.png): batch's
    -o is always a folder, so a file's name is refused, an existing folder taken."""
    proc = run("batch", photo_path, "-k", "4", "-o", name, cwd=tmp_path)
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1, proc.stderr
    assert "-o takes a folder, not " in proc.stderr and "batch mirrors the input tree" in proc.stderr
    assert files_in(tmp_path) == ["photo.png"]
    (tmp_path / name).mkdir()
    assert run("batch", photo_path, "-k", "4", "-o", name, "-q", cwd=tmp_path).returncode == 0
    assert "photo.qnt" in files_in(tmp_path / name)


@pytest.mark.parametrize("args, name", [(("palette",), "x.gpl"), (("palette", "brand.gpl"), "x.ase"),
                                        (("animate",), "x.gif"), (("compress",), "x.gif")])
def test_o_naming_one_file_below_a_file_names_that_file(photo_path, tmp_path, args, name):
    """palette's and animate's -o o.gif/x.gpl said "output folder o.gif is a file, not a folder",
    as if a folder had been asked for; compress already named the file asked for."""
    (tmp_path / "o.gif").write_bytes(b"GIF89a")
    (tmp_path / "brand.gpl").write_text("GIMP Palette\nName: brand\n#\n255 0 0 red\n")
    command, *palette_file = args
    proc = run(command, *(palette_file or [photo_path]), "-o", f"o.gif/{name}", cwd=tmp_path)
    assert proc.returncode == 5, proc.stderr
    assert proc.stderr == f"quantize: error: cannot write o.gif/{name}: o.gif is a file, not a folder\n"


def test_o_naming_one_formats_file_writes_that_file_alone(photo_path, tmp_path):
    """As pngquant's and cwebp's -o: `-o small.png` is the PNG (it was refused, and before that
    made a folder small.png); a C header takes its arrays' names from the file's."""
    assert run("compress", photo_path, "-k", "8", "-o", tmp_path / "small.png", "-q").returncode == 0
    assert files_in(tmp_path) == ["photo.png", "small.png"]
    with Image.open(tmp_path / "small.png") as png:
        assert len(png.getcolors()) <= 8
    proc = run("compress", photo_path, "-k", "8", "-o", tmp_path / "fw" / "logo.h", "--format",
               "c", "--export-palette", "gpl", "-q")
    assert proc.returncode == 0, proc.stderr
    assert files_in(tmp_path / "fw") == ["logo.gpl", "logo.h"]
    assert b"logo_indices[" in (tmp_path / "fw" / "logo.h").read_bytes()
    proc = run("compress", photo_path, "-o", tmp_path / "fit.qnt", "--max-bytes", "2k", "-q")
    assert proc.returncode == 0 and (tmp_path / "fit.qnt").stat().st_size <= 2000


@pytest.mark.parametrize("formats", ["qnt,png", "webp"])
def test_o_naming_a_file_of_other_formats_is_refused(photo_path, tmp_path, formats):
    proc = run("compress", photo_path, "-o", tmp_path / "small.png", "--format", formats,
               cwd=tmp_path)
    assert proc.returncode == 2 and "names one png file, but --format" in proc.stderr
    assert len(proc.stderr.splitlines()) == 1 and files_in(tmp_path) == ["photo.png"]


def test_several_inputs_to_a_one_input_command_name_batch(photo_path, tmp_path):
    """`quantize compress *.png` (as pngquant takes it) was click's "Got unexpected extra argument
    (b.png)"; compress and sweep now say they take one INPUT and that batch takes several, decode
    that each file takes its own -o."""
    for command in ("compress", "sweep"):
        proc = run(command, photo_path, photo_path, "-o", tmp_path / "out")
        assert proc.returncode == 2 and f"{command} takes one INPUT, not 2: " in proc.stderr
        assert "quantize batch takes several images" in proc.stderr
        assert len(proc.stderr.splitlines()) == 1
    assert not (tmp_path / "out").exists()
    assert run("compress", photo_path, "-k", "2", "--format", "qnt", "-o", tmp_path,
               "-q").returncode == 0
    packed = tmp_path / "photo.qnt"
    proc = run("decode", packed, packed, "-o", tmp_path / "back.png")
    assert proc.returncode == 2 and "decode takes one PACKED file, not 2: decode each with its own -o" \
        in proc.stderr and not (tmp_path / "back.png").exists()



def test_several_inputs_are_named_before_a_missing_o(photo_path, tmp_path):
    """`quantize decode *.qnt` and an unquoted `quantize animate frames/*.png`, without -o, said
    only "Missing option '-o'", and once -o was added, that the inputs were several."""
    assert run("compress", photo_path, "-k", "2", "--format", "qnt", "-o", tmp_path,
               "-q").returncode == 0
    packed = tmp_path / "photo.qnt"
    proc = run("decode", packed, packed)
    assert proc.returncode == 2 and "decode takes one PACKED file, not 2: decode each with its own -o" \
        in proc.stderr and len(proc.stderr.splitlines()) == 1
    proc = run("animate", photo_path, photo_path)
    assert proc.returncode == 2 and "one INPUT, got 2" in proc.stderr and "quote a glob" in proc.stderr
    assert len(proc.stderr.splitlines()) == 1
    for command in ("decode", "animate"):  # one input and no -o: still click's missing option
        proc = run(command, packed if command == "decode" else photo_path)
        assert proc.returncode == 2 and "Missing option '-o' / '--output'" in proc.stderr


def test_info_takes_several_packed_files(photo_path, tmp_path):
    """`quantize info out/*.qnt` was click's "Got unexpected extra argument"; each file's header
    is now shown (a JSON list of them with --json), every file checked before any is shown."""
    for k in (4, 8):
        assert run("compress", photo_path, "-k", k, "--format", "qnt", "-o", tmp_path / f"k{k}",
                   "-q").returncode == 0
    packed = [tmp_path / "k4" / "photo.qnt", tmp_path / "k8" / "photo.qnt"]
    shown = run("info", *packed)
    assert shown.returncode == 0, shown.stderr
    blocks = shown.stdout.split("\n\n")
    assert len(blocks) == 2 and [b.splitlines()[0].split()[-1] for b in blocks] == list(map(str, packed))
    listed = json.loads(run("info", *packed, "--json").stdout)
    assert [header["k"] for header in listed] == [4, 8]
    assert json.loads(run("info", packed[0], "--json").stdout)["k"] == 4  # one file: one object
    (tmp_path / "bad.qnt").write_bytes(packed[0].read_bytes()[:-3])
    refused = run("info", packed[0], tmp_path / "bad.qnt")
    assert refused.returncode == 4 and refused.stdout == "" and "bad.qnt" in refused.stderr


def test_compress_of_a_video_names_animate(tmp_path):
    video = tmp_path / "talk.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(500))
    proc = run("compress", video, "-o", tmp_path / "out")
    assert proc.returncode == 3 and proc.stderr.count("\n") == 1, proc.stderr
    assert "is a video (MP4 or QuickTime), not an image: quantize animate" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_the_report_says_every_colour_was_kept_where_nothing_was_fitted(photo_path, tmp_path):
    """An image of fewer colours than K keeps exactly its colours, yet the palette line said
    "fitted in rgb+lab" beside PSNR inf and 0 iterations; a fit that loses colours still says so."""
    from quantize.core.fitting import FitOptions
    from quantize.jobs.pipeline import CompressOptions, compress_file
    from quantize.render.report import format_report

    flat = np.zeros((8, 8, 3), np.uint8)
    flat[:, 4:] = (200, 30, 40)
    Image.fromarray(flat).save(tmp_path / "flat.png")
    for path, k, says in ((tmp_path / "flat.png", 16, "(every colour kept, none fitted)"),
                          (photo_path, 4, "(fitted in rgb+lab)")):
        result = compress_file(path, tmp_path / "o", options=CompressOptions(fit=FitOptions(k=k)))
        palette_line = format_report(result).splitlines()[1]
        assert palette_line.endswith(says), palette_line


def test_a_gif_of_a_full_palette_and_transparent_pixels_says_why_257(tmp_path):
    """A --palette of 256 colours on an image with transparent pixels and --format gif failed
    with "GIF holds at most 256 colours, got K=257": the user gave 256. The line now says the
    transparent pixels' entry makes the 257th and what to do."""
    rgba = np.zeros((16, 16, 4), np.uint8)
    rgba[4:12, 4:12] = (200, 30, 40, 255)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "icon.png")
    palette = np.stack([np.arange(256), np.arange(256)[::-1], np.full(256, 7)], -1).astype(np.uint8)
    (tmp_path / "p.hex").write_text("".join(f"{bytes(c).hex()}\n" for c in palette))
    proc = run("compress", tmp_path / "icon.png", "--palette", tmp_path / "p.hex", "--format", "gif",
               "-o", tmp_path / "o")
    assert proc.returncode == 2 and proc.stderr.splitlines() == [
        "quantize: error: GIF holds at most 256 colours: the palette's 256 colours and the "
        "transparent pixels' entry make 257: give a palette of at most 255, or --drop-unused"]
    assert not (tmp_path / "o").exists()
    assert run("compress", tmp_path / "icon.png", "--palette", tmp_path / "p.hex", "--format", "gif",
               "-o", tmp_path / "o", "--drop-unused", "-q").returncode == 0


def test_the_report_says_a_k_a_search_picked_was_picked_not_asked(photo_path, tmp_path):
    """With --max-bytes or a quality target the palette line read "K 5 asked" for the K the
    search chose, under -k 256 (or none) asked; with -q, which hides the pick's note, the user
    could not tell. It now says which search picked it; a plain -k still reads "asked"."""
    for option, value, says in (("--max-bytes", "900", "picked by the budget"),
                                ("--target-psnr", "25", "picked by the target"),
                                ("-k", "4", "K 4 asked")):
        proc = run("compress", photo_path, option, value, "-o", tmp_path / option, "-q")
        assert proc.returncode == 0, proc.stderr
        assert says in proc.stdout.splitlines()[1], proc.stdout


def test_compress_o_ending_in_a_slash_is_a_folder_whatever_its_name(photo_path, tmp_path):
    """`-o out.png/` wrote one file out.png, and `-o shots.jpg/` was refused as a file name,
    though the slash says a folder (as cp and rsync read it): both are now folders, made as a
    missing -o folder is, holding the files named after the input."""
    for folder in ("out.png", "shots.jpg"):
        proc = run("compress", photo_path, "-k", "4", "-o", f"{tmp_path / folder}{os.sep}", "-q")
        assert proc.returncode == 0, proc.stderr
        assert files_in(tmp_path / folder) == ["photo.preview.png", "photo.qnt"]
