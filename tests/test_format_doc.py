"""The worked examples of docs/FORMAT.md are the bytes quantize writes and reads."""

from __future__ import annotations

import lzma
import re
import zlib
from pathlib import Path

import numpy as np
import pytest
import zstandard

from quantize.animation.qntanim import QntWriter, decode_animation
from quantize.animation.temporal import MappedFrame
from quantize.errors import FormatError
from quantize.io import container as qc
from test_container import build

FORMAT_MD = Path(__file__).resolve().parent.parent / "docs" / "FORMAT.md"

# The images the section describes, in its order: (palette, indices, codec).
EXAMPLES = [
    (np.array([[0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255]], np.uint8),
     np.array([[0, 1, 2, 3, 3]]), "none"),
    (np.array([[17 * i, 255 - 17 * i, 0] for i in range(16)], np.uint8),
     np.arange(16).reshape(1, 16), "cm"),
]


def _hex_dumps(heading: str) -> list[bytes]:
    """The hex dumps of the section that starts with ``heading``, in order."""
    text = FORMAT_MD.read_text(encoding="utf-8")
    section = text.split(f"\n{heading}", 1)[1].split("\n## ", 1)[0]
    return [bytes.fromhex(block) for block in re.findall(r"```text\n(.*?)```", section, re.S)]


def _documented_files() -> list[bytes]:
    """The files of the "Worked examples" section."""
    return _hex_dumps("## Worked examples")


def test_the_section_dumps_one_file_per_example() -> None:
    assert len(_documented_files()) == len(EXAMPLES)


@pytest.mark.parametrize("number", range(len(EXAMPLES)))
def test_a_documented_file_decodes_to_its_image(number: int) -> None:
    palette, indices, _ = EXAMPLES[number]
    packed = qc.decode(_documented_files()[number])
    np.testing.assert_array_equal(packed.palette, palette)
    np.testing.assert_array_equal(packed.indices, indices)


@pytest.mark.parametrize("number", range(len(EXAMPLES)))
def test_the_writer_makes_the_documented_bytes(number: int) -> None:
    palette, indices, codec = EXAMPLES[number]
    documented = _documented_files()[number]
    palette_bytes = int.from_bytes(documented[25:28], "little")
    if palette_bytes:  # a coded palette's bytes are this zlib build's; the document's may differ
        planes = np.diff(palette.T, axis=1, prepend=np.uint8(0)).tobytes()
        if zlib.compress(planes, 9) != documented[37:36 + palette_bytes]:
            pytest.skip("this zlib codes the palette to other bytes than the document's")
    assert qc.encode(palette, indices, codec) == documented


def _validation_rows() -> list[str]:
    """The rows of the validation table, in the document's order."""
    text = FORMAT_MD.read_text(encoding="utf-8")
    section = text.split("## Validation", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| ") and "`" in line]


def _coded_palette(section: bytes) -> bytes:
    """A K = 4 RGB file (indices 0 1) whose palette is stored as ``section``, version 3."""
    return build(width=2, height=1, k=4, palette=section, payload=b"\x10", version=3,
                 reserved=len(section).to_bytes(3, "little"))


REJECTED = {
    "byte codec over K=256": build(width=2, height=1, k=300, palette=bytes(900), version=3,
                                   codec=5, payload=lzma.compress(bytes(2), lzma.FORMAT_XZ)),
    "cm over K=1024": build(width=2, height=1, k=2000, palette=bytes(6000), version=5, codec=4,
                            payload=bytes(4)),
    "cm payload at K=1": build(width=2, height=1, k=1, palette=bytes(3), codec=4, payload=bytes(3)),
    "palette codec": _coded_palette(b"\x09abcd"),
    "palette size": _coded_palette(b"\x01" + zlib.compress(bytes(5))),
    "palette zstd size": _coded_palette(
        b"\x03" + zstandard.ZstdCompressor(write_content_size=False).compress(bytes(12))),
}


@pytest.mark.parametrize("case", REJECTED)
def test_a_rejection_is_a_row_of_the_validation_table(case: str) -> None:
    with pytest.raises(FormatError) as caught:
        qc.decode(REJECTED[case])
    assert any(f"`{caught.value}`" in row for row in _validation_rows()), str(caught.value)


def test_a_coded_palette_is_checked_after_the_crc_as_the_table_orders_them() -> None:
    damaged = bytearray(REJECTED["palette codec"])
    damaged[-1] ^= 1
    with pytest.raises(FormatError, match="CRC mismatch"):
        qc.decode(bytes(damaged))
    rows = _validation_rows()
    crc = next(i for i, row in enumerate(rows) if "CRC mismatch" in row)
    palette = next(i for i, row in enumerate(rows) if "unknown palette codec id" in row)
    assert crc < palette


def _example_clip() -> bytes:
    """The multi-frame file of the animation section's example."""
    palette = np.array([[0, 0, 0], [255, 255, 255]], np.uint8)
    first = np.array([[0, 1, 0], [1, 0, 1]], np.int16)
    second = first.copy()
    second[1, 1] = 1
    writer = QntWriter(3, 2, 0, codec="none")
    for indices, duration in ((first, 100), (second, 250)):
        writer.add(MappedFrame(0, palette, indices, palette[indices], duration))
    return writer.finish()


def test_the_animation_example_is_what_the_writer_makes() -> None:
    header, table = _hex_dumps("## Animations")
    data = _example_clip()
    assert data[:35] == header
    assert zstandard.ZstdDecompressor().decompress(data[35:-4]) == table
    assert decode_animation(data).durations == (100, 250)


def _fixed_fields(heading: str) -> dict[str, tuple[int, int]]:
    """The rows of a section's tables that give an offset and a size: (offset, size) by name."""
    text = FORMAT_MD.read_text(encoding="utf-8")
    section = text.split(f"\n{heading}", 1)[1].split("\n## ", 1)[0]
    fields = {}
    for match in re.finditer(r"^\| (\d+) \| (\d+) \| ([A-Za-z_ ]+)", section, re.M):
        fields[match[3].strip()] = int(match[1]), int(match[2])
    return fields


def _field(data: bytes, place: tuple[int, int]) -> bytes:
    offset, size = place
    return data[offset:offset + size]


def test_the_layout_table_places_every_header_field() -> None:
    fields = _fixed_fields("## Layout")
    ends = sorted(offset + size for offset, size in fields.values())
    starts = sorted(offset for offset, size in fields.values())
    assert starts == [0] + ends[:-1] and ends[-1] == qc.HEADER_SIZE  # contiguous, no gap
    palette, indices, codec = EXAMPLES[1]  # a coded palette: every field non-zero
    data = qc.encode(palette, indices, codec)
    header = qc.read_header(data)
    assert _field(data, fields["magic"]) == b"\x89QNT\r\n\x1a\n"
    assert {name: int.from_bytes(_field(data, place), "little")
            for name, place in fields.items() if name != "magic"} == {
        "version": header.version, "channels": header.channels,
        "codec": qc.CODECS.index(header.codec), "width": header.width, "height": header.height,
        "K": header.k, "bits": header.bits, "palette_bytes": header.palette_bytes,
        "payload_bytes": header.payload_bytes}


def test_the_animation_table_places_every_header_field() -> None:
    fields = _fixed_fields("## Animations")
    data = _example_clip()
    clip = decode_animation(data)
    values = {name: int.from_bytes(_field(data, place), "little") for name, place in fields.items()}
    assert _field(data, fields["magic"]) == b"\x89QNA\r\n\x1a\n"
    assert {name: values[name] for name in ("version", "canvas width", "canvas height", "plays",
                                            "frames", "the frame table")} == {
        "version": clip.version, "canvas width": clip.width, "canvas height": clip.height,
        "plays": clip.plays, "frames": len(clip.durations),
        "the frame table": qc.CODECS.index(clip.table_codec)}
    frames_start = max(offset + size for offset, size in fields.values())
    assert len(zstandard.ZstdDecompressor().decompress(data[frames_start:-4])) == values["T"]
