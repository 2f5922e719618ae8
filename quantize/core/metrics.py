"""Quality and size measures of a quantised image: MSE, PSNR, CIEDE2000, bits per pixel, ratios.

``pixels`` is the (H, W, C) uint8 original, ``palette`` the (K, C) uint8 colours, ``indices`` the
(H, W) integer palette index of every pixel, so the quantised image is ``palette[indices]``.
Nothing here makes a full-size float copy of the image.
"""

from __future__ import annotations

import math

import numpy as np

from .colorspace import srgb8_to_lab
from .colorstats import color_stats


def mse(pixels: np.ndarray, palette: np.ndarray, indices: np.ndarray) -> float:
    """Squared error summed over the C channels, mean over pixels; exact (integer accumulation)."""
    from .kernels.metrics import squared_error_sum

    height, width, channels = _check(pixels, palette, indices)
    total = squared_error_sum(pixels, np.asarray(palette, dtype=np.int64), indices)
    return int(total) / (height * width)


def psnr(mse: float, channels: int = 3) -> float:
    """PSNR in dB from :func:`mse` (summed over ``channels``): 10 log10(255² channels / mse); inf if 0."""
    if mse == 0:
        return math.inf
    return 10.0 * math.log10(255.0 ** 2 * channels / mse)


def ciede2000(lab1: np.ndarray, lab2: np.ndarray) -> np.ndarray:
    """CIEDE2000 colour difference (kL = kC = kH = 1) between broadcastable (..., 3) CIE Lab arrays.

    Follows Sharma, Wu and Dalal, "The CIEDE2000 color-difference formula: implementation notes,
    supplementary test data, and mathematical observations", Color Res. Appl. 30 (2005).
    """
    # Contiguous component planes: every elementwise operation below runs faster on them.
    l1, a1, b1 = np.moveaxis(np.asarray(lab1, dtype=np.float64), -1, 0).copy()
    l2, a2, b2 = np.moveaxis(np.asarray(lab2, dtype=np.float64), -1, 0).copy()

    g = 0.5 * (1 - _chroma_weight((np.sqrt(a1 * a1 + b1 * b1) + np.sqrt(a2 * a2 + b2 * b2)) / 2))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = np.sqrt(a1p * a1p + b1 * b1), np.sqrt(a2p * a2p + b2 * b2)
    h1p, h2p = _hue_degrees(b1, a1p), _hue_degrees(b2, a2p)

    chroma_zero = c1p * c2p == 0
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    d_h = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh) / 2)  # 0 where a chroma is 0
    d_l = l2 - l1
    d_c = c2p - c1p

    l_mean = (l1 + l2) / 2
    c_mean = (c1p + c2p) / 2
    h_sum = h1p + h2p
    h_mean = np.where(np.abs(h1p - h2p) <= 180, h_sum / 2,
                      np.where(h_sum < 360, (h_sum + 360) / 2, (h_sum - 360) / 2))
    h_mean = np.where(chroma_zero, h_sum, h_mean)

    # T = 1 - 0.17 cos(h - 30°) + 0.24 cos 2h + 0.32 cos(3h + 6°) - 0.20 cos(4h - 63°), with the
    # multiple angles from cos h and sin h (two trigonometric calls instead of four).
    rad = np.radians(h_mean)
    c1, s1 = np.cos(rad), np.sin(rad)
    c2, s2 = 2 * c1 * c1 - 1, 2 * s1 * c1
    c3, s3 = c1 * (2 * c2 - 1), s1 * (2 * c2 + 1)
    c4, s4 = 2 * c2 * c2 - 1, 2 * s2 * c2
    t = (1 - 0.17 * (c1 * _COS[30] + s1 * _SIN[30]) + 0.24 * c2
         + 0.32 * (c3 * _COS[6] - s3 * _SIN[6]) - 0.20 * (c4 * _COS[63] + s4 * _SIN[63]))
    d_theta = 30 * np.exp(-(((h_mean - 275) / 25) ** 2))
    r_t = -np.sin(np.radians(2 * d_theta)) * 2 * _chroma_weight(c_mean)
    l50 = (l_mean - 50) ** 2
    dl = d_l / (1 + 0.015 * l50 / np.sqrt(20 + l50))
    dc = d_c / (1 + 0.045 * c_mean)
    dh_ = d_h / (1 + 0.015 * c_mean * t)
    return np.sqrt(dl * dl + dc * dc + dh_ * dh_ + r_t * dc * dh_)


_COS = {d: np.cos(np.radians(d)) for d in (6, 30, 63)}
_SIN = {d: np.sin(np.radians(d)) for d in (6, 30, 63)}


def _chroma_weight(c: np.ndarray) -> np.ndarray:
    """sqrt(C^7 / (C^7 + 25^7)), with the power as multiplications (``**`` is much slower)."""
    c2 = c * c
    c7 = c2 * c2 * c2 * c
    return np.sqrt(c7 / (c7 + 25.0 ** 7))


def _hue_degrees(b: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Hue angle atan2(b, a) in degrees, in [0, 360); 0 for a = b = 0, as the paper asks."""
    h = np.degrees(np.arctan2(b, a))
    return np.where(h < 0, h + 360, h)


def sample_positions(n: int, n_samples: int = 200_000, seed: int = 0) -> np.ndarray:
    """The fixed ΔE subsample of an image of ``n`` pixels: ``n_samples`` distinct flat positions
    drawn with ``seed``, ascending (all ``n`` when there are fewer)."""
    if n <= n_samples:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n, size=n_samples, replace=False, shuffle=False))


class DeltaEReference:
    """The part of :func:`mean_delta_e` that depends only on the original image, built once.

    Holds the ``n_samples`` pixel positions drawn with ``seed`` (all pixels when the image has
    fewer; ``positions``, if :func:`sample_positions` already drew them), the distinct colours among
    the sampled pixels (composited on white, in CIE Lab) and
    which distinct colour each sampled pixel has. Pass it as ``reference`` to measure several
    palettes of the same ``pixels`` (as a sweep does); the values are exactly those without it.
    """

    def __init__(self, pixels: np.ndarray, *, n_samples: int = 200_000, seed: int = 0,
                 positions: np.ndarray | None = None) -> None:
        height, width = pixels.shape[:2]
        n = height * width
        if positions is None:
            positions = sample_positions(n, n_samples, seed)
        elif len(positions) != min(n, n_samples):
            raise ValueError(f"{len(positions)} sample positions for {min(n, n_samples)} samples")
        self.shape = pixels.shape
        self.n_samples, self.seed = n_samples, seed
        self.positions = positions  # flat pixel indices (a 1-D take: 3x faster than rows and columns)
        sampled = pixels.reshape(n, -1)[positions]
        distinct = color_stats(sampled)  # (RGB: a bitmap of the colours, 2.5x faster than np.unique)
        self.inverse = distinct.gather(sampled, np.arange(distinct.n_colors, dtype=np.intp))
        self.first = np.empty(distinct.n_colors, np.intp)  # a sampled pixel of each distinct colour
        self.first[self.inverse] = np.arange(len(sampled))
        self.lab = srgb8_to_lab(_on_white(distinct.colors))  # (distinct colours, 3)

    def matches(self, pixels: np.ndarray, n_samples: int, seed: int) -> bool:
        """Whether this reference was built for an image of this shape with these settings."""
        return self.shape == pixels.shape and self.n_samples == n_samples and self.seed == seed

    def mean(self, palette: np.ndarray, indices: np.ndarray) -> float:
        """Mean CIEDE2000 of the sampled pixels against ``palette[indices]``."""
        sampled = indices.reshape(-1)[self.positions]
        lab_palette = srgb8_to_lab(_on_white(np.asarray(palette)))
        per_colour = sampled[self.first]
        if np.array_equal(per_colour[self.inverse], sampled):
            # Every pixel of one colour has one index (no dithering): score each distinct colour
            # once. CIEDE2000 is elementwise, so the per-pixel values and their mean are unchanged.
            distances = ciede2000(self.lab, lab_palette[per_colour])[self.inverse]
        else:
            distances = ciede2000(self.lab[self.inverse], lab_palette[sampled])
        return float(distances.mean())


def mean_delta_e(pixels: np.ndarray, palette: np.ndarray, indices: np.ndarray, *,
                 n_samples: int = 200_000, seed: int = 0,
                 reference: DeltaEReference | None = None) -> float:
    """Mean CIEDE2000 between original and quantised colours over a fixed random pixel subsample.

    The subsample is ``n_samples`` distinct pixel positions drawn with ``seed`` (all pixels when the
    image has fewer), so the value is reproducible. RGBA pixels are compared as they look composited
    on white, which counts both colour and opacity errors. ``reference`` (a
    :class:`DeltaEReference` of these ``pixels`` with the same ``n_samples`` and ``seed``) saves
    redoing the sample when several palettes of one image are measured.
    """
    _check(pixels, palette, indices)
    if reference is None:
        reference = DeltaEReference(pixels, n_samples=n_samples, seed=seed)
    elif not reference.matches(pixels, n_samples, seed):
        raise ValueError(f"the ΔE reference was built for {reference.shape} pixels, "
                         f"{reference.n_samples} samples, seed {reference.seed}")
    return reference.mean(palette, indices)


def delta_e_pairs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """CIEDE2000 between (n, C) uint8 colours ``a`` and ``b``, pair by pair (RGBA composited on
    white, as :func:`mean_delta_e` compares them)."""
    return ciede2000(srgb8_to_lab(_on_white(a)), srgb8_to_lab(_on_white(b)))


def _on_white(colours: np.ndarray) -> np.ndarray:
    """(..., 3|4) uint8 -> (..., 3) sRGB values in 0..255, RGBA composited over white."""
    if colours.shape[-1] == 3:
        return colours
    alpha = colours[..., 3:].astype(np.float64) / 255
    return colours[..., :3] * alpha + 255 * (1 - alpha)


def _check(pixels: np.ndarray, palette: np.ndarray, indices: np.ndarray) -> tuple[int, int, int]:
    if pixels.ndim != 3 or indices.shape != pixels.shape[:2] or palette.ndim != 2 \
            or palette.shape[1] != pixels.shape[2]:
        raise ValueError(f"shapes do not match: pixels {pixels.shape}, palette {palette.shape}, "
                         f"indices {indices.shape}")
    return pixels.shape  # type: ignore[return-value]
