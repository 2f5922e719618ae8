"""Palettes as pictures: a 1xN swatch PNG, a presentation strip, and reading any image as a palette.

Both PNGs keep alpha: the 1xN PNG in its pixels, the strip in the palette it carries, drawing a
colour with alpha over a checkerboard. The 1xN PNG is indexed (its PLTE is the palette, in order)
for up to 256 colours, so GIMP's and Aseprite's palette import read it either way; it drops names
and shares.
The strip's labels and anti-aliasing add colours of their own, so it carries its palette in a
text chunk (:data:`STRIP_KEY`), which reading it takes.
"""

from __future__ import annotations

import io
import json

import numpy as np
from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError
from PIL.PngImagePlugin import PngInfo

from ...core.colorspace import srgb8_to_oklab
from ...errors import FormatError, ParameterError, one_line
from ..images import DEFAULT_MAX_PIXELS
from .model import Palette, from_entries

MAX_IMAGE_COLORS = 65536
STRIP_KEY = "quantize palette"  # the strip's tEXt chunk: JSON [[r, g, b, a], share, name] a colour
_STRIP_WIDTH, _BAR_HEIGHT, _GAP, _CELL_HEIGHT, _MAX_COLUMNS = 1200, 120, 8, 90, 8
_MARGIN = 6  # pixels between a cell's label and its sides
_CHECK, _CHECKER = 10, (204, 255)  # the side and greys of the squares under a colour with alpha


def _png(image: Image.Image, **params: object) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG", **params)
    return buf.getvalue()


def encode_png(palette: Palette) -> bytes:
    """A PNG one pixel high with one pixel per colour: indexed (PLTE, plus tRNS for alpha) up to 256
    colours, RGB(A) beyond."""
    if len(palette) > 256:
        return _png(Image.fromarray(palette.colors[np.newaxis]))
    image = Image.frombytes("P", (len(palette), 1), bytes(range(len(palette))))
    image.putpalette(palette.rgb.tobytes(), "RGB")
    return _png(image, **({"transparency": palette.alpha.tobytes()} if palette.has_alpha else {}))


def encode_strip(palette: Palette) -> bytes:
    """A presentation PNG: a bar of bands as wide as each colour's share (equal without shares), and
    below it a grid of swatches labelled with name (when named, cut to fit), hex code and share, 8
    a row, a colour with alpha
    over a checkerboard (at most 256 colours, so 32 rows: beyond that it would be a picture too
    tall to present, and to open under Pillow's decompression-bomb guard)."""
    k = len(palette)
    columns = min(k, _MAX_COLUMNS)
    cell = _STRIP_WIDTH // columns
    width, rows = cell * columns, -(-k // columns)
    image = Image.new("RGBA", (width, _BAR_HEIGHT + _GAP + rows * _CELL_HEIGHT), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    rgba = [tuple(c) for c in np.column_stack([palette.rgb, palette.alpha]).tolist()]
    weights = np.ones(k) if palette.shares is None else np.maximum(palette.shares, 0)
    edges = np.rint(np.concatenate([[0], np.cumsum(weights)]) / max(weights.sum(), 1e-12) * width)
    for color, left, right in zip(rgba, edges[:-1].astype(int), edges[1:].astype(int)):
        if right > left:
            _fill(image, (left, 0, right, _BAR_HEIGHT), color)
    font = ImageFont.load_default(size=18)
    opacity = palette.alpha[:, np.newaxis] / 255
    shown = np.rint(palette.rgb * opacity + np.mean(_CHECKER) * (1 - opacity)).astype(np.uint8)
    ink = np.where(srgb8_to_oklab(shown).reshape(-1, 3)[:, 0] > 0.65, 0, 255)
    for i, (color, hex_) in enumerate(zip(rgba, palette.hex)):
        x0, y0 = (i % columns) * cell, _BAR_HEIGHT + _GAP + (i // columns) * _CELL_HEIGHT
        _fill(image, (x0, y0, x0 + cell, y0 + _CELL_HEIGHT), color)
        lines = [hex_] if palette.shares is None else [hex_, f"{100 * palette.shares[i]:.1f}%"]
        if palette.names is not None and palette.names[i] != hex_:
            lines.insert(0, _cut_to(palette.names[i], cell - 2 * _MARGIN, draw, font))
        text = "\n".join(lines)
        left, top, right, bottom = draw.multiline_textbbox((0, 0), text, font=font, align="center")
        origin = (x0 + (cell - (right - left)) / 2 - left, y0 + (_CELL_HEIGHT - (bottom - top)) / 2 - top)
        fill = (int(ink[i]),) * 3 + (255,)
        draw.multiline_text(origin, text, font=font, fill=fill, align="center")
    shares = [None] * k if palette.shares is None else palette.shares.tolist()
    names = palette.labels  # hex codes where unnamed, as the other formats name them
    info = PngInfo()
    info.add_text(STRIP_KEY, json.dumps({"title": palette.title, "colors": [
        [color, share, name] for color, share, name in zip(rgba, shares, names)]}))
    return _png(image, pnginfo=info)


def _cut_to(text: str, width: int, draw: ImageDraw.ImageDraw, font: ImageFont.FreeTypeFont) -> str:
    """``text`` as drawn in ``font`` in at most ``width`` pixels: cut short with an ellipsis."""
    if draw.textlength(text, font=font) <= width:
        return text
    fits, over = 0, min(len(text), width) + 1  # no glyph is narrower than a pixel
    while over - fits > 1:
        middle = (fits + over) // 2
        if draw.textlength(text[:middle].rstrip() + "…", font=font) <= width:
            fits = middle
        else:
            over = middle
    return text[:fits].rstrip() + "…"


def _fill(image: Image.Image, box: tuple[int, int, int, int], color: tuple[int, ...]) -> None:
    """Fill ``box`` (right and bottom exclusive) of ``image`` with the RGBA ``color``: a colour that
    is not opaque over a checkerboard, as design tools show transparency, so that it and its label
    look the same on any background."""
    left, top, right, bottom = box
    if color[3] == 255:
        ImageDraw.Draw(image).rectangle([left, top, right - 1, bottom - 1], fill=color)
        return
    y, x = np.mgrid[top:bottom, left:right]
    grey = np.where((x // _CHECK + y // _CHECK) % 2, *_CHECKER).astype(np.uint8)
    checker = Image.fromarray(np.dstack([grey, grey, grey, np.full_like(grey, 255)]), "RGBA")
    image.paste(Image.alpha_composite(checker, Image.new("RGBA", checker.size, color)), (left, top))


def decode_strip(data: bytes, source: str) -> Palette:
    """The palette a presentation strip carries (:func:`encode_strip`)."""
    carried, _ = _open(data, source, pixels=False)
    if carried is None:
        raise FormatError(f"{source}: a presentation strip without its palette (saved again by "
                          "another program?); read the palette from its .swatch.png or another "
                          "palette file")
    return _strip_palette(carried, source)


def _open(data: bytes, source: str, *, pixels: bool = True) -> tuple[str | None, np.ndarray | None]:
    """An image's strip palette chunk (None: none), else, when asked, its pixels as RGBA."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            carried = image.info.get(STRIP_KEY) if image.format == "PNG" else None
            if carried is not None or not pixels:
                return carried, None
            width, height = image.size
            if width * height > DEFAULT_MAX_PIXELS:  # checked before decoding, as for any input image
                raise FormatError(f"{source}: {width}x{height} = {width * height:,} pixels, more than the "
                                  f"{DEFAULT_MAX_PIXELS:,} an image used as a palette may have (a guard "
                                  "against decompression bombs)")
            return None, np.asarray(image.convert("RGBA"))
    except UnidentifiedImageError:  # its message names the in-memory buffer, not the file
        raise FormatError(f"{source}: not a palette file quantize reads (gpl, ase, aco, act, json, "
                          "hex, css, ... by content or extension) nor an image") from None
    except (OSError, ValueError) as exc:
        raise FormatError(f"{source}: not a palette file or readable image ({exc})") from None


def _strip_palette(carried: str, source: str) -> Palette:
    """The palette in a strip's text chunk."""
    try:
        doc = json.loads(carried)
        entries = doc["colors"]
        colors = np.array([[int(v) for v in color] for color, _, _ in entries]).reshape(-1, 4)
        shares = [share for _, share, _ in entries]
        names = [name for _, _, name in entries]
        palette = Palette(colors if (colors[:, 3] < 255).any() else colors[:, :3],
                          None if None in shares else np.array(shares, np.float64),
                          None if None in names else tuple(map(str, names)), str(doc["title"]))
    except (ValueError, TypeError, KeyError, ParameterError) as exc:
        raise FormatError(f"{source}: the strip's palette chunk is damaged ({one_line(exc)})") \
            from None
    return palette


def decode_image(data: bytes, source: str) -> Palette:
    """An image as a palette. A strip quantize wrote: the palette it carries. One pixel high or
    wide: its pixels in order. Otherwise its distinct colours, most frequent first (equal shares in
    reading order, so a scaled-up strip keeps its order), with their shares; fully transparent
    pixels are left out."""
    carried, pixels = _open(data, source)
    if carried is not None:  # a strip: its labels' colours are not the palette's
        return _strip_palette(carried, source)
    if 1 in pixels.shape[:2]:
        strip = pixels.reshape(-1, 4)
        if len(strip) > MAX_IMAGE_COLORS:
            raise FormatError(f"{source}: a palette strip holds at most {MAX_IMAGE_COLORS} colours, "
                              f"this one {len(strip)}")
        return from_entries([(c, None) for c in strip.tolist()], source)
    flat = pixels.reshape(-1, 4)
    flat = flat[flat[:, 3] > 0]
    packed = flat.astype(np.uint32) @ np.array([1 << 24, 1 << 16, 1 << 8, 1], dtype=np.uint32)
    values, first, counts = np.unique(packed, return_index=True, return_counts=True)
    if len(values) > MAX_IMAGE_COLORS:
        raise FormatError(f"{source}: has {len(values)} distinct colours; an image used as a palette "
                          f"may have at most {MAX_IMAGE_COLORS}")
    order = np.lexsort((first, -counts))  # equal shares in the order the image shows them
    colors = (values[order, np.newaxis] >> np.array([24, 16, 8, 0], dtype=np.uint32)) & 255
    palette = from_entries([(c, None) for c in colors.tolist()], source)
    return Palette(palette.colors, counts[order] / max(counts.sum(), 1), None, palette.title)
