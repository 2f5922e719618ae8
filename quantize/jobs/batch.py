"""Batch compression: run every input found by :mod:`~quantize.jobs.discovery` on the executors of
:mod:`~quantize.jobs.executors`, keep the manifest up to date, resume where a previous run stopped.

Every input is compressed by :func:`~quantize.jobs.pipeline.compress_file` with the same options and seed,
so the outputs are byte-identical whatever the number of workers.

This module imports neither Numba nor the pipeline at import time: a spawned worker imports it first
and must set ``NUMBA_NUM_THREADS`` before Numba loads.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from ..io import manifest as mf
from ..errors import FormatError, InputError, OutputError, ParameterError, QuantizeError
from .discovery import Job, Plan, plan
from .executors import INTERRUPTED, Died, Executor, check_jobs, default_jobs, make_executor
from ..io.files import display_name, ensure_dir, held_folder, remove_temporaries, write_bytes

if TYPE_CHECKING:
    import numpy as np

    from ..io.outputs import FileOptions
    from .pipeline import CompressOptions
    from .sweep_model import Pick, Target

PALETTE_NAME = "palette"  # the shared palette: <out>/palette.qnt and <out>/palette.json


@dataclass(frozen=True)
class Settings:
    """How every job runs (the same for all of them)."""

    options: CompressOptions
    formats: tuple[str, ...] = ("qnt",)
    max_bytes: int | None = None  # pick each image's K by the size of its first format
    files: FileOptions | None = None  # how the files are written (PNG effort, WebP method, …)
    force: bool = False
    allow_huge: bool = False
    #: an animated input's resampling, the bounds given of width, height, fps and plays (as
    #: :func:`~quantize.animation.resample.resampled` takes them); stills are not resampled
    resample: dict[str, Any] = field(default_factory=dict)
    #: how a failed row words its error (a module-level function: workers receive it pickled),
    #: e.g. the command line's flags for the library's parameters the error cites
    wording: Callable[[QuantizeError], str] | None = None
    #: pick each image's K as the smallest that meets this quality, as compress's target does
    #: (instead of by max_bytes)
    target: Target | None = None


# ------------------------------------------------------------------------------------------- one job

def run_job(job: Job, settings: Settings) -> dict[str, Any]:
    """Compress one input (an animated one or a video as an animation); return its manifest row.
    Problems with the file become a failed row."""
    from ..animation.source import is_clip

    try:
        identity = mf.input_identity(job.source)  # before reading: a later change means redo
        run = _animate_job if is_clip(job.source) else _compress_job
        record, outputs = run(job, replace(settings, force=settings.force or job.may_replace))
    except QuantizeError as exc:
        message = str(exc) if settings.wording is None else settings.wording(exc)
        return mf.problem_row(job.name, "failed", message, job.source, job.out_root)
    except MemoryError:
        return mf.problem_row(job.name, "failed", "out of memory", job.source)
    except Exception as exc:  # a bug must not stop the batch: report it on this row
        return mf.problem_row(job.name, "failed", f"internal error: {type(exc).__name__}: {exc}",
                              job.source, job.out_root)
    return mf.ok_row(job.name, record, Path(job.out_root), outputs, job.source, identity)


def _compress_job(job: Job, settings: Settings) -> tuple[dict[str, Any], dict[str, Path]]:
    """Compress a still input; return its ``Result.to_dict()`` and its files by format."""
    from ..io.outputs import output_paths
    from .pipeline import compress_file

    search = settings.target or settings.max_bytes
    if search is None:
        result = compress_file(job.source, job.out_dir, options=settings.options,
                               formats=settings.formats, files=settings.files,
                               force=settings.force, allow_huge=settings.allow_huge)
    else:
        from .sweep import compress_searched

        result, found = compress_searched(job.source, job.out_dir, search,
                                          options=settings.options, formats=settings.formats,
                                          files=settings.files, force=settings.force,
                                          allow_huge=settings.allow_huge)
        result = replace(result, notes=(*result.notes, _pick_note(found.pick)))
    return result.to_dict(), output_paths(Path(job.source), job.out_dir, settings.formats)


def _pick_note(pick: Pick) -> str:
    """A row's note of the K a byte budget or a quality target chose, and why."""
    return f"K={pick.k}: {pick.reason}"


def _animate_job(job: Job, settings: Settings) -> tuple[dict[str, Any], dict[str, Path]]:
    """Write an animated input as an animation in the batch's formats (``<stem>.anim.<ext>``);
    return what its manifest row takes (as from ``Result.to_dict()``) and its files by format.
    Bits per pixel count every frame read; PSNR and ΔE are the means over frames."""
    from ..animation.run import AnimationOptions, animate_file
    from ..render.report import plural
    from .job import pixel_limit
    from .sweep_model import rounded

    if settings.files is not None and settings.files.rotate:  # its frames are not turned
        raise ParameterError("rotate turns a still picture; an animation is written as it plays",
                             parameters=("rotate",))
    options = AnimationOptions.like(settings.options, settings.formats)
    if settings.files is not None:
        options = replace(options, webp_method=settings.files.webp_method)
    result = animate_file(job.source, job.out_dir, options,
                          force=settings.force, max_bytes=settings.max_bytes,
                          target=settings.target,
                          max_pixels=pixel_limit(allow_huge=settings.allow_huge),
                          **settings.resample)
    notes = [f"animation: {plural(result.n_frames, 'frame')} ({len(result.durations):,} written), "
             f"{plural(result.n_palettes, 'palette')}, "
             f"flicker {result.flicker:.3f}", *result.notes]
    for chosen in (result.budget, result.search):
        if chosen is not None:
            notes.append(_pick_note(chosen.pick))
    record = {"width": result.width, "height": result.height, "channels": result.channels,
              "k": result.k, "frames": result.n_frames, "frames_written": len(result.durations),
              "durations_ms": result.durations, "palettes": result.n_palettes,
              "psnr": None if result.lossless else rounded("psnr", result.mean_psnr),
              "delta_e": rounded("delta_e", result.mean_delta_e),
              "flicker": rounded("flicker", result.flicker),
              "seconds": {"total": rounded("seconds", result.seconds)}, "notes": notes,
              "files": {fmt: {"bytes": len(data),
                              "bits_per_pixel": rounded("bits_per_pixel",
                                                        result.bits_per_pixel(fmt))}
                        for fmt, data in result.outputs.items()}}
    return record, result.paths


def count_job(job: Job, settings: Settings) -> tuple[np.ndarray, ...] | None:
    """One input's distinct colours with their pixel counts (None if unreadable): the opaque ones
    as 24-bit RGB keys, and those with alpha below 255 as RGBA keys (fully transparent
    pixels as one colour, whatever RGB they hide)."""
    import numpy as np

    from ..core.colorstats import clear_transparent, color_keys, color_stats, rgba_keys
    from ..io.images import load_image
    from .job import pixel_limit

    try:
        image = load_image(job.source, max_pixels=pixel_limit(allow_huge=settings.allow_huge))
    except QuantizeError:
        return None  # the compression pass reports it
    pixels = clear_transparent(image.pixels)
    clear = np.empty((0, 4), np.uint8)
    if pixels.shape[2] == 4:
        opaque = pixels[..., 3] == 255
        clear = pixels[~opaque]
        pixels = pixels[opaque][None, :, :3]
    stats = color_stats(np.ascontiguousarray(pixels))
    keys, counts = np.unique(rgba_keys(clear), return_counts=True)
    return color_keys(stats.colors), stats.counts.astype(np.int64), keys, counts


# ----------------------------------------------------------------------------------- shared palette

def fit_shared_palette(executor: Executor, jobs: Sequence[Job], settings: Settings,
                       progress: Callable[[str, int, int, str], None] | None = None) -> np.ndarray:
    """One palette for the still inputs among ``jobs`` (an animation fits its own): their colour
    counts summed in a 2^24 table (bounded memory, one image's colours at a time), then the usual
    palette fit on the combined weighted colours."""
    import numpy as np

    from ..animation.source import is_clip
    from ..core.colorstats import ColorStats, rgb_of_keys, rgba_keys
    from ..core.fitting import fit_palette, path_order, to_palette

    jobs = [job for job in jobs if not is_clip(job.source)]

    fit = settings.options.fit
    table = np.zeros(1 << 24, np.int64)
    clear: list[tuple[np.ndarray, np.ndarray]] = []  # the colours with alpha below 255

    counted_jobs = [0]

    def add(job: Job, counted: Any) -> None:
        if isinstance(counted, tuple):
            keys, counts, clear_keys, clear_counts = counted
            table[keys] += counts
            if len(clear_keys):
                clear.append((clear_keys, clear_counts))
        counted_jobs[0] += 1
        if progress:
            progress("colours", counted_jobs[0], len(jobs), job.name)

    executor.run(count_job, jobs, settings, add, last=False)
    keys = np.flatnonzero(table)
    if not len(keys) and not clear:
        raise InputError("no readable image to fit a shared palette to")
    colors, counts = rgb_of_keys(keys), table[keys]
    if clear:  # RGBA statistics: every colour by its RGBA key, in their order
        opaque = np.column_stack([colors, np.full(len(colors), 255, np.uint8)])
        every, rows = np.unique(np.concatenate([rgba_keys(opaque), *(k for k, _ in clear)]),
                                return_inverse=True)
        counts = np.bincount(rows, np.concatenate([counts, *(c for _, c in clear)]))
        colors = np.stack([(every >> shift) & 0xFF for shift in (0, 8, 16, 24)], 1).astype(np.uint8)
    stats = ColorStats(colors, counts.astype(np.float64), None, int(counts.sum()))
    palette = to_palette(fit_palette(None, stats.in_space(fit.space), fit).centers)
    # the order compress gives a fitted palette; each image keeps it, mapped as a fixed palette
    return palette[path_order(palette, 0 if fit.locked is None else len(fit.locked))]


def save_palette(palette: np.ndarray, out_root: Path) -> list[Path]:
    """Write the shared palette as ``palette.qnt`` (a 1 x K image of its colours) and ``palette.json``."""
    import numpy as np

    from ..io import container
    from ..io.palettes import Palette, encode_palette

    qnt, js = out_root / (PALETTE_NAME + container.SUFFIX), out_root / (PALETTE_NAME + ".json")
    ensure_dir(out_root)
    strip = np.arange(len(palette), dtype=np.uint16 if len(palette) > 256 else np.uint8)[None, :]
    write_bytes(qnt, container.encode(palette, strip), force=True)
    write_bytes(js, encode_palette(Palette(palette, title="quantize shared palette"), "json"),
                force=True)
    return [qnt, js]


def load_palette(path: str | os.PathLike[str]) -> np.ndarray:
    """A saved palette: a ``.qnt`` file's palette, any palette file :mod:`quantize.io.palettes`
    reads, or a built-in palette's name (as ``compress --palette`` takes them)."""
    from ..io.palettes.builtin import find_palette

    return find_palette(path).colors


# ---------------------------------------------------------------------------------------- the batch

@dataclass
class BatchResult:
    """The outcome: the manifest's rows, its summary, and what this run added to it."""

    manifest: mf.Manifest
    summary: mf.Summary
    seconds: float
    kept: int = 0
    duplicates: int = 0
    palette_files: list[Path] = field(default_factory=list)


def run_batch(inputs: Sequence[str | os.PathLike[str]], out_root: str | os.PathLike[str], *,
              settings: Settings, recursive: bool = True, jobs: int | None = None,
              resume: bool = False, shared_palette: bool = False,
              palette_from: str | os.PathLike[str] | np.ndarray | None = None,
              palette_name: str | os.PathLike[str] | None = None, scheduler: str | None = None,
              progress: Callable[[str, int, int, str], None] | None = None,
              notice: Callable[[str], None] | None = None) -> BatchResult:
    """Compress every image of ``inputs`` into ``out_root`` (the tree mirrored), keeping the manifest.

    ``progress(phase, done, total, name)`` is called as inputs finish (phase ``"colours"`` while
    counting colours for a shared palette, then ``"compress"``); ``notice(message)`` hears of a
    wait, such as a Dask cluster with no worker yet. ``palette_from`` is what
    :func:`load_palette` takes, or the palette it gave ((K, 3|4) uint8), and ``palette_name`` what
    it was given as (by default ``palette_from`` when a path or name), which the manifest keeps
    for a refused resume to name. On Ctrl-C the finished outputs and a
    consistent manifest stay, and :class:`KeyboardInterrupt` propagates.
    """
    from ..io.container import SUFFIX

    start = time.perf_counter()
    jobs = check_settings(settings, jobs, shared_palette=shared_palette, palette_from=palette_from,
                          scheduler=scheduler)
    reserved = ({name: "shared palette" for name in (PALETTE_NAME + SUFFIX, PALETTE_NAME + ".json")}
                if shared_palette else {})
    the_plan = plan(inputs, out_root, recursive=recursive, force=settings.force, resume=resume,
                    reserved=reserved, formats=settings.formats)
    out = the_plan.out_root
    with held_folder(the_plan.named, "batch"):  # before reading its manifest: one batch at a time
        try:
            previous = mf.read(the_plan.named)
        except FormatError as exc:
            if resume or not settings.force:
                raise FormatError(f"{exc}: run with force=True and without resume to redo the "
                                  "batch", parameters=("force=True", "resume")) from None
            previous = None  # a batch redone needs nothing of it
        if previous is not None and not (resume or settings.force):
            raise OutputError(f"{display_name(the_plan.named)} already holds a batch "
                              f"({mf.JSON_NAME}): use resume=True to continue it or force=True "
                              "to redo it",
                              parameters=("resume=True", "force=True"))
        if resume and previous is not None:
            _check_names_kept(previous, the_plan)
        executor = make_executor(jobs, scheduler, len(the_plan.jobs), notice)
        try:
            settings, fitted = _with_palette(settings, executor, the_plan, previous if resume else None,
                                             shared=shared_palette, palette_from=palette_from,
                                             progress=progress)
            if palette_name is None and isinstance(palette_from, (str, os.PathLike)):
                palette_name = palette_from
            options = _options_record(settings, None if palette_name is None
                                      else os.fspath(palette_name))
            kept_rows = _kept_rows(previous, options, the_plan) if resume and previous else {}
            palette_files = [] if fitted is None else save_palette(fitted, out)  # the run holds
            carried = _carried_rows(previous, the_plan) if resume and previous else {}
            todo = [j for j in the_plan.jobs if j.name not in kept_rows]
            if resume and previous:
                todo = _ours_replaced(todo, previous, out, settings.formats)
                remove_temporaries([out / mf.JSON_NAME, out / mf.CSV_NAME, *(
                    path for job in the_plan.jobs for path in job.targets(settings.formats))])
            book = mf.Manifest(out, options,
                               carried | {r["path"]: r for r in the_plan.rows} | kept_rows,
                               _claims(todo, previous if resume else None, the_plan, settings))
            total, finished = len(todo), [0]

            def done(job: Job, row: Any) -> None:
                if row == INTERRUPTED:
                    return
                if isinstance(row, Died):
                    row = mf.problem_row(job.name, "failed", row.reason, job.source)
                book.record(row)
                finished[0] += 1
                if progress:
                    progress("compress", finished[0], total, job.name)

            try:
                ensure_dir(out)
                book.flush()
                executor.run(run_job, todo, settings, done)
            finally:
                book.flush()
        finally:
            executor.close()
        return BatchResult(book, mf.summarize(book.sorted_rows()), time.perf_counter() - start,
                           kept=len(kept_rows), duplicates=the_plan.duplicates,
                           palette_files=palette_files)


def check_settings(settings: Settings, jobs: int | None, *, shared_palette: bool = False,
                   palette_from: str | os.PathLike[str] | np.ndarray | None = None,
                   scheduler: str | None = None) -> int:
    """Every parameter of a batch checked before any work, as ``compress`` checks its own (the
    same :meth:`~quantize.jobs.pipeline.CompressOptions.validated`); returns the number of jobs."""
    from ..io.outputs import check_formats

    settings.options.validated()
    if settings.resample:  # the animation layer is loaded only for a batch that resamples
        from ..animation.resample import check_resampling

        unknown = sorted(set(settings.resample) - {"width", "height", "fps", "plays"})
        if unknown:
            raise ParameterError(f"resample takes width, height, fps and plays, not "
                                 f"{', '.join(unknown)}", parameters=("resample",))
        check_resampling(**settings.resample)
    check_formats(settings.formats, settings.options.fit.k)
    _check_target(settings.target)
    if settings.max_bytes is not None and settings.target:
        raise ParameterError("max_bytes and a target each choose K: give one",
                             parameters=("max_bytes", "target"))
    if (settings.max_bytes is not None or settings.target) and (
            settings.options.palette is not None or shared_palette or palette_from is not None):
        raise ParameterError("a byte budget or a quality target chooses each image's K: it cannot "
                             "be combined with a fixed or shared palette",
                             parameters=("max_bytes", "psnr", "delta_e", "shared_palette",
                                         "palette_from"))
    if jobs is not None and scheduler is not None:  # else silently ignored
        raise ParameterError("jobs sets this machine's processes; with scheduler the cluster's "
                             "workers compress as many images at once as they have threads",
                             parameters=("jobs", "scheduler"))
    jobs = default_jobs() if jobs is None else jobs
    check_jobs(jobs)
    if shared_palette and palette_from is not None:
        raise ParameterError("shared_palette and palette_from exclude each other",
                             parameters=("shared_palette", "palette_from"))
    if shared_palette and settings.options.fit.sample:
        raise ParameterError("sample cannot be combined with shared_palette",
                             parameters=("sample", "shared_palette"))
    return jobs


def _check_target(target: Target | None) -> None:
    """A :class:`ParameterError` unless ``target`` is None or a :class:`Target`."""
    from .sweep_model import Target

    if target is not None and not isinstance(target, Target):
        raise ParameterError(f"target must be a Target (psnr and/or delta_e), not "
                             f"{type(target).__name__}", parameters=("target",))


def _with_palette(settings: Settings, executor: Executor, the_plan: Plan,
                  resumed: dict[str, Any] | None, *, shared: bool,
                  palette_from: str | os.PathLike[str] | np.ndarray | None,
                  progress: Callable[[str, int, int, str], None] | None
                  ) -> tuple[Settings, np.ndarray | None]:
    """Settings carrying the shared palette (loaded, or reused from the ``resumed`` run's
    manifest's folder), and the palette fitted afresh, for :func:`save_palette` once the run
    holds (None when none was fitted)."""
    from ..io import container

    saved = the_plan.out_root / (PALETTE_NAME + container.SUFFIX)
    fitted = None
    if palette_from is not None:
        palette = palette_from if hasattr(palette_from, "shape") else load_palette(palette_from)
    elif shared and resumed is not None:
        if not saved.exists() and (resumed.get("options") or {}).get("palette_sha256"):
            raise OutputError(f"{display_name(the_plan.named / saved.name)}, the shared palette "
                              "of the batch resumed, is missing: run with force=True and without "
                              "resume to redo it",
                              parameters=("force=True", "resume"))
        palette = load_palette(saved) if saved.exists() else None
    else:
        palette = None
    if shared and palette is None:
        palette = fitted = fit_shared_palette(executor, the_plan.jobs, settings, progress)
    if palette is None:
        return settings, None
    fit = settings.options.fit if shared else replace(settings.options.fit, k=len(palette))
    return replace(settings, options=replace(settings.options, fit=fit, palette=palette)), fitted


def _options_record(settings: Settings, palette_name: str | None = None) -> dict[str, Any]:
    """What decides the outputs, as stored in the manifest (the palette by its colours' digest,
    and by the ``palette_name`` it was given as, for words only)."""
    import hashlib

    from ..io.outputs import FileOptions

    opts = settings.options
    palette = opts.palette
    files = asdict(settings.files or FileOptions())
    return {**asdict(opts.fit), "codec": opts.codec, "dither": opts.dither,
            "dither_strength": opts.dither_strength, "formats": list(settings.formats),
            "max_bytes": settings.max_bytes,
            **({"target_psnr": settings.target.psnr, "target_delta_e": settings.target.delta_e}
               if settings.target else {}),
            "palette_sha256": None if palette is None else hashlib.sha256(palette.tobytes()).hexdigest(),
            # recorded when set, so that a manifest written before they were stays resumable
            **({"rdo": opts.rdo} if opts.rdo else {}),
            **({"palette_from": palette_name} if palette_name is not None else {}),
            **({"resample": settings.resample} if settings.resample else {}),
            **{name: value for name, value in files.items()
               if value != getattr(FileOptions, name)}}


def _ours_replaced(todo: list[Job], previous: dict[str, Any], out_root: Path,
                   formats: Sequence[str]) -> list[Job]:
    """The jobs redone on resume, each allowed to replace its existing outputs where the previous
    run's manifest lists every one of them as that input's own (in its row, or claimed for a job
    that had no row yet: killed runs write outputs they never record); any other file stays
    protected (replaced with force only)."""
    recorded = {row["path"]: {out_root / row[key] for key, *_ in mf.FILE_COLUMNS.values()
                              if row.get(key)} for row in previous["rows"]}
    for name, paths in (previous.get("claims") or {}).items():
        recorded.setdefault(name, set()).update(out_root / path for path in paths)

    def ours(job: Job) -> bool:
        own = recorded.get(job.name, set())
        return all(not os.path.lexists(path) or path in own for path in job.targets(formats))

    return [replace(job, may_replace=ours(job)) for job in todo]


def _claims(todo: list[Job], previous: dict[str, Any] | None, the_plan: Plan,
            settings: Settings) -> dict[str, list[str]]:
    """Each job's outputs that it may write (none there yet, or its own to replace), claimed in
    the manifest before any runs; a resumed run keeps the claims of inputs it was not given."""
    named = {j.name for j in the_plan.jobs}
    claims = {name: paths for name, paths in ((previous or {}).get("claims") or {}).items()
              if name not in named}
    for job in todo:
        mine = [path for path in job.targets(settings.formats)
                if settings.force or job.may_replace or not os.path.lexists(path)]
        if mine:
            claims[job.name] = [path.relative_to(the_plan.out_root).as_posix() for path in mine]
    return claims


def _carried_rows(previous: dict[str, Any], the_plan: Plan) -> dict[str, Any]:
    """Rows of the previous run for inputs this run was not given, kept while their outputs are
    intact: the manifest stays the record of what the folder holds (and of what a later resume
    may replace)."""
    named = {j.name for j in the_plan.jobs} | {r["path"] for r in the_plan.rows}
    return {r["path"]: r for r in previous["rows"]
            if r["path"] not in named and mf.outputs_intact(r, the_plan.out_root)}


class OptionsChanged(ParameterError):
    """A resume refused: the batch's folder was made with other options. ``before`` and ``now``
    are the two runs' options as the manifest records them (an option left out at its default
    filled in), ``changed`` the names of those that differ, ``folder`` the folder's name."""

    def __init__(self, folder: str, before: dict[str, Any], now: dict[str, Any]) -> None:
        self.folder, self.before, self.now = folder, before, now
        self.changed = sorted(k for k in now.keys() | before.keys()
                              if k not in _WORDS_ONLY and before.get(k) != now.get(k))
        super().__init__(self.worded(", ".join(self.changed)), parameters=("force=True", "resume"))

    def worded(self, changes: str) -> str:
        """The refusal with ``changes`` (the options that differ, in the caller's words)."""
        return (f"{self.folder} was made with other options ({changes}): run with force=True and "
                "without resume to redo it")


# options recorded only to word a refusal: a palette is the same one by its colours, however named
_WORDS_ONLY = ("palette_from",)


def _recorded(options: dict[str, Any]) -> dict[str, Any]:
    """A manifest's options with those recorded only when set (:func:`_options_record`) filled
    in at their defaults."""
    from ..io.outputs import FileOptions

    return {"rdo": 0, "resample": {}, **asdict(FileOptions()), **options}


def _check_names_kept(previous: dict[str, Any], the_plan: Plan) -> None:
    """Refuse a resume that gives a name below the output folder to another image than the batch
    resumed gave it, one still there (another folder's ``x.png``): its outputs were replaced as
    if that image had changed. The same image by another path (a link, a copy) or one moved is
    no clash."""
    done = {r["path"]: r for r in previous["rows"] if r["status"] == "ok" and r.get("input")}
    for job in the_plan.jobs:
        row = done.get(job.name)
        if row is None or row["input"] == job.source:
            continue
        try:
            if (os.path.samefile(row["input"], job.source)
                    or mf.sha256_of(Path(job.source), "image") == row.get("input_sha256")):
                continue
        except (OSError, QuantizeError):  # the other image is gone (moved, renamed)
            continue
        raise InputError(f"{display_name(job.source)} takes the name {display_name(job.name)} "
                         f"below the output folder, which the batch resumed gave "
                         f"{display_name(row['input'])}: give another output folder")


def _kept_rows(previous: dict[str, Any], options: dict[str, Any], the_plan: Plan) -> dict[str, Any]:
    """Rows of the previous run whose outputs are intact, for the inputs still in the batch."""
    before, now = _recorded(previous.get("options") or {}), _recorded(options)
    if any(before.get(k) != now.get(k) for k in before.keys() | now.keys() if k not in _WORDS_ONLY):
        raise OptionsChanged(display_name(the_plan.named), before, now)
    sources = {j.name: j.source for j in the_plan.jobs}
    return {r["path"]: r for r in previous["rows"]
            if r["path"] in sources and mf.outputs_intact(r, the_plan.out_root)
            and mf.input_unchanged(r, sources[r["path"]])}
