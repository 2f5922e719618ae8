"""The palette of an image: its fitted colours with their share of the pixels, and its palette files.

Fully transparent pixels (alpha 0) are left out of a palette: they have no colour a designer could
use. With ``keep_transparent`` they become one transparent entry (0, 0, 0, 0) with their share.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputError, ParameterError
from ..io.files import check_writable
from ..io.images import DEFAULT_MAX_PIXELS
from ..io.palettes.io import FORMATS, check_capacity, encode_palette, resolve_format, written_opaque
from ..io.palettes.model import Palette
from ..io.palettes.naming import name_palette
from ..io.palettes.sorting import sort_palette

if TYPE_CHECKING:
    from ..io.images import Image
    from .pipeline import CompressOptions, Result



def parse_formats(text: str) -> tuple[str, ...]:
    """Format names from a comma-separated list (``gpl,ase`` or extensions); all are checked before
    any work, an unknown one raising ParameterError that lists the valid names. Repeats are dropped."""
    names = [resolve_format(part) for part in text.split(",") if part.strip()]
    return tuple(dict.fromkeys(names))


def counted_palette(colors: np.ndarray, counts: np.ndarray, *, clear: int = 0,
                    keep_transparent: bool = False, title: str = "quantize") -> Palette:
    """A palette with shares from per-colour pixel counts; ``clear`` more pixels are fully transparent.

    Fully transparent colours and pixels are left out (the shares then count the visible pixels
    only), or with ``keep_transparent`` become one (0, 0, 0, 0) entry, last; a palette left fully
    opaque loses its alpha channel."""
    colors, counts = np.asarray(colors, np.uint8), np.asarray(counts, np.int64)
    if colors.shape[1] == 4:
        visible = colors[:, 3] > 0
        clear += int(counts[~visible].sum())
        colors, counts = colors[visible], counts[visible]
        if (colors[:, 3] == 255).all():
            colors = colors[:, :3]
    if keep_transparent and clear:
        rgba = colors if colors.shape[1] == 4 else np.column_stack([colors, np.full(len(colors), 255)])
        colors, counts = np.vstack([rgba, np.zeros((1, 4))]), np.append(counts, clear)
    if counts.sum() == 0:
        raise InputError("the image has no visible pixels: every pixel is fully transparent")
    return Palette(colors, counts / counts.sum(), None, title)


def image_palette(result: Result, *, keep_transparent: bool = False, title: str | None = None) -> Palette:
    """The palette of a quantised image with each colour's share of its pixels (see
    :func:`counted_palette` for transparency); the title defaults to the input file's stem."""
    return counted_palette(result.palette, result.usage(),
                           keep_transparent=keep_transparent,
                           title=title or (Path(result.input).stem if result.input else "quantize"))


def extract_palette(image: Image, options: CompressOptions, *,
                    keep_transparent: bool = False) -> tuple[Palette, Result]:
    """Fit a palette to the visible pixels of ``image`` (fully transparent ones take no part, so all K
    colours are visible ones); the transparent pixels are counted as in :func:`counted_palette`."""
    from .pipeline import quantize_image

    visible, n_clear = _visible(image)
    result = quantize_image(visible, options)
    if result.n_colors < options.fit.k:  # every colour is a centre: a K-colour palette is not there
        n = result.n_colors
        result = replace(result, notes=result.notes + (
            f"only {n:,} distinct colour{'s' * (n > 1)} to fit, fewer than K = "
            f"{options.fit.k:,}: the palette holds {'it' if n == 1 else f'those {n:,}'}",))
    if n_clear:
        share = f"{n_clear:,} fully transparent pixels ({100 * n_clear / image.pixels[..., 0].size:.1f}%)"
        result = replace(result, notes=result.notes + (
            f"{share} kept as one transparent entry" if keep_transparent else
            f"{share} left out of the palette (keep_transparent=True keeps one transparent "
            "entry)",))
    title = image.source.stem if image.source else "quantize"
    palette = counted_palette(result.palette, result.usage(), clear=n_clear,
                              keep_transparent=keep_transparent, title=title)
    return palette, result


def _visible(image: Image) -> tuple[Image, int]:
    """The image's pixels that are not fully transparent (as one row), and how many were left out."""
    if image.channels != 4:
        return image, 0
    clear = image.pixels[..., 3] == 0
    n_clear = int(clear.sum())
    if n_clear == 0:
        return image, 0
    if n_clear == clear.size:
        raise InputError(f"{image.source or 'the image'} has no visible pixels: every pixel is fully "
                         "transparent")
    kept = image.pixels[~clear]
    if (kept[:, 3] == 255).all():
        kept = kept[:, :3]
    return replace(image, pixels=np.ascontiguousarray(kept[np.newaxis])), n_clear


@dataclass(frozen=True)
class PaletteExport:
    """Which palette files to write, and the order, names and truncation of the palette in them."""

    formats: tuple[str, ...] = ()
    sort: str = "share"
    names: bool = False
    truncate: bool = False
    keep_transparent: bool = False  # fully transparent pixels as one (0, 0, 0, 0) entry
    named: Palette | None = None  # a fixed palette: its names go to the entries of its colours
    swatch_names: str = "share"  # the share in each name, or the name alone (plain)

    def paths(self, folder: Path, stem: str) -> dict[str, Path]:
        """Where each format goes: ``<folder>/<stem><ext>``."""
        return {fmt: folder / (stem + FORMATS[fmt].ext) for fmt in self.formats}

    def check_capacity(self, k: int, asked: bool = True) -> None:
        """Before any work: every format holds ``k`` colours (or may truncate); ``asked``: ``k``
        is the K asked for, not a fixed palette's size."""
        for fmt in self.formats:
            check_capacity(fmt, k, truncate=self.truncate, asked=asked)

    def arrange(self, palette: Palette) -> Palette:
        """The palette in the chosen order, named after the nearest CSS colours if asked."""
        palette = sort_palette(palette, self.sort)
        return name_palette(palette) if self.names else palette

    def outputs(self, palette: Palette, folder: Path, stem: str) -> dict[Path, bytes]:
        """The bytes of each file of an arranged ``palette``, for :func:`quantize.io.files.write_all`."""
        return {path: encode_palette(palette, fmt, truncate=self.truncate, swatch_names=self.swatch_names)
                for fmt, path in self.paths(folder, stem).items()}

    def result_palette(self, result: Result, title: str | None = None) -> Palette:
        """A quantised image's palette as its files hold it (:func:`image_palette`, arranged)."""
        palette = image_palette(result, keep_transparent=self.keep_transparent, title=title)
        if self.named is not None and self.named.names is not None:
            palette = Palette(palette.colors, palette.shares, _given_names(palette, self.named),
                              palette.title)
        return self.arrange(palette)

    def result_outputs(self, result: Result, folder: Path, stem: str) -> dict[Path, bytes]:
        """The files of a quantised image's palette (:meth:`result_palette`), e.g. for the
        ``export`` of :func:`quantize.jobs.pipeline.compress_file`."""
        return self.outputs(self.result_palette(result, stem), folder, stem)

    def truncated_notes(self, palette: Palette) -> list[str]:
        """Notes naming the formats that hold fewer colours than an arranged ``palette`` has, whose
        files (with ``truncate``) leave out its last colours, and the share of the pixels those
        have."""
        notes = []
        for fmt in self.formats:
            limit = FORMATS[fmt].limit
            if limit is not None and len(palette) > limit:
                share = "" if palette.shares is None else \
                    f" ({100 * palette.shares[limit:].sum():.1f}% of the pixels)"
                notes.append(f"{fmt} palettes hold at most {limit} colours: the last "
                             f"{len(palette) - limit:,} left out{share}")
        return notes

    def opaque_notes(self, palette: Palette) -> list[str]:
        """Notes naming the colours of an arranged ``palette`` that formats without alpha write
        opaque, one for each set of formats that loses the same colours."""
        lost: dict[tuple[int, ...], list[str]] = {}
        for fmt in self.formats:
            if indices := written_opaque(palette, fmt):
                lost.setdefault(tuple(indices), []).append(fmt)
        notes = []
        for indices, fmts in lost.items():
            named = ", ".join(fmts[:-1]) + " and " * (len(fmts) > 1) + fmts[-1]
            codes = [palette.hex[i] for i in indices[:3]] + ["..."] * (len(indices) > 3)
            many = len(indices) > 1
            notes.append(f"{len(indices)} colour{'s' * many} with alpha written opaque by {named} "
                         f"({', '.join(codes)})")
        return notes


def _given_names(palette: Palette, named: Palette) -> tuple[str, ...]:
    """Each entry of ``palette`` (a fixed palette as written, in index order) named after the
    entry of ``named`` (the file) of its colour, equal colours in turn, so that a colour listed
    twice keeps both names; alpha is compared as written (dropped on an opaque image, 255 added)."""
    channels = palette.colors.shape[1]
    given = named.colors[:, :channels]
    if given.shape[1] < channels:
        given = np.column_stack([given, np.full(len(given), 255, np.uint8)])
    waiting: dict[bytes, list[str]] = {}
    for colour, name in zip(given, named.names):
        waiting.setdefault(colour.tobytes(), []).append(name)
    return tuple(queue.pop(0) if (queue := waiting.get(colour.tobytes())) else
                 "transparent" if channels == 4 and colour[3] == 0 else ""  # as --names calls it
                 for colour in palette.colors)


def palette_file(path: str | Path, out_dir: str | Path | None = None, *,
                 export: PaletteExport = PaletteExport(), options: CompressOptions | None = None,
                 force: bool = False, max_pixels: int | None = DEFAULT_MAX_PIXELS,
                 allow_huge: bool = False,
                 out_file: str | Path | None = None) -> tuple[Palette, Result, dict[Path, int]]:
    """Load ``path``, fit its palette, write it in ``export.formats`` to ``out_dir`` (default: beside
    the input) as ``<stem><ext>``, all or nothing; with ``out_file`` (and no ``out_dir``) the one
    format goes there instead, the palette titled after it. Returns the arranged palette, the fit's
    result and the bytes written per file."""
    from .job import FileJob
    from .pipeline import CompressOptions

    options = CompressOptions.checked(options)
    source = Path(path)
    folder, stem = _target(source, source.stem, out_dir, out_file, export)
    export.check_capacity(options.fit.k)
    job = FileJob.plan(source, export.paths(folder, stem).values(), force=force,
                       max_pixels=max_pixels, allow_huge=allow_huge)

    def compute(image: Image) -> tuple[tuple[Palette, Result], dict[Path, bytes]]:
        palette, result = extract_palette(image, options, keep_transparent=export.keep_transparent)
        palette = export.arrange(replace(palette, title=stem) if out_file is not None else palette)
        return (palette, result), export.outputs(palette, folder, stem)

    palette, result = job.run(compute)
    return palette, result, {p: p.stat().st_size for p in job.targets}


def _is_packed(path: Path) -> bool:
    """Whether ``path`` is named as a packed file is."""
    from ..io.container import SUFFIX

    return path.suffix.lower() == SUFFIX


def packed_palette(path: str | Path, keep_transparent: bool = False,
                   title: str | None = None) -> Palette:
    """The palette of the packed still ``path`` in its index order, each colour's share of the
    pixels counted from the indices (transparency as :func:`counted_palette` takes it), titled
    ``title`` (default: the file's stem). A multi-frame ``.qnt`` is an InputError: it holds no one
    palette of its pixels."""
    from ..io import container
    from ..io.files import display_name, open_input

    source = Path(path)
    with open_input(source, "packed", allow_empty=True) as (fh, _):
        animated = fh.read(len(container.ANIMATION_MAGIC)) == container.ANIMATION_MAGIC
    if animated:
        raise InputError(f"{display_name(source)} is a multi-frame .qnt (an animation), not a still: "
                         "quantize decode writes it as a GIF, APNG or WebP")
    packed = container.load(source)
    counts = np.bincount(packed.indices.ravel(), minlength=len(packed.palette))
    return counted_palette(packed.palette, counts, keep_transparent=keep_transparent,
                           title=title or source.stem)


def convert_palette_file(path: str | Path, out_dir: str | Path | None = None, *,
                         export: PaletteExport = PaletteExport(), force: bool = False,
                         out_file: str | Path | None = None) -> tuple[Palette, dict[Path, int]]:
    """Read the palette file ``path`` (or a packed ``.qnt``'s palette, :func:`packed_palette`) and
    write it in ``export.formats`` to ``out_dir`` (default: beside it) as ``<stem><ext>``, or to
    ``out_file``, all or nothing and never over ``path``: nothing is fitted, its colours, names and
    shares are the file's, ordered and named as ``export`` says. Returns that palette and the bytes
    written per file."""
    from ..io.palettes.io import format_named_by, read_palette
    from .job import FileJob

    source = Path(path)
    named = format_named_by(source)
    stem = source.name[:-len(FORMATS[named].ext)] if named else source.stem
    folder, stem = _target(source, stem, out_dir, out_file, export)
    job = FileJob.plan(source, export.paths(folder, stem).values(), force=force)
    job.check()
    # a .qnt holds no title: its palette is titled as a fitted one is, after the file written
    read = (packed_palette(source, export.keep_transparent, title=stem) if _is_packed(source)
            else read_palette(source))
    palette = export.arrange(read)
    export.check_capacity(len(palette), asked=False)
    job.write(export.outputs(palette, folder, stem))
    return palette, {p: p.stat().st_size for p in job.targets}


def _target(source: Path, stem: str, out_dir: str | Path | None, out_file: str | Path | None,
            export: PaletteExport) -> tuple[Path, str]:
    """(folder, stem) of ``export``'s files of ``source``: ``<out_dir or its folder>/<stem>``, or
    those of the one file ``out_file`` of the export's one format, its folder checked usable."""
    if out_file is None:
        return Path(out_dir) if out_dir is not None else source.parent, stem
    out_file = Path(out_file)
    if out_dir is not None or len(export.formats) != 1:
        raise ParameterError("out_file names the one file of one format: give it with one format "
                             "and no out_dir", parameters=("out_file",))
    fmt = export.formats[0]
    if not out_file.name.lower().endswith(FORMATS[fmt].ext):
        raise ParameterError(f"out_file {out_file.name} does not end in {FORMATS[fmt].ext}, as "
                             f"{fmt} palettes do", parameters=("out_file",))
    check_writable(out_file.parent, file=out_file)  # a refusal names the file asked for
    return out_file.parent, out_file.name[:-len(FORMATS[fmt].ext)]
