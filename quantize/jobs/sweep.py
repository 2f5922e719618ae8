"""Choosing K: quantise one image at several palette sizes and recommend one.

:func:`sweep` runs :func:`~quantize.jobs.pipeline.quantize_image` once per K on one shared colour
histogram and ΔE sample. Every K is fitted from the same start as ``quantize compress -k K`` (same
seed, nothing carried over from another K), so each row is exactly what that compress reports,
whatever else the K list holds. Each :class:`SweepPoint` adds the silhouette score and the sizes
of the packed file and the indexed-PNG preview.
:func:`recommend` names the elbow of WCSS and the best silhouette; :func:`search_k` finds the
smallest K that meets a quality :class:`Target`, over every K up to a limit, by the search that
:func:`search_target` also runs for an animation.
"""

from __future__ import annotations

import re
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Mapping, Sequence, TypeVar

import numpy as np

from ..core.colorstats import ColorStats
from ..errors import ParameterError
from ..io.images import DEFAULT_MAX_PIXELS, Image
from .pipeline import (MAX_K, CompressOptions, Result, delta_e_reference, encode_outputs,
                       packed_codec, quantize_image)
from .sweep_model import (SILHOUETTE_SAMPLES, Budget, Pick, Search, SweepPoint, SweepRun, Target,
                          sample_space, uses)

if TYPE_CHECKING:
    from ..io.outputs import FileOptions

DEFAULT_KS = (2, 4, 8, 16, 32, 64, 128, 256)
MAX_SWEEP = 64  # K values in one sweep

Progress = Callable[[int], None]  # called with each K once it is done
R = TypeVar("R")  # a K's result: a still's Result or an animation's


# --------------------------------------------------------------------------------------- K lists

_ITEM = re.compile(r"^(\d+)(?:(-)(\d+)|:(\d+)(?::(\d+))?)?$")


def parse_ks(text: str) -> tuple[int, ...]:
    """Parse a K list: comma-separated items, each ``K``, ``a-b`` (every power of two from a to b)
    or ``a:b[:step]`` (a to b inclusive, by step, default 1). The result is deduplicated and sorted."""
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items:
        raise ParameterError("ks is empty: give values such as 4,8,16 or a range such as 2-256",
                             parameters=("ks",))
    ks: set[int] = set()
    for item in items:
        match = _ITEM.match(item)
        if not match:
            raise ParameterError(f"ks: cannot read {item!r} (use K, a-b for powers of two, or a:b[:step])",
                                 parameters=("ks",))
        a, dash, b, end, step = match.groups()
        low, high = int(a), int(b or end or a)
        if low > high:
            turned = f"{high}{dash or ':'}{low}{'' if step is None else f':{step}'}"
            raise ParameterError(f"ks: {item!r} runs from high to low: write {turned}",
                                 parameters=("ks",))
        if not 1 <= low <= high <= MAX_K:
            raise ParameterError(f"ks: {item!r} is out of range (K from 1 to {MAX_K})",
                                 parameters=("ks",))
        if dash:
            found = {1 << e for e in range(high.bit_length()) if low <= 1 << e <= high}
            if not found:
                raise ParameterError(f"ks: {item!r} contains no power of two", parameters=("ks",))
            ks |= found
        else:
            if step is not None and int(step) < 1:
                raise ParameterError(f"ks: the step in {item!r} must be at least 1", parameters=("ks",))
            ks.update(range(low, high + 1, int(step or 1)))
    if len(ks) > MAX_SWEEP:
        raise ParameterError(f"ks: {text.strip()!r} gives {len(ks):,} values, more than the "
                             f"{MAX_SWEEP} one sweep takes: give fewer, such as a:b:step with a "
                             f"larger step", parameters=("ks",))
    return tuple(sorted(ks))


# ------------------------------------------------------------------------------------- the sweep

class SilhouetteSample:
    """A fixed random sample of pixels, shared by every K, whose silhouette :meth:`score` measures
    (in RGB, as scikit-learn's ``silhouette_score`` on the sample's colours)."""

    def __init__(self, pixels: np.ndarray, n: int = SILHOUETTE_SAMPLES, seed: int = 0) -> None:
        flat = pixels.reshape(-1, pixels.shape[-1])
        rng = np.random.default_rng(seed)
        self.positions = np.sort(rng.choice(len(flat), size=min(n, len(flat)), replace=False))
        self.points = np.ascontiguousarray(flat[self.positions])

    def score(self, indices: np.ndarray) -> float | None:
        """Mean silhouette of the sample labelled by ``indices`` (H, W), as scikit-learn computes it
        (a lone member scores 0); None unless there are 2 to (sample size - 1) clusters."""
        from ..core.kernels.metrics import cluster_distance_sums

        labels = indices.reshape(-1)[self.positions]
        _, cluster, sizes = np.unique(labels, return_inverse=True, return_counts=True)
        n = len(labels)
        if not 2 <= len(sizes) < n:
            return None
        sums = cluster_distance_sums(self.points, cluster.astype(np.int64), len(sizes))
        rows = np.arange(n)
        own = sizes[cluster]
        a = sums[rows, cluster] / np.maximum(own - 1, 1)
        means = sums / sizes
        means[rows, cluster] = np.inf
        b = means.min(1)
        s = np.where(own > 1, (b - a) / np.maximum(a, b), 0.0)  # b > 0: clusters differ in colour
        return float(s.mean())


def sweep(image: Image, ks: Sequence[int], options: CompressOptions = CompressOptions(), *,
          stats: ColorStats | None = None, progress: Progress | None = None,
          files: FileOptions | None = None,
          fitted: Mapping[int, Result] | None = None) -> list[SweepPoint]:
    """Quantise ``image`` at every K in ``ks`` with ``options`` (its K replaced), sharing one colour
    histogram, one ΔE sample and one silhouette sample; each K is fitted as ``compress -k K``
    fits it, unless ``fitted`` (e.g. a target search's probes, same options) holds it. Each
    row's files (PNG at ``files.png_effort``, by default the fast one) and silhouette
    are measured in a second thread while the next K is fitted (the encoders release the GIL).
    Points come back in the order of ``ks``."""
    from concurrent.futures import Future, ThreadPoolExecutor

    from ..choices import DEFAULT_SWEEP_PNG_EFFORT
    from ..core.colorstats import clear_transparent, color_stats
    from ..io.outputs import FileOptions

    files = (files or FileOptions(png_effort=DEFAULT_SWEEP_PNG_EFFORT)).validated()

    stats = stats if stats is not None else color_stats(image.pixels)
    sample = SilhouetteSample(clear_transparent(image.pixels))  # hidden RGB is not clustered
    reference = delta_e_reference(image, options.validated())
    points: dict[int, SweepPoint] = {}
    measuring: tuple[int, Future] | None = None

    def finish() -> None:
        k, row = measuring
        points[k] = row.result()
        if progress:
            progress(k)

    with ThreadPoolExecutor(1) as pool:
        for k in sorted(set(ks), reverse=True):  # the largest first: its kernels load first
            result = (fitted or {}).get(k)
            if result is None:
                result = quantize_image(image, with_k(options, k), stats=stats,
                                        delta_e_reference=reference)
            if measuring is not None:
                finish()
            measuring = k, pool.submit(_measure, result, sample, files)
        if measuring is not None:
            finish()
    return [points[k] for k in ks]


def with_k(options: CompressOptions, k: int) -> CompressOptions:
    """``options`` with the palette size set to ``k``."""
    return replace(options, fit=replace(options.fit, k=k))


def _measure(result: Result, sample: SilhouetteSample, options: FileOptions) -> SweepPoint:
    """Encode the packed file and the preview in memory and score the silhouette; add the time."""
    start = time.perf_counter()
    files = encode_outputs(result, files=options)
    silhouette = sample.score(result.indices)
    result.seconds["sizes"] = time.perf_counter() - start
    result.seconds["total"] = sum(v for k, v in result.seconds.items() if k != "total")
    result = replace(result, files={fmt: (None, len(data)) for fmt, data in files.items()},
                     codec=packed_codec(result, files))
    return SweepPoint(result, silhouette, files["png"])


# ------------------------------------------------------------------------------ recommending K

def elbow(points: Sequence[SweepPoint]) -> Pick:
    """The elbow of WCSS against log2 K by the Kneedle rule (:func:`kneedle`)."""
    data = [p.result.to_dict() for p in points]
    return _used(kneedle([d["k"] for d in data], [d["inertia"] for d in data], "WCSS"), points)


def _used(pick: Pick, points: Sequence[SweepPoint]) -> Pick:
    """``pick`` saying how many colours its K uses where that is fewer than K."""
    if pick.k is None:
        return pick
    used = next((p.result.k_used for p in points if p.result.k == pick.k), None)
    return replace(pick, reason=uses(pick.reason, pick.k, used))


def kneedle(ks: Sequence[int], errors: Sequence[float], name: str) -> Pick:
    """The elbow of an error (``name``) against log2 K by the Kneedle rule (Satopää et al., 2011).

    Both axes are scaled to [0, 1]; the elbow is the K whose point lies farthest below the chord
    from the first point to the last. log2 K is the x axis because it is the rate (bits per index)
    and sweeps step K geometrically, so each K weighs the same.
    """
    y = np.asarray(errors, float)
    if not y.any():  # nothing to bend: the smallest K is already exact
        return Pick(ks[0], f"{name} is 0 at every K: K={ks[0]} already reproduces the input "
                           "exactly")
    if len(ks) < 3:
        return Pick(None, "the elbow needs at least 3 values of K")
    x = np.log2(ks)
    if y[0] <= y[-1]:
        return Pick(None, f"{name} does not fall as K grows")
    xn = (x - x[0]) / (x[-1] - x[0])
    yn = (y - y[-1]) / (y[0] - y[-1])
    gap = (1 - xn) - yn  # distance below the chord y = 1 - x (vertical, scaled units)
    best = int(np.argmax(gap))
    if gap[best] <= 0:
        return Pick(None, f"{name} against log2 K has no bend (it is not convex)")
    k = ks[best]
    made = np.floor(100 * (1 - yn[best]))  # 99.99 % of the drop is not all of it
    return Pick(k, f"Kneedle on {name} against log2 K: the curve bends most here, {made:.0f}% of the "
                   f"{name} drop from K={ks[0]} to K={ks[-1]} is made by K={k}")


def best_silhouette(points: Sequence[SweepPoint]) -> Pick:
    """The K with the highest silhouette score (ties to the smaller K)."""
    scored = [p for p in points if p.silhouette is not None]
    if not scored:
        return Pick(None, "no K gives 2 or more clusters in the silhouette sample")
    top = max(scored, key=lambda p: p.silhouette)  # max keeps the first of equals: the smaller K
    shown = top.to_dict()["silhouette"]  # as the table rounds it
    sample = min(SILHOUETTE_SAMPLES, top.result.width * top.result.height)
    space = sample_space(top.result.channels)
    return _used(Pick(top.result.k, f"the best silhouette, {shown:.3f} on a {sample:,}-pixel "
                                    f"{space} sample: the most compact, best separated "
                                    f"clusters"), points)


# --------------------------------------------------------------------------- quality targets

class TargetMissed(ParameterError):
    """No K up to the limit meets the target (or fits the byte budget): ``compress`` stops, a
    sweep keeps its table."""


def search_k(image: Image, target: Target, options: CompressOptions = CompressOptions(), *,
             max_k: int, stats: ColorStats | None = None, known: Iterable[Result] = (),
             progress: Progress | None = None, loaded: Image | None = None,
             ceiling: int = MAX_K) -> Search:
    """The smallest K in [1, ``max_k``] whose result meets ``target``, found by
    :func:`search_target` (``ceiling``: the largest K the outputs take), each measured against
    ``loaded`` when ``image`` is it as the files hold it (see
    :func:`~quantize.jobs.pipeline.quantize_image`). ``known`` results (e.g. from a sweep with
    the same options) are reused, as is the histogram."""
    from ..core.colorstats import color_stats

    require_target(target)
    if not 1 <= max_k <= MAX_K:
        raise ParameterError(f"K must be between 1 and {MAX_K}, got {max_k}")
    stats = stats if stats is not None else color_stats(image.pixels)
    reference = None

    def run(k: int) -> Result:
        nonlocal reference
        reference = reference or delta_e_reference(loaded or image, options.validated())
        result = quantize_image(image, with_k(options, k), stats=stats, delta_e_reference=reference,
                                loaded=loaded)
        if progress:
            progress(k)
        return result

    try:
        return search_target(target, run, max_k, known, ceiling=ceiling,
                             binary_alpha=loaded is not None)
    except TargetMissed as exc:
        sample = options.fit.sample
        if sample and sample < max_k:  # no K could pass: the fit sees at most that many colours
            raise TargetMissed(f"{exc}; a sample of {sample:,} pixels holds at most {sample:,} "
                               "colours: raise the sample") from None
        raise


def require_target(target: Target) -> None:
    """A :class:`ParameterError` unless ``target`` gives a bound."""
    if not target:
        raise ParameterError("give a target: psnr and/or delta_e", parameters=("psnr", "delta_e"))


def search_target(target: Target, run: Callable[[int], R], max_k: int,
                  known: Iterable[R] = (), *, ceiling: int = MAX_K,
                  binary_alpha: bool = False) -> Search:
    """The smallest K in [1, ``max_k``] whose ``run(K)`` (a still's :class:`Result` or an
    animation's result, judged by :meth:`Target.met`) meets ``target``, by :func:`smallest_k`.
    Each K is run at most once; ``known`` results are reused by their ``k`` and bound the
    search: the smallest known K that meets the target is the answer unless a smaller K does,
    and only K above the largest known one below it that fails are tried. A
    :class:`TargetMissed` naming what ``max_k`` gives when even it fails, and asking for a
    larger K only when ``max_k`` is below ``ceiling``, the largest K the outputs take, and saying
    that GIF's alpha holds part of the error with ``binary_alpha`` (partly transparent pixels
    measured against files that show each pixel opaque or clear)."""
    probes = {r.k: r for r in known}

    def met(k: int) -> bool:
        if k not in probes:
            probes[k] = run(k)
        return target.met(probes[k])

    meets = [k for k, r in probes.items() if k <= max_k and target.met(r)]
    high = min(meets, default=None)
    low = max((k for k, r in probes.items() if k < (high or max_k + 1) and not target.met(r)),
              default=0)
    k = smallest_k(met, max_k, low=low, high=high)
    if k is None:
        advice = ("raise the K limit or relax the target" if max_k < ceiling else
                  f"the target is beyond what {max_k:,} colours reach, and no larger K is "
                  f"allowed: relax the target")
        if binary_alpha:  # more colours cannot bring a soft edge back
            advice = (f"partly transparent pixels, which GIF shows opaque or clear, keep part of "
                      f"the error at any K: relax the target or leave gif out of the formats")
        raise TargetMissed(f"no K up to {max_k} meets {target.describe()} (K={max_k} gives "
                           f"{target.describe(probes[max_k])}); {advice}")
    return Search(target, k, probes[k], probes)


def smallest_k(met: Callable[[int], bool], max_k: int, *, low: int = 0,
               high: int | None = None) -> int | None:
    """The smallest K in [1, ``max_k``] with ``met(K)``, or None when ``met(max_k)`` fails.

    Assumes ``met`` holds from some K on (quality improves with K, near-monotone for k-means):
    K doubles from ``low`` (a K known to fail; 0 for none) until it is met (``max_k`` last), or
    from the start at ``high`` (a K known to pass), then a binary search between the last failing
    and the first passing K. The answer's neighbour K - 1 is always tried and fails.
    """
    if high is None:
        if low >= max_k:
            return None
        high = min(max(2 * low, 1), max_k)  # low fails, high is the next K to try
        while not met(high):
            if high == max_k:
                return None
            low, high = high, min(2 * high, max_k)
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if met(middle) else (middle, high)
    return high


def probe_budget(max_k: int) -> int:
    """An upper bound on the K values :func:`search_k` tries up to ``max_k`` (for progress bars)."""
    bits = max(1, (max_k - 1).bit_length())
    return 2 * bits + 1


_SIZE = re.compile(r"^\s*(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)\s*([kmg]?)(i?)b?\s*$", re.I)


def parse_size(text: str) -> int:
    """Bytes from ``150000``, ``150,000`` (as reports print sizes), ``150k``, ``1.5M`` (powers
    of 1000) or ``64KiB`` (of 1024)."""
    match = _SIZE.match(str(text))
    if not match:
        raise ParameterError(f"cannot read the max_bytes size {text!r} (use e.g. 150000, 150k or "
                             f"1.5M)", parameters=("max_bytes",))
    number, unit, binary = match.groups()
    scale = (1024 if binary else 1000) ** " kmg".index(unit.lower() or " ")
    size = int(float(number.replace(",", "")) * scale)
    if size < 1:
        raise ParameterError(f"max_bytes must be at least 1 byte, got {text!r}",
                             parameters=("max_bytes",))
    return size


def search_bytes(image: Image, max_bytes: int, options: CompressOptions = CompressOptions(), *,
                 fmt: str = "qnt", max_k: int, files: FileOptions | None = None,
                 progress: Progress | None = None, stem: str | None = None,
                 stats: ColorStats | None = None, known: Iterable[Result] = ()) -> Budget:
    """The largest K in [1, ``max_k``] whose ``fmt`` file fits in ``max_bytes`` (see
    :func:`largest_fitting`); ``stem`` names a C header's arrays (default: the image's file's).
    ``known`` results with that file's size (e.g. a sweep's, same options) are not fitted again,
    nor is the histogram."""
    from ..core.colorstats import color_stats
    from ..io.outputs import FileOptions, encode_one

    if not 1 <= max_k <= MAX_K:
        raise ParameterError(f"K must be between 1 and {MAX_K} for a byte budget, got {max_k}")
    stats = stats if stats is not None else color_stats(image.pixels)
    stem = stem or (Path(image.source).stem if image.source else "image")
    rows = [r for r in known if fmt in r.files]
    used = {r.k: r.k_used for r in rows}
    sizes = {r.k: r.files[fmt][1] for r in rows}

    def size(k: int) -> int:
        if k in sizes:
            return sizes[k]
        result = quantize_image(image, with_k(options, k), stats=stats, measure=False)
        used[k] = result.k_used
        size = len(encode_one(fmt, result.palette, result.indices, codec=options.codec,
                              stem=stem, files=files or FileOptions()))
        if progress:
            progress(k)
        return size

    return replace(largest_fitting(size, max_bytes, fmt, max_k), used=used, colors=stats.n_colors)


#: K that must not fit in a row above the K a byte budget picks (K + 1 alone can miss a larger
#: K that fits, as a file's size wobbles with K).
LOOK_PAST = 3


def largest_fitting(size: Callable[[int], int], max_bytes: int, fmt: str, max_k: int) -> Budget:
    """The largest K in [1, ``max_k``] whose ``size(K)`` (of a ``fmt`` file) is at most
    ``max_bytes``, with the :data:`LOOK_PAST` K above it not fitting (unless it is ``max_k``):
    ``max_k`` itself when it fits, else K doubles from 2 while it fits, then a binary search,
    then the K past the first misfit are tried, as sizes do not grow with K everywhere (a K one
    above a misfit often fits); K = 1 (one flat colour) only when K = 2 does not fit. A
    :class:`ParameterError` naming the K=1 size when that does not fit either."""
    sizes: dict[int, int] = {}

    def fits(k: int) -> bool:
        if k not in sizes:
            sizes[k] = size(k)
        return sizes[k] <= max_bytes

    if fits(max_k):  # a budget that holds every K asked costs one probe, not a doubling's
        return Budget(max_bytes, fmt, max_k, sizes, max_k=max_k)
    if max_k == 1 or not fits(2):
        if not fits(1):
            raise TargetMissed(f"no K fits {max_bytes:,} B: the smallest {fmt} file, at K=1, "
                               f"takes {sizes[1]:,} B")
        return Budget(max_bytes, fmt, 1, sizes, max_k=max_k)
    low, high = 2, None  # low fits; high, once found, does not
    while high is None and low < max_k:
        k = min(2 * low, max_k)
        low, high = (k, None) if fits(k) else (low, k)
    while high is not None and high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if fits(middle) else (low, middle)
    misfits, k = 1, low + 2  # low + 1 did not fit (or low is max_k)
    while misfits < LOOK_PAST and k <= max_k:
        low, misfits = (k, 0) if fits(k) else (low, misfits + 1)
        k += 1
    return Budget(max_bytes, fmt, low, sizes, max_k=max_k)


def compress_searched(path: str | Path, out_dir: str | Path | None, search: Target | int, *,
                      options: CompressOptions = CompressOptions(),
                      formats: tuple[str, ...] | str | None = None,
                      files: FileOptions | None = None, force: bool = False,
                      max_pixels: int | None = DEFAULT_MAX_PIXELS, allow_huge: bool = False,
                      progress: Progress | None = None,
                      out_file: str | Path | None = None) -> tuple[Result, Search | Budget]:
    """:func:`~quantize.jobs.pipeline.compress_file` at the K that ``search`` picks up to
    ``options.fit.k``: a :class:`Target` (the smallest K that meets it) or a byte budget (the
    largest K whose first format fits). The outputs are checked before the search; the image is
    decoded once; the final fit repeats the winning probe (same seed, same palette)."""
    from ..io.outputs import GIF_MAX_K, as_written, check_formats, output_paths, parse_formats
    from .job import FileJob
    from .pipeline import compress_file

    source = Path(path)
    options = options.validated()
    formats = parse_formats(formats)
    check_formats(formats, options.fit.k)
    targets = output_paths(source, Path(out_dir) if out_dir is not None else None, formats,
                           None if out_file is None else Path(out_file))
    job = FileJob.plan(source, targets.values(), force=force, max_pixels=max_pixels,
                       allow_huge=allow_huge)
    job.check()
    start = time.perf_counter()
    given = job.load()
    image = as_written(given, formats)
    loaded = time.perf_counter()
    if isinstance(search, Target):
        found = search_k(image, search, options, max_k=options.fit.k, progress=progress,
                         loaded=None if image is given else given,
                         ceiling=GIF_MAX_K if "gif" in formats else MAX_K)
    else:
        found = search_bytes(image, search, options, fmt=formats[0], max_k=options.fit.k,
                             files=files, progress=progress,
                             stem=None if out_file is None else Path(out_file).stem)
    searched = time.perf_counter()
    result = compress_file(source, out_dir, options=with_k(options, found.k), formats=formats,
                           files=files, force=force, image=given, out_file=out_file)
    # the final compress had the image loaded: the load and the search join its times
    final = dict(result.seconds)
    total = final.pop("total") - final.pop("load", 0.0) + searched - start
    result.seconds.clear()
    result.seconds.update(load=loaded - start, search=searched - loaded, **final, total=total)
    return result, found


# ------------------------------------------------------------------------------ the whole run

def sweep_file(path: str | Path, ks: Sequence[int], out_dir: str | Path | None = None, *,
               options: CompressOptions = CompressOptions(), target: Target = Target(),
               csv_path: str | Path | None = None, force: bool = False,
               max_pixels: int | None = DEFAULT_MAX_PIXELS, allow_huge: bool = False,
               progress: Progress | None = None, files: FileOptions | None = None,
               max_bytes: int | None = None) -> SweepRun:
    """Load ``path``, sweep ``ks`` (and search ``target`` up to the largest K, and the largest K
    whose ``.qnt`` fits ``max_bytes``, each picked K measured as a row of its own when it is not
    in ``ks``), and write the outputs all or nothing: with ``out_dir`` the previews, contact
    sheet, chart and report.html; with ``csv_path`` the table as CSV. Every output is checked
    before any work is done, but a picked K's preview, known only then, when all are written."""
    from ..core.colorstats import color_stats
    from ..render.sweep_report import planned_outputs, preview_name, sweep_outputs
    from .job import FileJob

    if not ks:
        raise ParameterError("ks is empty", parameters=("ks",))
    options = options.validated()
    folder = Path(out_dir) if out_dir is not None else None
    csv_file = Path(csv_path) if csv_path is not None else None
    job = FileJob.plan(path, planned_outputs(ks, folder, csv_file), force=force,
                       max_pixels=max_pixels, allow_huge=allow_huge)

    def compute(image: Image) -> tuple[SweepRun, dict[Path, bytes]]:
        stats = color_stats(image.pixels)
        points = sweep(image, ks, options, stats=stats, progress=progress, files=files)
        run = SweepRun(image, points, elbow(points), best_silhouette(points))
        if target:
            try:
                run.search = search_k(image, target, options, max_k=max(ks), stats=stats,
                                      known=[p.result for p in points], progress=progress)
            except TargetMissed as exc:  # the table and the files are still the answer asked for
                run.missed = str(exc)
        if max_bytes is not None:
            try:
                run.budget = search_bytes(image, max_bytes, options, max_k=max(ks), stats=stats,
                                          known=[p.result for p in points], progress=progress)
            except TargetMissed as exc:
                run.over_budget = str(exc)
        _add_picked_rows(run, image, ks, options, stats=stats, files=files)
        if folder is not None:
            for point in run.points:
                png_bytes = point.result.files["png"][1]
                point.result = replace(point.result, files={
                    **point.result.files, "png": (str(folder / preview_name(point.result.k)),
                                                  png_bytes)})
        outputs = sweep_outputs(run, folder, csv_file) if job.targets else {}
        run.written = list(outputs)
        return run, outputs

    job.check()
    run, outputs = compute(job.load())
    # a picked K's preview is planned once the pick is known, as the K asked were before any work
    replace(job, targets=tuple(planned_outputs([*ks, *run.added], folder, csv_file))).write(outputs)
    return run


def _add_picked_rows(run: SweepRun, image: Image, ks: Sequence[int], options: CompressOptions, *,
                     stats: ColorStats, files: FileOptions | None) -> None:
    """Measure the target's and the budget's K that ``ks`` lacks and add them to ``run``'s rows
    (in order of K), so that every pick has its row; the target's probe is not fitted again."""
    picked = {found.k for found in (run.search, run.budget) if found is not None}
    added = sorted(picked - set(ks))
    if not added:
        return
    probes = run.search.probes if run.search is not None else {}
    rows = sweep(image, added, options, stats=stats, files=files, fitted=probes)
    run.points = sorted([*run.points, *rows], key=lambda point: point.result.k)
    run.added = tuple(added)
