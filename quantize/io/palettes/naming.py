"""Nearest named colour: each colour gets the CSS named colour closest in OKLab (Euclidean ΔE_OK);
a neutral colour the closest neutral one, as a dark grey is no one's "midnightblue"; a fully
transparent colour is "transparent"."""

from __future__ import annotations

import numpy as np

from ...core.colorspace import srgb8_to_oklab
from ._css_colors import CSS_COLORS
from .model import Palette, unique

_NAMES = tuple(CSS_COLORS)
_LAB = srgb8_to_oklab(np.array([[int(h[i:i + 2], 16) for i in (1, 3, 5)] for h in CSS_COLORS.values()]))
#: OKLCH chroma under which a colour counts as neutral (the CSS greys' is 0, "linen"'s 0.014).
NEUTRAL_CHROMA = 0.02
_NEUTRAL = np.hypot(_LAB[:, 1], _LAB[:, 2]) < NEUTRAL_CHROMA


def _distances(rgb: np.ndarray) -> np.ndarray:
    """Squared OKLab distance from each row of (K, 3) sRGB bytes to every CSS colour, the
    chromatic ones out of a neutral colour's reach."""
    lab = srgb8_to_oklab(np.asarray(rgb)[:, :3]).reshape(-1, 3)
    dist = (lab ** 2).sum(1)[:, None] - 2 * lab @ _LAB.T + (_LAB ** 2).sum(1)[None, :]
    neutral = np.hypot(lab[:, 1], lab[:, 2]) < NEUTRAL_CHROMA
    dist[np.ix_(neutral, ~_NEUTRAL)] = np.inf
    return dist


def nearest_names(rgb: np.ndarray) -> list[str]:
    """The nearest CSS colour name for each row of (K, 3) sRGB bytes (a neutral colour's: the
    nearest neutral one)."""
    return [_NAMES[i] for i in _distances(rgb).argmin(axis=1)]


def name_palette(palette: Palette) -> Palette:
    """The palette with every colour named after its nearest CSS colour (a fully transparent one
    ``transparent``, as CSS calls it); repeats get a suffix (``teal``, ``teal 2``) so names stay
    unique, the plain name going to the largest share, and between equal shares to the colour
    nearest the name."""
    dist = _distances(palette.rgb)
    clear = palette.alpha == 0  # no colour shows there, whatever its RGB
    nearest = ["transparent" if c else _NAMES[i] for i, c in zip(dist.argmin(axis=1), clear)]
    closeness = dist.min(axis=1)
    order = (np.argsort(closeness, kind="stable") if palette.shares is None
             else np.lexsort((closeness, -palette.shares)))
    named = dict(zip(order.tolist(), unique(nearest[i] for i in order)))
    names = tuple(named[i] for i in range(len(palette)))
    return Palette(palette.colors, palette.shares, names, palette.title)
