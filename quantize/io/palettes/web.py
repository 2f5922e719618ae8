"""Palettes for the web and for code: CSS custom properties, SCSS variables and map, Tailwind (v4
``@theme`` CSS and a v3 colours object), JSON, and a plain hex list.

All keep alpha (``#rrggbbaa``). Variable names are unique slugs of the colour names (``-`` and ``_``
count as one, as in Sass); CSS and SCSS keep the full name and the share in a comment after each value.
JSON has fields for both; the Tailwind v3 object and the hex list drop shares.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np

from ...core.colorspace import oklab_to_oklch, srgb8_to_oklab
from ...errors import FormatError
from .model import Palette, code_names, from_entries, labels_with_shares, parse_hex
from .reading import decode_text

_CSS_VAR = re.compile(
    r"(?:--|\$)(?P<var>[A-Za-z0-9_-]+)\s*:\s*(?P<value>#[0-9a-fA-F]{3,8})\s*;"
    r"(?:[ \t]*(?:/\*(?P<block>.*?)\*/|//(?P<line>[^\n]*)))?")


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


def decode_css(data: bytes, source: str) -> Palette:
    """Read ``--name: #hex;`` or ``$name: #hex;`` declarations (CSS, SCSS, Tailwind v4); the comment
    after a value gives the name and share, else the variable name does (less a ``color-`` prefix).
    Values written other than as hex are not read."""
    entries = []
    for m in _CSS_VAR.finditer(decode_text(data, source)):
        comment = m["block"] if m["block"] is not None else m["line"]
        label = comment.strip() if comment and comment.strip() else m["var"].removeprefix("color-")
        entries.append((parse_hex(m["value"], source), label))
    if not entries:
        raise FormatError(f"{source}: no colour variables (--name: #hex; or $name: #hex;) found")
    return from_entries(entries, source)


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
    """Read our JSON, a list of hex strings or colour objects (``hex`` or ``rgb``), or a flat
    ``{"name": "#hex"}`` object such as a Tailwind v3 colours object."""
    try:
        doc = json.loads(decode_text(data, source))
    except json.JSONDecodeError as exc:
        raise FormatError(f"{source}: invalid JSON ({exc})") from None
    title = doc.get("title") if isinstance(doc, dict) else None
    if isinstance(doc, dict) and isinstance(doc.get("colors"), list):
        items = doc["colors"]
    elif isinstance(doc, dict) and all(isinstance(v, str) for v in doc.values()):
        items = [{"name": k, "hex": v} for k, v in doc.items()]
    elif isinstance(doc, list):
        items = doc
    else:
        raise FormatError(f"{source}: expected a 'colors' list, a list of colours or a name -> hex object")
    entries = [_json_color(item, i, source) for i, item in enumerate(items)]
    shares = [item.get("share") if isinstance(item, dict) else None for item in items]
    palette = from_entries(entries, source, title if isinstance(title, str) else None)
    if items and all(isinstance(s, (int, float)) and not isinstance(s, bool) for s in shares):
        palette = Palette(palette.colors, np.array(shares, dtype=float), palette.names, palette.title)
    return palette


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
    """Read one hex colour per line (``#`` optional), a name may follow; blank lines and lines
    starting with ``//``, ``;`` or ``# `` are comments."""
    entries = []
    for line in decode_text(data, source).splitlines():
        text = line.strip()
        if not text or text.startswith(("//", ";", "# ")) or text == "#":
            continue
        token, _, rest = text.partition(" ")
        entries.append((parse_hex(token, source), rest.strip() or None))
    return from_entries(entries, source)
