"""Palettes on a display's colour lattice (``--bits 5,6,5``, ``--bits 4`` for 4-bit grey).

A channel of b bits holds 2^b levels, widened to 8 bits by bit replication (5-bit v -> v << 3 |
v >> 2), as display controllers and image decoders do, so every palette entry is written exactly
as the display shows it. The fit is constrained, not rounded afterwards: starting from the free
fit's centres projected to the lattice, Lloyd iterations run on every distinct colour (weighted by
its pixels) in the fit's space, each update moving a centre to the lattice point nearest its
cluster's mean (which minimises the cluster's error among lattice points), and a centre whose
cluster empties (two centres projected to one point) moving to the worst-served colour. Lloyd
stops in a local minimum close to the rounded palette, so a local search follows: the exact
change of the error for moving each entry one level up or down in each channel (points
reassigned), the best move of every entry taken together (or, when together they do not lower
the error, the single best), then Lloyd again, until no move lowers the error.
"""

from __future__ import annotations

from itertools import product
from typing import TYPE_CHECKING

import numpy as np

from .colorspace import decode, encode
from ..errors import ParameterError

MAX_SWEEPS = 32  # local-search rounds; each lowers the error or ends the search

if TYPE_CHECKING:
    from .colorstats import SpaceColors
    from .kmeans import PaletteFit


def parse_bits(text: str) -> tuple[int, ...]:
    """``"5,6,5"`` -> (5, 6, 5) bits of red, green, blue; ``"4"`` -> (4,), 4-bit grey. Each 1 to 8."""
    try:
        bits = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise ParameterError(f"bits must be R,G,B or N (1 to 8 per channel), got {text!r}",
                             parameters=("bits",)) from None
    if len(bits) not in (1, 3) or not all(1 <= b <= 8 for b in bits):
        raise ParameterError(f"bits must be R,G,B or N (1 to 8 per channel), got {text!r}",
                             parameters=("bits",))
    return bits


def lattice_size(bits: tuple[int, ...]) -> int:
    """How many colours the lattice holds."""
    return 1 << sum(bits)


def levels(b: int) -> np.ndarray:
    """The 2^b 8-bit values of a b-bit channel, by bit replication."""
    v = np.arange(1 << b, dtype=np.int64)
    out = np.zeros_like(v)
    shift = 8 - b
    while shift > -b:  # the b-bit pattern repeated down to the lowest bit
        out |= v << shift if shift >= 0 else v >> -shift
        shift -= b
    return out.astype(np.uint8)


def lattice_colors(bits: tuple[int, ...]) -> np.ndarray:
    """Every colour of the lattice (uint8, (2^sum, 3)) at its display code: grey level i at i, an
    R,G,B colour at its channels' bits side by side (3,3,2: rrrgggbb)."""
    if len(bits) == 1:
        return np.repeat(levels(bits[0])[:, None], 3, axis=1)
    codes = np.arange(lattice_size(bits))
    shifts = (bits[1] + bits[2], bits[2], 0)
    return np.stack([levels(b)[codes >> shift & ((1 << b) - 1)] for b, shift in zip(bits, shifts)],
                    axis=1)


def round_to_lattice(colors: np.ndarray, bits: tuple[int, ...]) -> np.ndarray:
    """Each sRGB colour (n, 3) rounded to its nearest lattice colour in RGB (grey: the nearest
    level to the channels' mean), uint8."""
    colors = np.asarray(colors, dtype=np.float64)
    if len(bits) == 1:
        return np.repeat(_nearest_level(colors.mean(axis=1), levels(bits[0]))[:, None], 3, axis=1)
    return np.stack([_nearest_level(colors[:, c], levels(b)) for c, b in enumerate(bits)], axis=1)


def _nearest_level(values: np.ndarray, lv: np.ndarray) -> np.ndarray:
    lo, hi = _brackets(values, lv)
    return np.where(np.abs(values - lo) <= np.abs(hi - values), lo, hi).astype(np.uint8)


def _brackets(values: np.ndarray, lv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The levels just below and just above each value (equal at and beyond the ends)."""
    f = lv.astype(np.float64)
    at = np.clip(np.searchsorted(f, values), 1, len(f) - 1)
    lo, hi = f[at - 1], f[at]
    return np.where(values >= hi, hi, lo), np.where(values <= lo, lo, hi)


def project(centers: np.ndarray, space: str, bits: tuple[int, ...]) -> np.ndarray:
    """The lattice colour (uint8, (K, 3)) nearest in ``space`` to each centre (K, D) of that space,
    among the lattice points around the centre's sRGB value (per channel the levels just below and
    above it; grey: those of every channel's value)."""
    srgb = np.clip(decode(centers, space), 0, 255)
    if len(bits) == 1:
        lv = levels(bits[0])
        options = np.stack([v for c in range(3) for v in _brackets(srgb[:, c], lv)], axis=1)
        candidates = np.repeat(options[:, :, None], 3, axis=2)  # (K, 6, 3) greys
    else:
        per_channel = [_brackets(srgb[:, c], levels(b)) for c, b in enumerate(bits)]
        candidates = np.stack([np.stack([per_channel[c][pick] for c, pick in enumerate(corner)], 1)
                               for corner in product((0, 1), repeat=3)], axis=1)  # (K, 8, 3)
    k, m = candidates.shape[:2]
    flat = candidates.reshape(-1, 3).astype(np.uint8)
    d = ((encode(flat, space).reshape(k, m, -1) - centers[:, None, :]) ** 2).sum(axis=2)
    return candidates[np.arange(k), d.argmin(axis=1)].astype(np.uint8)


def lattice_fit(colors: SpaceColors, free: PaletteFit, bits: tuple[int, ...],
                max_iter: int) -> PaletteFit:
    """The palette fit constrained to ``bits``, from the ``free`` fit in the colours' space (see the
    module)."""
    from .kmeans import PaletteFit

    if colors.stats.colors.shape[1] != 3:
        raise ParameterError("bits needs an image without transparency", parameters=("bits",))
    space = colors.space
    X, w = colors.points()
    # two starts: each entry of the free palette rounded to the lattice, and each centre projected
    # in the fit's space; the better end is kept
    rounded = round_to_lattice(np.clip(np.rint(free.centers), 0, 255), bits)
    starts = (rounded, project(encode(free.centers, space), space, bits))
    runs = [_lloyd(X, w, start, space, bits, max_iter) for start in starts]
    palette, _, n_iter = _local_search(X, w, *min(runs, key=lambda run: run[1]), space, bits,
                                       max_iter)
    return PaletteFit(palette.astype(np.float64), free.n_iter + n_iter)


def _local_search(X: np.ndarray, w: np.ndarray, colors: np.ndarray, inertia: float, n_iter: int,
                  space: str, bits: tuple[int, ...],
                  max_iter: int) -> tuple[np.ndarray, float, int]:
    """Moves of single entries to neighbouring lattice points, each round followed by Lloyd, while
    they lower the error (see the module); the colours, their error and the Lloyd iterations."""
    from .kernels.lattice import move_gains

    for _ in range(MAX_SWEEPS):
        candidates, owner = _neighbours(colors, bits)
        if not len(candidates):
            break
        gains = move_gains(X, w, encode(colors, space), encode(candidates, space), owner,
                           np.empty(len(candidates)))
        order = np.argsort(gains, kind="stable")
        order = order[gains[order] < -1e-12 * inertia]  # lowers the error beyond rounding noise
        if not len(order):
            break
        _, first = np.unique(owner[order], return_index=True)  # each entry's best move
        picks = [order[np.sort(first)], order[:1]]  # every entry's best move together, or the best
        for pick in picks:
            trial = colors.copy()
            trial[owner[pick]] = candidates[pick]
            moved, moved_inertia, iters = _lloyd(X, w, trial, space, bits, max_iter)
            if moved_inertia < inertia:
                break
        else:
            break
        colors, inertia, n_iter = moved, moved_inertia, n_iter + iters
    return colors, inertia, n_iter


def _neighbours(colors: np.ndarray, bits: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The lattice points one level up or down in one channel (grey: one level lighter or darker)
    from each colour (K, 3) uint8, less those already in the palette: (M, 3) uint8, and the row
    of the colour each came from (M,)."""
    channels = [(0, 1, 2)] if len(bits) == 1 else [(0,), (1,), (2,)]
    taken = {tuple(c) for c in colors.tolist()}
    points, owner = [], []
    for j, color in enumerate(colors.tolist()):
        for group in channels:
            lv = levels(bits[0] if len(bits) == 1 else bits[group[0]]).tolist()
            at = lv.index(color[group[0]])
            for step in (-1, 1):
                if 0 <= at + step < len(lv):
                    moved = list(color)
                    for c in group:
                        moved[c] = lv[at + step]
                    if tuple(moved) not in taken:
                        points.append(moved)
                        owner.append(j)
    return np.array(points, np.uint8).reshape(-1, 3), np.array(owner, np.int64)


def _lloyd(X: np.ndarray, w: np.ndarray, colors: np.ndarray, space: str, bits: tuple[int, ...],
           max_iter: int) -> tuple[np.ndarray, float, int]:
    """Lloyd iterations on the lattice from ``colors`` (K, 3) uint8: the final colours, their
    weighted squared error over the points X (n, D) of ``space``, and the iterations run."""
    from .mapping import nearest_indices

    colors = colors.copy()
    centers = encode(colors, space)
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        labels = nearest_indices(X, centers)
        weight = np.bincount(labels, w, minlength=len(centers))
        moved = _relocate_empty(X, w, labels, centers, colors, weight == 0, space, bits)
        full = weight > 0
        means = np.stack([np.bincount(labels, w * X[:, j], minlength=len(centers))
                          for j in range(X.shape[1])], axis=1)[full] / weight[full, None]
        snapped = project(means, space, bits)
        new = encode(snapped, space)
        # keep a centre when the projection (nearest among nearby lattice points) is no closer
        better = ((new - means) ** 2).sum(1) < ((centers[full] - means) ** 2).sum(1)
        rows = np.flatnonzero(full)[better]
        colors[rows], centers[rows] = snapped[better], new[better]
        if not better.any() and not moved:
            break
    labels = nearest_indices(X, centers)
    return colors, float(w @ ((X - centers[labels]) ** 2).sum(1)), n_iter


def _relocate_empty(X: np.ndarray, w: np.ndarray, labels: np.ndarray, centers: np.ndarray,
                    colors: np.ndarray, empty: np.ndarray, space: str, bits: tuple[int, ...]) -> bool:
    """Move each centre without colours to the lattice point of the colour that adds most to the
    error, worst first, skipping points already in the palette; whether any moved."""
    if not empty.any():
        return False
    cost = w * ((X - centers[labels]) ** 2).sum(1)
    taken = {tuple(c) for c in colors.tolist()}
    moved = False
    targets = iter(np.argsort(-cost, kind="stable"))
    for j in np.flatnonzero(empty):
        for i in targets:
            if cost[i] <= 0:
                return moved
            color = project(X[i:i + 1], space, bits)[0]
            if tuple(color.tolist()) not in taken:
                taken.add(tuple(color.tolist()))
                colors[j], centers[j] = color, encode(color[None], space)[0]
                moved = True
                break
    return moved
