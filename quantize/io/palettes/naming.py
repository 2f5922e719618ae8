"""Nearest named colour: each colour gets the CSS named colour closest in OKLab (Euclidean ΔE_OK)."""

from __future__ import annotations

import numpy as np

from ...core.colorspace import srgb8_to_oklab
from ._css_colors import CSS_COLORS
from .model import Palette, unique

_NAMES = tuple(CSS_COLORS)
_LAB = srgb8_to_oklab(np.array([[int(h[i:i + 2], 16) for i in (1, 3, 5)] for h in CSS_COLORS.values()]))


def nearest_names(rgb: np.ndarray) -> list[str]:
    """The nearest CSS colour name for each row of (K, 3) sRGB bytes."""
    lab = srgb8_to_oklab(np.asarray(rgb)[:, :3]).reshape(-1, 3)
    dist = (lab ** 2).sum(1)[:, None] - 2 * lab @ _LAB.T + (_LAB ** 2).sum(1)[None, :]
    return [_NAMES[i] for i in dist.argmin(axis=1)]


def name_palette(palette: Palette) -> Palette:
    """The palette with every colour named after its nearest CSS colour; repeats get a suffix
    (``teal``, ``teal 2``) so names stay unique, the plain name going to the largest share."""
    nearest = nearest_names(palette.rgb)
    order = (np.arange(len(palette)) if palette.shares is None
             else np.argsort(-palette.shares, kind="stable"))
    named = dict(zip(order.tolist(), unique(nearest[i] for i in order)))
    names = tuple(named[i] for i in range(len(palette)))
    return Palette(palette.colors, palette.shares, names, palette.title)
