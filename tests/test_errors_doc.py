"""docs/ERRORS.md against the code: every row of every table is walked.

Each row's exit code is one of the documented codes, each test letter names an existing test file,
and the fixed words of each message it quotes occur in quantize's source. The rows that take a few
lines to set up are run through the command line here, and their code and words are checked.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Callable

import pytest
from PIL import Image

from conftest import make_photo
from quantize.cli import main

REPO = Path(__file__).resolve().parents[1]
DOC = (REPO / "docs" / "ERRORS.md").read_text()
# quantize's source with adjacent string literals joined and f-string fields cut out, so that a
# message split over lines or around a value reads as it prints
SOURCE = re.sub(r"\{[^{}]*\}", " ", re.sub(r"[\"']\s*\n\s*[fr]?[\"']", "", "\n".join(
    p.read_text() for p in (REPO / "quantize").rglob("*.py"))))
# Rows whose quoted lines are examples assembled from values (the format, the codec), so that no
# three words of them stand together in the source; their own tests check the exact lines.
ASSEMBLED = ("animated GIF / APNG", "multi-page TIFF, a camera's MPO JPEG (a photo and its preview)",
             "damaged codec stream, or one that expands past the declared size",
             "`--palette NAME`: no such file and no such built-in palette")
COMMANDS = ("quantize", "compress ", "decode ", "info ", "sweep ", "batch ", "palette ", "-")
CODES = {0, 1, 2, 3, 4, 5, 70, 129, 130, 143}
# Words quoted in the table that come from a library, not from quantize's source.
FOREIGN = ("image file is truncated", "broken data stream when reading image file",
           "Invalid value for", "is not a valid integer", "No space left on device",
           "File name too long", "Permission denied", "Too many levels of symbolic links")


def rows() -> list[tuple[str, str, str, str, str]]:
    """(section, case, what the user sees, code, tests) of every table row with four cells."""
    section, found = "", []
    for line in DOC.splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")] if line.startswith("| ") else []
        if len(cells) == 4 and cells[0] not in ("case", "code") and not set(cells[0]) <= set("-|"):
            found.append((section, *cells))
    return found


def letters() -> dict[str, list[Path]]:
    """The test-file letters the page defines: ``X` = `tests/...``` (``and`` joins two files)."""
    legend: dict[str, list[Path]] = {}
    for letter, files in re.findall(r"`([A-Z])`\s*=\s*((?:`tests/[^`]+`(?:,?\s+and\s+)?)+)", DOC):
        legend[letter] = [p for f in re.findall(r"`(tests/[^`]+)`", files) for p in REPO.glob(f)]
    return legend


ROWS = rows()


def fixed_words(quoted: str) -> list[str]:
    """The literal pieces of a quoted message, between its placeholders (<file>, N, …, numbers)."""
    pieces = re.split(r"<[^>]+>|…|\.\.\.|\b[NMK]\b|\d[\d,.]*|'[^']*'|\([^)]*\)|`", quoted)
    return [p.strip(" :;,.") for p in pieces if len(p.strip(" :;,.")) >= 12]


def runs_of_three(quoted: str) -> list[str]:
    """Every three consecutive words of the message's fixed pieces."""
    return [" ".join(w[i:i + 3]) for piece in fixed_words(quoted) for w in [piece.split()]
            for i in range(len(w) - 2)]


def test_the_tables_are_found():
    sections = {section for section, *_ in ROWS}
    assert len(ROWS) > 60 and {"Options", "Outputs", "Whole folders (`quantize batch`)"} <= sections


@pytest.mark.parametrize("section, case, sees, code, tests", ROWS, ids=[r[1][:40] for r in ROWS])
def test_every_row_has_codes_tests_and_words_the_code_uses(section, case, sees, code, tests):
    assert {int(c) for c in code.split(" / ")} <= CODES, code
    legend = letters()
    named = [t.strip() for t in re.sub(r"\(.*?\)", "", tests).split(",")]
    assert named and all(legend.get(t) for t in named), (tests, sorted(legend))
    for quoted in re.findall(r"`([^`]+)`", sees):
        runs = runs_of_three(quoted)
        if runs and case not in ASSEMBLED and not quoted.startswith(COMMANDS) \
                and not any(f in quoted for f in FOREIGN):
            assert any(run in SOURCE for run in runs), f"{case!r}: no words of {quoted!r} in the code"


# ------------------------------------------------------------------- rows run through the CLI

def _photo(tmp: Path) -> Path:
    path = tmp / "photo.png"
    Image.fromarray(make_photo()).save(path)
    return path


def _packed(tmp: Path) -> Path:
    from quantize.core.fitting import FitOptions
    from quantize.jobs.pipeline import CompressOptions, compress_file

    compress_file(_photo(tmp), tmp / "p", options=CompressOptions(fit=FitOptions(k=4)), formats="qnt")
    return tmp / "p" / "photo.qnt"


def _file(tmp: Path, name: str, text: str) -> Path:
    (tmp / name).write_text(text)
    return tmp / name


def _fifo(tmp: Path) -> Path:
    os.mkfifo(tmp / "pipe.png")
    return tmp / "pipe.png"


# case (as in the table) -> (arguments, given a fresh folder; words the stderr must hold)
SCENARIOS: dict[str, tuple[Callable[[Path], list], tuple[str, ...]]] = {
    "missing file": (lambda t: ["compress", t / "nope.png"], ("nope.png: no such file",)),
    "a directory": (lambda t: ["compress", t], ("is a directory, not an image file",)),
    "a FIFO, socket or device": (lambda t: ["info", _fifo(t)], ("is not a regular file",)),
    "empty file": (lambda t: ["compress", _file(t, "e.png", "")], ("e.png is empty",)),
    "not an image, or a format not read (EPS, PDF, …)": (
        lambda t: ["compress", _file(t, "x.png", "hello")], ("is not an image in a format quantize reads",)),
    "bare `quantize`": (lambda t: [], ()),
    "K < 1 or K > 65,536": (lambda t: ["compress", _photo(t), "-k", "0"],
                            ("K must be between 1 and 65536, got 0",)),
    "negative `--seed`": (lambda t: ["sweep", _photo(t), "--seed", "-1"],
                          ("--seed must be a whole number >= 0, got -1",)),
    "`--scheduler` not an address `[tcp://]HOST:PORT` (empty, `nonsense:abc`, no port, a port above 65535, `http://…`)": (
        lambda t: ["batch", _photo(t), "-o", t / "o", "--scheduler", "nonsense:abc"],
        ("--scheduler must be an address tcp://HOST:PORT", "not nonsense:abc")),
    "`--jobs` with `--scheduler` (it was ignored)": (
        lambda t: ["batch", _photo(t), "-o", t / "o", "--jobs", "2", "--scheduler", "tcp://127.0.0.1:1"],
        ("--jobs sets this machine's processes; with --scheduler",)),
    "the same at the largest K the formats take (`-k 256` with `--format gif`)": (
        lambda t: ["compress", _photo(t), "-o", t / "o", "--format", "gif", "-k", "256",
                   "--target-psnr", "99"],
        ("the target is beyond what 256 colours reach, and no larger K is allowed",)),
    "`batch --jobs` < 1 (`-1` too, all cores to joblib)": (
        lambda t: ["batch", _photo(t), "-o", t / "o", "--jobs", "-1"],
        ("--jobs must be at least 1, got -1: leave --jobs out for all the cores (",)),
    "`--dither-strength` without `--dither`": (
        lambda t: ["compress", _photo(t), "--dither-strength", "0.5"], ("--dither-strength applies",)),
    "`--rdo` below 0 or above 10,000": (
        lambda t: ["compress", _photo(t), "--rdo", "-1"], ("--rdo must be 'auto' or between",)),
    "`--rdo` neither a number nor `auto`": (
        lambda t: ["compress", _photo(t), "--rdo", "best"], ("is neither a number nor 'auto'",)),
    "`--rdo` with `--dither`": (lambda t: ["compress", _photo(t), "--rdo", "50", "--dither", "fs"],
                                ("cannot be combined with --dither",)),
    "`--bits` malformed": (
        lambda t: ["compress", _photo(t), "--bits", "5,6"],
        ("--bits must be R,G,B or N (1 to 8 per channel), got '5,6'",)),
    "`decode -o x.jpg` (a lossy format)": (lambda t: ["decode", _packed(t), "-o", t / "x.jpg"],
                                           ("JPEG is lossy",)),
    "`decode -o` into a missing folder": (lambda t: ["decode", _packed(t), "-o", t / "a" / "b.png"], ()),
    "not a packed file": (lambda t: ["info", _file(t, "x.qnt", "not packed at all")],
                          ("not a quantize packed file (bad magic)",)),
    "deeply nested JSON": (lambda t: ["compress", _photo(t), "--palette",
                                      _file(t, "d.json", "[" * 50_000 + "]" * 50_000)],
                           ("nested too deeply to be a palette",)),
    "missing palette file": (lambda t: ["compress", _photo(t), "--palette", t / "b.gpl"],
                             ("palette file", "b.gpl: no such file")),
    "unknown format name in `palette --format` / `--export-palette`": (
        lambda t: ["palette", _photo(t), "--format", "xyz"], ("unknown palette format 'xyz'",)),
    "output exists, no `--force`": (
        lambda t: ["compress", _photo(t), "-o", _file(t, "photo.qnt", "x").parent],
        ("already exists (use --force to replace it)",)),
}


def test_every_scenario_names_a_row():
    cases = {case for _, case, *_ in ROWS}
    assert set(SCENARIOS) <= cases, set(SCENARIOS) - cases


@pytest.mark.parametrize("case", list(SCENARIOS))
def test_the_row_is_what_the_command_does(case, tmp_path, capsys):
    row = next(r for r in ROWS if r[1] == case)
    make_args, words = SCENARIOS[case]
    args = [str(a) for a in make_args(tmp_path)]
    code = 0
    try:
        main(args)
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert str(code) in row[3].split(" / "), (case, code, err)
    assert "Traceback" not in err
    if code:
        assert err.strip().splitlines()[-1].startswith("quantize: error: "), err
    for w in words:
        assert w in err, (case, err)
    for quoted in re.findall(r"`([^`]+)`", row[2]) if code else ():
        for fixed in fixed_words(quoted):
            if fixed in err or any(f in fixed for f in FOREIGN):
                continue
            # the row quotes an example; its fixed words must still be in what was printed
            assert fixed in err, (case, fixed, err)
