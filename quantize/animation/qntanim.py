"""The multi-frame ``.qnt`` file (docs/FORMAT.md, "Animations"): a small header, then the frame
table, stored as it is or coded by zstd or lzma where that is smaller (a screen recording's frames
repeat their headers and colours), then a CRC32. The table holds per frame its duration, the
rectangle it changes, whether its palette's last entry means "as before", and an ordinary
single-frame ``.qnt`` file of that rectangle (with the frame's palette). Version 2 files (the
table always as it is) and version 1 files (kept colours appended to the palette, no flag) are
still read. The reader checks every field before it trusts it, and reports any malformed input
as one :class:`~quantize.errors.FormatError`."""

from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass, replace
from typing import BinaryIO, Iterator

import numpy as np

from ..core.colorstats import color_keys
from ..io import container
from ..io.files import display_name, input_path, is_stream, open_input, read_input, read_stream
from ..choices import CODECS, DEFAULT_CODEC
from ..errors import FormatError
from .canvas import Canvas
from .choices import GIF_TABLE, MAX_DURATION_MS, MAX_PLAYS
from .temporal import MappedFrame

MAGIC = container.ANIMATION_MAGIC
VERSION = 3
# magic, version, width, height, plays, frames
_HEADER = struct.Struct("<8sHIIII")
# version 3, after the header: the frame table's codec (an id of CODECS) and its bytes
# once decoded
_TABLE = struct.Struct("<BQ")
#: The coders a frame table may be stored with (the first: as it is).
TABLE_CODECS = ("none", "zstd", "lzma")
#: A table is coded where zstd's fastest level makes it at most this share of its size (a
#: photo clip's frames, coded by cm, gain nothing and pay only that probe).
TABLE_GAIN = 0.97
#: A coded table's bytes once decoded may be at most this multiple of its stored bytes (a
#: decompression bomb's bound; a recording of tiny changes codes to a few times smaller).
MAX_TABLE_RATIO = 1024
# duration (ms), left, top, bytes of the frame's .qnt file (version 1)
_FRAME_V1 = struct.Struct("<IIIQ")
# duration (ms), left, top, flags, bytes of the frame's .qnt file
_FRAME = struct.Struct("<IIIIQ")
_RECORDS = {1: _FRAME_V1, 2: _FRAME, 3: _FRAME}
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
    codings = [(*_used(frame.palette, indices), 0) if not foreign.any() else
               (*_used(frame.palette, np.where(foreign, keep, indices), keep=True), KEEP)]
    if not changed.all():
        codings.append((*_used(frame.palette, np.where(foreign | ~changed, keep, indices),
                              keep=True), KEEP))
    # a KEEP frame shows a colour of its own (the format's rule): one that would keep every pixel
    # (a frame equal to the canvas, kept apart by its length) gives its colours as they are
    valid = [coding for coding in codings if not coding[2] & KEEP or len(coding[0]) > 1]
    if not valid:
        shown = frame.colors[rect]
        colors, inverse = np.unique(shown.reshape(-1, shown.shape[-1]), axis=0, return_inverse=True)
        valid = [(colors, inverse.reshape(shown.shape[:2]).astype(np.int32), 0)]
    yield from valid


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
        self._frames = 0
        self._canvas = Canvas()

    def add(self, frame: MappedFrame) -> None:
        rect, changed = self._canvas.update(frame.colors, frame.rect)  # the first frame: all changed
        packed, flags = min(((container.encode(palette, indices, self.codec), flags)
                             for palette, indices, flags in _codings(frame, rect, changed)),
                            key=lambda coding: len(coding[0]))
        self._body.append(_FRAME.pack(frame.duration, rect[1].start, rect[0].start, flags,
                                      len(packed)))
        self._body.append(packed)
        self._frames += 1

    def finish(self) -> bytes:
        table = b"".join(self._body)
        self._body = [table]  # the frames held once, not twice: a long clip's peak memory
        codec, stored = _stored_table(table)
        head = _HEADER.pack(MAGIC, VERSION, self.width, self.height, self.plays, self._frames)
        data = b"".join([head, _TABLE.pack(CODECS.index(codec), len(table)), stored])
        return data + struct.pack("<I", zlib.crc32(data))


def _stored_table(table: bytes) -> tuple[str, bytes]:
    """The frame table as stored: zstd's or lzma's strongest coding where the fastest probe
    shows it pays, the smaller of the two; else as it is."""
    if len(container.compress_bytes("zstd", 1, table)) > TABLE_GAIN * len(table):
        return "none", table
    return min((("zstd", container.compress_bytes("zstd", 19, table)),
                ("lzma", container.compress_bytes("lzma", 9, table))), key=lambda c: len(c[1]))


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
    _table: memoryview  # the frame records
    version: int = VERSION
    table_codec: str = "none"  # how the frame table is stored
    source: str = "multi-frame .qnt"  # the file, named in the errors its frames raise

    def frames(self) -> Iterator[np.ndarray]:
        """Every frame as it shows, (H, W, C) uint8, one at a time."""
        return (frame.colors for frame in self.mapped())

    def mapped(self, palette: np.ndarray | None = None) -> Iterator[MappedFrame]:
        """Every frame as the writers take it: its rectangle's palette and indices (-1 outside the
        rectangle), the canvas it shows (a copy) and its duration. With ``palette`` (the clip's,
        :meth:`palette`), every frame has it, and indices into it for every pixel."""
        canvas: np.ndarray | None = None
        shown: np.ndarray | None = None  # with ``palette``: the index each pixel shows
        for number, duration, left, top, keep, image in self._packed():
            if canvas is None:  # the first frame checked: it covers the canvas
                canvas = np.empty((self.height, self.width, self.channels), np.uint8)
                shown = None if palette is None else np.empty(canvas.shape[:2], np.int32)
            h, w = image.indices.shape
            rect = (slice(top, top + h), slice(left, left + w))
            own = image.palette[:-1] if keep else image.palette
            kept = image.indices == len(own) if keep else np.zeros((h, w), bool)
            canvas[rect] = np.where(kept[..., None], canvas[rect], image.pixels())
            if shown is not None:
                entries = np.append(_positions(own, palette), -1)
                shown[rect] = np.where(kept, shown[rect], entries[image.indices])
                yield MappedFrame(number, palette, shown.copy(), canvas.copy(), duration, rect)
                continue
            indices = np.full((self.height, self.width), -1, np.int32)
            indices[rect] = np.where(kept, -1, image.indices.astype(np.int32))
            yield MappedFrame(number, own, indices, canvas.copy(), duration, rect)

    def palette(self, first_table: bool = False) -> np.ndarray | None:
        """One palette of every colour the frames show, at most :data:`GIF_TABLE` entries (with
        ``first_table``, at most the power of two that holds the first frame's), in the order the
        frames' palettes give them (each the entries of the clip's palette that its rectangle
        uses, so a clip written with one palette gets that palette back, but for entries no frame
        uses); None when the colours are more."""
        order: list[bytes] = []
        limit = GIF_TABLE
        for number, _, _, _, keep, image in self._packed():
            own = image.palette[:-1] if keep else image.palette
            if first_table and number == 0:
                limit = 1 << max(1, (len(own) - 1).bit_length())
            at = -1  # the place in ``order`` of the frame's last colour seen
            for row in own:
                key = row.tobytes()
                if key in order:
                    at = order.index(key)
                else:
                    at += 1
                    order.insert(at, key)
            if len(order) > limit:
                return None
        return np.frombuffer(b"".join(order), np.uint8).reshape(len(order), self.channels).copy()

    def check(self) -> None:
        """Decode and check every frame's packed rectangle, not composing the canvases (a file of
        many small frames on a big canvas is checked in the time of its rectangles)."""
        for _ in self._packed():
            pass

    def _packed(self) -> Iterator[tuple[int, int, int, int, bool, container.PackedImage]]:
        """Each frame's number, duration, rectangle's corner, KEEP flag and packed rectangle,
        decoded and checked against the canvas."""
        record = _RECORDS[self.version]
        pos = 0
        for number, duration in enumerate(self.durations):
            _, left, top, *flags, size = record.unpack_from(self._table, pos)
            pos += record.size
            try:
                image = container.decode(self._table[pos:pos + size],
                                         max_pixels=self.width * self.height)
                h, w = image.indices.shape
                if left + w > self.width or top + h > self.height:
                    raise FormatError(f"its rectangle leaves the {self.width}x{self.height} canvas")
                if number == 0 and (w, h) != (self.width, self.height):
                    raise FormatError("it does not cover the canvas")
                if image.palette.shape[1] != self.channels:
                    raise FormatError(f"it has {image.palette.shape[1]} channels, the first "
                                      f"{self.channels}")
            except FormatError as exc:  # found as the frames decode, after the file's checks
                raise FormatError(f"{self.source}: multi-frame .qnt file is corrupt (frame "
                                  f"{number + 1}: {exc})") from None
            pos += size
            yield number, duration, left, top, bool(flags and flags[0] & KEEP), image


def _positions(rows: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """The entry of ``palette`` (which holds every colour of ``rows``) for each row."""
    keys = color_keys(palette)
    order = np.argsort(keys, kind="stable")
    return order[np.searchsorted(keys[order], color_keys(rows))].astype(np.int32)


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
    if width * height > container.DEFAULT_MAX_PIXELS:
        raise FormatError(f"multi-frame .qnt canvas {width}x{height} is over the limit of "
                          f"{container.DEFAULT_MAX_PIXELS} pixels")
    if plays > MAX_PLAYS:
        raise FormatError(f"multi-frame .qnt file plays {plays} times, more than {MAX_PLAYS}")
    table_codec, table = _frame_table(view[:-_CRC], version)
    durations, headers, pos = [], [], 0
    for number in range(n_frames):
        if pos + record.size > len(table):
            raise FormatError(f"multi-frame .qnt file is truncated at frame {number + 1}")
        duration, _, _, *flags, size = record.unpack_from(table, pos)
        if duration > MAX_DURATION_MS:
            raise FormatError(f"frame {number + 1} lasts {duration} ms, more than {MAX_DURATION_MS}")
        pos += record.size
        if pos + size > len(table):
            raise FormatError(f"multi-frame .qnt file is truncated at frame {number + 1}")
        header = container.read_header(table[pos:pos + size])
        if flags and flags[0] & ~KEEP:
            raise FormatError(f"frame {number + 1} has unknown flags {flags[0]:#x}")
        if flags and flags[0] & KEEP and (number == 0 or header.k < 2):
            raise FormatError(f"frame {number + 1} keeps pixels from before "
                              f"{'the first frame' if number == 0 else 'with no colour of its own'}")
        durations.append(duration)
        headers.append(header)
        pos += size
    if pos != len(table):
        raise FormatError("multi-frame .qnt file's frame table does not match its length")
    return QntAnimation(width, height, headers[0].channels, plays, tuple(durations),
                        tuple(h.codec for h in headers), table, version, table_codec)


def _frame_table(body: memoryview, version: int) -> tuple[str, memoryview]:
    """How the frame table after the header of ``body`` (the file but its CRC) is stored, and
    the table decoded."""
    if version < 3:
        return "none", body[_HEADER.size:]
    if len(body) < _HEADER.size + _TABLE.size:
        raise FormatError("multi-frame .qnt file is truncated in its header")
    codec_id, size = _TABLE.unpack_from(body, _HEADER.size)
    stored = body[_HEADER.size + _TABLE.size:]
    codec = CODECS[codec_id] if codec_id < len(CODECS) else None
    if codec not in TABLE_CODECS:
        raise FormatError(f"multi-frame .qnt file's frame table has an unknown codec ({codec_id})")
    if codec == "none":
        if size != len(stored):
            raise FormatError(f"multi-frame .qnt file's frame table is {len(stored)} bytes, its "
                              f"header says {size}")
        return codec, stored
    if size > MAX_TABLE_RATIO * len(stored):
        raise FormatError(f"multi-frame .qnt file's frame table claims {size:,} bytes from "
                          f"{len(stored):,}")
    return codec, memoryview(container.decompress_bytes(codec, stored, size))


def is_animation_file(path: str | os.PathLike[str]) -> bool:
    """Whether the packed file at ``path`` is a multi-frame ``.qnt`` (by its magic)."""
    with open_input(path, "packed", allow_empty=True) as (fh, _):
        return fh.read(len(MAGIC)) == MAGIC


def load_animation(path: str | os.PathLike[str] | BinaryIO) -> QntAnimation:
    """Read and check the multi-frame ``.qnt`` file at ``path``, or in a binary file object (read
    from where it stands) (:func:`decode_animation`); a corrupt file is a :class:`FormatError`
    that names it."""
    if is_stream(path):
        data, name = read_stream(path, "packed")
    else:
        path = input_path(path, "a packed file")
        data, name = read_input(path, "packed"), display_name(path)
    try:
        return replace(decode_animation(data), source=name)
    except FormatError as exc:
        raise FormatError(f"{name}: {exc}") from None
