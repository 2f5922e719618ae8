"""Careful reading of palette files: every short read or undecodable text is a FormatError naming the file."""

from __future__ import annotations

import json
import re
import struct
import sys
from typing import Any, Iterator

from ...errors import FormatError
from .model import MAX_COLORS, too_many_colors


class ByteReader:
    """Reads ``data`` front to back; ``source`` names the file in error messages."""

    def __init__(self, data: bytes, source: str) -> None:
        self.data = data
        self.source = source
        self.pos = 0

    @property
    def remaining(self) -> int:
        """Bytes not read yet."""
        return len(self.data) - self.pos

    def take(self, n: int, what: str) -> bytes:
        """The next ``n`` bytes, or FormatError saying that ``what`` is cut short."""
        if n > self.remaining:
            raise FormatError(f"{self.source}: truncated: {what} needs {n} bytes at offset {self.pos}, "
                              f"only {self.remaining} left")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def unpack(self, fmt: str, what: str) -> tuple:
        """``struct.unpack(fmt)`` of the next bytes."""
        return struct.unpack(fmt, self.take(struct.calcsize(fmt), what))

    def fail(self, problem: str) -> FormatError:
        """A FormatError naming the file and the offset reached."""
        return FormatError(f"{self.source}: {problem} (at offset {self.pos})")


def decode_text(data: bytes, source: str) -> str:
    """UTF-8 text (a leading BOM is skipped), else FormatError."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FormatError(f"{source}: not UTF-8 text (bad byte at offset {exc.start})") from None


# Room for 65,536 colours in quantize's JSON, named with a few hundred characters each; the objects
# of a parse take several times the file's bytes, so a bigger file is refused before it is parsed.
MAX_JSON_BYTES = 32 << 20


_JSON_SPACE = re.compile(r"[ \t\n\r]*")
_JSON = json.JSONDecoder()
# A colour list's items with their keys interned, as json.loads memoises them, so that 65,536 objects
# parsed one at a time share their keys.
_ITEM = json.JSONDecoder(object_pairs_hook=lambda pairs: {sys.intern(k): v for k, v in pairs})


def parse_json(data: bytes, source: str, list_key: str) -> Any:
    """The JSON document of a palette file of at most :data:`MAX_JSON_BYTES`, else FormatError. Its
    list of colours, the document itself or its top-level ``list_key``, is parsed an item at a
    time and refused past :data:`MAX_COLORS` items, so a long one costs no more than a full palette."""
    if len(data) > MAX_JSON_BYTES:
        raise FormatError(f"{source}: {len(data):,} bytes, more than a JSON palette takes "
                          f"({MAX_JSON_BYTES:,} at most)")
    text = decode_text(data, source)
    try:
        doc, end = _json_value(text, _JSON_SPACE.match(text).end(), source, list_key)
        end = _JSON_SPACE.match(text, end).end()
        if end != len(text):
            raise json.JSONDecodeError("Extra data", text, end)
    except json.JSONDecodeError as exc:
        raise FormatError(f"{source}: invalid JSON ({exc})") from None
    return doc


def _json_value(text: str, pos: int, source: str, list_key: str | None) -> tuple[Any, int]:
    """(value, end) of the top-level value at ``pos``: an array, or an object's ``list_key``
    array, item by item; anything else whole."""
    if text.startswith("[", pos):
        return _json_list(text, pos, source)
    if not text.startswith("{", pos) or list_key is None:
        return _JSON.raw_decode(text, pos)
    doc: dict[str, Any] = {}
    pos = _JSON_SPACE.match(text, pos + 1).end()
    if text.startswith("}", pos):
        return doc, pos + 1
    while True:
        if not text.startswith('"', pos):
            raise json.JSONDecodeError("Expecting property name enclosed in double quotes", text, pos)
        key, pos = json.decoder.scanstring(text, pos + 1)
        pos = _JSON_SPACE.match(text, pos).end()
        if not text.startswith(":", pos):
            raise json.JSONDecodeError("Expecting ':' delimiter", text, pos)
        pos = _JSON_SPACE.match(text, pos + 1).end()
        doc[key], pos = _json_value(text, pos, source, None) if key == list_key else _JSON.raw_decode(text, pos)
        pos = _JSON_SPACE.match(text, pos).end()
        if text.startswith("}", pos):
            return doc, pos + 1
        if not text.startswith(",", pos):
            raise json.JSONDecodeError("Expecting ',' delimiter", text, pos)
        pos = _JSON_SPACE.match(text, pos + 1).end()


def _json_list(text: str, pos: int, source: str) -> tuple[list[Any], int]:
    """(items, end) of the array at ``pos``, refused as soon as it holds more than a palette."""
    items: list[Any] = []
    pos = _JSON_SPACE.match(text, pos + 1).end()
    if text.startswith("]", pos):
        return items, pos + 1
    while True:
        if len(items) == MAX_COLORS:
            raise too_many_colors(source)
        item, pos = _ITEM.raw_decode(text, pos)
        items.append(item)
        pos = _JSON_SPACE.match(text, pos).end()
        if text.startswith("]", pos):
            return items, pos + 1
        if not text.startswith(",", pos):
            raise json.JSONDecodeError("Expecting ',' delimiter", text, pos)
        pos = _JSON_SPACE.match(text, pos + 1).end()


_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def text_lines(data: bytes, source: str) -> Iterator[str]:
    """The lines of a paint program's text palette, one at a time (a reader stops at the colour
    limit without splitting the rest), broken at LF, CRLF or CR only, as GIMP and the others read
    them (``str.splitlines`` also breaks at U+2028, NEL and other characters a name may hold).
    UTF-8, else Windows-1252 as files from before UTF-8 are (an undefined byte becomes U+FFFD), so
    a name's encoding never loses the colours."""
    try:
        text = decode_text(data, source)
    except FormatError:
        text = data.decode("cp1252", errors="replace")
    start = 0
    for found in _LINE_BREAK.finditer(text):
        yield text[start:found.start()]
        start = found.end()
    yield text[start:]


def parse_byte(text: str, source: str, where: str) -> int:
    """An integer 0..255 written in decimal ASCII digits, else FormatError naming ``where``."""
    # int() alone takes '2_55', '+5' and other scripts' digits, which no paint program writes
    value = int(text) if text.isascii() and text.isdigit() else -1
    if not 0 <= value <= 255:
        raise FormatError(f"{source}: {where}: {text!r} is not a colour value 0..255")
    return value
