"""Animated GIF, written frame by frame: each frame only the smallest rectangle it changes, with
the unchanged pixels in it transparent when that codes smaller (and always when some of them show
a colour the frame's palette lacks), and a local colour table only for a frame whose palette
differs from the global one (the palette most frames use), or whose full table must grow by one
bit for a transparent index, or whose rectangle uses so few entries that a table of those alone
codes smaller. LZW codes start at the width of the frame's colour table
(:func:`quantize.io.formats.gif_lzw_blocks`).

GIF draws no transparency over a colour: drawn, the transparent index leaves the pixel as it is.
So each frame is written once the next is known, and where the next turns pixels transparent,
this frame's rectangle grows to hold them and is cleared when it leaves (disposal to the
background, which viewers clear to transparent); the next frame then redraws what stays in it.
"""

from __future__ import annotations

import io
import struct

import numpy as np

from ..core.colorstats import color_keys
from ..errors import ParameterError
from ..io.formats import GIF_MAX_SIDE, gif_lzw_blocks, gif_table
from .choices import GIF_TABLE, gif_centiseconds
from .canvas import Canvas, bounding_rect, union
from .temporal import MappedFrame

_KEEP, _CLEAR = 1, 2  # disposal: leave the frame on the canvas; clear its rectangle afterwards
_NO_INDEX_LEFT = ("a GIF frame of 256 colours has no index left for the colours it keeps from "
                  "before; write it as png or webp")


def _transparent_entry(palette: np.ndarray) -> int | None:
    """The palette's one fully transparent index (None if opaque); refuses partial alpha."""
    if palette.shape[1] == 3:
        return None
    alpha = palette[:, 3]
    if np.any((alpha > 0) & (alpha < 255)):
        raise ParameterError("GIF has no partial transparency; this clip's palette has alpha other "
                             "than 0 and 255 (APNG and WebP keep it: write .png or .webp)")
    clear = np.flatnonzero(alpha == 0)
    return int(clear[0]) if len(clear) else None


def _smaller_coding(indices: np.ndarray, changed: np.ndarray, size: int, clear: int | None,
                    transparent: bool, declared: bool = False) -> tuple[bytes, int | None]:
    """The smallest LZW blocks of the rectangle's indices (of a colour table of 2**``size``
    entries), and the transparent index they use (None if none). With the palette's ``clear``
    entry (fully transparent), that is the transparent index: the pixels that keep a colour the
    table lacks (index -1) take it, and the unchanged ones too or not. Else: the indices as they
    are; or the unchanged pixels set to an index no changed pixel uses; or, when some pixels keep
    a colour the table lacks, only those set to an index no other pixel uses (the indices an
    LZW-aware mapping chose, kept whole). ``transparent``: the frame must have a transparent
    index (it is cleared when it leaves, which viewers do only then); ``declared``: it has one
    where an index is free."""
    foreign = indices < 0
    if clear is not None:
        kept = np.where(foreign, clear, indices)
        candidates = [(gif_lzw_blocks(kept, size), clear)]
        if not changed.all():
            candidates.append((gif_lzw_blocks(np.where(changed, kept, clear), size), clear))
        return min(candidates, key=lambda candidate: len(candidate[0]))

    def unused(shown: np.ndarray) -> np.ndarray:
        """The table's indices that no pixel of ``shown`` (a mask) uses."""
        return np.flatnonzero(np.bincount(indices[shown], minlength=1 << size)[:1 << size] == 0)

    candidates = []
    if not foreign.any():
        free = unused(np.ones(indices.shape, bool)) if transparent or declared else ()
        if len(free):  # a transparent index that no pixel uses changes nothing drawn
            candidates.append((gif_lzw_blocks(indices, size), int(free[0])))
        elif not transparent:
            candidates.append((gif_lzw_blocks(indices, size), None))
    if not changed.all():
        free = unused(changed)
        if len(free):
            candidates.append((gif_lzw_blocks(np.where(changed, indices, free[0]), size),
                               int(free[0])))
    if foreign.any():
        free = unused(~foreign)
        if len(free):
            candidates.append((gif_lzw_blocks(np.where(foreign, free[-1], indices), size),
                               int(free[-1])))
    if not candidates:
        raise ParameterError(_NO_INDEX_LEFT)
    return min(candidates, key=lambda candidate: len(candidate[0]))


def _compacted(palette: np.ndarray, indices: np.ndarray, clear: int | None
               ) -> tuple[np.ndarray, np.ndarray, int | None] | None:
    """``palette`` cut to the entries ``indices`` (a rectangle's, -1 for a kept colour) use and
    its ``clear`` entry, with the indices and ``clear`` renumbered to match; None if it uses
    every entry."""
    used = np.zeros(len(palette), bool)
    used[indices[indices >= 0]] = True
    if clear is not None:
        used[clear] = True
    if used.all():
        return None
    entries = np.flatnonzero(used)
    renumbered = np.full(len(palette) + 1, -1, indices.dtype)  # the last one: -1 stays -1
    renumbered[entries] = np.arange(len(entries))
    return (palette[entries], renumbered[indices],
            None if clear is None else int(renumbered[clear]))


def _cleared_alpha(rows: np.ndarray) -> np.ndarray:
    """Colour rows (n, 3|4) with every fully transparent one (0, 0, 0, 0): one colour in GIF."""
    return np.where(rows[:, 3:] == 0, 0, rows) if rows.shape[1] == 4 else rows


def _resolved(palette: np.ndarray, indices: np.ndarray, colors: np.ndarray,
              need: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``palette`` and ``indices`` with each pixel of ``need`` (index -1: a colour kept from
    before, which the canvas no longer shows) given its colour's entry, appended where the
    palette lacks it. Fully transparent colours are one colour."""
    if not need.any():
        return palette, indices

    shown = _cleared_alpha(colors[need])
    wanted = color_keys(shown)
    unique, first = np.unique(wanted, return_index=True)
    missing = first[~np.isin(unique, color_keys(_cleared_alpha(palette)))]
    if len(palette) + len(missing) > GIF_TABLE:
        raise ParameterError(_NO_INDEX_LEFT)
    palette = np.concatenate([palette, shown[missing]])
    table = color_keys(_cleared_alpha(palette))
    order = np.argsort(table, kind="stable")
    indices = indices.copy()
    indices[need] = order[np.searchsorted(table[order], wanted)]
    return palette, indices


class GifWriter:
    """Add merged frames in order, then :meth:`finish` for the file's bytes. ``main`` is the
    palette of the global colour table (default: the first frame's)."""

    def __init__(self, width: int, height: int, plays: int,
                 main: np.ndarray | None = None) -> None:
        if max(width, height) > GIF_MAX_SIDE:
            raise ParameterError(f"GIF frames are at most {GIF_MAX_SIDE} pixels a side, got "
                                 f"{width}x{height}")
        self.width, self.height, self.plays = width, height, plays
        self._out = io.BytesIO()
        self._canvas = Canvas()
        self._main = main
        self._global_palette: np.ndarray | None = None  # set with the header
        self._elapsed_ms = 0
        self._written_cs = 0
        self._first = True
        # the last frame added, its rectangle and changed pixels: written once the next is known
        self._held: tuple[MappedFrame, tuple[slice, slice], np.ndarray] | None = None

    def _header(self, frame: MappedFrame) -> None:
        self._global_palette = frame.palette if self._main is None else self._main
        table, size = gif_table(self._global_palette)
        self._out.write(b"GIF89a" + struct.pack("<HHBBB", self.width, self.height, 0x80 | size, 0, 0))
        self._out.write(table)
        if self.plays != 1:  # NETSCAPE2.0: repeats after the first play, 0 for ever
            repeats = 0 if self.plays == 0 else min(self.plays - 1, 65535)
            self._out.write(b"\x21\xff\x0bNETSCAPE2.0\x03\x01" + struct.pack("<H", repeats) + b"\0")

    def _delay(self, duration: int) -> int:
        """Centiseconds for this frame: its end on GIF's clock less the time written, so that the
        clip's total stays exact and steady frames get steady delays."""
        self._elapsed_ms += duration
        cs = gif_centiseconds(self._elapsed_ms) - self._written_cs
        self._written_cs += cs
        return cs

    def add(self, frame: MappedFrame) -> None:
        if self._global_palette is None:
            self._header(frame)
        if self._held is not None:
            self._write(*self._held, following=frame.colors)
        self._held = (frame, *self._canvas.update(frame.colors, frame.rect))

    def _write(self, frame: MappedFrame, rect: tuple[slice, slice], changed: np.ndarray,
               following: np.ndarray | None) -> None:
        """Write ``frame`` over ``rect`` (``changed``: its pixels that differ from the canvas),
        grown to hold the pixels ``following`` (the next frame's colours; None: the last)
        turns transparent, which it then clears when it leaves."""
        disposal = _KEEP
        if following is not None and following.shape[2] == 4:
            cleared = bounding_rect((following[..., 3] == 0) & (self._canvas.colors[..., 3] > 0))
            if cleared is not None:
                whole = np.zeros(following.shape[:2], bool)
                whole[rect] = changed
                rect = union(rect, cleared)
                changed, disposal = whole[rect], _CLEAR
        need = np.zeros(frame.indices.shape, bool)  # kept colours a clearing took away
        need[rect] = changed & (frame.indices[rect] < 0)
        palette, indices = _resolved(frame.palette, frame.indices, frame.colors, need)
        whole = (palette, indices[rect], _transparent_entry(palette))
        compact = _compacted(*whole)
        foreign = bool((whole[1] < 0).any())  # kept colours the palette lacks
        # Pillow reads a GIF as transparent only when its first frame has a transparent index
        declared = self._first and frame.colors.shape[2] == 4
        self._first = False
        codings = []
        for colours, shown, clear in (whole,) if compact is None else (whole, compact):
            for table, size, local in self._tables(colours, spare=foreign and clear is None):
                blocks, transparent = _smaller_coding(shown, changed, max(2, size + 1), clear,
                                                      disposal == _CLEAR, declared)
                codings.append((len(blocks) + local * len(table), table, size, local, blocks,
                                transparent))
        _, table, size, local, blocks, transparent = min(codings, key=lambda c: c[0])
        if disposal == _CLEAR:
            self._canvas.clear(rect)
        flags = (disposal << 2) | (transparent is not None)
        self._out.write(b"\x21\xf9\x04" + struct.pack("<BHBB", flags, self._delay(frame.duration),
                                                      transparent or 0, 0))
        top, left = rect[0].start, rect[1].start
        height, width = rect[0].stop - top, rect[1].stop - left
        self._out.write(b"," + struct.pack("<HHHHB", left, top, width, height,
                                           (0x80 | size) if local else 0))
        if local:
            self._out.write(table)
        self._out.write(blocks)

    def _tables(self, palette: np.ndarray, spare: bool) -> list[tuple[bytes, int, bool]]:
        """The colour tables a frame of ``palette`` may use, each (bytes, size field, local): the
        global one if it is this palette, else a local one; and, when that table is full and
        can grow, a local one with a free entry (for unchanged or kept pixels), or only that one
        when ``spare`` (kept colours the palette lacks) asks for it."""
        own = np.array_equal(palette, self._global_palette)
        table, size = gif_table(self._global_palette if own else palette)
        tables = [(table, size, not own)]
        if len(palette) == 2 << size and len(palette) < GIF_TABLE:
            tables.append((*gif_table(palette, spare=True), True))
        return tables[1:] if spare and len(tables) == 2 else tables

    def finish(self) -> bytes:
        """The whole file (trailer included)."""
        if self._held is not None:
            self._write(*self._held, following=None)
            self._held = None
        return self._out.getvalue() + b";"
