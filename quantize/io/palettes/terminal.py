"""Palette as text for a terminal: a coloured block (24-bit ANSI), the hex code, share and name."""

from __future__ import annotations

import os
from typing import TextIO

from .model import Palette

_BLOCK = " " * 6


def format_swatches(palette: Palette, color: bool) -> str:
    """One line per colour: ``<block>  #rrggbb  12.3%  name``; the block only when ``color`` is true,
    share and name only when the palette has them (not a name that is the hex code itself, with
    its ``#`` or without as Lospec's GIMP palettes name every colour, as a file's unnamed swatches
    are named). No trailing newline."""
    shares = palette.shares.tolist() if palette.shares is not None else [None] * len(palette)
    names = palette.names or [None] * len(palette)
    width = max((len(h) for h in palette.hex), default=7)
    lines = []
    for (r, g, b), hex_, share, name in zip(palette.rgb.tolist(), palette.hex, shares, names):
        parts = [f"\x1b[48;2;{r};{g};{b}m{_BLOCK}\x1b[0m"] if color else []
        parts.append(hex_.ljust(width))
        if share is not None:
            parts.append(f"{100 * share:5.1f}%")
        if name is not None and name.lower().removeprefix("#") != hex_[1:]:
            parts.append(name)
        lines.append("  ".join(parts).rstrip())
    return "\n".join(lines)


def wants_color(stream: TextIO) -> bool:
    """Whether to draw colour blocks on ``stream``: a terminal, unless NO_COLOR is set (no-color.org)
    or TERM is ``dumb``."""
    return (stream.isatty() and "NO_COLOR" not in os.environ
            and os.environ.get("TERM", "") != "dumb")


def format_strip(palette: Palette, color: bool, per_line: int = 32) -> list[str]:
    """The palette's colours in order, ``per_line`` to a line: two-cell blocks with ``color``, else
    their hex codes (8 to a line)."""
    if not color:
        hexes = palette.hex
        return [" ".join(hexes[i:i + 8]) for i in range(0, len(hexes), 8)]
    cells = [f"\x1b[48;2;{r};{g};{b}m  " for r, g, b in palette.rgb.tolist()]
    return ["".join(cells[i:i + per_line]) + "\x1b[0m" for i in range(0, len(cells), per_line)]
