"""The packed-index file format (see docs/FORMAT.md).

A ``.qnt`` file holds a header, the palette, the palette indices (coded by our context-mixing
``cm`` codec, or bit-packed MSB-first and optionally compressed with zlib, lzma or zstd) and a
CRC32. The reader checks every field before it allocates
anything sized by the file, bounds decompression by the validated size, and reports any malformed
input as one :class:`~quantize.errors.FormatError`.
"""

from __future__ import annotations

import lzma
import math
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from numpy.typing import ArrayLike
import zstandard

from ..core import indexcodec
from ..choices import CODECS, DEFAULT_CODEC
from ..errors import FormatError, InputError, ParameterError, is_whole, whole
from .files import write_bytes

MAGIC = b"\x89QNT\r\n\x1a\n"
#: The multi-frame file's magic (:mod:`quantize.animation.qntanim`), named here so a still's
#: reader can tell it apart.
ANIMATION_MAGIC = b"\x89QNA\r\n\x1a\n"
FORMAT_VERSION = 5
SUFFIX = ".qnt"
_CODECS_OF_VERSION = {1: 4, 2: 5, 3: 7, 4: 9, 5: 9}  # how many of CODECS each version knows
_CM_MODEL_VERSION = 5  # cm's stream is model 2 from this version on, model 1 before
# K up to which the template codec is tried beside cm on every image (a dither of few colours
# gains); past it, where a band of rows codes smaller by it (a page, a screenshot), as it is
# 2 to 5 times cm's time and on a photo seldom smaller
_TEMPLATE_ALWAYS = 8
_TEMPLATE_BAND = 16  # the probe's band: this fraction of the rows (at least 32), from the middle
_TEMPLATE_GAIN = 0.95
# past _TEMPLATE_ALWAYS, the template coder is tried only where cm spends less than this many bits
# a pixel: the shapes it finds (pages, screenshots) code that small already; a photo does not
_TEMPLATE_BITS = 1.0
# past _TEMPLATE_ALWAYS, cm spending under this share of the packed bits marks flat graphics (a
# chart, a screenshot) or a photo on a flat backdrop; on those, zstd's strongest level codes a
# graphic's exact repeats in well under its fastest's bytes, so a probe within _FLAT_GAIN of cm
# sends them to the strong coders, while a photo's probes stay beyond it
_FLAT_SHARE = 0.05
_FLAT_GAIN = 1.6
# Codecs over one byte an index (K <= 256), not packed bits: an LZ coder finds a text's or a
# screenshot's repeats on byte boundaries, which packing 3, 5, 6 or 7 bits an index scatters.
_BYTE_CODECS = {"lzma-bytes": "lzma", "zstd-bytes": "zstd"}
# The codecs a version 3 palette may be stored with (the section's first byte is the id).
_PALETTE_CODECS = ("zlib", "zstd")
DEFAULT_MAX_PIXELS = 2**31
MAX_K = 65536
MAX_SIDE = 2**32 - 1

# magic, version, channels, codec id, width, height, K, bits per index, reserved, payload bytes
_HEADER = struct.Struct("<8sHBBIIIB3sQ")
HEADER_SIZE = _HEADER.size  # 36
CRC_SIZE = 4

# codec -> (lowest level, highest level, default level)
_LEVELS = {"zlib": (0, 9, 6), "lzma": (0, 9, 6), "zstd": (1, 22, 3),
           "lzma-bytes": (0, 9, 6), "zstd-bytes": (1, 22, 3)}
# LZMA2 dictionary size of xz presets 0..9; the writer never uses a larger one than the data needs.
_LZMA_PRESET_DICT = tuple(n << 20 for n in (0, 1, 2, 4, 4, 8, 8, 16, 32, 64))
_LZMA_MIN_DICT = 4096
_CHUNK = 1 << 20  # indices per packing step: a multiple of 8, so chunks start on a byte boundary
_REPEATS_PROBE_MIN = 64  # cm payloads this small are kept without trying another coder
_REPEATS_GAIN = 0.9  # a zstd probe must code the indices this much smaller than cm to go on
# zstd's level then (22 takes ~25 times as long, and more memory, for ~4 % fewer bytes)
_REPEATS_LEVEL = 19
# zstd's level on a byte an index, to tell a page or a screenshot from a photo: on Kodak (K=16,
# 64, 256) it codes 1.16 times cm's bytes at least, a page of text at K=64 0.75 (5 ms an image)
_BYTES_PROBE_LEVEL = 6


def bits_per_index(k: int) -> int:
    """Bits needed to store one index into a palette of ``k`` colours: ceil(log2 k); 0 when k == 1."""
    if k < 1:
        raise ValueError("k must be at least 1")
    return (k - 1).bit_length()


def classic_ratio(k: int, channels: int = 3) -> float:
    """Compression ratio by the classic formula: bits of a raw pixel over bits per index, 24 / bpp
    for RGB (K=64: 4.0); inf for K=1, which stores no index bits."""
    bits = bits_per_index(k)
    return math.inf if bits == 0 else 8 * channels / bits


def _index_bytes(count: int, bits: int) -> int:
    return (count * bits + 7) // 8



def packed_instead(head: bytes) -> str | None:
    """What to tell a user who gave a packed file where an image was wanted, from the file's
    first bytes (``None``: not a packed file)."""
    if head[:len(MAGIC)] in (MAGIC, ANIMATION_MAGIC):
        return ("is a packed .qnt file, not an image: quantize decode (quantize.load in Python) "
                "gives its pixels back")
    return None

@dataclass(frozen=True)
class Header:
    """The fixed-size header of a packed file; ``payload_bytes`` is the stored (possibly compressed) size."""

    version: int
    width: int
    height: int
    channels: int
    k: int
    bits: int
    codec: str
    payload_bytes: int
    palette_bytes: int = 0  # version 3: the stored palette's bytes; 0: K x channels as they are

    @property
    def n_pixels(self) -> int:
        return self.width * self.height

    @property
    def index_bytes(self) -> int:
        """Size of the index stream before compression: bit-packed, or a byte an index."""
        return self.n_pixels if self.codec in _BYTE_CODECS else _index_bytes(self.n_pixels, self.bits)

    @property
    def file_bytes(self) -> int:
        """Total size of the file this header describes."""
        return HEADER_SIZE + self.palette_section + self.payload_bytes + CRC_SIZE

    @property
    def palette_section(self) -> int:
        """Bytes of the palette as stored."""
        return self.palette_bytes or self.k * self.channels


@dataclass(frozen=True, eq=False)
class PackedImage:
    """A decoded packed file: palette (K, channels) uint8 and indices (H, W) uint8 (K <= 256) or uint16."""

    header: Header
    palette: np.ndarray
    indices: np.ndarray

    def pixels(self) -> np.ndarray:
        """The quantised image, (H, W, channels) uint8."""
        return self.palette[self.indices]


def packed_size(width: int, height: int, k: int, channels: int) -> int:
    """Bytes of the file for this image with codec ``"none"``: header + palette + packed bits + CRC."""
    return HEADER_SIZE + k * channels + _index_bytes(width * height, bits_per_index(k)) + CRC_SIZE


# --- bit packing --------------------------------------------------------------------------------
# Eight indices of ``bits`` bits fill exactly ``bits`` bytes, so the stream is a (groups, bits) byte
# matrix and each of the 8 index positions in a group occupies fixed bytes at a fixed shift: packing
# and unpacking are a few whole-column shifts and ORs per position.

def _check_bits(bits: int) -> None:
    if not 0 <= bits <= 16:
        raise ParameterError(f"bits per index must be 0 to 16, got {bits}")


def _group_layout(bits: int) -> list[tuple[int, int, int]]:
    """For each of the 8 indices of a group: (first byte, bytes spanned, right shift within them)."""
    layout = []
    for position in range(8):
        first, skip = divmod(position * bits, 8)
        span = (skip + bits + 7) // 8
        layout.append((first, span, 8 * span - skip - bits))
    return layout


def _word_dtype(bits: int) -> np.dtype:
    """The stored form of 8- or 16-bit indices."""
    return np.dtype(np.uint8) if bits == 8 else np.dtype(">u2")


def pack_indices(indices: np.ndarray, bits: int) -> bytes:
    """Pack non-negative integer indices into a flat row-major bit stream, MSB-first, no row padding.

    Each index takes ``bits`` bits; the last byte is padded with zero bits.
    """
    _check_bits(bits)
    flat = np.asarray(indices).reshape(-1)
    if flat.dtype.kind not in "ui":
        raise ParameterError(f"indices must be integers, got {flat.dtype}")
    if flat.size and (flat.min() < 0 or flat.max() >= 1 << bits):
        raise ParameterError(f"indices must be 0 to {(1 << bits) - 1} to fit in {bits} bits")
    return _pack(flat, bits)


def _pack(flat: np.ndarray, bits: int) -> bytes:
    """:func:`pack_indices` on a flat array already known to fit in ``bits`` bits."""
    if bits == 0:
        return b""
    if bits in (8, 16):  # whole bytes: a plain (big-endian) copy
        return flat.astype(_word_dtype(bits), copy=False).tobytes()
    layout = _group_layout(bits)
    out = np.zeros((-(-flat.size // 8), bits), np.uint8)
    for start in range(0, flat.size, _CHUNK):
        chunk = flat[start:start + _CHUNK]
        words = np.zeros((-(-chunk.size // 8), 8), np.uint32)
        words.reshape(-1)[:chunk.size] = chunk
        rows = out[start // 8:start // 8 + len(words)]
        for position, (first, span, shift) in enumerate(layout):
            word = words[:, position] << shift
            for byte in range(span):
                rows[:, first + byte] |= (word >> 8 * (span - 1 - byte)).astype(np.uint8)
    return out.reshape(-1)[:_index_bytes(flat.size, bits)].tobytes()


def unpack_indices(data: bytes | memoryview, bits: int, count: int) -> np.ndarray:
    """Inverse of :func:`pack_indices`: ``count`` indices, uint8 when ``bits`` <= 8 else uint16.

    Bytes after the ``ceil(count * bits / 8)`` needed are ignored.
    """
    _check_bits(bits)
    if count < 0:
        raise ParameterError(f"count must be non-negative, got {count}")
    buf = np.frombuffer(data, np.uint8)
    needed = _index_bytes(count, bits)
    if buf.size < needed:
        raise FormatError(f"packed index stream is truncated: expected {needed} bytes, found {buf.size}")
    dtype = np.uint8 if bits <= 8 else np.uint16
    if bits == 0:
        return np.zeros(count, dtype)
    if bits in (8, 16):
        return buf[:needed].view(_word_dtype(bits)).astype(dtype)
    layout = _group_layout(bits)
    out = np.empty(count, dtype)
    for start in range(0, count, _CHUNK):
        n = min(_CHUNK, count - start)
        rows = np.zeros((-(-n // 8), bits), np.uint8)
        offset = start * bits // 8
        rows.reshape(-1)[:_index_bytes(n, bits)] = buf[offset:offset + _index_bytes(n, bits)]
        words = np.empty((len(rows), 8), dtype)
        for position, (first, span, shift) in enumerate(layout):
            word = rows[:, first].astype(np.uint32)
            for byte in range(1, span):
                word <<= 8
                word |= rows[:, first + byte]
            words[:, position] = (word >> shift) & ((1 << bits) - 1)
        out[start:start + n] = words.reshape(-1)[:n]
    return out


# --- codecs -------------------------------------------------------------------------------------

def _codec_level(codec: str, level: int | None) -> int | None:
    """Check ``codec`` and ``level``; return the level to use (None for ``"none"``)."""
    if codec not in CODECS:
        raise ParameterError(f"unknown codec {codec!r} (choose from {', '.join(CODECS)})")
    if codec in ("none", "cm", "bilevel", "template"):
        if level is not None:
            raise ParameterError(f"codec {codec!r} takes no compression level")
        return None
    low, high, default = _LEVELS[codec]
    if level is None:
        return default
    if not is_whole(level) or not low <= level <= high:
        raise ParameterError(f"{codec} level must be a whole number {low} to {high}, got {level!r}")
    return level


def compress_bytes(codec: str, level: int | None, raw: bytes) -> bytes:
    """``raw`` coded with ``codec`` (one of :data:`CODECS` but cm) at ``level``, as a payload is."""
    codec = _BYTE_CODECS.get(codec, codec)
    if codec == "zlib":
        return zlib.compress(raw, level)
    if codec == "lzma":
        dict_size = max(_LZMA_MIN_DICT, min(_LZMA_PRESET_DICT[level], len(raw)))
        filters = [{"id": lzma.FILTER_LZMA2, "preset": level, "dict_size": dict_size}]
        return lzma.compress(raw, format=lzma.FORMAT_XZ, check=lzma.CHECK_NONE, filters=filters)
    if codec == "zstd":
        return zstandard.ZstdCompressor(level=level).compress(raw)  # records the content size
    return raw


def decompress_bytes(codec: str, payload: memoryview, size: int) -> bytes | memoryview:
    """Decompress ``payload`` to exactly ``size`` bytes, never allocating more than ``size + 1`` for it."""
    codec = _BYTE_CODECS.get(codec, codec)
    if codec == "none":
        return payload  # its length was checked against the header
    try:
        if codec == "zstd":
            # Only frames that declare their size are decoded in one bounded, strict step.
            declared = zstandard.frame_content_size(payload)
            if declared == -1:
                raise FormatError("zstd payload does not declare its decompressed size")
            if declared != size:
                raise FormatError(f"zstd payload declares {declared} bytes, expected {size}")
            out = zstandard.ZstdDecompressor().decompress(payload, allow_extra_data=False)
        else:
            if codec == "zlib":
                dec = zlib.decompressobj()
            else:  # the writer's dictionary is at most the data size, which xz rounds up by < 1.5x
                memlimit = 2 * max(size, _LZMA_MIN_DICT) + (1 << 20)
                dec = lzma.LZMADecompressor(format=lzma.FORMAT_XZ, memlimit=memlimit)
            out = dec.decompress(payload, size + 1)  # never 0, which zlib would read as "no limit"
            if len(out) <= size and not dec.eof:
                raise FormatError(f"{codec} payload is truncated")
            if dec.unused_data:
                raise FormatError(f"{codec} payload has {len(dec.unused_data)} unexpected bytes after its end")
    except (zlib.error, lzma.LZMAError, zstandard.ZstdError) as exc:
        raise FormatError(f"corrupt {codec} payload: {exc}") from None
    if len(out) > size:
        raise FormatError(f"{codec} payload decompresses to more than the expected {size} bytes")
    if len(out) < size:
        raise FormatError(f"{codec} payload decompresses to {len(out)} bytes, expected {size}")
    return out


# --- writing ------------------------------------------------------------------------------------

def _range_error(indices: np.ndarray, k: int) -> str | None:
    """A message naming the first index outside [0, k) in row-major order, or None if all fit."""
    if indices.min() >= 0 and indices.max() < k:
        return None
    flat = indices.reshape(-1)
    pos = int(np.argmax((flat < 0) | (flat >= k)))
    y, x = divmod(pos, indices.shape[1])
    return f"index {flat[pos]} out of range for a {k}-colour palette (pixel x={x}, y={y})"


def encode(palette: ArrayLike, indices: ArrayLike, codec: str = DEFAULT_CODEC,
           level: int | None = None) -> bytes:
    """The packed file for ``palette`` (K, 3|4) 8-bit values (uint8, or any integers 0 to 255, as
    a nested list's) and ``indices`` (H, W) integers < K."""
    level = _codec_level(codec, level)
    palette = np.asarray(palette)
    if palette.dtype.kind in "iu" and palette.size and 0 <= palette.min() <= palette.max() <= 255:
        palette = palette.astype(np.uint8, copy=False)
    if palette.dtype != np.uint8 or palette.ndim != 2 or palette.shape[1] not in (3, 4):
        raise ParameterError(f"palette must be a (K, 3) or (K, 4) array of 8-bit values (uint8, or "
                             f"integers 0 to 255), got {palette.shape} {palette.dtype}")
    k, channels = palette.shape
    if not 1 <= k <= MAX_K:
        raise ParameterError(f"palette must have 1 to {MAX_K} colours, got {k}")
    indices = np.asarray(indices)
    if indices.ndim != 2 or indices.size == 0 or max(indices.shape) > MAX_SIDE:
        raise ParameterError(f"indices must be a non-empty 2-D array with sides up to {MAX_SIDE}, "
                             f"got shape {indices.shape}")
    if indices.dtype.kind not in "ui":
        raise ParameterError(f"indices must be integers, got {indices.dtype}")
    if (message := _range_error(indices, k)) is not None:
        raise ParameterError(message)
    height, width = indices.shape
    bits = bits_per_index(k)
    if written_codec(codec, k) != codec:
        codec = written_codec(codec, k)
        level = _codec_level(codec, level if codec in _BYTE_CODECS.values() else None)
    if codec == "cm":
        codec, payload = _smallest_of_cm(palette, indices, bits)
    elif codec == "bilevel":
        payload = indexcodec.encode_bilevel(indices)
    elif codec == "template":
        payload = indexcodec.encode_template(indices, k)
    else:
        payload = compress_bytes(codec, level, _stream(indices, codec, bits))
    pal = _palette_section(palette)
    coded = len(pal) != palette.size  # the palette stored coded, its size in the header
    # the first version that knows the codec (and cm's model); 3 at least for a coded palette
    version = max(2, 3 if coded else 2, _CM_MODEL_VERSION if codec == "cm" and payload else 2,
                  min(v for v, known in _CODECS_OF_VERSION.items() if CODECS.index(codec) < known))
    head = _HEADER.pack(MAGIC, version, channels, CODECS.index(codec), width, height, k,
                        bits, len(pal).to_bytes(3, "little") if coded else bytes(3), len(payload))
    crc = zlib.crc32(payload, zlib.crc32(pal, zlib.crc32(head)))
    return b"".join((head, pal, payload, crc.to_bytes(CRC_SIZE, "little")))


def _stream(indices: np.ndarray, codec: str, bits: int) -> bytes:
    """The index stream ``codec`` codes: a byte an index, or the indices packed in ``bits``."""
    if codec in _BYTE_CODECS:
        return np.ascontiguousarray(indices, np.uint8).tobytes()
    return _pack(indices.reshape(-1), bits)


def _palette_section(palette: np.ndarray) -> bytes:
    """The palette as stored: its entries as they are, or, where that is smaller, each channel's
    differences between consecutive entries (mod 256) coded by zlib or zstd after a byte naming
    the coder (a gradient's or a sorted palette's few distinct steps code to a few dozen bytes)."""
    raw = np.ascontiguousarray(palette).tobytes()
    planes = np.diff(palette.T, axis=1, prepend=np.uint8(0)).tobytes()  # uint8: wraps mod 256
    coded = min((bytes([CODECS.index(codec)]) + compress_bytes(codec, level, planes)
                 for codec, level in (("zlib", 9), ("zstd", 19))), key=len)
    return coded if len(coded) < len(raw) else raw


def _palette(header: Header, section: memoryview) -> np.ndarray:
    """The (K, channels) palette from its stored section, checked."""
    shape = (header.k, header.channels)
    if not header.palette_bytes:
        return np.frombuffer(section, np.uint8).reshape(shape).copy()
    codec = CODECS[section[0]] if section[0] < len(CODECS) else None
    if codec not in _PALETTE_CODECS:
        raise FormatError(f"unknown palette codec id {section[0]}")
    try:
        raw = decompress_bytes(codec, section[1:], header.k * header.channels)
    except FormatError as exc:
        raise FormatError(f"palette: {exc}") from None
    planes = np.frombuffer(raw, np.uint8).reshape(shape[::-1])
    return np.ascontiguousarray(np.cumsum(planes, axis=1, dtype=np.uint8).T)


def _text_mode_damage(head: bytes) -> bool:
    """Whether a damaged magic looks as a text-mode transfer leaves it (as PNG's signature was
    designed to show): the high bit of its first byte stripped, or its line ends changed."""
    if head[1:4] != MAGIC[1:4] or head[0] not in (MAGIC[0], MAGIC[0] & 0x7F):
        return False
    return head[0] != MAGIC[0] or head[4:8] != MAGIC[4:8]


def _smallest_of_cm(palette: np.ndarray, indices: np.ndarray, bits: int) -> tuple[str, bytes]:
    """The ``cm`` payload, or another codec's where that is smaller: cm models photos; a
    screenshot's or a text's long exact repeats are what a dictionary coder finds, on packed bits
    or, for K <= 256, on a byte an index (then lzma too); noise keeps its packed bits; the shapes of
    a page, line art or a dither are what the bilevel (K = 2) and template coders model. A fast
    zstd pass over each stream and the template coder on a band of rows tell which kind the image
    is, so a photo pays only those passes (with a looser bound where cm already codes the image
    in a few hundredths of the packed bits, as flat graphics)."""
    k = len(palette)
    codec, payload = "cm", indexcodec.encode(palette, indices) if k > 1 else b""
    # a page, line art or a dither: a template sees their shapes (few colours: always tried)
    if k == 2 or 3 <= k <= _TEMPLATE_ALWAYS:
        codec, payload = min((codec, payload), ("bilevel", indexcodec.encode_bilevel(indices))
                             if k == 2 else ("template", indexcodec.encode_template(indices, k)),
                             key=lambda t: len(t[1]))
    if len(payload) <= _REPEATS_PROBE_MIN:
        return codec, payload
    packed = _pack(indices.reshape(-1), bits)
    best = min((codec, payload), ("none", packed), key=lambda t: len(t[1]))  # noise: packed bits
    shapes = 8 * len(payload) < _TEMPLATE_BITS * indices.size  # cm's bits: a page's, not a photo's
    flat = k > _TEMPLATE_ALWAYS and 8 * len(payload) < _FLAT_SHARE * bits * indices.size
    # a probe under this: the strong coders are tried
    worth = (_FLAT_GAIN if flat else _REPEATS_GAIN) * len(payload)
    del payload  # one candidate held at a time beside the streams (a large image's memory)

    def keep(codec: str, data: bytes) -> bytes:
        nonlocal best
        if len(data) < len(best[1]):
            best = codec, data
        return data

    page = len(keep("zstd", compress_bytes("zstd", 1, packed))) < worth
    if page:
        keep("zstd", compress_bytes("zstd", _REPEATS_LEVEL, packed))
    if bits < 8:  # at 8 bits the packed stream is a byte an index already
        # zstd's fastest level sees little of a page's repeats: a middle one tells a page or a
        # screenshot (then zstd's strongest and lzma, whose matches run longer, are tried)
        del packed
        stream = _stream(indices, "zstd-bytes", bits)
        if len(keep("zstd-bytes", compress_bytes("zstd-bytes", _BYTES_PROBE_LEVEL, stream))) < worth:
            page = True
            keep("zstd-bytes", compress_bytes("zstd-bytes", _REPEATS_LEVEL, stream))
            keep("lzma-bytes", compress_bytes("lzma-bytes", 9, stream))
    if _TEMPLATE_ALWAYS < k <= indexcodec.TEMPLATE_K[1] and shapes and (
            page or _template_pays(palette, indices)):
        keep("template", indexcodec.encode_template(indices, k))
    return best


def _template_pays(palette: np.ndarray, indices: np.ndarray) -> bool:
    """Whether a band of rows from the middle of ``indices`` codes smaller by the template codec
    than by cm (by :data:`_TEMPLATE_GAIN`)."""
    rows = max(32, len(indices) // _TEMPLATE_BAND)
    band = indices[max(0, (len(indices) - rows) // 2):][:rows]
    return (len(indexcodec.encode_template(band, len(palette)))
            < _TEMPLATE_GAIN * len(indexcodec.encode(palette, band)))


def written_codec(codec: str, k: int) -> str:
    """The codec a file of ``k`` colours asked to use ``codec`` is written with, as far as K
    tells: bilevel codes K = 2 only and template 3 to 256, cm takes the others; cm is defined for
    up to ``indexcodec.MAX_K`` colours, zstd takes over past that. (cm also gives way to bilevel,
    template or zstd where that is smaller: :func:`codec_of` reads the file's.)"""
    low, high = indexcodec.TEMPLATE_K
    if (codec == "bilevel" and k != 2) or (codec == "template" and not low <= k <= high):
        codec = "cm"
    if codec == "cm" and k > indexcodec.MAX_K:
        return "zstd"
    return _BYTE_CODECS[codec] if codec in _BYTE_CODECS and k > 256 else codec


def codec_note(codec: str, k: int, written: str) -> tuple[str, ...]:
    """A note when the bilevel or template codec asked for cannot code ``k`` colours, so that the
    file is ``written`` with another."""
    if codec not in ("bilevel", "template") or written_codec(codec, k) == codec:
        return ()
    low, high = indexcodec.TEMPLATE_K
    codes = "K = 2 only" if codec == "bilevel" else f"K = {low} to {high}"
    colours = "this one colour is" if k == 1 else f"these {k:,} colours are"
    return (f"the {codec} codec codes {codes}: {colours} coded with {written}",)


def codec_of(data: bytes | memoryview) -> str:
    """The codec a packed file's indices are coded with, from its header."""
    return read_header(data).codec


def save(path: str | os.PathLike[str], palette: np.ndarray, indices: np.ndarray, *,
         codec: str = DEFAULT_CODEC, level: int | None = None, force: bool = False,
         protect: tuple[Path, ...] = ()) -> int:
    """Encode and write atomically to ``path``; return the number of bytes written."""
    return write_bytes(path, encode(palette, indices, codec, level), force=force, protect=protect)


# --- reading ------------------------------------------------------------------------------------

def _check_max_pixels(max_pixels: int | None) -> None:
    if max_pixels is not None:
        whole("max_pixels", max_pixels, 1)


def _image_kind(head: bytes) -> str | None:
    """The image format whose signature ``head`` starts with, if one quantize reads."""
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    for signature, kind in ((b"GIF8", "GIF"), (b"\x89PNG", "PNG"), (b"\xff\xd8\xff", "JPEG"),
                            (b"II*\0", "TIFF"), (b"MM\0*", "TIFF")):
        if head.startswith(signature):
            return kind
    return None


def read_header(data: bytes | memoryview, *, max_pixels: int | None = None) -> Header:
    """Parse and validate the header at the start of ``data`` (the rest of the file is not checked).

    With ``max_pixels``, images with more pixels are refused.
    """
    _check_max_pixels(max_pixels)
    head = bytes(memoryview(data)[:HEADER_SIZE])
    if not MAGIC.startswith(head[:len(MAGIC)]):
        if ANIMATION_MAGIC.startswith(head[:len(ANIMATION_MAGIC)]):
            raise FormatError("a multi-frame .qnt (an animation), not a still: "
                              "quantize.load_animation reads it")
        image = _image_kind(head)
        hint = (": damaged by a text-mode transfer?" if _text_mode_damage(head) else
                f": it is a {image} image" if image else "")
        raise FormatError(f"not a quantize packed file (bad magic{hint})")
    if len(head) >= 10:
        version = int.from_bytes(head[8:10], "little")
        if version > FORMAT_VERSION:
            raise FormatError(f"packed file version {version} is newer than this quantize understands "
                              f"({FORMAT_VERSION})")
        if version < 1:
            raise FormatError(f"packed file version {version} is not valid")
    if len(head) < HEADER_SIZE:
        raise FormatError(f"packed file is truncated: expected a {HEADER_SIZE}-byte header, "
                          f"found {len(head)} bytes")
    _, version, channels, codec_id, width, height, k, bits, reserved, payload_bytes = _HEADER.unpack(head)
    palette_bytes = int.from_bytes(reserved, "little") if version >= 3 else 0
    if version < 3 and reserved != bytes(3):
        raise FormatError("reserved header bytes are not zero")
    if palette_bytes == 1:
        raise FormatError(f"a coded palette of {palette_bytes} bytes")
    if channels not in (3, 4):
        raise FormatError(f"invalid channel count {channels} (must be 3 or 4)")
    if codec_id >= _CODECS_OF_VERSION[version]:
        raise FormatError(f"unknown codec id {codec_id}")
    if width == 0 or height == 0:
        raise FormatError(f"invalid image size {width}x{height}")
    if max_pixels is not None and width * height > max_pixels:
        raise FormatError(f"image size {width}x{height} = {width * height} pixels is over the limit of "
                          f"{max_pixels} pixels")
    if not 1 <= k <= MAX_K:
        raise FormatError(f"invalid palette size K={k} (must be 1 to {MAX_K})")
    if bits != bits_per_index(k):
        raise FormatError(f"bits per index {bits} does not match K={k} (expected {bits_per_index(k)})")
    header = Header(version, width, height, channels, k, bits, CODECS[codec_id], payload_bytes,
                    palette_bytes)
    if header.codec == "none" and payload_bytes != header.index_bytes:
        raise FormatError(f"payload size {payload_bytes} does not match the {header.index_bytes} bytes "
                          f"of packed indices")
    if header.codec in _BYTE_CODECS and k > 256:
        raise FormatError(f"codec {header.codec} stores a byte an index: K={k} is over 256")
    if header.codec == "cm" and k > indexcodec.MAX_K:
        raise FormatError(f"the cm codec is not defined for K={k} (at most {indexcodec.MAX_K})")
    if header.codec == "cm" and k == 1 and payload_bytes:
        raise FormatError("a cm payload must be empty for K=1")
    if header.codec == "bilevel" and k != 2:
        raise FormatError(f"the bilevel codec codes K=2 only, not K={k}")
    low, high = indexcodec.TEMPLATE_K
    if header.codec == "template" and not low <= k <= high:
        raise FormatError(f"the template codec codes K={low} to {high}, not K={k}")
    return header


def _check_length(header: Header, found: int) -> None:
    if found < header.file_bytes:
        raise FormatError(f"packed file is truncated: expected {header.file_bytes} bytes, found {found}")
    if found > header.file_bytes:
        raise FormatError(f"packed file has {found - header.file_bytes} unexpected bytes after its end")


def decode(data: bytes | memoryview, *, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> PackedImage:
    """Validate and decode a packed file; any malformed input raises :class:`FormatError`."""
    try:
        buf = memoryview(data)
    except TypeError:
        raise ParameterError(f"decode takes a packed file's bytes, not {type(data).__name__} "
                             f"(load reads a file)", parameters=("data",)) from None
    buf = (buf if buf.c_contiguous else memoryview(buf.tobytes())).cast("B")
    header = read_header(buf, max_pixels=max_pixels)
    _check_length(header, len(buf))
    body, stored_crc = buf[:-CRC_SIZE], int.from_bytes(buf[-CRC_SIZE:], "little")
    if zlib.crc32(body) != stored_crc:
        raise FormatError("CRC mismatch: file is corrupt")
    palette_end = HEADER_SIZE + header.palette_section
    # a writable copy: the image's own, and what the cm kernel is compiled for
    palette = _palette(header, body[HEADER_SIZE:palette_end])
    try:
        if header.codec == "cm":
            return PackedImage(header, palette, _decode_cm(header, palette, body[palette_end:]))
        if header.codec == "bilevel":
            return PackedImage(header, palette, indexcodec.decode_bilevel(
                body[palette_end:], header.height, header.width))
        if header.codec == "template":
            return PackedImage(header, palette, indexcodec.decode_template(
                body[palette_end:], header.height, header.width, header.k))
        raw = decompress_bytes(header.codec, body[palette_end:], header.index_bytes)
        if header.codec in _BYTE_CODECS:
            indices = np.frombuffer(raw, np.uint8).reshape(header.height, header.width).copy()
        else:
            indices = unpack_indices(raw, header.bits, header.n_pixels).reshape(header.height,
                                                                                 header.width)
    except MemoryError:
        raise FormatError(f"not enough memory to decode a {header.width}x{header.height} image") from None
    padding = 0 if header.codec in _BYTE_CODECS else 8 * header.index_bytes - header.n_pixels * header.bits
    if padding and raw[-1] & ((1 << padding) - 1):
        raise FormatError("padding bits after the last index are not zero")
    limit = 256 if header.codec in _BYTE_CODECS else 1 << header.bits  # the largest index stored
    if header.k < limit and (message := _range_error(indices, header.k)) is not None:
        raise FormatError(message)
    return PackedImage(header, palette, indices)


def _decode_cm(header: Header, palette: np.ndarray, payload: memoryview) -> np.ndarray:
    dtype = np.uint8 if header.bits <= 8 else np.uint16
    if header.k == 1:
        return np.zeros((header.height, header.width), dtype)
    model = 2 if header.version >= _CM_MODEL_VERSION else 1
    return indexcodec.decode(payload, palette, header.height, header.width, dtype, model)


def load(path: str | os.PathLike[str] | BinaryIO, *,
         max_pixels: int | None = DEFAULT_MAX_PIXELS) -> PackedImage:
    """Read and decode a packed file, by its path or a binary file object (read from where it
    stands). The header and file size are checked before the rest is read; a corrupt file is a
    :class:`FormatError` that names it."""
    from .files import display_name, input_path, is_stream, open_input, read_stream

    if is_stream(path):
        data, name = read_stream(path, "packed")
        try:
            return decode(data, max_pixels=max_pixels)
        except FormatError as exc:
            raise FormatError(f"{name}: {exc}", parameters=exc.parameters) from None
    path = input_path(path, "a packed file")
    try:
        with open_input(path, "packed", allow_empty=True) as (fh, _):
            header = read_header(fh.read(HEADER_SIZE), max_pixels=max_pixels)
            _check_length(header, os.fstat(fh.fileno()).st_size)
            fh.seek(0)
            data = fh.read()
        return decode(data, max_pixels=max_pixels)
    except OSError as exc:
        raise InputError(f"cannot read packed file {path}: {exc.strerror or exc}") from None
    except FormatError as exc:
        raise FormatError(f"{display_name(Path(path))}: {exc}", parameters=exc.parameters) from None
