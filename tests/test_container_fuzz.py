"""Fuzzing the packed-file reader: every damaged file is decoded consistently or refused with FormatError,
quickly (hypothesis deadline) and without allocations larger than the validated header allows."""

from __future__ import annotations

import contextlib
import lzma
import struct
import subprocess
import sys
import tracemalloc
import zlib

import numpy as np
import pytest
import zstandard
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from conftest import COMPRESS
from quantize.core import indexcodec
from quantize.core.mapping import index_dtype
from quantize.io import container as qc
from quantize.errors import FormatError

# The deadline catches a hang (work without bound), not slowness: a loaded 2-core machine's noise
# must stay far below it
FUZZ = settings(max_examples=200, deadline=10_000, suppress_health_check=[HealthCheck.too_slow])

# Header fields (offset, struct format) from docs/FORMAT.md.
FIELDS = {"version": (8, "<H"), "channels": (10, "B"), "codec": (11, "B"), "width": (12, "<I"),
          "height": (16, "<I"), "k": (20, "<I"), "bits": (24, "B"), "payload_bytes": (28, "<Q")}
CODEC_ID = {codec: i for i, codec in enumerate(qc.CODECS)}
MiB = 1 << 20
CM_TABLE_BYTES = 48  # per pair of palette entries, at the peak of building the cm model's tables
BILEVEL_TABLE_BYTES = 4 * 4 << 20  # the bilevel and template counters, whatever the image's size


def with_crc(body: bytes) -> bytes:
    return body + struct.pack("<I", zlib.crc32(body))


def patch(data: bytes, field: str, value: int) -> bytes:
    """``data`` with one header field replaced and the CRC recomputed."""
    offset, fmt = FIELDS[field]
    body = bytearray(data[:-4])
    struct.pack_into(fmt, body, offset, value)
    return with_crc(bytes(body))


def file_with_payload(data: bytes, payload: bytes) -> bytes:
    """``data`` with its payload replaced (payload_bytes and CRC updated)."""
    header = qc.read_header(data)
    body = data[:qc.HEADER_SIZE + header.palette_section] + payload
    return patch(with_crc(body), "payload_bytes", len(payload))


def decode_or_reject(data: bytes, **kwargs) -> qc.PackedImage | None:
    """The decoded image, or None after a one-line FormatError; any other exception fails the test."""
    try:
        packed = qc.decode(data, **kwargs)
    except FormatError as exc:
        assert str(exc) and "\n" not in str(exc)
        return None
    header = packed.header
    assert packed.palette.shape == (header.k, header.channels)
    assert packed.indices.shape == (header.height, header.width)
    assert int(packed.indices.max()) < header.k
    if header.codec == "none":  # an accepted uncompressed file is the canonical encoding of its image
        canonical = qc.encode(packed.palette, packed.indices, "none")
        assert patch(canonical, "version", header.version) == bytes(data)  # v1 reads as v2 writes
    return packed


@st.composite
def images(draw, ks=(1, 2, 3, 5, 16, 100, 256, 257, 1000, 65536)):
    k = draw(st.sampled_from(ks))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    palette = rng.integers(0, 256, (k, draw(st.sampled_from([3, 4]))), dtype=np.uint8)
    indices = rng.integers(0, k, (draw(st.integers(1, 6)), draw(st.integers(1, 9))))
    return palette, indices, draw(st.sampled_from(qc.CODECS))


@pytest.fixture(autouse=True, scope="module")
def compiled_codecs():
    """Compile (or load) every codec's kernels, for each index type, before the deadlines start
    counting: a first load inside one example (the template coder's, at K = 3) took it past."""
    for codec in qc.CODECS:
        for k in (2, 3, 16, 300):
            with contextlib.suppress(Exception):  # a codec that does not take K
                qc.decode(qc.encode(np.zeros((k, 3), np.uint8), np.zeros((2, 2), int), codec))
    for k in (16, 300):  # cm's model 1, which files of versions 2 to 4 are decoded by
        palette, indices = np.zeros((k, 3), np.uint8), np.zeros((2, 2), index_dtype(k))
        indexcodec.decode(indexcodec.encode(palette, indices, 1), palette, 2, 2, indices.dtype, 1)


def encoded(image) -> bytes:
    return qc.encode(*image)


@FUZZ
@given(images())
def test_unmodified_files_decode_exactly(image):
    palette, indices, _ = image
    packed = decode_or_reject(encoded(image))
    assert packed is not None
    np.testing.assert_array_equal(packed.palette, palette)
    np.testing.assert_array_equal(packed.indices, indices)


@FUZZ
@given(images(), st.data())
def test_every_single_bit_flip_is_rejected(image, data):
    original = encoded(image)
    bit = data.draw(st.integers(0, 8 * len(original) - 1))
    damaged = bytearray(original)
    damaged[bit // 8] ^= 0x80 >> (bit % 8)
    assert decode_or_reject(bytes(damaged)) is None  # CRC32 catches every single-bit error


@FUZZ
@given(images(), st.data())
def test_byte_overwrites_with_recomputed_crc(image, data):
    damaged = bytearray(encoded(image)[:-4])
    for _ in range(data.draw(st.integers(1, 4))):
        damaged[data.draw(st.integers(0, len(damaged) - 1))] = data.draw(st.integers(0, 255))
    decode_or_reject(with_crc(bytes(damaged)))


@pytest.mark.parametrize("codec", qc.CODECS)
def test_truncation_at_every_length_is_rejected(codec):
    palette = np.arange(15, dtype=np.uint8).reshape(5, 3)
    data = qc.encode(palette, np.arange(35).reshape(5, 7) % 5, codec)
    for length in range(len(data)):
        with pytest.raises(FormatError, match="truncated"):
            qc.decode(data[:length])


# Python's own small objects beside a decode's buffers (an error's message, a cache filled on
# first use), which the bounds, sized by the header, do not count
PYTHON_OBJECTS = 64 << 10


@contextlib.contextmanager
def bounded_allocation(limit: int = 4 * MiB):
    """Fail unless the block allocates (traced peak) less than ``limit`` bytes (and
    :data:`PYTHON_OBJECTS`)."""
    tracemalloc.start()
    try:
        yield
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < limit + PYTHON_OBJECTS


@FUZZ
@given(images(), st.sampled_from(["width", "height", "k", "payload_bytes"]), st.data())
def test_inflated_sizes(image, field, data):
    original = encoded(image)
    header = qc.read_header(original)
    top = 2**64 - 1 if field == "payload_bytes" else 2**32 - 1
    damaged = patch(original, field, data.draw(st.integers(getattr(header, field) + 1, top)))
    # a legitimate image of up to max_pixels takes at most 2 bytes a pixel, and the cm model its
    # K x K distance tables (docs/FORMAT.md): both sized by the validated header, never the payload
    tables = {"cm": CM_TABLE_BYTES * header.k ** 2, "bilevel": BILEVEL_TABLE_BYTES,
              "template": BILEVEL_TABLE_BYTES}.get(header.codec, 0)
    qc.decode(original)  # a codec's first use allocates once (imports, caches): not what is measured
    with bounded_allocation(4 * MiB + tables):
        packed = decode_or_reject(damaged, max_pixels=MiB)
    if packed is not None:  # only a bigger image whose indices fit the same bytes can decode:
        # through padding bits, or an arithmetic-coded stream that reads as a few more pixels
        assert field in ("width", "height")
        assert header.codec in ("cm", "bilevel", "template") \
            or packed.header.index_bytes == header.index_bytes


@FUZZ
@given(images(), st.integers(0, 255))
def test_wrong_bits_per_index(image, bits):
    original = encoded(image)
    if bits == qc.bits_per_index(len(image[0])):
        bits = (bits + 1) % 256
    with pytest.raises(FormatError, match="bits per index"):
        qc.decode(patch(original, "bits", bits))


@FUZZ
@given(images(ks=(3, 5, 100, 257, 1000)), st.data())
def test_out_of_range_index_with_recomputed_crc(image, data):
    palette, indices, codec = image
    assume(codec not in ("cm", "bilevel", "template"))  # their streams name only palette entries
    k, bits = len(palette), qc.bits_per_index(len(palette))
    flat = indices.reshape(-1).copy()
    pos = data.draw(st.integers(0, flat.size - 1))
    flat[pos] = data.draw(st.integers(k, (1 << bits) - 1))
    original = encoded(image)
    stored = qc.codec_of(original)  # a byte codec with K > 256 stores packed bits
    stream = flat.astype(np.uint8).tobytes() if stored.endswith("-bytes") else \
        qc.pack_indices(flat, bits)
    damaged = file_with_payload(original, COMPRESS[stored](stream))
    y, x = divmod(pos, indices.shape[1])
    with pytest.raises(FormatError, match=rf"out of range for a {k}-colour palette \(pixel x={x}, y={y}\)"):
        qc.decode(damaged)


@FUZZ
@given(st.binary(max_size=200))
def test_random_bytes_are_rejected(blob):
    assert decode_or_reject(blob) is None


@st.composite
def plausible_files(draw):
    """Files whose fields are each valid or nearly so, with random palette and index bytes."""
    channels = draw(st.sampled_from([3, 4, 3, 4, 5]))
    codec = draw(st.sampled_from([0, 1, 2, 3, 4, 5, 6, 7, 8] * 2 + [9]))
    width, height = (draw(st.sampled_from([1, 2, 3, 5, 8, 13, 20] * 2 + [0])) for _ in range(2))
    k = draw(st.sampled_from([1, 2, 3, 7, 200, 256, 300, 65536, 65537]))
    bits = qc.bits_per_index(min(k, 65536)) + draw(st.sampled_from([0, 0, 0, 1, -1]))
    raw_size = max(0, (width * height * bits + 7) // 8 + draw(st.sampled_from([0, 0, 0, 1, -1])))
    raw = draw(st.binary(min_size=raw_size, max_size=raw_size))
    payload = COMPRESS[qc.CODECS[codec]](raw) if codec < len(qc.CODECS) else raw  # cm: the raw bytes
    palette = np.random.default_rng(draw(st.integers(0, 255))).bytes(k * channels)
    version = draw(st.sampled_from([2, 4]))
    head = struct.pack("<8sHBBIIIB3sQ", qc.MAGIC, version, channels, codec, width, height, k, bits % 256,
                       bytes(3), len(payload))
    return with_crc(head + palette + payload)


@FUZZ
@given(plausible_files())
def test_plausible_random_files(data):
    with bounded_allocation(4 * MiB + BILEVEL_TABLE_BYTES):
        decode_or_reject(data)


def zeros_stream(compressor, total: int) -> bytes:
    """``total`` zero bytes through ``compressor`` without holding them in memory."""
    block = bytes(16 * MiB)
    return b"".join(compressor.compress(block) for _ in range(total // len(block))) + compressor.flush()


@pytest.fixture(scope="module")
def small_file():
    return qc.encode(np.zeros((256, 3), np.uint8), np.zeros((16, 16), np.uint8), "none")  # 256 index bytes


@pytest.mark.parametrize("codec,k", [("cm", 16), ("bilevel", 2), ("template", 3)])
def test_a_stripe_table_the_payload_cannot_hold_is_refused_before_the_image_is_allocated(codec, k):
    """A 1x7 image's payload under a header of 4096x4096 pixels (16 stripes): refused for its
    table, with nothing the size of the image allocated (under ``ulimit -v``, not for memory)."""
    small = qc.encode(np.zeros((k, 3), np.uint8), np.arange(7).reshape(1, 7) % k, codec)
    assert qc.codec_of(small) == codec
    data = patch(patch(small, "width", 4096), "height", 4096)
    qc.decode(small)
    with bounded_allocation(limit=MiB), pytest.raises(FormatError, match="stripe table needs 60"):
        qc.decode(data)


@pytest.mark.parametrize("codec,make", [
    ("zlib", lambda: zeros_stream(zlib.compressobj(9), 256 * MiB)),
    ("lzma", lambda: zeros_stream(lzma.LZMACompressor(lzma.FORMAT_XZ, filters=[
        {"id": lzma.FILTER_LZMA2, "preset": 0, "dict_size": 4096}]), 256 * MiB)),
    ("zstd", lambda: zeros_stream(zstandard.ZstdCompressor().compressobj(), 1024 * MiB)),
    ("zstd", lambda: zeros_stream(zstandard.ZstdCompressor().compressobj(size=1024 * MiB), 1024 * MiB)),
], ids=["zlib-256MiB", "lzma-256MiB", "zstd-1GiB", "zstd-1GiB-declared"])
def test_decompression_bombs_stay_bounded(small_file, codec, make):
    payload = make()
    assert len(payload) < 2 * MiB
    bomb = patch(file_with_payload(small_file, payload), "codec", CODEC_ID[codec])
    with bounded_allocation(limit=len(payload) + MiB), pytest.raises(FormatError):
        qc.decode(bomb)


# In a fresh process: the peak resident memory (KiB) a decode adds, of a file whose header declares
# one row of 2^25 pixels and whose payload is a 1x7 image's (the stream runs out at once)
WIDE_ROW = """
import resource, struct, sys, zlib
import numpy as np
from quantize.io import container
from quantize.errors import FormatError
codec, k = sys.argv[1], int(sys.argv[2])
small = container.encode(np.zeros((k, 3), np.uint8), np.zeros((1, 7), int), codec)
body = bytearray(small[:-4])
struct.pack_into("<I", body, 12, 1 << 25)
container.decode(small)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    container.decode(bytes(body) + struct.pack("<I", zlib.crc32(body)))
except FormatError:
    pass
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss in KiB, as Linux counts it")
@pytest.mark.parametrize("codec,k", [("bilevel", 2), ("template", 3)])
def test_a_wide_row_costs_no_more_memory_than_its_indices(codec, k):
    """A 50-byte file declaring one very wide row (the template coders' stripe is that row) is
    refused without touching the zeros padding the rows above, which only ever read as zeros."""
    done = subprocess.run([sys.executable, "-c", WIDE_ROW, codec, str(k)], capture_output=True,
                          text=True, check=True)
    assert int(done.stdout) << 10 < (1 << 25), done.stdout
