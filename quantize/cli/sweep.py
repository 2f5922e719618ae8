"""``quantize sweep``: one image at several K, a rate–distortion table, pictures and a recommended K."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Any, Iterable, Iterator

import click

from ..choices import DEFAULT_SWEEP_PNG_EFFORT
from .options import (BATCH_HINT, CODECS, DEFAULT_CODEC, ONE_INPUT, PATH, NamedPath, check_dither,
                      check_folder_option, dither_options, echo, fit_options, make_fit_options,
                      note, one_input, resample_bounds, resample_options, space_option)

DEFAULT_KS = "2,4,8,16,32,64,128,256"  # as quantize.jobs.sweep.DEFAULT_KS, without importing numpy


def target_options(func=None, *, psnr: str = "PSNR"):
    """``--target-psnr`` and ``--target-delta-e``, shared by ``sweep``, ``compress`` and
    ``animate`` (whose ``psnr`` names the clip's PSNR it judges)."""
    if func is None:
        return lambda f: target_options(f, psnr=psnr)
    func = click.option("--target-delta-e", type=float, default=None, metavar="DE",
                        help="Find the smallest K whose mean CIEDE2000 is at most DE.")(func)
    return click.option("--target-psnr", type=float, default=None, metavar="DB",
                        help=f"Find the smallest K whose {psnr} is at least DB.")(func)


def _list_k(func):
    """:func:`fit_options` with its -k option replaced by one that takes a list of K."""
    func = fit_options(func)
    ks = click.Option(["-k", "--colors", "ks"], default=DEFAULT_KS, show_default=True, metavar="LIST",
                      help="K values: '4,8,16'; 'a-b' is every power of two from a to b; "
                           "'a:b:step' every step-th K from a to b. Deduplicated and sorted; at most 64.")
    func.__click_params__ = [ks if p.name == "k" else p for p in func.__click_params__]
    return func


class ProbeBar:
    """A click progress bar advanced a step by each K run, labelled with that K: the ``progress``
    callback the jobs take. A run past the bar's length lengthens it, so that the bar is full only
    once :meth:`end` says the work is done."""

    def __init__(self, bar: Any, length: int) -> None:
        self._bar, self._length = bar, length

    def __call__(self, k: int) -> None:
        # a byte budget's search keeps probing K above its pick while they fit, past any bound
        if self._bar.pos + 1 >= self._length:
            self._length = self._bar.length = self._bar.pos + 2
        self._bar.update(1, k)

    def end(self, k: int | None = None) -> None:
        """Fill the bar, labelled with ``k`` when given: the K picked, which is often not the
        last K a search probed."""
        # a search mostly ends in fewer probes than its bound, which the bar was sized for
        self._bar.update(max(0, self._length - self._bar.pos), k)
        self._bar.render_progress()  # update draws only when it advances the bar


@contextlib.contextmanager
def progress_bar(length: int, quiet: bool) -> Iterator[ProbeBar | None]:
    """A click progress bar on stderr, or nothing when ``quiet`` or stderr is not a terminal;
    yields its :class:`ProbeBar` (or None). ``length`` may be an upper bound, as a K search's
    is: the bar is full once the work ends."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    with click.progressbar(length=length, label="quantize", file=sys.stderr,
                           item_show_func=lambda k: k and f"K={k}") as bar:
        probes = ProbeBar(bar, length)
        yield probes
        probes.end()


@click.command()
@click.argument("input", **ONE_INPUT)
@_list_k
@click.option("-o", "--output", "out_dir", type=NamedPath(readable=False), default=None,
              help="Write the previews (k0016.preview.png, ...; an animation: each K's "
                   "k0016.anim.gif), sweep.sheet.png, sweep.chart.png and report.html into this "
                   "folder.")
@click.option("--csv", "csv_path", type=PATH, default=None, metavar="FILE",
              help="Also write the table as CSV (-: print it instead of the table, the picks "
                   "as notes on stderr).")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON object: the rows (one per K) and the picks with their reasons.")
@target_options
@click.option("--max-bytes", metavar="N", default=None,
              help="Also pick the largest K up to the largest in -k whose .qnt file fits in N "
                   "bytes (150000, 150k, 1.5M), as compress --max-bytes picks it. Not for an "
                   "animation.")
@space_option
@dither_options
@click.option("--codec", type=click.Choice(CODECS), default=DEFAULT_CODEC, show_default=True,
              help="Lossless codec of the packed file whose size is reported.")
@click.option("--png-effort", type=click.IntRange(0, 3), default=DEFAULT_SWEEP_PNG_EFFORT,
              show_default=True,
              help="PNG effort of the previews and of their sizes in the table: 0 fastest … 3 "
                   "smallest (compress writes 2 by default, a few % smaller).")
@resample_options(frames="an animated input's frames")
@click.option("-f", "--force", is_flag=True, help="Replace existing outputs.")
@click.option("--allow-huge", is_flag=True,
              help="Lift the decompression-bomb guard (images over ~89 megapixels).")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar and no notes on stderr.")
def sweep(input, ks, n_init, max_iter, tol, seed, sample, out_dir, csv_path, as_json, target_psnr,
          target_delta_e, max_bytes, space, dither, dither_strength, rdo, codec, png_effort, width,
          height, fps, plays, force, allow_huge, quiet):
    """Quantise INPUT at several K and report size and quality per K, with the elbow and silhouette
    picks (and the smallest K meeting a --target-*, the largest fitting --max-bytes), to choose
    how many colours to use.

    An animated GIF, APNG, WebP or AVIF (or a video, a folder or a glob of frames, as quantize
    animate takes them) is swept as an animation: per K its animated GIF's bytes and
    the mean PSNR over frames, as a table, --json or --csv; -o DIR writes each K's GIF
    (k0016.anim.gif, ...) with a contact sheet of the middle frame, the chart and the page. It
    picks the elbow of the mean MSE and the smallest K meeting a --target-*; no silhouette (each
    held picture has its own clustering). --width, --height, --fps and --plays make it smaller
    or slower first, as quantize animate does."""
    from ..animation.source import FrameSizes, is_clip, is_frames
    from ..jobs.pipeline import CompressOptions
    from ..io.outputs import FileOptions
    from ..jobs.sweep import LOOK_PAST, Target, parse_ks, parse_size, probe_budget, sweep_file
    from ..render.sweep_report import format_csv, format_json, format_table

    input = one_input("sweep", input, "an animation's frames are one INPUT as a quoted glob "
                                      f"('frames/*.png'); {BATCH_HINT}")
    check_dither(dither)
    check_folder_option(out_dir, "sweep writes each K's preview, sweep.sheet.png, sweep.chart.png "
                                 "and report.html into it", also=(".html", ".csv", ".json"))
    out_dir = None if out_dir is None else Path(out_dir)
    as_csv = csv_path is not None and str(csv_path) == "-"
    if as_csv:
        if as_json:
            raise click.UsageError("--csv - and --json both print to stdout: give one")
        csv_path = None
    k_list = parse_ks(ks)
    target = Target(psnr=target_psnr, delta_e=target_delta_e)
    budget = None if max_bytes is None else parse_size(max_bytes)
    options = CompressOptions(fit=make_fit_options(max(k_list), n_init, max_iter, tol, seed, sample,
                                                   space),
                              codec=codec, dither=dither, dither_strength=dither_strength, rdo=rdo)
    bounds = resample_bounds(width, height, fps, plays)
    if is_frames(input) or is_clip(input):
        if sample is not None:
            raise click.UsageError("--sample does not apply to an animation's sweep")
        if budget is not None:
            raise click.UsageError("--max-bytes does not apply to an animation's sweep "
                                   "(quantize animate --max-bytes picks an animation's K)")
        try:
            _sweep_clip(input, k_list, options, out_dir=out_dir, csv_path=csv_path, force=force,
                        as_json=as_json, as_csv=as_csv, allow_huge=allow_huge, quiet=quiet,
                        target=target, bounds=bounds)
        except FrameSizes as exc:
            if not is_frames(input):
                raise
            # photos of several sizes: the user meant each photo, not one animation of them
            raise FrameSizes(f"{exc}: sweep reads a folder or glob as one animation's frames; "
                             "sweep a photo by its file, or give the folder to quantize batch"
                             ) from None
        return
    if bounds:
        raise click.UsageError("--width, --height, --fps and --plays apply to an animated input")
    steps = len(k_list) + (probe_budget(max(k_list)) if target else 0) + \
        (probe_budget(max(k_list)) + LOOK_PAST if budget is not None else 0)
    with progress_bar(steps, quiet) as progress:
        run = sweep_file(input, k_list, out_dir, options=options, target=target, csv_path=csv_path,
                         force=force, allow_huge=allow_huge, progress=progress,
                         files=FileOptions(png_effort=png_effort), max_bytes=budget)
        picked = run.budget or run.search  # the last search's pick, as the bar's last K
        if progress and picked:
            progress.end(picked.k)
    # the image's notes and those every K's result gives once, then any K's own with its K
    shared = set.intersection(*(set(point.result.notes) for point in run.points))
    for note_text in dict.fromkeys((*run.image.notes, *(n for n in run.points[0].result.notes
                                                        if n in shared))):
        note(note_text, quiet)
    for point in run.points:
        for note_text in point.result.notes:
            if note_text not in shared:
                note(f"K={point.result.k}: {note_text}", quiet)
    if as_json:
        echo(format_json(run))
    elif as_csv:
        echo(format_csv(run.points), nl=False)
        _note_picks(run.picks, quiet)
    else:
        echo(format_table(run.points))
        echo()
        echo("\n".join(run.picks))
    if run.written:
        _note_written(run.written, quiet, out_dir)


def _sweep_clip(input, k_list, options, *, out_dir, csv_path, force: bool, as_json: bool,
                as_csv: bool, allow_huge: bool, quiet: bool, target=None,
                bounds: dict | None = None) -> None:
    """The sweep of an animated input (resampled within ``bounds`` first): per K its animated
    GIF, as a table or JSON; with ``out_dir`` each K's GIF, the contact sheet, chart and page in
    it, with ``csv_path`` the table as CSV (every file checked before any work, all written or
    none)."""
    import json
    from dataclasses import replace

    from ..animation.resample import check_resampling, resampled
    from ..animation.run import AnimationOptions, ScannedClip, clip_elbow, clip_target, sweep_clip
    from ..animation.source import open_clip
    from ..io.images import DEFAULT_MAX_PIXELS
    from ..jobs.job import FileJob
    from ..jobs.sweep import probe_budget
    from ..jobs.sweep_model import row_added
    from ..render.clip_sweep import clip_preview_name, clip_sweep_outputs
    from ..render.sweep_report import format_clip_csv, format_clip_table, planned_outputs

    check_resampling(**(bounds or {}))
    job = FileJob.plan(input, planned_outputs(k_list, out_dir, csv_path, clip=True), force=force)
    job.check()
    animation = AnimationOptions.like(options, ("gif",))
    max_pixels = None if allow_huge else DEFAULT_MAX_PIXELS
    clip = ScannedClip.read(resampled(open_clip(input, max_pixels=max_pixels), **(bounds or {})),
                            animation, max_pixels=max_pixels)
    steps = len(k_list) + (probe_budget(max(k_list)) if target else 0)
    with progress_bar(steps, quiet) as progress:
        results = sweep_clip(clip, k_list, animation, progress=progress)
        elbow = clip_elbow(results)  # of the K asked, whatever the target adds
        found = clip_target(clip, target, animation, max_k=max(k_list), known=results,
                            progress=progress)
        if found and found.k is not None and found.k not in k_list:  # a row, as a still's sweep
            results = sorted([*results, *sweep_clip(clip, [found.k], animation)],
                             key=lambda result: result.k)
            found = row_added(found)
        if progress and found:
            progress.end(found.k)
    picks = {"elbow": elbow, **({"target": found} if found else {})}
    files = clip_sweep_outputs(results, picks, out_dir, csv_path)
    replace(job, targets=tuple(planned_outputs([r.k for r in results], out_dir, csv_path,
                                               clip=True))).write(files)
    if files:
        _note_written(files, quiet, out_dir)
    if out_dir is not None:  # each K's GIF, as a still sweep's rows give their previews
        for result in results:
            result.paths = {"gif": out_dir / clip_preview_name(result.k)}
    rows = [result.to_dict() for result in results]
    if as_json:
        echo(json.dumps({"rows": rows,
                         # a still's keys: an animation has no silhouette and no budget pick
                         "picks": {"elbow": picks["elbow"].to_dict(), "silhouette": None,
                                   "target": found and found.to_dict(), "budget": None}},
                        indent=2, allow_nan=False))
    elif as_csv:
        echo(format_clip_csv(rows), nl=False)
        _note_picks([pick.line(rule) for rule, pick in picks.items()], quiet)
    else:
        echo(format_clip_table(rows))
        echo()
        echo("\n".join(pick.line(rule) for rule, pick in picks.items()))


def _note_picks(lines: list[str], quiet: bool) -> None:
    """The pick lines as notes, when stdout has only the CSV (the JSON holds them)."""
    for line in lines:
        note(line, quiet)


def _note_written(written: Iterable[Path], quiet: bool, out_dir: Path | None = None) -> None:
    """One note for the files a sweep wrote, and the page to open if it made one; one more for
    the files in ``out_dir`` named as previews of K this sweep has not (an earlier sweep's)."""
    from ..render.report import plural
    from ..render.sweep_report import PAGE, earlier_previews

    written = list(written)
    note(f"wrote {plural(len(written), 'file')}"
         + (f"; open {out_dir / PAGE}" if out_dir is not None else ""), quiet)
    earlier = earlier_previews(out_dir, written) if out_dir is not None else []
    if earlier:
        more = f" and {len(earlier) - 3:,} more" if len(earlier) > 3 else ""
        them = "it" if len(earlier) == 1 else "them"
        note(f"{out_dir} also holds {plural(len(earlier), 'file')} named as previews of other K "
             f"({', '.join(earlier[:3])}{more}), which this sweep did not write and left "
             f"untouched: remove {them} or use a new folder", quiet)
