"""The Palette type, default and unique names, sorting in OKLCH, colour naming, terminal swatches."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from quantize.errors import ParameterError
from quantize.io.palettes import (Palette, decode_palette, encode_palette, format_swatches, name_palette,
                                  sort_palette)
from quantize.io.palettes.model import code_names, split_label, unique

RED, YELLOW, GREEN, BLUE = [255, 0, 0], [255, 255, 0], [0, 160, 0], [0, 0, 255]
GREY, BLACK, WHITE = [128, 128, 128], [0, 0, 0], [255, 255, 255]


def test_palette_validates_and_freezes():
    palette = Palette([[1, 2, 3]], [1.0], (" a\tb\n",))
    assert palette.names == ("a b",)
    with pytest.raises(ValueError):
        palette.colors[0, 0] = 9
    with pytest.raises(ParameterError, match=r"shape \(K, 3\) or \(K, 4\)"):
        Palette(np.zeros((2, 5)))
    with pytest.raises(ParameterError, match="0..255"):
        Palette(np.array([[256, 0, 0]]))
    with pytest.raises(ParameterError, match="2 colours but 1 names"):
        Palette([RED, BLUE], names=("x",))
    with pytest.raises(ParameterError, match=r"shares must have shape \(2,\)"):
        Palette([RED, BLUE], [1.0])
    for shares in ([np.nan, 0.5], [np.inf, 0.5], [-0.1, 1.1]):
        with pytest.raises(ParameterError, match="shares must be fractions of the pixels"):
            Palette([RED, BLUE], shares)


def test_default_names_are_hex_and_alpha_shows():
    palette = Palette([[255, 0, 0, 255], [0, 0, 255, 128]], names=("", "sea"))
    assert palette.hex == ["#ff0000", "#0000ff80"]
    assert palette.names == ("#ff0000", "sea")
    assert Palette([RED]).labels == ["#ff0000"]
    assert palette.has_alpha and not Palette([RED]).has_alpha


def test_names_and_titles_stay_on_one_line_whatever_line_break_they_hold():
    # C1 controls (NEL) and Unicode's line and paragraph separators break lines as \n does
    palette = Palette([RED, BLUE], names=("a\u2028b", "c\x85d\u2029e\x9f"), title="T\u2028itle")
    assert palette.names == ("a b", "c d e") and palette.title == "T itle"
    for fmt in ("gpl", "paintnet", "css"):
        assert decode_palette(encode_palette(palette, fmt), fmt).names == palette.names


def test_names_and_titles_hold_no_character_xml_forbids():
    # U+FFFE and U+FFFF (read from a UTF-16 ASE name, say) made a Krita palette no XML parser reads
    palette = Palette([RED, BLUE], names=("a\ufffeb", "c\uffff"), title="T\uffffitle")
    assert palette.names == ("a b", "c") and palette.title == "T itle"
    back = decode_palette(encode_palette(palette, "kpl"), "kpl")
    assert back.names == palette.names and back.title == palette.title


def test_share_labels_round_trip():
    assert split_label("Dodger Blue (12.3%)") == ("Dodger Blue", pytest.approx(0.123))
    assert split_label("Plain") == ("Plain", None)
    assert split_label("a (b) (12%)") == ("a (b)", pytest.approx(0.12))
    assert split_label("(5%)") == ("", pytest.approx(0.05))
    for text in ("x (5.%)", "x (a%)", "x (5%) y", "x 5%)"):
        assert split_label(text) == (text, None)


@given(st.text(alphabet=" \t\u00a0ab(%).0123456789", max_size=24))
def test_share_labels_read_as_the_pattern_they_replaced_says(text):
    """The pattern backtracked for as long as a name's run of spaces squared (a .gpl of long
    names took seconds); the scan from the end gives its answers."""
    import re

    m = re.match(r"^(?P<name>.*?)\s*\((?P<pct>\d+(?:\.\d+)?)%\)$", text.strip())
    name, share = split_label(text)
    assert (name, share) == ((m["name"], float(m["pct"]) / 100) if m else (text.strip(), None))


def test_unique_and_code_names():
    assert unique(["red", "red", "blue", "red"]) == ["red", "red 2", "blue", "red 3"]
    palette = Palette([RED, RED, BLUE, GREEN], names=("Rouge Vif", "rouge_vif", "🎨", "Ça va"))
    assert code_names(palette) == ["rouge-vif", "rouge-vif-2", "0000ff", "ca-va"]


def test_sort_by_share_lightness_hue_and_none():
    palette = Palette([GREY, BLUE, RED, WHITE, GREEN, YELLOW, BLACK],
                      [0.1, 0.3, 0.05, 0.2, 0.15, 0.12, 0.08], tuple("gBRWGYK"))
    assert sort_palette(palette, "share").names == tuple("BWGYgKR")
    np.testing.assert_allclose(sort_palette(palette, "share").shares, [0.3, 0.2, 0.15, 0.12, 0.1, 0.08, 0.05])
    assert sort_palette(palette, "lightness").names == tuple("KBgGRYW")
    assert sort_palette(palette, "hue").names == tuple("RYGBKgW")  # hue circle, then greys dark to light
    assert sort_palette(palette, "none") is palette
    unshared = Palette([WHITE, BLACK])
    assert sort_palette(unshared, "share") is unshared
    with pytest.raises(ParameterError, match="unknown palette order 'rainbow'"):
        sort_palette(palette, "rainbow")


def test_truncate_keeps_first_by_current_order():
    palette = sort_palette(Palette([RED, BLUE, GREEN], [0.2, 0.5, 0.3]), "share")
    assert palette.head(2).hex == ["#0000ff", "#00a000"]


def test_name_palette_nearest_css_colour_unique():
    palette = name_palette(Palette([[30, 144, 255, 255], [254, 1, 1, 255], [255, 0, 0, 255], [10, 10, 10, 128]],
                                   [0.4, 0.3, 0.2, 0.1]))
    assert palette.names == ("dodgerblue", "red", "red 2", "black")
    assert palette.shares is not None and palette.colors.shape == (4, 4)
    by_share = name_palette(Palette([[254, 1, 1], [255, 0, 0], [250, 0, 0]], [0.2, 0.5, 0.3]))
    assert by_share.names == ("red 3", "red", "red 2")  # the plain name goes to the largest share
    tie = name_palette(Palette([[250, 2, 3], [255, 0, 0]], [0.5, 0.5]))
    assert tie.names == ("red 2", "red")  # between equal shares, to the colour nearest the name
    unshared = name_palette(Palette([[250, 2, 3], [255, 0, 0]]))
    assert unshared.names == ("red 2", "red")


def test_a_neutral_colour_gets_a_neutral_name():
    greys = name_palette(Palette([[25, 25, 25], [76, 76, 76], [230, 230, 230], [25, 25, 112]]))
    assert greys.names == ("black", "dimgray", "gainsboro", "midnightblue")  # #191919 is not


def test_format_swatches_with_and_without_colour():
    palette = Palette([[30, 144, 255], [255, 0, 0]], [0.875, 0.125], ("sky", "red"))
    plain = format_swatches(palette, color=False)
    assert plain.splitlines() == ["#1e90ff   87.5%  sky", "#ff0000   12.5%  red"]
    assert "\x1b" not in plain
    coloured = format_swatches(palette, color=True)
    assert coloured.splitlines()[0] == "\x1b[48;2;30;144;255m      \x1b[0m  #1e90ff   87.5%  sky"
    assert format_swatches(Palette([[0, 0, 0, 0]]), color=False) == "#00000000"


def test_format_swatches_does_not_repeat_a_hex_code_as_the_name():
    """A file's unnamed swatches come back named by their hex code (an .ase names each one): the
    listing of that file shows the code once."""
    unnamed = Palette([[91, 95, 72], [255, 0, 0]], [0.75, 0.25])
    listed = format_swatches(decode_palette(encode_palette(unnamed, "ase"), "ase"), color=False)
    assert listed.splitlines() == ["#5b5f48   75.0%", "#ff0000   25.0%"]
    named = Palette([[255, 0, 0]], names=("#FF0000 red",))
    assert format_swatches(named, color=False) == "#ff0000  #FF0000 red"
    lospec = "GIMP Palette\n#Palette Name: Two\n#Colors: 2\n190\t74\t47\tbe4a2f\n215\t118\t67\tD77643\n"
    assert format_swatches(decode_palette(lospec.encode(), "gpl"), color=False) == "#be4a2f\n#d77643"


def test_the_fully_transparent_entry_is_named_transparent_not_black():
    palette = name_palette(Palette([[0, 0, 0, 0], [0, 0, 0, 255], [250, 0, 0, 128]], [0.5, 0.3, 0.2]))
    assert palette.names == ("transparent", "black", "red")
