"""The contact sheet: the original and each K's quantised image (or a clip's frame) side by side,
labelled."""

from __future__ import annotations

import io
import math
from typing import Sequence

import numpy as np
from PIL import Image as PILImage
from PIL import ImageDraw

from ..jobs.sweep_model import SweepRun
from .style import INK, MUTED, font

TILE_W, TILE_H = 320, 240  # the largest tile
MIN_TILE_W = 160  # smaller images are enlarged by a whole factor (pixels stay crisp)
MAX_COLUMNS, GAP, LABEL_H = 5, 12, 40


def _tile(pixels: np.ndarray, size: tuple[int, int]) -> PILImage.Image:
    """(H, W, 3|4) uint8 pixels as an RGB tile of ``size``, transparency shown over white."""
    im = PILImage.fromarray(pixels)
    grow = size[0] >= im.width
    im = im.resize(size, PILImage.Resampling.NEAREST if grow else PILImage.Resampling.BOX)
    if im.mode == "RGB":
        return im
    flat = PILImage.new("RGBA", im.size, "white")
    flat.alpha_composite(im)
    return flat.convert("RGB")


def tile_size(width: int, height: int) -> tuple[int, int]:
    """Tile size for a ``width`` x ``height`` image: fit TILE_W x TILE_H, or enlarge small ones."""
    if width < MIN_TILE_W:
        factor = min(math.ceil(MIN_TILE_W / width), max(1, TILE_H // height))
        return width * factor, height * factor
    scale = min(1.0, TILE_W / width, TILE_H / height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def contact_sheet(run: SweepRun) -> bytes:
    """A PNG with the original and every K of ``run``, each labelled with K, bits per pixel and PSNR."""
    image, colours = run.image, run.points[0].result.n_colors
    cells = [(image.pixels, "original",
              f"{image.width}x{image.height}, {colours:,} colour{'s' * (colours != 1)}")]
    for point in run.points:
        d = point.to_dict()
        psnr = "lossless" if d["psnr"] is None else f"PSNR {d['psnr']:.2f} dB"
        cells.append((point.result.palette[point.result.indices],
                      f"K={d['k']}  ({d['bits_per_pixel']} bpp)", psnr))
    return draw_sheet(cells)


def draw_sheet(cells: Sequence[tuple[np.ndarray, str, str]]) -> bytes:
    """A PNG of labelled tiles in rows: each cell's (H, W, 3|4) uint8 pixels (all of one size),
    its label and a note beneath."""
    height, width = cells[0][0].shape[:2]
    size = tile_size(width, height)
    columns = min(MAX_COLUMNS, math.ceil(math.sqrt(len(cells))))
    rows = -(-len(cells) // columns)
    cell_w, cell_h = max(size[0], 150), size[1] + LABEL_H
    sheet = PILImage.new("RGB", (GAP + columns * (cell_w + GAP), GAP + rows * (cell_h + GAP)), "white")
    draw = ImageDraw.Draw(sheet)
    title, detail = font(14), font(12)
    for i, (pixels, label, note) in enumerate(cells):
        x = GAP + (i % columns) * (cell_w + GAP)
        y = GAP + (i // columns) * (cell_h + GAP)
        sheet.paste(_tile(pixels, size), (x, y))
        draw.text((x, y + size[1] + 4), label, font=title, fill=INK)
        draw.text((x, y + size[1] + 22), note, font=detail, fill=MUTED)
    buf = io.BytesIO()
    sheet.save(buf, "PNG", optimize=False, compress_level=6)
    return buf.getvalue()
