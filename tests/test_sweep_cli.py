"""``quantize sweep`` and ``compress --target-*`` as a user meets them, and report.html in Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from conftest import make_photo
from test_cli import JSON_KEYS, files_in, run

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


def test_default_sweep_json(photo_path):
    proc = run("sweep", photo_path, "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    rows = doc["rows"]
    assert [r["k"] for r in rows] == [2, 4, 8, 16, 32, 64, 128, 256]
    assert all(JSON_KEYS | {"silhouette", "png_bytes"} <= r.keys() for r in rows)
    assert [(r["bits_per_pixel"], r["ratio"]) for r in rows[1:7]] == [
        (2, 12.0), (3, 8.0), (4, 6.0), (5, 4.8), (6, 4.0), (7, 3.4286)]
    # issue 26, item 12: the picks are in the JSON itself (not only on stderr, which -q silences)
    assert doc["picks"]["elbow"]["k"] in [r["k"] for r in rows] and doc["picks"]["elbow"]["reason"]
    assert doc["picks"]["silhouette"]["k"] in [r["k"] for r in rows] and doc["picks"]["target"] is None
    quiet = run("sweep", photo_path, "--json", "-q", "-k", "2,4,8")
    assert json.loads(quiet.stdout)["picks"]["elbow"]["reason"] and quiet.stderr == ""
    assert "\r" not in proc.stderr  # no progress bar when stderr is not a terminal


def test_missed_target_keeps_table_and_report_and_says_which(photo_path, tmp_path):
    """Issue 26, item 12: an unreachable --target-psnr keeps the table and the -o files."""
    out = tmp_path / "out"
    proc = run("sweep", photo_path, "-k", "2,4", "--target-psnr", "90", "-o", out, "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert [r["k"] for r in doc["rows"]] == [2, 4] and doc["picks"]["target"]["k"] is None
    assert "no K up to 4 meets PSNR >= 90 dB" in doc["picks"]["target"]["reason"]
    assert (out / "report.html").is_file()


def test_table_pictures_csv_and_target(photo_path, tmp_path):
    out = tmp_path / "sweep"
    proc = run("sweep", photo_path, "-k", "16,4,8,4", "-o", out, "--csv", out / "table.csv",
               "--target-psnr", "20")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    found = re.search(r"^target: K=(\d+) \(the smallest K with PSNR >= 20 dB: PSNR", proc.stdout,
                      re.M)
    ks = sorted({4, 8, 16, int(found[1])})  # the target's K has its row too
    assert [line.split()[0] for line in lines[1:len(ks) + 1]] == [str(k) for k in ks]
    assert files_in(out) == [*(f"k{k:04d}.preview.png" for k in ks),
                             "report.html", "sweep.chart.png", "sweep.sheet.png", "table.csv"]


def test_picks_table_csv_and_notes_of_a_small_transparent_image(tmp_path):
    import numpy as np

    pixels = np.zeros((2, 4, 4), np.uint8)  # two visible colours, four transparent pixels
    pixels[:, :2] = [[255, 0, 0, 255], [0, 0, 255, 255]]
    Image.fromarray(pixels, "RGBA").save(tmp_path / "t.png")
    proc = run("sweep", tmp_path / "t.png", "-k", "2,4,8,16")
    assert proc.returncode == 0, proc.stderr
    # the picks' K uses fewer colours; the silhouette's sample is the image's 8 pixels
    assert re.search(r"^elbow: K=4 \(.*; it uses 3 colours\)$", proc.stdout, re.M), proc.stdout
    assert "on a 8-pixel RGBA sample" in proc.stdout
    assert "4 fully transparent pixels share the transparent palette entry" in proc.stderr
    table = run("sweep", tmp_path / "t.png", "-k", "2,4,8,16", "--csv", "-", "-q", cwd=tmp_path)
    assert table.stdout.splitlines()[0].startswith("input,") and len(table.stdout.splitlines()) == 5
    assert not (tmp_path / "-").exists()
    both = run("sweep", tmp_path / "t.png", "--csv", "-", "--json")
    assert both.returncode == 2 and "--csv - and --json both print to stdout" in both.stderr


@pytest.mark.parametrize("args, message", [
    (["-k", ""], "-k is empty"),
    (["-k", "0,4"], "out of range"),
    (["-k", "4;8"], "cannot read"),
    (["-k", "9-15"], "no power of two"),
    (["--target-delta-e", "-1"], "--target-delta-e must be >= 0"),
])
def test_bad_input_is_one_line_and_writes_nothing(photo_path, tmp_path, args, message):
    out = tmp_path / "out"
    proc = run("sweep", photo_path, *args, "-o", out, "--csv", tmp_path / "t.csv")
    assert proc.returncode == 2
    assert proc.stdout == "" and len(proc.stderr.splitlines()) == 1 and message in proc.stderr
    assert not out.exists() and not (tmp_path / "t.csv").exists()


@pytest.mark.parametrize("animated", [False, True])
def test_csv_named_as_a_file_of_the_output_folder_is_refused(photo_path, tmp_path, animated):
    """--csv out/report.html with -o out would replace the page by the CSV and say to open it."""
    source = photo_path
    if animated:
        for i in range(2):
            shutil.copy(photo_path, tmp_path / f"f{i}.png")
        source = str(tmp_path / "f*.png")
    out = tmp_path / "out"
    proc = run("sweep", source, "-k", "2,4", "-o", out, "--csv", out / "report.html")
    assert proc.returncode == 2 and len(proc.stderr.splitlines()) == 1, proc.stderr
    assert "--csv " in proc.stderr and "is one of the files the output folder gets" in proc.stderr
    assert proc.stdout == "" and not out.exists()


def test_byte_budget_in_the_json_and_the_page_and_refused_for_an_animation(photo_path, tmp_path):
    out = tmp_path / "out"
    proc = run("sweep", photo_path, "-k", "2,4,8", "--max-bytes", "1M", "--json", "-o", out)
    assert proc.returncode == 0, proc.stderr
    budget = json.loads(proc.stdout)["picks"]["budget"]
    assert budget["k"] == 8
    assert budget["reason"].startswith("the largest K whose qnt file fits 1,000,000 B")
    assert "budget</td></tr>" in (out / "report.html").read_text()  # the K=8 row names it
    for i in range(2):
        shutil.copy(photo_path, tmp_path / f"f{i}.png")
    clip = run("sweep", tmp_path / "f*.png", "-k", "2,4", "--max-bytes", "1M")
    assert clip.returncode == 2
    assert "--max-bytes does not apply to an animation's sweep" in clip.stderr


def test_unwritable_folder_and_missing_input(photo_path, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    proc = run("sweep", photo_path, "-k", "2,4", "-o", blocker / "out")
    assert proc.returncode == 5 and "is not a folder" in proc.stderr
    proc = run("sweep", tmp_path / "missing.png", "-k", "2")
    assert proc.returncode == 3 and len(proc.stderr.splitlines()) == 1


def test_compress_to_target(photo_path, tmp_path):
    out = tmp_path / "out"
    proc = run("compress", photo_path, "--target-delta-e", "6", "-k", "64", "-o", out, "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["delta_e"] <= 6 and 1 < report["k"] <= 64
    assert f"target: K={report['k']} (the smallest K with dE2000 <= 6: dE2000" in proc.stderr
    assert f"while K={report['k'] - 1} gives dE2000" in proc.stderr
    assert files_in(out) == ["photo.preview.png", "photo.qnt"]
    seconds = report["seconds"]  # the search is timed, and counted in the total
    assert list(seconds)[:2] == ["load", "search"] and list(seconds)[-1] == "total"
    assert seconds["search"] > 0 and seconds["total"] >= sum(seconds.values()) - seconds["total"]
    proc = run("compress", photo_path, "--target-psnr", "80", "-k", "16", "-o", tmp_path / "none")
    assert proc.returncode == 2 and "no K up to 16 meets PSNR >= 80 dB" in proc.stderr
    assert not (tmp_path / "none").exists()


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_progress_bar_on_a_terminal(photo_path):
    import pty

    primary, secondary = pty.openpty()
    proc = subprocess.run([sys.executable, "-m", "quantize", "sweep", photo_path, "-k", "2,4", "--json"],
                          stdout=subprocess.PIPE, stderr=secondary, timeout=300,
                          env={**os.environ, "COLUMNS": "100"})
    os.close(secondary)
    shown = os.read(primary, 65536).decode()
    os.close(primary)
    assert proc.returncode == 0 and "K=4" in shown and "100%" in shown
    assert json.loads(proc.stdout)["rows"][1]["k"] == 4


def test_a_folder_of_photos_of_two_sizes_says_sweep_reads_it_as_frames(tmp_path):
    """`quantize sweep photos/` of portrait and landscape photos said only that every frame must
    have one size, to a user who never meant frames."""
    photos = tmp_path / "photos"
    photos.mkdir()
    for name, size in (("a.png", (12, 8)), ("b.png", (8, 12))):
        Image.new("RGB", size, "red").save(photos / name)
    for source in (photos, photos / "*.png"):
        proc = run("sweep", source, "-k", "2,4", cwd=tmp_path)
        assert proc.returncode == 3 and len(proc.stderr.splitlines()) == 1, proc.stderr
        assert "every frame must have one size: sweep reads a folder or glob as one animation's " \
               "frames; sweep a photo by its file, or give the folder to quantize batch" in proc.stderr
    proc = run("animate", photos, "-o", tmp_path / "out", cwd=tmp_path)
    assert proc.returncode == 3 and proc.stderr.rstrip().endswith("every frame must have one size")


@pytest.fixture
def bars(monkeypatch) -> list:
    """The progress bars the CLI draws, each kept as a stand-in of click's on a terminal."""
    from types import SimpleNamespace

    import quantize.cli.sweep as sweep_cli

    bars = []

    class Bar:
        def __init__(self, length: int, **_):
            self.length, self.pos, self.told = length, 0, []
            bars.append(self)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def update(self, steps: int, k: int | None = None) -> None:
            self.pos += steps
            self.told += [k] if k is not None else []

        def render_progress(self) -> None:
            pass

    monkeypatch.setattr(sweep_cli.click, "progressbar", Bar)
    monkeypatch.setattr(sweep_cli, "sys", SimpleNamespace(stderr=SimpleNamespace(isatty=lambda: True)))
    return bars


@pytest.mark.parametrize("command", ["compress", "sweep"])
@pytest.mark.parametrize("search", [("--max-bytes", "1k"), ("--target-psnr", "30")])
def test_a_searched_k_s_progress_bar_ends_full_on_the_k_picked(photo_path, tmp_path, bars, search,
                                                                command):
    """compress --max-bytes (and a target) sized its bar for the most probes a search may take,
    so a search of fewer probes, as most are, left it short of full; and it ended labelled with
    the last K probed (K=10 where K=7 was picked)."""
    from click.testing import CliRunner

    from quantize.cli import cli

    given = [command, str(photo_path), "-o", str(tmp_path / "o"), "--json", *search]
    proc = CliRunner().invoke(cli, given + ["-k", "256"] * (command == "sweep"))
    assert proc.exit_code == 0, proc.output
    shown = json.loads(proc.stdout)
    pick = {"--max-bytes": "budget", "--target-psnr": "target"}[search[0]]
    picked = shown["k"] if command == "compress" else shown["picks"][pick]["k"]
    [bar] = bars
    *probes, label = bar.told  # each K run, then the one the bar ends on
    assert 0 < len(probes) < bar.length  # the search took fewer probes than it might
    assert bar.pos == bar.length and label == picked


def test_a_byte_budgets_bar_is_full_only_once_its_search_ends(tmp_path, bars):
    """The budget's search keeps probing K above its pick while they fit, past the bar's length:
    `compress photo.png --max-bytes 1500` showed 100 % with 7 of its 24 probes still to run."""
    from quantize.cli.sweep import progress_bar
    from quantize.io.images import load_image
    from quantize.jobs.sweep import TargetMissed, largest_fitting, probe_budget, search_bytes

    Image.fromarray(make_photo(24, 32)).save(tmp_path / "p.png")
    image, sizes = load_image(tmp_path / "p.png"), {}
    for k in range(1, 65):  # the photo's real size curve, each K fitted once
        sizes[k] = search_bytes(image, 1 << 30, max_k=k).sizes[k]
    longest = 0
    for max_bytes in range(min(sizes.values()), max(sizes.values()) + 1):
        with progress_bar(probe_budget(64), quiet=False) as progress:
            def probe(k: int) -> int:
                progress(k)
                assert bars[-1].pos < bars[-1].length  # not full while the search runs
                return sizes[k]

            try:
                picked = largest_fitting(probe, max_bytes, "qnt", 64).k
            except TargetMissed:
                continue
            progress.end(picked)
        longest = max(longest, len(bars[-1].told) - 1)
        assert bars[-1].pos == bars[-1].length and bars[-1].told[-1] == picked
    assert longest > probe_budget(64)  # some search did run past the length it began with


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (Debian package 'chromium')")
def test_report_renders_in_chromium(photo_path, tmp_path):
    out = tmp_path / "sweep"
    proc = run("sweep", photo_path, "-k", "2,8,32", "-o", out)
    assert proc.returncode == 0, proc.stderr
    # The page reports each image's natural width into the DOM once it has decoded.
    page = out / "report.html"
    probe = tmp_path / "probe.html"
    probe.write_text(page.read_text().replace("</body>", """<script>
window.addEventListener('load', () => { document.body.dataset.sizes = Array.from(document.images,
  i => i.complete && i.naturalWidth).join(','); });</script></body>"""))
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=3000"]
    dom = subprocess.run([CHROMIUM, *flags, "--dump-dom", probe.as_uri()], capture_output=True,
                         text=True, timeout=120).stdout
    sizes = re.search(r'data-sizes="([^"]*)"', dom).group(1).split(",")
    sheet, chart = Image.open(out / "sweep.sheet.png"), Image.open(out / "sweep.chart.png")
    assert sizes == [str(sheet.width), str(chart.width)]
    assert dom.count("<tr") == 4 and "<th>PSNR</th>" in dom
    shot = tmp_path / "shot.png"
    subprocess.run([CHROMIUM, *flags, f"--screenshot={shot}", "--window-size=1280,1600",
                    page.as_uri()], capture_output=True, timeout=120)
    with Image.open(shot) as im:  # something other than white was painted: images and text
        assert len(im.convert("RGB").getcolors(1 << 20) or range(1 << 20)) > 1000


def test_a_note_only_some_k_give_is_printed_with_its_k(photo_path):
    """A sample below some of the swept K leaves those rows with fewer colours: each says so."""
    proc = run("sweep", photo_path, "-k", "4,16,64", "--sample", "10")
    assert proc.returncode == 0, proc.stderr
    notes = [line for line in proc.stderr.splitlines() if "a sample of 10 pixels" in line]
    assert [line.split(": ")[2] for line in notes] == ["K=16", "K=64"], proc.stderr


def test_an_animations_target_k_outside_the_k_asked_gets_its_row(tmp_path):
    """As a still's: the target's K is a row of the table, JSON, CSV and page, with its GIF,
    exactly as sweep -k K gives it; the elbow stays that of the K asked."""
    from test_animation import between_4_and_32, clip_frames, save_gif

    source = save_gif(tmp_path / "clip.gif", clip_frames(), [50] * 6)
    target = between_4_and_32(source, "psnr")
    out, table = tmp_path / "out", tmp_path / "t.csv"
    done = run("sweep", source, "-k", "4,8,16,32", "--target-psnr", target.psnr, "--json", "-o",
               out, "--csv", table)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    k = doc["picks"]["target"]["k"]
    assert k not in (4, 8, 16, 32), "the test wants a K between the rows"
    assert [row["k"] for row in doc["rows"]] == sorted([4, 8, 16, 32, k])
    assert doc["picks"]["target"]["reason"].endswith("; its row is added to the K asked")
    alone = json.loads(run("sweep", source, "-k", k, "--json", "-q").stdout)["rows"][0]
    row = next(row for row in doc["rows"] if row["k"] == k)
    assert (row["bytes"], row["psnr"]) == (alone["bytes"], alone["psnr"])
    asked = json.loads(run("sweep", source, "-k", "4,8,16,32", "--json", "-q").stdout)
    assert doc["picks"]["elbow"] == asked["picks"]["elbow"]
    assert (out / f"k{k:04d}.anim.gif").is_file()
    assert f"<tr class=pick><td>{k}</td>" in (out / "report.html").read_text()
    assert str(k) in [line.split(",")[0] for line in table.read_text().splitlines()]


def test_previews_of_an_earlier_sweep_are_named_and_left(photo_path, tmp_path):
    """A second sweep into a folder (--force) replaces only its own files and says which files
    there are named as previews of K it has not, rather than leaving them to pass as its own."""
    out = tmp_path / "out"
    assert run("sweep", photo_path, "-k", "2,4,8,16", "-o", out, "-q").returncode == 0
    (out / "mine.png").write_bytes(b"not a sweep's")
    kept = {name: (out / name).read_bytes() for name in ("k0008.preview.png", "k0016.preview.png")}
    again = run("sweep", photo_path, "-k", "2,4", "-o", out, "--force")
    assert again.returncode == 0, again.stderr
    assert "also holds 2 files named as previews of other K (k0008.preview.png, k0016.preview.png)" \
        in again.stderr and "mine.png" not in again.stderr
    assert all((out / name).read_bytes() == data for name, data in kept.items())
    assert "also holds" not in run("sweep", photo_path, "-k", "2,4", "-o", tmp_path / "new").stderr
    assert run("sweep", photo_path, "-k", "2,4", "-o", out, "--force", "-q").stderr == ""


def test_csv_on_stdout_gives_the_picks_on_stderr(photo_path, tmp_path):
    """--csv - replaces the table on stdout; the picks, the answer a sweep is run for, are
    notes on stderr (for a still and an animation), silenced by -q."""
    from test_animation import clip_frames, save_gif

    clip = save_gif(tmp_path / "clip.gif", clip_frames(4), [50] * 4)
    for source in (photo_path, clip):
        done = run("sweep", source, "-k", "2,4,8", "--csv", "-", "--target-psnr", "10")
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(("input,", "k,"))
        assert re.search(r"^quantize: note: elbow: ", done.stderr, re.M), done.stderr
        assert re.search(r"^quantize: note: target: K=\d+ \(", done.stderr, re.M)
        assert run("sweep", source, "-k", "2,4,8", "--csv", "-", "-q").stderr == ""
