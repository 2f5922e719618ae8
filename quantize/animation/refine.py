"""Change tables: palettes and indices for a clip coded so that what stays on screen is served
first (``auto`` mode, one scene, opaque, no dither).

Still areas keep the colours they first get (so they never flicker), so a clip looks as good as the
first frame's palette where nothing moves and as each later frame makes the pixels it changes. Both
are fitted to what lasts: every pixel weighted by the frames it stays on screen (the first frame's
counted over the whole clip by the first pass, a later frame's over :data:`LOOKAHEAD` frames ahead,
or to the clip's end where the first pass saw no later change). A frame that changes part of the
picture (a patch moving over a still) gets a table of its own, fitted to its changed pixels so
weighted. A frame that changes most of the picture (a fade, a pan) takes a palette fitted to it and
the frames held after it, kept for :data:`LOOKAHEAD` frames. Every changed frame's indices are then
chosen for LZW, the first frame's too: a changed pixel may take any colour within a tolerance
(:data:`PART_TOLERANCE` in a frame that changes part of the picture, else :data:`LZW_TOLERANCE`, or
for whole-picture motion :data:`MOTION_TOLERANCE` times the frame's mean squared error) divided by
its frames on screen of its own index's squared RGB error, where that lets the GIF code longer
strings (:mod:`quantize.core.kernels.lzw`); every format shows the same chosen colours. A
palette that serves one frame only (the first frame's, a table) then moves each colour to the
weighted mean of the pixels that chose it, which lowers their error at the same indices, and a
table's indices are chosen again from those colours (:data:`TABLE_ROUNDS`).
"""

from __future__ import annotations

from collections import deque
from dataclasses import replace
from typing import Iterable, Iterator

import numpy as np

from ..core.colorstats import ColorStats, color_keys, color_stats
from ..core.fitting import FitOptions
from ..core.mapping import map_pixels
from .canvas import bounding_rect, differs
from .palettes import MOST_CHANGED, ClipScan, ColorCounter, fit_colors
from .source import Frame
from .temporal import MappedFrame

#: Frames ahead over which a later frame's pixels are counted on screen (each held in memory).
LOOKAHEAD = 8
#: The extra squared RGB error (summed over channels) a pixel shown for one frame may take for
#: a longer LZW string where a frame changes the whole picture next to a held one (a fade); a
#: pixel shown for n frames may take this / n.
LZW_TOLERANCE = 60.0
#: The same where a frame changes part of the picture (a patch over a still); larger, as its
#: table, weighted by frames on screen, gives the pixels shown once few colours: it keeps the
#: patch clips' mean bytes where they were before its table's colours followed its choices.
PART_TOLERANCE = 90.0
#: The same where the whole picture moves and no picture is ever held (a pan, a video), as a
#: multiple of the frame's mean squared error (its pixels to their nearest colours): every pixel
#: is new each frame, so what a byte saved may cost in error grows with the error itself, and one
#: fixed tolerance gave away too much of a smooth photo's PSNR and too many of a busy one's bytes.
MOTION_TOLERANCE = 1.8
#: Below this K one palette is kept: there a larger K buys more quality for the bytes a table a
#: frame costs (docs/ANIMATION.md).
MIN_K = 16
#: Seeded k-means starts of a later frame's table (one a frame: a few, not a still's many).
TABLE_STARTS = 2
#: Times a table's indices are chosen again after its colours moved to the means of the pixels
#: that chose them: LZW finds longer strings among colours fitted to its last choice.
TABLE_ROUNDS = 1


def takes_change_tables(scan: ClipScan, palette_mode: str, dither: str, fit: FitOptions) -> bool:
    """Whether this clip is coded with change tables: ``auto`` mode, one scene, opaque, no
    dither, K of at least :data:`MIN_K`, some frame changing something, and more than K colours
    (one palette of fewer shows the clip exactly)."""
    return (palette_mode == "auto" and dither == "none" and scan.channels == 3
            and fit.k >= MIN_K and scan.scenes == 1 and any(scan.shares[1:])
            and not scan.fits_in(fit.k))


def on_screen(frames: Iterable, depth: int = LOOKAHEAD) -> Iterator[tuple]:
    """Each frame with the pixels it changes from the one before (None for the first), how many
    frames, itself included and at most ``depth``, each pixel's source then stays the same (H, W),
    and the frames held after it. Holds ``depth`` frames."""
    held: deque = deque()  # (frame, the pixels it changes from the frame before)
    previous = None
    source = iter(frames)
    while True:
        while len(held) < depth:
            frame = next(source, None)
            if frame is None:
                break
            held.append((frame, None if previous is None else differs(frame.pixels, previous)))
            previous = frame.pixels
        if not held:
            return
        frame, changed = held.popleft()
        stay = np.ones(frame.pixels.shape[:2], np.int32)
        alive = np.ones(stay.shape, bool)
        for _, later in held:
            alive &= ~later
            stay += alive
        yield frame, changed, stay, [later for later, _ in held]


def centred(palette: np.ndarray, indices: np.ndarray, pixels: np.ndarray,
             weights: np.ndarray) -> np.ndarray:
    """``palette`` (K, 3) uint8 with each colour that some of ``pixels`` (n, 3) chose in
    ``indices`` (n,; K or more: none) moved to their ``weights``-weighted mean, rounded: the
    colour of least squared error for them."""
    k = len(palette)
    mine = indices < k
    indices, pixels, weights = indices[mine], pixels[mine], weights[mine]
    total = np.bincount(indices, weights=weights, minlength=k)
    used = total > 0
    out = palette.copy()
    for ch in range(3):
        sums = np.bincount(indices, weights=weights * pixels[:, ch], minlength=k)
        out[used, ch] = np.rint(sums[used] / total[used])
    return out


def weighted_stats(pixels: np.ndarray, weights: np.ndarray) -> ColorStats:
    """The distinct colours of ``pixels`` (n, C) uint8, each counted with the sum of its pixels'
    ``weights`` (n,)."""
    keys, inverse = np.unique(color_keys(pixels), return_inverse=True)
    counter = ColorCounter()
    counter.add_counts(keys, np.bincount(inverse.ravel(), weights=weights), len(pixels),
                       pixels.shape[1])
    return counter.stats(pixels.shape[1])


class ChangeTables:
    """The mapped frames of a clip that :func:`takes_change_tables`, one after the other."""

    def __init__(self, scan: ClipScan, fit: FitOptions) -> None:
        self.fit = fit
        self._later = replace(fit, max_starts=TABLE_STARTS)
        self._following: tuple[int, np.ndarray] | None = None  # (first frame, palette)
        self._table_before: tuple[int, np.ndarray] | None = None  # (frame, its own table)
        self._first_stay = scan.first_change  # frame 0's pixels stay until their first change
        self._last_change, self._n_frames = scan.last_change, scan.n_frames
        self._held = any(share == 0 for share in scan.shares[1:])  # a transition between holds

    def frames(self, frames: Iterable) -> Iterator[tuple[Frame, MappedFrame]]:
        """Each source frame with its mapped frame, in order."""
        shown: MappedFrame | None = None
        for number, (frame, changed, stay, ahead) in enumerate(on_screen(frames)):
            pixels = frame.pixels
            if shown is None:
                shown = self._first(pixels, frame.duration)
            elif not changed.any():
                shown = replace(shown, duration=frame.duration)
            else:
                # a pixel that never changes again stays to the clip's end, past the look-ahead
                stay = np.where(self._last_change > number, stay, self._n_frames - number)
                shown = self._changed(number, pixels, changed, stay, ahead, shown, frame.duration)
            yield frame, shown

    def _map(self, pixels: np.ndarray, palette: np.ndarray) -> np.ndarray:
        """Nearest ``palette`` indices (in the fit's space) of ``pixels`` (n, C)."""
        moved = np.ascontiguousarray(pixels)[None]
        return map_pixels(moved, color_stats(moved).in_space(self.fit.space), palette)[0]

    def _whole_tolerance(self, pixels: np.ndarray, palette: np.ndarray,
                         mapped: np.ndarray) -> float:
        """The LZW tolerance of a frame that changes the whole picture, whose changed ``pixels``
        (n, 3) map to ``mapped`` indices of ``palette``."""
        if self._held:
            return LZW_TOLERANCE
        error = pixels.astype(np.float64) - palette[mapped]
        return MOTION_TOLERANCE * float(np.einsum("ij,ij->", error, error)) / len(pixels)

    def _first(self, pixels: np.ndarray, duration: int) -> MappedFrame:
        from ..core.kernels.lzw import lzw_choose

        flat = pixels.reshape(-1, pixels.shape[2])
        stay = self._first_stay.ravel()
        palette = fit_colors(weighted_stats(flat, stay), self.fit)
        # the first frame changes the whole picture: its indices are chosen as such a frame's
        targets = flat.astype(np.float64)
        mapped = self._map(flat, palette)
        chosen = lzw_choose(mapped.astype(np.int32), targets, palette.astype(np.float64),
                            len(palette), -1, np.empty((0, 3)),
                            self._whole_tolerance(flat, palette, mapped) / stay,
                            max(2, (len(palette) - 1).bit_length()))
        palette = centred(palette, chosen, targets, stay.astype(np.float64))
        indices = chosen.reshape(pixels.shape[:2]).astype(np.int16)
        return MappedFrame(0, palette, indices, palette[indices], duration)

    def _table(self, number: int, moved: np.ndarray,
               stay: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Frame ``number``'s table (K - 1 colours at most) for its changed pixels ``moved``
        (n, C), each weighted by the ``stay`` frames it stays on screen, and their indices."""
        fit = replace(self._later, k=self.fit.k - 1)
        if self._table_before is not None and self._table_before[0] == number - 1 \
                and len(self._table_before[1]) == fit.k:
            # what moves keeps its colours a frame later: a start from the last table, and one
            # seeded start (the better kept) for the background the patch uncovers anew
            fit = replace(fit, init_centers=self._table_before[1].astype(np.float64), max_starts=1)
        palette = fit_colors(weighted_stats(moved, stay.astype(np.float64)), fit)
        self._table_before = number, palette
        return palette, self._map(moved, palette)

    def _followed(self, number: int, pixels: np.ndarray, ahead: list) -> tuple[int, np.ndarray]:
        """The palette id and palette of a frame that changes most of the picture: one fitted to
        it and the frames held after it, kept for :data:`LOOKAHEAD` frames."""
        if self._following is None or number - self._following[0] >= LOOKAHEAD:
            counts = ColorCounter()  # frame by frame: no copy of the frames together
            for frame in (pixels, *(later.pixels for later in ahead)):
                counts.add(frame)
            self._following = number, fit_colors(counts.stats(), replace(self._later,
                                                                       k=self.fit.k - 1))
        return self._following

    def _changed(self, number: int, pixels: np.ndarray, changed: np.ndarray, stay: np.ndarray,
                 ahead: list, before: MappedFrame, duration: int) -> MappedFrame:
        from ..core.kernels.lzw import lzw_choose

        own = changed.mean() < MOST_CHANGED  # part of the picture: a table of its own
        moved = pixels[changed]
        if own:
            self._following = None
            palette_id, allowed = number, PART_TOLERANCE
            palette, mapped = self._table(number, moved, stay[changed])
        else:  # the picture changes: palettes follow it
            palette_id, palette = self._followed(number, pixels, ahead)
            mapped = self._map(moved, palette)
            allowed = self._whole_tolerance(moved, palette, mapped)
        rect = bounding_rect(changed)  # not None: the frame changes something
        inside = changed[rect]
        kept = before.colors[rect].reshape(-1, 3).astype(np.float64)
        clear = len(palette)  # the entry GIF leaves free: "as before"
        preferred = np.full(inside.shape, clear, np.int32)
        preferred[inside] = mapped
        targets = kept.copy()
        targets[inside.ravel()] = moved
        # an unchanged pixel keeps its colour (-1: only its own index); a changed one may move
        tolerance = np.where(inside, allowed / stay[rect], -1.0).ravel()

        def choose(palette: np.ndarray) -> np.ndarray:
            return lzw_choose(preferred.ravel(), targets, palette.astype(np.float64), clear,
                              clear, kept, tolerance, max(2, clear.bit_length()))

        chosen = choose(palette)
        if own:
            weights = stay[rect].ravel().astype(np.float64)
            for _ in range(TABLE_ROUNDS):
                palette = centred(palette, chosen, targets, weights)
                preferred[inside] = self._map(moved, palette)
                chosen = choose(palette)
            palette = centred(palette, chosen, targets, weights)
        chosen = chosen.reshape(inside.shape)
        indices = np.full(changed.shape, -1, np.int16)
        indices[rect] = np.where(chosen == clear, -1, chosen)
        colors = before.colors.copy()
        colors[rect] = np.where((chosen == clear)[..., None], before.colors[rect],
                                palette[np.minimum(chosen, clear - 1)])
        return MappedFrame(palette_id, palette, indices, colors, duration)
