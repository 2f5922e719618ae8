"""The cm codec: exact round trips, stripes, corrupt streams, and that it codes photos compactly."""

from __future__ import annotations

import os

import numpy as np
import pytest

from conftest import make_photo
from quantize.io import container as qc
from quantize.core import indexcodec
from quantize.errors import FormatError


def quantised(k: int, height: int, width: int, channels: int = 3, seed: int = 0):
    """A photo-like index map: a smooth photo mapped to ``k`` random colours by its nearest one."""
    rng = np.random.default_rng(seed)
    photo = make_photo(height, width, seed).astype(np.int64)
    palette = rng.integers(0, 256, (k, channels), dtype=np.uint8)
    d = ((photo[:, :, None, :] - palette[None, None, :, :3].astype(np.int64)) ** 2).sum(-1)
    return palette, d.argmin(-1)


@pytest.mark.parametrize("k", [2, 3, 16, 255, 256, 257, 1000, 1024])
@pytest.mark.parametrize("channels", [3, 4])
@pytest.mark.parametrize("height,width", [(1, 1), (1, 9), (7, 1), (13, 31)])
def test_round_trip_is_exact(k, channels, height, width):
    palette, indices = quantised(k, height, width, channels)
    dtype = np.uint8 if k <= 256 else np.uint16
    back = indexcodec.decode(indexcodec.encode(palette, indices), palette, height, width, dtype)
    np.testing.assert_array_equal(back, indices)


def test_random_indices_round_trip():
    rng = np.random.default_rng(3)
    for k in (2, 5, 64, 700):
        palette = rng.integers(0, 256, (k, 3), dtype=np.uint8)
        palette[1] = palette[0]  # equal colours: the distance order breaks ties by index
        indices = rng.integers(0, k, (40, 50))
        back = indexcodec.decode(indexcodec.encode(palette, indices), palette, 40, 50, np.uint16)
        np.testing.assert_array_equal(back, indices)


def test_stripes_split_large_images_by_size_alone():
    assert indexcodec.stripes(512, 768) == [(0, 512)]
    assert indexcodec.stripes(3, 1 << 20) == [(0, 1), (1, 2), (2, 3)]
    bounds = indexcodec.stripes(1000, 3000)
    assert len(bounds) == 2 and bounds[0] == (0, 500) and bounds[-1] == (500, 1000)


def test_several_stripes_round_trip_and_are_coded_apart():
    palette, tile = quantised(64, 64, 64)
    indices = np.tile(tile, (24, 24))[:1536, :1400]  # 2.15 MP: two stripes
    data = indexcodec.encode(palette, indices)
    first = int.from_bytes(data[:4], "little")
    assert 0 < first < len(data) - 4
    top = indexcodec.encode(palette, indices[:768])
    assert data[4:4 + first] == top  # a stripe is coded as an image of its own
    back = indexcodec.decode(data, palette, *indices.shape, np.uint8)
    np.testing.assert_array_equal(back, indices)


@pytest.mark.parametrize("codec", ["bilevel", "template"])
def test_the_first_damaged_stripe_stops_the_others(codec, monkeypatch):
    """64 empty stripes (a few hundred bytes declaring 2^26 pixels): refused once the first stripe
    is, not after all 64 fill their coder's tables."""
    from quantize.core.kernels import templates

    name = {"bilevel": "decode_bits", "template": "decode_indices"}[codec]
    kernel, calls = getattr(templates, name), []
    monkeypatch.setattr(templates, name, lambda *args: calls.append(1) or kernel(*args))
    height, width = 64, 1 << 20
    assert len(indexcodec.stripes(height, width)) == 64
    payload = bytes(4 * 63 + 4)
    with pytest.raises(FormatError, match=f"corrupt {codec} payload"):
        if codec == "bilevel":
            indexcodec.decode_bilevel(payload, height, width)
        else:
            indexcodec.decode_template(payload, height, width, 3)
    assert len(calls) <= (os.cpu_count() or 1)  # the first, and those already under way


def _cm_16():
    palette, indices = quantised(16, 20, 30)
    return (indices, lambda i: indexcodec.encode(palette, i),
            lambda data: indexcodec.decode(data, palette, 20, 30, np.uint8), 16, 150)


def _bilevel():
    return (page(30, 40), indexcodec.encode_bilevel,
            lambda data: indexcodec.decode_bilevel(data, 30, 40), 2, 100)


def _template():
    palette, indices = quantised(6, 20, 30, seed=2)
    return (indices, lambda i: indexcodec.encode_template(i, 6),
            lambda data: indexcodec.decode_template(data, 20, 30, 6), 6, 100)


@pytest.mark.parametrize("case", [_cm_16, _bilevel, _template])
def test_corrupt_streams_are_refused_or_decode_to_valid_indices(case):
    indices, encode, decode, k, most = case()
    data = bytearray(encode(indices))
    rng = np.random.default_rng(0)
    refused = 0
    for _ in range(200):
        damaged = bytearray(data)
        damaged[rng.integers(len(damaged))] ^= 1 << int(rng.integers(8))
        try:
            back = decode(bytes(damaged))
        except FormatError as exc:
            assert "\n" not in str(exc)
            refused += 1
        else:
            assert back.max() < k
    assert refused > most  # a changed bit nearly always changes where the stream ends
    for bad in (bytes(data[:-1]), bytes(data) + b"\0"):
        with pytest.raises(FormatError, match="payload"):
            decode(bad)


def test_photo_codes_smaller_than_packed_bits_through_zstd():
    palette, indices = quantised(64, 120, 160, seed=1)
    cm = qc.encode(palette, indices, "cm")
    zstd = qc.encode(palette, indices, "zstd")
    assert len(cm) < 0.8 * len(zstd)


def test_large_palettes_are_handed_to_zstd():
    palette, indices = quantised(1025, 4, 5)
    assert qc.read_header(qc.encode(palette, indices, "cm")).codec == "zstd"


@pytest.mark.parametrize("model", indexcodec.CM_MODELS)
@pytest.mark.parametrize("k,channels,height,width", [(2, 3, 5, 7), (5, 3, 12, 17), (40, 3, 16, 20),
                                                     (20, 4, 9, 11), (300, 3, 6, 9)])
def test_a_decoder_written_from_the_format_document_reads_the_files(k, channels, height, width, model):
    """tests/cm_reference.py follows docs/FORMAT.md, not our code: the document is enough."""
    import cm_reference

    palette, indices = quantised(k, height, width, channels, seed=k)
    payload = indexcodec.encode(palette, indices, model)
    assert cm_reference.decode(payload, palette.tolist(), height, width, model) == indices.tolist()


def test_cm_files_are_version_5_and_model_2_codes_a_photo_smaller():
    palette, indices = quantised(64, 120, 160, seed=1)
    data = qc.encode(palette, indices, "cm")
    assert qc.read_header(data).version == 5 and qc.codec_of(data) == "cm"
    np.testing.assert_array_equal(qc.decode(data).indices, indices)
    old, new = (len(indexcodec.encode(palette, indices, model)) for model in (1, 2))
    assert new < old


@pytest.mark.parametrize("version", [2, 3, 4])
def test_cm_files_of_versions_before_5_decode_with_the_old_model(version):
    """A cm file written before version 5 (model 1; the bytes the old writer made, built here from
    that model's payload) still decodes; its stream read as model 2 would not."""
    import zlib

    palette, indices = quantised(40, 30, 50, seed=3)
    payload = indexcodec.encode(palette, indices, 1)
    head = qc._HEADER.pack(qc.MAGIC, version, 3, 4, 50, 30, 40, 6, bytes(3), len(payload))
    body = head + palette.tobytes() + payload
    packed = qc.decode(body + zlib.crc32(body).to_bytes(4, "little"))
    assert packed.header.version == version
    np.testing.assert_array_equal(packed.indices, indices)
    try:
        misread = indexcodec.decode(payload, palette, 30, 50, np.uint8, 2)
    except FormatError:
        return
    assert not np.array_equal(misread, indices)


@pytest.mark.parametrize("name", ["rgb40", "rgba300", "stripes5"])
def test_version_2_files_still_decode(name):
    """Files written by quantize (tests/data/cm_v2_*.qnt, version 2, codec id 4: stripes of 2^20
    pixels) decode as they always did."""
    from pathlib import Path

    folder = Path(__file__).parent / "data"
    packed = qc.decode((folder / f"cm_v2_{name}.qnt").read_bytes())
    assert packed.header.version == 2 and packed.header.codec == "cm"
    if name == "stripes5":  # 2048 x 1024: two stripes of 2^20 pixels
        y, x = np.mgrid[:1024, :2048]
        expected = (x // 97 + y // 61) % 5
    else:
        expected = np.load(folder / "cm_v2_indices.npz")[name]
    np.testing.assert_array_equal(packed.indices, expected)


# --- bilevel ----------------------------------------------------------------------------------

def page(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A bilevel 'page': rows of small repeated glyphs (0 paper, 1 ink) with some noise."""
    rng = np.random.default_rng(seed)
    glyphs = rng.random((12, 7, 5)) < 0.35
    out = np.zeros((height, width), np.uint8)
    for top in range(2, height - 8, 10):
        for left in range(2, width - 6, 6):
            out[top:top + 7, left:left + 5] = glyphs[rng.integers(12)]
    out[rng.random(out.shape) < 0.002] ^= 1
    return out


@pytest.mark.parametrize("height,width", [(1, 1), (1, 9), (7, 1), (3, 2), (40, 61)])
def test_bilevel_round_trip_is_exact(height, width):
    for bits in (page(height, width), np.ones((height, width), np.uint8),
                 (np.random.default_rng(height).random((height, width)) < 0.5).astype(np.uint8)):
        back = indexcodec.decode_bilevel(indexcodec.encode_bilevel(bits), height, width)
        np.testing.assert_array_equal(back, bits)


def test_bilevel_stripes_are_coded_apart():
    bits = page(1500, 1400, seed=2)  # 2.1 MP: two stripes
    data = indexcodec.encode_bilevel(bits)
    first = int.from_bytes(data[:4], "little")
    assert data[4:4 + first] == indexcodec.encode_bilevel(bits[:750])
    np.testing.assert_array_equal(indexcodec.decode_bilevel(data, 1500, 1400), bits)


def test_a_bilevel_decoder_written_from_the_format_document_reads_the_files():
    import cm_reference

    for bits in (page(23, 37, seed=1), page(9, 14, seed=4)):
        payload = indexcodec.encode_bilevel(bits)
        assert cm_reference.decode_bilevel(payload, *bits.shape) == bits.tolist()


def test_a_page_at_k2_is_written_bilevel_smaller_than_cm_and_read_back():
    palette = np.array([[250, 250, 245], [20, 20, 30]], np.uint8)
    bits = page(200, 300, seed=5)
    data = qc.encode(palette, bits)  # cm asked: bilevel where smaller
    header = qc.read_header(data)
    assert (header.codec, header.version) == ("bilevel", 4)
    cm_only = len(indexcodec.encode(palette, bits))
    assert header.payload_bytes < 0.8 * cm_only
    np.testing.assert_array_equal(qc.decode(data).indices, bits)
    assert qc.written_codec("bilevel", 3) == "cm"  # asked at another K: cm (and its choices)
    assert qc.read_header(qc.encode(np.zeros((3, 3), np.uint8), bits, "bilevel")).codec != "bilevel"
    other = bytearray(qc.encode(palette, bits, "bilevel"))
    other[20:25] = (3).to_bytes(4, "little") + b"\x02"  # K=3 (2 bits) with the bilevel codec
    with pytest.raises(FormatError, match="the bilevel codec codes K=2 only, not K=3"):
        qc.read_header(bytes(other))


# --- template -------------------------------------------------------------------------------

@pytest.mark.parametrize("k", [3, 5, 8, 17, 200, 256])
@pytest.mark.parametrize("height,width", [(1, 1), (1, 9), (7, 1), (13, 31)])
def test_template_round_trip_is_exact(k, height, width):
    _, indices = quantised(k, height, width, seed=k)
    back = indexcodec.decode_template(indexcodec.encode_template(indices, k), height, width, k)
    np.testing.assert_array_equal(back, indices)


def test_a_template_decoder_written_from_the_format_document_reads_the_files():
    import cm_reference

    for k, (height, width) in ((3, (9, 14)), (40, (11, 17)), (256, (6, 9))):
        _, indices = quantised(k, height, width, seed=k)
        payload = indexcodec.encode_template(indices, k)
        assert cm_reference.decode_template(payload, height, width, k) == indices.tolist()


def test_text_and_dithers_are_written_template_where_smaller_and_read_back():
    rng = np.random.default_rng(8)
    palette = rng.integers(0, 256, (16, 3), dtype=np.uint8)
    ink = page(240, 320, seed=6).astype(float)  # anti-aliased: each glyph's edge in 16 shades
    shades = np.rint(sum(np.roll(ink, (dy, dx), (0, 1)) for dy in (-1, 0, 1) for dx in (-1, 0, 1))
                     / 9 * 15).astype(np.int64)
    shades = np.pad(shades, ((120, 120), (0, 0)))  # margins: a page codes under a bit a pixel
    for k, indices in ((16, shades), (4, np.minimum(shades, 3))):
        data = qc.encode(palette[:k], indices)
        header = qc.read_header(data)
        assert (header.codec, header.version) == ("template", 4)
        assert header.payload_bytes < 0.8 * len(indexcodec.encode(palette[:k], indices))
        np.testing.assert_array_equal(qc.decode(data).indices, indices)
    other = bytearray(qc.encode(palette[:4], np.minimum(shades, 3), "template"))
    other[20:25] = (2).to_bytes(4, "little") + b"\x01"  # K=2 (1 bit) with the template codec
    with pytest.raises(FormatError, match="the template codec codes K=3 to 256, not K=2"):
        qc.read_header(bytes(other))


def test_a_photo_past_k8_pays_no_template_pass(monkeypatch):
    from pathlib import Path

    import quantize

    result = quantize.compress(str(Path(__file__).parents[1] / "test_images" / "parrots.png"), k=64)
    palette, photo = result.palette, result.indices
    assert 8 * len(indexcodec.encode(palette, photo)) > photo.size  # over a bit a pixel
    calls = []
    encode = indexcodec.encode_template
    monkeypatch.setattr(indexcodec, "encode_template", lambda *a: calls.append(a) or encode(*a))
    assert qc.read_header(qc.encode(palette, photo)).codec == "cm" and calls == []
