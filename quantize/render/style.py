"""Shared look of the pictures: colours and the font (Pillow's bundled one, so no system fonts)."""

from __future__ import annotations

from functools import lru_cache

from PIL import ImageFont

INK, MUTED, GRID = (34, 34, 34), (110, 110, 110), (225, 225, 225)
BLUE, ORANGE, GREEN, RED = (31, 119, 180), (230, 120, 20), (44, 140, 60), (200, 30, 40)


@lru_cache(maxsize=None)
def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's default font at ``size`` pixels (a fixed bitmap font without FreeType)."""
    return ImageFont.load_default(size=size)
