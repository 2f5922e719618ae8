"""Batch compression: discovery, determinism across workers, manifest, resume, failures, shared palette."""

from __future__ import annotations

import csv
import errno
import json
import os
import re
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from conftest import make_photo
from quantize.io import container, manifest
from quantize.jobs.batch import Settings, run_batch
from quantize.jobs.discovery import plan
from quantize.cli import cli, main
from quantize.errors import InputError, OutputError, ParameterError
from quantize.core.fitting import FitOptions
from quantize.jobs.pipeline import CompressOptions, compress_file

SETTINGS = Settings(CompressOptions(fit=FitOptions(k=8)), formats=("qnt", "png"))


def make_tree(root: Path, n: int = 4, size: tuple[int, int] = (24, 32)) -> Path:
    """``root/p0.png``, ``root/sub/p1.png``, ... plus a text file."""
    for i in range(n):
        path = root / ("sub" if i % 2 else "") / f"p{i}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(make_photo(*size, seed=i)).save(path)
    (root / "notes.txt").write_text("not an image")
    return root


def without_times(rows: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in ("seconds", "input")} for r in rows]


def outputs(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not p.name.startswith("manifest.")}


# --- discovery -------------------------------------------------------------------------------------

def test_hidden_files_and_folders_are_left_out_as_a_glob_leaves_them(tmp_path):
    """macOS's ._p0.png beside p0.png (no image) failed its row, and .hid/ was compressed, while
    the folder's glob left both out: each is now a skipped row; named, a hidden file is taken."""
    src = make_tree(tmp_path / "in", n=2)
    (src / "._p0.png").write_bytes(b"\x00\x05\x16\x07Mac OS X")
    (src / "sub" / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1")
    (src / ".hid").mkdir()
    Image.fromarray(make_photo(8, 8)).save(src / ".hid" / "x.png")
    walked = plan([src], tmp_path / "out")
    globbed = plan([str(src / "**" / "*.png")], tmp_path / "out")
    assert [j.name for j in walked.jobs] == [j.name for j in globbed.jobs] == ["p0.png", "sub/p1.png"]
    hidden = {r["path"]: r["error"] for r in walked.rows if "hidden" in r["error"]}
    assert set(hidden) == {"._p0.png", "sub/.DS_Store", ".hid/"}
    assert hidden[".hid/"].startswith("a hidden folder (")
    assert all(r["status"] == "skipped" for r in walked.rows)
    named = plan([src / "._p0.png", src / ".hid" / "x.png"], tmp_path / "out")
    assert [j.name for j in named.jobs] == ["._p0.png", "x.png"]
    (src / ".out").mkdir()
    inside = plan([src], src / ".out", force=True)  # the output folder is no row
    assert ".out/" not in {r["path"] for r in inside.rows}


def test_plan_mirrors_tree_skips_non_images_and_handles_loops_and_duplicates(tmp_path):
    src = make_tree(tmp_path / "in")
    (src / "sub" / "loop").symlink_to(src, target_is_directory=True)
    (src / "alias.png").symlink_to(src / "p0.png")
    p = plan([src, src / "p0.png", str(src / "*.png")], tmp_path / "out")
    # p0.png under its own name, not its link's
    assert [j.name for j in p.jobs] == ["p0.png", "p2.png", "sub/p1.png", "sub/p3.png"]
    assert p.duplicates == 5  # p0 via alias, loop/..., the file and the glob again
    assert [(r["path"], r["status"]) for r in p.rows] == [("notes.txt", "skipped")]
    assert p.jobs[2].out_dir == tmp_path / "out" / "sub"
    flat = plan([src], tmp_path / "out", recursive=False)
    assert {j.name for j in flat.jobs} == {"p0.png", "p2.png"}
    assert [j.name for j in plan([src / "alias.png"], tmp_path / "out").jobs] == ["alias.png"]


def test_glob_names_are_relative_to_the_pattern_root(tmp_path):
    src = make_tree(tmp_path / "in")
    p = plan([str(src / "**" / "*.png")], tmp_path / "out")
    assert sorted(j.name for j in p.jobs) == ["p0.png", "p2.png", "sub/p1.png", "sub/p3.png"]


@pytest.mark.parametrize("first, second", [("ca", "cb"), ("ca/*.png", "./cb"),
                                           ("ca/x.png", "cb")])
def test_two_inputs_of_one_name_are_named_as_typed(tmp_path, monkeypatch, first, second):
    """`batch ca cb -o out` named the two x.png by their absolute paths, where `batch ca/x.png
    cb/x.png` named them as typed."""
    monkeypatch.chdir(tmp_path)
    for folder in ("ca", "cb"):
        make_tree(tmp_path / folder, n=1)
        (tmp_path / folder / "p0.png").rename(tmp_path / folder / "x.png")
    with pytest.raises(InputError) as refused:
        plan([first, second], "out")
    assert str(refused.value) == ("ca/x.png and cb/x.png both take the name x.png below the "
                                  "output folder: give their common folder instead")


@pytest.mark.parametrize("files, taken", [
    (("ca/X.png", "cb/x.png"), "the name X.png and x.png"),
    (("in/X.png", "in/x.jpg"), "the outputs X.* and x.*"),
    (("in/Sub/x.png", "in/sub/x.jpg"), "the outputs Sub/x.* and sub/x.*")])
def test_two_inputs_whose_names_differ_only_in_case_are_refused(tmp_path, monkeypatch, files,
                                                                taken):
    """X.png and x.jpg ran here, yet where case is ignored (macOS, Windows) the outputs of one
    replace the other's."""
    monkeypatch.chdir(tmp_path)
    for file in files:
        (tmp_path / file).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(make_photo(8, 8, seed=len(file))).save(tmp_path / file)
    with pytest.raises(InputError) as refused:
        plan(sorted({str(Path(f).parts[0]) for f in files}), "out")
    assert str(refused.value).startswith(f"{files[0]} and {files[1]} take {taken}, which differ "
                                         "only in case (one on macOS and Windows), below the "
                                         "output folder: ")


def test_a_file_and_a_link_to_it_differing_in_case_are_one_input_by_its_own_name(tmp_path):
    src = make_tree(tmp_path / "in", n=1)
    (src / "p0.png").rename(src / "a.png")
    (src / "A.png").symlink_to("a.png")
    found = plan([src], tmp_path / "out")
    assert [j.name for j in found.jobs] == ["a.png"] and found.duplicates == 1


def test_a_glob_through_a_symlink_loop_keeps_each_files_own_name(tmp_path):
    """``**`` follows the loop some 40 folders deep, and those names sort first; each file keeps
    the name without a symlinked folder on its way, as a folder walk gives it."""
    src = make_tree(tmp_path / "in", n=2)
    (src / "sub" / "deep").mkdir()
    (src / "sub" / "deep" / "loop").symlink_to("../..", target_is_directory=True)
    p = plan([str(src / "**" / "*.png")], tmp_path / "out")
    assert sorted(j.name for j in p.jobs) == ["p0.png", "sub/p1.png"] and p.duplicates > 2


@pytest.mark.parametrize("make, message", [
    (lambda t: t / "missing", "no such file or folder"),
    (lambda t: (t / "empty").mkdir() or t / "empty", "no images found in .*empty$"),
    (lambda t: (t / "text").mkdir() or (t / "text" / "a.txt").write_text("a") and t / "text",
     r"no images found in .*text \(1 other file skipped\)"),
    (lambda t: str(t / "*.jpg"), "no file matches"),
    # only hidden images: the line (there is no manifest) says where they are and how to take them
    (lambda t: make_tree(t / "tree" / ".hid", n=1).parent, r"no images found in .*tree \(1 hidden "
     r"folder skipped; hidden ones are taken when named\)$"),
])
def test_bad_inputs_are_one_clear_error(tmp_path, make, message):
    with pytest.raises(InputError, match=message):
        plan([make(tmp_path)], tmp_path / "out")


def test_output_inside_input_needs_force_and_is_then_left_out(tmp_path):
    src = make_tree(tmp_path / "in")
    with pytest.raises(OutputError, match="inside the input folder"):
        plan([src], src / "out")
    run_batch([src], src / "out", settings=Settings(SETTINGS.options, force=True), jobs=1)
    again = plan([src], src / "out", force=True)  # the outputs are not taken as inputs
    assert len(again.jobs) == 4


def test_the_output_folder_is_named_as_typed(tmp_path, capsys, monkeypatch):
    """`batch in -o out` said "/home/me/photos/out already holds a batch", its shared palette
    "saved to /home/me/photos/out/palette.qnt", though its summary said "manifest in out"."""
    monkeypatch.chdir(tmp_path)
    make_tree(tmp_path / "in", n=2)

    def batch(*args: str) -> tuple[int, str]:
        with pytest.raises(SystemExit) as stop:
            main(["batch", *args])
        return stop.value.code, capsys.readouterr().err

    code, err = batch("in", "-o", "out", "-k", "4", "--shared-palette")
    assert code == 0 and "shared palette saved to out/palette.qnt\n" in err, err
    for args, line in ((("-k", "4"), "out already holds a batch"),
                       (("-k", "8", "--resume"), "out was made with other options (-k 4, now 8)")):
        code, err = batch("in", "-o", "out", "--shared-palette", *args)
        assert code in (2, 5) and err.startswith(f"quantize: error: {line}"), err
    (tmp_path / "out" / "palette.qnt").unlink()
    code, err = batch("in", "-o", "out", "-k", "4", "--shared-palette", "--resume")
    assert err.startswith("quantize: error: out/palette.qnt, the shared palette"), err
    (tmp_path / "out" / manifest.JSON_NAME).write_text("[]")
    code, err = batch("in", "-o", "out", "--resume")
    assert err.startswith(f"quantize: error: out/{manifest.JSON_NAME}: not a readable"), err
    code, err = batch("in", "-o", "in/out")
    assert err.startswith("quantize: error: output folder in/out is inside the input folder in "), err
    assert str(tmp_path) not in err


@pytest.mark.parametrize("text, why", [('{"rows": 5', "Expecting ',' delimiter"),
                                       ("[]", "unknown layout"), ('"rows"', "unknown layout"),
                                       ('{"version": 99, "rows": []}', "unknown layout")])
def test_a_damaged_manifest_is_one_line_naming_it(tmp_path, capsys, text, why):
    """A manifest that is JSON but no object said "'list' object has no attribute 'get'"; the
    line says how to redo the batch, and --force does (it read the manifest, and refused)."""
    src = make_tree(tmp_path / "in", n=1)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / manifest.JSON_NAME).write_text(text)
    with pytest.raises(SystemExit) as stop:
        main(["batch", str(src), "-o", str(tmp_path / "out"), "--resume"])
    err = capsys.readouterr().err
    assert stop.value.code == 4 and err.count("\n") == 1, err
    assert err.startswith(f"quantize: error: {tmp_path / 'out' / manifest.JSON_NAME}: not a "
                          f"readable batch manifest ({why}"), err
    assert err.endswith("): run with --force and without --resume to redo the batch\n"), err
    with pytest.raises(SystemExit) as stop:
        main(["batch", str(src), "-o", str(tmp_path / "out"), "--force", "-q"])
    assert stop.value.code == 0, capsys.readouterr().err
    assert manifest.read(tmp_path / "out")["summary"]["done"] == 1


def test_a_resume_from_another_folder_does_not_take_over_a_name_below_the_output(tmp_path):
    """Resumed with another folder, whose x.png is another image, the batch replaced the first
    folder's x.qnt as if that image had changed; the same image by a copy or after a move is
    still taken."""
    first, second = make_tree(tmp_path / "a", n=1), make_tree(tmp_path / "b", n=2)
    run_batch([first], tmp_path / "out", settings=SETTINGS, jobs=1)
    packed = (tmp_path / "out" / "p0.qnt").read_bytes()
    Image.fromarray(make_photo(24, 32, seed=9)).save(second / "p0.png")
    with pytest.raises(InputError, match=rf"^{re.escape(str(second / 'p0.png'))} takes the name "
                       rf"p0.png below the output folder, which the batch resumed gave "
                       rf"{re.escape(str(first / 'p0.png'))}: give another output folder$"):
        run_batch([second], tmp_path / "out", settings=SETTINGS, jobs=1, resume=True)
    assert (tmp_path / "out" / "p0.qnt").read_bytes() == packed
    shutil.copytree(first, tmp_path / "copy")
    assert run_batch([tmp_path / "copy"], tmp_path / "out", settings=SETTINGS, jobs=1,
                     resume=True).summary.done == 1
    for folder in (first, tmp_path / "copy"):  # whichever the manifest names now is moved
        folder.rename(folder.with_name(folder.name + "-moved"))
    assert run_batch([second], tmp_path / "out", settings=SETTINGS, jobs=1,
                     resume=True).summary.done == 2


def test_a_batch_into_its_own_input_folder_lists_no_file_it_wrote(tmp_path):
    """Outputs beside the inputs (-o the input folder): a resume listed its own .qnt files,
    previews, shared palette and manifest as skipped inputs, and counted them."""
    src = make_tree(tmp_path / "in", n=2)
    settings = replace(SETTINGS, force=True)
    run_batch([src], src, settings=settings, jobs=1, shared_palette=True)
    again = run_batch([src], src, settings=SETTINGS, jobs=1, shared_palette=True, resume=True)
    assert sorted(again.manifest.rows) == ["notes.txt", "p0.png", "sub/p1.png"]
    assert again.kept == 2 and again.summary.skipped == 1
    assert (src / "sub" / "p1.preview.png").exists() and (src / "palette.json").exists()


def test_resume_alone_continues_a_batch_inside_its_input_but_not_a_foreign_one(tmp_path):
    src = make_tree(tmp_path / "in", n=2)
    first = run_batch([src], src / "out", settings=replace(SETTINGS, force=True), jobs=1)
    assert first.summary.done == 2
    again = run_batch([src], src / "out", settings=SETTINGS, jobs=1, resume=True)
    assert again.kept == 2 and again.summary.done == 2
    # without resume: that batch is named, with both ways on (--force alone redid every file)
    with pytest.raises(OutputError, match=r"already holds a batch \(manifest.json\): use "
                                          "resume=True to continue it or force=True to redo it"):
        run_batch([src], src / "out", settings=SETTINGS, jobs=1)
    doc = json.loads((src / "out" / manifest.JSON_NAME).read_text())  # as stopped before any row
    doc.update(rows=[], claims={"p0.png": ["p0.qnt"]})
    (src / "out" / manifest.JSON_NAME).write_text(json.dumps(doc))
    assert len(plan([src], src / "out", resume=True).jobs) == 2
    other = make_tree(tmp_path / "other", n=1)
    run_batch([other], src / "theirs", settings=SETTINGS, jobs=1)  # another folder's batch
    with pytest.raises(OutputError, match="inside the input folder .* holds no batch of it"):
        run_batch([src], src / "theirs", settings=SETTINGS, jobs=1, resume=True)
    with pytest.raises(OutputError, match="holds no batch of it"):  # nor an empty folder
        plan([src], src / "new", resume=True)


def test_resume_alone_continues_a_batch_inside_its_input_by_another_spelling(tmp_path, monkeypatch):
    """The input folder reached by a link, or relative where it was absolute through a link, is
    the same folder: the batch in it resumes; another folder's batch is still refused."""
    src = make_tree(tmp_path / "real" / "in", n=2)
    (tmp_path / "alias").symlink_to(tmp_path / "real", target_is_directory=True)
    first = run_batch([tmp_path / "alias" / "in"], tmp_path / "alias" / "in" / "out",
                      settings=replace(SETTINGS, force=True), jobs=1)
    assert first.summary.done == 2
    monkeypatch.chdir(tmp_path / "real")  # the working folder as the OS gives it: no link
    assert run_batch(["in"], "in/out", settings=SETTINGS, jobs=1, resume=True).kept == 2
    (tmp_path / "link").symlink_to(src, target_is_directory=True)
    assert run_batch([tmp_path / "link"], src / "out", settings=SETTINGS, jobs=1,
                     resume=True).kept == 2
    other = make_tree(tmp_path / "other", n=1)
    run_batch([other], src / "theirs", settings=SETTINGS, jobs=1)
    with pytest.raises(OutputError, match="holds no batch of it"):
        plan([tmp_path / "link"], src / "theirs", resume=True)


def test_an_output_folder_reached_by_a_link_into_the_input_is_inside_it(tmp_path):
    src = make_tree(tmp_path / "in", n=2)
    (src / "inner").mkdir()
    (tmp_path / "link").symlink_to(src / "inner", target_is_directory=True)
    with pytest.raises(OutputError, match="inside the input folder"):
        plan([src], tmp_path / "link")
    run_batch([src], tmp_path / "link", settings=Settings(SETTINGS.options, force=True), jobs=1)
    again = plan([src], tmp_path / "link", force=True)  # its own outputs are not inputs
    assert sorted(j.name for j in again.jobs) == ["p0.png", "sub/p1.png"]
    assert [r["path"] for r in again.rows] == ["notes.txt"]
    with pytest.raises(OutputError, match=r"p0.png is a file, not a folder"):
        plan([src], src / "p0.png")


def test_output_folder_that_is_a_file_is_refused(tmp_path):
    src = make_tree(tmp_path / "in")
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="not a folder"):
        plan([src], tmp_path / "file" / "out")


def test_outputs_never_overwrite_inputs_or_each_other(tmp_path):
    src = make_tree(tmp_path / "in", n=1)
    Image.fromarray(make_photo(seed=9)).save(src / "p0.jpg")  # same stem: same .qnt name
    (src / "p0.preview.png").write_bytes((src / "p0.png").read_bytes())
    files = [src / "p0.jpg", src / "p0.png", src / "p0.preview.png"]
    rows = run_batch(files, src, settings=Settings(SETTINGS.options, formats=("qnt", "png"), force=True),
                     jobs=1).manifest.rows
    assert rows["p0.jpg"]["error"] == rows["p0.png"]["error"] == "an output would overwrite an input"
    assert rows["p0.preview.png"]["status"] == "ok"
    assert (src / "p0.preview.png").read_bytes() == (src / "p0.png").read_bytes()


def test_two_inputs_of_one_folder_and_stem_are_refused_before_any_work(tmp_path, capsys,
                                                                       monkeypatch):
    """`batch in -o out` with in/x.png and in/x.jpg wrote x.jpg's outputs and failed x.png's row
    (exit 1), where two x.png of two folders were refused before any work."""
    monkeypatch.chdir(tmp_path)
    make_tree(tmp_path / "in", n=1)
    (tmp_path / "in" / "p0.png").rename(tmp_path / "in" / "x.png")

    def batch(*args: str) -> tuple[int, str]:
        with pytest.raises(SystemExit) as stop:
            main(["batch", "in", "-o", "out", "-k", "4", "-q", *args])
        return stop.value.code, capsys.readouterr().err

    assert batch() == (0, "")
    done = outputs(tmp_path / "out")
    Image.fromarray(make_photo(seed=9)).save(tmp_path / "in" / "x.jpg")
    for args in ((), ("--resume",), ("--force",)):
        assert batch(*args) == (3, "quantize: error: in/x.jpg and in/x.png both take the outputs "
                                   "x.* below the output folder: rename one, or batch each into an "
                                   "output folder of its own\n")
        assert outputs(tmp_path / "out") == done
    (tmp_path / "in" / "x.jpg").rename(tmp_path / "in" / "y.jpg")
    assert batch("--resume") == (0, "")
    assert sorted(outputs(tmp_path / "out")) == ["x.qnt", "y.qnt"]


# --- running -------------------------------------------------------------------------------------

def test_same_files_and_manifest_whatever_jobs(tmp_path):
    src = make_tree(tmp_path / "in", n=5)
    one = run_batch([src], tmp_path / "one", settings=SETTINGS, jobs=1)
    two = run_batch([src], tmp_path / "two", settings=SETTINGS, jobs=2)
    assert outputs(tmp_path / "one") == outputs(tmp_path / "two")
    assert without_times(one.manifest.sorted_rows()) == without_times(two.manifest.sorted_rows())
    assert one.summary.done == 5 and one.summary.skipped == 1 and one.summary.failed == 0


def test_manifest_rows_come_from_the_result(tmp_path):
    src = make_tree(tmp_path / "in", n=2)
    run_batch([src], tmp_path / "out", settings=SETTINGS, jobs=1)
    direct = compress_file(src / "sub" / "p1.png", tmp_path / "direct", options=SETTINGS.options).to_dict()
    doc = json.loads((tmp_path / "out" / manifest.JSON_NAME).read_text())
    row = {r["path"]: r for r in doc["rows"]}["sub/p1.png"]
    for key in ("width", "height", "k_used", "bits_per_pixel", "ratio", "psnr", "delta_e", "mse",
                "packed_file_bytes", "ratio_file_vs_input"):
        assert row[key] == direct[key], key
    assert row["packed_file"] == "sub/p1.qnt" and row["preview_file"] == "sub/p1.preview.png"
    assert row["sha256"] == manifest.sha256_of(tmp_path / "out" / "sub" / "p1.qnt")
    with open(tmp_path / "out" / manifest.CSV_NAME, newline="") as fh:
        csv_rows = {r["path"]: r for r in csv.DictReader(fh)}
    assert csv_rows["sub/p1.png"]["sha256"] == row["sha256"]
    assert csv_rows["notes.txt"]["status"] == "skipped"
    assert doc["summary"]["done"] == 2 and doc["options"]["k"] == 8
    assert row["raw_bytes"] == direct["raw_bytes"] == 24 * 32 * 3  # the pixels, uncompressed
    raw = run_batch([src], tmp_path / "raw", settings=replace(SETTINGS, formats=("raw",)), jobs=1)
    row = raw.manifest.rows["sub/p1.png"]
    assert row["raw_bytes"] == 24 * 32 * 3
    assert row["raw_file_bytes"] == (tmp_path / "raw" / "sub" / "p1.raw").stat().st_size


def test_a_byte_budget_notes_how_each_rows_k_was_chosen(tmp_path):
    src = make_tree(tmp_path / "in", n=2)
    result = run_batch([src], tmp_path / "out", settings=replace(SETTINGS, max_bytes=400), jobs=1)
    for row in (result.manifest.rows[name] for name in ("p0.png", "sub/p1.png")):
        assert row["status"] == "ok"
        assert f"K={row['k']}: the largest K whose qnt file fits" in row["notes"], row["notes"]


def test_a_quality_target_picks_each_images_k_as_compress_does(tmp_path):
    """batch --target-psnr: each row's K and files are compress's searched ones, the row notes
    the K and why, and the manifest keeps the target (a resume with another one is refused)."""
    from quantize.jobs.sweep import compress_searched
    from quantize.jobs.sweep_model import Target

    src = make_tree(tmp_path / "in", n=2, size=(40, 48))
    target = Target(psnr=22.0)
    settings = replace(SETTINGS, options=replace(SETTINGS.options, fit=FitOptions(k=64)),
                       target=target)
    result = run_batch([src], tmp_path / "out", settings=settings, jobs=1)
    assert result.manifest.options["target_psnr"] == 22.0
    for name in ("p0.png", "sub/p1.png"):
        row = result.manifest.rows[name]
        alone, search = compress_searched(src / name, tmp_path / "alone" / name, target,
                                          options=settings.options, formats=SETTINGS.formats)
        assert row["status"] == "ok" and row["k"] == search.k == alone.k and row["psnr"] >= 22
        assert f"K={row['k']}: the smallest K with PSNR >= 22 dB" in row["notes"], row["notes"]
        for out in ("qnt", "preview.png"):
            stem = Path(name).with_suffix("").as_posix()
            assert ((tmp_path / "out" / f"{stem}.{out}").read_bytes()
                    == (tmp_path / "alone" / name / f"{Path(name).stem}.{out}").read_bytes())
    res = CliRunner().invoke(cli, ["batch", str(src), "-o", str(tmp_path / "out"), "-k", "64",
                                   "--format", "qnt,png", "--target-psnr", "23", "--resume"])
    assert isinstance(res.exception, ParameterError)
    assert "(--target-psnr 22, now 23)" in str(res.exception)
    for shared, fixed, budget in ((True, None, None), (False, "pico8", None), (False, None, 10_000)):
        with pytest.raises(ParameterError, match="choose"):
            run_batch([src], tmp_path / "refused", settings=replace(settings, max_bytes=budget),
                      jobs=1, shared_palette=shared, palette_from=fixed)
    assert not (tmp_path / "refused").exists()


def test_a_codec_that_cannot_code_k_says_which_one_codes_it(tmp_path):
    """bilevel codes K = 2 only: compress and batch at K = 8 note the cm they write instead."""
    src = make_tree(tmp_path / "in", n=1)
    words = "the bilevel codec codes K = 2 only: these 8 colours are coded with cm"
    one = CliRunner().invoke(cli, ["compress", str(src / "p0.png"), "-o", str(tmp_path / "c"),
                                   "-k", "8", "--codec", "bilevel"])
    assert one.exit_code == 0 and f"note: {words}" in one.output
    settings = replace(SETTINGS, options=replace(SETTINGS.options, codec="bilevel"))
    row = run_batch([src], tmp_path / "b", settings=settings, jobs=1).manifest.rows["p0.png"]
    assert words in row["notes"] and container.load(tmp_path / "b" / "p0.qnt").header.codec == "cm"


def test_failures_are_isolated_and_exit_code_is_1(tmp_path):
    src = make_tree(tmp_path / "in", n=2)
    (src / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    res = CliRunner().invoke(cli, ["batch", str(src), "-o", str(tmp_path / "out"), "-k", "4", "-j", "1"])
    assert res.exit_code == 1
    assert "done 2, skipped 1, failed 1" in res.output
    assert "\r" not in res.output  # no progress bar when stderr is not a terminal
    rows = json.loads((tmp_path / "out" / manifest.JSON_NAME).read_text())["rows"]
    assert [r["status"] for r in rows] == ["failed", "skipped", "ok", "ok"]
    assert "broken.png" in rows[0]["error"]
    # the failure line names the input once, as the summary's rows do
    failure = next(line for line in res.output.splitlines() if "failed: " in line)
    assert failure.startswith("quantize: failed: broken.png") and failure.count("broken.png") == 1
    ok = CliRunner().invoke(cli, ["batch", str(src / "p0.png"), "-o", str(tmp_path / "o2"), "-k", "4",
                                  "-j", "1"])
    assert ok.exit_code == 0, ok.output


def test_the_summary_says_which_rows_its_mean_psnr_leaves_out(tmp_path):
    src = make_tree(tmp_path / "in", n=2)
    Image.fromarray(np.full((4, 4, 3), 9, np.uint8)).save(src / "flat.png")  # lossless at K=8
    result = run_batch([src], tmp_path / "out", settings=SETTINGS, jobs=1)
    rows = result.manifest.rows
    assert rows["flat.png"]["psnr"] is None and result.summary.lossless == 1
    assert result.summary.mean_psnr == pytest.approx(
        (rows["p0.png"]["psnr"] + rows["sub/p1.png"]["psnr"]) / 2)
    done = CliRunner().invoke(cli, ["batch", str(src), "-o", str(tmp_path / "cli"), "-k", "8"])
    assert f"mean PSNR {result.summary.mean_psnr:.2f} dB (1 lossless left out)" in done.output


def test_existing_batch_needs_resume_or_force(tmp_path):
    src = make_tree(tmp_path / "in", n=1)
    run_batch([src], tmp_path / "out", settings=SETTINGS, jobs=1)
    with pytest.raises(OutputError, match="resume=True") as refused:
        run_batch([src], tmp_path / "out", settings=SETTINGS, jobs=1)
    assert {"resume=True", "force=True"} <= set(refused.value.parameters)  # the CLI's flags instead


def test_a_folder_another_batch_is_writing_is_refused_before_any_work(tmp_path, capsys):
    fcntl = pytest.importorskip("fcntl")
    src = make_tree(tmp_path / "in", n=2)
    out = tmp_path / "out"
    out.mkdir()
    held = os.open(out, os.O_RDONLY)
    fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a batch running in another process does
    try:
        for resume in (False, True):  # --force or --resume: two writers would mix their files
            with pytest.raises(OutputError, match="is being written by another batch right now"):
                run_batch([src], out, settings=replace(SETTINGS, force=True), jobs=1,
                          resume=resume)
        with pytest.raises(SystemExit) as refused:
            main(["batch", str(src), "-o", str(out), "-k", "8", "-j", "1"])
        assert refused.value.code == 5
        assert capsys.readouterr().err.startswith(f"quantize: error: {out} is being written")
        assert list(out.iterdir()) == []
    finally:
        os.close(held)
    run_batch([src], out, settings=SETTINGS, jobs=1)  # released: the folder is free again
    assert run_batch([src], out, settings=SETTINGS, jobs=1, resume=True).kept == 2


def test_resume_redoes_only_missing_or_changed_outputs(tmp_path):
    src = make_tree(tmp_path / "in", n=4)
    out = tmp_path / "out"
    first = run_batch([src], out, settings=SETTINGS, jobs=1)
    before = outputs(out)
    (out / "p0.qnt").unlink()
    (out / "sub" / "p1.preview.png").write_bytes(b"tampered")
    done: list[str] = []
    again = run_batch([src], out, settings=SETTINGS, jobs=1, resume=True,
                      progress=lambda phase, i, n, name: done.append(name))
    assert sorted(done) == ["p0.png", "sub/p1.png"] and again.kept == 2
    assert outputs(out) == before
    assert without_times(again.manifest.sorted_rows()) == without_times(first.manifest.sorted_rows())
    with pytest.raises(ParameterError, match="other options .*k"):
        run_batch([src], out, settings=Settings(CompressOptions(fit=FitOptions(k=4)), formats=("qnt", "png")),
                  jobs=1, resume=True)
    for rdo in (50.0, "auto"):  # the mapping changes every file: what was kept no longer is
        with pytest.raises(ParameterError, match=r"other options \(rdo\)"):
            run_batch([src], out, settings=replace(SETTINGS, options=replace(SETTINGS.options, rdo=rdo)),
                      jobs=1, resume=True)


def test_resume_replaces_only_the_outputs_its_manifest_lists_as_its_own(tmp_path):
    src = make_tree(tmp_path / "in", n=2)
    out = tmp_path / "out"
    out.mkdir()
    (out / "p0.qnt").write_bytes(b"precious")  # the user's, not the batch's
    first = run_batch([src], out, settings=SETTINGS, jobs=1)
    assert first.manifest.rows["p0.png"]["status"] == "failed"
    produced = (out / "sub" / "p1.qnt").read_bytes()
    os.utime(src / "sub" / "p1.png", ns=(1, 1))  # changed: redone over its own outputs
    again = run_batch([src], out, settings=SETTINGS, jobs=1, resume=True)
    assert (out / "p0.qnt").read_bytes() == b"precious"
    assert "already exists" in again.manifest.rows["p0.png"]["error"]
    assert again.manifest.rows["sub/p1.png"]["status"] == "ok" and again.kept == 0
    assert (out / "sub" / "p1.qnt").read_bytes() == produced
    (out / manifest.JSON_NAME).unlink()  # no record of what it wrote: nothing is its own
    blind = run_batch([src], out, settings=SETTINGS, jobs=1, resume=True)
    assert all("already exists" in blind.manifest.rows[name]["error"] for name in ("p0.png", "sub/p1.png"))
    assert (out / "p0.qnt").read_bytes() == b"precious"


def test_outputs_a_killed_run_wrote_unrecorded_are_its_own_on_resume(tmp_path, monkeypatch):
    """A run claims each job's outputs in the manifest before any job runs; a worker that wrote
    them after its run was killed (no row) left them claimed, so --resume redoes them in place.
    An output no claim or row lists stays the user's."""
    from quantize.jobs import batch

    src = make_tree(tmp_path / "in", n=2)
    out = tmp_path / "out"
    seen = []
    real = batch.run_job

    def watched(job, settings):  # what the manifest says while the first job runs
        claims = json.loads((out / manifest.JSON_NAME).read_text())["claims"]
        seen.append((job.name, claims.get(job.name)))
        return real(job, settings)

    monkeypatch.setattr(batch, "run_job", watched)
    first = run_batch([src], out, settings=SETTINGS, jobs=1)
    files = {name: [row["packed_file"], row["preview_file"]]
             for name, row in first.manifest.rows.items() if row["status"] == "ok"}
    assert {name: sorted(claimed) for name, claimed in seen} == \
        {name: sorted(paths) for name, paths in files.items()}
    doc = json.loads((out / manifest.JSON_NAME).read_text())
    assert doc["claims"] == {}  # every job recorded: its row lists its outputs
    killed = dict(doc, rows=[r for r in doc["rows"] if r["path"] != "p0.png"],
                  claims={"p0.png": files["p0.png"]})
    (out / manifest.JSON_NAME).write_text(json.dumps(killed))
    again = run_batch([src], out, settings=SETTINGS, jobs=1, resume=True)
    assert again.manifest.rows["p0.png"]["status"] == "ok" and again.kept == 1
    unclaimed = dict(killed, claims={})
    (out / manifest.JSON_NAME).write_text(json.dumps(unclaimed))
    refused = run_batch([src], out, settings=SETTINGS, jobs=1, resume=True)
    assert "already exists" in refused.manifest.rows["p0.png"]["error"]


def test_a_failed_row_keeps_the_claims_of_the_outputs_its_input_had(tmp_path, monkeypatch):
    """A damaged input fails its row on --resume; once repaired, the next --resume redoes it over
    the outputs an earlier run wrote. A job that wrote its files after its row failed (a Dask
    worker finishing once its client gave up) leaves them claimed as well."""
    from quantize.jobs import batch

    src = make_tree(tmp_path / "in", n=2)
    out = tmp_path / "out"
    run_batch([src], out, settings=SETTINGS, jobs=1)
    good = (src / "p0.png").read_bytes()
    (src / "p0.png").write_bytes(good[:60])
    damaged = run_batch([src], out, settings=SETTINGS, jobs=1, resume=True)
    assert damaged.manifest.rows["p0.png"]["status"] == "failed"
    assert sorted(damaged.manifest.claims["p0.png"]) == ["p0.preview.png", "p0.qnt"]
    (src / "p0.png").write_bytes(good)
    repaired = run_batch([src], out, settings=SETTINGS, jobs=1, resume=True)
    assert repaired.manifest.rows["p0.png"]["status"] == "ok" and repaired.summary.failed == 0

    real = batch.run_job

    def lost(job, settings):  # the outputs are written, the row says the scheduler was lost
        real(job, settings)
        return manifest.problem_row(job.name, "failed", "the job was cancelled", job.source)

    os.utime(src / "sub" / "p1.png", ns=(1, 1))
    monkeypatch.setattr(batch, "run_job", lost)
    assert run_batch([src], out, settings=SETTINGS, jobs=1, resume=True).summary.failed == 1
    monkeypatch.setattr(batch, "run_job", real)
    again = run_batch([src], out, settings=SETTINGS, jobs=1, resume=True)
    assert again.manifest.rows["sub/p1.png"]["status"] == "ok" and again.manifest.claims == {}


def test_resume_removes_the_temporary_files_a_killed_run_left(tmp_path):
    src = make_tree(tmp_path / "in", n=2)
    out = tmp_path / "out"
    run_batch([src], out, settings=SETTINGS, jobs=1)
    (out / "p0.qnt").unlink()
    left = [out / ".p0.qnt.0123456789ab.part", out / "sub" / ".p1.preview.png.00aa11bb22cc.part",
            out / ".p0.qnt.0123456789ab.part.old", out / ".manifest.json.abcdefabcdef.part"]
    theirs = [out / ".p0.qnt.mine.part", out / ".other.qnt.0123456789ab.part"]
    for path in left + theirs:
        path.write_bytes(b"x")
    run_batch([src], out, settings=SETTINGS, jobs=1, resume=True)
    assert [p.name for p in left + theirs if p.exists()] == [p.name for p in theirs]


def test_resume_of_some_inputs_keeps_the_rows_of_the_others(tmp_path):
    src = make_tree(tmp_path / "in", n=3)
    out = tmp_path / "out"
    first = run_batch([src], out, settings=SETTINGS, jobs=1)
    one = run_batch([src / "p0.png"], out, settings=SETTINGS, jobs=1, resume=True)
    done = {name for name, row in first.manifest.rows.items() if row["status"] == "ok"}
    assert set(one.manifest.rows) == done  # p2 and sub/p1 stay recorded
    os.utime(src / "p2.png", ns=(1, 1))
    again = run_batch([src], out, settings=SETTINGS, jobs=1, resume=True)  # p2 redone over its own
    assert again.manifest.rows["p2.png"]["status"] == "ok" and again.kept == 2
    (out / "sub" / "p1.qnt").unlink()  # gone: its row is not carried by a run not given it
    assert "sub/p1.png" not in run_batch([src / "p0.png"], out, settings=SETTINGS, jobs=1,
                                         resume=True).manifest.rows


def test_the_command_lines_manifest_words_errors_with_its_flags(tmp_path):
    src = make_tree(tmp_path / "in", n=2)
    out = tmp_path / "out"
    out.mkdir()
    (out / "p0.qnt").write_bytes(b"mine")
    done = CliRunner().invoke(cli, ["batch", str(src), "-o", str(out), "-k", "8", "-j", "2"])
    assert done.exit_code == 1
    rows = {r["path"]: r for r in json.loads((out / manifest.JSON_NAME).read_text())["rows"]}
    assert rows["p0.png"]["error"].endswith("already exists (use --force to replace it)")
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "p0.qnt").write_bytes(b"mine")
    library = run_batch([src], tmp_path / "lib", settings=SETTINGS, jobs=1)  # its own words
    assert library.manifest.rows["p0.png"]["error"].endswith("(use force=True to replace it)")


def test_full_disk_leaves_nothing_half_written(tmp_path, monkeypatch):
    src = make_tree(tmp_path / "in", n=2)
    def full_disk(real):
        def move(a, b, **kwargs):
            if str(b).endswith(".qnt"):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
            return real(a, b, **kwargs)
        return move

    # a file is moved into place by os.replace (with --force) or os.link (without)
    monkeypatch.setattr(os, "replace", full_disk(os.replace))
    monkeypatch.setattr(os, "link", full_disk(os.link))
    result = run_batch([src], tmp_path / "out", settings=SETTINGS, jobs=1)
    rows = result.manifest.rows
    assert all("No space left on device" in rows[n]["error"] for n in ("p0.png", "sub/p1.png"))
    assert sorted(p.name for p in (tmp_path / "out").rglob("*") if p.is_file()) == \
        ["manifest.csv", "manifest.json"]
    assert json.loads((tmp_path / "out" / manifest.JSON_NAME).read_text())["summary"]["failed"] == 2


def test_file_vanishing_mid_run_fails_only_that_file(tmp_path):
    src = make_tree(tmp_path / "in", n=3)

    def vanish(phase, i, n, name):
        (src / "p2.png").unlink(missing_ok=True)

    result = run_batch([src], tmp_path / "out", settings=SETTINGS, jobs=1, progress=vanish)
    rows = result.manifest.rows
    assert rows["p2.png"]["status"] == "failed" and "no such file" in rows["p2.png"]["error"]
    assert result.summary.done == 2


# --- shared palette ---------------------------------------------------------------------------------

def test_shared_palette_is_fitted_saved_and_reusable(tmp_path):
    src = make_tree(tmp_path / "in", n=3)
    result = run_batch([src], tmp_path / "out", settings=SETTINGS, jobs=1, shared_palette=True)
    shared = container.load(tmp_path / "out" / "palette.qnt").palette
    assert len(shared) == 8 and [p.name for p in result.palette_files] == ["palette.qnt", "palette.json"]
    for name in ("p0.qnt", "sub/p1.qnt", "p2.qnt"):
        used = container.load(tmp_path / "out" / name).palette
        assert {tuple(c) for c in used} <= {tuple(c) for c in shared}
    json_colors = [c["hex"] for c in json.loads((tmp_path / "out" / "palette.json").read_text())["colors"]]
    assert json_colors == ["#" + bytes(c).hex() for c in shared]
    again = run_batch([src], tmp_path / "again", settings=SETTINGS, jobs=1,
                      palette_from=tmp_path / "out" / "palette.json")
    assert outputs(tmp_path / "again") == {k: v for k, v in outputs(tmp_path / "out").items()
                                           if not k.startswith("palette.")}
    assert again.palette_files == []


def test_shared_palette_is_in_the_path_order_a_compress_fit_has(tmp_path):
    """batch --shared-palette kept the k-means seeding's order (#61584d #742b20 #e4d6c9 ...), which
    compress puts in a nearest-neighbour path from the darkest colour so the .qnt codes it small."""
    from quantize.core.fitting import path_order

    src = make_tree(tmp_path / "in", n=2)
    run_batch([src], tmp_path / "out", settings=SETTINGS, jobs=1, shared_palette=True)
    shared = container.load(tmp_path / "out" / "palette.qnt").palette
    np.testing.assert_array_equal(path_order(shared), np.arange(len(shared)))


def test_a_refused_resume_leaves_the_shared_palette_files_as_they_were(tmp_path):
    src = make_tree(tmp_path / "in", n=2)
    out = tmp_path / "out"
    run_batch([src], out, settings=SETTINGS, jobs=1, shared_palette=True)
    saved = (out / "palette.json").read_bytes()
    with pytest.raises(ParameterError, match="other options .*k"):
        run_batch([src], out, settings=Settings(CompressOptions(fit=FitOptions(k=4))), jobs=1,
                  shared_palette=True, resume=True)
    assert (out / "palette.json").read_bytes() == saved
    (out / "palette.qnt").unlink()
    Image.fromarray(make_photo(24, 32, seed=9)).save(src / "new.png")
    with pytest.raises(OutputError, match="palette.qnt, the shared palette of the batch resumed, "
                                          "is missing"):
        run_batch([src], out, settings=SETTINGS, jobs=1, shared_palette=True, resume=True)
    assert (out / "palette.json").read_bytes() == saved and not (out / "palette.qnt").exists()


@pytest.mark.parametrize("stem, said", [
    ("palette", "in/palette.png takes the output palette.qnt below the output folder, the "
                "batch's shared palette: rename it"),
    ("Palette", "in/Palette.png takes the output Palette.qnt below the output folder, the "
                "batch's shared palette palette.qnt where case is ignored (macOS, Windows): "
                "rename it")])
def test_an_input_named_palette_is_refused_before_any_work(tmp_path, monkeypatch, stem, said):
    """An input whose .qnt is the shared palette's file failed its row after the whole batch."""
    monkeypatch.chdir(tmp_path)
    src = make_tree(tmp_path / "in", n=2)
    (src / "p0.png").rename(src / f"{stem}.png")
    for force in (False, True):
        with pytest.raises(InputError) as refused:
            run_batch(["in"], "out", settings=replace(SETTINGS, force=force), jobs=1,
                      shared_palette=True)
        assert str(refused.value) == said and not (tmp_path / "out").exists()
    previews = replace(SETTINGS, formats=("png",))  # writes palette.preview.png: no clash
    assert run_batch(["in"], "out", settings=previews, jobs=1, shared_palette=True).summary.failed == 0
    assert run_batch(["in"], "own", settings=SETTINGS, jobs=1).summary.failed == 0


def test_palette_from_takes_a_built_in_palette_by_name(tmp_path):
    from quantize.io.palettes.builtin import builtin_palette

    src = make_tree(tmp_path / "in", n=2)
    result = run_batch([src], tmp_path / "out", settings=SETTINGS, jobs=1, palette_from="pico8")
    assert result.summary.failed == 0
    assert {row["k"] for row in result.manifest.rows.values() if row["status"] == "ok"} == {16}
    for shared, fixed in ((True, None), (False, "pico8")):
        with pytest.raises(ParameterError, match="cannot be combined with a fixed or shared"):
            run_batch([src], tmp_path / "b", settings=replace(SETTINGS, max_bytes=10_000), jobs=1,
                      shared_palette=shared, palette_from=fixed)
    assert not (tmp_path / "b").exists()
    allowed = {tuple(c) for c in builtin_palette("pico8").colors}
    assert {tuple(c) for c in container.load(tmp_path / "out" / "p0.qnt").palette} <= allowed


def test_an_animation_is_left_out_of_the_shared_palette_and_its_row_names_the_flags(tmp_path):
    """An animated GIF fails its row (it fits its own palettes): its colours must not pull the
    shared palette of the stills, and its error names the command line's flags."""
    src = make_tree(tmp_path / "in", n=2)
    frames = [Image.fromarray(np.full((8, 8, 3), c, np.uint8)) for c in ((255, 0, 0), (0, 255, 0))]
    run_batch([src], tmp_path / "stills", settings=SETTINGS, jobs=1, shared_palette=True)
    frames[0].save(src / "clip.gif", save_all=True, append_images=frames[1:], duration=100)
    done = CliRunner().invoke(cli, ["batch", str(src), "-o", str(tmp_path / "out"), "-k", "8",
                                    "-j", "1", "--shared-palette", "--format", "qnt,png"])
    assert done.exit_code == 1
    assert (tmp_path / "out" / "palette.qnt").read_bytes() == \
        (tmp_path / "stills" / "palette.qnt").read_bytes()
    row = json.loads((tmp_path / "out" / manifest.JSON_NAME).read_text())["rows"][0]
    assert row["path"] == "clip.gif" and row["error"].startswith("an animation fits its own")
    assert "--shared-palette and --palette-from do not apply" in row["error"]


def test_batch_rotate_turns_the_stills_and_fails_an_animation_row(tmp_path):
    """--rotate turns every still's files; an animation, written as it plays, fails its row
    instead of being written unturned."""
    src = tmp_path / "in"
    src.mkdir()
    wide = np.zeros((2, 3, 3), np.uint8)
    wide[0, 0] = 255
    Image.fromarray(wide).save(src / "wide.png")
    frames = [Image.fromarray(np.full((8, 8, 3), c, np.uint8)) for c in ((255, 0, 0), (0, 255, 0))]
    frames[0].save(src / "clip.gif", save_all=True, append_images=frames[1:], duration=100)
    done = CliRunner().invoke(cli, ["batch", str(src), "-o", str(tmp_path / "out"), "-j", "1",
                                    "--palette-from", "bw", "--format", "qnt", "--rotate", "90"])
    assert done.exit_code == 1, done.output
    assert container.load(tmp_path / "out" / "wide.qnt").indices.tolist() == [[0, 1], [0, 0], [0, 0]]
    rows = json.loads((tmp_path / "out" / manifest.JSON_NAME).read_text())["rows"]
    error = next(row["error"] for row in rows if row["path"] == "clip.gif")
    assert error == "--rotate turns a still picture; an animation is written as it plays", error


def test_shared_palette_is_the_same_whatever_jobs(tmp_path):
    """Counting and compressing run on the same workers, one run after the other."""
    src = make_tree(tmp_path / "in", n=4)
    run_batch([src], tmp_path / "one", settings=SETTINGS, jobs=1, shared_palette=True)
    run_batch([src], tmp_path / "two", settings=SETTINGS, jobs=2, shared_palette=True)
    assert outputs(tmp_path / "one") == outputs(tmp_path / "two")


def test_shared_palette_counts_every_pixel_of_every_image(tmp_path):
    """Two flat images, 3 and 1 colours: K=4 gives exactly those colours, whatever the split."""
    src = tmp_path / "in"
    src.mkdir()
    a = np.zeros((4, 6, 3), np.uint8)
    a[:, 2:4] = (255, 0, 0)
    a[:, 4:] = (0, 0, 255)
    Image.fromarray(a).save(src / "a.png")
    Image.fromarray(np.full((3, 3, 3), 200, np.uint8)).save(src / "b.png")
    run_batch([src], tmp_path / "out", settings=Settings(CompressOptions(fit=FitOptions(k=4))), jobs=1,
              shared_palette=True)
    shared = {tuple(c) for c in container.load(tmp_path / "out" / "palette.qnt").palette}
    assert shared == {(0, 0, 0), (255, 0, 0), (0, 0, 255), (200, 200, 200)}


def test_shared_palette_sees_alpha_as_one_image_would(tmp_path):
    """Fully transparent pixels hide a colour no one sees; a soft edge keeps its alpha; K holds."""
    src = tmp_path / "in"
    src.mkdir()
    opaque = make_photo(24, 32, seed=1)
    Image.fromarray(opaque).save(src / "a.png")
    sprite = np.dstack([make_photo(24, 32, seed=2), np.full((24, 32), 255, np.uint8)])
    sprite[:, :10] = (0, 255, 0, 0)  # hidden green
    sprite[:, 10:14, 3] = 128  # a soft edge
    Image.fromarray(sprite, "RGBA").save(src / "b.png")
    result = run_batch([src], tmp_path / "out", settings=SETTINGS, jobs=1, shared_palette=True)
    shared = container.load(tmp_path / "out" / "palette.qnt").palette
    assert len(shared) <= 8 and shared.shape[1] == 4
    assert (0, 255, 0) not in {tuple(c[:3]) for c in shared}
    assert result.manifest.rows["b.png"]["k_used"] <= 8
    (src / "a.png").unlink()  # the shared palette of one image is its own
    run_batch([src], tmp_path / "one", settings=SETTINGS, jobs=1, shared_palette=True)
    own = compress_file(src / "b.png", tmp_path / "own", options=SETTINGS.options)
    assert {tuple(c) for c in container.load(tmp_path / "one" / "palette.qnt").palette} == \
        {tuple(c) for c in own.palette}


@pytest.mark.parametrize("resample,words", [({"width": 0}, "width must be at least 1 pixel"),
                                            ({"fps": 2000.0}, "fps must be above 0"),
                                            ({"size": 3}, "not size")])
def test_a_batch_refuses_unusable_resampling_before_any_work(tmp_path, resample, words):
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(src / "a.png")
    with pytest.raises(ParameterError, match=words):
        run_batch([src], tmp_path / "out", settings=Settings(SETTINGS.options, resample=resample),
                  jobs=1)
    assert not (tmp_path / "out").exists()


def test_a_refused_resume_names_the_flags_and_values_typed(tmp_path, capsys):
    """The refusal named the manifest's settings (raw_msb_first, raw_pages, rdo) where the user
    had typed --raw-bit-order, --raw-rows and --rdo, and gave neither run's value; and -k, which
    a --palette-from's size sets, where the user had typed another palette."""
    src = tmp_path / "in"
    src.mkdir()
    Image.new("RGB", (9, 4), "red").save(src / "tag.png")
    batch = ["batch", str(src), "-o", str(tmp_path / "out"), "-j", "1", "-q"]
    planes = ["--format", "raw,png", "--palette-from", "bwr", "--raw-rows", "planes"]
    with pytest.raises(SystemExit) as exc:
        main([*batch, *planes])
    assert exc.value.code == 0, capsys.readouterr().err
    for args, words in (
            ([*planes, "--raw-bit-order", "lsb"], "(--raw-bit-order msb, now lsb)"),
            ([*planes[:2], "--palette-from", "bw", "--raw-rows", "pages"],  # pages' own bit order
             "(--palette-from bwr, now bw; --raw-rows planes, now pages)"),  # no -k: bw's size
            ([*planes[:2], "--palette-from", "bw", "--raw-rows", "planes"],
             "(--palette-from bwr, now bw)"),
            ([*planes, "--rdo", "5", "--png-effort", "0", "--width", "8"],
             "(--png-effort 2, now 0; --rdo 0, now 5; --width not given, now 8)"),
            (["--format", "raw,png,qnt", "-k", "3"],
             "(--format raw,png, now raw,png,qnt; --palette-from bwr, now not given; --raw-rows "
             "planes, now padded)")):
        with pytest.raises(SystemExit) as exc:
            main([*batch, *args, "--resume"])
        err = capsys.readouterr().err
        assert exc.value.code == 2 and len(err.strip().splitlines()) == 1, err
        assert f"was made with other options {words}: run with --force and without --resume" in err, err


def test_resume_refuses_a_run_whose_files_are_written_otherwise(tmp_path):
    """--png-effort and --webp-method were left out of the manifest's options: a --resume with
    another effort kept every file of the first run's effort and said nothing."""
    from quantize.io.outputs import FileOptions

    src = make_tree(tmp_path / "in", n=2)
    out = tmp_path / "out"
    settings = replace(SETTINGS, formats=("qnt", "png", "webp"))
    run_batch([src], out, settings=settings, jobs=1)
    for files, changed in ((FileOptions(png_effort=0), "png_effort"),
                           (FileOptions(webp_method=6), "webp_method")):
        with pytest.raises(ParameterError, match=rf"other options \({changed}\)"):
            run_batch([src], out, settings=replace(settings, files=files), jobs=1, resume=True)
    assert run_batch([src], out, settings=replace(settings, files=FileOptions()), jobs=1,
                     resume=True).kept == 2  # the defaults, given or not, are the same run


def test_a_failed_rows_error_names_its_input_as_its_path_does(tmp_path):
    src = make_tree(tmp_path / "in", n=1)
    (src / "sub").mkdir()
    (src / "sub" / "broken.png").write_bytes(b"")
    res = CliRunner().invoke(cli, ["batch", str(src), "-o", str(tmp_path / "out"), "-k", "4", "-j", "1"])
    row = json.loads((tmp_path / "out" / manifest.JSON_NAME).read_text())["rows"][-1]
    assert (row["path"], row["error"]) == ("sub/broken.png", "sub/broken.png is empty")
    assert row["input"] == str(src / "sub" / "broken.png")
    with open(tmp_path / "out" / manifest.CSV_NAME, newline="") as fh:
        assert list(csv.DictReader(fh))[-1]["error"] == "sub/broken.png is empty"
    assert "quantize: failed: sub/broken.png is empty" in res.output.splitlines()


def test_the_json_manifest_keeps_a_non_utf8_name_in_its_documented_escape(tmp_path):
    """A byte 0xNN of a name that is not UTF-8 is ``\\udcNN`` in the JSON (Python's
    surrogateescape: json.load and os.fsencode give the bytes back) and ``\\xNN`` in the CSV."""
    src = tmp_path / "in"
    src.mkdir()
    try:
        Image.fromarray(make_photo(8, 8)).save(src / os.fsdecode(b"caf\xe9.png"))
    except (OSError, UnicodeError):
        pytest.skip("this file system takes only Unicode names")
    run_batch([src], tmp_path / "out", settings=SETTINGS, jobs=1)
    text = (tmp_path / "out" / manifest.JSON_NAME).read_bytes()
    assert text.isascii() and b'"path": "caf\\udce9.png"' in text
    assert b'"packed_file": "caf\\udce9.qnt"' in text
    row = json.loads(text)["rows"][0]
    assert os.fsencode(row["path"]) == b"caf\xe9.png"
    assert os.fsencode(row["input"]) == os.fsencode(src) + b"/caf\xe9.png"
    assert "caf\\xe9.png,ok," in (tmp_path / "out" / manifest.CSV_NAME).read_text("utf-8")
    again = run_batch([src], tmp_path / "out", settings=SETTINGS, jobs=1, resume=True)
    assert again.kept == 1


def test_a_palette_is_the_same_one_by_its_colours_whatever_its_name(tmp_path):
    """The manifest keeps the name a palette was given as, to word a refusal; a resume with the
    same colours under another name is the same run."""
    src = make_tree(tmp_path / "in", n=2)
    out = tmp_path / "out"
    run_batch([src], out, settings=SETTINGS, jobs=1, palette_from="bwr")
    assert json.loads((out / "manifest.json").read_text())["options"]["palette_from"] == "bwr"
    (tmp_path / "bwr.gpl").write_text("GIMP Palette\n#\n0 0 0 k\n255 255 255 w\n255 0 0 r\n")
    assert run_batch([src], out, settings=SETTINGS, jobs=1, resume=True,
                     palette_from=tmp_path / "bwr.gpl").kept == 2
    with pytest.raises(ParameterError, match=r"other options \(k, palette_sha256\)"):
        run_batch([src], out, settings=SETTINGS, jobs=1, resume=True, palette_from="bw")


def test_a_batch_shows_its_warnings(tmp_path, capsys):
    """batch ended in sys.exit inside the command, past the line that shows the warnings held
    during the run: a --palette-from white before black warned under compress, not under batch."""
    src = tmp_path / "in"
    src.mkdir()
    Image.new("RGB", (9, 4), "red").save(src / "tag.png")
    (tmp_path / "wbr.gpl").write_text("GIMP Palette\n#\n255 255 255 w\n0 0 0 k\n255 0 0 r\n")
    with pytest.raises(SystemExit) as exc:
        main(["batch", str(src), "-o", str(tmp_path / "out"), "-j", "1", "-q", "--format", "raw",
              "--palette-from", str(tmp_path / "wbr.gpl"), "--raw-rows", "planes"])
    err = capsys.readouterr().err
    assert exc.value.code == 0 and err.startswith("quantize: warning: the --palette-from's "
                                                  "colour 0 (#FFFFFF) is lighter than its"), err


def test_a_failed_rows_error_names_outputs_as_an_ok_rows_paths_do(tmp_path):
    src = make_tree(tmp_path / "in", n=2)
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    (out / "sub" / "p1.qnt").write_bytes(b"mine")
    res = CliRunner().invoke(cli, ["batch", str(src), "-o", str(out), "-k", "4", "-j", "1"])
    rows = {r["path"]: r for r in json.loads((out / manifest.JSON_NAME).read_text())["rows"]}
    wanted = "output sub/p1.qnt already exists (use --force to replace it)"
    assert rows["sub/p1.png"]["error"] == wanted
    assert rows["p0.png"]["packed_file"] == "p0.qnt"
    with open(out / manifest.CSV_NAME, newline="") as fh:
        assert {r["path"]: r["error"] for r in csv.DictReader(fh)}["sub/p1.png"] == wanted
    assert f"quantize: failed: sub/p1.png: {wanted}" in res.output.splitlines()
    # the output folder's own name, and names outside it, are left whole
    row = manifest.problem_row("a.png", "failed", f"cannot write to {out}: no; x{out}/y; "
                               f"{tmp_path}/outer/z", out_root=out)
    assert row["error"] == f"cannot write to {out}: no; x{out}/y; {tmp_path}/outer/z"


def test_manifest_csv_guards_a_name_a_spreadsheet_would_run_as_a_formula(tmp_path):
    """manifest.csv writes its cells as a sweep's CSV does: a name starting as a formula behind
    a ', a negative number as it is."""
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(make_photo(24, 32)).save(src / "=1+2.png")
    (src / "@cmd.png").write_bytes(b"")  # an image's suffix, no image: a failed row
    run_batch([src], tmp_path / "out", settings=SETTINGS, jobs=1)
    with open(tmp_path / "out" / manifest.CSV_NAME, newline="") as fh:
        rows = {r["path"]: r for r in csv.DictReader(fh)}
    assert set(rows) == {"'=1+2.png", "'@cmd.png"}
    assert rows["'=1+2.png"]["status"] == "ok" and rows["'@cmd.png"]["status"] == "failed"
    assert rows["'=1+2.png"]["packed_file"] == "'=1+2.qnt" and rows["'=1+2.png"]["k"] == "8"
    assert json.loads((tmp_path / "out" / manifest.JSON_NAME).read_text())["rows"][0]["path"] \
        == "=1+2.png"  # the JSON, which --resume reads, keeps the name exact


def test_two_inputs_skipping_files_of_one_name_keep_a_row_for_each(tmp_path):
    """kodak/SOURCE.txt and cq100/SOURCE.txt are both skipped and both counted: the second row
    is named by its path, not written over the first; an image's name stays its row's."""
    one, two = tmp_path / "one", tmp_path / "two"
    for folder, seed in ((one, 0), (two, 1)):
        folder.mkdir()
        (folder / "SOURCE.txt").write_text(folder.name)
        Image.fromarray(make_photo(24, 32, seed)).save(folder / f"p{seed}.png")
    os.mkfifo(two / "p0.png")  # skipped, named as one's image
    result = run_batch([one, two], tmp_path / "out", settings=SETTINGS, jobs=1)
    rows = result.manifest.rows
    assert result.summary.skipped == 3 and result.summary.done == 2
    assert rows["SOURCE.txt"]["input"] == str(one / "SOURCE.txt")
    assert rows[str(two / "SOURCE.txt")]["status"] == "skipped"
    assert rows["p0.png"]["status"] == rows["p1.png"]["status"] == "ok"
    assert rows[str(two / "p0.png")]["status"] == "skipped"
