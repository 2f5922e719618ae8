"""``report.html``: one self-contained page (inline CSS and base64 images, no network)."""

from __future__ import annotations

import base64
from html import escape

from ..io.files import display_name
from ..jobs.sweep_model import SILHOUETTE_SAMPLES, SweepRun

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
    """The report page of ``run`` with the contact sheet and chart PNGs inline, as UTF-8 bytes;
    ``table`` is the header and rows of the terminal table (one row per point)."""
    name = display_name(run.image.source.name) if run.image.source else "image"
    first = run.points[0].to_dict()
    header, rows = table
    picked = {pick.k for pick in (run.elbow, run.silhouette) if pick.k is not None}
    if run.search:
        picked.add(run.search.k)
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "\n".join(
        f'<tr{" class=pick" if point.result.k in picked else ""}>'
        + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>"
        for point, row in zip(run.points, rows))
    picks = "\n".join(f"<li>{escape(line)}</li>" for line in run.picks)
    page = f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>quantize sweep: {escape(name)}</title>
<style>{_STYLE}</style></head>
<body>
<h1>How many colours? {escape(name)}</h1>
<p class="meta">{run.image.width}x{run.image.height} pixels, {first['distinct_colors']:,} distinct
colours, packed with {escape(first['codec'])}.</p>
<h2>Recommendation</h2>
<ul id="picks">
{picks}
</ul>
<h2>Rate and distortion per K</h2>
<table id="sweep">
<thead><tr>{head}</tr></thead>
<tbody>
{body}
</tbody>
</table>
<p class="legend">bpp: bits per pixel, ceil(log2 K). ratio: the classic 24 / bpp. packed B: the
packed-index file without a codec; file B, file bpp and file x: the real file, its bits per pixel
(8 x bytes / pixels) and raw RGB over it. PNG B and PNG bpp: the indexed PNG. MSE: squared RGB error summed over channels; dE2000: mean CIEDE2000 on a fixed
sample; WCSS: within-cluster sum of squares; silhouette: RGB, on a fixed
{SILHOUETTE_SAMPLES:,}-pixel sample. Highlighted rows are recommended.</p>
<h2>Contact sheet</h2>
{_img(sheet, "sheet", f"{name} and its quantised versions")}
<h2>Chart</h2>
{_img(chart, "chart", "PSNR and dE2000 against the .qnt file's bits per pixel; WCSS against K")}
</body>
</html>
"""
    return page.encode("utf-8")
