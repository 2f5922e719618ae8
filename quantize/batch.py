"""Batch compression: find the inputs, run them on worker processes (or a Dask cluster), keep the
manifest up to date, resume where a previous run stopped.

Every input is compressed by :func:`~quantize.pipeline.compress_file` with the same options and seed,
so the outputs are byte-identical whatever the number of workers. Local workers are ``spawn``-ed
processes (never forked after Numba's threads started), each with one Numba thread, loading the
kernels once and then taking image after image.

This module imports neither Numba nor the pipeline at import time: a spawned worker imports it first
and must set ``NUMBA_NUM_THREADS`` before Numba loads.
"""

from __future__ import annotations

import glob
import multiprocessing
import os
import signal
import time
from concurrent import futures
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from . import manifest as mf
from .errors import InputError, OutputError, ParameterError, QuantizeError
from .files import check_writable, ensure_dir, write_bytes

if TYPE_CHECKING:
    import numpy as np

    from .pipeline import CompressOptions

PALETTE_NAME = "palette"  # the shared palette: <out>/palette.qnt and <out>/palette.json
INTERRUPTED = "interrupted"  # what a local worker returns for a job stopped by Ctrl-C


@dataclass(frozen=True)
class Job:
    """One input: the file to read, its name relative to its root (POSIX: the manifest key and the
    place of its outputs below the output folder), and the absolute output folder."""

    source: str
    name: str
    out_root: str

    @property
    def out_dir(self) -> Path:
        """The folder this input's outputs go to (its folder mirrored below the output folder)."""
        return Path(self.out_root) / Path(self.name).parent


@dataclass
class Plan:
    """What a batch will do: the jobs, and rows for inputs already decided (skipped, clashing)."""

    out_root: Path
    jobs: list[Job] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    duplicates: int = 0


@dataclass(frozen=True)
class Settings:
    """How every job runs (the same for all of them)."""

    options: CompressOptions
    preview: bool = False
    force: bool = False
    allow_huge: bool = False


# ---------------------------------------------------------------------------------------- discovery

def image_suffixes() -> frozenset[str]:
    """File name endings of the formats the loader reads (``.png``, ``.jpg``, ...)."""
    from PIL import Image as PILImage

    from .images import FORMATS

    return frozenset(ext for ext, fmt in PILImage.registered_extensions().items() if fmt in FORMATS)


def plan(inputs: Sequence[str | os.PathLike[str]], out_root: str | os.PathLike[str], *,
         recursive: bool = True, force: bool = False) -> Plan:
    """Find the images among ``inputs`` (folders, glob patterns, files) and where their outputs go.

    Folders are walked (symlinks followed, each folder once, the output folder left out); files that
    are not images by their name are skipped. A file named explicitly is always tried. The same file
    reached twice is taken once. The output folder may lie inside an input folder only with ``force``.
    """
    from .pipeline import output_paths

    out = Path(os.path.abspath(out_root))
    result = Plan(out)
    suffixes = image_suffixes()
    found: list[tuple[Path, str]] = []  # (file, name relative to its root)
    for spec in inputs:
        found.extend(_expand(str(spec), out, recursive=recursive, force=force, plan=result,
                             suffixes=suffixes))
    check_writable(out)
    seen_files: set[tuple[int, int]] = set()
    names: dict[str, str] = {}
    outputs: dict[Path, str] = {}
    sources: set[Path] = set()
    jobs: list[tuple[Path, str]] = []
    for path, name in found:
        try:
            st = path.stat()
        except OSError as exc:
            result.rows.append(mf.problem_row(name, "failed", f"cannot read: {exc.strerror}", str(path)))
            continue
        if (st.st_dev, st.st_ino) in seen_files:
            result.duplicates += 1
            continue
        seen_files.add((st.st_dev, st.st_ino))
        if name in names:
            raise InputError(f"{names[name]} and {path} would both be written as {name}: "
                             "give their common folder instead")
        names[name] = str(path)
        sources.add(path.resolve())
        jobs.append((path, name))
    for path, name in jobs:
        job = Job(os.path.abspath(path), name, str(out))
        packed = output_paths(path, job.out_dir)[0]
        if packed in outputs:
            result.rows.append(mf.problem_row(
                name, "failed", f"its output {packed.name} is also the output of {outputs[packed]}",
                str(path)))
        elif any(p.resolve() in sources for p in output_paths(path, job.out_dir)):
            result.rows.append(mf.problem_row(name, "failed", "an output would overwrite an input",
                                              str(path)))
        else:
            outputs[packed] = name
            result.jobs.append(job)
    if not result.jobs and not result.rows:
        raise InputError("no images found in " + ", ".join(map(str, inputs)))
    return result


def _expand(spec: str, out: Path, *, recursive: bool, force: bool, plan: Plan,
            suffixes: frozenset[str]) -> list[tuple[Path, str]]:
    path = Path(spec)
    if path.is_dir():
        root = Path(os.path.abspath(path))
        if (out == root or root in out.parents) and not force:
            raise OutputError(f"output folder {out} is inside the input folder {spec} "
                              "(use --force to allow it)")
        files = _walk(root, out, recursive=recursive, plan=plan)
    elif path.exists():
        return [(path, path.name)]
    elif glob.has_magic(spec):
        root = Path(os.path.abspath(_glob_root(spec)))
        files = sorted(Path(os.path.abspath(p)) for p in glob.glob(spec, recursive=True)
                       if os.path.isfile(p))
        files = [f for f in files if out not in f.parents]
        if not files:
            raise InputError(f"no file matches {spec!r}")
    else:
        raise InputError(f"{spec}: no such file or folder")
    images = []
    for f in files:
        name = f.relative_to(root).as_posix()
        if f.suffix.lower() in suffixes:
            images.append((f, name))
        else:
            plan.rows.append(mf.problem_row(name, "skipped", "not an image file", str(f)))
    return images


def _glob_root(pattern: str) -> str:
    """The leading part of ``pattern`` without wildcards: the folder names are relative to."""
    parts = Path(pattern).parts
    fixed = []
    for part in parts[:-1]:
        if glob.has_magic(part):
            break
        fixed.append(part)
    return str(Path(*fixed)) if fixed else "."


def _walk(root: Path, out: Path, *, recursive: bool, plan: Plan) -> list[Path]:
    """Files below ``root`` in sorted order, each folder visited once (symlink loops), ``out`` left out."""
    files: list[Path] = []
    visited: set[tuple[int, int]] = set()

    def unreadable(exc: OSError) -> None:
        plan.rows.append(mf.problem_row(
            Path(exc.filename).relative_to(root).as_posix() + "/", "skipped",
            f"folder not readable: {exc.strerror}", exc.filename))

    for folder, dirs, names in os.walk(root, followlinks=True, onerror=unreadable):
        st = os.stat(folder)
        if (st.st_dev, st.st_ino) in visited:
            dirs[:] = []
            continue
        visited.add((st.st_dev, st.st_ino))
        dirs[:] = sorted(d for d in dirs if recursive and Path(folder, d) != out)
        files.extend(Path(folder, n) for n in sorted(names) if os.path.isfile(os.path.join(folder, n)))
    return files


# ------------------------------------------------------------------------------------------- one job

def run_job(job: Job, settings: Settings) -> dict[str, Any]:
    """Compress one input; return its manifest row. Problems with the file become a failed row."""
    from .pipeline import compress_file

    try:
        result = compress_file(job.source, job.out_dir, options=settings.options,
                               preview=settings.preview, force=settings.force,
                               allow_huge=settings.allow_huge)
    except QuantizeError as exc:
        return mf.problem_row(job.name, "failed", str(exc), job.source)
    except MemoryError:
        return mf.problem_row(job.name, "failed", "out of memory", job.source)
    except Exception as exc:  # a bug must not stop the batch: report it on this row
        return mf.problem_row(job.name, "failed", f"internal error: {type(exc).__name__}: {exc}",
                              job.source)
    return mf.ok_row(job.name, result.to_dict(), Path(job.out_root))


def count_job(job: Job, settings: Settings) -> tuple[np.ndarray, np.ndarray] | None:
    """The 24-bit RGB keys and pixel counts of one input's distinct colours (None if unreadable)."""
    import numpy as np

    from .colorstats import color_stats

    from .images import DEFAULT_MAX_PIXELS, load_image

    try:
        image = load_image(job.source, max_pixels=None if settings.allow_huge else DEFAULT_MAX_PIXELS)
    except QuantizeError:
        return None  # the compression pass reports it
    stats = color_stats(np.ascontiguousarray(image.pixels[..., :3]))
    c = stats.colors.astype(np.int32)
    return (c[:, 0] << 16) | (c[:, 1] << 8) | c[:, 2], stats.counts.astype(np.int64)


# --------------------------------------------------------------------------------------- executors

_stop: Any = None  # in a local worker: the event the parent sets on Ctrl-C


def _init_worker(stop: Any) -> None:
    """Local worker start-up: one Numba thread, Ctrl-C only while a job runs."""
    global _stop
    os.environ["NUMBA_NUM_THREADS"] = "1"
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _stop = stop


def _interrupt_once(signum: int, frame: Any) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not break the clean-up
    raise KeyboardInterrupt


def _local_call(fn: Callable, job: Job, settings: Settings) -> Any:
    """Run ``fn(job, settings)`` in a worker; a Ctrl-C (or the stop event) gives ``INTERRUPTED``."""
    if _stop.is_set():
        return INTERRUPTED
    signal.signal(signal.SIGINT, _interrupt_once)
    try:
        return fn(job, settings)
    except KeyboardInterrupt:
        return INTERRUPTED
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


class _InProcess:
    """``--jobs 1``: the jobs in this process, one after another, on one Numba thread."""

    def run(self, fn: Callable, jobs: Sequence[Job], settings: Settings,
            done: Callable[[Job, Any], None]) -> None:
        import numba

        threads = numba.get_num_threads()
        numba.set_num_threads(1)
        try:
            for job in jobs:
                done(job, fn(job, settings))
        finally:
            numba.set_num_threads(threads)

    def close(self) -> None:
        pass


class _Processes:
    """``--jobs N``: N spawned worker processes."""

    def __init__(self, n: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.stop = ctx.Event()
        self.pool = futures.ProcessPoolExecutor(n, mp_context=ctx, initializer=_init_worker,
                                                initargs=(self.stop,))

    def run(self, fn: Callable, jobs: Sequence[Job], settings: Settings,
            done: Callable[[Job, Any], None]) -> None:
        pending = {self.pool.submit(_local_call, fn, job, settings): job for job in jobs}
        try:
            for fut in futures.as_completed(pending):
                done(pending.pop(fut), fut.result())
        except KeyboardInterrupt:
            self.stop.set()
            for fut in pending:
                fut.cancel()
            for child in multiprocessing.active_children():
                os.kill(child.pid, signal.SIGINT)
            futures.wait(pending)
            for fut, job in pending.items():  # jobs that finished while we stopped are kept
                if not fut.cancelled() and fut.exception() is None and fut.result() != INTERRUPTED:
                    done(job, fut.result())
            raise

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class _Dask:
    """``--scheduler ADDRESS``: the jobs as tasks on a Dask distributed cluster (shared storage)."""

    def __init__(self, address: str) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise ParameterError("--scheduler needs Dask: pip install 'quantize[dask]'") from None
        try:
            self.client = Client(address, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise ParameterError(f"cannot reach the Dask scheduler at {address}: {exc}") from None

    def run(self, fn: Callable, jobs: Sequence[Job], settings: Settings,
            done: Callable[[Job, Any], None]) -> None:
        from distributed import as_completed

        pending = {self.client.submit(fn, job, settings, pure=False): job for job in jobs}
        try:
            for fut in as_completed(list(pending)):
                done(pending.pop(fut), fut.result())
        except KeyboardInterrupt:
            self.client.cancel(list(pending))
            raise

    def close(self) -> None:
        self.client.close()


def _executor(jobs: int, scheduler: str | None, n_jobs: int) -> Any:
    if scheduler:
        return _Dask(scheduler)
    if jobs < 1:
        raise ParameterError(f"--jobs must be at least 1, got {jobs}")
    n = min(jobs, n_jobs)
    return _Processes(n) if n > 1 else _InProcess()


def default_jobs() -> int:
    """The number of cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


# ----------------------------------------------------------------------------------- shared palette

def fit_shared_palette(executor: Any, jobs: Sequence[Job], settings: Settings,
                       progress: Callable[[str, int, int, str], None] | None = None) -> np.ndarray:
    """One palette for all ``jobs``: their colour counts summed in a 2^24 table (bounded memory,
    one image's colours at a time), then the usual palette fit on the combined weighted colours."""
    import numpy as np

    from .colorstats import ColorStats
    from .fitting import fit_palette, to_palette

    fit = settings.options.fit
    if fit.sample:
        raise ParameterError("--sample cannot be combined with --shared-palette")
    table = np.zeros(1 << 24, np.int64)

    counted_jobs = [0]

    def add(job: Job, counted: Any) -> None:
        if isinstance(counted, tuple):
            keys, counts = counted
            table[keys] += counts
        counted_jobs[0] += 1
        if progress:
            progress("colours", counted_jobs[0], len(jobs), job.name)

    executor.run(count_job, jobs, settings, add)
    keys = np.flatnonzero(table)
    if not len(keys):
        raise InputError("no readable image to fit a shared palette to")
    colors = np.stack([keys >> 16, (keys >> 8) & 0xFF, keys & 0xFF], axis=1).astype(np.uint8)
    stats = ColorStats(colors, table[keys].astype(np.float64), table, int(table.sum()))
    return to_palette(fit_palette(None, stats, fit).centers)


def save_palette(palette: np.ndarray, out_root: Path) -> list[Path]:
    """Write the shared palette as ``palette.qnt`` (a 1 x K image of its colours) and ``palette.json``."""
    import numpy as np

    from . import container
    from .palettes import Palette, encode_palette

    qnt, js = out_root / (PALETTE_NAME + container.SUFFIX), out_root / (PALETTE_NAME + ".json")
    ensure_dir(out_root)
    strip = np.arange(len(palette), dtype=np.uint16 if len(palette) > 256 else np.uint8)[None, :]
    write_bytes(qnt, container.encode(palette, strip), force=True)
    write_bytes(js, encode_palette(Palette(palette, title="quantize shared palette"), "json"),
                force=True)
    return [qnt, js]


def load_palette(path: str | os.PathLike[str]) -> np.ndarray:
    """A saved palette: a ``.qnt`` file's palette, or any palette file :mod:`quantize.palettes` reads."""
    from . import container
    from .palettes import read_palette

    if Path(path).suffix.lower() == container.SUFFIX:
        return container.load(path).palette
    return read_palette(path).colors


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
              palette_from: str | os.PathLike[str] | None = None, scheduler: str | None = None,
              progress: Callable[[str, int, int, str], None] | None = None) -> BatchResult:
    """Compress every image of ``inputs`` into ``out_root`` (the tree mirrored), keeping the manifest.

    ``progress(phase, done, total, name)`` is called as inputs finish (phase ``"colours"`` while
    counting colours for a shared palette, then ``"compress"``). On Ctrl-C the finished outputs and a
    consistent manifest stay, and :class:`KeyboardInterrupt` propagates.
    """
    start = time.perf_counter()
    the_plan = plan(inputs, out_root, recursive=recursive, force=settings.force)
    out = the_plan.out_root
    previous = mf.read(out)
    if previous is not None and not (resume or settings.force):
        raise OutputError(f"{out} already holds a batch ({mf.JSON_NAME}): use --resume to continue "
                          "it or --force to redo it")
    executor = _executor(jobs or default_jobs(), scheduler, len(the_plan.jobs))
    try:
        settings, palette_files = _with_palette(settings, executor, the_plan, resume=resume,
                                                shared=shared_palette, palette_from=palette_from,
                                                progress=progress)
        options = _options_record(settings)
        kept_rows = _kept_rows(previous, options, the_plan) if resume and previous else {}
        book = mf.Manifest(out, options, {r["path"]: r for r in the_plan.rows} | kept_rows)
        todo = [j for j in the_plan.jobs if j.name not in kept_rows]
        settings = replace(settings, force=settings.force or resume)
        total, finished = len(todo), [0]

        def done(job: Job, row: Any) -> None:
            if row == INTERRUPTED:
                return
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


def _with_palette(settings: Settings, executor: Any, the_plan: Plan, *, resume: bool, shared: bool,
                  palette_from: str | os.PathLike[str] | None,
                  progress: Callable[[str, int, int, str], None] | None) -> tuple[Settings, list[Path]]:
    """Settings carrying the shared palette: loaded, reused on resume, or fitted and saved."""
    from . import container

    saved = the_plan.out_root / (PALETTE_NAME + container.SUFFIX)
    written: list[Path] = []
    if palette_from is not None:
        palette = load_palette(palette_from)
    elif shared and resume and saved.exists():
        palette = load_palette(saved)
    elif shared:
        palette = fit_shared_palette(executor, the_plan.jobs, settings, progress)
        written = save_palette(palette, the_plan.out_root)
    else:
        return settings, written
    return replace(settings, options=replace(settings.options, palette=palette)), written


def _options_record(settings: Settings) -> dict[str, Any]:
    """What decides the outputs, as stored in the manifest (the palette by its colours' digest)."""
    import hashlib

    opts = settings.options
    palette = opts.palette
    return {**asdict(opts.fit), "codec": opts.codec, "preview": settings.preview,
            "palette_sha256": None if palette is None else hashlib.sha256(palette.tobytes()).hexdigest()}


def _kept_rows(previous: dict[str, Any], options: dict[str, Any], the_plan: Plan) -> dict[str, Any]:
    """Rows of the previous run whose outputs are intact, for the inputs still in the batch."""
    if previous.get("options") != options:
        changed = sorted(k for k in options if previous.get("options", {}).get(k) != options[k])
        raise ParameterError(f"{the_plan.out_root} was made with other options ({', '.join(changed)}): "
                             "run without --resume and with --force to redo it")
    wanted = {j.name for j in the_plan.jobs}
    return {r["path"]: r for r in previous["rows"]
            if r["path"] in wanted and mf.outputs_intact(r, the_plan.out_root)}

