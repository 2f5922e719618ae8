"""Animated GIF and APNG frames composited as browsers show them.

Pillow decodes each frame's own pixels (from a one-frame file made of that frame's chunks or
blocks); the canvas is kept here, by the formats' rules: it starts transparent; an APNG frame is
written over its region (``blend_op`` SOURCE) or alpha-composited onto it (OVER), and afterwards
left, cleared to transparent black (BACKGROUND) or restored to what it was before the frame
(PREVIOUS; on the first frame, BACKGROUND); a hidden default image (an IDAT before the first
fcTL) is no frame. A GIF frame's transparent pixels leave the canvas as it was, and its disposal
leaves it (1), clears its rectangle to transparent (2: browsers ignore the background colour)
or restores it (3). Pillow's own compositing gets some of these wrong (a restored region drawn
over, half-transparent pixels blended into the alpha, a cleared region painted with a local
table's colour).

Each generator yields the canvas after each frame, (H, W, 4) uint8 (a view: copy it to keep it),
and the frame's delay in milliseconds (a GIF's as written: 10 ms a centisecond); a file that ends
between frames raises :class:`Truncated`, a damaged one ``ValueError``, each saying what is wrong.
A GIF's frames end where bytes that start no block follow one (as browsers end them: another GIF
appended to the file, say); :func:`gif_end` says where.
"""

from __future__ import annotations

import io
import struct
import zlib
from typing import BinaryIO, Generator, Iterator

import numpy as np

from .canvas import widen

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: Chunks before the first image data that a one-frame PNG needs to decode a frame's pixels
#: as the file shows them (colour, palette, transparency, colour space).
_PNG_COLOUR_CHUNKS = (b"PLTE", b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT")
_FCTL = struct.Struct(">IIIIIHHBB")  # sequence, width, height, x, y, delay num, den, dispose, blend
_APNG_BACKGROUND, _APNG_PREVIOUS = 1, 2  # dispose_op (0: none)
_APNG_SOURCE = 0


class Truncated(ValueError):
    """The file ends after a whole frame, before its end marker."""


class TooLarge(ValueError):
    """A frame's rectangle has more pixels than the reader may decode (its size in words)."""


def _check_canvas(width: int, height: int) -> None:
    if not width or not height:
        raise ValueError(f"its canvas is {width}x{height}: no pixels")


def _canvas(width: int, height: int) -> np.ndarray:
    _check_canvas(width, height)
    return np.zeros((height, width, 4), np.uint8)


def _rgba(png: bytes) -> np.ndarray:
    """A one-frame PNG file's pixels as (h, w, 4) uint8, decoded as a still file is (16-bit
    samples rounded, gamma and profile applied)."""
    from ..io.images import image_from_bytes

    return widen(image_from_bytes(png).pixels, 4)


def _over(region: np.ndarray, frame: np.ndarray) -> None:
    """``frame`` (h, w, 4) alpha-composited onto ``region`` in place (straight alpha)."""
    src_a = frame[..., 3:].astype(np.float64) / 255
    dst_a = region[..., 3:].astype(np.float64) / 255 * (1 - src_a)
    out_a = src_a + dst_a
    rgb = (frame[..., :3] * src_a + region[..., :3] * dst_a) / np.where(out_a > 0, out_a, 1)
    region[..., :3] = np.rint(rgb)
    region[..., 3:] = np.rint(out_a * 255)


# ------------------------------------------------------------------------------------------ APNG

def _chunks(fh: BinaryIO) -> Iterator[tuple[bytes, bytes]]:
    """The chunks (type, data) of a PNG file after its signature, each CRC checked, to IEND."""
    size = fh.seek(0, io.SEEK_END)
    fh.seek(len(PNG_SIGNATURE))
    while True:
        head = fh.read(8)
        if not head:
            raise Truncated("no IEND chunk")
        if len(head) < 8:
            raise ValueError("truncated in a chunk's header")
        length, kind = struct.unpack(">I4s", head)
        if fh.tell() + length + 4 > size:  # before a read that would allocate the length claimed
            raise ValueError(f"truncated in its {kind.decode('latin-1')} chunk")
        data = fh.read(length)
        crc = fh.read(4)
        if len(data) < length or len(crc) < 4:
            raise ValueError(f"truncated in its {kind.decode('latin-1')} chunk")
        if zlib.crc32(kind + data) != struct.unpack(">I", crc)[0]:
            raise ValueError(f"CRC error in its {kind.decode('latin-1')} chunk")
        yield kind, data
        if kind == b"IEND":
            return


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


#: An APNG frame undecoded: the IHDR data, the colour chunks, its fcTL data and its image data.
_ApngFrame = tuple[bytes, list[tuple[bytes, bytes]], bytes, list[bytes]]


def _apng_walk(fh: BinaryIO) -> Iterator[_ApngFrame]:
    """The frames of the APNG file ``fh`` (at its start), undecoded, as many as its acTL chunk
    announces when more follow (as libpng and Pillow read them): its IHDR data, its colour
    chunks, the frame's fcTL data and its image data; its structure (chunk order, sequence
    numbers, each frame on the canvas) is checked here alone, for the decoder and for
    :func:`frame_delays`."""
    if fh.read(8) != PNG_SIGNATURE:
        raise ValueError("not a PNG file")
    ihdr, colour = b"", []
    control = None
    parts: list[bytes] = []
    announced, shown, number = None, 0, 0

    def numbered(kind: bytes, data: bytes) -> None:
        """Check an fcTL or fdAT chunk's sequence number: 0, 1, 2, … over both kinds, in file
        order (as libpng's reader, Chromium and Pillow refuse any other)."""
        nonlocal number
        found = struct.unpack(">I", data[:4])[0]
        if found != number:
            raise ValueError(f"its {kind.decode()} chunk is numbered {found}, not {number}: "
                             f"frame chunks missing, repeated or out of order")
        number += 1

    def placed() -> _ApngFrame:
        _, w, h, x, y = _FCTL.unpack(control)[:5]
        width, height = struct.unpack(">II", ihdr[:8])
        if not w or not h or x + w > width or y + h > height:
            raise ValueError(f"a frame of {w}x{h} at ({x}, {y}) leaves the {width}x{height} canvas")
        return ihdr, colour, control, parts

    for kind, data in _chunks(fh):
        if kind == b"IHDR":
            if len(data) != 13 or ihdr:
                raise ValueError("a second IHDR chunk" if ihdr else "a damaged IHDR chunk")
            _check_canvas(*struct.unpack(">II", data[:8]))
            ihdr = data
        elif not ihdr:
            raise ValueError("no IHDR chunk first")
        elif kind in _PNG_COLOUR_CHUNKS and control is None and not parts:
            colour.append((kind, data))
        elif kind == b"acTL" and len(data) == 8 and announced is None:
            announced = struct.unpack(">I", data[:4])[0] or None
        elif kind == b"fcTL":
            if len(data) != _FCTL.size:
                raise ValueError("a damaged fcTL chunk")
            if control is not None and parts:
                yield placed()
                shown += 1
                if shown == announced:
                    return
            numbered(kind, data)
            control, parts = data, []
        elif kind == b"IDAT":
            if control is not None:  # else the default image, shown by no frame
                parts.append(data)
        elif kind == b"fdAT":
            if control is None or len(data) < 4:
                raise ValueError("frame data before any frame control")
            numbered(kind, data)
            parts.append(data[4:])
        elif kind == b"IEND" and control is not None and parts:
            yield placed()


def _apng_delay(control: bytes) -> int:
    """An fcTL chunk's delay in milliseconds (a denominator of 0 is hundredths)."""
    num, den = _FCTL.unpack(control)[5:7]
    return round(1000 * num / (den or 100))


def apng_frames(fh: BinaryIO) -> Iterator[tuple[np.ndarray, int]]:
    """The frames of the APNG file ``fh`` (at its start) over its canvas, with their delays: as
    many as its acTL chunk announces, when more follow (as libpng and Pillow read them)."""
    canvas = None
    for ihdr, colour, control, parts in _apng_walk(fh):
        if canvas is None:
            canvas = _canvas(*struct.unpack(">II", ihdr[:8]))
        _, w, h, x, y, _, _, dispose, blend = _FCTL.unpack(control)
        one = PNG_SIGNATURE + _png_chunk(b"IHDR", struct.pack(">II", w, h) + ihdr[8:]) \
            + b"".join(_png_chunk(k, d) for k, d in colour) + _png_chunk(b"IDAT", b"".join(parts)) \
            + _png_chunk(b"IEND", b"")
        pixels = _rgba(one)
        region = canvas[y:y + h, x:x + w]
        previous = region.copy() if dispose == _APNG_PREVIOUS else None
        if blend == _APNG_SOURCE:
            region[...] = pixels
        else:
            _over(region, pixels)
        yield canvas, _apng_delay(control)
        if dispose == _APNG_BACKGROUND:
            region[...] = 0
        elif dispose == _APNG_PREVIOUS:  # on the first frame: the transparent canvas, BACKGROUND
            region[...] = previous


def apng_frame_count(fh: BinaryIO) -> tuple[int, int] | None:
    """The frames the APNG file ``fh`` (at its start) announces in its acTL chunk and those it
    holds (fcTL chunks with data after them), when it holds more (:func:`apng_frames` reads those
    it announces); None otherwise, or if the file is damaged (:func:`apng_frames` says how)."""
    if fh.read(8) != PNG_SIGNATURE:
        return None
    announced, frames, control = 0, 0, False
    try:
        for kind, data in _chunks(fh):
            if kind == b"acTL" and len(data) == 8 and not announced:
                announced = struct.unpack(">I", data[:4])[0]
            elif kind == b"fcTL":
                control = True
            elif kind in (b"IDAT", b"fdAT") and control:
                frames, control = frames + 1, False
    except ValueError:
        return None
    return (announced, frames) if 0 < announced < frames else None


# ------------------------------------------------------------------------------------------- GIF

def _sub_blocks(fh: BinaryIO) -> bytes:
    """A GIF data sub-block sequence, its size bytes included, through the terminating 0."""
    # read ahead and walk the size bytes in memory: a read for each sub-block was a walk's cost
    start, data, at = fh.tell(), b"", 0
    while True:
        end = len(data)
        while at < end and data[at]:
            at += data[at] + 1
        if at < end:
            fh.seek(start + at + 1)
            return data[:at + 1]
        more = fh.read(max(4096, end, at + 1 - end))
        if not more:
            raise ValueError("truncated in a data block")
        data += more


def _table_size(flags: int) -> int:
    return 3 << ((flags & 7) + 1)


def _gif_header(fh: BinaryIO) -> tuple[int, int, bytes]:
    """The canvas size and global colour table of the GIF file ``fh`` (at its start)."""
    head = fh.read(13)
    if len(head) < 13 or head[:6] not in (b"GIF87a", b"GIF89a"):
        raise ValueError("not a GIF file")
    width, height, flags = struct.unpack("<HHB", head[6:11])
    global_table = fh.read(_table_size(flags)) if flags & 0x80 else b""
    if flags & 0x80 and len(global_table) < _table_size(flags):
        raise ValueError("truncated in its colour table")
    return width, height, global_table


def _gif_images(fh: BinaryIO, global_table: bytes) -> Generator[
        tuple[tuple[int, ...], bytes, bytes, bytes], None, int | None]:
    """The images after a GIF's header, undecoded: (x, y, w, h, flags), colour table, graphic
    control (flags, delay in cs, transparent index) and LZW data with its code size. Bytes where
    a block should start end the images once one is read, as browsers take them (the file's
    other data, such as a second GIF appended), and the generator returns their offset."""
    control = b"\x00\x00\x00\x00"
    images = 0
    while True:
        block = fh.read(1)
        if block == b";":
            return None
        if block == b"!":
            label = fh.read(1)
            data = _sub_blocks(fh)
            if label == b"\xf9" and len(data) >= 6 and data[0] >= 4:
                control = data[1:5]
            continue
        if not block:
            raise Truncated("no GIF trailer")
        if block != b",":
            if images:
                return fh.tell() - 1
            raise ValueError(f"block {block[0]:#04x} where an image or extension starts")
        descriptor = fh.read(9)
        if len(descriptor) < 9:
            raise ValueError("truncated in an image descriptor")
        place = struct.unpack("<HHHHB", descriptor)
        table = fh.read(_table_size(place[4])) if place[4] & 0x80 else global_table
        if place[4] & 0x80 and len(table) < _table_size(place[4]):
            raise ValueError("truncated in a local colour table")
        code_size = fh.read(1)
        yield place, table, control, code_size + _sub_blocks(fh)
        control = b"\x00\x00\x00\x00"
        images += 1


#: Zero bytes before a GIF's trailer up to this many are an encoder's slip, not other data.
_SLIP_BYTES = 4096


def gif_end(fh: BinaryIO) -> tuple[int, int] | None:
    """Where the images of the GIF file ``fh`` (at its start) give way to data that is no block
    (:func:`gif_frames` stops there): the images before it and its offset; None if the file
    ends as a GIF does, with zero bytes at most before its trailer (an encoder's slip that loses
    nothing), or is damaged (:func:`gif_frames` says how)."""
    try:
        images = _gif_images(fh, _gif_header(fh)[2])
        count = 0
        while True:
            next(images)
            count += 1
    except StopIteration as stop:
        if stop.value is None:
            return None
        fh.seek(stop.value)
        tail = fh.read(_SLIP_BYTES + 1)
        slip = len(tail) <= _SLIP_BYTES and not tail.rstrip(b";").strip(b"\0")
        return None if slip else (count, stop.value)
    except ValueError:
        return None


def _gif_placed(fh: BinaryIO, max_pixels: int | None) -> Iterator[
        tuple[tuple[int, int], tuple[int, ...], bytes, bytes, bytes]]:
    """The canvas size and :func:`_gif_images`' images of the GIF file ``fh`` (at its start), each
    checked against ``max_pixels`` before it is decoded, for the decoder and :func:`frame_delays`
    alike."""
    width, height, global_table = _gif_header(fh)
    first = True
    for place, table, control, data in _gif_images(fh, global_table):
        x, y, w, h = place[:4]
        if max_pixels is not None and w * h > max_pixels:
            raise TooLarge(f"a frame of {w}x{h} is {w * h:,} pixels")
        if first:  # a first image past the screen (of 0x0, say) widens it, as in browsers
            width, height, first = max(width, x + w), max(height, y + h), False
            if max_pixels is not None and width * height > max_pixels:
                raise TooLarge(f"a canvas of {width}x{height} is {width * height:,} pixels")
            _check_canvas(width, height)
        yield (width, height), place, table, control, data


def gif_frames(fh: BinaryIO, max_pixels: int | None = None) -> Iterator[tuple[np.ndarray, int]]:
    """The frames of the GIF file ``fh`` (at its start) over its canvas, with their delays: the
    logical screen, widened to hold the first image where it reaches past it (as Chromium and
    Pillow show it); an image or a widened canvas of more than ``max_pixels`` pixels (the
    screen's are checked by the caller) is :class:`TooLarge`, before it is decoded."""
    from PIL import Image as PILImage

    canvas = None
    for size, (x, y, w, h, image_flags), table, control, data in _gif_placed(fh, max_pixels):
        if canvas is None:
            canvas = _canvas(*size)
        packed, delay, transparent = struct.unpack("<BHB", control)
        pixels = _gif_image(PILImage, w, h, image_flags & 0x40, table, packed, transparent, data)
        # a rectangle reaching past the canvas shows only the part on it, as browsers draw it
        region = canvas[y:y + h, x:x + w]
        pixels = pixels[:region.shape[0], :region.shape[1]]
        disposal = (packed >> 2) & 7
        previous = region.copy() if disposal == 3 else None
        if packed & 1:  # a transparent index: its pixels leave the canvas as it was
            np.copyto(region, pixels, where=pixels[..., 3:] > 0)
        else:
            region[...] = pixels
        yield canvas, 10 * delay
        if disposal == 2:
            region[...] = 0
        elif disposal == 3:
            region[...] = previous


def frame_delays(fh: BinaryIO, fmt: str, max_pixels: int | None = None) -> Iterator[int]:
    """The delays (ms) of the frames :func:`gif_frames` (``fmt`` "GIF") or :func:`apng_frames`
    ("APNG") read from ``fh`` (at its start), from the file's structure alone, no pixel decoded:
    damage there raises as those readers raise it, at the same frame (damaged image data does
    not: that takes decoding)."""
    if fmt == "GIF":
        for *_, control, _ in _gif_placed(fh, max_pixels):
            yield 10 * struct.unpack("<BHB", control)[1]
    else:
        for *_, control, _ in _apng_walk(fh):
            yield _apng_delay(control)


def _gif_image(PILImage, width: int, height: int, interlaced: int, table: bytes, packed: int,
               transparent: int, data: bytes) -> np.ndarray:
    """One GIF image's pixels (h, w, 4) from its table, control flags and LZW data, decoded by
    Pillow from a one-frame GIF of them (no table: grey, as the format's readers assume)."""
    if not width or not height:
        return np.zeros((height, width, 4), np.uint8)
    if not table:
        table = bytes(np.repeat(np.arange(256, dtype=np.uint8), 3))
    size_bits = max(len(table) // 3 - 1, 1).bit_length() - 1
    table = table.ljust(3 << (size_bits + 1), b"\x00")
    control = b"!\xf9\x04" + struct.pack("<BHB", packed & 1, 0, transparent) + b"\x00"
    one = (b"GIF89a" + struct.pack("<HHBBB", width, height, 0x80 | size_bits, 0, 0) + table
           + control + b"," + struct.pack("<HHHHB", 0, 0, width, height, interlaced) + data + b";")
    with PILImage.open(io.BytesIO(one), formats=("GIF",)) as im:
        im.load()
        return np.asarray(im.convert("RGBA"))
