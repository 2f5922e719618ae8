"""Reading and writing palette files, dispatched by format name, file extension or content."""

from __future__ import annotations

import os
from pathlib import Path, PurePath
from typing import Callable, NamedTuple

import numpy as np

from ...errors import FormatError, InputError, ParameterError, QuantizeError
from ..files import display_name, ensure_dir, open_input, read_input, write_bytes
from . import adobe, apps, gimp, images, web
from .model import MAX_COLORS, Palette, too_many_colors


class FormatInfo(NamedTuple):
    """A palette format's file extension (unique, so several formats can share a folder), what it is,
    and the most colours it (or its app) holds."""

    ext: str
    description: str
    limit: int | None = None


class _Spec(NamedTuple):
    info: FormatInfo
    encode: Callable[[Palette], bytes]
    decode: Callable[[bytes, str], Palette]


_SPECS: dict[str, _Spec] = {
    "gpl": _Spec(FormatInfo(".gpl", "GIMP palette (GIMP, Inkscape, Krita, Aseprite)"),
                 gimp.encode_gpl, gimp.decode_gpl),
    "ase": _Spec(FormatInfo(".ase", "Adobe Swatch Exchange (Illustrator, InDesign, Photoshop)"),
                 adobe.encode_ase, adobe.decode_ase),
    "aco": _Spec(FormatInfo(".aco", "Photoshop colour swatches", 65535),
                 adobe.encode_aco, adobe.decode_aco),
    "act": _Spec(FormatInfo(".act", "Adobe colour table (Photoshop indexed colour)", 256),
                 adobe.encode_act, adobe.decode_act),
    "kpl": _Spec(FormatInfo(".kpl", "Krita palette"), apps.encode_kpl, apps.decode_kpl),
    "procreate": _Spec(FormatInfo(".swatches", "Procreate swatches", 30),
                       apps.encode_procreate, apps.decode_procreate),
    "sketch": _Spec(FormatInfo(".sketchpalette", "Sketch Palettes plugin palette"),
                    apps.encode_sketch, apps.decode_sketch),
    "paintnet": _Spec(FormatInfo(".txt", "Paint.NET palette", 96),
                      gimp.encode_paintnet, gimp.decode_paintnet),
    "jasc": _Spec(FormatInfo(".pal", "JASC / Paint Shop Pro palette (Aseprite)"),
                  gimp.encode_jasc, gimp.decode_jasc),
    "riff": _Spec(FormatInfo(".riff.pal", "Microsoft RIFF palette", 65535),
                  gimp.encode_riff, gimp.decode_riff),
    "css": _Spec(FormatInfo(".css", "CSS custom properties"), web.encode_css, web.decode_css),
    "scss": _Spec(FormatInfo(".scss", "SCSS variables and map"), web.encode_scss, web.decode_css),
    "tailwind": _Spec(FormatInfo(".theme.css", "Tailwind CSS v4 @theme"), web.encode_tailwind, web.decode_css),
    "tailwind3": _Spec(FormatInfo(".tailwind.json", "Tailwind CSS v3 colours object"),
                       web.encode_tailwind3, web.decode_json),
    "json": _Spec(FormatInfo(".json", "JSON: name, hex, RGB, OKLCH, share"), web.encode_json, web.decode_json),
    "hex": _Spec(FormatInfo(".hex", "hex list, one colour per line (Lospec)"), web.encode_hex, web.decode_hex),
    "png": _Spec(FormatInfo(".swatch.png", "1xN swatch PNG, one pixel per colour"), images.encode_png,
                 images.decode_image),
    "strip": _Spec(FormatInfo(".strip.png", "presentation PNG: bands by share, hex labels", 256),
                   images.encode_strip, images.decode_strip),
}

FORMATS: dict[str, FormatInfo] = {name: spec.info for name, spec in _SPECS.items()}
#: What an exported swatch's name holds: the name and its share (``teal (12.3%)``), or the name alone.
SWATCH_NAMES = ("share", "plain")
# The formats whose only place for a share is the name (or the comment beside it).
_SHARE_IN_NAMES = frozenset({"gpl", "ase", "aco", "kpl", "paintnet", "css", "scss", "tailwind"})

# The formats that write every colour opaque, but for the one colour ACT marks as its transparent
# index.
_OPAQUE = frozenset({"gpl", "ase", "aco", "act", "kpl", "jasc", "riff"})

# Content signatures, checked before the extension.
_MAGIC = ((b"ASEF", "ase"), (b"GIMP Palette", "gpl"), (b"JASC-PAL", "jasc"),
          (b"\xef\xbb\xbfGIMP Palette", "gpl"), (b"KDE RGB Palette", "gpl"))
# Enough of a file's first bytes to hold every signature above, and RIFF's form type (bytes 8-11)
_SIGNATURE_BYTES = max(12, *(len(magic) for magic, _ in _MAGIC))
# Extensions whose content has no signature; anything else falls back to reading an image.
_BY_SUFFIX = {".aco": "aco", ".act": "act", ".gpl": "gpl", ".ase": "ase", ".kpl": "kpl",
              ".swatches": "procreate", ".sketchpalette": "sketch", ".json": "json", ".css": "css",
              ".scss": "css", ".hex": "hex", ".pal": "jasc"}


def resolve_format(name: str) -> str:
    """A format name from a name (``gpl``) or an extension (``.swatches``, ``swatches``)."""
    key = name.strip().lower()
    if key in _SPECS:
        return key
    for fmt, spec in _SPECS.items():
        if spec.info.ext.lstrip(".") == key.lstrip("."):
            return fmt
    raise ParameterError(f"unknown palette format {name!r}; choose from {', '.join(_SPECS)}")


def format_named_by(path: str | os.PathLike[str]) -> str | None:
    """The format whose files end as ``path`` does (the longest matching extension: ``.theme.css``
    is tailwind, ``.css`` css; a bare ``.png`` none), or None."""
    name = Path(path).name.lower()
    longest_first = sorted(_SPECS.items(), key=lambda item: -len(item[1].info.ext))
    return next((fmt for fmt, spec in longest_first if name.endswith(spec.info.ext)), None)


def format_for_path(path: str | os.PathLike[str]) -> str:
    """The format a file name asks for, by its (longest matching) extension."""
    fmt = format_named_by(path)
    if fmt is not None:
        return fmt
    if Path(path).name.lower().endswith(".png"):  # a PNG the caller names: the swatch it asks for
        return "png"
    raise ParameterError(f"cannot tell the palette format of {path}; name one of {', '.join(_SPECS)}")


def check_capacity(fmt: str, n: int, *, truncate: bool = False, asked: bool = False) -> None:
    """Raise ParameterError naming the limit when format ``fmt`` cannot hold ``n`` colours (ACT 256,
    Procreate 30, Paint.NET 96, a strip 256), unless ``truncate`` (keep the first colours) is
    allowed; ``asked``: ``n`` is the K asked for, before any fit."""
    fmt = resolve_format(fmt)
    limit = _SPECS[fmt].info.limit
    if limit is not None and n > limit and not truncate:
        has = f"K = {n} was asked for" if asked else f"this one has {n}"
        raise ParameterError(f"{fmt} palettes hold at most {limit} colours, {has} "
                             f"(use fewer colours, or truncate=True to keep the first {limit})",
                             parameters=("truncate=True",))


def encode_palette(palette: Palette, fmt: str, *, truncate: bool = False,
                   swatch_names: str = "share") -> bytes:
    """The bytes of ``palette`` in format ``fmt`` (a name or extension).

    A palette longer than the format holds raises ParameterError naming the limit (see
    :func:`check_capacity`), unless ``truncate`` keeps its first colours in their current order.
    ``swatch_names`` (:data:`SWATCH_NAMES`): ``plain`` leaves the share out of the names of the
    formats that carry it there; a share field of its own (JSON's, the strip's bands) is kept.
    """
    fmt = resolve_format(fmt)
    spec = _SPECS[fmt]
    if swatch_names not in SWATCH_NAMES:
        raise ParameterError(f"unknown swatch names {swatch_names!r}; choose {' or '.join(SWATCH_NAMES)}")
    if len(palette) == 0:
        raise ParameterError("an empty palette cannot be written")
    check_capacity(fmt, len(palette), truncate=truncate)
    if spec.info.limit is not None:
        palette = palette.head(spec.info.limit)
    if swatch_names == "plain" and fmt in _SHARE_IN_NAMES:
        palette = Palette(palette.colors, None, palette.names, palette.title)
    return spec.encode(palette)


def written_opaque(palette: Palette, fmt: str) -> list[int]:
    """The indices of the colours of ``palette`` (as :func:`encode_palette` writes it, up to the
    format's limit) that format ``fmt`` writes opaque though they are not: those with alpha below
    255, in the formats without alpha (``gpl``, ``ase``, ``aco``, ``kpl``, ``jasc``, ``riff``, and
    ``act`` but for its transparent index, the first fully transparent colour)."""
    fmt = resolve_format(fmt)
    if fmt not in _OPAQUE:
        return []
    alpha = palette.alpha[:_SPECS[fmt].info.limit]
    lost = np.flatnonzero(alpha < 255)
    if fmt == "act" and (alpha == 0).any():
        lost = lost[lost != np.argmax(alpha == 0)]
    return lost.tolist()


def write_palette(palette: Palette, path: str | os.PathLike[str], fmt: str | None = None, *,
                  truncate: bool = False, force: bool = False, swatch_names: str = "share") -> Path:
    """Write ``palette`` to ``path`` atomically, in ``fmt`` or the format its extension names (see
    :func:`encode_palette` for ``truncate`` and ``swatch_names``)."""
    target = Path(path)
    data = encode_palette(palette, fmt or format_for_path(target), truncate=truncate,
                          swatch_names=swatch_names)
    ensure_dir(target.parent if str(target.parent) else Path("."))
    write_bytes(target, data, force=force)
    return target


def signed_format(data: bytes) -> str | None:
    """The format whose signature the bytes start with (ASE, GIMP and KDE, JASC, RIFF), or None."""
    for magic, fmt in _MAGIC:
        if data.startswith(magic):
            return fmt
    if data.startswith(b"RIFF") and data[8:12] == b"PAL ":
        return "riff"
    return None


def is_signed_palette(path: str | os.PathLike[str]) -> bool:
    """Whether the file ``path`` starts with a palette format's signature, whatever its name (KDE's
    colour collections have none, or ``.colors``); False when it cannot be read, for the reader
    it goes to to say why."""
    try:
        with open_input(path, "palette", allow_empty=True) as (fh, _):
            return signed_format(fh.read(_SIGNATURE_BYTES)) is not None
    except InputError:
        return False


def sniff_format(data: bytes, source: str) -> str:
    """The format of palette bytes: by signature, then by the extension of ``source``, else image."""
    signed = signed_format(data)
    if signed is not None:
        return signed
    suffix = Path(source).suffix.lower()
    if data.startswith(b"PK\x03\x04"):
        if suffix in (".swatches", ".kpl"):
            return _BY_SUFFIX[suffix]
        return "procreate" if b"swatches.json" in data.lower() else "kpl"
    if suffix == ".txt":
        return "paintnet" if data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b";") else "hex"
    return _BY_SUFFIX.get(suffix, "png")


def decode_palette(data: bytes, fmt: str | None = None, source: str = "<palette>") -> Palette:
    """A palette from file bytes in ``fmt`` (sniffed when None); ``source`` names the file in errors."""
    fmt = resolve_format(fmt) if fmt else sniff_format(data, source)
    decode = _SPECS[fmt].decode
    try:
        palette = decode(data, source)
    except (FormatError, MemoryError):
        raise
    except RecursionError:
        raise FormatError(f"{source}: nested too deeply to be a palette") from None
    except QuantizeError as exc:  # e.g. the Palette type refusing the values read
        raise FormatError(f"{source}: {exc}") from None
    except Exception as exc:  # whatever the bytes, one line naming the file, never a traceback
        raise FormatError(f"{source}: not a readable {fmt} palette ({type(exc).__name__}: {exc})") \
            from None
    if len(palette) == 0:
        raise FormatError(f"{source}: the palette holds no colours")
    if len(palette) > MAX_COLORS:  # a strip's carried palette; the other readers stop at the limit
        raise too_many_colors(source)
    named = format_named_by(source)
    if named is not None and palette.title == PurePath(source).stem:  # the file gave none
        title = PurePath(source).name[:-len(_SPECS[named].info.ext)]
        palette = Palette(palette.colors, palette.shares, palette.names, title)
    return palette


def read_palette(path: str | os.PathLike[str]) -> Palette:
    """Read a palette file: gpl, ase, aco, act, kpl, swatches, sketchpalette, Paint.NET txt, JASC or
    RIFF pal, css/scss, json, a hex list (.hex/.txt), or an image (its distinct colours, or the
    pixels of a 1xN strip). Malformed files raise FormatError naming the file and the problem."""
    data = read_input(path, "palette", allow_empty=True)
    return decode_palette(data, source=display_name(path))
