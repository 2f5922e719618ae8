"""Palettes of displays and retro hardware, by name (``--palette NAME``), in their native order.

The order is the hardware's index order, so the packed file's and every export's indices are what
the firmware writes to the display. Sources:

- ``bw``, ``grey2``, ``grey4``: 1-bit black and white, and 2- and 4-bit grey ramps (levels spread
  evenly over 0..255, as bit replication of the level gives: 4 bits -> 0x00, 0x11, ... 0xff).
- ``bwr``: black, white and red e-paper (e.g. Waveshare 2.13" (B), 2.9" (B)), nominal: black 0,
  white 1, red 2, as ``--raw-rows planes`` writes them to the driver's black and red planes.
- ``bwyr``: black, white, yellow and red e-paper (Waveshare's (G) panels, e.g. 2.13" (G), 3" (G),
  4.37" (G); E Ink Spectra 3100), in the drivers' codes: black 0, white 1, yellow 2, red 3, 2 bits
  a pixel, the first in the high bits (EPD_*G's colour defines; the Python drivers' getbuffer
  palette).
- ``epd4grey``: Waveshare's 4-grey e-paper, in the codes its drivers' 4GrayDisplay/display_4Gray
  take: black 0, dark grey 1, light grey 2, white 3 (0b11 writes 1 to both RAMs, "white" in the
  driver's own table; the Python driver packs a white pixel 0xFF as 0b11), so ``grey2``'s order.
  GUI_Paint.h's comments on GRAY1..GRAY4 ("GRAY1 0x03 Blackest") say the reverse; its demos
  clear to 0xFF for a white page and draw in GRAY4 (0).
- ``web216``: the "web-safe" palette of Netscape Navigator 2 (1996): every combination of 0x00,
  0x33, 0x66, 0x99, 0xcc, 0xff, red slowest, blue fastest.
- ``cga``: IBM Color Graphics Adapter, the 16 RGBI colours as the IBM 5153 monitor shows them
  (colour 6 dark yellow turned brown); IBM "Color/Graphics Monitor Adapter" technical reference.
- ``cga4``: CGA 320x200 mode 4, palette 1 at high intensity (black, light cyan, light magenta,
  white), the default four-colour palette of most CGA games.
- ``ega``: IBM Enhanced Graphics Adapter, all 64 colours in index order: bits 5..0 are r g b R G B,
  each channel 0x55 * (lower-case bit) + 0xaa * (upper-case bit); IBM EGA technical reference.
- ``c64``: Commodore 64 VIC-II, Philip "Pepto" Timmermann's measured palette, "Calculating the
  color palette of the VIC II" (2001), the default of the VICE emulator for years.
- ``nes``: the NES 2C02 PPU's 64 colour codes in the RGB rendition most emulators and tools use
  (0x0d-0x0f, 0x1d-0x1f, 0x2e-0x2f, 0x3e-0x3f are black, so those indices repeat a colour; map
  ties go to the lowest index, so black is 0x0d, the "blacker than black" code hardware must not
  be sent: firmware writes 0x0f for it); NESdev wiki, "PPU palettes", explains why renditions
  differ.
- ``gameboy``: the original Game Boy (DMG-01) LCD's four greens, shade 0 (lightest) to 3, as
  Nintendo's BGP register numbers them; the values of Lospec's "Nintendo Gameboy (Original)".
- ``pico8``: the 16 colours of the PICO-8 fantasy console, named as Lexaloffle's PICO-8 manual
  names them, hyphenated (black, dark-blue, ..., indigo, pink, peach).
- ``rgb332``: every colour of an 8-bit RGB332 display (rrrgggbb, LVGL's 8-bit colour depth), the
  index its pixel byte, each level widened by bit replication as ``--bits 3,3,2`` does, so the raw
  export at 8 bits is the byte stream the display takes.
- ``acep7``: E Ink ACeP "Gallery" 7-colour panels (e.g. Waveshare 5.65" (F), Pimoroni Inky
  Impression), nominal colours in the controller's order: black 0, white 1, green 2, blue 3, red 4,
  yellow 5, orange 6 (Waveshare's EPD_5in65F driver; 7 is "clean", not a colour).
- ``spectra6``: E Ink Spectra 6 panels (e.g. Waveshare 7.3" (E), Inky Impression 7.3" 2025), nominal
  colours at Waveshare's EPD_7in3e driver codes: black 0, white 1, yellow 2, red 3, blue 5, green 6;
  code 4 (unused by the panel) repeats black, and map ties go to the lowest index, so no pixel
  takes it and every index is the code the driver sends.

The e-ink colours are nominal: a panel shows duller ones. ``--panel-colors FILE`` gives the
colours a panel was measured to show (same count and order); the pixels are dithered against
those, and the native palette and its indices are written.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from ...core.lattice import levels
from ...errors import ParameterError
from .model import Palette


def _ramp(bits: int) -> list[int]:
    n = 1 << bits
    return [0x010101 * round(255 * i / (n - 1)) for i in range(n)]


def _ega() -> list[int]:
    def channel(index: int, high: int, low: int) -> int:
        return 0xaa * (index >> high & 1) + 0x55 * (index >> low & 1)
    return [channel(i, 2, 5) << 16 | channel(i, 1, 4) << 8 | channel(i, 0, 3) for i in range(64)]


def _rgb332() -> list[int]:
    red, green, blue = levels(3).tolist(), levels(3).tolist(), levels(2).tolist()
    return [red[c >> 5] << 16 | green[c >> 2 & 7] << 8 | blue[c & 3] for c in range(256)]


_LEVELS = (0x00, 0x33, 0x66, 0x99, 0xcc, 0xff)

_CODES: dict[str, tuple[str, Sequence[int]]] = {
    "bw": ("1-bit black and white", (0x000000, 0xffffff)),
    "bwr": ("tri-colour e-paper: black 0, white 1, red 2", (0x000000, 0xffffff, 0xff0000)),
    "bwyr": ("4-colour e-paper: black 0, white 1, yellow 2, red 3",
             (0x000000, 0xffffff, 0xffff00, 0xff0000)),
    "grey2": ("2-bit grey (4 levels)", _ramp(2)),
    "grey4": ("4-bit grey (16 levels)", _ramp(4)),
    "epd4grey": ("Waveshare 4-grey e-paper, black 0 to white 3 (as grey2)", _ramp(2)),
    "web216": ("web-safe 216 colours (Netscape, 1996)",
               [r << 16 | g << 8 | b for r in _LEVELS for g in _LEVELS for b in _LEVELS]),
    "cga": ("IBM CGA, 16 colours", (
        0x000000, 0x0000aa, 0x00aa00, 0x00aaaa, 0xaa0000, 0xaa00aa, 0xaa5500, 0xaaaaaa,
        0x555555, 0x5555ff, 0x55ff55, 0x55ffff, 0xff5555, 0xff55ff, 0xffff55, 0xffffff)),
    "cga4": ("IBM CGA mode 4, palette 1, high intensity", (0x000000, 0x55ffff, 0xff55ff, 0xffffff)),
    "ega": ("IBM EGA, all 64 colours", _ega()),
    "c64": ("Commodore 64 (Pepto's VIC-II palette)", (
        0x000000, 0xffffff, 0x68372b, 0x70a4b2, 0x6f3d86, 0x588d43, 0x352879, 0xb8c76f,
        0x6f4f25, 0x433900, 0x9a6759, 0x444444, 0x6c6c6c, 0x9ad284, 0x6c5eb5, 0x959595)),
    "nes": ("Nintendo NES 2C02, 64 colour codes (black maps to 0x0d: write 0x0f on hardware)", (
        0x7c7c7c, 0x0000fc, 0x0000bc, 0x4428bc, 0x940084, 0xa80020, 0xa81000, 0x881400,
        0x503000, 0x007800, 0x006800, 0x005800, 0x004058, 0x000000, 0x000000, 0x000000,
        0xbcbcbc, 0x0078f8, 0x0058f8, 0x6844fc, 0xd800cc, 0xe40058, 0xf83800, 0xe45c10,
        0xac7c00, 0x00b800, 0x00a800, 0x00a844, 0x008888, 0x000000, 0x000000, 0x000000,
        0xf8f8f8, 0x3cbcfc, 0x6888fc, 0x9878f8, 0xf878f8, 0xf85898, 0xf87858, 0xfca044,
        0xf8b800, 0xb8f818, 0x58d854, 0x58f898, 0x00e8d8, 0x787878, 0x000000, 0x000000,
        0xfcfcfc, 0xa4e4fc, 0xb8b8f8, 0xd8b8f8, 0xf8b8f8, 0xf8a4c0, 0xf0d0b0, 0xfce0a8,
        0xf8d878, 0xd8f878, 0xb8f8b8, 0xb8f8d8, 0x00fcfc, 0xf8d8f8, 0x000000, 0x000000)),
    "gameboy": ("Nintendo Game Boy (DMG), 4 greens", (0x9bbc0f, 0x8bac0f, 0x306230, 0x0f380f)),
    "pico8": ("PICO-8, 16 colours", (
        0x000000, 0x1d2b53, 0x7e2553, 0x008751, 0xab5236, 0x5f574f, 0xc2c3c7, 0xfff1e8,
        0xff004d, 0xffa300, 0xffec27, 0x00e436, 0x29adff, 0x83769c, 0xff77a8, 0xffccaa)),
    "rgb332": ("RGB332 8-bit colour, index = the pixel byte rrrgggbb", _rgb332()),
    "acep7": ("E Ink ACeP 7-colour, nominal", (
        0x000000, 0xffffff, 0x00ff00, 0x0000ff, 0xff0000, 0xffff00, 0xff8000)),
    "spectra6": ("E Ink Spectra 6, nominal, at the driver's codes (4 is unused: repeats black)", (
        0x000000, 0xffffff, 0xffff00, 0xff0000, 0x000000, 0x0000ff, 0x00ff00)),
}

# the colour names a palette's maker gives, in index order; every export with names carries them
_COLOR_NAMES: dict[str, tuple[str, ...]] = {
    "pico8": ("black", "dark-blue", "dark-purple", "dark-green", "brown", "dark-gray", "light-gray",
              "white", "red", "orange", "yellow", "green", "blue", "indigo", "pink", "peach"),
}

BUILTIN_NAMES: tuple[str, ...] = tuple(_CODES)


def builtin_palette(name: str) -> Palette:
    """The built-in palette ``name`` (case-insensitive), titled with its name, its colours named
    where its maker names them; an unknown name raises ParameterError listing the valid ones."""
    key = name.strip().lower()
    if key not in _CODES:
        raise ParameterError(f"unknown palette {name!r}; built-in palettes: {', '.join(BUILTIN_NAMES)}")
    codes = np.array(_CODES[key][1], np.uint32)
    colors = np.stack([codes >> 16, codes >> 8 & 0xff, codes & 0xff], axis=1).astype(np.uint8)
    return Palette(colors, names=_COLOR_NAMES.get(key), title=key)


def describe(name: str) -> str:
    """One line on what the built-in palette ``name`` is."""
    return _CODES[name][0]


def find_palette(spec: str | os.PathLike[str]) -> Palette:
    """The palette of ``--palette SPEC``: the file ``spec`` if there is one (a file wins; a
    packed ``.qnt`` file gives its palette), else the built-in palette of that name. A missing
    file with a suffix or a folder in its name is reported as a missing file; any other unknown
    name lists the built-in names."""
    from .. import container
    from .io import read_palette

    path = Path(spec)
    if path.suffix.lower() == container.SUFFIX:
        return Palette(container.load(path).palette, title=path.stem)
    if path.exists() or path.suffix or len(path.parts) > 1:
        return read_palette(path)
    return builtin_palette(str(spec))


def format_builtins(color: bool) -> str:
    """Every built-in palette: its name, size and what it is, then its colours in index order
    (blocks with ``color``, else hex codes; one a line with its name where they are named). No
    trailing newline."""
    from .terminal import format_strip, format_swatches

    lines = []
    for name in BUILTIN_NAMES:
        palette = builtin_palette(name)
        lines.append(f"{name:<9} {len(palette):>3}  {describe(name)}")
        shown = (format_swatches(palette, color).split("\n") if palette.names is not None
                 else format_strip(palette, color))
        lines += ["          " + line for line in shown]
    return "\n".join(lines)
