"""Fitting a palette to an image's colours: coarse-to-fine weighted k-means.

The default reaches the k-means objective over *all* pixels: Lloyd's final run is on every
distinct colour weighted by its pixel count, which is exactly that objective. When the image has
enough colours, the starts run first on the weighted mean colours of a 4- to 7-bit-per-channel
grid (the coarsest with 128 cells per centre) and the best quarter of them are refined on the
distinct colours. k-means++ seeds from the mean colours of a still coarser grid's cells when it
keeps 32 cells per centre, as seeding costs most at its start (in a side thread, while the
colours are put in the fit's space). Seeding tries more candidates per centre than scikit-learn
at large K (cheap with the pruned kernel, and it finds better minima there); small problems get
more starts, within a work budget (local minima matter most at small K). Lloyd's updates are
over-relaxed, and it stops at scikit-learn's tolerance or once an update gains less than
``MIN_GAIN`` of the objective.

The fit runs in the space of the :class:`~quantize.core.colorstats.SpaceColors` it is given (made
by the caller in ``FitOptions.space``): the weighted points are converted once and kept, the
centres converted back to sRGB(A) at the end. Fully transparent pixels get one
palette entry of their own and do not pull the other centres.
"""

from __future__ import annotations

import numbers
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields, replace

import numpy as np

from ..choices import DEFAULT_SPACE, SPACES
from .colorstats import POINTS_CACHE_BYTES, ColorStats, SpaceColors, sampled_pixels
from ..errors import ParameterError, whole
from .kmeans import KMeansFit, PaletteFit, kmeans, kmeans_seeds, kmeans_starts, lloyd, tolerance

COARSE_BITS = (4, 5, 6, 7)  # starts run on the coarsest of these grids with enough cells per centre
POINTS_PER_CENTER = 128
SEED_MIN_BITS = 5  # k-means++ draws from the coarsest grid from here with enough cells per centre
SEED_POINTS_PER_CENTER = 32
# Extra starts while their (points x centres) work stays within this: more buys no quality for much
# more time (docs/TUNING.md).
START_BUDGET = 8_000_000
MAX_STARTS = 32
# k-means++ candidates per centre: K / 8 within [2 + ln K, this]; more candidates cost fit time for
# no measurable quality at large K (docs/TUNING.md).
MAX_SEED_TRIALS = 16
LARGE_K = 4096  # above this, plain k-means++ (one candidate): greedy trials cost O(K^2) each
# Palette fits run over-relaxed Lloyd updates (see kernels.kmeans.lloyd) and also stop once an
# update lowers the objective by less than MIN_GAIN of it: the same error as plain Lloyd in fewer
# iterations (docs/TUNING.md).
MIN_GAIN = 1e-4
RELAX = 0.7


class ValueEquality:
    """Equality and hash by value for a frozen dataclass whose fields may hold arrays (colours, a
    palette), which the generated ``__eq__`` cannot compare: an array counts by its type, shape
    and values. Subclasses are declared with ``eq=False`` so that these stay."""

    def _key(self) -> tuple:
        return tuple(_by_value(getattr(self, f.name)) for f in fields(self))

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented  # as the generated __eq__: the other side may know better
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())


def _by_value(value: object) -> object:
    """An array (or nested list) as a hashable key of its type, shape and values; else ``value``."""
    if isinstance(value, (np.ndarray, list)):
        array = np.asarray(value)
        return array.dtype.str, array.shape, array.tobytes()
    return value


@dataclass(frozen=True, eq=False)
class FitOptions(ValueEquality):
    """How to fit: K, restarts, iteration cap, relative tolerance, seed, optional pixel sample,
    and the colour space the centres are fitted (and pixels mapped) in."""

    k: int = 256
    n_init: int = 1
    max_iter: int = 300
    tol: float = 1e-4
    seed: int = 0
    sample: int | None = None
    space: str = DEFAULT_SPACE
    max_starts: int | None = None  # cap on the starts beyond n_init (None: MAX_STARTS, budgeted)
    # (n_fitted, C) sRGB(A) centres: one start of their own, with at most max_starts seeded ones
    init_centers: np.ndarray | None = None
    locked: np.ndarray | None = None  # (L, 3|4) uint8 colours kept in the palette unchanged, L < K
    bits: tuple[int, ...] | None = None  # (R, G, B) or (N,) grey: entries on that lattice (lattice.py)

    def validated(self) -> "FitOptions":
        """These options with every value checked (one-line :class:`ParameterError` messages)
        and NumPy integers made Python's; K's range is the caller's."""
        k = whole("K", self.k, 1)
        n_init, max_iter = whole("n_init", self.n_init, 1), whole("max_iter", self.max_iter, 1)
        seed = whole("seed", self.seed, 0)  # what NumPy's seeding takes
        sample = None if self.sample is None else whole("sample", self.sample, 1)
        max_starts = None if self.max_starts is None else whole("max_starts", self.max_starts, 0)
        if not isinstance(self.tol, numbers.Real) or not 0 <= self.tol < np.inf:
            raise ParameterError(f"tol must be a number >= 0, got {self.tol!r}", parameters=("tol",))
        if self.space not in SPACES:
            raise ParameterError(f"unknown colour space {self.space!r} (choose from "
                                 f"{', '.join(SPACES)})", parameters=("space",))
        bits = self.bits
        if bits is not None:
            if not isinstance(bits, (tuple, list)) or len(bits) not in (1, 3):
                raise ParameterError(f"bits must be (R, G, B) or (N,) grey, got {bits!r}",
                                     parameters=("bits",))
            bits = tuple(whole("bits", b, 1) for b in bits)
            if max(bits) > 8:
                raise ParameterError(f"bits must be 1 to 8 per channel, got {bits}",
                                     parameters=("bits",))
        locked = self.locked
        if locked is not None:
            check_colors(locked, "locked")
            # a colour locked twice is one entry, not two
            locked = unique_rows(np.asarray(locked, np.uint8).reshape(-1, np.shape(locked)[-1]))
        if self.init_centers is not None:
            try:
                finite = np.isfinite(np.asarray(self.init_centers, dtype=np.float64)).all()
            except (TypeError, ValueError):
                finite = False
            if not finite:
                raise ParameterError("init_centers must be finite numbers",
                                     parameters=("init_centers",))
        return replace(self, k=k, n_init=n_init, max_iter=max_iter, seed=seed, sample=sample,
                       max_starts=max_starts, bits=bits, locked=locked)


def check_colors(colors, name: str) -> None:
    """A :class:`ParameterError` unless ``colors`` is (n, 3|4) whole numbers 0 to 255 (a palette
    given, not fitted: a value out of that range would wrap when made uint8)."""
    array = np.asarray(colors)
    if array.ndim != 2 or array.shape[1] not in (3, 4) or array.dtype.kind not in "uif":
        raise ParameterError(f"{name} must be (n, 3) or (n, 4) colour values, got shape "
                             f"{array.shape} of {array.dtype}", parameters=(name,))
    if not (np.isfinite(array).all() and (array == np.round(array)).all()
            and array.min(initial=0) >= 0 and array.max(initial=0) <= 255):
        raise ParameterError(f"{name} colours must be whole numbers 0 to 255",
                             parameters=(name,))


def fit_palette(pixels: np.ndarray, colors: SpaceColors, options: FitOptions) -> PaletteFit:
    """Fit ``options.k`` centres to the image's ``colors`` in their space (``options.space``, which
    the caller made them in); an image with at most K colours gets exactly them.

    ``options.locked`` colours come first, exactly, and the other centres are fitted around them.
    At least ``options.n_init`` starts; more while they are cheap (see ``START_BUDGET``) up to
    ``options.max_starts``. With ``options.init_centers``, a start from them and only
    ``options.max_starts`` (default 0) seeded ones. With ``options.bits``, the free fit is then
    refined on the lattice (see :mod:`quantize.core.lattice`)."""
    if colors.space != options.space:
        raise ParameterError(f"the colours are in {colors.space}, the fit asks for {options.space}",
                             parameters=("space",))
    if options.bits is not None:
        from .lattice import lattice_fit

        return lattice_fit(colors, fit_palette(pixels, colors, replace(options, bits=None)),
                           options.bits, options.max_iter)
    stats = colors.stats
    locked = locked_colors(options, stats.colors.shape[1])
    if stats.n_colors <= options.k - len(locked):
        return PaletteFit(np.vstack([locked, stats.colors]).astype(np.float64), 0)
    if n_fitted(stats, options) == options.k - len(locked) and not (
            options.k == 1 and stats.transparent_row is not None):
        return _fit(pixels, colors, options, locked)
    # One entry for the fully transparent pixels; the others fitted to the rest. At K = 1 that
    # entry comes beside the one colour: one entry alone would show the image as a wash. It
    # follows the locked colours, which stay the palette's first entries.
    fit = _fit(pixels, colors.without_transparent(), replace(options, k=max(1, options.k - 1)),
               locked)
    centers = np.insert(fit.centers, len(locked), 0.0, axis=0)
    return PaletteFit(centers, fit.n_iter)


def locked_colors(options: FitOptions, channels: int) -> np.ndarray:
    """``options.locked`` as (L, ``channels``) uint8 (alpha dropped, or added as 255); checks L < K."""
    if options.locked is None:
        return np.empty((0, channels), np.uint8)
    locked = np.asarray(options.locked, dtype=np.uint8).reshape(-1, np.shape(options.locked)[-1])
    if len(locked) >= options.k:
        raise ParameterError(f"{len(locked)} locked colours leave none to fit at K={options.k}: "
                             f"K must be more than the locked colours")
    if locked.shape[1] != channels:
        locked = (locked[:, :3] if channels == 3 else
                  np.column_stack([locked, np.full(len(locked), 255, np.uint8)]))
    return locked


def n_fitted(stats: ColorStats, options: FitOptions) -> int:
    """How many centres :func:`fit_palette` fits (the rows ``options.init_centers`` must have):
    K less the locked colours and the entry of the fully transparent pixels, if any (at K = 1,
    the one colour beside it)."""
    n_locked = 0 if options.locked is None else len(options.locked)
    transparent = stats.transparent_row is not None and options.k > 1 + n_locked
    return options.k - n_locked - transparent


def _fit(pixels: np.ndarray, colors: SpaceColors, options: FitOptions,
         locked: np.ndarray) -> PaletteFit:
    """:func:`fit_palette` in the colours' space, centres converted back to sRGB(A) (the one place
    the palette leaves it)."""
    fit = _fit_points(pixels, colors, options, colors.encode(locked))
    centers = colors.decode(fit.centers)
    centers[:len(locked)] = locked  # exact, whatever the round trip through the space
    return replace(fit, centers=centers, points=fit.centers if fit.labels is not None else None)


@dataclass(frozen=True)
class FitPlan:
    """The fit's decisions for one image, made from its colour counts before any k-means runs."""

    min_gain: float  # Lloyd's stop on a small gain and its over-relaxation (0, 0: plain Lloyd)
    relax: float
    coarse_bits: int | None  # the grid whose cell means the starts run on (None: every colour)
    seed_bits: int | None  # the grid k-means++ draws from, beside the points (None: the starts')
    n_seeded: int  # k-means++ starts
    trials: int  # k-means++ candidates per centre


def plan_fit(stats: ColorStats, options: FitOptions, warm: bool) -> FitPlan:
    """How to fit ``options.k`` centres to ``stats`` (``warm``: with a start of the caller's too):
    a coarse grid when the colours are many, as many seeded starts as ``START_BUDGET`` pays for."""
    k = options.k
    # tol 0 asks for strict convergence: plain Lloyd to the end
    min_gain, relax = (MIN_GAIN, RELAX) if options.tol > 0 else (0.0, 0.0)
    n = stats.n_colors
    coarse_bits = (_grid_bits(stats, POINTS_PER_CENTER * k, COARSE_BITS)
                   if n >= 2 * POINTS_PER_CENTER * k else None)
    seed_bits = _grid_bits(stats, SEED_POINTS_PER_CENTER * k,
                           range(SEED_MIN_BITS, 8 if coarse_bits is None else coarse_bits))
    n_coarse = n if coarse_bits is None else stats.occupied(coarse_bits)
    refined_share = 0 if coarse_bits is None else n // 4  # a quarter of the starts are refined
    budget = START_BUDGET // ((n_coarse + refined_share) * k)
    if warm:
        n_seeded = min(options.max_starts or 0, budget)  # the warm start is not charged to it
    else:
        cap = MAX_STARTS if options.max_starts is None else options.max_starts
        n_seeded = max(options.n_init, min(cap, budget))
    trials = 1 if k > LARGE_K else min(MAX_SEED_TRIALS, max(2 + int(np.log(k)), k // 8))
    return FitPlan(min_gain, relax, coarse_bits, seed_bits, n_seeded, trials)


def _fit_points(pixels: np.ndarray, colors: SpaceColors, options: FitOptions,
                fixed: np.ndarray) -> PaletteFit:
    """Centres in the colours' space: the ``fixed`` points first, unmoved, then the fitted ones."""
    init = _warm_start(colors, options, fixed)
    if options.sample:
        return _fit_sample(pixels, colors, options, fixed, init)
    return _run_plan(colors, options, fixed, init,
                     plan_fit(colors.stats, options, warm=init is not None))


def _warm_start(colors: SpaceColors, options: FitOptions, fixed: np.ndarray) -> np.ndarray | None:
    """``options.init_centers`` in the fit's space after the ``fixed`` points, checked."""
    if options.init_centers is None:
        return None
    starts = np.asarray(options.init_centers, dtype=np.float64)
    channels = colors.stats.colors.shape[1]
    if starts.shape != (options.k - len(fixed), channels):
        raise ParameterError(f"init_centers must be {options.k - len(fixed)} colours of "
                             f"{channels} channels, got shape {starts.shape}")
    return np.vstack([fixed, colors.encode(starts)])


def _fit_sample(pixels: np.ndarray, colors: SpaceColors, options: FitOptions, fixed: np.ndarray,
                init: np.ndarray | None) -> PaletteFit:
    """The fit on ``options.sample`` pixels drawn at random, each of weight 1 (scikit-learn's way)."""
    sample = sampled_pixels(pixels, options.sample, options.seed)
    if sample.shape[1] == 4 and sample[:, 3].any():
        sample = sample[sample[:, 3] > 0]  # fully transparent pixels have their own entry
    X = colors.encode(sample)
    w = np.ones(len(X))
    fit = (kmeans(X, w, min(options.k, len(fixed) + len(X)), n_init=options.n_init,
                  max_iter=options.max_iter, tol=options.tol, seed=options.seed, fixed=fixed)
           if init is None else lloyd(X, w, init, max_iter=options.max_iter,
                                      tol=tolerance(X, options.tol), n_fixed=len(fixed)))
    return PaletteFit(fit.centers, fit.n_iter)


def _run_plan(colors: SpaceColors, options: FitOptions, fixed: np.ndarray,
              init: np.ndarray | None, plan: FitPlan) -> PaletteFit:
    """The fit on every distinct colour as ``plan`` says: seeded starts (and ``init``) on the
    coarse grid, the best quarter refined on every colour, the best of those kept."""
    k = options.k
    # the cells' mean colours: seeding starts on them before the points of the space are made
    seed_points = None if plan.seed_bits is None else colors.cell_colors(plan.seed_bits)

    def seeds(points: tuple[np.ndarray, np.ndarray]) -> list[np.ndarray]:
        return kmeans_seeds(*points, k, plan.n_seeded, options.seed, plan.trials, fixed)

    with ThreadPoolExecutor(1) as pool:  # k-means++ (serial, GIL released) beside the points
        drawn = None if seed_points is None else pool.submit(seeds, seed_points)
        X, w = colors.points()
        if plan.coarse_bits is None:
            coarse_X, coarse_w = X, w
        else:
            coarse_X, coarse_w = colors.grid(plan.coarse_bits, X)
            colors.variance(X)  # for the fine tolerance below; kept in the statistics
        inits = seeds((coarse_X, coarse_w)) if drawn is None else drawn.result()
    # the warm start begins near a minimum, and runs short
    warm = [] if init is None else [lloyd(coarse_X, coarse_w, init, max_iter=options.max_iter,
                                          tol=tolerance(coarse_X, options.tol),
                                          n_fixed=len(fixed), min_gain=plan.min_gain,
                                          relax=plan.relax)]
    margins = X.nbytes <= POINTS_CACHE_BYTES  # labels and margins for the mapping, if held cheaply
    starts = sorted(warm + kmeans_starts(
        coarse_X, coarse_w, k, max_iter=options.max_iter, tol=options.tol, fixed=fixed,
        min_gain=plan.min_gain, relax=plan.relax, margins=margins and coarse_X is X, inits=inits),
        key=lambda fit: fit.inertia)
    if coarse_X is X:
        return _palette_fit(starts[0], starts[0].n_iter)
    fine_tol = tolerance(X, options.tol, colors.variance(X))
    summary = coarse_X, colors.stats.grid_rows(plan.coarse_bits)  # the first fine E-step's route
    best, best_inertia = None, np.inf
    for start in starts[:max(1 if warm else 2, len(starts) // 4)]:
        fine = lloyd(X, w, start.centers, max_iter=options.max_iter, tol=fine_tol,
                     n_fixed=len(fixed), min_gain=plan.min_gain, relax=plan.relax,
                     margins=margins, summary=summary)
        if best is None or fine.inertia < best_inertia:  # keep the best fit, not every one
            best, best_inertia = _palette_fit(fine, start.n_iter + fine.n_iter), fine.inertia
        del fine
    return best


def _palette_fit(fit: KMeansFit, n_iter: int) -> PaletteFit:
    """A fit on every distinct colour as a :class:`PaletteFit` (centres still in the fit's
    space), with its labels and margins when it has margins."""
    if fit.margin is None:
        return PaletteFit(fit.centers, n_iter)
    return PaletteFit(fit.centers, n_iter, labels=fit.labels, margin=fit.margin)


def _grid_bits(stats: ColorStats, min_cells: int, bits_options) -> int | None:
    """The coarsest grid (bits per channel) among ``bits_options`` (ascending) with at least
    ``min_cells`` occupied cells and at most half as many as there are distinct colours."""
    for bits in bits_options:
        if 1 << (bits * stats.colors.shape[1]) < min_cells:
            continue  # too few cells even if all were occupied: not worth binning
        occupied = stats.occupied(bits)  # counted first: a grid not taken is not averaged
        if 2 * occupied > stats.n_colors:
            return None
        if occupied >= min_cells:
            return bits
    return None


# Path order costs K steps over K entries: past this, a palette keeps its order.
PATH_ORDER_MAX_K = 1024


def path_order(colors: np.ndarray, fixed: int = 0) -> np.ndarray:
    """An order of ``colors`` (K, C) uint8: the first ``fixed`` as they are, then a greedy
    nearest-neighbour path from the last of them (from the darkest colour when none), so that
    neighbours differ little and a packed file's delta-coded palette codes small. Identity past
    :data:`PATH_ORDER_MAX_K` colours."""
    k = len(colors)
    if k > PATH_ORDER_MAX_K or k - fixed < 2:
        return np.arange(k)
    points = colors.astype(np.int64)
    left = np.ones(k, bool)
    left[:fixed] = False
    current = fixed - 1 if fixed else int(np.argmin(points[:, :3].sum(axis=1)))
    order = list(range(fixed)) if fixed else [current]
    left[current] = False
    for _ in range(k - len(order)):
        distance = ((points - points[current]) ** 2).sum(axis=1)
        distance[~left] = np.iinfo(np.int64).max
        current = int(np.argmin(distance))  # ties: the lowest index, so the order is reproducible
        order.append(current)
        left[current] = False
    return np.array(order)


def unique_rows(colors: np.ndarray) -> np.ndarray:
    """``colors`` (n, C) with each repeated row kept once, at its first place (order kept)."""
    _, first = np.unique(colors, axis=0, return_index=True)
    return colors[np.sort(first)]


def to_palette(centers: np.ndarray) -> np.ndarray:
    """Round centres to uint8 colours, dropping duplicates that rounding creates (order kept)."""
    return unique_rows(np.clip(np.rint(centers), 0, 255).astype(np.uint8))
