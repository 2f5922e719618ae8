"""The multi-frame ``.qnt`` file (docs/FORMAT.md, "Animations"): a small header, then per frame
its duration, the rectangle it changes and an ordinary single-frame ``.qnt`` file of that
rectangle (with the frame's palette), then a CRC32. The reader checks every field before it
trusts it, and reports any malformed input as one :class:`~quantize.errors.FormatError`."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from ..io import container
from ..choices import DEFAULT_CODEC
from ..errors import FormatError
from .canvas import Canvas
from .choices import MAX_DURATION_MS
from .temporal import MappedFrame

MAGIC = b"\x89QNA\r\n\x1a\n"
VERSION = 1
# magic, version, width, height, plays, frames
_HEADER = struct.Struct("<8sHIIII")
# duration (ms), left, top, bytes of the frame's .qnt file
_FRAME = struct.Struct("<IIIQ")
_CRC = 4


def _rect_palette(frame: MappedFrame, rect: tuple[slice, slice]) -> tuple[np.ndarray, np.ndarray]:
    """The palette and indices of the frame's rectangle: the frame's palette, followed by the
    colours it keeps from before and lacks (index -1), if any."""
    indices = frame.indices[rect]
    foreign = indices < 0
    if not foreign.any():
        return frame.palette, indices
    extra, inverse = np.unique(frame.colors[rect][foreign], axis=0, return_inverse=True)
    indices = indices.astype(np.int32)
    indices[foreign] = len(frame.palette) + inverse.ravel()
    return np.concatenate([frame.palette, extra]), indices


class QntWriter:
    """Add merged frames in order, then :meth:`finish` for the file's bytes."""

    def __init__(self, width: int, height: int, plays: int, codec: str = DEFAULT_CODEC) -> None:
        self.width, self.height, self.plays, self.codec = width, height, plays, codec
        self._body: list[bytes] = []
        self._canvas = Canvas()

    def add(self, frame: MappedFrame) -> None:
        rect, _ = self._canvas.update(frame.colors)
        packed = container.encode(*_rect_palette(frame, rect), self.codec)
        self._body.append(_FRAME.pack(frame.duration, rect[1].start, rect[0].start, len(packed)))
        self._body.append(packed)

    def finish(self) -> bytes:
        head = _HEADER.pack(MAGIC, VERSION, self.width, self.height, self.plays, len(self._body) // 2)
        data = b"".join([head, *self._body])
        return data + struct.pack("<I", zlib.crc32(data))


@dataclass(frozen=True)
class QntAnimation:
    """A decoded multi-frame ``.qnt`` file: size, plays (0: for ever) and the frames' durations."""

    width: int
    height: int
    plays: int
    durations: tuple[int, ...]
    _data: memoryview

    def frames(self) -> Iterator[np.ndarray]:
        """Every frame as it shows, (H, W, C) uint8, one at a time."""
        pos = _HEADER.size
        canvas: np.ndarray | None = None
        for number in range(len(self.durations)):
            _, left, top, size = _FRAME.unpack_from(self._data, pos)
            pos += _FRAME.size
            image = container.decode(self._data[pos:pos + size], max_pixels=self.width * self.height)
            pos += size
            h, w = image.indices.shape
            if left + w > self.width or top + h > self.height:
                raise FormatError(f"frame {number + 1}'s rectangle leaves the {self.width}x"
                                  f"{self.height} canvas")
            if canvas is None:
                if (w, h) != (self.width, self.height):
                    raise FormatError("the first frame does not cover the canvas")
                canvas = np.empty((self.height, self.width, image.palette.shape[1]), np.uint8)
            elif image.palette.shape[1] != canvas.shape[2]:
                raise FormatError(f"frame {number + 1} has {image.palette.shape[1]} channels, "
                                  f"the first {canvas.shape[2]}")
            canvas[top:top + h, left:left + w] = image.pixels()
            yield canvas.copy()


def decode_animation(data: bytes | memoryview) -> QntAnimation:
    """Check a multi-frame ``.qnt`` file's header, frame table and CRC; frames decode lazily."""
    view = memoryview(data)
    if len(view) < _HEADER.size + _CRC:
        raise FormatError("not a multi-frame .qnt file (too short)")
    magic, version, width, height, plays, n_frames = _HEADER.unpack_from(view)
    if magic != MAGIC:
        raise FormatError("not a multi-frame .qnt file (bad magic)")
    if version != VERSION:
        raise FormatError(f"multi-frame .qnt version {version} is not supported (this reads {VERSION})")
    if zlib.crc32(view[:-_CRC]) != struct.unpack("<I", view[-_CRC:])[0]:
        raise FormatError("multi-frame .qnt file is corrupt (CRC mismatch)")
    if not n_frames or not width or not height:
        raise FormatError("multi-frame .qnt file has no frames or no pixels")
    durations, pos = [], _HEADER.size
    for number in range(n_frames):
        if pos + _FRAME.size > len(view) - _CRC:
            raise FormatError(f"multi-frame .qnt file is truncated at frame {number + 1}")
        duration, _, _, size = _FRAME.unpack_from(view, pos)
        if duration > MAX_DURATION_MS:
            raise FormatError(f"frame {number + 1} lasts {duration} ms, more than {MAX_DURATION_MS}")
        durations.append(duration)
        pos += _FRAME.size + size
    if pos != len(view) - _CRC:
        raise FormatError("multi-frame .qnt file's frame table does not match its length")
    return QntAnimation(width, height, plays, tuple(durations), view[:-_CRC])
