"""Colour conversions, in one place: sRGB <-> linear RGB <-> CIE XYZ/Lab (D65) and OKLab/OKLCH.

All functions are vectorised over leading axes; the last axis holds the three components.
sRGB and linear RGB are floats in [0, 1].
"""

from __future__ import annotations

import numpy as np

# sRGB (D65) <-> XYZ, IEC 61966-2-1.
_RGB_TO_XYZ = np.array([
    [0.4124564, 0.3575761, 0.1804375],
    [0.2126729, 0.7151522, 0.0721750],
    [0.0193339, 0.1191920, 0.9503041],
])
_XYZ_TO_RGB = np.linalg.inv(_RGB_TO_XYZ)
_WHITE_D65 = np.array([0.95047, 1.0, 1.08883])

# OKLab (Björn Ottosson, 2020).
_LMS_FROM_LINEAR = np.array([
    [0.4122214708, 0.5363325363, 0.0514459929],
    [0.2119034982, 0.6806995451, 0.1073969566],
    [0.0883024619, 0.2817188376, 0.6299787005],
])
_OKLAB_FROM_LMS = np.array([
    [0.2104542553, 0.7936177850, -0.0040720468],
    [1.9779984951, -2.4285922050, 0.4505937099],
    [0.0259040371, 0.7827717662, -0.8086757660],
])
_LMS_FROM_OKLAB = np.linalg.inv(_OKLAB_FROM_LMS)
_LINEAR_FROM_LMS = np.linalg.inv(_LMS_FROM_LINEAR)


def srgb_to_linear(srgb: np.ndarray) -> np.ndarray:
    """Undo the sRGB transfer curve."""
    c = np.asarray(srgb, dtype=np.float64)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(linear: np.ndarray) -> np.ndarray:
    """Apply the sRGB transfer curve (input clipped to [0, 1])."""
    c = np.clip(np.asarray(linear, dtype=np.float64), 0.0, 1.0)
    return np.where(c <= 0.0031308, c * 12.92, 1.055 * c ** (1 / 2.4) - 0.055)


def linear_to_lab(linear: np.ndarray) -> np.ndarray:
    """Linear RGB -> CIE L*a*b* (D65 white)."""
    xyz = np.asarray(linear, dtype=np.float64) @ _RGB_TO_XYZ.T / _WHITE_D65
    eps, kappa = 216 / 24389, 24389 / 27
    f = np.where(xyz > eps, np.cbrt(xyz), (kappa * xyz + 16) / 116)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]),
                     200 * (f[..., 1] - f[..., 2])], axis=-1)


def lab_to_linear(lab: np.ndarray) -> np.ndarray:
    """CIE L*a*b* (D65 white) -> linear RGB (not clipped)."""
    lab = np.asarray(lab, dtype=np.float64)
    fy = (lab[..., 0] + 16) / 116
    f = np.stack([fy + lab[..., 1] / 500, fy, fy - lab[..., 2] / 200], axis=-1)
    eps, kappa = 216 / 24389, 24389 / 27
    xyz = np.where(f ** 3 > eps, f ** 3, (116 * f - 16) / kappa)
    return (xyz * _WHITE_D65) @ _XYZ_TO_RGB.T


def linear_to_oklab(linear: np.ndarray) -> np.ndarray:
    """Linear RGB -> OKLab."""
    lms = np.asarray(linear, dtype=np.float64) @ _LMS_FROM_LINEAR.T
    return np.cbrt(lms) @ _OKLAB_FROM_LMS.T


def oklab_to_linear(oklab: np.ndarray) -> np.ndarray:
    """OKLab -> linear RGB (not clipped)."""
    lms = (np.asarray(oklab, dtype=np.float64) @ _LMS_FROM_OKLAB.T) ** 3
    return lms @ _LINEAR_FROM_LMS.T


def srgb8_to_lab(rgb: np.ndarray) -> np.ndarray:
    """8-bit sRGB (any integer or float array in 0..255) -> CIE L*a*b*."""
    return linear_to_lab(srgb_to_linear(np.asarray(rgb, dtype=np.float64) / 255.0))


def srgb8_to_oklab(rgb: np.ndarray) -> np.ndarray:
    """8-bit sRGB (0..255) -> OKLab."""
    return linear_to_oklab(srgb_to_linear(np.asarray(rgb, dtype=np.float64) / 255.0))


def oklab_to_oklch(oklab: np.ndarray) -> np.ndarray:
    """OKLab -> OKLCH, hue in degrees [0, 360)."""
    lab = np.asarray(oklab, dtype=np.float64)
    chroma = np.hypot(lab[..., 1], lab[..., 2])
    hue = np.degrees(np.arctan2(lab[..., 2], lab[..., 1])) % 360.0
    return np.stack([lab[..., 0], chroma, hue], axis=-1)


def to_srgb8(srgb: np.ndarray) -> np.ndarray:
    """sRGB floats in [0, 1] -> uint8, rounded to nearest and clipped to the gamut."""
    return np.clip(np.rint(np.asarray(srgb, dtype=np.float64) * 255.0), 0, 255).astype(np.uint8)
