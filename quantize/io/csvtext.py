"""CSV text, written one way for every table a user may open in a spreadsheet: a sweep's
``--csv`` and the batch's ``manifest.csv``."""

from __future__ import annotations

import csv
import io
from typing import Any, Iterable, Sequence

from .files import printable

#: a text cell starting with one of these is read as a formula by spreadsheets (CSV injection)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """One cell as written: a boolean as JSON writes it (true, false); a text printable (a
    non-UTF-8 name's byte as ``\\xNN``) and, when it starts as a formula, behind a ``'``, as
    OWASP advises; a number as it is."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        text = printable(value)
        return "'" + text if text.startswith(FORMULA_STARTS) else text
    return value


def csv_text(rows: Iterable[dict[str, Any]], columns: Sequence[str]) -> str:
    """``rows`` as CSV with a header of ``columns`` (a row's other keys left out), every cell by
    :func:`csv_cell`."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), extrasaction="ignore",
                            lineterminator="\n")
    writer.writeheader()
    writer.writerows({key: csv_cell(value) for key, value in row.items()} for row in rows)
    return buf.getvalue()
