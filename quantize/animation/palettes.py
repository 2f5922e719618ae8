"""A clip's colour statistics (one pass over its frames) and the palettes its frames are mapped to.

The first pass counts every frame's colours into its part's table and notes where parts start:
at a scene cut, and at a frame that changes most of the picture next to a held picture (one
shown unchanged for more than a frame: the start or the end of a fade, say), as a held picture
is seen longest. Nothing of a frame is kept but its duration. The palettes then follow the mode:
``global`` fits one palette to the whole clip's colour counts (as ``batch --shared-palette`` does
for a folder); ``frame`` fits one to each frame as it comes; ``auto`` fits one per part but keeps
the clip's palette wherever it serves the part within :data:`AUTO_TOLERANCE` of the part's own,
and a clip of at most K colours gets one palette of exactly them.

A palette that follows another has at most K - 1 colours when K is a power of two, so that a GIF
frame has an index free to show the pixels it keeps from before (see :mod:`.temporal`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ..core.colorstats import ColorStats, color_keys, color_stats
from ..core.fitting import FitOptions, fit_palette, to_palette
from ..core.mapping import map_colors
from .canvas import differs
from .choices import GIF_TABLE

#: A part's own palette replaces the clip's only when the clip's has a squared error more than
#: this share above it (a new palette costs a colour table and every index of the frame).
AUTO_TOLERANCE = 0.15
#: A new scene starts where the mean absolute luma change from the previous frame is above this
#: (on the 0..255 scale); a fade or a pan stays one scene.
SCENE_CUT = 40.0
#: A frame that changes at least this share of the pixels starts a part when it follows or
#: begins a held picture.
MOST_CHANGED = 0.5
_SCENE_STEP = 4  # the scene test looks at every 4th pixel of every 4th row
_COMPACT_ENTRIES = 1 << 22  # counted colours held before duplicates are summed


class ColorCounter:
    """The distinct colours of many frames with their summed pixel counts, in bounded memory.
    RGB frames are counted as RGB until an RGBA frame comes, then every colour as RGBA."""

    def __init__(self) -> None:
        self.channels = 3
        self._keys: list[np.ndarray] = []
        self._counts: list[np.ndarray] = []
        self._held = 0
        self.n_pixels = 0

    def add(self, pixels: np.ndarray) -> None:
        """Count the colours of ``pixels`` (H, W, C) uint8."""
        stats = color_stats(pixels)
        self.add_counts(color_keys(stats.colors), stats.counts, stats.n_pixels, pixels.shape[2])

    def add_counts(self, keys: np.ndarray, counts: np.ndarray, n_pixels: int,
                   channels: int) -> None:
        """Add colours given as :func:`~quantize.core.colorstats.color_keys` of ``channels`` channels
        with their pixel counts."""
        if channels == 4 and self.channels == 3:
            self._keys = [_opaque(k) for k in self._keys]
            self.channels = 4
        self._keys.append(_opaque(keys) if channels < self.channels else keys)
        self._counts.append(counts)
        self._held += len(keys)
        self.n_pixels += n_pixels
        if self._held > _COMPACT_ENTRIES:
            self._compact()

    def _compact(self) -> None:
        keys = np.concatenate(self._keys)
        # each frame's keys come sorted: a stable sort merges those runs, where np.unique re-sorts
        order = np.argsort(keys, kind="stable")
        keys = keys[order]
        first = np.empty(len(keys), bool)
        first[:1] = True
        np.not_equal(keys[1:], keys[:-1], out=first[1:])
        counts = np.bincount(np.cumsum(first) - 1, weights=np.concatenate(self._counts)[order])
        self._keys, self._counts, self._held = [keys[first]], [counts], int(first.sum())

    def keys_counts(self) -> tuple[np.ndarray, np.ndarray]:
        """The distinct colour keys (ascending) and their pixel counts."""
        if len(self._keys) != 1:
            self._compact()
        return self._keys[0], self._counts[0]

    def stats(self, channels: int = 3) -> ColorStats:
        """The counted colours as :class:`~quantize.core.colorstats.ColorStats` (no pixel rows), with
        at least ``channels`` channels."""
        keys, counts = self.keys_counts()
        channels = max(channels, self.channels)
        if channels > self.channels:
            keys = _opaque(keys)
        colors = np.empty((len(keys), channels), np.uint8)
        for ch in range(channels):
            colors[:, ch] = (keys >> (8 * (channels - 1 - ch))) & 0xFF
        return ColorStats(colors, counts.astype(np.float64), None, self.n_pixels)


def _opaque(rgb_keys: np.ndarray) -> np.ndarray:
    """RGB colour keys as the keys of the same colours with alpha 255."""
    return (rgb_keys << 8) | 255


@dataclass
class ClipScan:
    """What the first pass learnt: size, channels, per-frame durations, part starts and colours."""

    width: int = 0
    height: int = 0
    channels: int = 3
    durations: list[int] = field(default_factory=list)
    part_starts: list[int] = field(default_factory=list)
    parts: list[ColorCounter] = field(default_factory=list)
    shares: list[float] = field(default_factory=list)  # of each frame's pixels changed (1 first)
    scenes: int = 0  # the first frame and each scene cut start one
    #: (H, W) the number of the first frame that changes each pixel (n_frames if none does)
    first_change: np.ndarray | None = None
    #: (H, W) the number of the last frame that changes each pixel (0 if none does)
    last_change: np.ndarray | None = None

    def _start_part(self, number: int) -> None:
        self.part_starts.append(number)
        self.parts.append(ColorCounter())

    @property
    def n_frames(self) -> int:
        return len(self.durations)

    def fits_in(self, k: int) -> bool:
        """Whether the whole clip has at most ``k`` distinct colours (as the first pass counted
        them), so that one palette of its own colours shows it exactly."""
        if not self.parts or not all(part.n_pixels for part in self.parts):  # not counted
            return False
        if any(len(part.keys_counts()[0]) > k for part in self.parts):
            return False
        return len(self.total().keys_counts()[0]) <= k

    def total(self) -> ColorCounter:
        """Every part's colour counts together."""
        total = ColorCounter()
        for part in self.parts:
            total.add_counts(*part.keys_counts(), part.n_pixels, part.channels)
        return total


def scan_clip(frames, *, count_colors: bool = True) -> ClipScan:
    """Read every frame once: check it, note its duration and part, count its colours."""
    scan = ClipScan()
    previous = previous_luma = None
    shares = scan.shares
    pending = None  # the previous frame's colour counts: its part may start at it
    for number, frame in enumerate(frames):
        pixels = frame.pixels
        if number == 0:
            scan.height, scan.width = pixels.shape[:2]
            scan.first_change = np.full(pixels.shape[:2], -1, np.int32)
            scan.last_change = np.zeros(pixels.shape[:2], np.int32)
        scan.durations.append(frame.duration)
        luma = _luma_probe(pixels)
        share = 1.0
        if previous is not None:
            changed = differs(pixels, previous)
            share = float(changed.mean())
            if share:
                scan.first_change[changed & (scan.first_change < 0)] = number
                scan.last_change[changed] = number
        if share == 0 and number > 1 and shares[-1] >= MOST_CHANGED \
                and scan.part_starts[-1] != number - 1:  # the previous frame begins a hold
            scan._start_part(number - 1)
        if pending is not None:
            scan.parts[-1].add_counts(*pending)
        cut = previous is None or float(np.abs(luma - previous_luma).mean()) > SCENE_CUT
        scan.scenes += cut
        if cut or (share >= MOST_CHANGED and shares[-1] == 0):
            scan._start_part(number)
        previous, previous_luma = pixels, luma
        shares.append(share)
        scan.channels = max(scan.channels, pixels.shape[2])
        if count_colors:
            stats = color_stats(pixels)
            pending = color_keys(stats.colors), stats.counts, stats.n_pixels, pixels.shape[2]
    if pending is not None:
        scan.parts[-1].add_counts(*pending)
    if scan.first_change is not None:
        scan.first_change[scan.first_change < 0] = scan.n_frames
    return scan


def _luma_probe(pixels: np.ndarray) -> np.ndarray:
    sub = pixels[::_SCENE_STEP, ::_SCENE_STEP, :3].astype(np.float32)
    return sub @ np.array([0.299, 0.587, 0.114], np.float32)


def fit_colors(stats: ColorStats, fit: FitOptions) -> np.ndarray:
    """A palette of at most ``fit.k`` uint8 colours fitted to ``stats`` (and at K = 1 the fully
    transparent pixels' entry beside the colour, as :func:`~quantize.core.fitting.fit_palette`
    keeps it)."""
    return to_palette(fit_palette(None, stats.in_space(fit.space), replace(fit, sample=None)).centers)


def squared_error(stats: ColorStats, palette: np.ndarray, space: str) -> float:
    """The mean squared RGB(A) error of mapping ``stats``' colours to ``palette`` in ``space``."""
    labels = map_colors(stats.in_space(space), palette)
    diff = stats.colors.astype(np.float64) - palette[labels]
    return float((stats.counts * (diff * diff).sum(axis=1)).sum() / stats.counts.sum())


def _with_free_index(fit: FitOptions) -> FitOptions:
    """``fit`` for a palette that follows another: K colours, but 255 at K = 256, where a GIF
    table cannot grow to keep an index for unchanged pixels."""
    return replace(fit, k=min(fit.k, GIF_TABLE - 1))


class PaletteSchedule:
    """Which palette each frame is mapped to: ``palette_for(number, pixels)`` gives an id (equal
    ids, equal palettes) and the palette."""

    def __init__(self, scan: ClipScan, mode: str, fit: FitOptions) -> None:
        self.mode, self.fit = mode, fit
        self._frame_starts: list[int] = []
        self._palettes: list[np.ndarray] = []
        self._n_frames = scan.n_frames
        if mode == "frame":
            return
        total = scan.total().stats(scan.channels)
        # one palette of at most K colours shows a clip of that many exactly
        if mode == "global" or len(scan.parts) == 1 or total.n_colors <= fit.k:
            self._frame_starts, self._palettes = [0], [fit_colors(total, fit)]
            return
        fit = _with_free_index(fit)
        clip_palette = fit_colors(total, fit)
        for start, part in zip(scan.part_starts, scan.parts):
            stats = part.stats(scan.channels)
            own = fit_colors(stats, fit)
            if squared_error(stats, clip_palette, fit.space) > \
                    (1 + AUTO_TOLERANCE) * squared_error(stats, own, fit.space):
                self._frame_starts.append(start)
                self._palettes.append(own)
            elif not self._palettes or self._palettes[-1] is not clip_palette:
                self._frame_starts.append(start)
                self._palettes.append(clip_palette)

    @property
    def n_palettes(self) -> int:
        """How many palettes the clip's frames use (frame mode: one per frame, counted as 0)."""
        return len(self._palettes)

    def most_used(self) -> np.ndarray | None:
        """The palette that most frames use (None in frame mode)."""
        if not self._palettes:
            return None
        spans = np.diff([*self._frame_starts, self._n_frames])
        return self._palettes[int(np.argmax(spans))]

    def palette_for(self, number: int, pixels: np.ndarray) -> tuple[int, np.ndarray]:
        if self.mode == "frame":
            fit = self.fit if number == 0 else _with_free_index(self.fit)
            return number, fit_colors(color_stats(pixels), fit)
        which = int(np.searchsorted(self._frame_starts, number, side="right")) - 1
        return which, self._palettes[which]
