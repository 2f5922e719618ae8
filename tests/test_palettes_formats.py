"""Palette files: round trips through our reader, byte layouts to each format's spec, Pillow's GIMP
reader, limits, and malformed input."""

from __future__ import annotations

import io
import json
import re
import struct
import warnings
import zipfile
from typing import Callable
from xml.etree import ElementTree as ET

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import GimpPaletteFile, Image

from quantize.errors import FormatError, InputError, OutputError, ParameterError
from quantize.io.palettes import (FORMATS, Palette, decode_palette, encode_palette, format_for_path,
                               read_palette, resolve_format, write_palette)

RGB = np.array([[30, 144, 255], [255, 0, 0], [10, 10, 10], [250, 250, 250]], dtype=np.uint8)
SHARES = np.array([0.4, 0.3, 0.2, 0.1])
NAMES = ("Café crème", "Rouge ☕", "Noir 🎨", "Blanc")
PALETTE = Palette(RGB, SHARES, NAMES, "Brand ✨")

# What each readable format keeps: alpha, names, shares (and to what precision).
KEEPS_ALPHA = {"paintnet", "css", "scss", "tailwind", "tailwind3", "json", "hex", "png", "procreate", "sketch",
               "strip"}
KEEPS_NAMES = {"gpl", "ase", "aco", "kpl", "paintnet", "css", "scss", "tailwind", "json", "strip"}
KEEPS_TITLE = {"gpl", "ase", "kpl", "procreate", "json", "strip"}
READABLE = list(FORMATS)


def roundtrip(palette: Palette, fmt: str) -> Palette:
    return decode_palette(encode_palette(palette, fmt), fmt, "palette" + FORMATS[fmt].ext)


def check_roundtrip(palette: Palette, fmt: str) -> None:
    back = roundtrip(palette, fmt)
    assert len(back) == len(palette)
    np.testing.assert_array_equal(back.rgb, palette.rgb)
    if fmt in KEEPS_ALPHA:
        np.testing.assert_array_equal(back.alpha, palette.alpha)
    if fmt in KEEPS_NAMES:
        assert back.names == tuple(palette.labels)
    if fmt in KEEPS_NAMES and palette.shares is not None:
        precision = 1e-6 if fmt in ("json", "strip") else 5e-4  # "(12.3%)" in names, comments
        np.testing.assert_allclose(back.shares, palette.shares, atol=precision)
    if fmt in KEEPS_TITLE:
        assert back.title == palette.title


@pytest.mark.parametrize("fmt", READABLE)
def test_roundtrip_every_readable_format(fmt):
    check_roundtrip(PALETTE, fmt)


_ODD_NAMES = ['Café "crème"', "d'été ✨", 'a\\b "q" <b>&amp;', "semi; colon", "# hash", "Ünïcödé 日本語",
              "quote' \"", "50% grey", "emoji 👍🏽", "back\\slash\\", "{brace}", "$dollar", "a -- b", "x/*y"]


@pytest.mark.parametrize("fmt", READABLE)
def test_roundtrip_of_256_colours_named_with_quotes_and_non_ascii(fmt):
    """Every writer's file read back: the same colours (and alpha, names, shares where the format
    has them), for as many colours as it holds."""
    rng = np.random.default_rng(5)
    colors = np.column_stack([rng.permutation(256), rng.permutation(256), np.arange(256), rng.permutation(256)])
    shares = rng.random(256)
    names = tuple(f"{_ODD_NAMES[i % len(_ODD_NAMES)]} {i}" for i in range(256))
    palette = Palette(colors, shares / shares.sum(), names, 'Tïtle "q" \'s')
    check_roundtrip(palette.head(FORMATS[fmt].limit or 256), fmt)


_NAME_CHARS = st.sampled_from(list("abcxyzABC éüßø-_'.,!?☕🎨✨日本") + ["\t", "\n"])
_palettes = st.integers(1, 24).flatmap(lambda k: st.builds(
    Palette,
    colors=st.lists(st.lists(st.integers(0, 255), min_size=4, max_size=4), min_size=k, max_size=k),
    # shares of the pixels: adding up to all of them at most (a truncated palette's to fewer)
    shares=st.none() | st.lists(st.floats(0, 1), min_size=k, max_size=k).map(
        lambda s: [v / sum(s) for v in s] if sum(s) > 1 else s),
    names=st.none() | st.lists(st.text(_NAME_CHARS, max_size=16), min_size=k, max_size=k).map(tuple),
    title=st.text(_NAME_CHARS, max_size=12),
))


@pytest.mark.parametrize("fmt", READABLE)
@settings(max_examples=25, deadline=None)
@given(palette=_palettes)
def test_roundtrip_property(fmt, palette):
    check_roundtrip(palette, fmt)


def test_formats_have_unique_extensions_and_resolve():
    exts = [info.ext for info in FORMATS.values()]
    assert len(set(exts)) == len(exts)
    for name, info in FORMATS.items():
        assert resolve_format(name) == name
        assert format_for_path("out/photo" + info.ext) == name
    assert resolve_format(".swatches") == "procreate"
    with pytest.raises(ParameterError, match="unknown palette format 'gif'"):
        resolve_format("gif")


# --- GPL -------------------------------------------------------------------------------------------

def test_gpl_layout_every_colour_named_no_bom():
    data = encode_palette(Palette(RGB, SHARES), "gpl")
    assert not data.startswith(b"\xef\xbb\xbf")
    lines = data.decode().splitlines()
    assert lines[:4] == ["GIMP Palette", "Name: quantize", "Columns: 4", "#"]
    assert lines[4] == " 30 144 255\t#1e90ff (40.0%)"
    assert all(len(line.split(None, 3)) == 4 for line in lines[4:])


def test_gpl_read_by_pillow():
    data = encode_palette(PALETTE, "gpl")
    palette, rawmode = GimpPaletteFile.GimpPaletteFile(io.BytesIO(data)).getpalette()
    assert rawmode == "RGB" and palette == RGB.tobytes()


@pytest.mark.parametrize("title", ["a", "ab", "abc"])
def test_gpl_of_one_colour_is_long_enough_for_krita(title):
    """Krita's KoColorSet refuses a GPL file under 50 bytes: one colour with a one-letter title
    and name took 48."""
    palette = Palette(np.array([[0, 128, 255]]), title=title, names=("b",))
    data = encode_palette(palette, "gpl")
    assert len(data) >= 50
    lines = data.decode().splitlines()
    assert lines[:4] == ["GIMP Palette", f"Name: {title}", "Columns: 1", "#"]
    assert lines[-1] == "  0 128 255\tb" and all(line.startswith("#") for line in lines[3:-1])
    assert len(lines) == 5 or len(data) - len(lines[4]) - 1 < 50  # a comment only when needed
    back = decode_palette(data, source="one.gpl")
    assert (back.title, back.labels, back.rgb.tolist()) == (title, ["b"], [[0, 128, 255]])
    colours, rawmode = GimpPaletteFile.GimpPaletteFile(io.BytesIO(data)).getpalette()
    assert rawmode == "RGB" and colours[:3] == bytes([0, 128, 255])


def test_gpl_256_long_names_within_pillow_limits():
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (256, 3), dtype=np.uint8)
    names = tuple("Très très long nom de couleur 🎨 " * 5 + str(i) for i in range(256))
    data = encode_palette(Palette(rgb, np.full(256, 1 / 256), names), "gpl")
    assert max(len(line) for line in data.splitlines(keepends=True)) <= 100
    palette, _ = GimpPaletteFile.GimpPaletteFile(io.BytesIO(data)).getpalette()
    assert palette == rgb.tobytes()


def test_gpl_more_than_256_read_by_pillow_frombytes():
    if not hasattr(GimpPaletteFile.GimpPaletteFile, "frombytes"):
        pytest.skip("GimpPaletteFile.frombytes needs Pillow >= 11.2")
    rgb = np.random.default_rng(2).integers(0, 256, (300, 3), dtype=np.uint8)
    palette, _ = GimpPaletteFile.GimpPaletteFile.frombytes(encode_palette(Palette(rgb), "gpl")).getpalette()
    assert palette == rgb.tobytes()


def test_gpl_reads_aseprites_rgba_extension():
    # Aseprite's extension: a "Channels: RGBA" header and a fourth value, alpha, on each colour line
    text = ("GIMP Palette\nChannels: RGBA\n#\n  0   0   0   0 Transparent\n254  91  89 255 Red\n"
            "247 165  71 128\tHalf orange\n")
    palette = decode_palette(text.encode(), source="sprites.gpl")
    assert palette.colors.tolist() == [[0, 0, 0, 0], [254, 91, 89, 255], [247, 165, 71, 128]]
    assert palette.names == ("Transparent", "Red", "Half orange")
    plain = decode_palette(b"GIMP Palette\nChannels: RGB\n1 2 3 four\n", source="p.gpl")
    assert plain.colors.tolist() == [[1, 2, 3]] and plain.names == ("four",)
    unsupported = r"p\.gpl: line 2: 'Channels: CMYK' is not supported \(RGB or RGBA\)"
    with pytest.raises(FormatError, match=unsupported):
        decode_palette(b"GIMP Palette\nChannels: CMYK\n1 2 3 4\n", source="p.gpl")
    with pytest.raises(FormatError, match=r"p\.gpl: line 3: expected 'r g b a name'"):
        decode_palette(b"GIMP Palette\nChannels: RGBA\n1 2 3\n", source="p.gpl")


# --- ASE / ACO / ACT -------------------------------------------------------------------------------

def _utf16z(text: str, fmt: str) -> bytes:
    units = len(text.encode("utf-16-be")) // 2 + 1
    return struct.pack(fmt, units) + text.encode("utf-16-be") + b"\0\0"


def test_ase_layout_one_group_rgb_normal_utf16_lengths():
    data = encode_palette(Palette(RGB[:2], names=("Café ☕ 🎨", "x")), "ase")
    assert data[:12] == b"ASEF" + struct.pack(">HHI", 1, 0, 4)
    kind, length = struct.unpack(">HI", data[12:18])
    assert kind == 0xC001 and data[18:18 + length] == _utf16z("quantize", ">H")
    pos = 18 + length
    kind, length = struct.unpack(">HI", data[pos:pos + 6])
    block = data[pos + 6:pos + 6 + length]
    name = _utf16z("Café ☕ 🎨", ">H")
    assert kind == 0x0001 and struct.unpack(">H", name[:2]) == (10,)  # 8 units, emoji = 2, + NUL
    assert block == name + b"RGB " + struct.pack(">3f", 30 / 255, 144 / 255, 1.0) + b"\x00\x02"
    assert data.endswith(struct.pack(">HI", 0xC002, 0))


@pytest.mark.parametrize("fmt", ["tailwind", "tailwind3", "riff", "png", "hex"])
def test_a_palette_without_a_title_is_named_after_its_file_less_the_whole_extension(fmt):
    data = encode_palette(Palette(RGB), fmt)
    assert decode_palette(data, fmt, "brand" + FORMATS[fmt].ext).title == "brand"


def test_ase_names_longer_than_its_16_bit_length_are_cut_short():
    # a name of 70,000 characters (one a pair of UTF-16 units at the cut) in a palette file
    name = "a" * 65_526 + "🎨" + "b" * 4_473
    palette = Palette(RGB[:2], [0.75, 0.25], (name, "red"), title="t" * 70_000)
    back = roundtrip(palette, "ase")
    assert back.names == ("a" * 65_526, "red") and back.shares.tolist() == [0.75, 0.25]
    assert back.title == "t" * 65_534
    assert roundtrip(Palette(RGB[:1], [1.0], ("🎨" * 40_000,)), "ase").names == ("🎨" * 32_762,)


def test_ase_reads_ungrouped_gray_cmyk_and_lab_swatches():
    def color(name, model, values, kind=1):
        body = _utf16z(name, ">H") + model + struct.pack(f">{len(values)}f", *values) + struct.pack(">H", kind)
        return struct.pack(">HI", 1, len(body)) + body
    blocks = [color("grey", b"Gray", [0.5]), color("cyan", b"CMYK", [1, 0, 0, 0]),
              color("white", b"LAB ", [1.0, 0, 0], kind=0)]
    palette = decode_palette(b"ASEF" + struct.pack(">HHI", 1, 0, 3) + b"".join(blocks), "ase", "book.ase")
    assert palette.names == ("grey", "cyan", "white") and palette.title == "book"
    assert palette.rgb.tolist() == [[128, 128, 128], [0, 255, 255], [255, 255, 255]]


def test_aco_versions_same_count_x257_utf16_names():
    data = encode_palette(Palette(RGB[:2], names=("Café ☕ 🎨", "x")), "aco")
    color0 = struct.pack(">5H", 0, 30 * 257, 144 * 257, 255 * 257, 0)
    color1 = struct.pack(">5H", 0, 255 * 257, 0, 0, 0)
    v1 = struct.pack(">HH", 1, 2) + color0 + color1
    v2 = struct.pack(">HH", 2, 2) + color0 + _utf16z("Café ☕ 🎨", ">I") + color1 + _utf16z("x", ">I")
    assert data == v1 + v2


_RED16, _BLUE16 = struct.pack(">5H", 0, 65535, 0, 0, 0), struct.pack(">5H", 0, 0, 0, 65535, 0)


def test_aco_reads_version_1_only_and_other_colour_spaces():
    hsb_red = struct.pack(">5H", 1, 0, 65535, 65535, 0)
    cmyk_white = struct.pack(">5H", 2, 65535, 65535, 65535, 65535)
    grey_black = struct.pack(">5H", 8, 10000, 0, 0, 0)
    lab_white = struct.pack(">Hhhhh", 7, 10000, 0, 0, 0)
    palette = decode_palette(struct.pack(">HH", 1, 4) + hsb_red + cmyk_white + grey_black + lab_white, "aco")
    assert palette.names is None
    np.testing.assert_array_equal(palette.rgb, [[255, 0, 0], [255, 255, 255], [0, 0, 0], [255, 255, 255]])


def _aco_v2(colors: list[bytes], names: list[str], nul_counted: bool = True) -> bytes:
    """A version 2 section; ``nul_counted=False`` is the misaligned writer whose name lengths leave
    out the NUL it still writes."""
    return struct.pack(">HH", 2, len(colors)) + b"".join(
        c + struct.pack(">I", len(n) + nul_counted) + n.encode("utf-16-be") + b"\0\0"
        for c, n in zip(colors, names))


@pytest.mark.parametrize(("v2", "problem"), [
    (_aco_v2([_RED16, _BLUE16], ["red", "blue"], nul_counted=False),
     "colour 2 is #000000 in it, #0000ff in version 1"),
    (_aco_v2([_RED16, _BLUE16, _RED16], ["red", "blue", "red"]), "3 colours, version 1 2"),
    (_aco_v2([_BLUE16, _RED16], ["blue", "red"]), "colour 1 is #0000ff in it, #ff0000 in version 1"),
])
def test_aco_version_2_that_disagrees_with_version_1_is_refused(v2, problem):
    v1 = struct.pack(">HH", 1, 2) + _RED16 + _BLUE16
    with pytest.raises(FormatError, match=re.escape(f"x.aco: the version 2 section disagrees with version 1 "
                                                    f"({problem}): the file is damaged")):
        decode_palette(v1 + v2, "aco", "x.aco")
    assert decode_palette(v1 + _aco_v2([_RED16, _BLUE16], ["red", "blue"]), "aco").names == ("red", "blue")


def test_act_golden_bytes():
    expected = bytes([255, 0, 0, 0, 128, 255]) + bytes(762) + b"\x00\x02\xff\xff"
    assert encode_palette(Palette([[255, 0, 0], [0, 128, 255]]), "act") == expected


def test_act_transparent_index_is_first_fully_transparent_colour():
    data = encode_palette(Palette([[1, 2, 3, 255], [4, 5, 6, 0], [7, 8, 9, 0]]), "act")
    assert data[768:] == struct.pack(">HH", 3, 1)
    np.testing.assert_array_equal(decode_palette(data, "act").alpha, [255, 0, 255])


def test_act_768_bytes_is_256_colours():
    assert len(decode_palette(bytes(range(256)) * 3, "act")) == 256


# --- RIFF / JASC / Paint.NET -----------------------------------------------------------------------

def test_riff_golden_bytes():
    expected = bytes.fromhex("52494646 18000000 50414c20 64617461 0c000000 0003 0200 ff000000 0080ff00")
    assert encode_palette(Palette([[255, 0, 0], [0, 128, 255]]), "riff") == expected


def test_riff_skips_other_chunks():
    data = encode_palette(Palette(RGB), "riff")
    extra = b"note" + struct.pack("<I", 3) + b"abc\0"
    body = data[12:]
    patched = b"RIFF" + struct.pack("<I", 4 + len(extra) + len(body)) + b"PAL " + extra + body
    np.testing.assert_array_equal(decode_palette(patched, source="x.pal").rgb, RGB)


def test_jasc_crlf():
    data = encode_palette(Palette(RGB[:2]), "jasc")
    assert data == b"JASC-PAL\r\n0100\r\n2\r\n30 144 255\r\n255 0 0\r\n"


def test_paintnet_aarrggbb_and_comments():
    lines = encode_palette(Palette([[30, 144, 255, 128]], [1.0], ("sky",)), "paintnet").decode().split("\r\n")
    assert lines[0] == "; paint.net Palette File"
    assert lines[-3:] == ["; sky (100.0%)", "801E90FF", ""]


def test_paintnet_foreign_file_without_labels():
    text = "; paint.net Palette File\r\n; header\r\nFF000000\r\nFFFFFFFF\r\n"
    palette = decode_palette(text.encode(), source="x.txt")
    assert palette.names is None and palette.rgb.tolist() == [[0, 0, 0], [255, 255, 255]]


@pytest.mark.parametrize("text, source, message", [
    ("; x\r\n0xFF0000\r\n", "x.txt", "x.txt: line 2: '0xFF0000' is not an AARRGGBB colour"),
    ("; x\r\nFF_00_00\r\n", "x.txt", "x.txt: line 2: 'FF_00_00' is not an AARRGGBB colour"),
    ("GIMP Palette\n2_55 0 0\n", "x.gpl", "x.gpl: line 2: '2_55' is not a colour value 0..255"),
    ("GIMP Palette\n+9 0 0\n", "x.gpl", "x.gpl: line 2: '+9' is not a colour value 0..255"),
    ("JASC-PAL\r\n0100\r\n1\r\n\u0662\u0665\u0665 0 0\r\n", "x.pal", "x.pal: colour line 1: '\u0662"),
])
def test_colour_values_are_read_as_paint_programs_write_them(text, source, message):
    with pytest.raises(FormatError, match=re.escape(message)):
        decode_palette(text.encode(), source=source)


# --- Krita / Procreate / Sketch --------------------------------------------------------------------

def test_kpl_zip_structure_and_xml():
    data = encode_palette(PALETTE, "kpl")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        infos = zf.infolist()
        assert [i.filename for i in infos] == ["mimetype", "colorset.xml", "profiles.xml"]
        assert infos[0].compress_type == zipfile.ZIP_STORED
        assert zf.read("mimetype") == b"krita/x-colorset"
        root = ET.fromstring(zf.read("colorset.xml"))
        profiles = ET.fromstring(zf.read("profiles.xml"))
    assert data[30:38] == b"mimetype"  # first local header, name readable at a fixed offset
    assert profiles.tag == "Profiles"
    assert root.tag == "ColorSet" and root.get("name") == "Brand ✨" and root.get("version") == "2.0"
    entries = root.findall("ColorSetEntry")
    assert [e.get("name") for e in entries][0] == "Café crème (40.0%)"
    rgb = entries[0].find("RGB")
    assert rgb.get("space") == "sRGB-elle-V2-srgbtrc.icc" and entries[0].get("bitdepth") == "U8"
    assert round(float(rgb.get("g")) * 255) == 144
    assert [(p.get("row"), p.get("column")) for p in (e.find("Position") for e in entries)] == \
        [("0", "0"), ("0", "1"), ("0", "2"), ("0", "3")]


def test_kpl_reads_groups_in_grid_order():
    xml = ('<ColorSet name="K" columns="2"><ColorSetEntry name="b"><RGB r="0" g="0" b="1" space="sRGB-elle-V2-srgbtrc.icc"/>'
           '<Position row="0" column="1"/></ColorSetEntry><ColorSetEntry name="a"><sRGB r="1" g="0" b="0"/>'
           '<Position row="0" column="0"/></ColorSetEntry><Group name="G"><ColorSetEntry name="c">'
           '<Gray g="0.5"/></ColorSetEntry></Group></ColorSet>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("mimetype", "krita/x-colorset")
        zf.writestr("colorset.xml", xml)
    palette = decode_palette(buf.getvalue(), source="k.kpl")
    assert palette.title == "K" and palette.names == ("a", "b", "c")
    assert palette.rgb.tolist() == [[255, 0, 0], [0, 0, 255], [128, 128, 128]]


def test_procreate_zip_json_hsb():
    data = encode_palette(Palette([[255, 0, 0, 255], [0, 0, 255, 51]], title="P"), "procreate")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert zf.namelist() == ["Swatches.json"]
        doc = json.loads(zf.read("Swatches.json"))
    assert doc["name"] == "P"
    assert doc["swatches"][0] == {"hue": 0.0, "saturation": 1.0, "brightness": 1.0, "alpha": 1.0, "colorSpace": 0}
    assert doc["swatches"][1]["hue"] == pytest.approx(2 / 3) and doc["swatches"][1]["alpha"] == 0.2


def test_procreate_reads_list_form_and_null_slots():
    doc = [{"name": "L", "swatches": [None, {"hue": 0, "saturation": 0, "brightness": 1, "alpha": 1}]}]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("Swatches.json", json.dumps(doc))
    palette = decode_palette(buf.getvalue(), source="x.swatches")
    assert palette.title == "L" and palette.rgb.tolist() == [[255, 255, 255]]



def test_procreate_member_name_in_any_case_and_named_by_extension():
    # some exporters name the member swatches.json; a .swatches file is never taken for Krita's zip
    doc = [{"name": "L", "swatches": [{"hue": 0, "saturation": 1, "brightness": 1, "alpha": 1}]}]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("swatches.json", json.dumps(doc))
    assert decode_palette(buf.getvalue(), source="x.swatches").hex == ["#ff0000"]
    empty = io.BytesIO()
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("readme.txt", "")
    with pytest.raises(FormatError, match=r"x\.swatches: the archive has no Swatches\.json"):
        decode_palette(empty.getvalue(), source="x.swatches")

@pytest.mark.parametrize(("ext", "member"), [(".kpl", "colorset.xml"), (".swatches", "Swatches.json")])
def test_a_zip_palette_whose_member_unpacks_past_the_limit_is_refused_unread(ext, member):
    # a zip bomb: 1.5 MB of zip that unpacks to 1.5 GB took 3 GB of memory to refuse
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open(member, "w", force_zip64=True) as fh:
            for _ in range(65):
                fh.write(b" " * (1 << 20))
    size = f"{65 << 20:,}"
    with pytest.raises(FormatError, match=rf"x\{ext}: {member} unpacks to {size} bytes, more than a "
                                          r"palette takes \(67,108,864 at most\)"):
        decode_palette(buf.getvalue(), source="x" + ext)


def test_sketch_json_keys():
    doc = json.loads(encode_palette(Palette([[255, 0, 0, 128]]), "sketch"))
    assert doc["compatibleVersion"] == "1.4" and set(doc) == {"compatibleVersion", "pluginVersion", "colors"}
    assert doc["colors"] == [{"red": 1.0, "green": 0.0, "blue": 0.0, "alpha": 128 / 255}]
    old = decode_palette(b'{"colors": ["#ff0000", "00ff00"]}', "sketch")
    assert old.rgb.tolist() == [[255, 0, 0], [0, 255, 0]]


# --- web -------------------------------------------------------------------------------------------

def test_css_and_tailwind_v4():
    named = Palette([[30, 144, 255, 255], [255, 0, 0, 128]], [0.75, 0.25], ("Dodger Blue", "red */ x"))
    css = encode_palette(named, "css").decode()
    assert ":root {\n  --color-dodger-blue: #1e90ff; /* Dodger Blue (75.0%) */\n" in css
    assert "--color-red-x: #ff000080; /* red * / x (25.0%) */" in css
    theme = encode_palette(named, "tailwind").decode()
    assert "@theme {\n  --color-dodger-blue: #1e90ff;" in theme


def test_css_reads_colour_functions_and_refuses_others_by_name():
    css = b""":root {
      --red: rgb(255, 0, 0); --half: rgba(0 128 255 / 50%); --green: hsl(120deg 100% 25%);
      --old: hsla(240, 100%, 50%, 0.25); --blue: #00f; --spacing: 4px;
      --tw-red-500: oklch(0.637 0.237 25.331); --grey: oklab(60% 0 0); --turn: hsl(0.5turn 100% 50%);
    }"""
    palette = decode_palette(css, "css", "theme.css")
    assert palette.hex == ["#ff0000", "#0080ff80", "#008000", "#0000ff40", "#0000ff", "#fb2c36",
                           "#808080", "#00ffff"]  # Tailwind v4 writes red-500 as #fb2c36 too
    assert palette.labels[5] == "tw-red-500"
    for value, words in (("lab(50% 40 59)", "is a colour quantize does not read"),
                         ("rgb(1 2)", "is not a colour CSS writes that way"),
                         ("hsl(12px 50% 50%)", "is not a colour CSS writes that way")):
        with pytest.raises(FormatError, match=re.escape(f"theme.css: {value} {words}")):
            decode_palette(f":root {{ --a: {value}; --b: #fff; }}".encode(), "css", "theme.css")



@pytest.mark.parametrize("value", ["#00ff0g", "#ff00000", "#ggg"])
@pytest.mark.parametrize("fmt, line", [("css", ":root {{ --a: #ff0000; --b: {}; }}"),
                                       ("scss", "$a: #ff0000;\n$b: {} !default;\n")])
def test_a_mistyped_hex_code_is_an_error_not_a_colour_left_out(fmt, line, value):
    with pytest.raises(FormatError, match=re.escape(f"t.{fmt}: '{value}' is not a hex colour")):
        decode_palette(line.format(value).encode(), fmt, f"t.{fmt}")


def test_sass_interpolation_is_not_taken_for_a_hex_code():
    assert decode_palette(b"$a: #ff0000;\n$b: #{$a};\n", "scss", "t.scss").hex == ["#ff0000"]


def test_a_variable_declared_again_in_its_block_is_one_colour_of_its_last_value():
    # as Coolors exports a palette: each colour in hex, then HSL, then RGB, at the top level
    scss = (b"/* SCSS HEX */\n$oxford-blue: #1b263bff;\n$platinum: #e0e1ddff;\n"
            b"/* SCSS HSL */\n$oxford-blue: hsla(219, 37%, 17%, 1);\n$platinum: hsla(80, 5%, 87%, 1);\n"
            b"/* SCSS RGB */\n$oxford-blue: rgba(27, 38, 59, 1);\n$platinum: rgba(224, 225, 222, 1);\n")
    palette = decode_palette(scss, "scss", "coolors.scss")
    assert palette.hex == ["#1b263b", "#e0e1de"] and palette.names == ("oxford-blue", "platinum")
    # a theme's blocks (shadcn's light :root and .dark) are colours of their own; braces in
    # comments open no block
    css = (b":root { --bg: #ffffff; --fg: #000000;\n  /* } */ --bg: #fafafa; }\n"
           b".dark { --bg: #111111; --fg: #eeeeee; }\n--top: red; --top: blue;")
    palette = decode_palette(css, "css", "theme.css")
    assert palette.hex == ["#fafafa", "#000000", "#111111", "#eeeeee", "#0000ff"]
    assert palette.names == ("bg", "fg", "bg", "fg", "top")
    # Sass gives a !default value only to a variable without one
    scss = b"$brand: #0000ff;\n$brand: #ff0000 !default;\n$ink: #111111 !default;\n$ink: #222222;\n"
    assert decode_palette(scss, "scss", "t.scss").hex == ["#0000ff", "#222222"]


@pytest.mark.parametrize("filler", [b"/**/", b"{"])
def test_css_comments_and_blocks_cost_no_memory_each(filler):
    import tracemalloc

    tracemalloc.start()
    try:
        assert decode_palette(filler * 100_000 + b"--a: #fff;", "css", "x.css").hex == ["#ffffff"]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2_000_000


def test_css_reads_the_last_declaration_of_a_block_without_its_semicolon():
    palette = decode_palette(b":root{--a:#ff0000;--b:#00ff00}\n.dark { --c: rgb(0 0 255) }", "css", "min.css")
    assert palette.hex == ["#ff0000", "#00ff00", "#0000ff"]
    assert palette.names == ("a", "b", "c")


def test_scss_and_css_read_declarations_flagged_default_or_important():
    scss = b"$brand: #ff0000 !default;\n$ink: #000;\n$accent: #00ff00 !default !global; // Accent\n"
    palette = decode_palette(scss, "scss", "tokens.scss")
    assert palette.hex == ["#ff0000", "#000000", "#00ff00"]
    assert palette.names == ("brand", "ink", "Accent")
    css = decode_palette(b":root { --a: #123456 !important; }", "css", "a.css")
    assert css.hex == ["#123456"]


def test_css_leaves_out_commented_out_declarations():
    css = b"""/* --old-brand: #123456; */
    :root {
      --brand: #ff0000; /* Brand red */
      /* --unused: #00ff00;
         --gone: #0000ff; */
      --ink: #000;
    }"""
    palette = decode_palette(css, "css", "theme.css")
    assert palette.hex == ["#ff0000", "#000000"] and palette.names == ("Brand red", "ink")
    scss = (b"// $old: #123456;\n$brand: #ff0000; // Brand\n  //$gone: #00ff00;\n$bg: url(//cdn/x.png);\n"
            b"$ink: #000;\n")
    assert decode_palette(scss, "scss", "t.scss").hex == ["#ff0000", "#000000"]


def test_css_comment_left_open_runs_to_the_end_of_the_file():
    # as CSS Syntax reads it; a sheet of many open comments is read in one pass, not one per comment
    css = b":root {\n  --a: #ff0000; /* Brand red */\n  --b: #00ff00; /* left open\n  --c: #0000ff;\n}"
    palette = decode_palette(css, "css", "t.css")
    assert palette.hex == ["#ff0000", "#00ff00"] and palette.names == ("Brand red", "b")
    many = b"--a: #fff;" + b"/* x " * 20_000
    assert decode_palette(many, "css", "m.css").hex == ["#ffffff"]


def test_css_reads_named_colours_and_skips_values_that_are_not_colours():
    css = b""":root {
      --white: white; --sky: DodgerBlue; --alias: aqua; --grey: darkgrey; --none: transparent;
      --font: serif; --pad: 4px; --text: currentColor; --red: #f00;
    }"""
    palette = decode_palette(css, "css", "t.css")
    assert palette.hex == ["#ffffff", "#1e90ff", "#00ffff", "#a9a9a9", "#00000000", "#ff0000"]
    assert palette.names == ("white", "sky", "alias", "grey", "none", "red")

def test_scss_names_unique_when_dash_and_underscore_clash():
    palette = Palette(RGB[:3], names=("sky_blue", "sky-blue", "Sky Blue"))
    scss = encode_palette(palette, "scss").decode()
    variables = re.findall(r"^\$(color-[\w-]+):", scss, re.M)
    assert variables == ["color-sky-blue", "color-sky-blue-2", "color-sky-blue-3"]
    assert len({v.replace("_", "-") for v in variables}) == 3
    assert '  "sky-blue-2": $color-sky-blue-2,' in scss and scss.rstrip().endswith(");")


def test_tailwind3_colours_object():
    doc = json.loads(encode_palette(Palette(RGB[:2], names=("Ciel 🎨", "🎨")), "tailwind3"))
    assert doc == {"ciel": "#1e90ff", "ff0000": "#ff0000"}


def test_json_reads_nested_shades_and_design_tokens():
    tailwind = {"blue": {"50": "#eff6ff", "DEFAULT": "#3b82f6", "900": "rgb(30 58 138)"}, "white": "white",
                "spacing": "4px"}
    palette = decode_palette(json.dumps(tailwind).encode(), source="colors.json")
    assert palette.hex == ["#eff6ff", "#3b82f6", "#1e3a8a", "#ffffff"]
    assert palette.names == ("blue-50", "blue", "blue-900", "white")
    tokens = {"color": {"$type": "color", "brand": {"primary": {"$value": "#ff0000"},
                                                    "ink": {"value": "#000", "type": "color"}},
                        "font": {"$value": "Inter", "$type": "fontFamily"}}}
    palette = decode_palette(json.dumps(tokens).encode(), source="tokens.json")
    assert palette.hex == ["#ff0000", "#000000"]
    assert palette.names == ("color-brand-primary", "color-brand-ink")
    with pytest.raises(FormatError, match=r"fonts\.json: the palette holds no colours"):
        decode_palette(b'{"body": {"$value": "Inter"}}', source="fonts.json")


def test_json_design_tokens_with_colour_objects():
    # DTCG Format Module 2025.10: a colour token's $value is an object of a colour space and its
    # components (as Figma's and Tokens Studio's exports write it), with an optional hex fallback
    def token(space, components, **more):
        return {"$type": "color", "$value": {"colorSpace": space, "components": components, **more}}

    tokens = {"brand": {
        "primary": token("srgb", [1, 0.4, 0], alpha=0.5, hex="#ff6600"),
        "accent": token("srgb", [0.2, 0.4, 0.6], **{"$extensions": {"x": {"c": "#123456"}}}),
        "leaf": token("hsl", [120, 100, 25]), "red": token("hwb", [0, 0, 0]),
        "grey": token("lab", [53.585, "none", 0]), "mint": token("oklch", [0.7, 0.1, 150]),
        "p3": token("display-p3", [1, 0, 0]), "xyz": token("xyz-d65", [0.1, 0.1, 0.1], hex="#5a5a5a"),
    }, "$extensions": {"com.figma": {"note": "#abcdef"}}}
    with pytest.warns(UserWarning, match=r"tokens\.json: 1 swatch is outside sRGB \(brand-p3\)"):
        palette = decode_palette(json.dumps(tokens).encode(), source="tokens.json")
    oklch = decode_palette(b":root { --a: oklch(0.7 0.1 150); }", "css", "a.css").hex[0]
    assert palette.hex == ["#ff660080", "#336699", "#008000", "#ff0000", "#808080", oklch, "#ff0000",
                           "#5a5a5a"]
    assert palette.names == ("brand-primary", "brand-accent", "brand-leaf", "brand-red", "brand-grey",
                             "brand-mint", "brand-p3", "brand-xyz")
    with pytest.raises(FormatError, match=r"t\.json: a: a colour in 'xyz-d65' quantize does not read"):
        decode_palette(json.dumps({"a": token("xyz-d65", [0.1, 0.1, 0.1])}).encode(), source="t.json")


def test_json_design_tokens_referring_to_others_are_not_colours_of_their_own():
    # Tokens Studio's references: an alias, and a colour function around one
    tokens = {"color": {"black": {"value": "#000000", "type": "color"},
                        "overlay": {"value": "rgba({color.black}, 0.5)", "type": "color"},
                        "ink": {"$value": "{color.black}", "$type": "color"}}}
    palette = decode_palette(json.dumps(tokens).encode(), source="tokens.json")
    assert palette.hex == ["#000000"] and palette.names == ("color-black",)


def test_json_object_of_names_and_hex_codes_without_their_hash():
    # Coolors' "Object" export; a value of fewer digits stays a number, as a font weight
    coolors = {"Oxford Blue": "1b263b", "Platinum": "E0E1DD", "Veil": "0d1b2a80",
               "font": {"weight": "400"}}
    palette = decode_palette(json.dumps(coolors).encode(), source="coolors.json")
    assert palette.hex == ["#1b263b", "#e0e1dd", "#0d1b2a80"]
    assert palette.names == ("Oxford Blue", "Platinum", "Veil")


def test_json_fields():
    doc = json.loads(encode_palette(PALETTE, "json"))
    assert doc["title"] == "Brand ✨"
    first = doc["colors"][0]
    assert set(first) == {"name", "hex", "rgb", "oklch", "share"}
    assert first["hex"] == "#1e90ff" and first["rgb"] == [30, 144, 255] and first["share"] == 0.4
    assert first["oklch"][0] == pytest.approx(0.652, abs=2e-3)
    assert first["oklch"][2] == pytest.approx(253.2, abs=0.5)
    assert doc["colors"][3]["oklch"][1] == 0  # white has no chroma (and hue 0)


def test_hex_list_reads_names_comments_and_short_forms():
    text = "// brand\n#1e90ff sky\n\nF00\n; note\n# heading\n00ff0080\n"
    palette = decode_palette(text.encode(), source="brand.txt")
    assert palette.title == "brand"
    assert palette.hex == ["#1e90ff", "#ff0000", "#00ff0080"]
    assert palette.names == ("sky", "#ff0000", "#00ff0080")


def test_hex_list_name_may_follow_a_tab():
    palette = decode_palette(b"ff0000\tBrand red\n00ff00  \t Leaf\n", source="brand.hex")
    assert palette.hex == ["#ff0000", "#00ff00"] and palette.names == ("Brand red", "Leaf")


# --- images ----------------------------------------------------------------------------------------

def test_png_is_indexed_1xn_with_transparency():
    data = encode_palette(Palette([[255, 0, 0, 255], [0, 0, 255, 0]]), "png")
    with Image.open(io.BytesIO(data)) as im:
        assert im.size == (2, 1) and im.mode == "P"
        assert im.getpalette()[:6] == [255, 0, 0, 0, 0, 255]
        assert np.asarray(im.convert("RGBA")).tolist() == [[[255, 0, 0, 255], [0, 0, 255, 0]]]


def test_png_beyond_256_colours_is_rgb():
    rgb = np.stack(np.meshgrid(np.arange(20), np.arange(15), [7], indexing="ij"), -1).reshape(-1, 3)
    data = encode_palette(Palette(rgb), "png")
    with Image.open(io.BytesIO(data)) as im:
        assert im.mode == "RGB" and im.size == (300, 1)
    np.testing.assert_array_equal(decode_palette(data).rgb, rgb)


def test_strip_bands_follow_shares_and_cells_are_labelled():
    data = encode_palette(PALETTE, "strip")
    with Image.open(io.BytesIO(data)) as im:
        pixels = np.asarray(im.convert("RGBA"))
    width = pixels.shape[1]
    for left, right, color in [(0, 0.4, RGB[0]), (0.4, 0.7, RGB[1]), (0.7, 0.9, RGB[2]), (0.9, 1, RGB[3])]:
        x = int((left + right) / 2 * width)
        assert pixels[10, x, :3].tolist() == color.tolist()
    cell = pixels[-90:, : width // 4]
    assert (cell[5, 5, :3] == RGB[0]).all()
    assert (cell[:, :, :3] != RGB[0]).any(axis=-1).sum() > 50  # the hex label is drawn


def test_strip_labels_a_named_palettes_cells_with_names_cut_to_fit():
    colours = [[40, 40, 40], [60, 60, 60], [80, 80, 80]]

    def cells(names):
        data = encode_palette(Palette(colours, [0.5, 0.3, 0.2], names), "strip")
        with Image.open(io.BytesIO(data)) as im:
            pixels = np.asarray(im.convert("RGB")).astype(int)[-90:]
        third = pixels.shape[1] // 3
        return [pixels[:, i * third:(i + 1) * third] for i in range(3)]

    plain, named = cells(None), cells(("Ocean", "x" * 500, "#505050"))
    assert (named[0] != plain[0]).any() and (named[2] == plain[2]).all()  # a hex name is not repeated
    for cell, colour in zip(named, colours):  # a long name ends within its cell, sides left bare
        assert (cell[:, :4] == colour).all() and (cell[:, -4:] == colour).all()


def test_strip_shows_colours_with_alpha_over_a_checkerboard_with_a_legible_label():
    palette = Palette([[200, 30, 30, 255], [0, 0, 0, 0], [0, 0, 0, 32]], [0.5, 0.25, 0.25])
    with Image.open(io.BytesIO(encode_palette(palette, "strip"))) as im:
        pixels = np.asarray(im.convert("RGBA")).astype(int)
    third = pixels.shape[1] // 3
    for i in (1, 2):  # the transparent entry and a faint black: on any background, dark ink
        cell = pixels[-90:, i * third:(i + 1) * third]
        assert (cell[..., 3] == 255).all() and len(np.unique(cell[:20, :20, 0])) == 2  # the squares
        assert (cell[..., :3].max(axis=-1) < 60).sum() > 50  # the label is drawn in black
    assert (pixels[-45, 5] == [200, 30, 30, 255]).all()  # an opaque colour as it is
    assert decode_palette(encode_palette(palette, "strip"), "strip").colors.tolist() == \
        palette.colors.tolist()


def test_image_distinct_colours_by_share_without_transparent(tmp_path):
    pixels = np.zeros((4, 4, 4), dtype=np.uint8)
    pixels[...] = (255, 0, 0, 255)
    pixels[0, :2] = (0, 0, 255, 255)
    pixels[3] = (9, 9, 9, 0)
    path = tmp_path / "photo.png"
    Image.fromarray(pixels, "RGBA").save(path)
    palette = read_palette(path)
    assert palette.hex == ["#ff0000", "#0000ff"]
    np.testing.assert_allclose(palette.shares, [10 / 12, 2 / 12])
    assert palette.colors.shape[1] == 3


def test_a_scaled_palette_image_keeps_its_order():
    # Lospec's 8x and 32x downloads: one block per colour, all of the same size, left to right
    colors = [(255, 0, 0), (0, 0, 255), (0, 255, 0), (10, 10, 10)]
    pixels = np.repeat(np.repeat(np.array([colors], dtype=np.uint8), 8, axis=0), 8, axis=1)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    palette = decode_palette(buf.getvalue(), source="lospec-8x.png")
    assert palette.hex == ["#ff0000", "#0000ff", "#00ff00", "#0a0a0a"]


# --- limits ----------------------------------------------------------------------------------------

# the strip's limit keeps it a picture (32 rows of 8 labelled cells) that Pillow's bomb guard opens
@pytest.mark.parametrize(("fmt", "limit"),
                         [("act", 256), ("procreate", 30), ("paintnet", 96), ("strip", 256)])
def test_limits_name_the_limit_unless_truncated(fmt, limit):
    rgb = np.random.default_rng(3).integers(0, 256, (limit + 1, 3), dtype=np.uint8)
    palette = Palette(rgb, names=tuple(f"c{i}" for i in range(limit + 1)))
    message = rf"{fmt} palettes hold at most {limit} colours, this one has {limit + 1}"
    with pytest.raises(ParameterError, match=message):
        encode_palette(palette, fmt)
    back = decode_palette(encode_palette(palette, fmt, truncate=True), fmt, "x" + FORMATS[fmt].ext)
    np.testing.assert_array_equal(back.rgb, rgb[:limit])


def test_empty_palette_is_refused():
    with pytest.raises(ParameterError, match="empty"):
        encode_palette(Palette(np.zeros((0, 3))), "gpl")


# --- files and malformed input ---------------------------------------------------------------------

def test_write_palette_by_extension_atomic_and_force(tmp_path):
    path = write_palette(PALETTE, tmp_path / "sub" / "brand.theme.css")
    assert path.read_bytes() == encode_palette(PALETTE, "tailwind")
    with pytest.raises(OutputError, match="already exists"):
        write_palette(PALETTE, path)
    write_palette(Palette(RGB[:1]), path, "css", force=True)
    assert read_palette(path).hex == ["#1e90ff"]
    assert sorted(p.name for p in path.parent.iterdir()) == ["brand.theme.css"]


def _corrupt(fmt: str) -> bytes:
    good = encode_palette(PALETTE, fmt)
    return {
        "ase": good[:-5],                                   # truncated
        "aco": good[:-3],
        "act": good[:700],
        "riff": good[:-2],
        "gpl": good.replace(b"255   0   0", b"300   0   0"),
        "jasc": good.replace(b"\r\n4\r\n", b"\r\n9\r\n"),
        "kpl": good[:100],
        "procreate": b"PK\x03\x04 not really a zip",
        "json": b'{"colors": [{"hex": "#12345"}]}',
        "hex": b"1e90ff\nzzzzzz\n",
        "png": b"\x89PNG\r\n\x1a\n broken",
        "css": b"body { color: red; }",
    }[fmt]


@pytest.mark.parametrize("fmt", ["ase", "aco", "act", "riff", "gpl", "jasc", "kpl", "procreate", "json",
                                 "hex", "png", "css"])
def test_malformed_files_raise_format_error_naming_file(tmp_path, fmt):
    path = tmp_path / ("bad" + FORMATS[fmt].ext)
    path.write_bytes(_corrupt(fmt))
    with pytest.raises(FormatError) as info:
        read_palette(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize(("data", "message"), [
    (b"ASEX\x00\x01\x00\x00\x00\x00\x00\x00", "not an Adobe Swatch Exchange file"),
    (encode_palette(PALETTE, "ase")[:-5], "truncated"),
    (b"ASEF\x00\x02\x00\x00\x00\x00\x00\x00", "ASE version 2"),
], ids=["magic", "truncated", "version"])
def test_ase_errors_say_what_is_wrong(tmp_path, data, message):
    path = tmp_path / "x.ase"
    path.write_bytes(data)
    with pytest.raises(FormatError, match=message):
        read_palette(path)


def test_bad_hex_is_named(tmp_path):
    path = tmp_path / "brand.hex"
    path.write_text("1e90ff\n12345g\n")
    with pytest.raises(FormatError, match=r"brand\.hex: '12345g' is not a hex colour"):
        read_palette(path)


def test_aco_unsupported_space_and_missing_file(tmp_path):
    with pytest.raises(FormatError, match=r"colour space 3 \(Pantone\)"):
        decode_palette(struct.pack(">HH5H", 1, 1, 3, 0, 0, 0, 0), "aco")
    with pytest.raises(InputError, match="no such file"):
        read_palette(tmp_path / "nope.gpl")


def test_an_image_palette_past_the_pixel_guard_is_refused_before_decoding(monkeypatch):
    # the command line lifts Pillow's own guard (quantize checks an image's size itself)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)
    buf = io.BytesIO()
    Image.new("1", (10_000, 9_000)).save(buf, format="PNG")
    refused = (r"big\.png: 10000x9000 = 90,000,000 pixels, more than the 89,478,485 an image used as a "
               r"palette may have \(a guard against decompression bombs\)")
    with pytest.raises(FormatError, match=refused):
        decode_palette(buf.getvalue(), source="big.png")


def test_a_strip_is_read_by_the_palette_it_carries_not_its_drawn_colours():
    data = encode_palette(PALETTE, "strip")
    drawn = Image.open(io.BytesIO(data))
    assert len(np.unique(np.asarray(drawn).reshape(-1, 4), axis=0)) > 3 * len(PALETTE)  # labels
    as_image = decode_palette(data, "png", "renamed.png")  # read as any image is
    np.testing.assert_array_equal(as_image.colors, roundtrip(PALETTE, "strip").colors)
    buffer = io.BytesIO()
    drawn.save(buffer, format="PNG")  # saved again by a program that drops text chunks
    with pytest.raises(FormatError, match="a presentation strip without its palette"):
        decode_palette(buffer.getvalue(), "strip", "x.strip.png")


def test_a_foreign_name_with_a_percentage_is_kept_whole():
    # "(50%)" is a share only in files where every colour carries one, as quantize writes them
    text = "GIMP Palette\nName: tints\n128 128 128\tGrey (50%)\n255 0 0\tBrand red\n"
    palette = decode_palette(text.encode(), source="tints.gpl")
    assert palette.names == ("Grey (50%)", "Brand red") and palette.shares is None
    ours = decode_palette(encode_palette(Palette(RGB[:2], [0.75, 0.25], ("Grey (50%)", "Red")), "gpl"),
                          source="ours.gpl")
    assert ours.names == ("Grey (50%)", "Red") and ours.shares.tolist() == [0.75, 0.25]


def test_lospec_palettes_are_titled_by_their_palette_name_comment():
    lospec = "GIMP Palette\n#Palette Name: Endesga 32\n#Colors: 1\n190\t74\t47\tbe4a2f\n"
    assert decode_palette(lospec.encode(), source="endesga-32.gpl").title == "Endesga 32"
    named = "GIMP Palette\nName: Mine\n#Palette Name: Theirs\n190 74 47\n"
    assert decode_palette(named.encode(), source="x.gpl").title == "Mine"
    paintnet = ";paint.net Palette File\n;Palette Name: Curiosities\n;Colors: 2\nFF46425e\nFF15788c\n"
    palette = decode_palette(paintnet.encode(), source="curiosities.txt")
    assert palette.title == "Curiosities" and palette.hex == ["#46425e", "#15788c"] and palette.names is None


def test_tints_named_by_percentage_keep_their_names_and_order():
    # every name ends in a percentage, but they add up to more than the pixels: no shares
    text = "".join(f"{v} {v} 255\tBlue ({p}%)\n" for v, p in ((230, 10), (150, 50), (40, 90)))
    palette = decode_palette(f"GIMP Palette\nName: tints\n{text}".encode(), source="tints.gpl")
    assert palette.names == ("Blue (10%)", "Blue (50%)", "Blue (90%)") and palette.shares is None
    ours = Palette(RGB, [0.2496, 0.2496, 0.2496, 0.2512], NAMES)  # written 25.0% thrice and 25.1%
    back = decode_palette(encode_palette(ours, "gpl"), source="ours.gpl")
    assert back.names == NAMES and back.shares.tolist() == [0.25, 0.25, 0.25, 0.251]


def test_json_names_are_not_split_into_a_share():
    # JSON has a share field, so a "(20%)" in a name is part of the name
    doc = b'{"colors": [{"name": "Blue (20%)", "hex": "#0000ff", "share": 0.5}, {"name": "Red (80%)", ' \
          b'"hex": "#ff0000", "share": 0.5}]}'
    palette = decode_palette(doc, source="tints.json")
    assert palette.names == ("Blue (20%)", "Red (80%)") and palette.shares.tolist() == [0.5, 0.5]
    named = Palette(RGB[:2], [0.6, 0.4], ("Tint (10%)", "Tint (20%)"))
    assert decode_palette(encode_palette(named, "json"), source="x.json").names == named.names


@pytest.mark.parametrize("share", [b"NaN", b"Infinity", b"-0.5"])
def test_json_shares_that_are_no_fraction_are_left_out(share):
    # Python's JSON reads NaN and Infinity: written back, they made JSON no other parser reads
    doc = b'{"colors": [{"hex": "#ff0000", "share": ' + share + b'}, {"hex": "#00ff00", "share": 0.5}]}'
    palette = decode_palette(doc, source="x.json")
    assert palette.shares is None and palette.hex == ["#ff0000", "#00ff00"]
    json.loads(encode_palette(palette, "json"), parse_constant=pytest.fail)


def test_text_palettes_break_lines_only_at_cr_and_lf():
    # GIMP reads a name holding U+2028 or NEL as part of its line; so does quantize
    gpl = "GIMP Palette\nName: x\n255 0 0\tRed\u2028line\r\n0 0 255\tBlue\x85 \x0c\n".encode()
    palette = decode_palette(gpl, source="x.gpl")
    assert palette.hex == ["#ff0000", "#0000ff"] and palette.names == ("Red line", "Blue")
    hex_list = "ff0000 Red\u2028line\n0000ff\n".encode()
    assert decode_palette(hex_list, source="x.hex").names == ("Red line", "#0000ff")
    pdn = "; Red\u2029line\r\nFFFF0000\r\n".encode()
    assert decode_palette(pdn, source="x.txt").names == ("Red line",)


@pytest.mark.parametrize(("data", "source"), [
    (b"GIMP Palette\nName: Caf\xe9\n255 0 0\tRouge \x93vif\x94\n", "old.gpl"),
    (b"ff0000 Rouge \x93vif\x94\n", "old.hex"),
])
def test_a_paint_program_text_palette_in_windows_1252_is_read(data, source):
    # GIMP and Pillow read such files from before UTF-8; a name's encoding must not lose the colours
    palette = decode_palette(data, source=source)
    assert palette.hex == ["#ff0000"] and palette.names == ("Rouge \u201cvif\u201d",)


_OVER = 65_537  # one colour past the most a palette may hold
# each text format's colours, then a broken line that a reader stopping at the limit never reaches
_PAST_THE_LIMIT = {
    "gpl": ("GIMP Palette\n" + "".join(f"{i % 256} {i // 256 % 256} 0\n" for i in range(_OVER)) + "a b c\n",
            "x.gpl"),
    "paintnet": ("".join(f"FF{i:06X}\n" for i in range(_OVER)) + "zz\n", "x.txt"),
    "hex": ("".join(f"{i:06x}\n" for i in range(_OVER)) + "zz\n", "x.hex"),
    "jasc": ("JASC-PAL\n0100\n70000\n" + "".join(f"{i % 256} 0 0\n" for i in range(_OVER)) + "a b c\n",
             "x.pal"),
    "css": (":root {\n" + "".join(f"--c{i}: #{i:06x};\n" for i in range(_OVER)) + "--z: rgb(1 2);\n}\n",
            "x.css"),
    "json": ("[" + "".join(f'"#{i:06x}",' for i in range(_OVER)) + '{"rgb": [1, 2]}]', "x.json"),
    "tokens": ('{"c": {' + "".join(f'"{i}": "#{i:06x}",' for i in range(_OVER)) + '"z": "#zz"}}', "x.json"),
}


@pytest.mark.parametrize("fmt", _PAST_THE_LIMIT)
def test_text_readers_stop_at_the_colour_limit(fmt):
    """A reader stops at the 65,537th colour, so a huge file costs a full palette's memory, not its own."""
    text, source = _PAST_THE_LIMIT[fmt]
    with pytest.raises(FormatError, match=r"^x\.\w+: more than the 65,536 colours a palette may hold$"):
        decode_palette(text.encode(), source=source)


@pytest.mark.parametrize(("fmt", "source"), [("json", "x.json"), ("sketch", "x.sketchpalette")])
def test_a_json_palette_past_the_byte_limit_is_refused_before_it_is_parsed(fmt, source):
    """A JSON parse holds the whole document's objects (an 11 MB list of hex codes took 92 MB above
    the interpreter's), so a file bigger than any palette's JSON is refused unparsed: even one
    valid, padded past 32 MiB."""
    data = b'{"colors": ["#ff0000"]}' + b" " * (32 << 20)
    with pytest.raises(FormatError, match=rf"^x\.\w+: {len(data):,} bytes, more than a JSON palette takes "
                                          r"\(33,554,432 at most\)$"):
        decode_palette(data, fmt, source)
    biggest = Palette(np.zeros((65536, 4), np.uint8), np.full(65536, 1 / 65536),
                      tuple(f"{i} {'ü' * 100}" for i in range(65536)))
    assert len(encode_palette(biggest, "json")) < 32 << 20  # quantize's own, long names and all


@pytest.mark.parametrize("head", ["[", '{"title": "T", "colors": ['])
def test_the_json_reader_stops_parsing_at_the_colour_limit(head):
    """A JSON list of colours is parsed an item at a time, so a long one is refused at its 65,537th
    colour, what follows unread: an 11 MB list of hex codes peaked at 133 MB parsed whole, 67 MB so."""
    text = head + '"#000000",' * (_OVER + 1) + " not JSON at all"
    with pytest.raises(FormatError, match=r"^x\.json: more than the 65,536 colours a palette may hold$"):
        decode_palette(text.encode(), source="x.json")


@pytest.mark.parametrize("text", ['{"colors": ["#fff" "#000"]}', '["#fff",]', '{"colors": ["#fff"]} x',
                                  '{"title" "T"}', "{'colors': []}", '{"colors": ["#fff"], }', "[", "",
                                  '{"a": {"b": "#fff"}, "colors": ["#fff"'])
def test_the_json_reader_words_malformed_json_as_json_loads_does(text):
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(text)
    with pytest.raises(FormatError, match=rf"^x\.json: invalid JSON \({re.escape(str(expected.value))}\)$"):
        decode_palette(text.encode(), "json", "x.json")


NAMED = ["gpl", "ase", "aco", "kpl", "paintnet", "css", "scss", "tailwind", "json", "strip"]


@pytest.mark.parametrize("fmt", NAMED)
def test_plain_swatch_names_leave_the_share_out_of_every_name(fmt):
    """For a design system: the names alone; a share field (JSON's, the strip's bands) stays."""
    data = encode_palette(PALETTE, fmt, swatch_names="plain")
    back = decode_palette(data, fmt, "palette" + FORMATS[fmt].ext)
    assert back.names == NAMES
    assert (back.shares is not None) == (fmt in ("json", "strip"))
    if fmt not in ("ase", "aco", "kpl", "strip"):  # text: no "(40.0%)" anywhere
        assert "%)" not in data.decode()
    assert encode_palette(PALETTE, fmt, swatch_names="share") == encode_palette(PALETTE, fmt)


def test_swatch_names_must_be_share_or_plain():
    with pytest.raises(ParameterError, match="unknown swatch names 'bare'; choose share or plain"):
        encode_palette(PALETTE, "gpl", swatch_names="bare")


def _kpl(entries: str, version: str = "2.0", columns: str = "4") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("mimetype", "krita/x-colorset")
        zf.writestr("colorset.xml", f'<ColorSet version="{version}" name="K" columns="{columns}">{entries}</ColorSet>')
    return buf.getvalue()


def _entry(name: str, *colours: str) -> str:
    return f'<ColorSetEntry name="{name}">{"".join(colours)}</ColorSetEntry>'


def test_kpl_lab_swatches_are_d50_lab_converted_to_srgb():
    """Krita's Lab is CIELAB (L 0..100, a and b -128..127) under D50: sRGB red is (54.29, 80.81,
    69.89) there, and a neutral stays neutral through the Bradford adaptation to sRGB's D65."""
    palette = decode_palette(_kpl(
        _entry("red", '<Lab space="Lab identity built-in" L="54.2917" a="80.8125" b="69.8851"/>')
        + _entry("grey", '<Lab space="Lab identity built-in" L="50" a="0" b="0"/>')
        + _entry("white", '<Lab space="Lab identity built-in" L="100" a="0" b="0"/>')), source="k.kpl")
    assert palette.names == ("red", "grey", "white")
    assert palette.rgb.tolist() == [[255, 0, 0], [119, 119, 119], [255, 255, 255]]


def test_kpl_version_1_lab_swatches_are_fractions_as_krita_3_wrote_them():
    """Krita before 4.0 (ColorSet version 1.0) wrote Lab as fractions: L/100, and a, b mapped to
    0..1 around 0.5 (-128 -> 0, +127 -> 1). sRGB red (54.29, 80.81, 69.89) is (0.5429, 0.8182,
    0.7752) there; read as Lab it was near black."""
    red = '<Lab space="Lab identity built-in" L="0.542917" a="0.818160" b="0.775138"/>'
    grey = '<Lab space="Lab identity built-in" L="0.5" a="0.5" b="0.5"/>'
    palette = decode_palette(_kpl(_entry("red", red) + _entry("grey", grey), version="1.0"), source="k.kpl")
    assert palette.rgb.tolist() == [[255, 0, 0], [119, 119, 119]]
    current = decode_palette(_kpl(_entry("red", red)), source="k.kpl")  # version 2.0: as written
    assert current.rgb.tolist() == [[5, 1, 0]]


def _in(name: str, colour: str, depth: str = "U8") -> str:
    return f'<ColorSetEntry name="{name}" bitdepth="{depth}">{colour}</ColorSetEntry>'


def test_kpl_swatches_in_linear_wide_and_pq_profiles_are_converted_to_srgb():
    """Krita names each swatch's profile: sRGB's 128 is 0.2158605 in linear light, sRGB red is
    (0.6274, 0.0691, 0.0164) in linear Rec. 2020, a grey of 0.3 in gamma 2.2 is 0.0707 in linear
    light (sRGB's 75), and PQ's 80 cd/m² is Krita's linear 1.0 (white). They were read as sRGB."""
    m1, m2, c1, c2, c3 = 2610 / 16384, 2523 / 32, 3424 / 4096, 2413 / 128, 2392 / 128
    y = (80 / 10000) ** m1
    pq_white = ((c1 + c2 * y) / (1 + c3 * y)) ** m2
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        palette = decode_palette(_kpl(
            _in("linear", '<RGB space="sRGB-elle-V2-g10.icc" r="0.2158605" g="0.5" b="1"/>', "F32")
            + _in("2020", '<RGB space="Rec2020-elle-V4-g10.icc" r="0.6274" g="0.0691" b="0.0164"/>', "F16")
            + _in("2020 g22", '<RGB space="Rec2020-elle-V4-g22.icc" r="0.3" g="0.3" b="0.3"/>', "U16")
            + _in("float default", '<RGB r="0.2158605" g="0.2158605" b="0.2158605"/>', "F32")
            + _in("grey", '<Gray space="Gray-D50-elle-V2-g10.icc" g="0.2158605"/>', "U16")
            + _in("pq", '<RGB space="High Dynamic Range UHDTV Wide Color Gamut Display (Rec. 2020) - '
                        f'SMPTE ST 2084 PQ EOTF" r="{pq_white}" g="{pq_white}" b="{pq_white}"/>', "U16")
            + _in("srgb", '<RGB space="sRGB-elle-V2-srgbtrc.icc" r="0.2" g="0.4" b="0.6"/>')), source="k.kpl")
    assert palette.hex == ["#80bcff", "#ff0000", "#4b4b4b", "#808080", "#808080", "#ffffff", "#336699"]


def test_kpl_xyz_swatches_are_d50_xyz_scaled_per_depth_as_krita_writes_them():
    """Krita's XYZ is littleCMS's connection space: D50, white Y = 1. Float depths write it as is;
    16- and 8-bit ones the channel over its maximum, littleCMS's 1.15 fixed point putting Y = 1 at
    32768 (0.500008). sRGB's white, red and 128 grey come back; XYZ was refused."""
    white, red = (0.9642, 1.0, 0.8249), (0.4360, 0.2225, 0.0139)
    grey = tuple(0.2158605 * c for c in white)
    def xyz(name: str, v: tuple[float, ...], depth: str) -> str:
        scale = 1.0 if depth.startswith("F") else 32768 / 65535
        x, y, z = (c * scale for c in v)
        return _in(name, f'<XYZ space="XYZ identity built-in" x="{x}" y="{y}" z="{z}"/>', depth)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        palette = decode_palette(_kpl(xyz("w", white, "F32") + xyz("r", red, "F16") + xyz("g", grey, "F32")
                                      + xyz("w16", white, "U16") + xyz("r16", red, "U16") + xyz("g8", grey, "U8")),
                                 source="k.kpl")
    assert palette.hex == ["#ffffff", "#ff0000", "#808080"] * 2


def test_kpl_swatches_in_an_unknown_profile_are_read_as_krita_does_with_one_warning():
    """Krita reads a profile it lacks as the default for the swatch's depth (sRGB for 8 bits); so
    does quantize, no longer silently."""
    with pytest.warns(UserWarning) as record:
        palette = decode_palette(_kpl(
            _in("a", '<RGB space="MyPrinter.icc" r="1" g="0" b="0"/>')
            + _in("b", '<RGB space="MyPrinter.icc" r="0" g="0.4" b="0.8"/>')), source="k.kpl")
    assert [str(w.message) for w in record] == [
        "k.kpl: 2 swatches in a colour profile quantize does not know ('MyPrinter.icc'), read in Krita's "
        "default profile for their model and depth (sRGB; linear for float RGB and for greys deeper than 8 bits)"]
    assert palette.hex == ["#ff0000", "#0066cc"]


def test_kpl_swatches_outside_the_grid_are_skipped_as_krita_skips_them():
    """Krita drops a swatch at a negative row or column, or at a column the palette's ``columns``
    has not (a column count that is not a whole number is 0); quantize kept them, so the palette
    had colours the file shows nowhere in Krita. Now they are skipped with one warning."""
    def at(name: str, row: int, column: int) -> str:
        return (f'<ColorSetEntry name="{name}"><sRGB r="1" g="0" b="0"/>'
                f'<Position row="{row}" column="{column}"/></ColorSetEntry>')
    grouped = f'<Group name="g">{at("in group", 2, 3)}{at("right of group", 0, 4)}</Group>'
    with pytest.warns(UserWarning) as record:
        palette = decode_palette(_kpl(at("a", 0, 0) + at("right", 0, 4) + at("above", -1, 0)
                                      + at("left", 1, -2) + at("b", 9, 3) + grouped), source="k.kpl")
    assert palette.names == ("a", "b", "in group")
    assert [str(w.message) for w in record] == [
        "k.kpl: 4 swatches outside the palette's grid of 4 columns skipped, as Krita skips them ('right' at "
        "row 0, column 4; 'above' at row -1, column 0; 'left' at row 1, column -2; ...)"]
    unplaced = '<ColorSetEntry><sRGB r="0" g="0" b="1"/></ColorSetEntry>'  # no Position: kept
    no_columns = _kpl(at("", 0, 0) + unplaced, columns="four")
    with pytest.warns(UserWarning, match=re.escape(
            "k.kpl: 1 swatch outside the palette's grid of 0 columns skipped, as Krita skips it (at row 0, "
            "column 0)")):
        assert decode_palette(no_columns, source="k.kpl").hex == ["#0000ff"]


def test_kpl_swatches_fill_the_grid_as_krita_places_them():
    """Krita puts a swatch without a Position right of the last row's rightmost swatch (the next
    row when that is full), and a swatch at a taken place replaces the one there; quantize put every
    unplaced swatch at row 0, column 0 and kept both of a shared place."""
    def at(name: str, row: int | None = None, column: int | None = None) -> str:
        place = "" if row is None else f'<Position row="{row}" column="{column}"/>'
        return f'<ColorSetEntry name="{name}"><sRGB r="0" g="0" b="0"/>{place}</ColorSetEntry>'
    group = f'<Group name="g">{at("g1")}{at("g2")}{at("g3")}</Group>'
    with pytest.warns(UserWarning) as record:
        palette = decode_palette(_kpl(at("a", 0, 1) + at("u1") + at("b", 0, 0) + at("c", 1, 0) + at("u2") + group,
                                      columns="2"), source="k.kpl")
    assert palette.names == ("b", "a", "c", "u2", "g1", "g2", "g3")
    assert [str(w.message) for w in record] == [
        "k.kpl: 1 swatch replaced by a later one at the same place, as Krita replaces it ('u1' at row 1, column 0)"]


def _icc_xyz(*v: float) -> bytes:
    return b"XYZ \0\0\0\0" + b"".join(struct.pack(">i", round(c * 65536)) for c in v)


def _icc(description: str, kind: bytes, tags: list[tuple[bytes, bytes]]) -> bytes:
    """A minimal ICC v2 profile: ``kind`` (class, colour space, connection space, 12 bytes), a
    description, D50 white and ``tags``."""
    text = description.encode() + b"\0"
    d50 = _icc_xyz(0.9642, 1.0, 0.8249)
    tags = [(b"desc", b"desc\0\0\0\0" + struct.pack(">I", len(text)) + text + bytes(12 + 67)), (b"wtpt", d50),
            *tags]
    table, body, offset = b"", b"", 128 + 4 + 12 * len(tags)
    for sig, data in tags:
        data += bytes(-len(data) % 4)
        table, body = table + sig + struct.pack(">II", offset + len(body), len(data)), body + data
    size = 128 + 4 + len(table) + len(body)
    header = (struct.pack(">I", size) + b"lcms" + bytes([2, 0x10, 0, 0]) + kind + bytes(12) + b"acsp"
              + bytes(28) + d50[8:] + bytes(48))
    return header + struct.pack(">I", len(tags)) + table + body


def _icc_rgb(description: str, colorants: list[tuple[float, float, float]], gamma: float) -> bytes:
    """An RGB matrix/TRC display profile: the three colorants (XYZ under D50) and one gamma curve
    for all three channels."""
    curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, round(gamma * 256)) + bytes(2)
    return _icc(description, b"mntrRGB XYZ ", [*zip((b"rXYZ", b"gXYZ", b"bXYZ"), (_icc_xyz(*c) for c in colorants)),
                                               *((t, curve) for t in (b"rTRC", b"gTRC", b"bTRC"))])


def _icc_cmyk(description: str, lightness: Callable[[int, int, int, int], float]) -> bytes:
    """A CMYK printer profile whose A2B0 table (2 points a channel, linear between) gives each
    corner of the ink cube (0 or 1 of each ink) a neutral grey of CIELAB ``lightness(c, m, y, k)``."""
    corners = [lightness(c, m, y, k) for c in (0, 1) for m in (0, 1) for y in (0, 1) for k in (0, 1)]
    clut = b"".join(struct.pack(">HHH", round(L * 65280 / 100), 128 << 8, 128 << 8) for L in corners)
    identity = b"".join(struct.pack(">i", 65536 if r == c else 0) for r in range(3) for c in range(3))
    ramp = struct.pack(">HH", 0, 65535)
    lut = (b"mft2\0\0\0\0" + bytes([4, 3, 2, 0]) + identity + struct.pack(">HH", 2, 2) + ramp * 4 + clut
           + ramp * 3)
    return _icc(description, b"prtrCMYKLab ", [(b"A2B0", lut)])


# Adobe RGB's colorants under D50, as its ICC profiles give them
_ADOBE_D50 = [(0.60974, 0.31111, 0.01947), (0.20528, 0.62567, 0.06087), (0.14919, 0.06322, 0.74457)]


def _kpl_with_profile(entries: str, name: str, icc: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("mimetype", "krita/x-colorset")
        zf.writestr("colorset.xml", f'<ColorSet version="2.0" name="K" columns="4">{entries}</ColorSet>')
        zf.writestr("profiles.xml", f'<Profiles><Profile name="{name}" filename="custom.icc" '
                                    'colorModelId="RGBA" colorDepthId="U8"/></Profiles>')
        zf.writestr("custom.icc", icc)
    return buf.getvalue()


def test_kpl_swatches_in_a_profile_the_palette_embeds_are_converted_by_it():
    """Krita embeds a custom profile in the .kpl (profiles.xml names it); an Adobe RGB profile's
    (0.3, 0.4, 0.6) is sRGB's #3c669c (as quantize converts Krita's bundled ClayRGB gamma 2.2; within
    one step, littleCMS rounding its own way), not #4c6699 read as sRGB with an unknown-profile warning."""
    icc = _icc_rgb("My Adobe RGB", _ADOBE_D50, 563 / 256)
    swatches = [(0.3, 0.4, 0.6), (1.0, 1.0, 1.0), (0.0, 0.0, 0.0), (0.5, 0.25, 0.1), (0.4, 0.5, 0.3)]
    entries = "".join(_in(f"s{i}", f'<RGB space="My Adobe RGB" r="{r}" g="{g}" b="{b}"/>')
                      for i, (r, g, b) in enumerate(swatches))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        palette = decode_palette(_kpl_with_profile(entries, "My Adobe RGB", icc), source="k.kpl")
    known = decode_palette(_kpl(entries.replace("My Adobe RGB", "ClayRGB-elle-V2-g22.icc")), source="k.kpl")
    assert palette.hex[1:3] == ["#ffffff", "#000000"]
    assert np.abs(palette.rgb.astype(int) - known.rgb.astype(int)).max() <= 1


def test_kpl_cmyk_swatches_in_a_profile_the_palette_embeds_are_converted_by_it():
    """A CMYK swatch was refused for want of its printer's profile even when the .kpl carries it.
    This profile prints no ink as white, one of C, M or Y as a grey of L* 50, K or two inks as
    black; half a cyan is L* 75."""
    def lightness(c: int, m: int, y: int, k: int) -> float:
        return 0.0 if k or c + m + y > 1 else 50.0 if c + m + y else 100.0
    icc = _icc_cmyk("My press", lightness)
    inks = [(0, 0, 0, 0), (1, 0, 0, 0), (0, 0, 1, 0), (0, 0, 0, 1), (0.5, 0, 0, 0), (0, 1, 1, 0)]
    entries = "".join(_in(f"s{i}", f'<CMYK space="My press" c="{c}" m="{m}" y="{y}" k="{k}"/>')
                      for i, (c, m, y, k) in enumerate(inks))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        palette = decode_palette(_kpl_with_profile(entries, "My press", icc), source="k.kpl")
    greys = decode_palette(_kpl("".join(_in(f"l{L}", f'<Lab L="{L}" a="0" b="0"/>') for L in (100, 50, 50, 0, 75, 0))),
                           source="k.kpl")
    assert np.abs(palette.rgb.astype(int) - greys.rgb.astype(int)).max() <= 1
    assert palette.hex[0] == "#ffffff" and palette.hex[3] == "#000000"


@pytest.mark.parametrize("icc", [b"", b"not a profile at all", b"\0" * 200])
def test_kpl_an_unreadable_embedded_profile_is_an_unknown_profile(icc: bytes):
    """A damaged embedded profile is one warning, as an unknown profile is (Krita ignores it too)."""
    with pytest.warns(UserWarning) as record:
        palette = decode_palette(_kpl_with_profile(
            _in("a", '<RGB space="Mine" r="0.2" g="0.4" b="0.6"/>'), "Mine", icc), source="k.kpl")
    assert [str(w.message) for w in record] == [
        "k.kpl: 1 swatch in a colour profile quantize does not know ('Mine'), read in Krita's default "
        "profile for its model and depth (sRGB; linear for float RGB and for greys deeper than 8 bits)"]
    assert palette.hex == ["#336699"]


def test_kpl_cmyk_is_refused_naming_the_swatch_unless_it_has_an_srgb_fallback():
    cmyk = '<CMYK space="Chemical proof" c="1" m="0.5" y="0" k="0"/>'
    with pytest.raises(FormatError, match=re.escape(
            "k.kpl: swatch 'Brand blue' is CMYK, which cannot be converted to sRGB without its printer's "
            "profile: give it an sRGB or Lab colour in Krita")):
        decode_palette(_kpl(_entry("Brand blue", cmyk)), source="k.kpl")
    fallback = '<sRGB r="0" g="0.4" b="0.8"/>'
    palette = decode_palette(_kpl(_entry("Brand blue", cmyk, fallback)), source="k.kpl")
    assert palette.rgb.tolist() == [[0, 102, 204]]


def _swatches(*swatches: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("Swatches.json", json.dumps({"name": "P3", "swatches": list(swatches)}))
    return buf.getvalue()


def _p3(r: float, g: float, b: float) -> dict:
    import colorsys

    h, s, v = colorsys.rgb_to_hsv(r, g, b)
    return {"hue": h, "saturation": s, "brightness": v, "alpha": 1, "colorSpace": 1}


def test_procreate_display_p3_swatches_are_converted_to_srgb():
    """sRGB red is color(display-p3 0.9175 0.2003 0.1386); a grey is the same in both."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        palette = decode_palette(_swatches(_p3(0.9175, 0.2003, 0.1386), _p3(0.4, 0.4, 0.4)),
                                 source="x.swatches")
    assert palette.rgb.tolist() == [[255, 0, 0], [102, 102, 102]]


def test_procreate_display_p3_outside_srgb_is_clipped_with_a_warning():
    with pytest.warns(UserWarning, match=re.escape(
            "x.swatches: 1 swatch is outside sRGB (swatch 2), clipped to it channel by channel")):
        palette = decode_palette(_swatches(_p3(0.4, 0.4, 0.4), _p3(0, 1, 0)), source="x.swatches")
    assert palette.rgb.tolist() == [[102, 102, 102], [0, 255, 0]]


def test_procreate_unknown_colour_space_is_refused():
    with pytest.raises(FormatError, match=re.escape(
            "x.swatches: swatch 1: colour space 7 is not supported (0 sRGB, 1 Display P3)")):
        decode_palette(_swatches({**_p3(1, 0, 0), "colorSpace": 7}), source="x.swatches")


@pytest.mark.parametrize(("fmt", "data", "message"), [
    ("procreate", _swatches("red"), "x.procreate: swatch 1 is not an object"),
    ("procreate", _swatches({**_p3(1, 0, 0), "hue": 2}), "x.procreate: swatch 1 hue 2 is not a number in 0..1"),
    ("sketch", b'{"colors": [5]}', "x.sketch: colour 1 is neither an object nor a hex string"),
    ("json", b'{"colors": [{"rgb": [1, 2]}]}', "x.json: colour 1 has neither a 'hex' string nor an 'rgb' list"),
    ("kpl", _kpl('<ColorSetEntry><Position row="0" column="0"/></ColorSetEntry>'), "x.kpl: swatch 1 has no colour"),
    ("aco", struct.pack(">HH", 1, 2) + struct.pack(">Hhhhh", 0, 0, 0, 0, 0), "x.aco: truncated: colour 2 needs"),
    ("aco", struct.pack(">HH", 1, 1) + struct.pack(">Hhhhh", 9, 0, 0, 0, 0),
     "x.aco: colour 1: colour space 9 (unknown) is not supported"),
])
def test_every_reader_counts_colours_from_1_in_its_messages(fmt, data, message):
    """As users count them, and as the GIMP and Adobe readers always did: Procreate, Sketch and
    JSON counted from 0, and a Krita swatch without a name was 'swatch None'."""
    with pytest.raises(FormatError, match="^" + re.escape(message)):
        decode_palette(data, fmt, "x." + fmt)


def _ase_block(name: str, model: bytes, *values: float) -> bytes:
    body = _utf16z(name, ">H") + model + struct.pack(f">{len(values)}f", *values) + b"\x00\x02"
    return struct.pack(">HI", 1, len(body)) + body


def test_an_ase_swatch_is_named_in_messages_as_the_krita_ones_are():
    """By its name, or its place when it has none: the colour model's error named neither."""
    data = b"ASEF" + struct.pack(">HHI", 1, 0, 2) + _ase_block("ok", b"RGB ", 1, 0, 0) + _ase_block("", b"XYZ ", 0)
    with pytest.raises(FormatError, match=r"^x\.ase: swatch 2: unknown ASE colour model b'XYZ ' \(at offset"):
        decode_palette(data, "ase", "x.ase")
    lab = b"ASEF" + struct.pack(">HHI", 1, 0, 1) + _ase_block("Violet", b"LAB ", 0.6, 90, -80)
    with pytest.warns(UserWarning, match=r"x\.ase: 1 swatch is outside sRGB \(swatch 'Violet'\)"):
        decode_palette(lab, "ase", "x.ase")


def test_a_kde_colour_collection_is_read_as_the_gimp_palette_it_nearly_is():
    """KColorCollection saves ~/.config/colors/<name> (no extension) headed 'KDE RGB Palette', its
    description as '#' lines, then 'r g b name' lines; the palettes KDE ships are GIMP's own."""
    data = b"KDE RGB Palette\n#Brand colours\n#second line\n255 0 0 Red\n0 128 255 Sky blue\n"
    palette = decode_palette(data, source="Brand")
    assert palette.title == "Brand" and palette.names == ("Red", "Sky blue")
    assert palette.rgb.tolist() == [[255, 0, 0], [0, 128, 255]]
    shipped = b"GIMP Palette\nName: Forty Colors\n#\n255 255 255\twhite\n"
    assert decode_palette(shipped, source="40.colors").names == ("white",)


def test_adobe_lab_swatches_are_d50_as_photoshop_stores_them():
    """sRGB red is Lab (54.29, 80.81, 69.89) under D50, as Photoshop shows it: read as D65 it was
    (255, 5, 0)."""
    aco = struct.pack(">HH", 1, 1) + struct.pack(">Hhhhh", 7, 5429, 8081, 6989, 0)
    body = _utf16z("red", ">H") + b"LAB " + struct.pack(">3f", 0.5429, 80.81, 69.89) + b"\x00\x02"
    ase = b"ASEF" + struct.pack(">HHI", 1, 0, 1) + struct.pack(">HI", 1, len(body)) + body
    for data, fmt in ((aco, "aco"), (ase, "ase")):
        assert decode_palette(data, fmt).rgb.tolist() == [[255, 0, 0]], fmt


def _ase_lab(*lab: float) -> bytes:
    return b"ASEF" + struct.pack(">HHI", 1, 0, 1) + _ase_block("x", b"LAB ", *lab)


@pytest.mark.parametrize(("data", "fmt", "message"), [
    (_ase_lab(float("nan"), 0, 0), "ase", "x.ase: swatch 'x': (nan, 0, 0) is not a colour"),
    (_ase_lab(0.5, float("inf"), 0), "ase", "x.ase: swatch 'x': (50, inf, 0) is not a colour"),
    (_kpl(_in("x", '<RGB space="Rec2020-elle-V4-g22.icc" r="1e200" g="-1e200" b="0"/>', "F32")), "kpl",
     "x.kpl: swatch 'x': (1e+200, -1e+200, 0) is not a colour"),
])
def test_a_converted_swatch_no_colour_has_is_one_error_line(data, fmt, message):
    """NaN read as black and infinities as garbage bytes, with numpy's RuntimeWarnings on the way."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(FormatError, match="^" + re.escape(message) + r" \(a value is NaN, infinite or far "
                                              r"out of range\)$"):
            decode_palette(data, fmt, "x." + fmt)


def test_an_adobe_lab_swatch_outside_srgb_is_clipped_with_one_warning():
    """As Krita's and Procreate's: Lab (60, 90, -80) under D50 is a violet sRGB cannot show."""
    aco = struct.pack(">HH", 1, 2) + struct.pack(">Hhhhh", 7, 6000, 9000, -8000, 0) + _RED16
    with pytest.warns(UserWarning, match=r"x.aco: 1 swatch is outside sRGB \(colour 1\), clipped"):
        palette = decode_palette(aco, "aco", "x.aco")
    assert palette.rgb.tolist()[1] == [255, 0, 0]
