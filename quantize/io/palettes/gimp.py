"""Desktop paint programs' palettes: GIMP .gpl (and KDE's colour collections, GIMP's format under
another first line), JASC/Paint Shop Pro .pal, Microsoft RIFF .pal and Paint.NET .txt.

GPL, JASC and RIFF are written RGB only, dropping alpha (GIMP reads no alpha); Aseprite's RGBA
GPL and a fourth JASC value are read as alpha. Paint.NET keeps it (AARRGGBB). GPL carries each
colour's share in its name and Paint.NET in a comment; JASC and RIFF have no room for names or shares.
"""

from __future__ import annotations

import re
import struct
from itertools import islice
from typing import Iterator

from ...errors import FormatError
from .model import Palette, fitted_label, from_entries, hex_code, labels_with_shares, share_list, \
    take_colors
from .reading import ByteReader, parse_byte, text_lines

_GPL_LINE_BYTES = 100  # Pillow's GimpPaletteFile refuses longer colour lines (newline included)
_GPL_MIN_BYTES = 50  # Krita's KoColorSet refuses a shorter GPL file as illegal
_GPL_CHANNELS = {"RGB": 3, "RGBA": 4}  # Aseprite's header for palettes with alpha
_GPL_HEADERS = ("GIMP Palette", "KDE RGB Palette")  # GIMP's, and KColorCollection's when it saves
# the comment Lospec's GIMP files (no Name line) give their title in; its Paint.NET files' starts ';'
_LOSPEC_NAME = "#Palette Name:"


# --- GPL -------------------------------------------------------------------------------------------

def encode_gpl(palette: Palette) -> bytes:
    """``GIMP Palette``, ``Name:``, ``Columns:``, ``#``, then ``r g b<TAB>name`` per colour; UTF-8
    without BOM. Every colour is named (Aseprite drops unnamed ones); names are cut so that a line
    stays under 100 bytes, the limit of Pillow's reader. A file Krita would find too short (one
    colour of short names) gets a comment line giving its count of colours."""
    lines = ["GIMP Palette", f"Name: {palette.title}", f"Columns: {min(max(len(palette), 1), 16)}", "#"]
    for (r, g, b), name, share in zip(palette.rgb.tolist(), palette.labels, share_list(palette)):
        prefix = f"{r:3d} {g:3d} {b:3d}\t"
        lines.append(prefix + fitted_label(name, share, _GPL_LINE_BYTES - 1 - len(prefix), "utf-8",
                                           hex_code((r, g, b))))
    data = ("\n".join(lines) + "\n").encode()
    if len(data) < _GPL_MIN_BYTES:  # GIMP, Pillow and Krita skip '#' lines
        lines.insert(4, f"# {len(palette)} colour{'s' * (len(palette) != 1)}")
        data = ("\n".join(lines) + "\n").encode()
    return data


def decode_gpl(data: bytes, source: str) -> Palette:
    """Read a GIMP palette: header, optional Name/Columns (without Name, Lospec's ``#Palette Name:``
    comment titles it), comments, ``r g b [name]`` lines; with Aseprite's ``Channels: RGBA`` header,
    ``r g b a [name]``. KDE's ``KDE RGB Palette`` (no Name,
    its description in comments) is read the same way."""
    lines = enumerate(text_lines(data, source), start=1)
    if not next(lines, (1, ""))[1].startswith(_GPL_HEADERS):
        raise FormatError(f"{source}: not a GIMP palette (the first line must be 'GIMP Palette', or "
                          "KDE's 'KDE RGB Palette')")
    header: dict[str, str] = {}
    entries = take_colors(_gpl_entries(lines, header, source), source)
    return from_entries(entries, source, header.get("Name"))


def _gpl_entries(lines: Iterator[tuple[int, str]], header: dict[str, str],
                 source: str) -> Iterator[tuple[list[int], str | None]]:
    """The colours of a GPL's numbered lines after the first, one at a time; ``header`` gets the
    Name, Columns and Channels lines as they pass (and Lospec's title comment as the Name)."""
    channels = 3
    for number, line in lines:
        stripped = line.strip()
        if stripped.startswith(_LOSPEC_NAME):  # a Name line, where given, says otherwise
            header.setdefault("Name", stripped[len(_LOSPEC_NAME):].strip())
        if not stripped or stripped.startswith("#"):
            continue
        key, sep, value = stripped.partition(":")
        if sep and key in ("Name", "Columns", "Channels"):
            if key == "Channels":
                channels = _GPL_CHANNELS.get(value.strip(), 0)
                if not channels:
                    raise FormatError(f"{source}: line {number}: {stripped!r} is not supported (RGB or RGBA)")
            header[key] = value.strip()
            continue
        parts = stripped.split(None, channels)
        if len(parts) < channels:
            raise FormatError(f"{source}: line {number}: expected '{' '.join('rgba'[:channels])} name', "
                              f"found {stripped!r}")
        values = [parse_byte(v, source, f"line {number}") for v in parts[:channels]]
        yield values, parts[channels] if len(parts) > channels else None


# --- JASC-PAL --------------------------------------------------------------------------------------

def encode_jasc(palette: Palette) -> bytes:
    """``JASC-PAL``, ``0100``, the count, then ``r g b`` per colour, CRLF line ends."""
    lines = ["JASC-PAL", "0100", str(len(palette))] + [f"{r} {g} {b}" for r, g, b in palette.rgb.tolist()]
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def decode_jasc(data: bytes, source: str) -> Palette:
    """Read a JASC palette (CRLF or LF); a fourth value on a colour line is taken as alpha."""
    lines = (line.strip() for line in text_lines(data, source))
    head = list(islice(lines, 3))
    if len(head) < 3 or head[0] != "JASC-PAL":
        raise FormatError(f"{source}: not a JASC palette (the first line must be 'JASC-PAL')")
    if head[1] != "0100":
        raise FormatError(f"{source}: JASC palette version {head[1]!r} is not supported (expected 0100)")
    if not head[2].isdigit():
        raise FormatError(f"{source}: line 3: colour count {head[2]!r} is not a number")
    count = int(head[2])
    rows = take_colors(islice((line for line in lines if line), count), source)
    if len(rows) < count:
        raise FormatError(f"{source}: truncated: {count} colours announced, {len(rows)} found")
    entries = []
    for number, row in enumerate(rows, start=1):
        values = [parse_byte(v, source, f"colour line {number}") for v in row.split()]
        if len(values) not in (3, 4):
            raise FormatError(f"{source}: colour line {number}: expected 'r g b', found {row!r}")
        entries.append((values, None))
    return from_entries(entries, source)


# --- RIFF PAL --------------------------------------------------------------------------------------

def encode_riff(palette: Palette) -> bytes:
    """Microsoft RIFF palette, little-endian: ``RIFF`` size ``PAL `` and one ``data`` chunk holding a
    LOGPALETTE (version 0x0300, count, then r g b flags=0 per colour)."""
    logpalette = struct.pack("<HH", 0x0300, len(palette)) + b"".join(
        bytes((r, g, b, 0)) for r, g, b in palette.rgb.tolist())
    form = b"PAL " + b"data" + struct.pack("<I", len(logpalette)) + logpalette
    return b"RIFF" + struct.pack("<I", len(form)) + form


def decode_riff(data: bytes, source: str) -> Palette:
    """Read the ``data`` chunk of a RIFF palette, skipping any other chunks."""
    reader = ByteReader(data, source)
    riff, _size, form = reader.unpack("<4sI4s", "RIFF header")
    if riff != b"RIFF" or form != b"PAL ":
        raise reader.fail(f"not a RIFF palette (header {riff!r}/{form!r}, expected b'RIFF'/b'PAL ')")
    while True:
        chunk_id, size = reader.unpack("<4sI", "chunk header")
        chunk = ByteReader(reader.take(size, f"chunk {chunk_id!r}"), source)
        if chunk_id == b"data":
            break
        reader.take(size % 2, "chunk padding")
    _version, count = chunk.unpack("<HH", "LOGPALETTE header")
    entries = [(chunk.take(4, "palette entry")[:3], None) for _ in range(count)]
    return from_entries(entries, source)


# --- Paint.NET -------------------------------------------------------------------------------------

_ARGB = re.compile(r"[0-9A-Fa-f]{6}(?:[0-9A-Fa-f]{2})?")
_PDN_HEADER = [
    "; paint.net Palette File",
    "; Lines that start with a semicolon are comments.",
    "; Colors are written as 8-digit hexadecimal numbers: aarrggbb.",
]


def encode_paintnet(palette: Palette) -> bytes:
    """Paint.NET palette: ``;`` comments, then one ``AARRGGBB`` line per colour, each after a comment
    with its name and share; CRLF line ends. Paint.NET reads at most 96 colours."""
    lines = _PDN_HEADER + [f"; {palette.title}"]
    for (r, g, b, a), label in zip(_rgba(palette), labels_with_shares(palette)):
        lines += [f"; {label}", f"{a:02X}{r:02X}{g:02X}{b:02X}"]
    return ("\r\n".join(lines) + "\r\n").encode()


def decode_paintnet(data: bytes, source: str) -> Palette:
    """Read ``AARRGGBB`` (or ``RRGGBB``) lines; the comment right above each colour is its label
    when every colour has one (as in the files we write); Lospec's ``;Palette Name:`` comment
    titles the palette."""
    header: dict[str, str] = {}
    entries = take_colors(_paintnet_entries(data, source, header), source)
    labelled = all(comment is not None for _, comment in entries)
    return from_entries([(c, label if labelled else None) for c, label in entries], source,
                        header.get("Name"))


def _paintnet_entries(data: bytes, source: str,
                      header: dict[str, str]) -> Iterator[tuple[tuple[int, ...], str | None]]:
    """Each colour with the comment right above it, or None, one at a time; ``header`` gets the
    first ``;Palette Name:`` comment as the Name."""
    comment = None
    for number, raw in enumerate(text_lines(data, source), start=1):
        line = raw.strip()
        if line.startswith(";"):
            comment = line[1:].strip()
            if comment.startswith(_LOSPEC_NAME[1:]):
                header.setdefault("Name", comment[len(_LOSPEC_NAME) - 1:].strip())
            continue
        if line:
            yield _parse_argb(line, source, number), comment
        comment = None


def _parse_argb(text: str, source: str, number: int) -> tuple[int, int, int, int]:
    if not _ARGB.fullmatch(text):  # int(text, 16) alone takes '0xFF0000' and 'FF_00_00'
        raise FormatError(f"{source}: line {number}: {text!r} is not an AARRGGBB colour")
    value = int(text, 16)
    if len(text) == 6:
        value |= 0xFF000000
    return (value >> 16) & 255, (value >> 8) & 255, value & 255, value >> 24


def _rgba(palette: Palette) -> list[tuple[int, int, int, int]]:
    return [(r, g, b, int(a)) for (r, g, b), a in zip(palette.rgb.tolist(), palette.alpha)]
