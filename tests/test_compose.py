"""GIF and APNG frames composited as browsers show them, from files written chunk by chunk and
block by block here (Pillow's writers choose disposal and blending themselves)."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from quantize.animation.source import open_clip
from quantize.errors import InputError

RED, GREEN, BLUE = (255, 0, 0, 255), (0, 255, 0, 255), (0, 0, 255, 255)
CLEAR = (0, 0, 0, 0)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def write_apng(path: Path, size: tuple[int, int], frames: list[dict], hidden=None,
               announced: int | None = None, numbers: list[int] | None = None) -> Path:
    """An RGBA APNG: each frame a dict of rgba (h, w, 4), x, y, dispose, blend, delay (ms); its
    acTL announces ``announced`` frames (default: as many as there are); its fcTL and fdAT chunks
    are numbered ``numbers`` in file order (default 0, 1, 2, …)."""
    def data(rgba: np.ndarray) -> bytes:
        return zlib.compress(b"".join(b"\0" + row.tobytes() for row in rgba))

    out = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", *size, 8, 6, 0, 0, 0))
    count = len(frames) if announced is None else announced
    out += _chunk(b"acTL", struct.pack(">II", count, 0))
    if hidden is not None:
        out += _chunk(b"IDAT", data(hidden))
    seq = iter(range(2 * len(frames)) if numbers is None else numbers)
    for number, f in enumerate(frames):
        h, w = f["rgba"].shape[:2]
        out += _chunk(b"fcTL", struct.pack(">IIIIIHHBB", next(seq), w, h, f.get("x", 0),
                                           f.get("y", 0), f.get("delay", 100), 1000,
                                           f.get("dispose", 0), f.get("blend", 0)))
        if number == 0 and hidden is None:
            out += _chunk(b"IDAT", data(f["rgba"]))
        else:
            out += _chunk(b"fdAT", struct.pack(">I", next(seq)) + data(f["rgba"]))
    path.write_bytes(out + _chunk(b"IEND", b""))
    return path


def _lzw(indices: np.ndarray) -> bytes:
    """8-bit LZW of literals only, a clear code every 254, so every code is 9 bits."""
    codes = [256]
    for n, value in enumerate(indices.ravel()):
        if n and not n % 254:
            codes.append(256)
        codes.append(int(value))
    codes.append(257)
    bits = sum(code << (9 * n) for n, code in enumerate(codes))
    raw = bits.to_bytes((9 * len(codes) + 7) // 8, "little")
    return b"\x08" + b"".join(bytes([len(raw[i:i + 255])]) + raw[i:i + 255]
                               for i in range(0, len(raw), 255)) + b"\0"


def write_gif(path: Path, size: tuple[int, int], frames: list[dict], table=None,
              trailer: bool = True) -> Path:
    """A GIF: each frame a dict of indices (h, w), x, y, table (local, else the global), disposal,
    transparent (an index), delay (cs); tables are lists of RGB, padded to 256."""
    def packed(colours) -> bytes:
        return b"".join(bytes(c[:3]) for c in colours).ljust(768, b"\0")

    out = b"GIF89a" + struct.pack("<HHBBB", *size, 0xF7 if table else 0, 0, 0)
    out += packed(table) if table else b""
    for f in frames:
        transparent = f.get("transparent")
        flags = f.get("disposal", 0) << 2 | (transparent is not None)
        out += b"!\xf9\x04" + struct.pack("<BHB", flags, f.get("delay", 10), transparent or 0) + b"\0"
        h, w = f["indices"].shape
        local = f.get("table")
        out += b"," + struct.pack("<HHHHB", f.get("x", 0), f.get("y", 0), w, h,
                                  0x87 if local else 0)
        out += (packed(local) if local else b"") + _lzw(f["indices"])
    path.write_bytes(out + (b";" if trailer else b""))
    return path


def frames_of(path: Path) -> list[np.ndarray]:
    """The clip's frames as RGBA."""
    out = []
    for frame in open_clip(path).frames():
        pixels = frame.pixels
        if pixels.shape[2] == 3:
            pixels = np.dstack([pixels, np.full(pixels.shape[:2], 255, np.uint8)])
        out.append(pixels)
    return out


def solid(h: int, w: int, colour) -> np.ndarray:
    return np.tile(np.array(colour, np.uint8), (h, w, 1))


def test_apng_previous_restores_the_canvas_before_each_frame_that_asks(tmp_path):
    """Two frames in a row disposed to PREVIOUS: each sprite is gone in the next frame (Pillow
    kept the first one drawn)."""
    sprite = solid(2, 2, RED)
    sprite[0, 0] = CLEAR
    path = write_apng(tmp_path / "p.png", (6, 4), [
        {"rgba": solid(4, 6, BLUE)},
        {"rgba": sprite, "x": 1, "y": 1, "dispose": 2, "blend": 1},
        {"rgba": sprite, "x": 3, "y": 2, "dispose": 2, "blend": 1},
        {"rgba": sprite, "x": 4, "y": 0, "blend": 1}])
    frames = frames_of(path)
    assert [tuple(f[2, 2]) for f in frames] == [BLUE, RED, BLUE, BLUE]
    assert [tuple(f[3, 4]) for f in frames] == [BLUE, BLUE, RED, BLUE]
    assert [tuple(f[1, 5]) for f in frames] == [BLUE, BLUE, BLUE, RED]


def test_apng_over_blends_half_transparent_pixels_onto_an_opaque_canvas(tmp_path):
    half = solid(2, 2, (255, 0, 0, 128))
    path = write_apng(tmp_path / "o.png", (4, 4), [{"rgba": solid(4, 4, BLUE)},
                                                   {"rgba": half, "x": 1, "y": 1, "blend": 1}])
    second = frames_of(path)[1]
    assert second.shape[2] == 4 and (second[..., 3] == 255).all()  # opaque (Pillow: alpha 191)
    assert tuple(second[1, 1]) == (128, 0, 127, 255) and tuple(second[0, 0]) == BLUE


def test_apng_background_clears_and_a_hidden_default_image_is_no_frame(tmp_path):
    path = write_apng(tmp_path / "h.png", (4, 2), [
        {"rgba": solid(2, 4, GREEN), "dispose": 1}, {"rgba": solid(1, 1, RED), "x": 3}],
        hidden=solid(2, 4, (9, 9, 9, 200)))
    frames = frames_of(path)
    assert len(frames) == 2 and tuple(frames[0][1, 1]) == GREEN
    assert tuple(frames[1][0, 3]) == RED and tuple(frames[1][1, 1]) == CLEAR


def test_gif_disposal_clears_to_transparent_even_after_an_opaque_frame(tmp_path):
    """A sprite with a local table whose entry 0 is transparent, disposed (2) after an opaque
    first frame: browsers show the cleared rectangle transparent (Pillow painted it in entry 0's
    colour)."""
    sprite = np.array([[0, 1], [1, 0]], np.uint8)
    path = write_gif(tmp_path / "d.gif", (4, 3), [
        {"indices": np.zeros((3, 4), np.uint8)},
        {"indices": sprite, "x": 1, "y": 1, "table": [(191, 246, 23), (255, 0, 0)],
         "transparent": 0, "disposal": 2},
        {"indices": np.zeros((1, 1), np.uint8), "x": 0, "y": 0}], table=[(0, 0, 255)])
    first, second, third = frames_of(path)
    assert (first == BLUE).all()
    assert tuple(second[1, 1]) == BLUE and tuple(second[1, 2]) == RED  # index 0: as before
    assert (third[1:3, 1:3] == CLEAR).all() and tuple(third[0, 0]) == BLUE


def test_gif_restore_to_previous_and_a_partial_first_frame(tmp_path):
    path = write_gif(tmp_path / "r.gif", (3, 2), [
        {"indices": np.ones((1, 2), np.uint8), "x": 1},
        {"indices": np.zeros((2, 1), np.uint8), "disposal": 3},
        {"indices": np.ones((1, 1), np.uint8), "y": 1, "x": 2}], table=[(0, 0, 255), (255, 0, 0)])
    first, second, third = frames_of(path)
    assert tuple(first[0, 0]) == CLEAR and tuple(first[0, 1]) == RED  # nothing drawn: clear
    assert tuple(second[0, 0]) == BLUE and tuple(second[1, 0]) == BLUE
    assert tuple(third[0, 0]) == CLEAR and tuple(third[1, 2]) == RED


def test_a_gif_or_apng_cut_short_is_one_line_naming_the_frame(tmp_path):
    frames = [{"indices": np.zeros((2, 2), np.uint8)}, {"indices": np.ones((2, 2), np.uint8)}]
    cut = write_gif(tmp_path / "cut.gif", (2, 2), frames, table=[RED, GREEN], trailer=False)
    with pytest.raises(InputError, match=r"cut.gif: truncated after frame 2 \(no GIF trailer\)"):
        frames_of(cut)
    whole = write_apng(tmp_path / "a.png", (2, 2), [{"rgba": solid(2, 2, RED)},
                                                   {"rgba": solid(2, 2, GREEN)}]).read_bytes()
    (tmp_path / "cut.png").write_bytes(whole[:-30])
    with pytest.raises(InputError, match=r"cut.png: cannot read frame 2 \(damaged or truncated"):
        frames_of(tmp_path / "cut.png")
    off = write_apng(tmp_path / "off.png", (2, 2), [{"rgba": solid(2, 2, RED)},
                                                   {"rgba": solid(2, 2, GREEN), "x": 1}])
    with pytest.raises(InputError, match=r"a frame of 2x2 at \(1, 0\) leaves the 2x2 canvas"):
        frames_of(off)


def test_damaged_headers_and_oversized_frames_are_refused_before_any_decoding(tmp_path):
    """A screen and image of no pixels, a second IHDR (a size the guard never saw), a GIF frame
    over the pixel limit and a damaged second GIF frame are each one InputError."""
    empty = write_gif(tmp_path / "empty.gif", (0, 5), [{"indices": np.zeros((0, 0), np.uint8)}],
                      table=[RED])
    with pytest.raises(InputError, match=r"empty.gif: cannot decode the image"):
        frames_of(empty)
    apng = write_apng(tmp_path / "a.png", (2, 2), [{"rgba": solid(2, 2, RED)},
                                                  {"rgba": solid(2, 2, GREEN)}]).read_bytes()
    end = apng.index(b"fcTL", 60) - 4  # before the second frame's control chunk
    bigger = _chunk(b"IHDR", struct.pack(">IIBBBBB", 20000, 20000, 8, 6, 0, 0, 0))
    (tmp_path / "twice.png").write_bytes(apng[:end] + bigger + apng[end:])
    with pytest.raises(InputError, match=r"a second IHDR chunk"):
        frames_of(tmp_path / "twice.png")
    huge = write_gif(tmp_path / "huge.gif", (4, 4), [{"indices": np.zeros((4, 4), np.uint8)},
                                                    {"indices": np.zeros((1, 1), np.uint8)}],
                     table=[RED]).read_bytes()
    at = huge.rindex(b",")  # the second image's descriptor: claim 13000x13000
    huge = huge[:at + 5] + struct.pack("<HH", 13000, 13000) + huge[at + 9:]
    (tmp_path / "huge.gif").write_bytes(huge)
    with pytest.raises(InputError, match=r"a frame of 13000x13000 is 169,000,000 pixels, more "
                                         r"than the limit"):
        frames_of(tmp_path / "huge.gif")
    (tmp_path / "cut2.gif").write_bytes(huge[:at + 3])  # cut inside the second descriptor
    with pytest.raises(InputError, match=r"cut2.gif: (cannot read it|truncated)"):
        frames_of(tmp_path / "cut2.gif")


def test_a_second_gif_appended_ends_the_frames_as_browsers_do_with_a_note(tmp_path):
    """Bytes where a block should start end the frames after the first (Chromium and Firefox
    show the frames before them), with a note; before any frame they are refused."""
    first = write_gif(tmp_path / "a.gif", (2, 2), [{"indices": np.zeros((2, 2), np.uint8)}],
                      table=[RED], trailer=False).read_bytes()
    second = write_gif(tmp_path / "b.gif", (2, 2), [{"indices": np.zeros((2, 2), np.uint8)}],
                       table=[GREEN]).read_bytes()
    (tmp_path / "two.gif").write_bytes(first + second)
    clip = open_clip(tmp_path / "two.gif")
    (frame,) = frames_of(tmp_path / "two.gif")
    assert tuple(frame[0, 0]) == RED
    assert any(f"no GIF block starts at byte {len(first):,}, after frame 1" in note
               for note in clip.notes)
    header = first[:first.index(b"!\xf9")]  # the header and table, then the second file
    (tmp_path / "none.gif").write_bytes(header + second)
    with pytest.raises(InputError, match=r"block 0x47 where an image or extension starts"):
        frames_of(tmp_path / "none.gif")
    assert not open_clip(tmp_path / "b.gif").notes
    (tmp_path / "slip.gif").write_bytes(first + b"\0\0;")  # zero bytes before the trailer
    assert len(frames_of(tmp_path / "slip.gif")) == 1 and not open_clip(tmp_path / "slip.gif").notes


def test_an_apng_of_more_frames_than_its_actl_announces_plays_those_announced(tmp_path):
    """As libpng's reader (Firefox's) and Pillow stop after acTL's num_frames, with a note."""
    frames = [{"rgba": solid(2, 2, colour), "delay": 250} for colour in (RED, GREEN, BLUE)]
    low = write_apng(tmp_path / "low.png", (2, 2), frames, hidden=solid(2, 2, BLUE), announced=2)
    clip = open_clip(low)
    read = list(clip.frames())
    assert [tuple(frame.pixels[0, 0]) for frame in read] == [RED[:3], GREEN[:3]]
    assert [frame.duration for frame in read] == [250, 250]
    assert any("announces 2 frames and 3 follow" in note for note in clip.notes)
    whole = open_clip(write_apng(tmp_path / "whole.png", (2, 2), frames))
    assert len(list(whole.frames())) == 3 and not whole.notes
    data = write_apng(tmp_path / "two.png", (2, 2), frames[:2]).read_bytes()
    at = data.rindex(b"fcTL") - 4  # its second fcTL chunk twice: no note, a repeated number
    (tmp_path / "repeat.png").write_bytes(data[:at] + data[at:at + 38] + data[at:])
    repeat = open_clip(tmp_path / "repeat.png")
    assert not repeat.notes
    with pytest.raises(InputError, match=r"cannot read frame 2 \(damaged or truncated: its fcTL "
                                         r"chunk is numbered 1, not 2"):
        list(repeat.frames())


def test_a_16bit_apngs_frames_are_rounded_to_8_bits_as_its_still_is(tmp_path):
    """Its RGB frames kept each sample's high byte (0x40FF read 64, 0x00FF read 0) where compress
    of the same file, and its grey frames, rounded them (65, 1; 0xFF00 read 255, not 254)."""
    from quantize.io.images import load_image

    samples = [np.full((2, 3, 3), value, np.uint16) for value in (0x40FF, 0x00FF, 0xFF00)]
    out = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", 3, 2, 16, 2, 0, 0, 0))
    out += _chunk(b"acTL", struct.pack(">II", len(samples), 0))
    for number, rgb in enumerate(samples):  # numbered 0 (IDAT after it), 1, 2, 3, 4
        out += _chunk(b"fcTL", struct.pack(">IIIIIHHBB", max(0, 2 * number - 1), 3, 2, 0, 0, 100,
                                           1000, 0, 0))
        data = zlib.compress(b"".join(b"\0" + row.astype(">u2").tobytes() for row in rgb))
        out += _chunk(b"fdAT", struct.pack(">I", 2 * number) + data) if number else \
            _chunk(b"IDAT", data)
    path = tmp_path / "deep.png"
    path.write_bytes(out + _chunk(b"IEND", b""))
    rounded = [np.rint(rgb / 65535 * 255).astype(np.uint8) for rgb in samples]
    for frame, expected in zip(frames_of(path), rounded, strict=True):
        np.testing.assert_array_equal(frame[..., :3], expected)
    np.testing.assert_array_equal(load_image(path).pixels, rounded[0])


@pytest.mark.parametrize("numbers, frame, wrong", [
    ([1, 2, 3, 4], 1, "fcTL chunk is numbered 1, not 0"),  # Pillow's sequence_start.png
    ([0, 1, 3, 4], 2, "fcTL chunk is numbered 3, not 2"),  # sequence_gap.png
    ([0, 1, 2, 4], 2, "fdAT chunk is numbered 4, not 3"),
    ([0, 1, 2, 1], 2, "fdAT chunk is numbered 1, not 3"),  # a chunk repeated
    ([0, 2, 1, 3], 1, "fdAT chunk is numbered 2, not 1")])  # out of order
def test_an_apng_whose_frame_chunks_are_misnumbered_is_refused(tmp_path, numbers, frame, wrong):
    """As libpng's reader (Firefox's), Chromium and Pillow refuse it: frames were read past a
    missing or repeated chunk as if it were whole."""
    frames = [{"rgba": solid(2, 2, colour)} for colour in (RED, GREEN)]
    path = write_apng(tmp_path / "a.png", (2, 2), frames, hidden=solid(2, 2, BLUE),
                      numbers=numbers)
    with pytest.raises(InputError, match=rf"a.png: cannot read frame {frame} \(damaged or "
                                         rf"truncated: its {wrong}: frame chunks missing"):
        frames_of(path)


def test_a_gif_screen_smaller_than_its_first_image_widens_to_hold_it(tmp_path):
    """As Chromium and Pillow show it: a screen of 0x0 (a broken encoder's) was refused, 'its
    canvas is 0x0: no pixels'; a later image is still cut to the canvas."""
    path = write_gif(tmp_path / "w.gif", (0, 0), [
        {"indices": np.zeros((2, 3), np.uint8), "x": 1},
        {"indices": np.ones((4, 4), np.uint8), "y": 1}], table=[RED, GREEN])
    first, second = frames_of(path)
    assert first.shape == second.shape == (2, 4, 4)
    assert tuple(first[0, 0]) == CLEAR and tuple(first[1, 3]) == RED
    assert tuple(second[1, 0]) == GREEN and tuple(second[0, 0]) == CLEAR


def test_a_walk_of_the_structure_refuses_what_the_readers_refuse_without_decoding(tmp_path,
                                                                                   monkeypatch):
    """compress says animate will refuse a file from this walk: each damage in the structure (a
    gap in the sequence numbers, a cut fdAT, a GIF cut in its last frame, a frame off the canvas,
    no trailer) gives the reader's own message, at the same frame, and a whole file none."""
    from quantize.animation import compose
    from quantize.animation.source import refusal

    two = [{"rgba": solid(2, 2, RED)}, {"rgba": solid(2, 2, GREEN)}]
    whole = write_apng(tmp_path / "whole.png", (2, 2), two + [{"rgba": solid(2, 2, BLUE)}])
    gap = write_apng(tmp_path / "gap.png", (2, 2), two + [{"rgba": solid(2, 2, BLUE)}],
                     numbers=[0, 1, 2, 4, 5])
    (tmp_path / "cut.png").write_bytes(whole.read_bytes()[:-30])
    off = write_apng(tmp_path / "off.png", (2, 2), [two[0], {**two[1], "x": 1}])
    indices = [{"indices": np.full((2, 2), n, np.uint8)} for n in range(3)]
    gif = write_gif(tmp_path / "whole.gif", (2, 2), indices, table=[RED, GREEN, BLUE])
    (tmp_path / "cut.gif").write_bytes(gif.read_bytes()[:-4])
    open_ended = write_gif(tmp_path / "open.gif", (2, 2), indices, table=[RED], trailer=False)
    damaged = [gap, tmp_path / "cut.png", off, tmp_path / "cut.gif", open_ended]
    messages = []
    for path in damaged:
        with pytest.raises(InputError) as read:
            frames_of(path)
        messages.append(str(read.value))
    assert "frame 3 (damaged or truncated: its fcTL chunk is numbered 4, not 3" in messages[0]
    assert "cut.gif: cannot read frame 3" in messages[3]

    def no_decoding(*args):
        raise AssertionError("decoded pixels")

    monkeypatch.setattr(compose, "_rgba", no_decoding)
    monkeypatch.setattr(compose, "_gif_image", no_decoding)
    assert [refusal(path) for path in damaged] == messages
    assert refusal(whole) is refusal(gif) is None
