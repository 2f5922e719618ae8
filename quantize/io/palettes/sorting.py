"""Palette order: by share, by hue or lightness in OKLCH, or as given."""

from __future__ import annotations

import numpy as np

from ...core.colorspace import oklab_to_oklch, srgb8_to_oklab
from ...errors import ParameterError
from .model import Palette

SORT_KEYS = ("share", "hue", "lightness", "none")
_GREY_CHROMA = 0.02  # OKLCH chroma below which a colour counts as grey (its hue is noise)


def sort_palette(palette: Palette, by: str = "share") -> Palette:
    """Reorder colours, shares and names together.

    ``share``: most frequent first (unchanged without shares). ``lightness``: dark to light (OKLCH L).
    ``hue``: colours round the OKLCH hue circle from red, then greys dark to light. ``none``: as given.
    Ties keep their order.
    """
    if by not in SORT_KEYS:
        raise ParameterError(f"unknown palette order {by!r}; choose one of {', '.join(SORT_KEYS)}")
    if by == "none" or (by == "share" and palette.shares is None):
        return palette
    if by == "share":
        return palette.take(np.argsort(-palette.shares, kind="stable"))
    lch = oklab_to_oklch(srgb8_to_oklab(palette.rgb)).reshape(-1, 3)
    if by == "lightness":
        return palette.take(np.argsort(lch[:, 0], kind="stable"))
    grey = lch[:, 1] < _GREY_CHROMA
    return palette.take(np.lexsort((lch[:, 0], np.where(grey, 0.0, lch[:, 2]), grey)))
