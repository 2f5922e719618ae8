"""The batch manifest: one row per input, kept as ``manifest.json`` and ``manifest.csv`` in the output
folder and rewritten atomically as files finish, so that it is always a consistent snapshot.

Rows are flat dictionaries built from :meth:`Result.to_dict` (no number is computed twice); the JSON
also records the options the batch ran with, which ``--resume`` checks before trusting the rows.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import FormatError
from .files import ensure_dir, write_bytes

JSON_NAME = "manifest.json"
CSV_NAME = "manifest.csv"
VERSION = 1
COLUMNS = ("path", "status", "error", "width", "height", "k", "k_used", "bits_per_pixel", "ratio",
           "ratio_file_vs_raw", "ratio_file_vs_input", "psnr", "delta_e", "mse", "seconds",
           "input_bytes", "packed_file", "packed_file_bytes", "sha256", "preview_file",
           "preview_bytes", "preview_sha256", "input", "notes")
FLUSH_SECONDS = 0.5  # rewrite at most this often while files finish (always at the end)


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file's content."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ok_row(name: str, result_dict: dict[str, Any], out_root: Path) -> dict[str, Any]:
    """The row of a finished input, from ``Result.to_dict()`` with output paths made relative to
    ``out_root`` and each output's checksum added."""
    row = {k: v for k, v in result_dict.items() if k not in ("palette", "seconds", "notes")}
    row.update(path=name, status="ok", error="", seconds=result_dict["seconds"].get("total"),
               notes="; ".join(result_dict["notes"]))
    for key, digest in (("packed_file", "sha256"), ("preview_file", "preview_sha256")):
        if row.get(key):
            row[digest] = sha256_of(Path(row[key]))
            row[key] = Path(row[key]).relative_to(out_root).as_posix()
    return row


def problem_row(name: str, status: str, error: str, source: str | None = None) -> dict[str, Any]:
    """The row of an input that failed or was skipped."""
    return {"path": name, "status": status, "error": error, "input": source}


def outputs_intact(row: dict[str, Any], out_root: Path) -> bool:
    """True when ``row`` is ok and every output it lists exists with the recorded checksum."""
    if row.get("status") != "ok":
        return False
    for key, digest in (("packed_file", "sha256"), ("preview_file", "preview_sha256")):
        if row.get(key):
            path = out_root / row[key]
            if not path.is_file() or sha256_of(path) != row.get(digest):
                return False
    return True


def read(out_root: Path) -> dict[str, Any] | None:
    """The manifest JSON in ``out_root``, or None when there is none."""
    path = out_root / JSON_NAME
    if not path.exists():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if doc.get("version") != VERSION or not isinstance(doc.get("rows"), list):
            raise ValueError("unknown layout")
    except (ValueError, OSError, AttributeError) as exc:
        raise FormatError(f"{path}: not a readable batch manifest ({exc})") from None
    return doc


class Manifest:
    """Rows by input path, written to disk atomically (throttled while running, always on flush)."""

    def __init__(self, out_root: Path, options: dict[str, Any],
                 rows: dict[str, dict[str, Any]] | None = None) -> None:
        self.out_root = out_root
        self.options = options
        self.rows: dict[str, dict[str, Any]] = dict(rows or {})
        self._written = 0.0

    def record(self, row: dict[str, Any]) -> None:
        """Add or replace a row; rewrite the files if the last write is old enough."""
        self.rows[row["path"]] = row
        if time.monotonic() - self._written >= FLUSH_SECONDS:
            self.flush()

    def sorted_rows(self) -> list[dict[str, Any]]:
        return [self.rows[name] for name in sorted(self.rows)]

    def flush(self) -> None:
        """Write ``manifest.json`` and ``manifest.csv`` (each atomically)."""
        rows = self.sorted_rows()
        doc = {"version": VERSION, "options": self.options, "summary": summarize(rows).to_dict(),
               "rows": rows}
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        ensure_dir(self.out_root)
        write_bytes(self.out_root / JSON_NAME,
                    (json.dumps(doc, indent=1, allow_nan=False) + "\n").encode(), force=True)
        write_bytes(self.out_root / CSV_NAME, text.getvalue().encode(), force=True)
        self._written = time.monotonic()


@dataclass(frozen=True)
class Summary:
    """Counts, sizes and mean quality over a manifest's rows."""

    done: int
    skipped: int
    failed: int
    bytes_in: int
    bytes_out: int
    mean_psnr: float | None

    def to_dict(self) -> dict[str, Any]:
        return {"done": self.done, "skipped": self.skipped, "failed": self.failed,
                "bytes_in": self.bytes_in, "bytes_out": self.bytes_out,
                "mean_psnr": None if self.mean_psnr is None else round(self.mean_psnr, 4)}


def summarize(rows: list[dict[str, Any]]) -> Summary:
    """Summary of ``rows``; the mean PSNR is over lossy results (lossless ones have no PSNR)."""
    ok = [r for r in rows if r["status"] == "ok"]
    psnrs = [r["psnr"] for r in ok if r.get("psnr") is not None]
    return Summary(
        done=len(ok), skipped=sum(r["status"] == "skipped" for r in rows),
        failed=sum(r["status"] == "failed" for r in rows),
        bytes_in=sum(r["input_bytes"] for r in ok),
        bytes_out=sum((r["packed_file_bytes"] or 0) + (r.get("preview_bytes") or 0) for r in ok),
        mean_psnr=math.fsum(psnrs) / len(psnrs) if psnrs else None)
