"""Mapping frames so that what did not move does not flicker.

A pixel whose source colour is the same as in the previous frame keeps its index, as long as the
palette stays; only the changed pixels are mapped (nearest colour, or a threshold dither, whose
choice depends on the colour and the position only, so it never crawls). A frame whose indices
equal the previous frame's is merged into it, the durations summed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator

import numpy as np

from ..core.colorstats import color_stats
from ..core.dither import dither_pixels
from ..core.mapping import map_pixels
from .palettes import PaletteSchedule


@dataclass(frozen=True)
class MappedFrame:
    """One output frame: its palette (and the palette's id), indices and duration (ms)."""

    palette_id: int
    palette: np.ndarray
    indices: np.ndarray
    duration: int


def widen(pixels: np.ndarray, channels: int) -> np.ndarray:
    """``pixels`` with an opaque alpha channel added when ``channels`` is 4 and they have 3."""
    if pixels.shape[2] >= channels:
        return pixels
    out = np.empty((*pixels.shape[:2], 4), np.uint8)
    out[..., :3] = pixels
    out[..., 3] = 255
    return out


class StableMapper:
    """Frames to indices, one after the other; unchanged source pixels keep their index."""

    def __init__(self, space: str, dither: str = "none", strength: float = 1.0) -> None:
        self.space, self.dither, self.strength = space, dither, strength
        self._pixels: np.ndarray | None = None
        self._indices: np.ndarray | None = None
        self._palette_id: int | None = None

    def _map(self, pixels: np.ndarray, palette: np.ndarray) -> np.ndarray:
        stats = color_stats(pixels)
        if self.dither == "none":
            return map_pixels(pixels, stats, palette, self.space)
        return dither_pixels(pixels, stats, palette, self.space, self.dither, self.strength)

    def map(self, pixels: np.ndarray, palette_id: int, palette: np.ndarray) -> np.ndarray:
        """The indices (H, W) of ``pixels`` (H, W, C) into ``palette`` (whose id is ``palette_id``)."""
        if self._pixels is None or palette_id != self._palette_id:
            indices = self._map(pixels, palette)
        else:
            changed = np.any(pixels != self._pixels, axis=2)
            indices = self._indices.copy()
            if changed.any():
                if self.dither == "none":  # only the changed pixels' colours are searched
                    moved = np.ascontiguousarray(pixels[changed])[None]
                    indices[changed] = self._map(moved, palette)[0]
                else:  # the threshold depends on the position: the whole frame is dithered
                    indices[changed] = self._map(pixels, palette)[changed]
        self._pixels, self._indices, self._palette_id = pixels, indices, palette_id
        return indices


def merged(frames: Iterable[MappedFrame]) -> Iterator[MappedFrame]:
    """``frames`` with each run of frames of equal palette and indices as one, durations summed."""
    pending: MappedFrame | None = None
    for frame in frames:
        if pending is not None and frame.palette_id == pending.palette_id \
                and np.array_equal(frame.indices, pending.indices):
            pending = MappedFrame(pending.palette_id, pending.palette, pending.indices,
                                  pending.duration + frame.duration)
            continue
        if pending is not None:
            yield pending
        pending = frame
    if pending is not None:
        yield pending


def mapped_frames(frames: Iterable, schedule: PaletteSchedule, mapper: StableMapper,
                  channels: int) -> Iterator[tuple[np.ndarray, MappedFrame]]:
    """Each source frame (widened to ``channels``) with its mapped frame, in order."""
    for number, frame in enumerate(frames):
        pixels = widen(frame.pixels, channels)
        palette_id, palette = schedule.palette_for(number, pixels)
        yield pixels, MappedFrame(palette_id, palette, mapper.map(pixels, palette_id, palette),
                                  frame.duration)
