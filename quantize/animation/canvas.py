"""What a viewer's canvas shows after each frame, and the smallest rectangle a new frame changes."""

from __future__ import annotations

import numpy as np


def differs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Which pixels of two (H, W, C) frames differ in any channel, as (H, W) bool; a frame of
    3 channels is opaque (a clip's first frames may be, and later ones not). Channel by
    channel: NumPy reduces ``any`` along a short last axis far more slowly."""
    out = a[..., 0] != b[..., 0]
    for ch in range(1, 3):
        out |= a[..., ch] != b[..., ch]
    if a.shape[2] == 4 or b.shape[2] == 4:
        out |= (a[..., 3] if a.shape[2] == 4 else 255) != (b[..., 3] if b.shape[2] == 4 else 255)
    return out


def widen(pixels: np.ndarray, channels: int) -> np.ndarray:
    """``pixels`` with an opaque alpha channel added when ``channels`` is 4 and they have 3."""
    if pixels.shape[2] >= channels:
        return pixels
    out = np.empty((*pixels.shape[:2], 4), np.uint8)
    out[..., :3] = pixels
    out[..., 3] = 255
    return out


def bounding_rect(mask: np.ndarray) -> tuple[slice, slice] | None:
    """The smallest rectangle (rows, columns) holding every True pixel of ``mask`` (H, W), or
    None if there is none."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if not len(rows):
        return None
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def union(a: tuple[slice, slice], b: tuple[slice, slice]) -> tuple[slice, slice]:
    """The smallest rectangle holding rectangles ``a`` and ``b``."""
    return tuple(slice(min(x.start, y.start), max(x.stop, y.stop)) for x, y in zip(a, b))


class Canvas:
    """The colours on screen; :meth:`update` paints a frame and says what it changed."""

    def __init__(self) -> None:
        self.colors: np.ndarray | None = None
        self._cleared: tuple[slice, slice] | None = None  # by :meth:`clear` since the last frame

    def update(self, colors: np.ndarray, within: tuple[slice, slice] | None = None
               ) -> tuple[tuple[slice, slice], np.ndarray]:
        """Paint ``colors`` (H, W, C); return the smallest rectangle holding every changed pixel
        (the whole frame first, one pixel when nothing changed) and the changed mask inside it.
        ``within``: a rectangle outside which ``colors`` are the last frame's, the only part
        compared (a small change on a big canvas costs its rectangle)."""
        if self.colors is None:
            self.colors = colors
            whole = (slice(0, colors.shape[0]), slice(0, colors.shape[1]))
            return whole, np.ones(colors.shape[:2], bool)
        area = (slice(0, colors.shape[0]), slice(0, colors.shape[1])) if within is None else \
            within if self._cleared is None else union(within, self._cleared)
        changed = differs(colors[area], self.colors[area])
        self.colors, self._cleared = colors, None
        rect = bounding_rect(changed)
        if rect is None:
            return (slice(0, 1), slice(0, 1)), np.zeros((1, 1), bool)
        return tuple(slice(r.start + a.start, r.stop + a.start) for r, a in zip(rect, area)), \
            changed[rect]

    def clear(self, rect: tuple[slice, slice]) -> None:
        """Clear ``rect`` to transparent, as a GIF frame disposed to the background leaves it."""
        self.colors = self.colors.copy()  # the frame's own colours stay as they were
        self.colors[rect] = 0
        self._cleared = rect if self._cleared is None else union(self._cleared, rect)
