"""``report.html``: one self-contained page (inline CSS and base64 images, no network)."""

from __future__ import annotations

import base64
from html import escape
from typing import Sequence

from ..choices import DEFAULT_PNG_EFFORT, DEFAULT_SWEEP_PNG_EFFORT
from ..io.files import display_name
from ..jobs.sweep_model import SILHOUETTE_SAMPLES, Pick, SweepRun, codecs_used, sample_space

_STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; color: #222; margin: 2em auto; max-width: 1240px;
       padding: 0 1em; }
h1 { font-size: 1.5em; margin-bottom: .2em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
.meta, .legend { color: #666; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: .25em .6em; text-align: right; border-bottom: 1px solid #e3e3e3; }
th { background: #f4f4f4; } tr.pick td { background: #fff6d6; font-weight: 600; }
img { max-width: 100%; height: auto; border: 1px solid #ddd; }
"""


def _img(data: bytes, ident: str, alt: str) -> str:
    return (f'<img id="{ident}" alt="{escape(alt)}" '
            f'src="data:image/png;base64,{base64.b64encode(data).decode()}">')


def html_page(run: SweepRun, sheet: bytes, chart: bytes,
              table: tuple[list[str], list[list[str]]]) -> bytes:
    """The report page of a still's sweep ``run`` with the contact sheet and chart PNGs inline, as
    UTF-8 bytes; ``table`` is the header and rows of the terminal table (one row per point)."""
    name = display_name(run.image.source.name) if run.image.source else "image"
    first = run.points[0].to_dict()
    colours = first["distinct_colors"]
    space = sample_space(first["channels"])
    legend = f"""bpp: bits per pixel, ceil(log2 K). ratio: the classic {8 * first["raw_channels"]} \
/ bpp.
packed B: the packed-index file without a codec; file B, file bpp and file x: the real file, its
bits per pixel (8 x bytes / pixels) and the raw pixels over it. PNG B and PNG bpp: the preview PNG
(indexed up to 256 colours, {space} above) at the sweep's --png-effort (by default the quick {DEFAULT_SWEEP_PNG_EFFORT}; compress's default \
{DEFAULT_PNG_EFFORT} writes smaller ones). MSE: squared {space} error summed over channels; dE2000:
mean CIEDE2000 on a fixed sample; WCSS: within-cluster sum of squares; silhouette: {space}, on a
fixed {SILHOUETTE_SAMPLES:,}-pixel sample. Highlighted rows are recommended, by the rules in
the pick column."""
    return report_page(
        name, f"{run.image.width}x{run.image.height} pixels, "
              f"{colours:,} distinct colour{'s' * (colours != 1)}, "
              f"packed with {codecs_used([p.to_dict() for p in run.points])}.",
        run.picks, table, row_marks([point.result.k for point in run.points], run.named_picks()),
        legend,
        (sheet, f"{name} and its quantised versions"),
        (chart, "PSNR and dE2000 against the .qnt file's bits per pixel; WCSS against K"))


def row_marks(ks: Sequence[int], picks: dict[str, Pick | None]) -> list[str]:
    """Per row of K, the rules that pick it ("elbow, silhouette"), or "" for none."""
    return [", ".join(rule for rule, pick in picks.items() if pick is not None and pick.k == k)
            for k in ks]


def report_page(name: str, meta: str, picks: Sequence[str], table: tuple[list[str], list[list[str]]],
                marks: Sequence[str], legend: str, sheet: tuple[bytes, str],
                chart: tuple[bytes, str]) -> bytes:
    """A sweep's page as UTF-8 bytes: ``meta`` under the title, the pick lines, the table with its
    ``legend`` (a row with a mark, the rules that pick it, highlighted and its rules in a last
    column), and the sheet and chart PNGs inline (each with its alt text). Every text is escaped
    here."""
    header, rows = table
    head = "".join(f"<th>{escape(h)}</th>" for h in [*header, "pick"])
    body = "\n".join(
        f'<tr{" class=pick" if mark else ""}>'
        + "".join(f"<td>{escape(cell)}</td>" for cell in [*row, mark]) + "</tr>"
        for mark, row in zip(marks, rows))
    items = "\n".join(f"<li>{escape(line)}</li>" for line in picks)
    page = f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>quantize sweep: {escape(name)}</title>
<style>{_STYLE}</style></head>
<body>
<h1>How many colours? {escape(name)}</h1>
<p class="meta">{escape(meta)}</p>
<h2>Recommendation</h2>
<ul id="picks">
{items}
</ul>
<h2>Rate and distortion per K</h2>
<table id="sweep">
<thead><tr>{head}</tr></thead>
<tbody>
{body}
</tbody>
</table>
<p class="legend">{escape(legend)}</p>
<h2>Contact sheet</h2>
{_img(sheet[0], "sheet", sheet[1])}
<h2>Chart</h2>
{_img(chart[0], "chart", chart[1])}
</body>
</html>
"""
    return page.encode("utf-8")
