"""Adobe palettes: Swatch Exchange (.ase), Photoshop Color Swatch (.aco), Color Table (.act).

All three are big-endian and RGB only: alpha is dropped, except that ACT marks the first fully
transparent colour as its transparent index. ASE and ACO carry each colour's share in its name.
Readers also accept CMYK, Lab, grey and HSB swatches, converted to sRGB without an ICC profile
(CMYK naively; Lab under D50, as Adobe stores it), so brand swatch books from Illustrator or
Photoshop load approximately.
"""

from __future__ import annotations

import colorsys
import struct

import numpy as np

from ...core.colorspace import lab_d50_to_linear
from ...errors import FormatError
from .reading import ByteReader
from .model import (Palette, fitted_label, from_entries, hex_code, labels_with_shares, share_list,
                    srgb8_converted, warn_clipped)

_ASE_GROUP_START, _ASE_GROUP_END, _ASE_COLOR = 0xC001, 0xC002, 0x0001
_ASE_NORMAL = 2  # colour type: 0 global, 1 spot, 2 normal (process)
_ASE_NAME_UNITS = 0xFFFF - 1  # a name's 16-bit length counts its NUL too
_ACO_RGB, _ACO_HSB, _ACO_CMYK, _ACO_LAB, _ACO_GRAY = 0, 1, 2, 7, 8
_ACO_SPACES = {3: "Pantone", 4: "Focoltone", 5: "Trumatch", 6: "Toyo", 10: "HKS"}


def _utf16z(text: str, length_fmt: str) -> bytes:
    """Length in UTF-16 code units counting the terminator, then UTF-16BE text and a NUL unit."""
    encoded = text.encode("utf-16-be")
    return struct.pack(length_fmt, len(encoded) // 2 + 1) + encoded + b"\0\0"


def _read_utf16z(reader: ByteReader, length_fmt: str) -> str:
    (units,) = reader.unpack(length_fmt, "name length")
    raw = reader.take(2 * units, "name")
    try:
        return raw.decode("utf-16-be").rstrip("\0")
    except UnicodeDecodeError:
        raise reader.fail("a name is not valid UTF-16") from None


def _cmyk_to_rgb8(c: float, m: float, y: float, k: float) -> tuple[int, int, int]:
    """Ink fractions -> sRGB bytes, naive (no profile)."""
    return tuple(int(round(255 * (1 - v) * (1 - k))) for v in (c, m, y))  # type: ignore[return-value]


def _lab_to_rgb8(lab: tuple[float, float, float], source: str, what: str,
                 clipped: list[str]) -> tuple[int, ...]:
    """Photoshop's and Illustrator's Lab, which is under D50 (the ICC's white), as sRGB bytes;
    ``what`` joins ``clipped`` when sRGB cannot show it."""
    return srgb8_converted(lab_d50_to_linear, lab, source, what, clipped)


def _unit_to_byte(values: tuple[float, ...]) -> tuple[int, ...]:
    return tuple(int(round(255 * min(max(v, 0.0), 1.0))) for v in values)


# --- ASE -------------------------------------------------------------------------------------------

def encode_ase(palette: Palette) -> bytes:
    """Adobe Swatch Exchange 1.0: one group named after the title holding every colour as an RGB
    swatch of type Normal; names are UTF-16BE with a length counting UTF-16 units and the NUL, so
    a longer name than that length can count is cut short."""
    title = fitted_label(palette.title, None, _ASE_NAME_UNITS, "utf-16-be", "quantize")
    blocks = [(_ASE_GROUP_START, _utf16z(title, ">H"))]
    shares = share_list(palette)
    for name, share, rgb, hex_ in zip(palette.labels, shares, palette.rgb, palette.hex):
        label = fitted_label(name, share, _ASE_NAME_UNITS, "utf-16-be", hex_)
        values = struct.pack(">3f", *(rgb.astype(np.float32) / np.float32(255)))
        blocks.append((_ASE_COLOR, _utf16z(label, ">H") + b"RGB " + values + struct.pack(">H", _ASE_NORMAL)))
    blocks.append((_ASE_GROUP_END, b""))
    body = b"".join(struct.pack(">HI", kind, len(data)) + data for kind, data in blocks)
    return b"ASEF" + struct.pack(">HHI", 1, 0, len(blocks)) + body


def decode_ase(data: bytes, source: str) -> Palette:
    """Read every colour swatch of an ASE file, grouped or not; the first group names the palette."""
    reader = ByteReader(data, source)
    magic = reader.take(4, "signature")
    if magic != b"ASEF":
        raise reader.fail(f"not an Adobe Swatch Exchange file (signature {magic!r}, expected b'ASEF')")
    major, _minor, count = reader.unpack(">HHI", "header")
    if major != 1:
        raise reader.fail(f"ASE version {major} is not supported (expected 1)")
    entries, title, blocks, clipped = [], None, 0, []
    while reader.remaining:
        kind, length = reader.unpack(">HI", "block header")
        block = ByteReader(reader.take(length, "block"), source)
        blocks += 1
        if kind == _ASE_GROUP_START:
            title = title or _read_utf16z(block, ">H")
        elif kind == _ASE_COLOR:
            name = _read_utf16z(block, ">H")
            what = f"swatch {name!r}" if name else f"swatch {len(entries) + 1}"
            entries.append((_ase_color(block, what, clipped), name))
        elif kind != _ASE_GROUP_END:
            raise reader.fail(f"unknown ASE block type 0x{kind:04x}")
    if blocks < count:
        raise reader.fail(f"truncated: the header announces {count} blocks but the file holds {blocks}")
    warn_clipped(clipped, source)
    return from_entries(entries, source, title)


def _ase_color(block: ByteReader, what: str, clipped: list[str]) -> tuple[int, ...]:
    model = block.take(4, "colour model")
    sizes = {b"RGB ": 3, b"LAB ": 3, b"CMYK": 4, b"Gray": 1}
    if model not in sizes:
        raise block.fail(f"{what}: unknown ASE colour model {model!r}")
    values = block.unpack(f">{sizes[model]}f", "colour values")
    if model == b"RGB ":
        return _unit_to_byte(values)
    if model == b"Gray":
        return _unit_to_byte(values * 3)
    if model == b"CMYK":
        return _cmyk_to_rgb8(*values)
    return _lab_to_rgb8((values[0] * 100, values[1], values[2]), block.source, what, clipped)


# --- ACO -------------------------------------------------------------------------------------------

def encode_aco(palette: Palette) -> bytes:
    """Photoshop swatches: a version 1 section, then a version 2 section with the same colours and
    UTF-16BE names (length in UTF-16 units counting the NUL); 8-bit values become 16-bit by x257."""
    rgb16 = palette.rgb.astype(np.uint32) * 257
    colors = [struct.pack(">5H", _ACO_RGB, *c, 0) for c in rgb16.tolist()]
    names = [_utf16z(label, ">I") for label in labels_with_shares(palette)]
    v1 = struct.pack(">HH", 1, len(colors)) + b"".join(colors)
    v2 = struct.pack(">HH", 2, len(colors)) + b"".join(c + n for c, n in zip(colors, names))
    return v1 + v2


def decode_aco(data: bytes, source: str) -> Palette:
    """Read the version 2 section (with names) when present, else the version 1 section. Photoshop
    writes the same colours in both: a version 2 section that disagrees with version 1 (another
    count, another colour: a name length that is off shifts every colour after it) is refused, as
    neither section can be trusted over the other."""
    reader = ByteReader(data, source)
    version, count = reader.unpack(">HH", "header")
    v1, clipped = None, []
    if version == 1:
        v1 = [(_aco_color(reader, f"colour {i + 1}", clipped), None) for i in range(count)]
        if reader.remaining == 0:
            warn_clipped(clipped, source)
            return from_entries(v1, source)
        clipped = []  # the version 2 section's colours are the ones read
        version, count = reader.unpack(">HH", "version 2 header")
        if version != 2:
            raise reader.fail(f"expected the version 2 section after version 1, found version {version}")
    elif version != 2:
        raise reader.fail(f"not a Photoshop swatch file (version {version}, expected 1 or 2)")
    entries = []
    for i in range(count):
        color = _aco_color(reader, f"colour {i + 1}", clipped)
        entries.append((color, _read_utf16z(reader, ">I")))
    if v1 is not None:
        _check_versions_agree([c for c, _ in v1], [c for c, _ in entries], source)
    warn_clipped(clipped, source)
    return from_entries(entries, source)


def _check_versions_agree(v1: list[tuple[int, ...]], v2: list[tuple[int, ...]], source: str) -> None:
    """FormatError when the version 2 colours are not those of version 1."""
    if len(v2) != len(v1):
        problem = f"{len(v2)} colours, version 1 {len(v1)}"
    else:
        diff = next((i for i, (a, b) in enumerate(zip(v1, v2)) if a != b), None)
        if diff is None:
            return
        problem = f"colour {diff + 1} is {hex_code(v2[diff])} in it, {hex_code(v1[diff])} in version 1"
    raise FormatError(f"{source}: the version 2 section disagrees with version 1 ({problem}): the file "
                      "is damaged")


def _aco_color(reader: ByteReader, what: str, clipped: list[str]) -> tuple[int, ...]:
    space, w, x, y, z = reader.unpack(">H4H", what)
    if space == _ACO_RGB:
        return tuple(int(round(v / 257)) for v in (w, x, y))
    if space == _ACO_HSB:
        return _unit_to_byte(colorsys.hsv_to_rgb(w / 65536, x / 65535, y / 65535))
    if space == _ACO_CMYK:  # 0 means 100 % ink
        return _cmyk_to_rgb8(*(1 - v / 65535 for v in (w, x, y, z)))
    if space == _ACO_LAB:
        a, b = struct.unpack(">2h", struct.pack(">2H", x, y))
        return _lab_to_rgb8((w / 100, a / 100, b / 100), reader.source, what, clipped)
    if space == _ACO_GRAY:  # 0..10000 of black ink
        return _unit_to_byte((1 - min(w, 10000) / 10000,) * 3)
    raise reader.fail(f"{what}: colour space {space} ({_ACO_SPACES.get(space, 'unknown')}) is not supported")


# --- ACT -------------------------------------------------------------------------------------------

def encode_act(palette: Palette) -> bytes:
    """768 bytes of RGB (unused entries black), then the big-endian colour count and transparent
    index: the first fully transparent colour, or 0xFFFF for none. At most 256 colours."""
    transparent = np.flatnonzero(palette.alpha == 0)
    index = int(transparent[0]) if len(transparent) else 0xFFFF
    return palette.rgb.tobytes().ljust(768, b"\0") + struct.pack(">HH", len(palette), index)


def decode_act(data: bytes, source: str) -> Palette:
    """Read a 768-byte (256 colours) or 772-byte (count and transparent index) colour table."""
    reader = ByteReader(data, source)
    if len(data) not in (768, 772):
        raise reader.fail(f"an ACT file is 768 or 772 bytes long, this one is {len(data)}")
    rgb = np.frombuffer(reader.take(768, "colour table"), dtype=np.uint8).reshape(256, 3)
    count, transparent = reader.unpack(">HH", "count") if reader.remaining else (256, 0xFFFF)
    if not 0 < count <= 256:
        raise reader.fail(f"colour count {count} is outside 1..256")
    entries = [((*c, 0 if i == transparent else 255), None) for i, c in enumerate(rgb[:count].tolist())]
    return from_entries(entries, source)
