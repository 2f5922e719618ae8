"""The packed-index container: round trips, the pinned byte layout, validation messages, save/load."""

from __future__ import annotations

import lzma
import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
import zstandard

from conftest import COMPRESS, make_photo
from quantize import compress
from quantize.core import indexcodec
from quantize.io import container as qc
from quantize.errors import FormatError, InputError, OutputError, ParameterError

# The layout from docs/FORMAT.md, written out independently of the implementation.
HEADER = struct.Struct("<8sHBBIIIB3sQ")
MAGIC = b"\x89QNT\r\n\x1a\n"
CODEC_ID = {"none": 0, "zlib": 1, "lzma": 2, "zstd": 3, "cm": 4}


def build(*, width, height, k, palette, payload, channels=3, codec="none", bits=None, version=2,
          reserved=bytes(3), magic=MAGIC, payload_bytes=None) -> bytes:
    """A packed file assembled field by field, with a correct CRC unless the caller damages it later."""
    head = HEADER.pack(magic, version, channels, CODEC_ID.get(codec, codec), width, height, k,
                       (max(k, 1) - 1).bit_length() if bits is None else bits, reserved,
                       len(payload) if payload_bytes is None else payload_bytes)
    body = head + bytes(palette) + payload
    return body + struct.pack("<I", zlib.crc32(body))


def image(k: int, channels: int, height: int, width: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    palette = rng.integers(0, 256, (k, channels), dtype=np.uint8)
    indices = rng.integers(0, k, (height, width))
    indices.flat[0] = k - 1  # the largest index always appears
    return palette, indices


def reject(data, *words, **kwargs):
    with pytest.raises(FormatError) as info:
        qc.decode(data, **kwargs)
    message = str(info.value)
    assert "\n" not in message
    for word in words:
        assert word in message
    return message


# --- round trips --------------------------------------------------------------------------------

@pytest.mark.parametrize("codec", qc.CODECS)
@pytest.mark.parametrize("channels", [3, 4])
@pytest.mark.parametrize("height,width", [(1, 1), (3, 7), (5, 13)])
@pytest.mark.parametrize("k", [1, 2, 3, 16, 255, 256, 257, 4096, 65536])
def test_round_trip_is_exact(k, height, width, channels, codec):
    palette, indices = image(k, channels, height, width)
    data = qc.encode(palette, indices, codec)
    packed = qc.decode(data)
    by_k = "cm" if (codec == "bilevel" and k != 2) or (codec == "template" and not 3 <= k <= 256) \
        else codec  # bilevel codes K = 2 only, template 3 to 256
    by_k = "zstd" if by_k == "cm" and k > 1024 else by_k  # cm hands large palettes to zstd
    if codec.endswith("-bytes") and k > 256:  # a byte an index holds K <= 256
        by_k = codec.removesuffix("-bytes")
    assert qc.written_codec(codec, k) == by_k
    stored = qc.codec_of(data)  # and gives way where another coder is smaller
    assert stored == by_k or (by_k == "cm" and stored in ("zstd", "none", "zstd-bytes",
                                                          "lzma-bytes", "bilevel", "template"))
    # the first version that reads the codec (the palette: unrelated colours, as is); cm's model 2
    # is version 5's
    version = (5 if stored == "cm" and k > 1 else 4 if stored in ("bilevel", "template")
               else 3 if stored.endswith("-bytes") else 2)
    assert packed.header == qc.Header(version, width, height, channels, k, qc.bits_per_index(k),
                                      stored, len(data) - 40 - k * channels)
    assert packed.indices.dtype == (np.uint8 if k <= 256 else np.uint16)
    np.testing.assert_array_equal(packed.indices, indices)
    np.testing.assert_array_equal(packed.palette, palette)
    np.testing.assert_array_equal(packed.pixels(), palette[indices])
    if codec == "none":
        assert len(data) == qc.packed_size(width, height, k, channels)


def test_packed_size_formula():
    # header 36 + palette 16*3 + ceil(65 * 4 / 8) = 33 index bytes + CRC 4
    assert qc.packed_size(13, 5, 16, 3) == 36 + 48 + 33 + 4
    assert qc.packed_size(1000, 1000, 1, 4) == 36 + 4 + 4



def test_codec_note_counts_one_colour_in_the_singular():
    """-k 1 --codec bilevel said "these 1 colours are coded with cm"."""
    assert qc.codec_note("bilevel", 1, "cm") == (
        "the bilevel codec codes K = 2 only: this one colour is coded with cm",)
    assert qc.codec_note("template", 300, "cm") == (
        "the template codec codes K = 3 to 256: these 300 colours are coded with cm",)


@pytest.mark.parametrize("bits", range(17))
@pytest.mark.parametrize("count", [0, 1, 7, 9, 1000])
def test_pack_unpack_round_trip(bits, count):
    values = np.random.default_rng(bits).integers(0, 1 << bits, count)
    data = qc.pack_indices(values, bits)
    assert len(data) == (count * bits + 7) // 8
    out = qc.unpack_indices(data, bits, count)
    assert out.dtype == (np.uint8 if bits <= 8 else np.uint16)
    np.testing.assert_array_equal(out, values)


@pytest.mark.parametrize("bits", [3, 11])
def test_pack_unpack_across_chunks(bits):
    count = 2 * qc._CHUNK + 13
    values = np.random.default_rng(1).integers(0, 1 << bits, count)
    np.testing.assert_array_equal(qc.unpack_indices(qc.pack_indices(values, bits), bits, count), values)


@pytest.mark.parametrize("values,bits,expected", [
    ([0, 1, 2, 3, 3], 2, "1bc0"),       # 00 01 10 11 11|000000
    ([5, 1, 7], 3, "a780"),             # 101 001 111|0000000
    ([1, 0, 1, 1, 0, 0, 0, 0, 1], 1, "b080"),
    ([0xABC, 0x123], 12, "abc123"),
    ([0x1234, 0xFFFF], 16, "1234ffff"),  # 16-bit indices are big-endian
    ([7, 200], 8, "07c8"),
    ([0, 0, 0], 0, ""),
])
def test_bit_order_is_pinned(values, bits, expected):
    assert qc.pack_indices(np.array(values), bits).hex() == expected
    np.testing.assert_array_equal(qc.unpack_indices(bytes.fromhex(expected), bits, len(values)), values)


def test_whole_file_bytes_are_pinned():
    palette = np.array([[1, 2, 3], [250, 251, 252]], np.uint8)
    data = qc.encode(palette, np.array([[0, 1, 1]]), codec="none")
    head = (MAGIC + b"\x02\x00" + b"\x03" + b"\x00" + b"\x03\x00\x00\x00" + b"\x01\x00\x00\x00"
            + b"\x02\x00\x00\x00" + b"\x01" + b"\x00\x00\x00" + b"\x01" + bytes(7))
    body = head + bytes([1, 2, 3, 250, 251, 252]) + b"\x60"
    assert data == body + zlib.crc32(body).to_bytes(4, "little")
    assert qc.HEADER_SIZE == 36 and qc.SUFFIX == ".qnt"


def test_default_codec_is_cm():
    palette, indices = image(16, 3, 4, 4)
    assert qc.DEFAULT_CODEC == "cm"
    assert qc.read_header(qc.encode(palette, indices)).codec == "cm"


def test_cm_gives_way_to_a_dictionary_coder_on_long_exact_repeats():
    # a screenshot's kind of picture: one short row pattern, repeated exactly; a photo keeps cm
    rng = np.random.default_rng(3)
    palette = rng.integers(0, 256, (16, 3), dtype=np.uint8)
    tile = rng.integers(0, 16, (8, 40), dtype=np.uint8)
    indices = np.tile(tile, (40, 8))
    data = qc.encode(palette, indices)
    assert qc.codec_of(data) == "zstd"
    assert len(data) < qc.HEADER_SIZE + 48 + len(indexcodec.encode(palette, indices)) + 4
    np.testing.assert_array_equal(qc.decode(data).indices, indices)
    photo = compress(make_photo(96, 128), k=16)
    assert qc.codec_of(qc.encode(photo.palette, photo.indices)) == "cm"


@pytest.mark.parametrize("name,codec", [("chart_k256_cm.qnt", "zstd"), ("editor_k16_cm.qnt", "template")])
def test_flat_graphics_try_the_strong_coders_though_the_fast_probe_misses(name, codec):
    # a chart and a code editor's screenshot, written with cm when zstd's fastest level (1.29 and
    # 1.48 times cm's bytes) kept the strong coders out; cm's few bits a pixel now let them in
    old = qc.load(Path(__file__).parent / "data" / name)
    assert old.header.codec == "cm"
    data = qc.encode(old.palette, old.indices)
    header = qc.read_header(data)
    assert header.codec == codec and len(data) < 0.97 * old.header.file_bytes
    np.testing.assert_array_equal(qc.decode(data).indices, old.indices)


def test_a_photo_pays_only_the_fast_probes(monkeypatch):
    photo = compress(make_photo(96, 128), k=256)
    levels = []
    code = qc.compress_bytes
    def probe(codec, level, raw):  # the index streams' passes, not the palette's
        if len(raw) >= photo.indices.size:
            levels.append(level)
        return code(codec, level, raw)

    monkeypatch.setattr(qc, "compress_bytes", probe)
    assert qc.codec_of(qc.encode(photo.palette, photo.indices)) == "cm"
    assert levels == [1]


def test_version_1_files_still_decode():
    palette, indices = image(16, 3, 5, 13)
    for codec in ("none", "zlib", "lzma", "zstd"):
        raw = qc._pack(indices.reshape(-1), 4)
        data = build(width=13, height=5, k=16, palette=palette.tobytes(), codec=codec,
                     payload=COMPRESS[codec](raw), version=1)
        packed = qc.decode(data)
        assert packed.header.version == 1
        np.testing.assert_array_equal(packed.indices, indices)


def test_cm_codec_is_refused_in_version_1():
    palette, indices = image(16, 3, 4, 4)
    data = bytearray(qc.encode(palette, indices, "cm"))
    data[8:10] = (1).to_bytes(2, "little")
    data[-4:] = zlib.crc32(bytes(data[:-4])).to_bytes(4, "little")
    reject(bytes(data), "unknown codec id 4")


@pytest.mark.parametrize("codec,level", [("zlib", 0), ("zlib", 9), ("lzma", 0), ("lzma", 9), ("zstd", 1),
                                         ("zstd", 22)])
def test_levels_round_trip(codec, level):
    palette, indices = image(100, 3, 20, 30)
    np.testing.assert_array_equal(qc.decode(qc.encode(palette, indices, codec, level)).indices, indices)


def test_compression_shrinks_a_flat_image():
    palette, _ = image(256, 3, 1, 1)
    indices = np.zeros((100, 100), np.uint8)
    for codec in ("zlib", "lzma", "zstd"):
        assert len(qc.encode(palette, indices, codec)) < qc.packed_size(100, 100, 256, 3) // 10


def test_read_header_reports_fields():
    palette, indices = image(300, 4, 2, 9)
    header = qc.read_header(qc.encode(palette, indices, "none"))
    assert (header.width, header.height, header.channels, header.k, header.bits) == (9, 2, 4, 300, 9)
    assert header.n_pixels == 18 and header.codec == "none" and header.payload_bytes == 21


# --- encode argument checks ---------------------------------------------------------------------

@pytest.mark.parametrize("palette,indices,kwargs,words", [
    (np.zeros((4, 3), np.float32), np.zeros((2, 2), int), {}, "palette must be"),
    (np.zeros((4, 2), np.uint8), np.zeros((2, 2), int), {}, "palette must be"),
    (np.zeros(12, np.uint8), np.zeros((2, 2), int), {}, "palette must be"),
    (np.zeros((0, 3), np.uint8), np.zeros((2, 2), int), {}, "1 to 65536 colours, got 0"),
    (np.zeros((65537, 3), np.uint8), np.zeros((2, 2), int), {}, "got 65537"),
    (np.zeros((4, 3), np.uint8), np.zeros(4, int), {}, "2-D"),
    (np.zeros((4, 3), np.uint8), np.zeros((0, 3), int), {}, "non-empty"),
    (np.zeros((4, 3), np.uint8), np.zeros((2, 2)), {}, "must be integers"),
    (np.zeros((4, 3), np.uint8), np.array([[0, 1], [4, 0]]), {}, "index 4 out of range for a 4-colour palette"
                                                                      " (pixel x=0, y=1)"),
    (np.zeros((4, 3), np.uint8), np.array([[0, -1]]), {}, "index -1 out of range"),
    (np.zeros((4, 3), np.uint8), np.zeros((2, 2), int), {"codec": "brotli"}, "unknown codec 'brotli'"),
    (np.zeros((4, 3), np.uint8), np.zeros((2, 2), int), {"codec": "zstd", "level": 23}, "1 to 22"),
    (np.zeros((4, 3), np.uint8), np.zeros((2, 2), int), {"codec": "zlib", "level": -1}, "0 to 9"),
    (np.zeros((4, 3), np.uint8), np.zeros((2, 2), int), {"codec": "none", "level": 1}, "no compression level"),
])
def test_encode_rejects_bad_arguments(palette, indices, kwargs, words):
    with pytest.raises(ParameterError, match=words.replace("(", r"\(").replace(")", r"\)")):
        qc.encode(palette, indices, **kwargs)


def test_pack_indices_rejects_values_that_do_not_fit():
    with pytest.raises(ParameterError, match="fit in 3 bits"):
        qc.pack_indices(np.array([8]), 3)
    with pytest.raises(ParameterError, match="0 to 16"):
        qc.pack_indices(np.array([0]), 17)


def test_unpack_indices_rejects_short_data():
    with pytest.raises(FormatError, match="truncated: expected 2 bytes, found 1"):
        qc.unpack_indices(b"\x00", 3, 5)


# --- decode validation --------------------------------------------------------------------------

SMALL = dict(width=5, height=2, k=3, palette=bytes(range(9)), payload=bytes([0b00011000, 0b01001000, 0]))


def test_build_helper_matches_encode():
    indices = qc.unpack_indices(SMALL["payload"], 2, 10).reshape(2, 5)
    assert build(**SMALL) == qc.encode(np.arange(9, dtype=np.uint8).reshape(3, 3), indices, "none")


def test_bad_magic():
    assert reject(bytes(100)) == "not a quantize packed file (bad magic)"
    reject(build(**{**SMALL, "magic": b"\x89QNX\r\n\x1a\n"}), "bad magic")


@pytest.mark.parametrize("head,kind", [(b"GIF89a", "GIF"), (b"\x89PNG\r\n\x1a\n", "PNG"),
                                       (b"\xff\xd8\xff\xe0", "JPEG"), (b"II*\0", "TIFF"),
                                       (b"RIFF\0\0\0\0WEBPVP8L", "WebP")])
def test_an_image_given_as_a_packed_file_is_named(head, kind):
    message = reject(head + bytes(100))
    assert message == f"not a quantize packed file (bad magic: it is a {kind} image)"


def test_text_mode_damage_is_named():
    data = build(**SMALL)
    for damaged in (data.replace(b"\r\n", b"\n", 1), b"\x09" + data[1:]):  # line ends; 7 bits
        reject(damaged, "bad magic", "text-mode")
    other = reject(b"\x8d" + data[1:], "bad magic")  # a flipped bit is no transfer's mark
    assert "text-mode" not in other


def test_newer_version_is_refused_by_name():
    reject(build(**{**SMALL, "version": 7}), "packed file version 7 is newer than this quantize understands (5)")
    reject(build(**{**SMALL, "version": 7})[:12], "version 7 is newer")  # even when truncated
    reject(build(**{**SMALL, "version": 0}), "version 0 is not valid")


@pytest.mark.parametrize("cut", [0, 5, 8, 35])
def test_truncated_header(cut):
    reject(build(**SMALL)[:cut], "packed file is truncated", "36-byte header", f"found {cut} bytes")


def test_truncated_body_and_trailing_bytes():
    data = build(**SMALL)
    reject(data[:-3], f"packed file is truncated: expected {len(data)} bytes, found {len(data) - 3}")
    reject(data + b"\0", "1 unexpected bytes after its end")


def test_a_corrupt_file_loaded_is_named_in_its_error(tmp_path):
    data = build(**SMALL)
    for name, content in (("cut.qnt", data[:-3]), ("flipped.qnt", data[:-1] + bytes([data[-1] ^ 1]))):
        (tmp_path / name).write_bytes(content)
        with pytest.raises(FormatError) as info:
            qc.load(tmp_path / name)
        assert str(info.value).startswith(f"{tmp_path / name}: ")


def test_crc_mismatch():
    data = bytearray(build(**SMALL))
    data[40] ^= 0x01  # a palette byte
    reject(bytes(data), "CRC mismatch: file is corrupt")
    reject(build(**SMALL)[:-1] + b"\xff", "CRC mismatch")


def test_index_out_of_range_names_index_and_pixel():
    # 2 bits per index, K = 3: index 3 at pixel (2, 1) -> the 8th index, bits 14-15 of the stream
    payload = bytes([0b00011000, 0b01001011, 0])
    reject(build(**{**SMALL, "payload": payload}), "index 3 out of range for a 3-colour palette (pixel x=2, y=1)")


@pytest.mark.parametrize("field,value,words", [
    ("bits", 3, "bits per index 3 does not match K=3 (expected 2)"),
    ("bits", 0, "bits per index 0 does not match K=3"),
    ("k", 0, "invalid palette size K=0"),
    ("k", 65537, "invalid palette size K=65537 (must be 1 to 65536)"),
    ("channels", 5, "invalid channel count 5 (must be 3 or 4)"),
    ("codec", 5, "unknown codec id 5"),
    ("width", 0, "invalid image size 0x2"),
    ("reserved", b"\0\1\0", "reserved header bytes are not zero"),
    ("payload_bytes", 4, "payload size 4 does not match the 3 bytes of packed indices"),
    ("width", 2**32 - 1, "over the limit of 2147483648 pixels"),
])
def test_header_field_errors(field, value, words):
    reject(build(**{**SMALL, field: value}), words)


def test_pixel_limit_is_a_parameter():
    data = build(**SMALL)
    reject(data, "image size 5x2 = 10 pixels is over the limit of 9 pixels", max_pixels=9)
    assert qc.decode(data, max_pixels=10).header.n_pixels == 10
    with pytest.raises(ParameterError):
        qc.decode(data, max_pixels=0)


def test_read_header_checks_header_only():
    data = build(**SMALL)
    assert qc.read_header(data[:36]).k == 3  # body not needed
    assert qc.read_header(build(**{**SMALL, "width": 2**32 - 1, "codec": "zlib"})).width == 2**32 - 1  # no limit unless asked
    with pytest.raises(FormatError, match="over the limit"):
        qc.read_header(data, max_pixels=5)
    with pytest.raises(FormatError, match="does not match K"):
        qc.read_header(build(**{**SMALL, "bits": 5}))


def test_nonzero_padding_bits():
    reject(build(**{**SMALL, "payload": bytes([0b00011000, 0b01001000, 0b00000001])}),
           "padding bits after the last index are not zero")


@pytest.mark.parametrize("codec", ["zlib", "lzma", "zstd"])
def test_codec_stream_errors(codec):
    raw = SMALL["payload"]
    fields = {**SMALL, "codec": codec}
    assert qc.decode(build(**{**fields, "payload": COMPRESS[codec](raw)})).header.codec == codec
    reject(build(**{**fields, "payload": b"garbage!" * 4}), f"corrupt {codec} payload")
    trailing = "3 bytes of unused data" if codec == "zstd" else "3 unexpected bytes after its end"
    reject(build(**{**fields, "payload": COMPRESS[codec](raw) + b"xyz"}), f"{codec} payload", trailing)
    too_long, too_short = (build(**{**fields, "payload": COMPRESS[codec](r)}) for r in (raw + b"\0", raw[:2]))
    if codec == "zstd":
        reject(too_long, "zstd payload declares 4 bytes, expected 3")
        reject(too_short, "zstd payload declares 2 bytes, expected 3")
        reject(build(**{**fields, "payload": COMPRESS[codec](raw)[:-2]}), "corrupt zstd payload")
    else:
        reject(too_long, f"{codec} payload decompresses to more than the expected 3 bytes")
        reject(too_short, f"{codec} payload decompresses to 2 bytes, expected 3")
        reject(build(**{**fields, "payload": COMPRESS[codec](raw)[:-2]}), f"{codec} payload is truncated")


def test_zstd_frame_must_declare_its_size():
    payload = zstandard.ZstdCompressor(write_content_size=False).compress(SMALL["payload"])
    reject(build(**{**SMALL, "codec": "zstd", "payload": payload}), "zstd payload does not declare")


def test_lzma_stream_needing_a_big_dictionary_is_refused():
    # preset 9 without the writer's dictionary cap asks the decoder for a 64 MiB dictionary
    payload = lzma.compress(SMALL["payload"], format=lzma.FORMAT_XZ, preset=9)
    reject(build(**{**SMALL, "codec": "lzma", "payload": payload}), "corrupt lzma payload")


def test_decode_accepts_memoryview_and_bytearray():
    data = build(**SMALL)
    for view in (memoryview(data), bytearray(data)):
        assert qc.decode(view).header.k == 3


# --- save / load --------------------------------------------------------------------------------

def test_save_and_load(tmp_path):
    palette, indices = image(40, 4, 6, 11)
    path = tmp_path / f"out{qc.SUFFIX}"
    written = qc.save(path, palette, indices, codec="lzma")
    assert written == path.stat().st_size
    assert path.read_bytes() == qc.encode(palette, indices, "lzma")
    np.testing.assert_array_equal(qc.load(path).pixels(), palette[indices])


def test_save_refuses_to_overwrite_without_force(tmp_path):
    palette, indices = image(4, 3, 2, 2)
    path = tmp_path / "out.qnt"
    path.write_bytes(b"keep me")
    with pytest.raises(OutputError, match="already exists"):
        qc.save(path, palette, indices)
    assert path.read_bytes() == b"keep me"
    qc.save(path, palette, indices, force=True)
    assert qc.load(path).header.k == 4
    assert os.listdir(tmp_path) == ["out.qnt"]


def test_save_is_atomic_when_encoding_fails(tmp_path):
    path = tmp_path / "out.qnt"
    path.write_bytes(b"keep me")
    with pytest.raises(ParameterError):
        qc.save(path, np.zeros((4, 3), np.uint8), np.full((2, 2), 9), force=True)
    assert path.read_bytes() == b"keep me"
    assert os.listdir(tmp_path) == ["out.qnt"]


def test_save_refuses_protected_input(tmp_path):
    path = tmp_path / "in.qnt"
    path.write_bytes(b"input")
    with pytest.raises(OutputError, match="input"):
        qc.save(path, np.zeros((1, 3), np.uint8), np.zeros((1, 1), int), force=True, protect=(path,))
    assert path.read_bytes() == b"input"


def test_load_missing_or_unreadable_file_is_an_input_error(tmp_path):
    for path in (tmp_path / "missing.qnt", tmp_path):
        with pytest.raises(InputError) as info:
            qc.load(path)
        assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_load_bad_content_is_a_format_error(tmp_path):
    path = tmp_path / "x.qnt"
    for content, max_pixels, words in [(b"hello", 10, "bad magic"), (build(**SMALL)[:-1], 10, "truncated"),
                                       (build(**SMALL), 9, "over the limit")]:
        path.write_bytes(content)
        with pytest.raises(FormatError, match=words):
            qc.load(path, max_pixels=max_pixels)


def test_a_palette_of_few_steps_is_stored_coded_and_reads_back_exactly():
    """A gradient's palette (each channel a few distinct steps from entry to entry) is stored as
    coded differences (version 3, its size in the header); a palette of unrelated colours stays
    as it is (version 2, as before); damaged coded palettes are FormatErrors. (zstd: a cm file is
    version 5 either way.)"""
    ramp = np.arange(256)
    gradient = np.stack([ramp, 64 + ramp // 2, 255 - ramp], 1).astype(np.uint8)
    indices = np.tile(np.arange(256, dtype=np.uint8).repeat(2), (8, 1))
    coded = qc.encode(gradient, indices, "zstd")
    header = qc.read_header(coded)
    assert (header.version, header.k) == (3, 256) and 2 <= header.palette_bytes < 100
    assert len(coded) == header.file_bytes < 768
    back = qc.decode(coded)
    np.testing.assert_array_equal(back.palette, gradient)
    np.testing.assert_array_equal(back.indices, indices)
    assert back.palette.flags.writeable
    unrelated = np.random.default_rng(0).integers(0, 256, (256, 3), dtype=np.uint8)
    plain = qc.encode(unrelated, indices, "zstd")
    assert qc.read_header(plain).version == 2 and qc.read_header(plain).palette_bytes == 0
    assert qc.decode(plain).palette.tobytes() == unrelated.tobytes()

    start = qc.HEADER_SIZE
    for at, value, words in ((start, 9, "unknown palette codec id 9"),
                             (start + 1, None, "palette: corrupt")):
        bad = bytearray(coded[:-4])
        bad[at] = bad[at] ^ 0x55 if value is None else value
        with pytest.raises(FormatError, match=words):
            qc.decode(bytes(bad) + zlib.crc32(bad).to_bytes(4, "little"))
    tiny = bytearray(coded[:-4])
    tiny[25:28] = (1).to_bytes(3, "little")
    with pytest.raises(FormatError, match="a coded palette of 1 bytes"):
        qc.read_header(bytes(tiny))
