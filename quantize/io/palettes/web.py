"""Palettes for the web and for code: CSS custom properties, SCSS variables and map, Tailwind (v4
``@theme`` CSS and a v3 colours object), JSON, and a plain hex list.

All keep alpha (``#rrggbbaa``). Variable names are unique slugs of the colour names (``-`` and ``_``
count as one, as in Sass); CSS and SCSS keep the full name and the share in a comment after each value.
JSON has fields for both; the Tailwind v3 object and the hex list drop shares.
"""

from __future__ import annotations

import json
import re
from typing import Any, Iterator

import numpy as np

from ...core.colorspace import (display_p3_to_linear, lab_d50_to_linear, linear_to_srgb,
                                oklab_to_linear, oklab_to_oklch, rgb_to_linear, srgb8_to_oklab,
                                srgb_to_linear, to_srgb8, xyz_d50_to_linear)
from ...errors import FormatError
from ._css_colors import CSS_COLORS
from .model import (Palette, code_names, from_entries, labels_with_shares, parse_hex,
                    srgb8_converted, take_colors, warn_clipped)
from .reading import decode_text, parse_json, text_lines

# A colour function of CSS Color 4: those read, and those refused by name rather than skipped.
_READ_FUNCTIONS = ("rgb", "rgba", "hsl", "hsla", "oklch", "oklab")
_OTHER_FUNCTIONS = ("lab", "lch", "hwb", "color")
# A variable's value: a '#' and any letters (a mistyped hex code is an error, not a value left out),
# a colour function or a word.
_CSS_VAR = re.compile(
    r"(?:--|\$)(?P<var>[A-Za-z0-9_-]+)\s*:\s*(?P<value>#[0-9A-Za-z]+|(?i:"
    + "|".join(_READ_FUNCTIONS + _OTHER_FUNCTIONS) + r")\([^()]*\)|[A-Za-z]+)"
    r"(?P<flags>(?:\s*!(?:default|global|important))*)"  # Sass's flags
    r"\s*(?:;|(?=\}))[ \t]*")  # a block's last declaration needs no ';'
# Block comments (one left open runs to the end, as CSS reads it, so the text is scanned once), and
# Sass line comments: a '//' after a space or ;{} (a URL's follows ':' or '(')
_COMMENT = re.compile(r"/\*(?P<block>.*?)(?:\*/|\Z)|(?:^|(?<=[\s;{}]))//(?P<line>[^\n]*)", re.S | re.M)
# A hex code without its '#', as Coolors' objects of names give them; a shorter one may be a number.
_BARE_HEX = re.compile(r"[0-9A-Fa-f]{6}(?:[0-9A-Fa-f]{2})?")
_ALIASES = {"aqua": "cyan", "fuchsia": "magenta"}  # the spellings CSS_COLORS leaves out, with grey
_TURN = {"deg": 1.0, "turn": 360.0, "rad": 180.0 / np.pi, "grad": 0.9}


def _comment(text: str) -> str:
    return text.replace("*/", "* /")


def _css_block(palette: Palette, opener: str) -> bytes:
    lines = [f"/* {_comment(palette.title)}: {len(palette)} colours, by quantize */", opener + " {"]
    for var, hex_, label in zip(code_names(palette), palette.hex, labels_with_shares(palette)):
        lines.append(f"  --color-{var}: {hex_}; /* {_comment(label)} */")
    return ("\n".join(lines + ["}"]) + "\n").encode()


def encode_css(palette: Palette) -> bytes:
    """``:root { --color-<name>: #rrggbb; /* name (share) */ }``."""
    return _css_block(palette, ":root")


def encode_tailwind(palette: Palette) -> bytes:
    """Tailwind CSS v4 theme: ``@theme { --color-<name>: #rrggbb; }`` (utilities ``bg-<name>``...)."""
    return _css_block(palette, "@theme")


def encode_scss(palette: Palette) -> bytes:
    """``$color-<name>: #rrggbb; // name (share)`` per colour, then a ``$palette`` map of them."""
    names = code_names(palette)
    lines = [f"// {palette.title}: {len(palette)} colours, by quantize"]
    lines += [f"$color-{var}: {hex_}; // {label}"
              for var, hex_, label in zip(names, palette.hex, labels_with_shares(palette))]
    lines += ["", "$palette: ("] + [f'  "{var}": $color-{var},' for var in names] + [");"]
    return ("\n".join(lines) + "\n").encode()


def encode_tailwind3(palette: Palette) -> bytes:
    """A Tailwind CSS v3 colours object (for ``theme.extend.colors``): ``{"<name>": "#rrggbb"}``."""
    return (json.dumps(dict(zip(code_names(palette), palette.hex)), indent=2) + "\n").encode()


def _css_number(token: str, full: float, angle: bool = False) -> float:
    """A CSS number: a percentage of ``full``, an angle in degrees (``angle``), ``none`` as 0."""
    token = token.lower()
    if token == "none":
        return 0.0
    if token.endswith("%"):
        return float(token[:-1]) / 100 * full
    unit = re.search(r"[a-z]+$", token)
    if unit is None:
        return float(token)
    if not angle or unit[0] not in _TURN:
        raise ValueError(token)
    return float(token[:-len(unit[0])]) * _TURN[unit[0]]


def _hsl_to_srgb(hue: float, saturation: float, lightness: float) -> np.ndarray:
    """HSL (degrees, 0..1, 0..1) -> sRGB in [0, 1], as CSS defines it."""
    def channel(n: float) -> float:
        k = (n + hue / 30) % 12
        return lightness - saturation * min(lightness, 1 - lightness) * max(-1, min(k - 3, 9 - k, 1))
    return np.array([channel(0), channel(8), channel(4)])


def css_color(value: str, source: str) -> tuple[int, int, int, int]:
    """(r, g, b, a) of a CSS colour value: hex, ``rgb()``/``rgba()``, ``hsl()``/``hsla()``,
    ``oklch()`` or ``oklab()`` (comma or space syntax, alpha after ``/``); out of gamut, the
    nearest sRGB per channel. Another colour function is a :class:`FormatError` naming it."""
    if value.startswith("#"):
        return parse_hex(value, source)
    name, args = value[:value.index("(")].lower(), value[value.index("(") + 1:-1]
    if name not in _READ_FUNCTIONS:
        raise FormatError(f"{source}: {value} is a colour quantize does not read (hex, rgb(), "
                          f"hsl(), oklch(), oklab())")
    channels, _, alpha = args.replace(",", " ").partition("/")
    parts = channels.split()
    if len(parts) == 4 and not alpha:  # the legacy rgba(r, g, b, a) and hsla(...)
        parts, alpha = parts[:3], parts[3]
    try:
        if len(parts) != 3 or len(alpha.split()) > 1:
            raise ValueError(value)
        opacity = _css_number(alpha.strip(), 1.0) if alpha.strip() else 1.0
        if name.startswith("rgb"):
            srgb = np.array([_css_number(p, 255.0) for p in parts]) / 255
        elif name.startswith("hsl"):
            hue = _css_number(parts[0], 360.0, angle=True)
            srgb = _hsl_to_srgb(hue % 360, *(min(max(_css_number(p, 100.0) / 100, 0), 1)
                                             for p in parts[1:]))
        else:
            lightness = _css_number(parts[0], 1.0)
            if name == "oklch":
                chroma, hue = _css_number(parts[1], 0.4), np.radians(_css_number(parts[2], 360.0, True))
                lab = [lightness, chroma * np.cos(hue), chroma * np.sin(hue)]
            else:
                lab = [lightness, _css_number(parts[1], 0.4), _css_number(parts[2], 0.4)]
            srgb = linear_to_srgb(oklab_to_linear(np.array([lab]))[0])
    except ValueError:
        raise FormatError(f"{source}: {value} is not a colour CSS writes that way") from None
    r, g, b = (int(c) for c in to_srgb8(srgb))
    return r, g, b, int(to_srgb8(np.array([min(max(opacity, 0.0), 1.0)]))[0])


def _named_color(word: str) -> tuple[int, int, int, int] | None:
    """(r, g, b, a) of a CSS named colour or ``transparent``, any case; None for another word."""
    key = word.lower()
    if key == "transparent":
        return 0, 0, 0, 0
    code = CSS_COLORS.get(_ALIASES.get(key, key.replace("grey", "gray")))
    return None if code is None else parse_hex(code, word)


def decode_css(data: bytes, source: str) -> Palette:
    """Read ``--name: <colour>;`` or ``$name: <colour>;`` declarations (CSS, SCSS, Tailwind v4) outside
    comments, each colour a CSS colour name or as :func:`css_color` reads it (other values are left
    out; a ``#`` value that is no hex code is a FormatError); the comment after a value gives the
    name and share, else the variable name does (less a ``color-`` prefix). A variable declared
    again in its block (or again at the top level) is one colour, in its first place, of the value
    it has last (a Sass ``!default`` one sets no value given before), as a stylesheet reads it
    (Coolors' exports give each colour in hex, HSL and RGB);
    one in another block, such as a dark theme's, is a colour of its own."""
    colours: dict[tuple[int, str], tuple[tuple[int, int, int, int], str]] = {}
    declared = _css_entries(decode_text(data, source), source)
    for rgba, label, (variable, default) in take_colors(declared, source):
        if not (default and variable in colours):  # Sass gives a !default value to a new one only
            colours[variable] = rgba, label  # a later value takes the earlier one's place
    if not colours:
        raise FormatError(f"{source}: no colour variables (--name: #hex; or $name: #hex;) found")
    return from_entries(colours.values(), source)


_Declared = tuple[tuple[int, int, int, int], str, tuple[tuple[int, str], bool]]


def _css_entries(text: str, source: str) -> Iterator[_Declared]:
    """The colour declarations of ``text``, one at a time, with the comments scanned alongside: each
    colour, its label, and its variable (the block it is declared in, and its name) with whether
    it is flagged ``!default``."""
    blocks, later = _Blocks(text), _COMMENT.finditer(text)  # each scans the text once, as it goes
    last, following = None, next(later, None)  # the comments around the declaration
    for m in _CSS_VAR.finditer(text):
        while following is not None and following.start() <= m.start():
            last, following = following, next(later, None)
        if last is not None and m.start() < last.end():  # commented out
            continue
        rgba = _named_color(m["value"]) if m["value"].isalpha() else css_color(m["value"], source)
        if rgba is None:
            continue  # a word that names no colour: serif, currentColor, inherit
        label = _label(following if following is not None and following.start() == m.end() else None)
        variable = blocks.at(m.start()), m[0][0] + m["var"]  # '-' or '$', and the name
        yield rgba, label or m["var"].removeprefix("color-"), (variable, "default" in m["flags"])


class _Blocks:
    """The block of each position of a stylesheet, asked for in increasing order: the offset of the
    ``{`` that opens it, -1 at the top level (braces in comments do not count)."""

    def __init__(self, text: str) -> None:
        self._braces = re.finditer(r"[{}]", text)
        self._comments = _COMMENT.finditer(text)
        self._comment = next(self._comments, None)
        self._brace = next(self._braces, None)
        self._open: list[int] = []  # the blocks open, outermost first, up to _MAX_NESTING of them
        self._depth = 0

    def at(self, pos: int) -> int:
        """The block ``pos`` is in."""
        while self._brace is not None and self._brace.start() < pos:
            where = self._brace.start()
            while self._comment is not None and self._comment.end() <= where:
                self._comment = next(self._comments, None)
            if self._comment is None or where < self._comment.start():
                if self._brace[0] == "{":
                    self._depth += 1
                    if self._depth <= _MAX_NESTING:
                        self._open.append(where)
                elif self._depth:
                    if self._depth <= _MAX_NESTING:
                        self._open.pop()
                    self._depth -= 1
            self._brace = next(self._braces, None)
        return self._open[-1] if self._open else -1


# Blocks nested deeper than any stylesheet's count as their outer one, so that a file of braces
# costs no memory per brace.
_MAX_NESTING = 64


def _label(comment: re.Match | None) -> str | None:
    """The text of a comment right after a declaration, on its line: its colour's name and share."""
    if comment is None:
        return None
    text = comment["line"] if comment["block"] is None else comment["block"]
    closed = comment["block"] is None or comment[0].endswith("*/")
    return text.strip() if closed and "\n" not in text and text.strip() else None


def encode_json(palette: Palette) -> bytes:
    """``{"title", "colors": [{"name", "hex", "rgb", "oklch": [L, C, h°], "share", "alpha"}]}``, one
    colour per line; ``share`` only when known, ``alpha`` (0..1) only for palettes with an alpha channel."""
    lch = oklab_to_oklch(srgb8_to_oklab(palette.rgb)).reshape(-1, 3)
    colors = []
    for i, (name, hex_) in enumerate(zip(palette.labels, palette.hex)):
        chroma = round(float(lch[i, 1]), 4)
        item: dict[str, Any] = {
            "name": name, "hex": hex_, "rgb": palette.rgb[i].tolist(),
            "oklch": [round(float(lch[i, 0]), 4), chroma, round(float(lch[i, 2]), 2) if chroma else 0.0]}
        if palette.shares is not None:
            item["share"] = round(float(palette.shares[i]), 6)
        if palette.colors.shape[1] == 4:
            item["alpha"] = round(int(palette.alpha[i]) / 255, 4)
        colors.append(item)
    rows = ",\n".join("    " + json.dumps(c, ensure_ascii=False) for c in colors)
    title = json.dumps(palette.title, ensure_ascii=False)
    return f'{{\n  "title": {title},\n  "colors": [\n{rows}\n  ]\n}}\n'.encode()


def decode_json(data: bytes, source: str) -> Palette:
    """Read our JSON, a list of hex strings or colour objects (``hex`` or ``rgb``), or an object of
    names and colours, nested or not: a Tailwind colours object (``{"blue": {"50": "#eff6ff"}}`` is
    ``blue-50``, a ``DEFAULT`` shade the plain name) or design tokens (``{"$value": "#hex"}``)."""
    doc = parse_json(data, source, "colors")
    title = doc.get("title") if isinstance(doc, dict) else None
    if isinstance(doc, dict) and not isinstance(doc.get("colors"), list):
        clipped: list[str] = []
        palette = from_entries(_named_tree(doc, (), source, clipped), source,
                               title if isinstance(title, str) else None, shares_in_labels=False)
        warn_clipped(clipped, source)
        return palette
    if isinstance(doc, dict):
        items = doc["colors"]
    elif isinstance(doc, list):
        items = doc
    else:
        raise FormatError(f"{source}: expected a 'colors' list, a list of colours or a name -> hex object")
    entries = (_json_color(item, i, source) for i, item in enumerate(items, start=1))
    palette = from_entries(entries, source, title if isinstance(title, str) else None, shares_in_labels=False)
    shares = [item.get("share") if isinstance(item, dict) else None for item in items]
    if items and all(_is_share(s) for s in shares):
        palette = Palette(palette.colors, np.array(shares, dtype=float), palette.names, palette.title)
    return palette


def _is_share(value: Any) -> bool:
    """Whether a colour object's ``share`` is one: a finite number, not negative (JSON as Python
    reads it also has NaN and Infinity)."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and 0 <= value < float("inf"))


def _named_tree(node: dict, path: tuple[str, ...], source: str,
                clipped: list[str]) -> Iterator[tuple[tuple[int, ...], str]]:
    """The colours of a nested object of names, in order, one at a time, named by their path joined
    with ``-``; a design token's ``$value`` is a colour string or a colour object (see
    :func:`_token_color`, whose name joins ``clipped`` when sRGB cannot show it); strings that are
    not colours (``4px``, a font) and ``$`` keys other than ``$value`` (``$extensions``...) are
    skipped."""
    token = node.get("$value", node.get("value"))
    if path and isinstance(token, str):
        color = _color_string(token, source)
        if color is not None:
            yield color, "-".join(path)
        return
    if path and isinstance(token, dict) and "colorSpace" in token:
        yield _token_color(token, source, "-".join(path), clipped), "-".join(path)
        return
    for key, child in node.items():
        name = path if key == "DEFAULT" else (*path, key)
        if key.startswith("$"):
            continue
        if isinstance(child, dict):
            yield from _named_tree(child, name, source, clipped)
        elif isinstance(child, str) and (path or key != "title"):
            color = _color_string(child, source)
            if color is not None:
                yield color, "-".join(name)


def _hwb_to_srgb(hue: float, white: float, black: float) -> np.ndarray:
    """HWB (degrees, 0..1, 0..1) -> sRGB in [0, 1], as CSS defines it."""
    if white + black >= 1:
        return np.full(3, white / (white + black))
    return _hsl_to_srgb(hue, 1.0, 0.5) * (1 - white - black) + white


def _lch_to_lab(lch: np.ndarray) -> np.ndarray:
    hue = np.radians(lch[2])
    return np.array([lch[0], lch[1] * np.cos(hue), lch[1] * np.sin(hue)])


def _percent(v: float) -> float:
    return min(max(v / 100, 0.0), 1.0)


# The colour spaces of a design token's colour object (DTCG Format Module 2025.10): its three
# components -> linear sRGB.
_TOKEN_SPACES = {
    "srgb": srgb_to_linear,
    "srgb-linear": lambda v: v,
    "display-p3": display_p3_to_linear,
    "a98-rgb": lambda v: rgb_to_linear(v, "Adobe RGB", "gamma 2.2"),
    "prophoto-rgb": lambda v: rgb_to_linear(v, "ProPhoto RGB", "gamma 1.8"),
    "rec2020": lambda v: rgb_to_linear(v, "Rec. 2020", "Rec. 709"),
    "hsl": lambda v: srgb_to_linear(_hsl_to_srgb(v[0] % 360, _percent(v[1]), _percent(v[2]))),
    "hwb": lambda v: srgb_to_linear(_hwb_to_srgb(v[0] % 360, _percent(v[1]), _percent(v[2]))),
    "lab": lab_d50_to_linear,
    "lch": lambda v: lab_d50_to_linear(_lch_to_lab(v)),
    "oklab": lambda v: oklab_to_linear(v[np.newaxis])[0],
    "oklch": lambda v: oklab_to_linear(_lch_to_lab(v)[np.newaxis])[0],
    "xyz-d50": xyz_d50_to_linear,
}


def _token_color(value: dict, source: str, what: str, clipped: list[str]) -> tuple[int, ...]:
    """(r, g, b, a) of a design token's colour object, ``{"colorSpace", "components", "alpha",
    "hex"}``: its components in the spaces of :data:`_TOKEN_SPACES` (``none`` is 0), else its
    ``hex`` fallback; neither is a FormatError naming the token ``what``."""
    space, components = value.get("colorSpace"), value.get("components")
    numbers = ([0.0 if c == "none" else c for c in components] if isinstance(components, list)
               else [])
    readable = len(numbers) == 3 and all(isinstance(c, (int, float)) and not isinstance(c, bool)
                                         for c in numbers)
    if space not in _TOKEN_SPACES or not readable:
        if isinstance(value.get("hex"), str):
            return parse_hex(value["hex"], source)
        raise FormatError(f"{source}: {what}: a colour in {space!r} quantize does not read, "
                          f"without a hex fallback (it reads {', '.join(_TOKEN_SPACES)})")
    alpha = value.get("alpha", 1)
    if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not 0 <= alpha <= 1:
        raise FormatError(f"{source}: {what}: alpha {alpha!r} is not a number in 0..1")
    rgb = srgb8_converted(_TOKEN_SPACES[space], numbers, source, what, clipped)
    return (*rgb, int(round(255 * alpha)))


def _color_string(text: str, source: str) -> tuple[int, int, int, int] | None:
    """A hex code (its ``#`` optional with 6 or 8 digits), colour function or colour name as a
    colour; None for any other string, and for a design token's reference to another token."""
    text = text.strip()
    if "{" in text:  # a token's reference to another ({color.black}), alone or in rgba({...}, 0.5)
        return None
    if text.startswith("#") or _BARE_HEX.fullmatch(text):
        return parse_hex(text, source)
    if text.isalpha():
        return _named_color(text)
    function = text.partition("(")[0].strip().lower()
    return css_color(text, source) if function in _READ_FUNCTIONS + _OTHER_FUNCTIONS else None


def _json_color(item: Any, i: int, source: str) -> tuple[tuple[int, ...], str | None]:
    if isinstance(item, str):
        return parse_hex(item, source), None
    if not isinstance(item, dict):
        raise FormatError(f"{source}: colour {i} is neither a hex string nor an object")
    name = item.get("name") if isinstance(item.get("name"), str) else None
    if isinstance(item.get("hex"), str):
        return parse_hex(item["hex"], source), name
    rgb = item.get("rgb")
    if (isinstance(rgb, list) and len(rgb) in (3, 4)
            and all(isinstance(v, int) and 0 <= v <= 255 for v in rgb)):
        return tuple(rgb), name
    raise FormatError(f"{source}: colour {i} has neither a 'hex' string nor an 'rgb' list of 0..255")


def encode_hex(palette: Palette) -> bytes:
    """One ``rrggbb`` (``rrggbbaa`` with alpha) per line, as Lospec's .hex files."""
    return "".join(h.lstrip("#") + "\n" for h in palette.hex).encode()


def decode_hex(data: bytes, source: str) -> Palette:
    """Read one hex colour per line (``#`` optional), a name may follow after spaces or a tab;
    blank lines and lines starting with ``//``, ``;`` or ``# `` are comments."""
    return from_entries(_hex_entries(data, source), source)


def _hex_entries(data: bytes, source: str) -> Iterator[tuple[tuple[int, int, int, int], str | None]]:
    for line in text_lines(data, source):
        text = line.strip()
        if not text or text.startswith(("//", ";", "# ")) or text == "#":
            continue
        token, *rest = text.split(None, 1)
        yield parse_hex(token, source), rest[0] if rest else None
