"""Drawing apps' palettes: Krita .kpl (zip + XML), Procreate .swatches (zip + JSON, HSB) and Sketch
.sketchpalette (JSON, the Sketch Palettes plugin format).

Krita's colour XML has no alpha channel, so KPL drops alpha and keeps the share in each name. Procreate
and Sketch store alpha but no names, so they drop names and shares. Procreate holds at most 30 colours.
Krita's Lab and XYZ swatches (CIELAB and XYZ under D50), its RGB and Gray ones in a profile other
than sRGB (linear, Rec. 2020, Adobe RGB...: see :mod:`.krita_profiles`) and Procreate's Display P3
ones are converted to sRGB, a colour outside it clipped with a warning; a Krita swatch in an ICC
profile the palette embeds is converted by littleCMS; a profile quantize does not know is read as
Krita reads it without the profile, with a warning naming it. A Krita swatch placed outside the
palette's grid is skipped, and one whose place a later one takes is replaced, with a warning, as in
Krita. A Krita CMYK swatch needs its printer's profile, so one without it embedded or an sRGB or Lab
colour beside it is refused.
"""

from __future__ import annotations

import colorsys
import io
import json
import warnings
import zipfile
from typing import Any
from xml.etree import ElementTree as ET

import numpy as np

from ...core.colorspace import (display_p3_to_linear, grey_to_linear, lab_d50_to_linear, rgb_to_linear,
                                xyz_d50_to_linear)
from ...errors import FormatError
from .krita_profiles import EmbeddedProfiles, working_space
from .model import Palette, from_entries, labels_with_shares, parse_hex, srgb8_converted, warn_clipped
from .reading import parse_json

KPL_MIMETYPE = b"krita/x-colorset"
_KRITA_SRGB = "sRGB-elle-V2-srgbtrc.icc"  # the profile Krita gives 8-bit sRGB colours
_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed member dates keep the bytes reproducible
# far more than 65,536 swatches take, so a zip bomb's member is refused before it is unpacked
MAX_MEMBER_BYTES = 64 << 20


def _zip(members: list[tuple[str, bytes, int]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data, compression in members:
            info = zipfile.ZipInfo(name, _EPOCH)
            info.compress_type = compression
            zf.writestr(info, data)
    return buf.getvalue()


def _unzip(data: bytes, member: str, source: str) -> bytes:
    """The archive's ``member``, its name matched in any case (exporters differ), at most
    :data:`MAX_MEMBER_BYTES` unpacked (zipfile reads no more than the size a member declares)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            found = next((i for i in zf.infolist() if i.filename.lower() == member.lower()), None)
            if found is None:
                raise FormatError(f"{source}: the archive has no {member}")
            if found.file_size > MAX_MEMBER_BYTES:
                raise FormatError(f"{source}: {found.filename} unpacks to {found.file_size:,} bytes, more "
                                  f"than a palette takes ({MAX_MEMBER_BYTES:,} at most)")
            return zf.read(found)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as exc:
        raise FormatError(f"{source}: not a readable zip archive ({exc})") from None


def _unit(value: Any, source: str, what: str) -> float:
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise FormatError(f"{source}: {what} {value!r} is not a number in 0..1")
    return float(value)


def _number(value: str | None, source: str, what: str) -> float:
    try:
        number = float(value if value is not None else "nan")
    except ValueError:
        number = float("nan")
    if not np.isfinite(number):
        raise FormatError(f"{source}: {what} {value!r} is not a number")
    return number


def _int(value: str | None, source: str) -> int:
    try:
        return int(value or 0)
    except ValueError:
        raise FormatError(f"{source}: swatch position {value!r} is not a whole number") from None


def _bytes(values: tuple[float, ...] | list[float]) -> tuple[int, ...]:
    return tuple(int(round(255 * v)) for v in values)


# --- Krita KPL -------------------------------------------------------------------------------------

def encode_kpl(palette: Palette) -> bytes:
    """A zip with ``mimetype`` first and stored, then ``colorset.xml`` (ColorSet version 2.0, one
    ColorSetEntry per colour with an 8-bit sRGB ``RGB`` element and its grid Position) and
    ``profiles.xml`` (empty: Krita ships the sRGB profile used)."""
    columns = min(max(len(palette), 1), 16)
    root = ET.Element("ColorSet", {
        "version": "2.0", "name": palette.title, "comment": "", "columns": str(columns),
        "rows": str(-(-len(palette) // columns)), "readonly": "false"})
    for i, ((r, g, b), label, hex_) in enumerate(zip(palette.rgb.tolist(), labels_with_shares(palette),
                                                      palette.hex)):
        entry = ET.SubElement(root, "ColorSetEntry",
                              {"name": label, "id": hex_, "spot": "false", "bitdepth": "U8"})
        ET.SubElement(entry, "RGB", {"space": _KRITA_SRGB, "r": repr(r / 255), "g": repr(g / 255),
                                     "b": repr(b / 255)})
        ET.SubElement(entry, "Position", {"row": str(i // columns), "column": str(i % columns)})
    colorset = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    profiles = ET.tostring(ET.Element("Profiles"), encoding="utf-8", xml_declaration=True)
    return _zip([("mimetype", KPL_MIMETYPE, zipfile.ZIP_STORED),
                 ("colorset.xml", colorset, zipfile.ZIP_DEFLATED),
                 ("profiles.xml", profiles, zipfile.ZIP_DEFLATED)])


def decode_kpl(data: bytes, source: str) -> Palette:
    """Read the RGB, sRGB, Gray and Lab swatches of a Krita palette, grouped or not, in grid order."""
    try:
        root = ET.fromstring(_unzip(data, "colorset.xml", source))
    except ET.ParseError as exc:
        raise FormatError(f"{source}: colorset.xml is not well-formed XML ({exc})") from None
    if root.tag.lower() != "colorset":
        raise FormatError(f"{source}: colorset.xml has root <{root.tag}>, expected <ColorSet>")
    keyed, clipped, unknown, outside, replaced = [], [], {}, [], []
    embedded = _kpl_profiles(data, source)
    columns = _kpl_columns(root.get("columns"))
    for group_index, group in enumerate([root, *root.findall("Group")]):
        grid = _KritaGrid(columns or _KRITA_DEFAULT_COLUMNS)
        for entry in group.findall("ColorSetEntry"):
            name, pos = entry.get("name"), entry.find("Position")
            where = None if pos is None else (_int(pos.get("row"), source), _int(pos.get("column"), source))
            if where is not None and not (where[0] >= 0 and 0 <= where[1] < columns):
                outside.append(_placed(name, where))
                continue
            what = f"swatch {name!r}" if name else f"swatch {len(keyed) + 1}"
            color = _kpl_color(entry, what, source, clipped, unknown, embedded, root.get("version") == "1.0")
            cell, earlier = grid.place(where, len(keyed))
            if earlier is not None:
                replaced.append(_placed(keyed[earlier][1][1], cell))
                keyed[earlier] = None
            keyed.append(((group_index, *cell), (color, name)))
    _warn_dropped(outside, source, f"outside the palette's grid of {columns} column{'s' * (columns != 1)} "
                  "skipped, as Krita skips {them}")
    _warn_dropped(replaced, source, "replaced by a later one at the same place, as Krita replaces {them}")
    _warn_unknown_profiles(unknown, source)
    warn_clipped(clipped, source)
    keyed = [k for k in keyed if k is not None]
    keyed.sort(key=lambda item: item[0])
    return from_entries([e for _, e in keyed], source, root.get("name"))


# Krita caps a palette's columns at this many
_KRITA_MAX_COLUMNS = 4096


def _kpl_columns(value: str | None) -> int:
    """The palette's column count as Krita reads ``columns``: 0 when it is not a whole number, at
    most :data:`_KRITA_MAX_COLUMNS`."""
    try:
        return min(int(value or 0), _KRITA_MAX_COLUMNS)
    except ValueError:
        return 0


def _placed(name: str | None, cell: tuple[int, int]) -> str:
    """A swatch named in a warning by its name (when it has one) and place."""
    return (f"{name!r} " if name else "") + f"at row {cell[0]}, column {cell[1]}"


def _warn_dropped(dropped: list[str], source: str, reason: str) -> None:
    """One warning naming the swatches (the first few) dropped for ``reason``, whose ``{them}``
    becomes "them" or "it"."""
    if dropped:
        n = len(dropped)
        named = "; ".join(dropped[:3]) + ("; ..." if n > 3 else "")
        why = reason.format(them="them" if n > 1 else "it")
        warnings.warn(f"{source}: {n} swatch{'es' if n > 1 else ''} {why} ({named})", stacklevel=2)


# Krita's row width for swatches without a Position when the palette gives no columns
_KRITA_DEFAULT_COLUMNS = 16


class _KritaGrid:
    """A group's cells as Krita fills them: a swatch with a Position takes that cell, replacing the
    one there; one without goes right of the last row's rightmost swatch, or starts the next row
    when that one is full (the first swatch at row 0, column 0)."""

    def __init__(self, columns: int) -> None:
        self._columns = columns
        self._cells: dict[tuple[int, int], int] = {}
        self._last = (0, -1)  # the last row and its rightmost column

    def place(self, where: tuple[int, int] | None, index: int) -> tuple[tuple[int, int], int | None]:
        """The cell of swatch ``index`` (its Position ``where``, or None), and the index of the one
        it replaces (or None)."""
        if where is None:
            row, column = self._last
            where = (row, column + 1) if column + 1 < self._columns else (row + 1, 0)
        earlier = self._cells.get(where)
        self._cells[where] = index
        self._last = max(self._last, where)
        return where, earlier


def _kpl_profiles(data: bytes, source: str) -> EmbeddedProfiles:
    """The ICC profiles ``profiles.xml`` lists (``<Profile name=... filename=...>``, the member holding
    it); as Krita, a missing or malformed list is no profiles, and a missing member no profile."""
    def member(name: str) -> bytes | None:
        try:
            return _unzip(data, name, source)
        except FormatError:
            return None
    listing = member("profiles.xml")
    try:
        root = ET.fromstring(listing) if listing else None
    except ET.ParseError:
        root = None
    files = {} if root is None else {p.get("name"): p.get("filename") for p in root.iter("Profile")
                                       if p.get("name") and p.get("filename")}
    return EmbeddedProfiles(files, member)


# A swatch may give its colour in several models (the Create swatch format Krita follows); the first
# of these it has is read.
_KPL_MODELS = ("sRGB", "RGB", "Gray", "Lab", "XYZ")
# Krita's XYZ is littleCMS's ICC connection space (D50, white Y = 1). Float depths write it as is;
# integer ones write the channel over its maximum, while littleCMS reads 16-bit XYZ (and 8-bit,
# widened to 16) as 1.15 fixed point, 32768 the white's Y.
_KRITA_INT_XYZ_SCALE = 65535 / 32768


def _kpl_color(entry: ET.Element, what: str, source: str, clipped: list[str], unknown: dict[str, int],
               embedded: EmbeddedProfiles, version1: bool) -> tuple[int, ...]:
    """The colour of the swatch ``what`` names as 8-bit sRGB; ``embedded``: the profiles the palette
    carries, for one quantize does not know by name; ``version1``: the file is a ColorSet version
    1.0, whose Lab channels Krita wrote as fractions (see :func:`_krita1_lab`)."""
    models = {c.tag: c for c in entry if c.tag != "Position"}
    if not models:
        raise FormatError(f"{source}: {what} has no colour")
    tag = next((t for t in _KPL_MODELS if t in models), None)
    if tag is None and "CMYK" in models:
        cmyk = models["CMYK"]
        values = [_number(cmyk.get(k), source, f"{what} {k}") for k in "cmyk"]
        converted = _embedded_srgb8(embedded, cmyk.get("space"), "CMYK", values, what, clipped)
        if converted is not None:
            return converted
        raise FormatError(f"{source}: {what} is CMYK, which cannot be converted to sRGB without its "
                          "printer's profile: give it an sRGB or Lab colour in Krita")
    if tag is None:
        raise FormatError(f"{source}: {what}: colour model {next(iter(models))} is not supported "
                          f"({', '.join(_KPL_MODELS)})")
    color = models[tag]
    if tag == "XYZ":
        xyz = [_number(color.get(k), source, f"{what} {k}") for k in "xyz"]
        if (entry.get("bitdepth") or "U8").upper() not in ("F16", "F32"):
            xyz = [v * _KRITA_INT_XYZ_SCALE for v in xyz]
        return srgb8_converted(xyz_d50_to_linear, xyz, source, what, clipped)
    if tag == "Lab":
        lab = [_number(color.get(k), source, f"{what} {k}") for k in "Lab"]
        if version1:
            lab = _krita1_lab(*lab)
        return srgb8_converted(lab_d50_to_linear, lab, source, what, clipped)
    keys = "g" if tag == "Gray" else "rgb"
    if tag == "sRGB":  # as Krita reads it: sRGB whatever profile it names
        space = ("sRGB", "sRGB")
    else:
        profile = color.get("space")
        space, known = working_space(profile, tag, entry.get("bitdepth") or "U8")
        if not known:
            values = [_number(color.get(k), source, f"{what} {k}") for k in keys]
            converted = _embedded_srgb8(embedded, profile, tag, values, what, clipped)
            if converted is not None:
                return converted
            unknown[str(profile)] = unknown.get(str(profile), 0) + 1
    if space == ("sRGB", "sRGB"):
        values = [_unit(color.get(k), source, f"{what} {k}") for k in keys]
        return _bytes(values * 3 if tag == "Gray" else values)
    values = [_number(color.get(k), source, f"{what} {k}") for k in keys]
    if tag == "Gray":
        return srgb8_converted(lambda v: grey_to_linear(v[0], space[1]), values, source, what, clipped)
    return srgb8_converted(lambda v: rgb_to_linear(v, *space), values, source, what, clipped)


def _embedded_srgb8(embedded: EmbeddedProfiles, profile: str | None, model: str, values: list[float],
                    what: str, clipped: list[str]) -> tuple[int, ...] | None:
    """The swatch ``what`` converted by the embedded ``profile`` (None: the palette has no such
    profile); ``what`` joins ``clipped`` when a channel lies outside 0..1, which littleCMS clips."""
    converted = embedded.to_srgb8(profile, model, values)
    if converted is not None and not all(0 <= v <= 1 for v in values):
        clipped.append(what)
    return converted


def _krita1_lab(lightness: float, a: float, b: float) -> list[float]:
    """CIELAB of a Lab swatch as Krita before 4.0 wrote it (ColorSet version 1.0): every channel a
    fraction 0..1, a and b centred on 0.5; undone as Krita undoes it when it reads such a file."""
    def opponent(v: float) -> float:
        return (v - 0.5) * 2 * (128.0 if v <= 0.5 else 127.0)
    return [100 * lightness, opponent(a), opponent(b)]


def _warn_unknown_profiles(unknown: dict[str, int], source: str) -> None:
    """One warning naming the colour profiles quantize does not know (the first few), given the
    number of swatches in each."""
    if unknown:
        n = sum(unknown.values())
        names = ", ".join(repr(p) for p in list(unknown)[:3]) + (", ..." if len(unknown) > 3 else "")
        warnings.warn(f"{source}: {n} swatch{'es' if n > 1 else ''} in a colour profile quantize does not "
                      f"know ({names}), read in Krita's default profile for {'their' if n > 1 else 'its'} "
                      "model and depth (sRGB; linear for float RGB and for greys deeper than 8 bits)",
                      stacklevel=2)


# --- Procreate -------------------------------------------------------------------------------------

def encode_procreate(palette: Palette) -> bytes:
    """A zip holding ``Swatches.json``: ``{"name", "swatches": [{hue, saturation, brightness, alpha,
    colorSpace: 0}]}`` with HSB and alpha as floats 0..1. At most 30 colours."""
    swatches = []
    for (r, g, b), a in zip(palette.rgb.tolist(), palette.alpha.tolist()):
        h, s, v = colorsys.rgb_to_hsv(r / 255, g / 255, b / 255)
        swatches.append({"hue": h, "saturation": s, "brightness": v, "alpha": a / 255, "colorSpace": 0})
    doc = json.dumps({"name": palette.title, "swatches": swatches}, ensure_ascii=False).encode()
    return _zip([("Swatches.json", doc, zipfile.ZIP_DEFLATED)])


# Procreate's colorSpace per swatch, as its canvases are: sRGB or Display P3.
_PROCREATE_SPACES = {0: "sRGB", 1: "Display P3"}


def decode_procreate(data: bytes, source: str) -> Palette:
    """Read ``Swatches.json`` (an object, or a list holding one); empty (null) slots are skipped; a
    Display P3 swatch (``colorSpace`` 1) is converted to sRGB."""
    doc = parse_json(_unzip(data, "Swatches.json", source), source, "swatches")
    if isinstance(doc, list) and doc:
        doc = doc[0]
    if not isinstance(doc, dict) or not isinstance(doc.get("swatches"), list):
        raise FormatError(f"{source}: Swatches.json has no 'swatches' list")
    entries, clipped = [], []
    for i, sw in enumerate(doc["swatches"], start=1):  # slots counted from 1, as users count them
        if sw is None:
            continue
        if not isinstance(sw, dict):
            raise FormatError(f"{source}: swatch {i} is not an object")
        space = sw.get("colorSpace", 0)
        if space not in _PROCREATE_SPACES or isinstance(space, bool):
            spaces = ", ".join(f"{k} {v}" for k, v in _PROCREATE_SPACES.items())
            raise FormatError(f"{source}: swatch {i}: colour space {space!r} is not supported ({spaces})")
        hsb = [_unit(sw.get(k), source, f"swatch {i} {k}") for k in ("hue", "saturation", "brightness")]
        alpha = _unit(sw.get("alpha", 1), source, f"swatch {i} alpha")
        rgb = colorsys.hsv_to_rgb(*hsb)
        if space == 1:
            rgb = srgb8_converted(display_p3_to_linear, rgb, source, f"swatch {i}", clipped)
            entries.append(((*rgb, int(round(255 * alpha))), None))
        else:
            entries.append((_bytes([*rgb, alpha]), None))
    warn_clipped(clipped, source)
    name = doc.get("name")
    return from_entries(entries, source, name if isinstance(name, str) else None)


# --- Sketch ----------------------------------------------------------------------------------------

def encode_sketch(palette: Palette) -> bytes:
    """Sketch Palettes JSON (compatible version 1.4): ``colors`` as red/green/blue/alpha floats 0..1."""
    colors = [{"red": r / 255, "green": g / 255, "blue": b / 255, "alpha": a / 255}
              for (r, g, b), a in zip(palette.rgb.tolist(), palette.alpha.tolist())]
    doc = {"compatibleVersion": "1.4", "pluginVersion": "1.4", "colors": colors}
    return json.dumps(doc, indent=2).encode()


def decode_sketch(data: bytes, source: str) -> Palette:
    """Read ``colors`` as red/green/blue/alpha objects (version 1.4 on) or hex strings (older)."""
    doc = parse_json(data, source, "colors")
    if not isinstance(doc, dict) or not isinstance(doc.get("colors"), list):
        raise FormatError(f"{source}: a Sketch palette needs a 'colors' list")
    entries = []
    for i, c in enumerate(doc["colors"], start=1):
        if isinstance(c, str):
            entries.append((parse_hex(c, source), None))
        elif isinstance(c, dict):
            values = [_unit(c.get(k, 1 if k == "alpha" else None), source, f"colour {i} {k}")
                      for k in ("red", "green", "blue", "alpha")]
            entries.append((_bytes(values), None))
        else:
            raise FormatError(f"{source}: colour {i} is neither an object nor a hex string")
    return from_entries(entries, source)
