"""The batch manifest: one row per input, kept as ``manifest.json`` and ``manifest.csv`` in the output
folder and rewritten atomically as files finish, so that it is always a consistent snapshot.

Rows are flat dictionaries built from :meth:`Result.to_dict` (no number is computed twice); the JSON
also records the options the batch ran with, which ``--resume`` checks before trusting the rows.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..choices import FORMATS
from ..errors import FormatError, QuantizeError
from .csvtext import csv_text
from .files import display_name, ensure_dir, open_input, read_input, write_bytes

JSON_NAME = "manifest.json"
CSV_NAME = "manifest.csv"
VERSION = 1
# Each output format's columns: its path, bytes, real bits per pixel and checksum.
FILE_COLUMNS = {"qnt": ("packed_file", "packed_file_bytes", "packed_file_bits_per_pixel", "sha256"),
                "png": ("preview_file", "preview_bytes", "preview_bits_per_pixel", "preview_sha256"),
                # raw_bytes is the image's uncompressed size, as compress and sweep report it
                "raw": ("raw_file", "raw_file_bytes", "raw_file_bits_per_pixel", "raw_sha256")}
FILE_COLUMNS.update({fmt: (f"{fmt}_file", f"{fmt}_bytes", f"{fmt}_bits_per_pixel", f"{fmt}_sha256")
                     for fmt in FORMATS if fmt not in FILE_COLUMNS})
COLUMNS = ("path", "status", "error", "width", "height", "k", "k_used", "bits_per_pixel", "ratio",
           "ratio_file_vs_raw", "ratio_file_vs_input", "psnr", "delta_e", "mse", "seconds",
           "input_bytes", *(c for columns in FILE_COLUMNS.values() for c in columns), "input",
           "input_mtime_ns", "input_sha256", "notes")
FLUSH_SECONDS = 0.5  # rewrite at most this often while files finish (always at the end)


def sha256_of(path: Path, kind: str = "output") -> str:
    """Hex SHA-256 of a file's content (read through the one opener, so a FIFO cannot block)."""
    return _identity(path, kind)["input_sha256"]


def _identity(path: str | Path, kind: str) -> dict[str, Any]:
    digest = hashlib.sha256()
    with open_input(path, kind, allow_empty=True) as (fh, _):
        st = os.fstat(fh.fileno())
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return {"input_bytes": st.st_size, "input_mtime_ns": st.st_mtime_ns,
            "input_sha256": digest.hexdigest()}


def input_identity(source: str) -> dict[str, Any]:
    """What ``--resume`` compares to tell that an input is the one its outputs were made from: its
    size, modification time and SHA-256."""
    return _identity(source, "image")


def input_unchanged(row: dict[str, Any], source: str) -> bool:
    """True when ``source`` still has the size, time and content ``row`` recorded."""
    try:
        st = os.stat(source)
        if (st.st_size, st.st_mtime_ns) != (row.get("input_bytes"), row.get("input_mtime_ns")):
            return False
        return sha256_of(Path(source), "image") == row.get("input_sha256")
    except (OSError, QuantizeError):
        return False


def ok_row(name: str, result_dict: dict[str, Any], out_root: Path, outputs: dict[str, Path],
           source: str, identity: dict[str, Any]) -> dict[str, Any]:
    """The row of a finished input, from ``Result.to_dict()``: its ``outputs`` (format: path as the
    OS names it) made relative to ``out_root``, with each one's bytes, real bits per pixel and
    checksum, the input's path and its :func:`input_identity` taken before it was read."""
    row = {k: v for k, v in result_dict.items() if k not in ("palette", "seconds", "notes", "files")}
    row.update(path=name, status="ok", error="", seconds=result_dict["seconds"].get("total"),
               notes="; ".join(result_dict["notes"]), input=source, **identity)
    for fmt, (key, size, bits, digest) in FILE_COLUMNS.items():
        path, file = outputs.get(fmt), result_dict["files"].get(fmt)
        row[key] = None if path is None else path.relative_to(out_root).as_posix()
        row[size] = None if file is None else file["bytes"]
        row[bits] = None if file is None else file["bits_per_pixel"]
        row[digest] = None if path is None else sha256_of(path)
    return row


def problem_row(name: str, status: str, error: str, source: str | None = None,
                out_root: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The row of an input that failed or was skipped; its error names the input by the row's
    path and a file below ``out_root`` by its path there, as an ok row's paths are relative (the
    messages give full paths)."""
    if source:
        full = re.escape(display_name(source)) + r"(?![^\s:,;)])"  # the whole name, not a prefix
        error = re.sub(full, lambda _: display_name(name), error)
    if out_root:
        # the folder's name where a name starts (not inside another path), followed by a name
        below = r"(?<![^\s(])" + re.escape(display_name(out_root) + os.sep) + r"(?=[^\s:,;)])"
        error = re.sub(below, "", error)
    return {"path": name, "status": status, "error": error, "input": source}


def outputs_intact(row: dict[str, Any], out_root: Path) -> bool:
    """True when ``row`` is ok and every output it lists exists with the recorded checksum."""
    if row.get("status") != "ok":
        return False
    for key, _, _, digest in FILE_COLUMNS.values():
        if row.get(key):
            path = out_root / row[key]
            try:
                if sha256_of(path) != row.get(digest):
                    return False
            except QuantizeError:  # gone, or no longer a regular file
                return False
    return True


def read(out_root: Path) -> dict[str, Any] | None:
    """The manifest JSON in ``out_root``, or None when there is none."""
    path = out_root / JSON_NAME
    if not os.path.lexists(path):
        return None
    try:
        doc = json.loads(read_input(path, "manifest", allow_empty=True).decode("utf-8"))
        if (not isinstance(doc, dict) or doc.get("version") != VERSION
                or not isinstance(doc.get("rows"), list)):
            raise ValueError("unknown layout")
    except (ValueError, OSError) as exc:
        raise FormatError(f"{display_name(path)}: not a readable batch manifest ({exc})") from None
    return doc


class Manifest:
    """Rows by input path, written to disk atomically (throttled while running, always on flush)."""

    def __init__(self, out_root: Path, options: dict[str, Any],
                 rows: dict[str, dict[str, Any]] | None = None,
                 claims: dict[str, list[str]] | None = None) -> None:
        self.out_root = out_root
        self.options = options
        self.rows: dict[str, dict[str, Any]] = dict(rows or {})
        # per input with no ok row: the outputs (relative paths) its job may write, claimed before
        # it runs and kept past a failed row, so that a resume may replace what the job wrote
        # unrecorded (a worker still writing after its run was killed or its scheduler lost)
        self.claims: dict[str, list[str]] = dict(claims or {})
        self._written = 0.0

    def record(self, row: dict[str, Any]) -> None:
        """Add or replace a row (an ok row lists its outputs, which are then no longer claimed);
        rewrite the files if the last write is old enough."""
        self.rows[row["path"]] = row
        if row["status"] == "ok":
            self.claims.pop(row["path"], None)
        if time.monotonic() - self._written >= FLUSH_SECONDS:
            self.flush()

    def sorted_rows(self) -> list[dict[str, Any]]:
        return [self.rows[name] for name in sorted(self.rows)]

    def flush(self) -> None:
        """Write ``manifest.json`` and ``manifest.csv`` (each atomically)."""
        rows = self.sorted_rows()
        doc = {"version": VERSION, "options": self.options, "summary": summarize(rows).to_dict(),
               "rows": rows, "claims": dict(sorted(self.claims.items()))}
        ensure_dir(self.out_root)
        # ASCII, names exact for --resume: a non-UTF-8 byte 0xNN as \udcNN (surrogateescape)
        write_bytes(self.out_root / JSON_NAME,
                    (json.dumps(doc, indent=1, allow_nan=False, ensure_ascii=True) + "\n").encode(),
                    force=True)
        write_bytes(self.out_root / CSV_NAME, csv_text(rows, COLUMNS).encode(), force=True)
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
    lossless: int = 0  # done rows with no PSNR (left out of the mean)

    def to_dict(self) -> dict[str, Any]:
        return {"done": self.done, "skipped": self.skipped, "failed": self.failed,
                "bytes_in": self.bytes_in, "bytes_out": self.bytes_out,
                "mean_psnr": None if self.mean_psnr is None else round(self.mean_psnr, 4),
                "lossless": self.lossless}


def summarize(rows: list[dict[str, Any]]) -> Summary:
    """Summary of ``rows``; the mean PSNR is over lossy results (lossless ones have no PSNR)."""
    ok = [r for r in rows if r["status"] == "ok"]
    psnrs = [r["psnr"] for r in ok if r.get("psnr") is not None]
    return Summary(
        done=len(ok), skipped=sum(r["status"] == "skipped" for r in rows),
        failed=sum(r["status"] == "failed" for r in rows),
        bytes_in=sum(r["input_bytes"] for r in ok),
        bytes_out=sum(r.get(size) or 0 for r in ok for _, size, _, _ in FILE_COLUMNS.values()),
        mean_psnr=math.fsum(psnrs) / len(psnrs) if psnrs else None, lossless=len(ok) - len(psnrs))
