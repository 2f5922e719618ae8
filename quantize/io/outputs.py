"""The files one compression writes (``--format``): their names, and their bytes from a Result.

Every format holds exactly the same pixels. Standard images take a tagged name
(``<stem>.preview.png``) so that no output can be another input; the packed file and the firmware
exports have suffixes no image has.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from ..choices import (DEFAULT_FORMATS, DEFAULT_PNG_EFFORT, DEFAULT_WEBP_METHOD, FORMATS, PNG_EFFORTS,
                       WEBP_METHODS)
from ..errors import ParameterError

if TYPE_CHECKING:
    import numpy as np

    from .images import Image

_SUFFIX = {"qnt": ".qnt", "c": ".h", "raw": ".raw", "rgb565": ".rgb565"}
_IMAGES = {"png": ".png", "webp": ".webp", "gif": ".gif"}
#: The endings of every file a format writes.
OUTPUT_SUFFIXES = frozenset((*_SUFFIX.values(), *_IMAGES.values()))
#: GIF shows a pixel or not: alpha at or above this shows it opaque, below it clear (as ffmpeg's
#: paletteuse thresholds by default).
GIF_ALPHA_THRESHOLD = 128
GIF_ALPHA_NOTE = (f"GIF has no partial transparency: partly transparent pixels were made opaque "
                  f"(alpha {GIF_ALPHA_THRESHOLD} or more) or clear, in every format (without gif, "
                  f"--format png,webp keep them)")
GIF_MAX_K = 256
ROTATIONS = (0, 90, 180, 270)  # degrees clockwise, as GUI_Paint's ROTATE_90 … turn a picture


@dataclass(frozen=True)
class FileOptions:
    """How the files are written: PNG effort (0 fastest … 3 smallest), the raw export's bit order
    and row padding, or OLED page layout (1 bit a pixel), or tri-colour e-paper planes, the RGB565
    export's byte order, libwebp's method (0 fastest … 6 smallest), and the degrees every file's
    picture is turned clockwise (0, 90, 180, 270: a panel's memory in its own orientation)."""

    png_effort: int = DEFAULT_PNG_EFFORT
    raw_msb_first: bool = True
    raw_row_padding: bool = True
    raw_pages: bool = False
    raw_planes: bool = False
    rgb565_big_endian: bool = False
    webp_method: int = DEFAULT_WEBP_METHOD
    rotate: int = 0

    @property
    def layout(self) -> str:
        """The raw and C files' pixel layout: ``pages``, ``planes`` or ``indices``."""
        return "pages" if self.raw_pages else "planes" if self.raw_planes else "indices"

    def validated(self) -> "FileOptions":
        if self.raw_pages and self.raw_planes:
            raise ParameterError("raw_pages and raw_planes are two layouts of the raw file: give "
                                 "one", parameters=("raw_pages", "raw_planes"))
        if self.png_effort not in PNG_EFFORTS:
            raise ParameterError(f"png_effort must be one of {', '.join(map(str, PNG_EFFORTS))}, "
                                 f"got {self.png_effort}")
        if self.webp_method not in WEBP_METHODS:
            raise ParameterError(f"webp_method must be 0 to 6, got {self.webp_method}")
        if self.rotate not in ROTATIONS:
            raise ParameterError(f"rotate must be one of {', '.join(map(str, ROTATIONS))}, got "
                                 f"{self.rotate!r}", parameters=("rotate",))
        return self


def parse_formats(text: str | Iterable[str] | None) -> tuple[str, ...]:
    """Formats from a comma-separated list (or names), checked, in the order given, each once."""
    if text is None:
        return DEFAULT_FORMATS
    names = [n.strip().lower() for n in (text.split(",") if isinstance(text, str) else text)]
    names = [n for n in names if n]
    unknown = [n for n in names if n not in FORMATS]
    if unknown or not names:
        what = f"unknown format {unknown[0]!r}" if unknown else "no format given"
        raise ParameterError(f"{what} (choose from {', '.join(FORMATS)})")
    return tuple(dict.fromkeys(names))


def check_formats(formats: tuple[str, ...], k: int) -> None:
    """Refuse, before any work, a format that cannot hold ``k`` colours."""
    if "gif" in formats and k > GIF_MAX_K:
        raise ParameterError(f"gif holds at most {GIF_MAX_K} colours; K={k} needs another format")


def as_written(image: Image, formats: tuple[str, ...]) -> Image:
    """``image`` as every file of ``formats`` can hold it: where a GIF is among them, its alpha
    all or nothing (:data:`GIF_ALPHA_THRESHOLD`), with :data:`GIF_ALPHA_NOTE`."""
    import numpy as np

    from ..core.colorstats import binary_alpha

    if "gif" not in formats:
        return image
    pixels, partial = binary_alpha(image.pixels, GIF_ALPHA_THRESHOLD)
    if not partial:
        return image
    if (pixels[..., 3] == 255).all():  # an Image has alpha only where some pixel is not opaque
        pixels = np.ascontiguousarray(pixels[..., :3])
    return replace(image, pixels=pixels, notes=(*image.notes, GIF_ALPHA_NOTE))


def output_path(source: Path, out_dir: Path | None, fmt: str) -> Path:
    """Where ``fmt`` of ``source`` goes: ``<out>/<stem>.qnt``, ``<out>/<stem>.preview.png``, …"""
    from .files import tagged_name

    folder = out_dir if out_dir is not None else source.parent
    if fmt in _IMAGES:
        return folder / tagged_name(source.stem, "preview", _IMAGES[fmt])
    return folder / (source.stem + _SUFFIX[fmt])


def output_paths(source: Path, out_dir: Path | None, formats: Iterable[str] = FORMATS,
                 out_file: Path | None = None) -> dict[str, Path]:
    """:func:`output_path` for each format (every one by default: what could collide), or
    ``out_file`` for the one format written when the caller names the file."""
    from .files import display_name

    formats = tuple(formats)
    if out_file is None:
        return {fmt: output_path(source, out_dir, fmt) for fmt in formats}
    if out_dir is not None or len(formats) != 1:
        raise ParameterError(f"out_file names the one file of one format, not of "
                             f"{', '.join(formats)}{' and an out_dir' * (out_dir is not None)}",
                             parameters=("out_file",))
    out_file = Path(out_file)
    named = format_named_by(out_file)
    if named is not None and named != formats[0]:  # a PNG called x.webp, say
        raise ParameterError(f"out_file {display_name(out_file.name)} names a {named} file, but "
                             f"the format written is {formats[0]}: give formats='{named}'",
                             parameters=("out_file",))
    return {formats[0]: out_file}


def format_named_by(path: Path) -> str | None:
    """The format whose files end as ``path`` does (``small.png``: png), or None."""
    suffix = path.suffix.lower()
    return next((fmt for fmt, end in {**_SUFFIX, **_IMAGES}.items() if end == suffix), None)


def encode_one(fmt: str, palette: np.ndarray, indices: np.ndarray, *, codec: str, stem: str,
               files: FileOptions = FileOptions()) -> bytes:
    """The bytes of one format for ``palette`` and ``indices`` (turned as ``files`` says)."""
    import numpy as np

    from . import container, exports, formats

    if files.rotate:
        indices = np.ascontiguousarray(np.rot90(indices, -files.rotate // 90))
    if fmt == "qnt":
        return container.encode(palette, indices, codec=codec)
    if fmt == "png":
        return formats.encode_png(palette, indices, effort=files.png_effort)
    if fmt == "webp":
        return formats.encode_webp(palette, indices, method=files.webp_method)
    if fmt == "gif":
        return formats.encode_gif(palette, indices)
    layout = files.layout
    if fmt in ("c", "raw") and layout in _HOLDS:
        _check_layout(palette, layout)
    if fmt == "c":  # the header holds the panel's buffers as the .raw does
        # the order is warned of once before any work (the command line), not for every file
        return exports.c_header(stem, palette, indices, layout, msb_first=files.raw_msb_first,
                                order_warning=False)
    if fmt == "raw" and files.raw_pages:
        return exports.page_bytes(indices, top_in_msb=files.raw_msb_first)
    if fmt == "raw" and files.raw_planes:
        return exports.plane_bytes(indices, msb_first=files.raw_msb_first)
    if fmt == "raw":
        return exports.raw_indices(indices, exports.index_bits(len(palette)),
                                   msb_first=files.raw_msb_first, row_padding=files.raw_row_padding)
    return exports.rgb565(palette, indices, big_endian=files.rgb565_big_endian)


_HOLDS = {"pages": (2, "--raw-rows pages holds 2 colours (1 bit a pixel)"),
          "planes": (3, "--raw-rows planes holds 3 colours (black, white and red)")}


def _check_layout(palette: np.ndarray, layout: str) -> None:
    """Refuse for the panel ``layout`` a palette it does not take, by the one check of the raw and
    c files and the command line (:func:`~quantize.io.exports.check_panel_palette`), or one
    holding the transparent pixels' entry: the command line checks the palette given, but
    transparent pixels add an entry, which the panel would show as its colour of that code."""
    from .exports import check_panel_palette

    if palette.shape[1] == 4 and bool((palette[:, 3] < 255).any()):
        most, holds = _HOLDS[layout]
        raise ParameterError(holds + (f", not {len(palette)}" if len(palette) > most else "")
                             + ": the transparent pixels take an entry of their own; flatten the "
                               "image onto the panel's background first")
    check_panel_palette(layout, len(palette))


def encode_all(palette: np.ndarray, indices: np.ndarray, formats: tuple[str, ...], *, codec: str,
               stem: str, files: FileOptions = FileOptions()) -> dict[str, bytes]:
    """Every format's bytes, encoded side by side (the encoders release the GIL)."""
    def one(fmt: str) -> bytes:
        return encode_one(fmt, palette, indices, codec=codec, stem=stem, files=files)

    if len(formats) == 1:
        return {formats[0]: one(formats[0])}
    with ThreadPoolExecutor(min(len(formats), 4)) as pool:
        return dict(zip(formats, pool.map(one, formats)))
