"""Palettes as pictures: a 1xN swatch PNG, a presentation strip, and reading any image as a palette.

Both PNGs keep alpha. The 1xN PNG is indexed (its PLTE is the palette, in order) for up to 256
colours, so GIMP's and Aseprite's palette import read it either way; it drops names and shares.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

from ...core.colorspace import srgb8_to_oklab
from ...errors import FormatError
from .model import Palette, from_entries

MAX_IMAGE_COLORS = 65536
_STRIP_WIDTH, _BAR_HEIGHT, _GAP, _CELL_HEIGHT, _MAX_COLUMNS = 1200, 120, 8, 90, 8


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
    below it a grid of swatches labelled with hex code and share."""
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
            draw.rectangle([left, 0, right - 1, _BAR_HEIGHT - 1], fill=color)
    font = ImageFont.load_default(size=18)
    ink = np.where(srgb8_to_oklab(palette.rgb).reshape(-1, 3)[:, 0] > 0.65, 0, 255)
    for i, (color, hex_) in enumerate(zip(rgba, palette.hex)):
        x0, y0 = (i % columns) * cell, _BAR_HEIGHT + _GAP + (i // columns) * _CELL_HEIGHT
        draw.rectangle([x0, y0, x0 + cell - 1, y0 + _CELL_HEIGHT - 1], fill=color)
        text = hex_ if palette.shares is None else f"{hex_}\n{100 * palette.shares[i]:.1f}%"
        left, top, right, bottom = draw.multiline_textbbox((0, 0), text, font=font, align="center")
        origin = (x0 + (cell - (right - left)) / 2 - left, y0 + (_CELL_HEIGHT - (bottom - top)) / 2 - top)
        fill = (int(ink[i]),) * 3 + (255,)
        draw.multiline_text(origin, text, font=font, fill=fill, align="center")
    return _png(image)


def decode_image(data: bytes, source: str) -> Palette:
    """An image as a palette. One pixel high or wide: its pixels in order. Otherwise its distinct
    colours, most frequent first, with their shares; fully transparent pixels are left out."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            pixels = np.asarray(image.convert("RGBA"))
    except UnidentifiedImageError:  # its message names the in-memory buffer, not the file
        raise FormatError(f"{source}: not a palette file quantize reads (gpl, ase, aco, act, json, "
                          "hex, css, ... by content or extension) nor an image") from None
    except (OSError, ValueError) as exc:
        raise FormatError(f"{source}: not a palette file or readable image ({exc})") from None
    if 1 in pixels.shape[:2]:
        strip = pixels.reshape(-1, 4)
        if len(strip) > MAX_IMAGE_COLORS:
            raise FormatError(f"{source}: a palette strip holds at most {MAX_IMAGE_COLORS} colours, "
                              f"this one {len(strip)}")
        return from_entries([(c, None) for c in strip.tolist()], source)
    flat = pixels.reshape(-1, 4)
    flat = flat[flat[:, 3] > 0]
    packed = flat.astype(np.uint32) @ np.array([1 << 24, 1 << 16, 1 << 8, 1], dtype=np.uint32)
    values, counts = np.unique(packed, return_counts=True)
    if len(values) > MAX_IMAGE_COLORS:
        raise FormatError(f"{source}: has {len(values)} distinct colours; an image used as a palette "
                          f"may have at most {MAX_IMAGE_COLORS}")
    order = np.argsort(-counts, kind="stable")
    colors = (values[order, np.newaxis] >> np.array([24, 16, 8, 0], dtype=np.uint32)) & 255
    palette = from_entries([(c, None) for c in colors.tolist()], source)
    return Palette(palette.colors, counts[order] / max(counts.sum(), 1), None, palette.title)
