"""The pictures of an animation's sweep (``sweep CLIP -o DIR``): a contact sheet of the clip's
middle frame at every K, the chart of its GIF's rate and quality, and the page with both.

Every number comes from the :class:`~quantize.animation.run.AnimationResult` of each K (one row
of ``AnimationResult.to_dict()``); nothing is recomputed here."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from ..io.files import display_name
from .chart import RateCurve, draw_chart
from .page import report_page, row_marks
from .sheet import draw_sheet
from .sweep_report import (CHART, PAGE, SHEET, clip_preview_name, clip_table_rows,
                           format_clip_csv)

if TYPE_CHECKING:
    from ..animation.run import AnimationResult
    from ..jobs.sweep_model import Pick

LEGEND = ("frames: frames written (repeats merged); palettes: distinct palettes or tables; GIF B "
          "and GIF bpp: the animated GIF and its bits per pixel of every frame read (8 x bytes / "
          "pixels / frames); PSNR, min PSNR and dE2000: the mean and least PSNR and the mean "
          "CIEDE2000 over frames; flicker: mean RGB change of the pixels whose source did not "
          "change. Highlighted rows are recommended, by the rules in the pick column.")


def _name(result: AnimationResult) -> str:
    return display_name(Path(result.name).name)


def clip_sheet(results: Sequence[AnimationResult]) -> bytes:
    """The contact sheet: the source's poster frame, then that frame as each K's GIF shows it."""
    first = results[0]
    poster = first.poster
    cells = [(poster.source, f"original, frame {poster.number + 1} of {first.n_frames}",
              f"{first.width}x{first.height}, {first.n_frames} frames")]
    for result in results:
        cells.append((result.poster.shown,
                      f"K={result.k}  ({result.bits_per_pixel('gif'):.3f} bpp GIF)",
                      f"PSNR {result.psnr[poster.number]:.2f} dB (mean {result.mean_psnr:.2f})"))
    return draw_sheet(cells)


def clip_chart(results: Sequence[AnimationResult], elbow: Pick) -> bytes:
    """PSNR and dE2000 (means over frames) against the GIF's bits per pixel; the mean MSE against
    K with the elbow marked."""
    first = results[0]
    return draw_chart(RateCurve(
        ks=[r.k for r in results], bits=[r.bits_per_pixel("gif") for r in results],
        psnr=[r.mean_psnr for r in results], delta_e=[r.mean_delta_e for r in results],
        error=[r.mean_mse for r in results], elbow=elbow.k,
        bits_label="bits per pixel of the animated GIF (8 x bytes / pixels / frames)",
        error_label="mean MSE",
        caption=f"{_name(first)}: {first.width}x{first.height}, {first.n_frames} frames"))


def clip_page(results: Sequence[AnimationResult], picks: dict[str, Pick], sheet: bytes,
              chart: bytes) -> bytes:
    """The report page: each pick (by its rule) with its reason, the table with the picked rows
    highlighted, the sheet and the chart."""
    first = results[0]
    return report_page(
        _name(first), f"{first.width}x{first.height} pixels, {first.n_frames} frames, "
                    f"{sum(first.durations) / 1000:.2f} s; each K written as an animated GIF.",
        [pick.line(rule) for rule, pick in picks.items()],
        clip_table_rows([r.to_dict() for r in results]), row_marks([r.k for r in results], picks),
        LEGEND,
        (sheet, f"{_name(first)}: one frame at each K"),
        (chart, "mean PSNR and dE2000 against the GIF's bits per pixel; mean MSE against K"))


def clip_sweep_outputs(results: Sequence[AnimationResult], picks: dict[str, Pick],
                       out_dir: Path | None, csv_path: Path | None) -> dict[Path, bytes]:
    """The contents of every output of an animation's sweep, by path: with ``out_dir`` each K's
    GIF, the sheet, the chart and the page; with ``csv_path`` the table as CSV."""
    outputs: dict[Path, bytes] = {}
    if out_dir is not None:
        sheet, plot = clip_sheet(results), clip_chart(results, picks["elbow"])
        outputs.update({out_dir / clip_preview_name(r.k): r.outputs["gif"] for r in results})
        outputs.update({out_dir / SHEET: sheet, out_dir / CHART: plot,
                        out_dir / PAGE: clip_page(results, picks, sheet, plot)})
    if csv_path is not None:
        outputs[csv_path] = format_clip_csv([r.to_dict() for r in results]).encode()
    return outputs
