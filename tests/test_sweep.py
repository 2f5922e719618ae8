"""The sweep as a library: K lists, per-K results, silhouette, elbow, target search, outputs."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image
from sklearn.metrics import silhouette_score

from conftest import make_photo
from quantize.errors import OutputError, ParameterError
from quantize.core.fitting import FitOptions
from quantize.io.images import image_from_array, load_image
from quantize.jobs.pipeline import CompressOptions, Result, quantize_image
from quantize.jobs.sweep import (SilhouetteSample, SweepPoint, Target, best_silhouette, elbow,
                            parse_ks, probe_budget, search_k, smallest_k, sweep, sweep_file,
                            with_k)
from quantize.render.sweep_report import format_csv, format_table, output_names

CLASSIC = {4: (2, 12.0), 8: (3, 8.0), 16: (4, 6.0), 32: (5, 4.8), 64: (6, 4.0), 128: (7, 3.4286)}


@pytest.fixture(scope="module")
def photo():
    return image_from_array(make_photo())


@pytest.fixture(scope="module")
def points(photo):
    return sweep(photo, [4, 8, 16, 32, 64, 128])


@pytest.mark.parametrize("text, ks", [
    ("4,8,16", (4, 8, 16)),
    ("16, 4,8,4,16", (4, 8, 16)),
    ("2-512", (2, 4, 8, 16, 32, 64, 128, 256, 512)),
    ("3-20", (4, 8, 16)),
    ("4:16:4", (4, 8, 12, 16)),
    ("1:3,64", (1, 2, 3, 64)),
    ("65536", (65536,)),
])
def test_parse_ks(text, ks):
    assert parse_ks(text) == ks


@pytest.mark.parametrize("text, message", [
    ("", "empty"), (" , ", "empty"), ("0", "out of range"), ("65537", "out of range"),
    ("8-4", "'8-4' runs from high to low: write 4-8"), ("16:4:2", "write 4:16:2"),
    ("5-7", "no power of two"), ("abc", "cannot read"), ("4,,x8", "cannot read"),
    ("4:16:0", "step"), ("-4", "cannot read"),
    ("1:100", "'1:100' gives 100 values, more than the 64 one sweep takes: give fewer, such as "
              "a:b:step with a larger step"),
    ("1:60,100:110", "gives 71 values"),  # the whole list counted, not the values up to a range
])
def test_parse_ks_rejects(text, message):
    with pytest.raises(ParameterError, match=message) as info:
        parse_ks(text)
    assert "\n" not in str(info.value)


def numbers(result: Result) -> dict:
    """A result's numbers that do not depend on where its file went or how long it took."""
    return {k: v for k, v in result.to_dict().items()
            if k not in ("seconds", "packed_file_bytes", "ratio_file_vs_raw", "ratio_file_vs_input",
                         "preview_bytes", "files", "packed_file_bits_per_pixel",
                         "preview_bits_per_pixel")}


def test_largest_k_row_is_what_compress_reports(photo, points):
    """The largest K is fitted cold, exactly as ``compress -k K`` fits it."""
    alone = quantize_image(photo, CompressOptions(fit=FitOptions(k=points[-1].result.k)))
    assert numbers(points[-1].result) == numbers(alone)


@pytest.mark.parametrize("space", ["rgb", "rgb+lab"])
def test_every_row_is_what_compress_reports_whatever_the_other_k(photo, space):
    """Issue 26, item 12: a K's row does not depend on the other K of the list; each equals a
    standalone compress at that K (same seed, same start)."""
    options = CompressOptions(fit=FitOptions(space=space))
    alone = {k: numbers(quantize_image(photo, with_k(options, k))) for k in (8, 16, 32)}
    for ks in ([8, 16, 32], [16, 32], [8, 32]):
        for point in sweep(photo, ks, options):
            assert numbers(point.result) == alone[point.result.k], (ks, point.result.k)


def test_classic_table_and_sizes(points):
    for point in points:
        d = point.to_dict()
        assert d["k_used"] == d["k"]
        assert (d["bits_per_pixel"], d["ratio"]) == CLASSIC[d["k"]]
        assert d["png_bytes"] == len(point.png) == d["preview_bytes"]
        np.testing.assert_array_equal(np.asarray(Image.open(io.BytesIO(point.png)).convert("RGB")),
                                      point.result.palette[point.result.indices])
        assert 0 < d["packed_file_bytes"] < d["raw_bytes"]
        assert -1 <= d["silhouette"] <= 1
    psnr = [p.result.psnr for p in points]
    assert psnr == sorted(psnr)


def test_silhouette_matches_scikit_learn(photo, points):
    sample = SilhouetteSample(photo.pixels, n=500, seed=3)
    X = photo.pixels.reshape(-1, 3)[sample.positions].astype(float)
    for point in points[:3]:
        labels = point.result.indices.reshape(-1)[sample.positions]
        assert sample.score(point.result.indices) == pytest.approx(silhouette_score(X, labels), abs=1e-9)
    assert sample.score(np.zeros(photo.pixels.shape[:2], np.uint8)) is None


def _fake(k: int, wcss: float, silhouette: float | None = None) -> SweepPoint:
    """A point with a given K and WCSS (WCSS = MSE over a one-pixel image)."""
    result = Result(width=1, height=1, channels=3, k=k, palette=np.zeros((k, 3), np.uint8),
                    indices=np.zeros((1, 1), np.uint8), n_colors=k, mse=wcss, psnr=0.0,
                    delta_e=0.0, n_iter=0, codec="none", seconds={})
    return SweepPoint(result, silhouette, b"")


def test_silhouette_ignores_the_rgb_hidden_under_full_transparency():
    """The fit sees every fully transparent pixel as (0,0,0,0); so does the silhouette."""
    pixels = np.dstack([make_photo(24, 32), np.full((24, 32), 255, np.uint8)])
    pixels[:, :16, 3] = 0  # the photo's RGB stays under the transparent half
    cleared = pixels.copy()
    cleared[:, :16, :3] = 0
    hidden, clear = (sweep(image_from_array(p), [2, 4]) for p in (pixels, cleared))
    assert [p.silhouette for p in hidden] == [p.silhouette for p in clear]


def test_kneedle_elbow():
    pick = elbow([_fake(k, w) for k, w in zip([2, 4, 8, 16, 32], [100, 20, 10, 8, 7])])
    # scaled: x = 0, .25, .5, .75, 1; y = 1, .108, .032, .011, 0 -> farthest below the chord at K=4
    assert pick.k == 4 and "Kneedle" in pick.reason
    assert elbow([_fake(k, w) for k, w in zip([2, 4, 8, 16], [100, 80, 30, 0])]).k == 8
    assert elbow([_fake(2, 10), _fake(4, 5)]).k is None
    assert elbow([_fake(k, 10) for k in (2, 4, 8)]).k is None  # flat: no elbow
    exact = elbow([_fake(k, 0) for k in (4, 8, 16)])  # fewer colours than any K: no bend to find
    assert exact.k == 4 and "WCSS is 0 at every K: K=4 already reproduces" in exact.reason
    assert elbow([_fake(k, 0) for k in (4, 8)]).k == 4
    assert elbow([_fake(k, w) for k, w in zip([2, 4, 8], [10, 9, 1])]).k is None  # concave
    # 99.99 % of the drop made by K=8 read "100%", as if nothing were left to gain
    nearly = elbow([_fake(k, w) for k, w in zip([2, 8, 16, 32], [100, 0.01, 0.005, 0])])
    assert nearly.k == 8 and "99% of the WCSS drop" in nearly.reason


def test_best_silhouette_prefers_smaller_k_on_ties():
    assert best_silhouette([_fake(2, 1, 0.3), _fake(4, 1, 0.5), _fake(8, 1, 0.5)]).k == 4
    assert best_silhouette([_fake(1, 1, None)]).k is None


def test_target_search_finds_the_smallest_k(photo, points):
    target = Target(psnr=(points[2].result.psnr + points[3].result.psnr) / 2)  # between K=16 and 32
    found = search_k(photo, target, max_k=128)
    assert 16 < found.k <= 32 and target.met(found.result)
    assert not target.met(found.probes[found.k - 1])  # the neighbour was checked
    assert len(found.probes) <= probe_budget(128)
    assert f"while K={found.k - 1} gives PSNR" in found.pick.reason
    reused = search_k(photo, target, max_k=128, known=[p.result for p in points])
    assert reused.k == found.k and reused.result.psnr == found.result.psnr
    assert all(reused.probes[p.result.k] is p.result for p in points)  # reused, not probed again


def test_target_search_is_exact_on_few_colours():
    """With 10 distinct colours, every K < 10 loses some and K = 10 is lossless."""
    rng = np.random.default_rng(1)
    colours = rng.integers(0, 256, (10, 3), dtype=np.uint8)
    image = image_from_array(colours[rng.integers(0, 10, (20, 30))])
    found = search_k(image, Target(psnr=99), max_k=64)
    assert found.k == 10 and found.result.psnr == np.inf
    both = search_k(image, Target(psnr=10, delta_e=0), max_k=64)
    assert both.k == 10


def test_byte_budget_past_the_colours_of_the_image_says_how_many_it_uses():
    from quantize.jobs.sweep import search_bytes

    pixels = np.zeros((6, 9, 3), np.uint8)
    pixels[:, 3:6], pixels[:, 6:] = (255, 0, 0), (0, 0, 255)
    budget = search_bytes(image_from_array(pixels), 10_000, max_k=16)
    assert budget.k == 16 and budget.pick.reason.endswith("K evaluated; it uses 3 colours")
    assert "it uses" not in search_bytes(image_from_array(pixels), 10_000, max_k=3).pick.reason


def test_sweep_byte_budget_is_compress_s_and_a_missed_one_keeps_the_table(photo_path):
    from quantize.jobs.sweep import search_bytes

    run = sweep_file(photo_path, [4, 16, 64], max_bytes=None)
    assert run.budget_pick is None and run.picks_dict()["budget"] is None
    small, large = (run.points[i].result.files["qnt"][1] for i in (1, 2))
    budget = (small + large) // 2
    run = sweep_file(photo_path, [4, 16, 64], max_bytes=budget)
    alone = search_bytes(load_image(photo_path), budget, max_k=64)
    assert 16 <= run.budget.k < 64 and run.budget.k == alone.k
    assert run.budget.sizes[run.budget.k] == alone.sizes[alone.k] <= budget
    assert run.picks[-1].startswith(f"budget: K={run.budget.k} (the largest K whose qnt file fits")
    missed = sweep_file(photo_path, [2, 4], max_bytes=5)
    assert [p.result.k for p in missed.points] == [2, 4] and missed.budget is None
    assert missed.picks_dict()["budget"] == {"k": None, "reason": missed.over_budget}
    assert missed.over_budget.startswith("no K fits 5 B: the smallest qnt file, at K=1")


def test_a_target_missed_at_the_largest_k_allowed_asks_for_no_larger_k(photo_path, tmp_path,
                                                                        capsys):
    """A target that 256 colours miss in a GIF (which holds no more) was told to 'raise the K
    limit'; below the largest K allowed that advice stays."""
    from quantize.cli import main

    def missed(*args: str) -> str:
        with pytest.raises(SystemExit) as stop:
            main(["compress", str(photo_path), "-o", str(tmp_path / "o"), "--target-psnr", "99",
                  *args])
        assert stop.value.code == 2 and not (tmp_path / "o").exists()
        return capsys.readouterr().err

    said = missed("--format", "gif", "-k", "256")
    assert "the target is beyond what 256 colours reach, and no larger K is allowed" in said
    assert "raise the K limit" not in said
    assert "raise the K limit or relax the target" in missed("--format", "gif", "-k", "8")


def test_unreachable_target_is_one_line_error(photo):
    with pytest.raises(ParameterError,
                       match=r"no K up to 8 meets PSNR >= 60 dB \(K=8 gives PSNR.*relax the target"):
        search_k(photo, Target(psnr=60), max_k=8)
    with pytest.raises(ParameterError, match="delta_e must be >= 0"):
        Target(delta_e=-1)
    for psnr in (-5, 0, float("nan")):  # met by every K: not a target
        with pytest.raises(ParameterError, match="psnr must be a finite number of dB above 0"):
            Target(psnr=psnr)


def test_sweep_file_writes_everything(photo_path, tmp_path):
    out, table = tmp_path / "out", tmp_path / "table.csv"
    run = sweep_file(photo_path, [2, 8, 32], out, csv_path=table)
    assert sorted(p.name for p in out.iterdir()) == sorted(output_names([2, 8, 32]))
    assert set(run.written) == {out / name for name in output_names([2, 8, 32])} | {table}
    rows = list(csv.DictReader(table.open()))
    assert [int(r["k"]) for r in rows] == [2, 8, 32]
    assert [float(r["psnr"]) for r in rows] == [p.to_dict()["psnr"] for p in run.points]
    assert rows[1]["preview_file"] == str(out / "k0008.preview.png")
    pixels = load_image(out / "k0008.preview.png").pixels
    np.testing.assert_array_equal(pixels, run.points[1].result.palette[run.points[1].result.indices])
    for name in ("sweep.sheet.png", "sweep.chart.png"):
        with Image.open(out / name) as im:
            assert im.width > 300 and im.height > 200
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 2 and "http" not in page
    assert all(f"<td>{p.to_dict()['psnr']:.2f}</td>" in page for p in run.points)
    # each highlighted row names the rules that pick it in a last column
    rules = {"elbow": run.elbow.k, "silhouette": run.silhouette.k}
    for k in (2, 8, 32):
        mark = ", ".join(rule for rule, picked in rules.items() if picked == k)
        row = next(line for line in page.splitlines()
                   if line.startswith(("<tr><td>", "<tr class=pick><td>"))
                   and line.split("<td>")[1] == f"{k}</td>")
        assert row.startswith("<tr class=pick>") == bool(mark)
        assert row.endswith(f"<td>{mark}</td></tr>")
    assert "<th>pick</th></tr>" in page


def test_sweep_file_checks_outputs_before_work(photo_path, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "sweep.chart.png").write_bytes(b"mine")
    with pytest.raises(OutputError, match="already exists"):
        sweep_file(photo_path, [2, 4], out)
    assert sorted(p.name for p in out.iterdir()) == ["sweep.chart.png"]
    assert (out / "sweep.chart.png").read_bytes() == b"mine"


def test_unreachable_target_keeps_the_table_and_the_report(photo_path, tmp_path):
    """Issue 26, item 12: a target no K reaches is named as missed; the rows and files stay."""
    run = sweep_file(photo_path, [2, 4], tmp_path / "new", target=Target(psnr=80))
    assert [p.result.k for p in run.points] == [2, 4] and run.search is None
    assert run.picks[-1].startswith("target: none (no K up to 4 meets PSNR >= 80 dB")
    assert run.picks_dict()["target"]["k"] is None
    assert "report.html" in {p.name for p in run.written}
    assert "no K up to 4 meets PSNR" in (tmp_path / "new" / "report.html").read_text()


def test_failed_sweep_write_removes_the_folders_it_made(photo_path, tmp_path, monkeypatch):
    """Issue 26, item 12: a sweep failing while it writes (a full disk) leaves no empty folder."""
    from quantize.jobs import job

    def full(*args, **kwargs):
        raise OutputError("cannot write to x: No space left on device")

    monkeypatch.setattr(job, "write_all", full)
    with pytest.raises(OutputError, match="No space left"):
        sweep_file(photo_path, [2, 4], tmp_path / "a" / "b", csv_path=tmp_path / "c" / "t.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.png"]


def test_table_and_csv_render_every_point(points):
    table = format_table(points).splitlines()
    assert len(table) == 1 + len(points)
    assert table[0].split()[:3] == ["K", "used", "bpp"]
    assert table[-1].split()[:4] == ["128", "128", "7", "3.43"]
    rows = list(csv.DictReader(io.StringIO(format_csv(points))))
    assert float(rows[0]["silhouette"]) == points[0].to_dict()["silhouette"]
    # every cell a plain value: no Python reprs of dicts or lists, booleans as JSON writes them
    assert not any(cell.startswith(("{", "[")) for row in rows for cell in row.values())
    assert rows[0]["fixed_palette"] == "false"


def test_sweep_keeps_other_options(photo):
    options = CompressOptions(fit=FitOptions(k=999, seed=5, n_init=2), codec="none")
    [point] = sweep(photo, [8], options)
    assert point.result.k == 8 and point.result.codec == "none"
    assert point.result.files["qnt"][1] == point.result.packed_bytes
    alone = quantize_image(photo, replace(options, fit=replace(options.fit, k=8)))
    np.testing.assert_array_equal(point.result.palette, alone.palette)


def test_transparent_image_sheet_shows_white_behind_and_page_says_rgba(tmp_path):
    pixels = np.dstack([make_photo(24, 32), np.full((24, 32), 255, np.uint8)])
    pixels[:, :8, 3] = 0
    Image.fromarray(pixels).save(tmp_path / "alpha.png")
    run = sweep_file(tmp_path / "alpha.png", [2, 4], tmp_path / "out")
    assert run.points[0].result.channels == 4
    with Image.open(tmp_path / "out" / "sweep.sheet.png") as sheet:
        assert sheet.mode == "RGB" and sheet.getpixel((14, 14)) == (255, 255, 255)
    # the silhouette's sample and the ratio's raw pixel hold the alpha too
    assert "768-pixel RGBA sample" in run.silhouette.reason
    assert run.points[0].to_dict()["ratio"] == 32.0
    page = " ".join((tmp_path / "out" / "report.html").read_text().split())
    assert "the classic 32 / bpp" in page and "silhouette: RGBA" in page
    assert "squared RGBA error" in page and "sweep&#x27;s --png-effort" in page
    assert "the preview PNG (indexed up to 256 colours, RGBA above)" in page


def test_one_colour_image_page_says_colour(tmp_path):
    Image.new("RGB", (1, 1), (10, 200, 30)).save(tmp_path / "dot.png")
    sweep_file(tmp_path / "dot.png", [2, 4, 8], tmp_path / "out")
    page = " ".join((tmp_path / "out" / "report.html").read_text().split())
    assert "1x1 pixels, 1 distinct colour, packed with" in page


def test_rows_give_the_png_of_the_effort_asked(photo_path, tmp_path):
    """A sweep sizes its previews at the fast PNG effort unless told; at compress's effort its row
    gives exactly the bytes of compress's PNG."""
    from quantize.io.formats import encode_png
    from quantize.io.outputs import FileOptions
    from quantize.jobs.pipeline import compress_file

    fast = sweep_file(photo_path, [8]).points[0].result
    assert fast.files["png"][1] == len(encode_png(fast.palette, fast.indices, effort=0))
    row = sweep_file(photo_path, [8], files=FileOptions(png_effort=2)).points[0].result
    single = compress_file(photo_path, tmp_path, options=CompressOptions(fit=FitOptions(k=8)))
    assert row.files["png"][1] == single.files["png"][1]
    assert row.files["qnt"][1] == fast.files["qnt"][1] == single.files["qnt"][1]


def test_smallest_k_doubles_then_bisects_and_always_tries_the_neighbour():
    for max_k in (1, 2, 7, 64, 100):
        for answer in range(1, max_k + 2):  # max_k + 1: no K up to max_k meets it
            tried: list[int] = []
            found = smallest_k(lambda k: tried.append(k) or k >= answer, max_k)
            assert found == (answer if answer <= max_k else None)
            assert len(tried) == len(set(tried)) <= probe_budget(max_k)
            assert all(1 <= k <= max_k for k in tried)
            if found is not None and found > 1:
                assert found - 1 in tried


def test_the_chart_and_page_name_every_codec_a_sweep_packed_with():
    """Their captions named the first row's codec (bilevel at K = 2) for the whole sweep."""
    from quantize.jobs.sweep_model import codecs_used

    rows = [{"k": k, "codec": c} for k, c in
            [(2, "bilevel"), (4, "template"), (8, "cm"), (16, "cm"), (256, "cm")]]
    assert codecs_used(rows) == "bilevel (K=2), template (K=4), cm (K=8-256)"
    assert codecs_used(rows[2:]) == "cm"


def test_csv_guards_a_name_a_spreadsheet_would_run_as_a_formula(points):
    """A text cell starting with =, +, - or @ gets a leading ' (OWASP's CSV-injection advice);
    numbers, even negative ones, stay numbers."""
    named = [replace(p, result=replace(p.result, input=name))
             for p, name in zip(points, ["=HYPERLINK(1).png", "+1.png", "-x.png", "@SUM.png",
                                         "plain.png", "a=b.png"])]
    rows = list(csv.DictReader(io.StringIO(format_csv(named))))
    assert [row["input"] for row in rows] == ["'=HYPERLINK(1).png", "'+1.png", "'-x.png",
                                              "'@SUM.png", "plain.png", "a=b.png"]
    assert rows[0]["k"] == "4" and rows[0]["fixed_palette"] == "false"


def test_an_animations_csv_rounds_its_figures_as_a_stills(points):
    """An animation's CSV keeps the decimals a still's keeps of PSNR, CIEDE2000 and seconds."""
    from quantize.animation.run import AnimationOptions, sweep_clip
    from quantize.animation.source import frames_clip
    from quantize.render.sweep_report import format_clip_csv

    frames = [make_photo(24, 32, seed=seed) for seed in range(3)]
    results = sweep_clip(frames_clip(frames, 100), [4, 16], AnimationOptions(formats=("gif",)))
    lines = list(csv.DictReader(io.StringIO(format_clip_csv([r.to_dict() for r in results]))))
    still = list(csv.DictReader(io.StringIO(format_csv(points))))

    def places(cell: str) -> int:
        return len(cell.partition(".")[2])

    decimals = {key: max(places(row[key]) for row in still) for key in ("psnr", "seconds_total")}

    for line, result in zip(lines, results):
        assert float(line["mean_psnr"]) == round(result.mean_psnr, decimals["psnr"])
        assert max(places(line[key]) for key in ("mean_psnr", "clip_psnr", "min_psnr")) \
            <= decimals["psnr"]
        assert places(line["seconds"]) <= decimals["seconds_total"]
        assert places(line["mean_delta_e2000"]) <= 6 and places(line["flicker"]) <= 6


def test_target_search_takes_the_rows_as_bounds(photo, points):
    """A row that misses the target rules out every smaller K, one that meets it every larger:
    the search fits only K between them (none when the largest row misses)."""
    from quantize.jobs.sweep import TargetMissed

    rows = [p.result for p in points]  # K = 4, 8, ..., 128
    target = Target(psnr=(points[2].result.psnr + points[3].result.psnr) / 2)  # between 16 and 32
    fitted: list[int] = []
    found = search_k(photo, target, max_k=128, known=rows, progress=fitted.append)
    assert fitted and all(16 < k < 32 for k in fitted) and 16 < found.k <= 32
    assert found.k == search_k(photo, target, max_k=128).k  # as compress --target-psnr finds it
    fitted.clear()
    with pytest.raises(TargetMissed, match="no K up to 128"):
        search_k(photo, Target(psnr=points[-1].result.psnr + 1), max_k=128, known=rows,
                 progress=fitted.append)
    assert fitted == []


def test_smallest_k_searches_only_between_its_bounds():
    for answer in range(1, 66):
        for low in range(0, answer):
            for high in (None, *range(answer, 65)):
                tried: list[int] = []
                found = smallest_k(lambda k: tried.append(k) or k >= answer, 64, low=low,
                                   high=high)
                assert found == (answer if answer <= 64 else None)
                assert all(low < k < (high or 65) for k in tried)
                assert len(tried) <= probe_budget(64)


def test_a_picked_k_outside_the_k_asked_gets_its_measured_row(photo_path, tmp_path):
    """The target's and the budget's K are rows of the table, CSV, JSON and page, measured as
    sweep -k K measures them, with a preview; the elbow and silhouette stay those of the K asked."""
    asked = sweep_file(photo_path, [4, 8, 64])
    middle = (asked.points[1].result.psnr + asked.points[2].result.psnr) / 2
    size = (asked.points[1].result.files["qnt"][1] + asked.points[2].result.files["qnt"][1]) // 2
    out, table = tmp_path / "out", tmp_path / "t.csv"
    run = sweep_file(photo_path, [4, 8, 64], out, target=Target(psnr=middle), max_bytes=size,
                     csv_path=table)
    picked = sorted({run.search.k, run.budget.k})
    assert all(8 < k < 64 for k in picked) and run.added == tuple(picked)
    assert [p.result.k for p in run.points] == sorted([4, 8, 64, *picked])
    assert (run.elbow, run.silhouette) == (asked.elbow, asked.silhouette)
    alone = {p.result.k: p.to_dict() for p in sweep_file(photo_path, picked).points}
    for point in run.points:
        if point.result.k in picked:
            row = point.to_dict()
            for key in ("psnr", "delta_e", "packed_file_bytes", "png_bytes", "silhouette"):
                assert row[key] == alone[point.result.k][key], key
    lines = list(csv.DictReader(table.open()))
    assert [int(line["k"]) for line in lines] == [p.result.k for p in run.points]
    assert all((out / f"k{k:04d}.preview.png").is_file() for k in picked)
    assert all(line["preview_file"] == str(out / f"k{int(line['k']):04d}.preview.png")
               for line in lines)
    assert {out / f"k{k:04d}.preview.png" for k in picked} <= set(run.written)
    page = (out / "report.html").read_text()
    assert f"<tr class=pick><td>{run.search.k}</td>" in page
    assert run.picks[2].endswith("; its row is added to the K asked)")


def test_earlier_previews_are_those_named_as_a_k_s_and_not_written(tmp_path):
    from quantize.render.sweep_report import clip_preview_name, earlier_previews, preview_name

    names = [preview_name(4), preview_name(20000), clip_preview_name(16), "k4.preview.png",
             "photo.preview.png", "mine.png"]
    for name in names:
        (tmp_path / name).write_bytes(b"")
    assert earlier_previews(tmp_path, [tmp_path / preview_name(4)]) == sorted(
        [preview_name(20000), clip_preview_name(16)])


def test_a_budget_met_at_the_largest_k_searched_says_a_larger_k_may_fit(photo):
    """sweep -k 4,8,16 --max-bytes 300k picked K=16 as 'the largest K whose file fits', though
    only K up to 16 were searched."""
    from quantize.jobs.sweep import search_bytes

    capped = search_bytes(photo, 10**7, max_k=8)
    assert capped.k == 8
    assert "; K=8 is the largest searched, a larger K may fit too; " in capped.pick.reason
    inside = search_bytes(photo, capped.sizes[8] - 1, max_k=64)
    assert inside.k < 64 and "largest searched" not in inside.pick.reason
