"""Quantised images in the forms firmware includes: a C99 header, packed index bytes, a monochrome
OLED's page memory, a tri-colour e-paper's two planes, RGB565 pixels.

Pure functions of the palette and the indices (no files): the caller writes the bytes. Indices are
packed at 1, 2, 4, 8 or 16 bits, the fewest that hold K (never a width that splits a pixel across
bytes, which no display driver unpacks), the first pixel in the most significant bits of the first
byte unless asked otherwise, each row starting on a new byte unless asked otherwise. RGB565 is
(r >> 3) << 11 | (g >> 2) << 5 | b >> 3.
"""

from __future__ import annotations

import re
import unicodedata
import warnings
import zlib

import numpy as np

from ..errors import ParameterError
from .container import bits_per_index

_C_KEYWORDS = frozenset(
    "auto break case char const continue default do double else enum extern float for goto if "
    "inline int long register restrict return short signed sizeof static struct switch typedef "
    "union unsigned void volatile while _Bool _Complex _Imaginary".split())
_PER_LINE = 16  # values per line of a C array
_HEX_DIGITS = np.frombuffer(b"0123456789ABCDEF", np.uint8)
# On AVR the arrays go to flash, where Adafruit GFX's drawBitmap reads a const bitmap from
# (pgm_read_byte); a program may define QUANTIZE_FLASH itself for another chip.
_FLASH = ("#ifndef QUANTIZE_FLASH", "#if defined(__AVR__)", "#include <avr/pgmspace.h>",
          "#define QUANTIZE_FLASH PROGMEM", "#else", "#define QUANTIZE_FLASH", "#endif", "#endif")

#: The layouts written in a panel's own codes: the palette sizes they take, in its order (a
#: 2-colour palette on a tri-colour panel leaves its red plane blank; a single colour has no code
#: of its own to say which ink it is).
PANEL_LAYOUTS = {"pages": ((2,), "2 colours", "bw: black 0, white 1 lit"),
                 "planes": ((2, 3), "3 colours, or 2 with no red,",
                            "bwr: black 0, white 1, red 2; bw: black 0, white 1")}


def check_panel_palette(layout: str, colors: int | None, palette_flag: str = "palette") -> None:
    """Refuse for the panel ``layout`` (``pages``, ``planes``; any other passes) a palette of
    ``colors`` colours (None: a fit) that it does not take, in one :class:`ParameterError` naming
    the palette as ``palette_flag``."""
    if layout not in PANEL_LAYOUTS:
        return
    counts, wanted, order = PANEL_LAYOUTS[layout]
    if colors not in counts:
        # a fitted palette comes in no set order: its ink would be whichever colour came where
        got = "not a fit" if colors is None else f"not one of {colors} colour{'s' * (colors != 1)}"
        raise ParameterError(f"--raw-rows {layout} needs a {palette_flag} of {wanted} in the "
                             f"panel's order ({order}), {got}")


def panel_order_warning(layout: str, palette: np.ndarray,
                        palette_flag: str = "palette") -> str | None:
    """A warning when the panel ``layout``'s ``palette`` (K, 3|4) is out of the panel's order
    (black, white, then the ink's colour), by CIE L*: its colour 0 lighter than its colour 1 (the
    panel shows a negative), or its colour 2 lighter than its colour 1 (white and the ink's
    colour swapped). A user may want either, so it is no error (``palette_flag``: what the caller
    names the palette)."""
    from ..core.colorspace import srgb8_to_lab

    if layout not in PANEL_LAYOUTS or len(palette) < 2:
        return None
    colours = np.asarray(palette)[:3, :3].astype(np.int64)
    lightness = srgb8_to_lab(colours)[:, 0]
    for lighter, darker, shows in ((0, 1, "a negative"), (2, 1, "white and its colour swapped")):
        if lighter < len(colours) and lightness[lighter] > lightness[darker]:
            shown = ["#" + "".join(f"{v:02X}" for v in colours[i].tolist()) for i in (lighter, darker)]
            return (f"the {palette_flag}'s colour {lighter} ({shown[0]}) is lighter than its colour "
                    f"{darker} ({shown[1]}), but --raw-rows {layout} takes the panel's order "
                    f"({PANEL_LAYOUTS[layout][2]}): the panel shows {shows}")
    return None


def index_bits(k: int) -> int:
    """Bits per exported index for a palette of ``k`` colours: the fewest of 1, 2, 4, 8, 16 that
    hold ``k`` (a 7-colour e-ink panel takes 4-bit nibbles, two pixels a byte)."""
    need = bits_per_index(k)
    return next(width for width in (1, 2, 4, 8, 16) if width >= need)


def c_identifier(stem: str) -> str:
    """``stem`` made a C identifier that C and C++ leave to programs: accents dropped (``façade``:
    ``facade``), each run of other characters one ``_``, none at either end (a leading ``_`` or a
    ``__`` is reserved); ``img_`` before a leading digit, a keyword or nothing left (``img``)."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", stem) if not unicodedata.combining(c))
    name = re.sub(r"[^A-Za-z0-9]+", "_", plain).strip("_")
    if not name:
        return "img"
    return "img_" + name if name[0].isdigit() or name in _C_KEYWORDS else name


def _guard(stem: str, name: str) -> str:
    """The include guard of ``stem``'s header: ``QUANTIZE_``, its identifier and a CRC of the exact
    stem, so that two stems of one identifier (``a-b``, ``a_b``) clash loudly at compile time
    instead of the second header being skipped silently."""
    # the prefix keeps a capitalised stem out of the macro names C reserves (EPD_…: errno.h's E…)
    return f"QUANTIZE_{name.upper()}_{zlib.crc32(stem.encode('utf-8', 'surrogateescape')):08X}_H"


def _checked_indices(indices: np.ndarray, most: int, holds: str) -> np.ndarray:
    """``indices`` as an array, or a ValueError unless they are (H, W) integers 0 to ``most``
    (``holds``: what the layout holds, said when an index is above it)."""
    indices = np.asarray(indices)
    if indices.ndim != 2 or indices.dtype.kind not in "ui":
        raise ValueError(f"the indices must be (H, W) integers, got {indices.ndim}-D "
                         f"{indices.dtype}")
    if indices.size and int(indices.min()) < 0:
        raise ValueError(f"the indices must be 0 or more, got {int(indices.min())}")
    if indices.size and int(indices.max()) > most:
        raise ValueError(f"{holds}: an index is above {most}")
    return indices


def raw_indices(indices: np.ndarray, bits: int, msb_first: bool = True,
                row_padding: bool = True) -> bytes:
    """The (H, W) ``indices`` packed at ``bits`` bits each: the first pixel in the most significant
    bits of the first byte (``msb_first``), or in the least significant, each index's own bits in
    the same order; each row padded with zero bits to a whole byte (``row_padding``), or the rows
    run on and only the end is padded."""
    if not 1 <= bits <= 16:
        raise ValueError(f"bits per index must be 1 to 16, got {bits}")
    indices = _checked_indices(indices, (1 << bits) - 1, f"an index does not fit in {bits} bits")
    h, w = indices.shape
    shifts = np.arange(bits - 1, -1, -1) if msb_first else np.arange(bits)
    planes = ((indices.astype(np.uint16)[..., None] >> shifts.astype(np.uint16)) & 1).astype(np.uint8)
    order = "big" if msb_first else "little"
    if row_padding:
        return np.packbits(planes.reshape(h, w * bits), axis=1, bitorder=order).tobytes()
    return np.packbits(planes.reshape(-1), bitorder=order).tobytes()


def page_bytes(indices: np.ndarray, top_in_msb: bool = False) -> bytes:
    """The (H, W) 1-bit ``indices`` laid out as monochrome OLED/LCD controllers (SSD1306, SH1106,
    ST7565) hold them: pages of 8 rows top to bottom, in each a byte a column, left to right, its
    top row in the least significant bit (``top_in_msb``: the most); the last page's missing rows
    are zero bits."""
    indices = _checked_indices(indices, 1, "a page layout holds 1 bit a pixel")
    h, w = indices.shape
    rows = np.zeros((-(-h // 8) * 8, w), np.uint8)
    rows[:h] = indices
    pages = rows.reshape(-1, 8, w).transpose(0, 2, 1)  # (page, column, row in the page)
    return np.packbits(pages, axis=2, bitorder="big" if top_in_msb else "little").tobytes()


def plane_bytes(indices: np.ndarray, msb_first: bool = True) -> bytes:
    """The (H, W) indices of a black 0, white 1, red (or yellow) 2 palette laid out as tri-colour
    e-paper drivers take them (Waveshare's EPD_*b Display(blackimage, ryimage)): the black plane,
    then the red one, each a bit a pixel, each row on a new byte, the first pixel in the most
    significant bit (``msb_first``) or the least; a bit is 0 where the pixel takes the plane's
    ink, 1 elsewhere, the rows' padding too (white)."""
    indices = _checked_indices(indices, 2, "the planes hold 3 colours")
    inks = [np.frombuffer(raw_indices((indices == ink).astype(np.uint8), 1, msb_first=msb_first),
                          np.uint8) for ink in (0, 2)]
    return np.invert(np.concatenate(inks)).tobytes()


def rgb565_values(palette: np.ndarray) -> np.ndarray:
    """Each palette colour (K, 3|4) as a 16-bit RGB565 value (alpha ignored)."""
    p = np.asarray(palette).astype(np.uint16)
    return (p[:, 0] >> 3) << 11 | (p[:, 1] >> 2) << 5 | p[:, 2] >> 3


def rgb565_note(palette: np.ndarray) -> tuple[str, ...]:
    """Notes of what RGB565 cannot hold of a (K, 3|4) palette: colours off its lattice, as widened
    back by bit replication (none for a palette on it, ``--bits 5,6,5``), and alpha."""
    from ..core.lattice import levels

    palette = np.asarray(palette)
    rgb = palette[:, :3]
    exact = np.ones(len(rgb), bool)
    for channel, bits in enumerate((5, 6, 5)):
        exact &= levels(bits)[rgb[:, channel] >> (8 - bits)] == rgb[:, channel]
    off = int((~exact).sum())
    which = (f"{off:,} of the {len(rgb):,} colours" if off < len(rgb) else
             "its one colour" if off == 1 else f"all {off:,} colours")
    notes = () if exact.all() else (
        f"the rgb565 file holds {which} to 5-6-5 bits only (the report measures the palette's "
        "own); --bits 5,6,5 fits the palette to what RGB565 shows",)
    if palette.shape[1] == 4 and (palette[:, 3] < 255).any():
        black = (palette == 0).all(axis=1).any()  # the entry every fully transparent pixel takes
        notes += ("the rgb565 file holds no alpha: its pixels that are not opaque are written "
                  "opaque, in their palette colour" + (" (the transparent ones black)" if black
                                                       else ""),)
    return notes


# the built-in palettes that hold a lattice at its display codes (--palette NAME)
_CODE_PALETTES = {(1,): "--palette bw", (2,): "--palette grey2", (4,): "--palette grey4",
                  (3, 3, 2): "--palette rgb332", (5, 6, 5): "--format rgb565"}


def lattice_code_note(formats: tuple[str, ...], palette: np.ndarray,
                      bits: tuple[int, ...]) -> tuple[str, ...]:
    """A note when the raw or c files hold indices as wide as the display codes of the lattice
    ``bits`` (``--bits``) but the indices of ``palette`` (K, 3, on the lattice) are not those
    codes: a display fed them shows other colours (4-bit grey: index 0 is the darkest grey used,
    not level 0)."""
    from ..core.lattice import lattice_colors

    shown = [fmt for fmt in ("raw", "c") if fmt in formats]
    palette = np.asarray(palette)[:, :3]
    width = index_bits(len(palette))
    # the widths first: a fine lattice (8,8,8) is too large to list for nothing
    if not shown or width != (sum(bits) if len(bits) == 3 else bits[0]):
        return ()
    codes = lattice_colors(bits)
    if len(palette) <= len(codes) and np.array_equal(palette, codes[:len(palette)]):
        return ()
    first = int(np.flatnonzero((codes == palette[0]).all(axis=1))[0])
    named = ",".join(map(str, bits))
    fix = _CODE_PALETTES.get(tuple(bits), f"a --palette of its {len(codes):,} colours in code order")
    return (f"the {' and '.join(shown)} file{'s' * (len(shown) > 1)} hold{'s' * (len(shown) == 1)} "
            f"{width}-bit indices into the {len(palette):,} colours fitted, not --bits {named}'s "
            f"own codes (index 0 is #{bytes(palette[0].tolist()).hex().upper()}, code {first}); "
            f"{fix} writes each pixel's code",)


def transparent_entry_note(formats: tuple[str, ...], given: np.ndarray,
                           written: np.ndarray) -> tuple[str, ...]:
    """A note when the transparent pixels' entry was appended to a fixed palette (``given``, K x
    3, now ``written``, K x 4) and the raw or c files hold indices a display knows by their
    number: the last is no colour of the display's, and it may widen every index."""
    shown = [fmt for fmt in ("raw", "c") if fmt in formats]
    if not shown or np.asarray(given).shape[1] != 3 or np.asarray(written).shape[1] != 4:
        return ()
    before, after = index_bits(len(given)), index_bits(len(written))
    return (f"the {' and '.join(shown)} file{'s' * (len(shown) > 1)} hold{'s' * (len(shown) == 1)} "
            f"the transparent pixels as index {len(written) - 1}, which --palette has no colour "
            f"for" + (f", at {after} bits a pixel instead of {before}" if after != before else ""),)


def rgb565(palette: np.ndarray, indices: np.ndarray, big_endian: bool = False) -> bytes:
    """The quantised pixels, row by row, as 16-bit RGB565, little-endian unless ``big_endian``."""
    values = rgb565_values(palette)
    values = values[_checked_indices(indices, len(values) - 1, f"the palette has {len(values)} colours")]
    return values.astype(">u2" if big_endian else "<u2").tobytes()


def c_header(stem: str, palette: np.ndarray, indices: np.ndarray, layout: str = "indices",
             msb_first: bool = True, *, order_warning: bool = True) -> bytes:
    """A C99 header ``STEM.h`` holding the image: ``STEM_width``, ``STEM_height``,
    ``STEM_bits_per_index``, ``STEM_row_bytes`` and ``STEM_palette_size`` (enum constants),
    ``STEM_palette_rgb888[]`` (uint32_t 0xRRGGBB), ``STEM_palette_rgb565[]`` (uint16_t),
    ``STEM_palette_alpha[]`` (uint8_t, RGBA palettes only) and ``STEM_indices[]`` (uint8_t, packed
    at :func:`index_bits` bits as :func:`raw_indices` packs them, each row starting on a new byte,
    MSB-first unless ``msb_first`` is False, as XBM bitmaps are), where STEM is ``stem``
    made a C identifier (:func:`c_identifier`). The arrays are ``QUANTIZE_FLASH``: PROGMEM on AVR
    (read them with pgm_read_*), nothing elsewhere unless the program defines it.

    ``layout`` ``"planes"`` or ``"pages"`` holds, instead of the indices, the panel's own buffers,
    byte for byte as :func:`plane_bytes` and :func:`page_bytes` give them (``msb_first``: their
    bit order too): ``STEM_black_plane[]`` and ``STEM_red_plane[]`` of ``STEM_plane_bytes`` each
    (``STEM_row_bytes`` a row; a black/white/yellow panel's yellow plane is its red one), or
    ``STEM_pages[]`` of ``STEM_page_count`` pages of ``STEM_width`` bytes; a palette the layout
    does not take is refused (:func:`check_panel_palette`), and one out of the panel's order is
    taken with a UserWarning (:func:`panel_order_warning`) unless ``order_warning`` is False (the
    caller has warned once already, as the command line does before any work)."""
    palette, indices = np.asarray(palette), np.asarray(indices)
    if palette.ndim != 2 or palette.shape[1] not in (3, 4) or not len(palette) \
            or palette.dtype.kind not in "ui" or palette.min() < 0 or palette.max() > 255:
        raise ValueError("the palette must be (K, 3) or (K, 4) integers 0 to 255")
    _checked_indices(indices, len(palette) - 1, f"the indices must be (H, W) integers 0 to "
                                                 f"{len(palette) - 1}")
    if layout not in _LAYOUTS:
        raise ValueError(f"layout must be one of {', '.join(_LAYOUTS)}, got {layout!r}")
    if not indices.size:  # an array of no values is no C (nor C++)
        raise ValueError(f"the indices must hold a pixel, got {indices.shape[0]}x{indices.shape[1]}")
    check_panel_palette(layout, len(palette))
    if order_warning and (warning := panel_order_warning(layout, palette)) is not None:
        warnings.warn(warning, stacklevel=2)
    palette = palette.astype(np.uint8)
    name = c_identifier(stem)
    h, w = indices.shape
    sizes, arrays = _LAYOUTS[layout](name, palette, indices, msb_first)
    rgb888 = (palette[:, 0].astype(np.uint32) << 16 | palette[:, 1].astype(np.uint32) << 8
              | palette[:, 2])
    guard = _guard(stem, name)
    lines = [
        f"/* {name}: {w}x{h} pixels, {len(palette)} colour{'s' * (len(palette) != 1)}, "
        "written by quantize. */",
        f"#ifndef {guard}", f"#define {guard}", "", "#include <stdint.h>", "", *_FLASH, "",
        f"enum {{ {name}_width = {w}, {name}_height = {h}, {sizes[0]},",
        f"       {sizes[1]}, {name}_palette_size = {len(palette)} }};",
        "",
        *_c_array("uint32_t", f"{name}_palette_rgb888", rgb888, 6, "u"),
        *_c_array("uint16_t", f"{name}_palette_rgb565", rgb565_values(palette), 4, "u"),
    ]
    if palette.shape[1] == 4:
        lines += _c_array("uint8_t", f"{name}_palette_alpha", palette[:, 3], 2)
    lines += arrays
    lines += [f"#endif /* {guard} */", ""]
    return "\n".join(lines).encode("ascii")


def _indices_arrays(name: str, palette: np.ndarray, indices: np.ndarray,
                    msb_first: bool) -> tuple[tuple[str, str], list[str]]:
    """The header's sizes and ``STEM_indices[]``, in the bit order ``msb_first`` gives."""
    bits = index_bits(len(palette))
    sizes = (f"{name}_bits_per_index = {bits}",
             f"{name}_row_bytes = {(indices.shape[1] * bits + 7) // 8}")
    packing = ("a byte a pixel" if bits == 8 else
               f"2 bytes a pixel, its {'high' if msb_first else 'low'} byte first" if bits == 16 else
               f"{bits} bit{'s' * (bits > 1)} a pixel, the first in each byte's "
               f"{'most' if msb_first else 'least'} significant bits, each row on a new byte")
    return sizes, [f"/* the palette's indices: {packing} */",
                   *_c_bytes(f"{name}_indices", raw_indices(indices, bits, msb_first=msb_first))]


def _plane_arrays(name: str, palette: np.ndarray, indices: np.ndarray,
                  msb_first: bool) -> tuple[tuple[str, str], list[str]]:
    """The header's sizes and a tri-colour e-paper's two planes, as its driver takes them."""
    data = plane_bytes(indices, msb_first=msb_first)
    half = len(data) // 2
    order = "MSB" if msb_first else "LSB"
    sizes = (f"{name}_row_bytes = {(indices.shape[1] + 7) // 8}", f"{name}_plane_bytes = {half}")
    return sizes, [f"/* the panel's two buffers: 1 bit a pixel, {order}-first, each row on a new "
                   "byte, 0 where the plane's ink is */",
                   *_c_bytes(f"{name}_black_plane", data[:half]),
                   *_c_bytes(f"{name}_red_plane", data[half:])]


def _page_arrays(name: str, palette: np.ndarray, indices: np.ndarray,
                 msb_first: bool) -> tuple[tuple[str, str], list[str]]:
    """The header's sizes and a monochrome OLED's page memory."""
    data = page_bytes(indices, top_in_msb=msb_first)
    h, w = indices.shape
    top = "most" if msb_first else "least"
    sizes = (f"{name}_page_count = {-(-h // 8)}", f"{name}_page_bytes = {w}")
    return sizes, [f"/* the display's memory: pages of 8 rows, a byte a column, the top row in its "
                   f"{top} significant bit, 1 lit */", *_c_bytes(f"{name}_pages", data)]


_LAYOUTS = {"indices": _indices_arrays, "planes": _plane_arrays, "pages": _page_arrays}


def _c_bytes(name: str, data: bytes) -> list[str]:
    """A ``uint8_t`` C array of ``data``."""
    return _c_array("uint8_t", name, np.frombuffer(data, np.uint8), 2)


def _c_array(ctype: str, name: str, values: np.ndarray, digits: int, suffix: str = "") -> list[str]:
    """A ``static const`` C array definition of the unsigned ``values`` in hex, ``digits`` each and
    ``suffix`` after (``0x00FFu``), ``_PER_LINE`` a line, and a blank line. Its text is laid out
    in arrays of bytes, not a string a value: a large image's header holds millions of values."""
    values = np.asarray(values).ravel()
    tail = f"{suffix}, ".encode("ascii")
    cells = np.empty((len(values), 2 + digits + len(tail)), np.uint8)  # "0xFFu, " a value
    cells[:, :2] = np.frombuffer(b"0x", np.uint8)
    for i in range(digits):
        cells[:, 2 + i] = _HEX_DIGITS[values >> 4 * (digits - 1 - i) & 15]
    cells[:, 2 + digits:] = np.frombuffer(tail, np.uint8)
    full = len(values) // _PER_LINE * _PER_LINE
    rows = [cells[:full].reshape(-1, _PER_LINE * cells.shape[1]), cells[full:].reshape(1, -1)]
    text = b"".join(_indented(row).tobytes() for row in rows if row.size)
    return [f"static const {ctype} {name}[{len(values)}] QUANTIZE_FLASH = {{",
            *([text.decode("ascii")[:-1]] if text else []), "};", ""]


def _indented(rows: np.ndarray) -> np.ndarray:
    """Each row of a C array's cells (bytes) as a line: indented, its last space a newline."""
    lines = np.empty((len(rows), 4 + rows.shape[1]), np.uint8)
    lines[:, :4] = ord(" ")
    lines[:, 4:-1] = rows[:, :-1]
    lines[:, -1] = ord("\n")
    return lines
