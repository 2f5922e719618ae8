"""Animated PNG (APNG), written frame by frame: each frame the smallest rectangle it changes,
replacing what was there. One palette for the whole clip (at most 256 colours) gives an indexed
APNG; otherwise the frames are truecolour, as APNG has one palette for all frames. An opaque
truecolour clip is also coded as RGBA frames whose unchanged pixels are transparent and blended
over the canvas (a fade keeps most pixels of the frame before); the smaller file is kept."""

from __future__ import annotations

import struct
import zlib

import numpy as np

from .canvas import Canvas
from .temporal import MappedFrame

_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_INDEXED, _RGB, _RGBA = 3, 2, 6
_ZLIB_LEVEL = 9


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(data, zlib.crc32(kind)))


def _deflated(rows: np.ndarray) -> bytes:
    """Rows (h, w * bytes per pixel) uint8 with filter type 0 (none) before each, deflated."""
    filtered = np.zeros((rows.shape[0], rows.shape[1] + 1), np.uint8)
    filtered[:, 1:] = rows
    return zlib.compress(filtered.tobytes(), _ZLIB_LEVEL)


def _delay(duration: int) -> tuple[int, int]:
    """fcTL's delay fraction for ``duration`` ms (in centiseconds beyond 65.535 s)."""
    return (duration, 1000) if duration <= 65535 else (round(duration / 10), 100)


class ApngWriter:
    """Add merged frames in order, then :meth:`finish` with the number of frames for the bytes.
    ``indexed`` says whether every frame has the same palette of at most 256 colours."""

    def __init__(self, width: int, height: int, plays: int, channels: int, indexed: bool) -> None:
        self.width, self.height, self.plays = width, height, plays
        self.channels, self.indexed = channels, indexed
        self._body: list[bytes] = []
        # the same frames as RGBA blended over the canvas (opaque truecolour clips only)
        self._over: list[bytes] | None = None if indexed or channels == 4 else []
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
        colors = frame.colors
        rect, changed = self._canvas.update(colors)
        rows = (frame.indices[rect] if self.indexed else colors[rect]).astype(np.uint8)
        self._body += self._frame(rect, rows, frame.duration, over=False)
        if self._over is not None:
            over = np.zeros((*rows.shape[:2], 4), np.uint8)
            over[changed] = np.concatenate([rows[changed], np.full((int(changed.sum()), 1), 255,
                                                                   np.uint8)], axis=1)
            self._over += self._frame(rect, over, frame.duration, over=True)
        self._sequence += 1 if self._frames == 0 else 2
        self._frames += 1

    def finish(self) -> bytes:
        body, color_type = self._body, _INDEXED if self.indexed else _RGBA if self.channels == 4 \
            else _RGB
        if self._over is not None and sum(map(len, self._over)) < sum(map(len, body)):
            body, color_type = self._over, _RGBA
        head = [_SIGNATURE, _chunk(b"IHDR", struct.pack(">IIBBBBB", self.width, self.height, 8,
                                                        color_type, 0, 0, 0)),
                _chunk(b"acTL", struct.pack(">II", self._frames, self.plays))]
        if self.indexed:
            head.append(_chunk(b"PLTE", self._palette[:, :3].tobytes()))
            if self._palette.shape[1] == 4 and self._palette[:, 3].min() < 255:
                head.append(_chunk(b"tRNS", self._palette[:, 3].tobytes()))
        return b"".join(head + body + [_chunk(b"IEND", b"")])
