"""Mapping frames so that what did not move does not flicker.

A pixel whose source colour is the same as in the previous frame keeps its colour, across palette
changes too; only the changed pixels are mapped (nearest colour, or a threshold dither, whose
choice depends on the colour and the position only, so it never crawls). Without a dither a
changed pixel also keeps the colour it shows when that is within :data:`KEEP_TOLERANCE` of the
palette's nearest (in the mapping space): after a palette change, such pixels show more colours
than one palette holds, and a kept pixel costs a GIF frame nothing. A kept colour that the
frame's palette lacks has index -1. In a clip with alpha a new palette maps every pixel (GIF's
one transparent index then means transparent, not kept). A frame whose indices equal the
previous frame's is merged into it, the durations summed while they fit one frame's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Iterable, Iterator

import numpy as np

from ..core.colorspace import encode
from ..core.colorstats import color_stats
from ..core.dither import dither_pixels
from ..core.mapping import map_colors, map_pixels
from .canvas import differs, widen
from .choices import MAX_DURATION_MS
from .palettes import PaletteSchedule
from .source import Frame

#: A changed pixel keeps the colour it shows when its squared distance to it is at most this share
#: above the distance to the palette's nearest colour.
KEEP_TOLERANCE = 0.1


@dataclass(frozen=True)
class MappedFrame:
    """One output frame: its palette (and the palette's id), indices (int16; -1: the previous
    frame's colour, not in this palette), the colours it shows and its duration (ms); ``rect``,
    when known, a rectangle (rows, columns) outside which it shows the previous frame's colours."""

    palette_id: int
    palette: np.ndarray
    indices: np.ndarray
    colors: np.ndarray
    duration: int
    rect: tuple[slice, slice] | None = None


class StableMapper:
    """Frames to indices, one after the other; unchanged source pixels keep their colour."""

    def __init__(self, space: str, dither: str = "none", strength: float = 1.0) -> None:
        self.space, self.dither, self.strength = space, dither, strength
        self._pixels: np.ndarray | None = None
        self._indices: np.ndarray | None = None
        self._colors: np.ndarray | None = None
        self._palette_id: int | None = None

    def _map(self, pixels: np.ndarray, palette: np.ndarray) -> np.ndarray:
        colors = color_stats(pixels).in_space(self.space)
        if self.dither == "none":
            return map_pixels(pixels, colors, palette)
        return dither_pixels(pixels, colors, palette, self.dither, self.strength)

    def _closer_kept(self, target: np.ndarray, shown: np.ndarray, nearest: np.ndarray) -> np.ndarray:
        """Which of the colours ``shown`` (n, C) serve the wanted colours (``target``, points of the
        mapping space) within KEEP_TOLERANCE of ``nearest``."""
        kept = ((self._encoded(shown) - target) ** 2).sum(axis=1)
        new = ((self._encoded(nearest) - target) ** 2).sum(axis=1)
        return kept <= (1 + KEEP_TOLERANCE) * new

    def _encoded(self, colors: np.ndarray) -> np.ndarray:
        """``colors`` (n, C) as points of the mapping space, each distinct colour converted once
        (the shown and the nearest colours are a few hundred among a frame's pixels)."""
        stats = color_stats(colors[None])
        rows = stats.gather(colors[None], np.arange(stats.n_colors, dtype=np.int32)).ravel()
        return encode(stats.colors, self.space)[rows]

    def map(self, pixels: np.ndarray, palette_id: int,
            palette: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The indices (H, W) of ``pixels`` (H, W, C) into ``palette`` (whose id is
        ``palette_id``), -1 where a kept colour is not in it, and the colours shown."""
        if self._pixels is None:
            indices = self._map(pixels, palette).astype(np.int16)
            changed = None
        else:
            same = palette_id == self._palette_id
            keeps_foreign = pixels.shape[2] == 3
            changed = differs(pixels, self._pixels)
            if not (same or keeps_foreign):
                changed[:] = True
            indices = self._indices.copy() if same else np.full(changed.shape, -1, np.int16)
        if changed is not None and changed.any():
            if self.dither == "none":  # only the changed pixels' colours are searched
                moved = np.ascontiguousarray(pixels[changed])[None]
                distinct = color_stats(moved).in_space(self.space)  # converted once, used twice
                rows = distinct.stats.gather(moved, np.arange(distinct.stats.n_colors,
                                                              dtype=np.int32)).ravel()
                mapped = map_colors(distinct, palette)[rows].astype(np.int16)
                old = indices[changed]
                keep = self._closer_kept(distinct.points()[0][rows], self._colors[changed],
                                         palette[mapped])
                keep &= (old >= 0) | keeps_foreign
                indices[changed] = np.where(keep, old, mapped)
            else:  # the threshold depends on the position: the whole frame is dithered
                indices[changed] = self._map(pixels, palette)[changed]
        if changed is None:
            colors = palette[indices]
        else:  # only the changed pixels can show another colour (kept ones, -1, show their own)
            colors = self._colors.copy()
            repainted = changed & (indices >= 0)
            colors[repainted] = palette[indices[repainted]]
        self._pixels, self._indices, self._colors = pixels, indices, colors
        self._palette_id = palette_id
        return indices, colors


def merged(frames: Iterable[MappedFrame]) -> Iterator[MappedFrame]:
    """``frames`` with each run of frames that show the same picture (of equal palette and
    indices, or of other palettes and equal colours) as one, durations summed up to
    :data:`MAX_DURATION_MS` (a longer run stays several frames, which every format times)."""
    pending: MappedFrame | None = None
    for frame in frames:
        if pending is not None and pending.duration + frame.duration <= MAX_DURATION_MS and (
                np.array_equal(frame.indices, pending.indices)
                if frame.palette_id == pending.palette_id
                else np.array_equal(frame.colors, pending.colors)):
            pending = replace(pending, duration=pending.duration + frame.duration)
            continue
        if pending is not None:
            yield pending
        pending = frame
    if pending is not None:
        yield pending


def mapped_frames(frames: Iterable, schedule: PaletteSchedule, mapper: StableMapper,
                  channels: int) -> Iterator[tuple[Frame, MappedFrame]]:
    """Each source frame (its pixels widened to ``channels``) with its mapped frame, in order."""
    for number, frame in enumerate(frames):
        pixels = widen(frame.pixels, channels)
        palette_id, palette = schedule.palette_for(number, pixels)
        yield replace(frame, pixels=pixels), MappedFrame(
            palette_id, palette, *mapper.map(pixels, palette_id, palette), frame.duration)
