"""Quantising a clip: two passes over its frames (colours, then mapping and writing), every output
format fed each frame as it comes, the outputs written all or nothing; K chosen by a byte budget
or a quality target, or swept; and a multi-frame ``.qnt`` unpacked through the same writers."""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Sequence

import numpy as np

from ..choices import CODECS, DEFAULT_CODEC
from ..errors import ParameterError, checked_options, is_real, whole
from ..io.files import (check_target, check_writable, display_name, input_path, is_stream,
                        output_arg)
from ..core.fitting import FitOptions
from ..core.threads import launches_one_thread_at_a_time
from ..choices import DEFAULT_WEBP_METHOD, WEBP_METHODS
from ..io.images import DEFAULT_MAX_PIXELS
from ..io.outputs import GIF_ALPHA_NOTE
from .choices import (DEFAULT_FORMATS, DITHERS, EXTENSIONS, FORMATS, GIF_TABLE, PALETTE_MODES,
                      UNPACKED, named_format)
from .measure import PSNR_CAP, ClipMeter
from ..jobs.pipeline import CompressOptions
from ..jobs.sweep import (TargetMissed, kneedle, largest_fitting, require_target,
                           search_target)
from ..jobs.sweep_model import Budget, Pick, Search, Target
from .palettes import ClipScan, PaletteSchedule, scan_clip
from .qntanim import QntAnimation
from .refine import ChangeTables, takes_change_tables
from .resample import as_browsers_play, as_gif_shows, check_resampling, resampled
from .source import Clip, HeldFrames, Origin, frame_files, open_clip
from .temporal import MappedFrame, StableMapper, mapped_frames, merged

OUTPUT_TAG = "anim"  # one of files.OUTPUT_TAGS, so no batch or frames folder takes it as input


@dataclass(frozen=True)
class AnimationOptions:
    """How to quantise a clip: the fit (K, seed, space, ...), the palette mode, the dither, and
    the output formats."""

    fit: FitOptions = field(default_factory=FitOptions)
    palette_mode: str = "auto"
    dither: str = "none"
    dither_strength: float = 1.0
    formats: tuple[str, ...] = DEFAULT_FORMATS
    webp_method: int = DEFAULT_WEBP_METHOD
    codec: str = DEFAULT_CODEC  # of the multi-frame .qnt

    @classmethod
    def like(cls, options: CompressOptions, formats: Sequence[str]) -> "AnimationOptions":
        """The animation options closest to a still compression's ``options`` writing ``formats``
        (as ``batch`` and ``sweep`` run an animated input): the same fit, dither and codec. A
        format, a fixed palette or a rate-distortion mapping with no animated form is a
        :class:`ParameterError` (K and the dither are checked by :meth:`validated`)."""
        options = CompressOptions.checked(options)
        if isinstance(formats, str) or not isinstance(formats, Iterable):
            raise ParameterError(f"formats must be a sequence of names, e.g. ('gif',), got "
                                 f"{formats!r}", parameters=("formats",))
        formats = tuple(formats)
        still_only = [str(f) for f in formats if f not in FORMATS]
        if still_only:
            raise ParameterError(f"an animation has no {', '.join(still_only)} form; it is written "
                                 f"as {', '.join(FORMATS)}")
        if options.palette is not None:
            raise ParameterError("an animation fits its own palettes; palette, shared_palette and "
                                 "palette_from do not apply to it",
                                 parameters=("palette", "shared_palette", "palette_from"))
        if options.rdo:
            raise ParameterError("rdo does not apply to an animation", parameters=("rdo",))
        return cls(fit=options.fit, dither=options.dither, dither_strength=options.dither_strength,
                   formats=tuple(formats), codec=options.codec).validated()

    @classmethod
    def checked(cls, options: "AnimationOptions | None") -> "AnimationOptions":
        """``options`` (default ones for None) :meth:`validated`; a caller's FitOptions or other
        object in their place is a :class:`ParameterError`."""
        return checked_options(cls, options)

    def validated(self) -> "AnimationOptions":
        """Check every value once, here, with one-line messages (the fit's own by
        :meth:`FitOptions.validated`)."""
        if isinstance(self.formats, str) or not isinstance(self.formats, Iterable) \
                or not all(isinstance(f, str) for f in self.formats):
            raise ParameterError(f"formats must be a sequence of names, e.g. ('gif',), got "
                                 f"{self.formats!r}", parameters=("formats",))
        if not isinstance(self.fit, FitOptions):
            raise ParameterError(f"fit must be FitOptions, not {type(self.fit).__name__}",
                                 parameters=("fit",))
        fit = self.fit.validated()
        if not 1 <= fit.k <= GIF_TABLE:
            raise ParameterError(f"K must be 1 to {GIF_TABLE} for an animation, got {fit.k}")
        if self.palette_mode not in PALETTE_MODES:
            raise ParameterError(f"palette mode must be one of {', '.join(PALETTE_MODES)}, "
                                 f"got {self.palette_mode!r}")
        if self.codec not in CODECS:
            raise ParameterError(f"codec must be one of {', '.join(CODECS)}, got {self.codec!r}")
        if self.dither not in DITHERS:
            raise ParameterError(f"an animation's dither must be one of {', '.join(DITHERS)}, "
                                 f"got {self.dither!r}")
        if not (is_real(self.dither_strength) and 0 <= self.dither_strength <= 1):
            raise ParameterError(f"dither strength must be 0 to 1, got {self.dither_strength!r}",
                                 parameters=("dither_strength",))
        if self.webp_method not in WEBP_METHODS:
            raise ParameterError(f"webp_method must be 0 to 6, got {self.webp_method!r}",
                                 parameters=("webp_method",))
        unknown = [f for f in self.formats if f not in FORMATS]
        if unknown or not self.formats:
            hint = " (png is written as an APNG)" if "apng" in unknown else ""
            raise ParameterError(f"formats must be some of {', '.join(FORMATS)}, got "
                                 f"{', '.join(self.formats) or 'none'}{hint}",
                                 parameters=("formats",))
        return replace(self, fit=fit, formats=tuple(dict.fromkeys(self.formats)))


@dataclass(frozen=True, eq=False)
class Poster:
    """One frame kept for pictures (a sweep's contact sheet): its number, source and shown pixels."""

    number: int
    source: np.ndarray  # (H, W, C) uint8
    shown: np.ndarray


@dataclass(eq=False)
class AnimationResult:
    """What a run produced: the clip's shape, the frames written, quality and every output's bytes."""

    name: str
    width: int
    height: int
    channels: int
    plays: int
    n_frames: int  # frames read
    durations: list[int]  # ms, of the frames written (duplicates merged); a GIF stores each on its
    # centisecond clock (a frame's end to the nearest 10 ms), the other formats exactly
    n_palettes: int
    psnr: list[float]  # per frame read
    delta_e: list[float]
    flicker: float
    outputs: dict[str, bytes]
    seconds: float
    k: int  # the palette size asked for (the one a byte budget or a target chose)
    budget: Budget | None = None  # set when a byte budget chose K
    search: Search | None = None  # set when a quality target chose K
    paths: dict[str, Path] = field(default_factory=dict)
    poster: Poster | None = None  # kept when the run was asked for one
    origin: Origin | None = None  # the source of a resampled clip
    notes: tuple[str, ...] = ()  # what reading the clip left aside

    @property
    def mean_psnr(self) -> float:
        return sum(self.psnr) / len(self.psnr)

    @property
    def mean_delta_e(self) -> float:
        return sum(self.delta_e) / len(self.delta_e)

    @property
    def quality(self) -> tuple[float, float]:
        """The clip's PSNR (:attr:`clip_psnr`) and mean CIEDE2000 over frames, which a quality
        target judges."""
        return self.clip_psnr, self.mean_delta_e

    @property
    def mean_mse(self) -> float:
        """The mean over frames of each frame's squared RGB error (from its PSNR)."""
        return sum(255 ** 2 / 10 ** (db / 10) for db in self.psnr) / len(self.psnr)

    @property
    def clip_psnr(self) -> float:
        """The PSNR of the mean squared error over frames: a frame without error adds next to
        none (the error of its capped 100 dB), where the mean of per-frame PSNRs counts it as
        100 dB (exact title frames then hide poor ones)."""
        return 10 * math.log10(255 ** 2 / self.mean_mse)

    @property
    def lossless(self) -> bool:
        """Whether every frame shows its source exactly (to the 100 dB cap of its PSNR)."""
        return all(db >= PSNR_CAP for db in self.psnr)

    def bits_per_pixel(self, fmt: str) -> float:
        """The bits of the ``fmt`` file per pixel of every frame read."""
        return 8 * len(self.outputs[fmt]) / (self.width * self.height * self.n_frames)

    def to_dict(self) -> dict:
        return {"input": self.name, "width": self.width, "height": self.height,
                "channels": self.channels, "plays": self.plays, "frames_read": self.n_frames,
                "frames_written": len(self.durations), "durations_ms": self.durations,
                "palettes": self.n_palettes, "mean_psnr": self.mean_psnr,
                "clip_psnr": self.clip_psnr,
                "mean_delta_e2000": self.mean_delta_e, "flicker": self.flicker,
                "psnr": self.psnr, "delta_e2000": self.delta_e,
                "k": self.k, "bytes": {f: len(data) for f, data in self.outputs.items()},
                "bits_per_pixel": {f: round(self.bits_per_pixel(f), 4) for f in self.outputs},
                "budget": None if self.budget is None else {
                    "max_bytes": self.budget.max_bytes, "sizes": self.budget.sizes},
                "target": None if self.search is None else {
                    "psnr": self.search.target.psnr, "delta_e": self.search.target.delta_e,
                    "probes": {k: {"clip_psnr": r.clip_psnr, "mean_psnr": r.mean_psnr,
                                   "mean_delta_e2000": r.mean_delta_e}
                               for k, r in sorted(self.search.probes.items())}},
                "files": {f: display_name(p) for f, p in self.paths.items()},
                "source": None if self.origin is None else {
                    "width": self.origin.width, "height": self.origin.height,
                    "frames": self.origin.frames, "fps": self.origin.source_fps,
                    "fps_asked": self.origin.fps},
                "notes": list(self.notes), "seconds": self.seconds}


def _writers(options: AnimationOptions, width: int, height: int, plays: int, channels: int,
             main: np.ndarray | None, one_palette: bool) -> dict:
    """A writer for each format; ``main``: the palette most frames have (None: the first
    frame's); ``one_palette``: every frame has it."""
    from .apng import ApngWriter
    from .gif import GifWriter
    from .qntanim import QntWriter
    from .webp import WebpWriter

    make = {"gif": lambda: GifWriter(width, height, plays, main),
            "png": lambda: ApngWriter(width, height, plays, channels, indexed=one_palette),
            "webp": lambda: WebpWriter(width, height, plays, options.webp_method),
            "qnt": lambda: QntWriter(width, height, plays, options.codec)}
    return {name: make[name]() for name in options.formats}


def animate(clip: Clip | ScannedClip | str | os.PathLike[str] | BinaryIO,
            options: AnimationOptions | None = None, *,
            max_pixels: int | None = DEFAULT_MAX_PIXELS, max_bytes: int | None = None,
            target: Target | None = None) -> AnimationResult:
    """Quantise every frame of ``clip`` (a :class:`~.source.Clip`, such as
    :func:`~.source.frames_clip` makes of frames in memory, a :class:`ScannedClip`, or a path
    or binary file object for :func:`~.source.open_clip`) and encode it in every format of
    ``options``, in memory. With ``max_bytes``, K is the largest up to ``options.fit.k`` whose
    first format's file fits in that many bytes (as ``compress --max-bytes`` chooses it); with
    ``target``, the smallest up to ``options.fit.k`` that meets it (:func:`search_clip`). The
    clip is scanned once."""
    start = time.perf_counter()
    options = AnimationOptions.checked(options)
    if max_bytes is not None and target:
        raise ParameterError("max_bytes and a target each choose K: give one",
                             parameters=("max_bytes", "target"))
    if max_bytes is not None:
        whole("max_bytes", max_bytes, 1)
    scanned = _scanned(clip, options, max_pixels)
    clip, scan = scanned.clip, scanned.scan
    if target:
        search = search_clip(scanned, target, options)
        result = replace(search.result, search=search)
    elif max_bytes is None:
        result = _animate(clip, scan, options)
    else:
        fitting: list[AnimationResult] = []  # the last K that fitted: the search's answer

        def size(k: int) -> int:
            probe = _animate(clip, scan, _with_k(options, k))
            size = len(probe.outputs[options.formats[0]])
            if size <= max_bytes:
                fitting[:] = [probe]
            return size

        budget = largest_fitting(size, max_bytes, options.formats[0], options.fit.k)
        if budget.k == GIF_TABLE:  # no larger K exists to fit: the report says none may
            budget = replace(budget, max_k=None)
        result = replace(fitting[0], budget=budget)
    return replace(result, seconds=time.perf_counter() - start)


def sweep_clip(clip: Clip | ScannedClip | str | os.PathLike[str], ks: Sequence[int],
               options: AnimationOptions | None = None, *,
               max_pixels: int | None = DEFAULT_MAX_PIXELS,
               progress: Callable[[int], None] | None = None) -> list[AnimationResult]:
    """:func:`animate` ``clip`` at every K in ``ks`` (``options.fit.k`` replaced), in memory, its
    frames read and counted once (not again when ``clip`` is a :class:`ScannedClip`); each
    result's seconds leave that first pass out and it keeps its middle frame as its
    :class:`Poster`. ``progress`` is called with each K once it is done."""
    if not ks:
        raise ParameterError("ks is empty", parameters=("ks",))
    options = options or AnimationOptions()
    runs = [_with_k(options, k).validated() for k in ks]
    scanned = _scanned(clip, runs[0], max_pixels)
    clip, scan = scanned.clip, scanned.scan
    results = []
    for run in runs:
        start = time.perf_counter()
        result = _animate(clip, scan, run, poster_at=scan.n_frames // 2)
        results.append(replace(result, seconds=time.perf_counter() - start))
        if progress:
            progress(run.fit.k)
    return results


def search_clip(clip: Clip | ScannedClip | str | os.PathLike[str], target: Target,
                options: AnimationOptions | None = None, *, max_k: int | None = None,
                known: Iterable[AnimationResult] = (),
                max_pixels: int | None = DEFAULT_MAX_PIXELS,
                progress: Callable[[int], None] | None = None) -> Search:
    """The smallest K in [1, ``max_k``] (default ``options.fit.k``) whose run of ``clip`` meets
    ``target`` by its mean PSNR and mean CIEDE2000 over frames, searched as a still's K is
    (:func:`~quantize.jobs.sweep.search_target`). Every probe runs on one scan of the clip;
    ``known`` results (e.g. :func:`sweep_clip`'s with the same options) are not run again.
    ``progress`` is called with each K run. A :class:`~quantize.jobs.sweep.TargetMissed` when
    no K up to ``max_k`` meets it."""
    require_target(target)
    options = AnimationOptions.checked(options)
    max_k = options.fit.k if max_k is None else max_k
    _with_k(options, max_k).validated()
    scanned = _scanned(clip, options, max_pixels)

    def run(k: int) -> AnimationResult:
        result = _animate(scanned.clip, scanned.scan, _with_k(options, k))
        if progress:
            progress(k)
        return result

    origin = scanned.clip.origin
    return search_target(target, run, max_k, known, ceiling=GIF_TABLE,
                         binary_alpha=origin is not None and origin.partly_clear > 0)


def clip_elbow(results: Sequence[AnimationResult]) -> Pick:
    """The elbow of a clip's sweep: Kneedle on the mean squared error per frame against log2 K, as
    a still's sweep takes it on WCSS (``results`` in increasing K)."""
    return kneedle([result.k for result in results], [result.mean_mse for result in results],
                   "mean MSE")


def clip_target(clip: Clip | ScannedClip | str | os.PathLike[str], target: Target,
                options: AnimationOptions, *, max_k: int, known: Iterable[AnimationResult] = (),
                progress: Callable[[int], None] | None = None) -> Pick | None:
    """The target pick of a clip's sweep (:func:`search_clip`): the smallest K meeting
    ``target``, a pick of none saying what was missed, or None without a target."""
    if not target:
        return None
    try:
        return search_clip(clip, target, options, max_k=max_k, known=known,
                           progress=progress).pick
    except TargetMissed as exc:  # the sweep's table is still the answer asked for
        return Pick(None, str(exc))


def _with_k(options: AnimationOptions, k: int) -> AnimationOptions:
    return replace(options, fit=replace(options.fit, k=k))


@dataclass(frozen=True)
class ScannedClip:
    """A clip and its first pass (size, durations and, unless ``counted`` is False, colour
    counts), to run at several K without reading it again."""

    clip: Clip
    scan: ClipScan
    counted: bool = True

    @classmethod
    def read(cls, clip: Clip | str | os.PathLike[str], options: AnimationOptions | None = None,
             *, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> "ScannedClip":
        """``clip`` (opened if a path) scanned as runs with ``options`` need it."""
        return _scanned(clip, options or AnimationOptions(), max_pixels)


def _scanned(clip: Clip | ScannedClip | str | os.PathLike[str] | BinaryIO,
             options: AnimationOptions, max_pixels: int | None) -> ScannedClip:
    """The clip (opened if a path or file object) and its first pass: colour counts, size and
    durations; a :class:`ScannedClip` as it is, unless ``options`` need the colours it did not
    count."""
    counted = options.palette_mode != "frame"
    if isinstance(clip, ScannedClip):
        if clip.counted or not counted:
            return clip
        clip = clip.clip
    if not isinstance(clip, Clip):
        if not isinstance(clip, (str, bytes, os.PathLike)) and not is_stream(clip):
            raise ParameterError(f"animate takes a path, a binary file object, a Clip (frames_clip "
                                 f"makes one of frames in memory) or a ScannedClip, not "
                                 f"{type(clip).__name__}")
        clip = open_clip(clip, max_pixels=max_pixels)
    if "gif" in options.formats:  # every format shows the frames and alpha the GIF can
        clip = as_gif_shows(clip)
    else:  # and without a GIF, the frames browsers play as long as they say
        clip = as_browsers_play(clip)
    held = HeldFrames(clip)
    with launches_one_thread_at_a_time():
        scan = scan_clip(held.frames(), count_colors=counted)
    return ScannedClip(held.clip(), scan, counted)


def _animate(clip: Clip, scan: ClipScan, options: AnimationOptions,
             poster_at: int | None = None) -> AnimationResult:
    """The second pass of :func:`animate`: palettes, mapping, measuring and encoding; with
    ``poster_at``, that frame kept as the result's poster."""
    with launches_one_thread_at_a_time():
        return _second_pass(clip, scan, options, poster_at)


def _second_pass(clip: Clip, scan: ClipScan, options: AnimationOptions,
                 poster_at: int | None) -> AnimationResult:
    if takes_change_tables(scan, options.palette_mode, options.dither, options.fit):
        schedule, frames = None, ChangeTables(scan, options.fit).frames(clip.frames())
    else:
        schedule = PaletteSchedule(scan, options.palette_mode, options.fit)
        frames = mapped_frames(clip.frames(), schedule,
                               StableMapper(options.fit.space, options.dither,
                                            options.dither_strength), scan.channels)
    one_palette = schedule is not None and options.palette_mode != "frame" \
        and schedule.n_palettes == 1
    writers = _writers(options, scan.width, scan.height, clip.plays, scan.channels,
                       None if schedule is None else schedule.most_used(), one_palette)
    meter = ClipMeter()
    durations, palette_ids = [], set()
    poster = None

    def measured():
        nonlocal poster
        for number, (source, frame) in enumerate(frames):
            pixels = source.reference  # the frame as read, soft alpha and all
            meter.add(pixels, frame.colors)
            if number == poster_at:
                poster = Poster(number, pixels.copy(), frame.colors.copy())
            yield frame

    for frame in merged(measured()):
        durations.append(frame.duration)
        palette_ids.add(frame.palette_id)
        for writer in writers.values():
            writer.add(frame)
    outputs = {name: writer.finish() for name, writer in writers.items()}
    return AnimationResult(clip.name, scan.width, scan.height, scan.channels, clip.plays,
                           scan.n_frames, durations, len(palette_ids), meter.psnr, meter.delta_e,
                           meter.flicker, outputs, 0.0, options.fit.k, poster=poster,
                           origin=None if clip.origin is None else replace(clip.origin),
                           notes=clip.notes + _alpha_note(clip.origin))


def _alpha_note(origin: Origin | None) -> tuple[str, ...]:
    """What GIF's all-or-nothing alpha did to the clip, if anything."""
    return (GIF_ALPHA_NOTE,) if origin is not None and origin.partly_clear else ()


def unpack(animation: QntAnimation, fmt: str) -> bytes:
    """The frames of a multi-frame ``.qnt`` file (:func:`~.qntanim.decode_animation`), exactly,
    durations and plays kept, as an animated ``fmt`` (gif, png or webp): when the frames' colours
    fit one palette (:meth:`~.qntanim.QntAnimation.palette`), the indexed APNG and the GIF
    :func:`animate` writes with that palette. A :class:`~quantize.errors.FormatError` for a
    corrupt frame; a :class:`ParameterError` for a frame GIF cannot hold (more than 256
    colours)."""
    if fmt not in UNPACKED.values():
        raise ParameterError(f"a multi-frame .qnt file unpacks to an animated GIF, PNG or WebP, "
                             f"not {fmt}")
    # WebP takes the colours alone; a GIF's one table only where its indices need no more bits
    # than the first frame's (a palette per frame codes smaller in tables of its own)
    palette = None if fmt == "webp" else animation.palette(first_table=fmt == "gif")
    writer = _writers(AnimationOptions(formats=(fmt,)), animation.width, animation.height,
                      animation.plays, animation.channels, palette, palette is not None)[fmt]
    shown = None
    for frame in animation.mapped(palette):
        if fmt == "gif" and len(frame.palette) > GIF_TABLE:
            frame = _kept_out(frame, shown)
        writer.add(frame)
        shown = frame.colors
    return writer.finish()


def _kept_out(frame: MappedFrame, shown: np.ndarray | None) -> MappedFrame:
    """``frame`` with the palette entries past GIF's 256 (the colours a frame keeps from before,
    which the multi-frame .qnt appends) made -1 where the pixel shows what was there."""
    extra = frame.indices >= GIF_TABLE
    kept = shown is not None and bool(np.all(frame.colors[extra] == shown[extra]))
    if not kept:
        raise ParameterError(f"frame {frame.palette_id + 1} has more than {GIF_TABLE} colours, "
                             f"more than a GIF frame holds; unpack it to .png or .webp")
    return replace(frame, palette=frame.palette[:GIF_TABLE],
                   indices=np.where(extra, -1, frame.indices))


def output_paths(source: str | os.PathLike[str], out_dir: str | os.PathLike[str] | None,
                 formats: tuple[str, ...],
                 out_file: str | os.PathLike[str] | None = None) -> dict[str, Path]:
    """Where each format of the clip at ``source`` goes: ``<out_dir>/<stem>.anim.<ext>``, or
    ``out_file`` for the one format written when the caller names the file."""
    if out_file is not None or out_dir is None:
        if out_file is None or out_dir is not None:
            raise ParameterError(f"give out_dir, or out_file for one format's file, not "
                                 f"{'both' if out_dir is not None else 'neither'}",
                                 parameters=("out_file",))
        name = display_name(Path(out_file).name)
        if len(formats) != 1:
            raise ParameterError(f"out_file {name} names one file, but formats "
                                 f"{', '.join(formats)} are {len(formats)}: give out_dir",
                                 parameters=("out_file",))
        named = named_format(name)
        if named is not None and named != formats[0]:  # a GIF called x.webp, say
            raise ParameterError(f"out_file {name} names a {named} file, but the format written "
                                 f"is {formats[0]}: give formats=('{named}',)",
                                 parameters=("out_file",))
        return {formats[0]: Path(out_file)}
    path = Path(source)
    stem = path.name if path.is_dir() else path.stem.rstrip("*?[]") or "frames"
    return {f: Path(out_dir) / f"{stem}.{OUTPUT_TAG}{EXTENSIONS[f]}" for f in formats}


def animate_file(source: str | os.PathLike[str], out_dir: str | os.PathLike[str] | None,
                 options: AnimationOptions | None = None, *, duration: int | None = None,
                 force: bool = False, max_pixels: int | None = DEFAULT_MAX_PIXELS,
                 max_bytes: int | None = None, target: Target | None = None,
                 width: int | None = None, height: int | None = None,
                 fps: float | None = None, plays: int | None = None,
                 out_file: str | os.PathLike[str] | None = None) -> AnimationResult:
    """:func:`animate` the clip at ``source`` (K chosen by ``max_bytes`` or ``target`` if given;
    scaled down to fit ``width`` x ``height``, retimed to at most ``fps`` and set to play
    ``plays`` times, as :func:`~.resample.resampled` does) and write its outputs into
    ``out_dir`` (or its one format to ``out_file``), all or nothing, after checking every output
    path before any work."""
    from ..jobs.job import FileJob

    options = AnimationOptions.checked(options)
    check_resampling(width=width, height=height, fps=fps, plays=plays)
    source = input_path(source, "animate_file's source (a Clip goes to animate)")
    out_file = output_arg(out_file, "animate_file's out_file")
    paths = output_paths(source, output_arg(out_dir, "animate_file's out_dir"), options.formats,
                         out_file)
    if out_file is not None:  # a refusal then names the file asked for, not its folder
        check_writable(out_file.parent, file=out_file)
    job = FileJob(Path(source), tuple(paths.values()), force, max_pixels)
    job.check()
    frames = frame_files(source)  # a folder's or glob's stills are inputs too, never overwritten
    for path in paths.values():
        check_target(path, force=True, protect=frames)
    clip = resampled(open_clip(source, duration=duration, max_pixels=max_pixels),
                     width=width, height=height, fps=fps, plays=plays)
    result = animate(clip, options, max_bytes=max_bytes, target=target)
    job.write({paths[f]: result.outputs[f] for f in options.formats})
    result.paths = paths
    return result
