"""The compression pipeline: load -> colour statistics -> fit -> map -> measure -> write.

:func:`quantize_image` does the work in memory (:func:`compress` from a path, a Pillow image or an
array); :func:`compress_file` adds loading and writing.
Both return one :class:`Result`, from which the report, the JSON and every table are rendered.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterator, Protocol

import numpy as np

from ..io import container
from .. import preload
from ..choices import CODECS, DEFAULT_CODEC, DEFAULT_FORMATS
from ..core.colorstats import ColorStats
from ..core.dither import DITHERS
from ..core.metrics import DeltaEReference
from ..core.threads import launches_one_thread_at_a_time
from ..errors import ParameterError, checked_options, is_real, whole
from ..core.fitting import FitOptions, ValueEquality, check_colors
from ..io.files import check_writable, input_path, output_arg
from ..io.images import DEFAULT_MAX_PIXELS, Image, as_image, display_name
from ..io.outputs import FileOptions

MAX_K = 65536
# rdo's largest allowance: far below the error between a visible and a fully transparent colour
# (255^2), so the rate–distortion mapping never swaps one for the other
RDO_MAX = 10_000
# rdo "auto": the allowance as a multiple of the nearest mapping's MSE, the best fixed allowance at
# equal bytes across K and photos (docs/CODEC.md)
RDO_AUTO = 2.0


@dataclass(frozen=True, eq=False)
class CompressOptions(ValueEquality):
    """Everything that decides a compression: the fit, a fixed palette, the codec, the metrics."""

    fit: FitOptions = field(default_factory=FitOptions)
    palette: np.ndarray | None = None  # map to this palette instead of fitting one
    # with ``palette``: the colours a display shows for its entries (same count and order); pixels
    # are mapped to these, and the palette with those indices is written
    panel: np.ndarray | None = None
    drop_unused: bool = False  # a fixed palette keeps every entry (stable indices) unless this
    dither: str = "none"  # one of quantize.choices.DITHERS
    dither_strength: float = 1.0
    # rate–distortion mapping: squared sRGB error a pixel may add to take a neighbour's index (0:
    # off; "auto": RDO_AUTO times the nearest mapping's MSE)
    rdo: float | str = 0.0
    codec: str = DEFAULT_CODEC
    delta_e_samples: int = 200_000

    @classmethod
    def checked(cls, options: "CompressOptions | None") -> "CompressOptions":
        """``options`` (default ones for None) :meth:`validated`; a caller's FitOptions or other
        object in their place is a :class:`ParameterError`."""
        return checked_options(cls, options)

    def validated(self) -> "CompressOptions":
        """Check every value once, here, with one-line messages (the fit's own by
        :meth:`FitOptions.validated`)."""
        if is_real(self.fit.k) and not 1 <= self.fit.k <= MAX_K:
            raise ParameterError(f"K must be between 1 and {MAX_K}, got {self.fit.k}")
        f = self.fit.validated()
        if f.bits is not None:
            from ..core.lattice import lattice_size

            if self.palette is not None or f.locked is not None:
                raise ParameterError("bits constrains the fitted colours: it cannot be combined with "
                                     "palette or locked", parameters=("bits", "palette", "locked"))
            if f.k > lattice_size(f.bits):
                raise ParameterError(f"bits {','.join(map(str, f.bits))} holds only "
                                     f"{lattice_size(f.bits)} colours, fewer than K={f.k}",
                                     parameters=("bits",))
        if self.dither not in DITHERS:
            raise ParameterError(f"unknown dither {self.dither!r} (choose from {', '.join(DITHERS)})")
        if not (is_real(self.dither_strength) and 0 <= self.dither_strength <= 1):
            raise ParameterError(f"dither_strength must be between 0 and 1, got "
                                 f"{self.dither_strength!r}", parameters=("dither_strength",))
        whole("delta_e_samples", self.delta_e_samples, 1)
        if self.rdo != "auto" and not (is_real(self.rdo) and 0 <= self.rdo <= RDO_MAX):
            raise ParameterError(f"rdo must be 'auto' or between 0 and {RDO_MAX:,}, got {self.rdo!r}",
                                 parameters=("rdo",))
        if self.rdo and self.dither != "none":
            raise ParameterError("rdo applies to the nearest-colour mapping: it cannot be combined "
                                 "with dither", parameters=("rdo", "dither"))
        if self.panel is not None and self.palette is None:
            raise ParameterError("panel needs palette", parameters=("panel", "palette"))
        if self.panel is not None and len(self.panel) != len(self.palette):
            raise ParameterError(f"panel gives {len(self.panel)} colours for the "
                                 f"{len(self.palette)} of palette (one measured colour per entry, "
                                 f"in its order)", parameters=("panel", "palette"))
        if self.panel is not None:
            _check_panel_repeats(np.asarray(self.palette), np.asarray(self.panel))
        if self.panel is not None and self.drop_unused:
            raise ParameterError("drop_unused would renumber the display's native indices: "
                                 "it cannot be combined with panel",
                                 parameters=("drop_unused", "panel"))
        if self.codec not in CODECS:
            raise ParameterError(f"unknown codec {self.codec!r} (choose from {', '.join(CODECS)})")
        return replace(self, fit=f)


def _check_panel_repeats(palette: np.ndarray, panel: np.ndarray) -> None:
    """Refuse a ``panel`` colour unlike the one of the entry its ``palette`` entry repeats: a
    repeat keeps a display's codes in place (spectra6's unused code 4 repeats black), and ties go
    to the first, so no pixel takes it unless the panel's colour for it is another."""
    if palette.ndim != 2 or panel.ndim != 2 or len(palette) != len(panel) or not len(palette):
        return
    _, first, inverse = np.unique(palette, axis=0, return_index=True, return_inverse=True)
    first = first[inverse.reshape(-1)]
    unlike = np.flatnonzero((panel != panel[first]).any(axis=1))
    if len(unlike):
        i = int(unlike[0])
        j = int(first[i])
        shown = ["#" + bytes(np.asarray(c[:3], np.uint8).tolist()).hex().upper()
                 for c in (panel[i], palette[j], panel[j])]
        raise ParameterError(f"panel gives {shown[0]} for entry {i}, but palette's entry {i} "
                             f"repeats entry {j} ({shown[1]}), a code kept in place that the "
                             f"display does not use: give entry {j}'s measured colour "
                             f"({shown[2]}) there too, or pixels take code {i}",
                             parameters=("panel", "palette"))


def _shows_every_colour(stats: ColorStats, palette: np.ndarray) -> bool:
    """Whether every distinct colour of the image is an entry of ``palette`` (same channels): a
    dither could then only add error."""
    from ..core.colorstats import color_keys

    return bool(np.isin(color_keys(stats.colors), color_keys(palette)).all())


@dataclass(eq=False)
class Result:
    """What one compression produced: palette, indices, sizes, quality and timings."""

    width: int
    height: int
    channels: int
    k: int
    palette: np.ndarray
    indices: np.ndarray
    n_colors: int
    mse: float
    psnr: float
    delta_e: float
    n_iter: int
    codec: str
    seconds: dict[str, float]
    input: str | None = None
    input_bytes: int = 0
    input_frames: int = 1  # more: the input file's bytes hold other frames too (no ratio to them)
    grey: bool = False  # the input's samples were grey (see raw_channels)
    notes: tuple[str, ...] = ()
    files: dict[str, tuple[str | None, int]] = field(default_factory=dict)  # format: (path, bytes)
    space: str = "rgb"
    dither: str = "none"
    rdo: float = 0.0  # the rate–distortion allowance used
    transparent_pixels: int = 0
    fixed_palette: bool = False  # mapped to a given palette (--palette), nothing fitted
    input_channels: int = 0  # the image's channels as loaded where the files hold fewer, else 0
    counts: np.ndarray | None = field(default=None, repr=False, compare=False)  # see usage()

    def pixels(self) -> np.ndarray:
        """The quantised image, (H, W, channels) uint8, as :meth:`PackedImage.pixels` gives it
        back from the packed file."""
        return self.palette[self.indices]

    @property
    def quality(self) -> tuple[float, float]:
        """The PSNR and mean CIEDE2000 a quality target judges."""
        return self.psnr, self.delta_e

    def usage(self) -> np.ndarray:
        """How many pixels use each palette entry (counted once, then kept)."""
        if self.counts is None:
            from ..core.mapping import index_counts

            self.counts = index_counts(self.indices, self.k_used)
        return self.counts

    @property
    def k_used(self) -> int:
        return len(self.palette)

    @property
    def bits_per_pixel(self) -> int:
        """Bits per stored index: ceil(log2 K used)."""
        return container.bits_per_index(self.k_used)

    @property
    def raw_channels(self) -> int:
        """Bytes an input pixel takes uncompressed: 1 grey, 2 grey and alpha, 3 RGB, 4 RGBA."""
        channels = self.input_channels or self.channels
        return channels - 2 if self.grey else channels

    @property
    def raw_bytes(self) -> int:
        """Size of the input's uncompressed pixels (:attr:`raw_channels` bytes each)."""
        return self.width * self.height * self.raw_channels

    @property
    def ratio(self) -> float:
        """The classic ratio: bits of a raw pixel over bits per index (24 / bpp for RGB, 8 / bpp
        for grey)."""
        return container.classic_ratio(self.k_used, self.raw_channels)

    @property
    def packed_bytes(self) -> int:
        """Size of the packed-index container without a codec (header, palette, bits, CRC)."""
        return container.packed_size(self.width, self.height, self.k_used, self.channels)

    @property
    def inertia(self) -> float:
        """Within-cluster sum of squares of the written palette, over all pixels."""
        return self.mse * self.width * self.height

    def real_bits_per_pixel(self, size: int | None) -> float | None:
        """8 x ``size`` bytes / pixels: what a file really spends per pixel."""
        return None if size is None else round(8 * size / (self.width * self.height), 4)

    def to_dict(self) -> dict:
        """A JSON-ready dictionary of the result (no pixel data)."""
        def ratio_to(size: int | None, of: int) -> float | None:
            return round(of / size, 4) if size and of else None

        def vs_input(size: int | None) -> float | None:
            """Against the input file: only a still input's bytes hold the same pixels."""
            return ratio_to(size, self.input_bytes) if self.input_frames == 1 else None

        packed_file, packed_bytes = self.files.get("qnt", (None, None))
        preview_file, preview_bytes = self.files.get("png", (None, None))
        files = {fmt: {"path": path, "bytes": size, "bits_per_pixel": self.real_bits_per_pixel(size),
                       "ratio_vs_raw": ratio_to(size, self.raw_bytes),
                       "ratio_vs_input": vs_input(size)}
                 for fmt, (path, size) in self.files.items()}
        return {
            "input": self.input, "width": self.width, "height": self.height,
            "channels": self.channels, "raw_channels": self.raw_channels,
            "input_bytes": self.input_bytes,
            "input_frames": self.input_frames,
            "distinct_colors": self.n_colors, "k": self.k, "k_used": self.k_used,
            "bits_per_pixel": self.bits_per_pixel, "raw_bytes": self.raw_bytes,
            "packed_bytes": self.packed_bytes,
            "ratio": round(self.ratio, 4) if np.isfinite(self.ratio) else None,
            "codec": self.codec, "packed_file": packed_file, "packed_file_bytes": packed_bytes,
            "packed_file_bits_per_pixel": self.real_bits_per_pixel(packed_bytes),
            "ratio_file_vs_raw": ratio_to(packed_bytes, self.raw_bytes),
            "ratio_file_vs_input": vs_input(packed_bytes),
            "preview_file": preview_file, "preview_bytes": preview_bytes,
            "preview_bits_per_pixel": self.real_bits_per_pixel(preview_bytes), "files": files,
            "mse": round(self.mse, 6), "psnr": round(self.psnr, 4) if np.isfinite(self.psnr) else None,
            "delta_e": round(self.delta_e, 6), "inertia": round(self.inertia, 3),
            "n_iter": self.n_iter, "space": self.space, "dither": self.dither, "rdo": self.rdo,
            "transparent_pixels": self.transparent_pixels, "fixed_palette": self.fixed_palette,
            "palette": ["#" + bytes(c).hex() for c in self.palette],
            "notes": list(self.notes),
            "seconds": {k: round(v, 4) for k, v in self.seconds.items()},
        }


class _Clock:
    """Seconds spent per named stage."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        except SystemError as exc:
            # Ctrl-C landing while Numba loads or dispatches a kernel surfaces as a SystemError
            # caused by the KeyboardInterrupt: give the interrupt back its own type.
            if _caused_by_interrupt(exc):
                raise KeyboardInterrupt from None
            raise
        finally:
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start


def _caused_by_interrupt(exc: BaseException | None) -> bool:
    while exc is not None and not isinstance(exc, KeyboardInterrupt):
        exc = exc.__cause__ or exc.__context__
    return exc is not None


# compress's names for the scikit-learn KMeans parameters a caller may reach for
_SKLEARN_NAMES = {"n_clusters": "k", "random_state": "seed"}


def compress(image: Any, k: int = 256, *, max_pixels: int | None = DEFAULT_MAX_PIXELS,
             **fit_options: Any) -> Result:
    """Quantise an image to ``k`` colours in memory; return the Result.

    ``image`` is a file path or binary file object (read as a file is), a Pillow image, or an
    array or nested list (HxW or HxWx1/2/3/4; uint8, uint16 or floats in [0, 1]; a list's
    integers 0 to 255). ``fit_options`` are those of :class:`FitOptions` (n_init, max_iter, tol,
    seed, sample, space). A file's image is refused past ``max_pixels`` (None: no limit).
    """
    from dataclasses import fields

    unknown = sorted(set(fit_options) - {f.name for f in fields(FitOptions)})
    if unknown:
        theirs = [name for name in unknown if name in _SKLEARN_NAMES]
        raise ParameterError(f"compress takes k, max_pixels and FitOptions' fields, not "
                             f"{', '.join(unknown)}" + (f" (scikit-learn's {', '.join(theirs)}: "
                             f"here {', '.join(_SKLEARN_NAMES[n] for n in theirs)})"
                             if theirs else ""), parameters=tuple(unknown))
    options = CompressOptions(fit=FitOptions(k=k, **fit_options)).validated()  # before any read
    return quantize_image(as_image(image, max_pixels=max_pixels), options)


def quantize_image(image: Image, options: CompressOptions | None = None, clock: _Clock | None = None, *,
                   stats: ColorStats | None = None,
                   delta_e_reference: DeltaEReference | None = None,
                   measure: bool = True, loaded: Image | None = None) -> Result:
    """Fit (or take) a palette and map every pixel of ``image`` to it; measure the error (unless
    not ``measure``: the metrics stay NaN) against ``image``, or against ``loaded`` when
    ``image`` is it as the files hold it (:func:`~quantize.io.outputs.as_written`).

    ``stats`` (the image's :func:`~quantize.core.colorstats.color_stats`) and ``delta_e_reference``
    (:func:`delta_e_reference` of the measured image) may be passed in when several fits share one
    image, as a sweep does; the result is the same without them.
    """
    if not isinstance(image, Image):
        raise ParameterError(f"quantize_image takes an Image (load_image, image_from_array or "
                             f"image_from_pillow make one), not {type(image).__name__}; "
                             f"quantize.compress takes paths, arrays and Pillow images")
    options, clock = CompressOptions.checked(options), clock or _Clock()
    if loaded is not None and (not isinstance(loaded, Image)
                               or loaded.pixels.shape[:2] != image.pixels.shape[:2]):
        what = (f"{loaded.width}x{loaded.height}" if isinstance(loaded, Image)
                else f"a {type(loaded).__name__}")
        raise ParameterError(f"loaded must be the Image quantize_image's image was made from, of "
                             f"its {image.width}x{image.height} pixels, not {what}",
                             parameters=("loaded",))
    with launches_one_thread_at_a_time():
        result, pixels = _quantized(image, options, clock, stats)
        if not measure:
            return result
        return _measured(result, _measured_pixels(pixels, loaded), options, clock, delta_e_reference)


def _quantized(image: Image, options: CompressOptions, clock: _Clock,
               stats: ColorStats | None) -> tuple[Result, np.ndarray]:
    """:func:`quantize_image` up to the metrics (left NaN), and the pixels they are measured on."""
    from ..core.colorstats import clear_transparent, color_stats
    from ..core.dither import dither_pixels
    from ..core.fitting import fit_palette, to_palette
    from ..core.mapping import map_colors

    space = options.fit.space
    with clock.stage("stats"):
        pixels = clear_transparent(image.pixels)  # hidden RGB is neither fitted nor measured
        stats = stats if stats is not None else color_stats(pixels)
        colors = stats.in_space(space)  # the one place the working space is chosen
    notes: tuple[str, ...] = ()
    with clock.stage("fit"):
        fit = None
        if options.palette is not None:
            palette, n_iter = _checked_palette(options.palette, pixels.shape[-1],
                                               stats.n_transparent > 0), 0
            notes = _alpha_notes(np.asarray(options.palette), stats)
        else:
            options, notes = _locked_once(options, pixels.shape[-1])
            fit = fit_palette(pixels, colors, options.fit)
            palette, n_iter = to_palette(fit.centers), fit.n_iter
            sample = options.fit.sample
            if sample and sample < min(options.fit.k, stats.n_colors):
                notes += (f"a sample of {sample:,} pixels holds at most {sample:,} colours, "
                          f"fewer than K = {options.fit.k:,}",)
    allowance = 0.0
    with clock.stage("map"):
        shown = palette if options.panel is None else _checked_palette(options.panel, pixels.shape[-1])
        # A fixed palette's transparent entry takes exactly the fully transparent pixels: mapped
        # by distance, a dark opaque colour could land on it when the palette has nothing near.
        visible, clear = _split_transparent(palette, stats) if options.palette is not None \
            else (None, None)
        targets = shown if visible is None else shown[visible]
        exact = options.dither != "none" and _shows_every_colour(stats, shown)
        if exact:
            notes += (f"no {options.dither} dither: the palette holds every colour of the image",)
        if options.dither == "none" or exact:
            labels = map_colors(colors, targets, fit)  # each distinct colour's entry
            if visible is not None:
                labels = visible[labels]
                labels[stats.transparent_row] = clear
            indices = stats.gather(pixels, labels).reshape(pixels.shape[:2])
            counts = np.bincount(labels, weights=stats.counts, minlength=len(palette))
            if options.rdo:
                from ..core.mapping import prefer_cheap_indices
                from ..core.metrics import mse

                allowance = (RDO_AUTO * mse(pixels, shown, indices) if options.rdo == "auto"
                             else options.rdo)
                moved = prefer_cheap_indices(pixels, shown, indices, allowance)
                counts = None
                notes += (f"rate–distortion mapping: {moved:,} pixels "
                          f"({100 * moved / indices.size:.1f}%) took a neighbour's colour "
                          f"(rdo {'auto: ' if options.rdo == 'auto' else ''}{allowance:.4g})",)
        else:
            indices = dither_pixels(pixels, colors, targets, options.dither,
                                    options.dither_strength)
            if visible is not None:
                indices = visible[indices]
                indices[pixels[..., 3] == 0] = clear
            counts = None
        added = options.palette is not None and len(palette) > len(options.palette)
        fixed = options.palette is None and options.fit.locked is not None
        given = len(palette)
        palette, indices, counts = _drop_unused(palette, indices, counts,
                                                keep_first=_kept_entries(options, len(palette)))
        if options.palette is not None and len(palette) < given:
            notes += (f"{given - len(palette):,} of the palette's {given:,} entries no pixel uses "
                      "were left out: the indices are renumbered, not the palette's own codes",)
        if options.palette is None:  # a fixed palette keeps its indices
            palette, indices, counts = _path_ordered(palette, indices, counts,
                                                     _kept_entries(options, len(palette)))
    n_colors, transparent = stats.n_colors, stats.n_transparent
    del stats, colors  # frees points, grids and rows before the metrics, unless the caller holds them
    result = Result(
        width=image.width, height=image.height, channels=image.channels,
        k=options.fit.k if options.palette is None else len(options.palette),
        palette=palette, indices=indices, n_colors=n_colors, mse=np.nan, psnr=np.nan,
        delta_e=np.nan, n_iter=n_iter, codec=container.written_codec(options.codec, len(palette)),
        seconds=clock.seconds,
        input=display_name(image.source) if image.source else None,
        input_bytes=image.file_bytes, input_frames=image.frames, grey=image.grey,
        notes=image.notes + _transparency_note(transparent, added) + notes,
        space=space, dither="none" if exact else options.dither, rdo=allowance,
        transparent_pixels=transparent, fixed_palette=options.palette is not None, counts=counts)
    return result, pixels


def _measured(result: Result, pixels: np.ndarray, options: CompressOptions, clock: _Clock,
              delta_e_reference: DeltaEReference | None) -> Result:
    """``result`` with its MSE, PSNR and mean CIEDE2000 against ``pixels`` (of the colours the
    panel shows, with ``options.panel``)."""
    from ..core.metrics import mean_delta_e, mse, psnr

    shown = (result.palette if options.panel is None
             else _checked_palette(options.panel, result.channels))
    channels = pixels.shape[-1]
    if shown.shape[1] < channels:  # written opaque (for a GIF), measured against the alpha given
        shown = np.column_stack([shown, np.full(len(shown), 255, np.uint8)])
    with clock.stage("metrics"):
        error = mse(pixels, shown, result.indices)
        delta_e = mean_delta_e(pixels, shown, result.indices,
                               n_samples=options.delta_e_samples, reference=delta_e_reference)
    return replace(result, mse=error, psnr=psnr(error, channels), delta_e=delta_e)


def _measured_pixels(pixels: np.ndarray, loaded: Image | None) -> np.ndarray:
    """The pixels the error is measured against: ``loaded``'s, else the quantised ``pixels``."""
    from ..core.colorstats import clear_transparent

    return pixels if loaded is None else clear_transparent(loaded.pixels)


def delta_e_reference(image: Image, options: CompressOptions) -> DeltaEReference:
    """The ΔE sample of ``image`` as :func:`quantize_image` measures against it with ``options``."""
    from ..core.colorstats import clear_transparent

    return DeltaEReference(clear_transparent(image.pixels), n_samples=options.delta_e_samples)


def _transparency_note(n: int, added: bool = False) -> tuple[str, ...]:
    if not n:
        return ()
    pixels = "1 fully transparent pixel takes" if n == 1 else f"{n:,} fully transparent pixels share"
    return (f"{pixels} the transparent palette entry (0,0,0,0)"
            + (", added to the fixed palette, which has none" if added else ""),)


def _alpha_notes(palette: np.ndarray, stats: ColorStats) -> tuple[str, ...]:
    """What a fixed ``palette`` does to partial alpha that the user may not expect: an opaque
    image drops the palette's, and partly transparent pixels take opaque colours from a palette
    without it."""
    alpha = palette[:, 3] if palette.shape[1] == 4 else np.full(len(palette), 255)
    partial = bool(((alpha > 0) & (alpha < 255)).any())
    if stats.colors.shape[1] == 3:
        return ("the fixed palette's partial alpha is dropped: the image is opaque",) if partial else ()
    shown = stats.colors[:, 3]
    n = int(stats.counts[(shown > 0) & (shown < 255)].sum())
    if not n or partial:
        return ()
    return (f"{n:,} partly transparent pixel{'' if n == 1 else 's'} take the fixed palette's "
            "opaque colours (it has no partial alpha)",)


def _checked_palette(palette: np.ndarray, channels: int, transparent: bool = False) -> np.ndarray:
    """A fixed palette for an image of ``channels``; with ``transparent`` pixels it gets the same
    (0, 0, 0, 0) entry a fitted palette gives them, unless it has a fully transparent entry. The
    entry goes last, so the palette's own entries keep their indices."""
    palette = np.asarray(palette)
    if palette.ndim != 2 or palette.shape[1] not in (3, 4) or not 1 <= len(palette) <= MAX_K:
        raise ParameterError("a palette must be 1 to 65536 colours of 3 or 4 channels")
    check_colors(palette, "palette")
    if palette.shape[1] != channels:
        palette = (palette[:, :3] if channels == 3 else
                   np.column_stack([palette, np.full(len(palette), 255)]))
    if transparent and channels == 4 and not (palette[:, 3] == 0).any():
        if len(palette) == MAX_K:
            raise ParameterError(f"the palette has {MAX_K} colours and no transparent one: the image's "
                                 "fully transparent pixels need an entry of their own")
        palette = np.vstack([palette, np.zeros((1, 4), palette.dtype)])
    return np.ascontiguousarray(palette, dtype=np.uint8)


def _split_transparent(palette: np.ndarray,
                       stats: ColorStats) -> tuple[np.ndarray | None, int | None]:
    """For a fixed palette on an image with fully transparent pixels: the entries visible pixels
    may take (as an index array) and the fully transparent entry; (None, None) when there is no
    such split to make."""
    from ..core.mapping import index_dtype

    if stats.transparent_row is None or palette.shape[1] != 4:
        return None, None
    visible = np.flatnonzero(palette[:, 3] > 0).astype(index_dtype(len(palette)))
    if not len(visible) or len(visible) == len(palette):
        return None, None
    return visible, int(np.flatnonzero(palette[:, 3] == 0)[0])


def _locked_once(options: CompressOptions, channels: int) -> tuple[CompressOptions, tuple[str, ...]]:
    """``options`` with its locked colours in the image's ``channels``, each once, and a note when
    an opaque image, dropping their alpha, made two of them one colour (K is kept)."""
    from ..core.fitting import locked_colors, unique_rows

    if options.fit.locked is None:
        return options, ()
    rows = locked_colors(options.fit, channels)
    kept = unique_rows(rows)
    if len(kept) == len(rows):
        return options, ()
    n = len(rows) - len(kept)
    note = (f"{n:,} locked colour{'s' * (n > 1)} differ{'s' * (n == 1)} from another only in alpha, "
            "which the opaque image drops: each is kept once")
    return replace(options, fit=replace(options.fit, locked=kept)), (note,)


def _kept_entries(options: CompressOptions, k: int) -> int:
    """How many leading palette entries stay even if no pixel uses them: all of a fixed palette
    (so its indices are stable) unless ``drop_unused``, else the locked colours."""
    if options.palette is not None:
        return 0 if options.drop_unused else k
    return 0 if options.fit.locked is None else len(options.fit.locked)


def _drop_unused(palette: np.ndarray, indices: np.ndarray, counts: np.ndarray | None = None,
                 keep_first: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keep only the palette entries some pixel uses, and the first ``keep_first`` (locked colours)
    in any case, renumbering the indices (order kept); also return each kept entry's pixel count
    (``counts``, each entry's pixels, if known; else counted)."""
    from ..core.mapping import index_counts, index_dtype

    counts = index_counts(indices, len(palette)) if counts is None else counts.astype(np.int64)
    used = counts > 0
    used[:keep_first] = True
    if used.all():
        return palette, indices, counts
    renumber = np.cumsum(used) - 1
    kept = palette[used]
    return kept, renumber.astype(index_dtype(len(kept)))[indices], counts[used]


def _path_ordered(palette: np.ndarray, indices: np.ndarray, counts: np.ndarray,
                  fixed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A fitted palette in :func:`~quantize.core.fitting.path_order` (its first ``fixed``, the
    locked colours, in place), with its indices and counts renumbered: the same pixels."""
    from ..core.fitting import path_order

    order = path_order(palette, fixed)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return palette[order], rank.astype(indices.dtype)[indices], counts[order]


def encode_outputs(result: Result, formats: tuple[str, ...] = DEFAULT_FORMATS, *,
                   stem: str = "image", files: FileOptions | None = None) -> dict[str, bytes]:
    """The bytes of every format of ``result`` (see :mod:`quantize.io.outputs`)."""
    from ..io.outputs import encode_all

    return encode_all(result.palette, result.indices, formats, codec=result.codec, stem=stem,
                      files=files or FileOptions())


class ResultFiles(Protocol):
    """More files a compress writes from its result, beside its formats (palette exports)."""

    def check_capacity(self, k: int, asked: bool = True) -> None:
        """Refuse, before any work, a K the files cannot hold (``asked``: K was asked for, not a
        fixed palette's size)."""

    def paths(self, folder: Path, stem: str) -> dict[str, Path]:
        """Where each file goes."""

    def result_outputs(self, result: Result, folder: Path, stem: str) -> dict[Path, bytes]:
        """The bytes of each file, by path."""


def compress_file(path: str | Path, out_dir: str | Path | None = None, *,
                  options: CompressOptions | None = None,
                  formats: tuple[str, ...] | str | None = None,
                  files: FileOptions | None = None, force: bool = False,
                  max_pixels: int | None = DEFAULT_MAX_PIXELS, allow_huge: bool = False,
                  export: ResultFiles | None = None, image: Image | None = None,
                  out_file: str | Path | None = None) -> Result:
    """Load ``path`` (unless the caller already loaded it as ``image``), quantise it and write its
    ``formats`` (default: the packed file and the PNG) into ``out_dir``, as ``files`` says (PNG
    effort, export byte orders), and the files ``export`` makes of the result (e.g. its palette in
    the formats of a :class:`~quantize.jobs.palette.PaletteExport`). With ``out_file`` (and no
    ``out_dir``) the one format written goes there (without ``formats``, the one its name ends as:
    ``small.png``, png), and the file's stem names the exports and the C header's arrays.

    Every output is checked before any work, and written all or nothing, never over the input, and
    over an existing file only with ``force`` (:class:`~quantize.jobs.job.FileJob`).
    """
    from ..io.exports import check_panel_palette
    from ..io.outputs import (GIF_MAX_K, as_written, check_formats, format_named_by, output_paths,
                              parse_formats)
    from .job import FileJob

    start = time.perf_counter()
    options = CompressOptions.checked(options)
    out_file = output_arg(out_file, "compress_file's out_file")
    if formats is None and out_file is not None:  # small.png asks for png, as -o small.png does
        formats = format_named_by(out_file)
    formats = parse_formats(formats)
    k = options.fit.k if options.palette is None else len(options.palette)
    check_formats(formats, k)
    if files is not None and not isinstance(files, FileOptions):
        raise ParameterError(f"files must be FileOptions, not {type(files).__name__}",
                             parameters=("files",))
    files = (files or FileOptions()).validated()
    if {"raw", "c"} & set(formats):
        check_panel_palette(files.layout, None if options.palette is None else len(options.palette))
    source = input_path(path, "compress_file's path")
    out_dir = output_arg(out_dir, "compress_file's out_dir")
    paths = output_paths(source, out_dir, formats, out_file)
    folder = next(iter(paths.values())).parent
    if out_file is not None:  # a refusal then names the file asked for, not its folder
        check_writable(folder, file=out_file)
    stem = source.stem if out_file is None else out_file.stem
    palette_paths = {}
    if export is not None:
        export.check_capacity(k, asked=options.palette is None)
        palette_paths = export.paths(folder, stem)
    job = FileJob.plan(source, [*paths.values(), *palette_paths.values()], force=force,
                       max_pixels=max_pixels, allow_huge=allow_huge)
    clock = _Clock()
    sizes: dict[str, tuple[str, int]] = {}
    written: list[str] = []  # the packed file's codec, once encoded

    def compute(image: Image) -> tuple[Result, Callable[[], dict[Path, bytes]]]:
        preload.wait_for_imports()  # before this thread imports any kernel
        with launches_one_thread_at_a_time():
            held = as_written(image, formats)
            result = _compressed(held, options, clock, loaded=None if held is image else image)
        if "gif" in formats and options.palette is not None and result.k_used > GIF_MAX_K:
            raise ParameterError(f"GIF holds at most {GIF_MAX_K} colours: the palette's "
                                 f"{len(options.palette)} colours and the transparent pixels' entry "
                                 f"make {result.k_used}: give a palette of at most {GIF_MAX_K - 1}, "
                                 f"or --drop-unused")

        def encode() -> dict[Path, bytes]:
            with launches_one_thread_at_a_time():
                encoded = encode_outputs(result, formats, stem=stem, files=files)
            written.append(packed_codec(result, encoded))
            outputs = {paths[fmt]: data for fmt, data in encoded.items()}
            if export is not None:
                outputs.update(export.result_outputs(result, folder, stem))
            sizes.update({fmt: (display_name(path), len(outputs[path])) for fmt, path in paths.items()})
            return outputs

        return result, encode

    result = job.run(compute, image, stage=clock.stage,
                     prepare=lambda: preload.start(options.fit.k if options.palette is None else None,
                                                   code=_codes(options, formats)))
    preload.finish()  # what this call started ends with it, its kernels cached (see there)
    codec = written[0] if written else result.codec
    notes = container.codec_note(options.codec, result.k_used, codec) if "qnt" in formats else ()
    if "rgb565" in formats:
        from ..io.exports import rgb565_note

        notes += rgb565_note(result.palette)
    if options.palette is not None and not options.drop_unused:
        from ..io.exports import transparent_entry_note

        notes += transparent_entry_note(formats, options.palette, result.palette)
    result = replace(result, files=sizes, codec=codec, notes=result.notes + notes)
    result.seconds["total"] = time.perf_counter() - start
    return result


def packed_codec(result: Result, encoded: dict[str, bytes]) -> str:
    """The codec of the packed file among ``encoded`` (the one its header gives), else the one
    ``result`` would be written with."""
    return container.codec_of(encoded["qnt"]) if "qnt" in encoded else result.codec


def _codes(options: CompressOptions, formats: tuple[str, ...]) -> bool:
    """Whether a compress runs the ``cm`` coder (a ``.qnt`` of K up to its limit)."""
    from ..core.indexcodec import MAX_K as CM_MAX_K

    return "qnt" in formats and options.codec == "cm" and options.fit.k <= CM_MAX_K


def _compressed(image: Image, options: CompressOptions, clock: _Clock,
                loaded: Image | None = None) -> Result:
    """The quantised result of ``image``, measured against ``loaded`` (see :func:`quantize_image`),
    whose colours and channels the report gives."""
    from concurrent.futures import ThreadPoolExecutor

    from ..core.colorstats import color_stats
    from ..core.metrics import sample_positions

    with ThreadPoolExecutor(1) as pool:
        # the ΔE sample is drawn while the colours are counted (a serial kernel that releases the GIL)
        sample = pool.submit(sample_positions, image.height * image.width,
                             options.delta_e_samples)
        result, pixels = _quantized(image, options, clock, None)
        pixels = _measured_pixels(pixels, loaded)
        if loaded is not None:
            with clock.stage("stats"):
                result = replace(result, n_colors=color_stats(pixels).n_colors,
                                 input_channels=loaded.channels)
        with clock.stage("metrics"):
            reference = DeltaEReference(pixels, n_samples=options.delta_e_samples,
                                        positions=sample.result())
        return _measured(result, pixels, options, clock, reference)

