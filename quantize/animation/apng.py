"""Animated PNG (APNG), written frame by frame: each frame the smallest rectangle it changes,
replacing what was there. One palette for the whole clip (at most 256 colours) gives an indexed
APNG; otherwise the frames are truecolour, as APNG has one palette for all frames. An opaque
truecolour clip is also coded as RGBA frames whose unchanged pixels are transparent and blended
over the canvas (a fade keeps most pixels of the frame before); the coding smaller over the first
:data:`TRIAL_FRAMES` frames is kept, so that one file's frames are held, not two."""

from __future__ import annotations

import math
import struct
import zlib

import numpy as np

from .canvas import Canvas
from .temporal import MappedFrame

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_INDEXED, _RGB, _RGBA = 3, 2, 6
_ZLIB_LEVEL = 9
#: Frames over which an opaque truecolour clip is coded both ways before the smaller way is kept.
TRIAL_FRAMES = 8


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))


def _deflated(rows: np.ndarray) -> bytes:
    """Rows (h, w * bytes per pixel) uint8 with filter type 0 (none) before each, deflated."""
    filtered = np.zeros((rows.shape[0], rows.shape[1] + 1), np.uint8)
    filtered[:, 1:] = rows
    return zlib.compress(filtered.tobytes(), _ZLIB_LEVEL)


def _delay(duration: int) -> tuple[int, int]:
    """fcTL's delay fraction for ``duration`` ms: exact where its lowest terms fit 16 bits (every
    duration to 65.535 s, and most beyond), else in centiseconds."""
    if duration <= 65535:
        return duration, 1000
    whole = math.gcd(duration, 1000)
    if duration // whole <= 65535:
        return duration // whole, 1000 // whole
    return round(duration / 10), 100


class ApngWriter:
    """Add merged frames in order, then :meth:`finish` with the number of frames for the bytes.
    ``indexed`` says whether every frame has the same palette of at most 256 colours."""

    def __init__(self, width: int, height: int, plays: int, channels: int, indexed: bool) -> None:
        self.width, self.height, self.plays = width, height, plays
        self.channels, self.indexed = channels, indexed
        # the chunks of each coding still tried: rectangles that replace the canvas, and (opaque
        # truecolour clips only) RGBA rectangles blended over it
        self._codings: dict[str, list[bytes]] = {"replace": []}
        if not indexed and channels == 3:
            self._codings["over"] = []
        self._canvas = Canvas()
        self._sequence = 0
        self._frames = 0
        self._palette: np.ndarray | None = None

    def _frame(self, rect: tuple[slice, slice], rows: np.ndarray, duration: int,
               over: bool) -> list[bytes]:
        """The fcTL and IDAT or fdAT chunks of one frame's rectangle ``rows`` (h, w[, C]); with
        ``over`` its transparent pixels leave the canvas as it was."""
        height, width = rows.shape[:2]
        num, den = _delay(duration)
        blend = over and self._frames > 0
        chunks = [_chunk(b"fcTL", struct.pack(">IIIIIHHBB", self._sequence, width, height,
                                              rect[1].start, rect[0].start, num, den, 0, blend))]
        data = _deflated(rows.reshape(height, -1))
        if self._frames == 0:
            chunks.append(_chunk(b"IDAT", data))
        else:
            chunks.append(_chunk(b"fdAT", struct.pack(">I", self._sequence + 1) + data))
        return chunks

    def add(self, frame: MappedFrame) -> None:
        if self._palette is None:
            self._palette = frame.palette
        rect, changed = self._canvas.update(frame.colors, frame.rect)
        rows = (frame.indices[rect] if self.indexed else frame.colors[rect]).astype(np.uint8)
        for coding, chunks in self._codings.items():
            if coding == "over":
                over = np.zeros((*rows.shape[:2], 4), np.uint8)
                over[changed, :3] = rows[changed]
                over[changed, 3] = 255
                chunks += self._frame(rect, over, frame.duration, over=True)
            else:
                chunks += self._frame(rect, rows, frame.duration, over=False)
        self._sequence += 1 if self._frames == 0 else 2
        self._frames += 1
        if self._frames == TRIAL_FRAMES:
            self._settle()

    def _settle(self) -> None:
        """Keep only the coding smaller so far."""
        best = min(self._codings, key=lambda coding: sum(map(len, self._codings[coding])))
        self._codings = {best: self._codings[best]}

    def finish(self) -> bytes:
        self._settle()
        (coding, body), = self._codings.items()
        color_type = _INDEXED if self.indexed else \
            _RGBA if self.channels == 4 or coding == "over" else _RGB
        head = [_SIGNATURE, _chunk(b"IHDR", struct.pack(">IIBBBBB", self.width, self.height, 8,
                                                        color_type, 0, 0, 0)),
                _chunk(b"acTL", struct.pack(">II", self._frames, self.plays))]
        if self.indexed:
            head.append(_chunk(b"PLTE", self._palette[:, :3].tobytes()))
            if self._palette.shape[1] == 4 and self._palette[:, 3].min() < 255:
                head.append(_chunk(b"tRNS", self._palette[:, 3].tobytes()))
        return b"".join(head + body + [_chunk(b"IEND", b"")])
