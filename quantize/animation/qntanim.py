"""The multi-frame ``.qnt`` file (docs/FORMAT.md, "Animations"): a small header, then per frame
its duration, the rectangle it changes, whether its palette's last entry means "as before", and
an ordinary single-frame ``.qnt`` file of that rectangle (with the frame's palette), then a CRC32.
Version 1 files (kept colours appended to the palette, no flag) are still read. The reader checks
every field before it trusts it, and reports any malformed input as one
:class:`~quantize.errors.FormatError`."""

from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from ..io import container
from ..io.files import display_name, open_input, read_input
from ..choices import DEFAULT_CODEC
from ..errors import FormatError
from .canvas import Canvas
from .choices import MAX_DURATION_MS
from .temporal import MappedFrame

MAGIC = container.ANIMATION_MAGIC
VERSION = 2
# magic, version, width, height, plays, frames
_HEADER = struct.Struct("<8sHIIII")
# duration (ms), left, top, bytes of the frame's .qnt file (version 1)
_FRAME_V1 = struct.Struct("<IIIQ")
# duration (ms), left, top, flags, bytes of the frame's .qnt file
_FRAME = struct.Struct("<IIIIQ")
_RECORDS = {1: _FRAME_V1, 2: _FRAME}
#: Frame flag: the palette's last entry is no colour but "the canvas as it was" (GIF's
#: transparent index), for the pixels a frame keeps.
KEEP = 1
_CRC = 4


def _codings(frame: MappedFrame, rect: tuple[slice, slice],
             changed: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray, int]]:
    """The ways to pack the frame's rectangle, each (palette, indices, flags): its indices as
    they are when the palette holds every colour shown; else the pixels kept with index -1 as
    one extra "as before" entry; and the unchanged pixels as that entry too (as GIF tries
    both). Each palette holds only the entries its indices use (a small change of a picture
    with many colours carries the few it shows, not the whole palette again)."""
    indices = frame.indices[rect]
    foreign = indices < 0
    keep = len(frame.palette)  # the entry that means "as before" (its colour is never shown)
    if not foreign.any():
        yield (*_used(frame.palette, indices), 0)
    else:
        yield (*_used(frame.palette, np.where(foreign, keep, indices), keep=True), KEEP)
    if not changed.all():
        yield (*_used(frame.palette, np.where(foreign | ~changed, keep, indices), keep=True), KEEP)


def _used(palette: np.ndarray, indices: np.ndarray,
          keep: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The entries of ``palette`` that ``indices`` use, in order, and the indices renumbered to
    them; with ``keep``, index ``len(palette)`` ("as before") becomes the new palette's last
    entry (a colour never shown)."""
    k = len(palette)
    used = np.bincount(indices.ravel(), minlength=k + 1)[:k] > 0
    renumber = np.cumsum(used) - 1
    kept = palette[used]
    if keep:
        renumber = np.append(renumber, len(kept))
        kept = np.concatenate([kept, np.zeros((1, palette.shape[1]), np.uint8)])
    return kept, renumber[indices].astype(np.int32)


class QntWriter:
    """Add merged frames in order, then :meth:`finish` for the file's bytes."""

    def __init__(self, width: int, height: int, plays: int, codec: str = DEFAULT_CODEC) -> None:
        self.width, self.height, self.plays, self.codec = width, height, plays, codec
        self._body: list[bytes] = []
        self._canvas = Canvas()

    def add(self, frame: MappedFrame) -> None:
        rect, changed = self._canvas.update(frame.colors)  # the first frame: all changed
        packed, flags = min(((container.encode(palette, indices, self.codec), flags)
                             for palette, indices, flags in _codings(frame, rect, changed)),
                            key=lambda coding: len(coding[0]))
        self._body.append(_FRAME.pack(frame.duration, rect[1].start, rect[0].start, flags,
                                      len(packed)))
        self._body.append(packed)

    def finish(self) -> bytes:
        head = _HEADER.pack(MAGIC, VERSION, self.width, self.height, self.plays, len(self._body) // 2)
        data = b"".join([head, *self._body])
        return data + struct.pack("<I", zlib.crc32(data))


@dataclass(frozen=True)
class QntAnimation:
    """A decoded multi-frame ``.qnt`` file: size, channels, plays (0: for ever), the frames'
    durations and the codecs their rectangles are packed with."""

    width: int
    height: int
    channels: int
    plays: int
    durations: tuple[int, ...]
    codecs: tuple[str, ...]
    _data: memoryview
    version: int = VERSION

    def frames(self) -> Iterator[np.ndarray]:
        """Every frame as it shows, (H, W, C) uint8, one at a time."""
        return (frame.colors for frame in self.mapped())

    def mapped(self) -> Iterator[MappedFrame]:
        """Every frame as the writers take it: its rectangle's palette and indices (-1 outside the
        rectangle), the canvas it shows (a copy) and its duration."""
        record = _RECORDS[self.version]
        pos = _HEADER.size
        canvas: np.ndarray | None = None
        for number, duration in enumerate(self.durations):
            _, left, top, *flags, size = record.unpack_from(self._data, pos)
            pos += record.size
            image = container.decode(self._data[pos:pos + size], max_pixels=self.width * self.height)
            pos += size
            h, w = image.indices.shape
            if left + w > self.width or top + h > self.height:
                raise FormatError(f"frame {number + 1}'s rectangle leaves the {self.width}x"
                                  f"{self.height} canvas")
            if canvas is None:
                if (w, h) != (self.width, self.height):
                    raise FormatError("the first frame does not cover the canvas")
                canvas = np.empty((self.height, self.width, self.channels), np.uint8)
            if image.palette.shape[1] != self.channels:
                raise FormatError(f"frame {number + 1} has {image.palette.shape[1]} channels, "
                                  f"the first {self.channels}")
            rect = (slice(top, top + h), slice(left, left + w))
            indices = np.full((self.height, self.width), -1, np.int32)
            palette = image.palette
            if flags and flags[0] & KEEP:
                palette = palette[:-1]
                kept = image.indices == len(palette)
                indices[rect] = np.where(kept, -1, image.indices.astype(np.int32))
                canvas[rect] = np.where(kept[..., None], canvas[rect], image.pixels())
            else:
                indices[rect] = image.indices
                canvas[rect] = image.pixels()
            yield MappedFrame(number, palette, indices, canvas.copy(), duration)


def decode_animation(data: bytes | memoryview) -> QntAnimation:
    """Check a multi-frame ``.qnt`` file's header, frame table and CRC; frames decode lazily."""
    view = memoryview(data)
    if len(view) < _HEADER.size + _CRC:
        raise FormatError("not a multi-frame .qnt file (too short)")
    magic, version, width, height, plays, n_frames = _HEADER.unpack_from(view)
    if magic != MAGIC:
        raise FormatError("not a multi-frame .qnt file (bad magic)")
    if version not in _RECORDS:
        raise FormatError(f"multi-frame .qnt version {version} is not supported (this reads "
                          f"{', '.join(map(str, _RECORDS))})")
    record = _RECORDS[version]
    if zlib.crc32(view[:-_CRC]) != struct.unpack("<I", view[-_CRC:])[0]:
        raise FormatError("multi-frame .qnt file is corrupt (CRC mismatch)")
    if not n_frames or not width or not height:
        raise FormatError("multi-frame .qnt file has no frames or no pixels")
    durations, headers, pos = [], [], _HEADER.size
    for number in range(n_frames):
        if pos + record.size > len(view) - _CRC:
            raise FormatError(f"multi-frame .qnt file is truncated at frame {number + 1}")
        duration, _, _, *flags, size = record.unpack_from(view, pos)
        if duration > MAX_DURATION_MS:
            raise FormatError(f"frame {number + 1} lasts {duration} ms, more than {MAX_DURATION_MS}")
        pos += record.size
        if pos + size > len(view) - _CRC:
            raise FormatError(f"multi-frame .qnt file is truncated at frame {number + 1}")
        header = container.read_header(view[pos:pos + size])
        if flags and flags[0] & ~KEEP:
            raise FormatError(f"frame {number + 1} has unknown flags {flags[0]:#x}")
        if flags and flags[0] & KEEP and (number == 0 or header.k < 2):
            raise FormatError(f"frame {number + 1} keeps pixels from before "
                              f"{'the first frame' if number == 0 else 'with no colour of its own'}")
        durations.append(duration)
        headers.append(header)
        pos += size
    if pos != len(view) - _CRC:
        raise FormatError("multi-frame .qnt file's frame table does not match its length")
    return QntAnimation(width, height, headers[0].channels, plays, tuple(durations),
                        tuple(h.codec for h in headers), view[:-_CRC], version)


def is_animation_file(path: str | os.PathLike[str]) -> bool:
    """Whether the packed file at ``path`` is a multi-frame ``.qnt`` (by its magic)."""
    with open_input(path, "packed", allow_empty=True) as (fh, _):
        return fh.read(len(MAGIC)) == MAGIC


def load_animation(path: str | os.PathLike[str]) -> QntAnimation:
    """Read and check the multi-frame ``.qnt`` file at ``path`` (:func:`decode_animation`); a
    corrupt file is a :class:`FormatError` that names it."""
    data = read_input(path, "packed")
    try:
        return decode_animation(data)
    except FormatError as exc:
        raise FormatError(f"{display_name(Path(path))}: {exc}") from None
