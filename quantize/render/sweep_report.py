"""Rendering a sweep: the terminal table, CSV and JSON, and the files of ``sweep -o DIR``.

Every number comes from :meth:`SweepPoint.to_dict` (the keys of ``compress --json`` plus
``silhouette`` and ``png_bytes``); nothing is recomputed here.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Callable, Iterable, Sequence

from ..errors import ParameterError
from ..io.csvtext import csv_text
from ..io.files import display_name, tagged_name
from ..jobs.sweep_model import SweepPoint, SweepRun, rounded

SHEET, CHART, PAGE = tagged_name("sweep", "sheet"), tagged_name("sweep", "chart"), "report.html"


def _num(digits: int) -> Callable[[object], str]:
    return lambda v: "-" if v is None else f"{v:,.{digits}f}"


def _int(v: object) -> str:
    return "-" if v is None else f"{v:,}"


# (header, key of SweepPoint.to_dict, format) for the terminal and HTML tables
COLUMNS: tuple[tuple[str, str, Callable[[object], str]], ...] = (
    ("K", "k", _int), ("used", "k_used", _int), ("bpp", "bits_per_pixel", _int),
    ("ratio", "ratio", _num(2)), ("packed B", "packed_bytes", _int),
    ("file B", "packed_file_bytes", _int), ("file bpp", "packed_file_bits_per_pixel", _num(3)),
    ("file x", "ratio_file_vs_raw", _num(2)), ("PNG B", "png_bytes", _int),
    ("PNG bpp", "preview_bits_per_pixel", _num(3)), ("MSE", "mse", _num(2)), ("PSNR", "psnr", _num(2)),
    ("dE2000", "delta_e", _num(3)), ("WCSS", "inertia", lambda v: f"{v:.4g}"),
    ("silhouette", "silhouette", _num(3)), ("iter", "n_iter", _int),
    ("s", "seconds", lambda v: f"{v['total']:.2f}"),
)


def table_rows(points: Sequence[SweepPoint]) -> tuple[list[str], list[list[str]]]:
    """The table's header and formatted cells, one row per K."""
    rows = [[fmt(d[key]) for _, key, fmt in COLUMNS] for d in (p.to_dict() for p in points)]
    return [header for header, _, _ in COLUMNS], rows


def format_table(points: Sequence[SweepPoint]) -> str:
    """The sweep as an aligned plain-text table."""
    return _aligned(*table_rows(points))


# (header, cell of AnimationResult.to_dict) for an animation's sweep: its GIF's size and quality
CLIP_COLUMNS: tuple[tuple[str, Callable[[dict], str]], ...] = (
    ("K", lambda d: _int(d["k"])), ("frames", lambda d: _int(d["frames_written"])),
    ("palettes", lambda d: _int(d["palettes"])), ("GIF B", lambda d: _int(d["bytes"]["gif"])),
    ("GIF bpp", lambda d: _num(3)(d["bits_per_pixel"]["gif"])),
    ("PSNR", lambda d: _num(2)(d["mean_psnr"])), ("min PSNR", lambda d: _num(2)(min(d["psnr"]))),
    ("dE2000", lambda d: _num(3)(d["mean_delta_e2000"])),
    ("flicker", lambda d: _num(3)(d["flicker"])), ("s", lambda d: f"{d['seconds']:.2f}"),
)


def clip_table_rows(rows: Sequence[dict]) -> tuple[list[str], list[list[str]]]:
    """An animation sweep's header and formatted cells, one row per K (``AnimationResult.to_dict()``)."""
    return [header for header, _ in CLIP_COLUMNS], [[cell(d) for _, cell in CLIP_COLUMNS] for d in rows]


def format_clip_table(rows: Sequence[dict]) -> str:
    """An animation's sweep (rows of ``AnimationResult.to_dict()``, one per K) as an aligned
    table: frames written, palettes, the animated GIF's bytes and bits per pixel of every frame
    read, mean and minimum PSNR over frames, mean CIEDE2000, flicker and seconds."""
    return _aligned(*clip_table_rows(rows))


def _aligned(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows)]
    return "\n".join("  ".join(cell.rjust(w) for cell, w in zip(line, widths)) for line in [header, *rows])


def format_csv(points: Sequence[SweepPoint]) -> str:
    """Every scalar of each point's dictionary as CSV; ``seconds`` becomes one column per stage
    (``files`` is left out: its figures are the packed and preview columns)."""
    rows = []
    for d in (p.to_dict() for p in points):
        seconds = d.pop("seconds")
        d.pop("palette")
        d.pop("files")
        d["notes"] = "; ".join(d["notes"])
        rows.append({**d, **{f"seconds_{stage}": v for stage, v in seconds.items()}})
    return _csv(rows)


# each figure of an animation's CSV that a still's row rounds, by the figure it is (DECIMALS)
CLIP_FIGURES = {"mean_psnr": "psnr", "clip_psnr": "psnr", "min_psnr": "psnr",
                "mean_delta_e2000": "delta_e", "flicker": "flicker", "seconds": "seconds"}


def format_clip_csv(rows: Sequence[dict]) -> str:
    """An animation's sweep (rows of ``AnimationResult.to_dict()``) as CSV, one line per K: every
    scalar (K first), each format's bytes, bits per pixel and file as columns of their own
    (``bytes_gif``), and the least PSNR of a frame; the per-frame lists stay in the JSON. PSNR,
    CIEDE2000, flicker and seconds are rounded as a still's CSV rounds them (:func:`rounded`)."""
    flat = []
    for d in rows:
        line: dict[str, object] = {"k": d["k"]}
        for key, value in d.items():
            if isinstance(value, dict):
                line.update({f"{key}_{name}": v for name, v in value.items()})
            elif not isinstance(value, list) and not (key in ("budget", "target") and value is None):
                line[key] = value
            if key == "mean_psnr":
                line["min_psnr"] = min(d["psnr"])
        flat.append({key: rounded(CLIP_FIGURES[key], value) if key in CLIP_FIGURES else value
                     for key, value in line.items()})
    return _csv(flat)


def _csv(rows: list[dict]) -> str:
    """``rows`` as CSV (:func:`~quantize.io.csvtext.csv_text`), the first row's keys as columns."""
    return csv_text(rows, list(rows[0]))


def format_json(run: SweepRun) -> str:
    """One JSON object: ``rows``, one object per K, and ``picks``, the elbow, silhouette and
    target recommendations with their reasons (a missed target says which and why)."""
    return json.dumps({"rows": [p.to_dict() for p in run.points], "picks": run.picks_dict()},
                      indent=2, allow_nan=False)


def preview_name(k: int) -> str:
    """The preview of one K in the output folder: ``k0016.preview.png`` (zero-padded so names sort
    by K)."""
    return tagged_name(f"k{k:04d}", "preview")


def clip_preview_name(k: int) -> str:
    """An animation's sweep writes each K's GIF as ``k0016.anim.gif`` (sorted by K, never an input)."""
    return tagged_name(f"k{k:04d}", "anim", ".gif")


_ANY_PREVIEW = re.compile(r"k\d{4,}\.(?:preview\.png|anim\.gif)")  # as the two names above


def earlier_previews(out_dir: Path, written: Iterable[Path]) -> list[str]:
    """The names in ``out_dir`` that a sweep gives a K's preview (a still's or an animation's)
    other than the ``written`` ones: an earlier sweep's, which this one neither wrote nor
    removes (only files it plans are replaced), sorted."""
    own = {Path(path).name for path in written}
    try:
        names = os.listdir(out_dir)
    except OSError:
        return []
    return sorted(name for name in names if _ANY_PREVIEW.fullmatch(name) and name not in own)


def output_names(ks: Sequence[int], clip: bool = False) -> list[str]:
    """The files ``sweep -o DIR`` writes into DIR (for an animation: each K's GIF)."""
    return [(clip_preview_name if clip else preview_name)(k) for k in ks] + [SHEET, CHART, PAGE]


def planned_outputs(ks: Sequence[int], out_dir: Path | None, csv_path: Path | None,
                    clip: bool = False) -> list[Path]:
    """Every file a sweep writes: :func:`output_names` in ``out_dir``, then ``csv_path``, which
    must not be one of them (the CSV would replace it)."""
    planned = [out_dir / name for name in output_names(ks, clip)] if out_dir is not None else []
    if csv_path is None:
        return planned
    if any(path.resolve() == csv_path.resolve() for path in planned):
        raise ParameterError(f"csv_path {display_name(csv_path)} is one of the files the output "
                             "folder gets: give the CSV another name", parameters=("csv_path",))
    return [*planned, csv_path]


def sweep_outputs(run: SweepRun, out_dir: Path | None, csv_path: Path | None) -> dict[Path, bytes]:
    """The contents of every output of ``run``, by path: CSV, previews, sheet, chart and page."""
    outputs: dict[Path, bytes] = {}
    if out_dir is not None:
        from .chart import chart
        from .page import html_page
        from .sheet import contact_sheet

        sheet = contact_sheet(run)
        plot = chart(run)
        outputs.update({out_dir / preview_name(p.result.k): p.png for p in run.points})
        outputs.update({out_dir / SHEET: sheet, out_dir / CHART: plot,
                        out_dir / PAGE: html_page(run, sheet, plot, table_rows(run.points))})
    if csv_path is not None:
        outputs[csv_path] = format_csv(run.points).encode()
    return outputs
