"""Colour conversions, in one place: sRGB <-> linear RGB <-> CIE XYZ/Lab (D65) and OKLab/OKLCH; CIE
Lab under D50 (the ICC's, as design tools store it), Display P3 and the RGB working spaces paint
programs name (Rec. 2020, Adobe RGB, ProPhoto, ACEScg; linear, gamma, L* or PQ encoded) -> linear sRGB.

All functions are vectorised over leading axes; the last axis holds the three components.
sRGB and linear RGB are floats in [0, 1]. :func:`encode` and :func:`decode` take 8-bit colours to
the working spaces of the palette fit (``SPACES``) and back.
"""

from __future__ import annotations

import numpy as np

from ..choices import SPACES  # noqa: F401  (the fit's working spaces, named once for the CLI too)

# sRGB (D65) <-> XYZ, IEC 61966-2-1.
_RGB_TO_XYZ = np.array([
    [0.4124564, 0.3575761, 0.1804375],
    [0.2126729, 0.7151522, 0.0721750],
    [0.0193339, 0.1191920, 0.9503041],
])
_XYZ_TO_RGB = np.linalg.inv(_RGB_TO_XYZ)
_WHITE_D65 = np.array([0.95047, 1.0, 1.08883])
_WHITE_D50 = np.array([0.96422, 1.0, 0.82521])
# Bradford's cone response; a white point's cones scaled to another's adapt XYZ between them.
_BRADFORD = np.array([
    [0.8951, 0.2664, -0.1614],
    [-0.7502, 1.7135, 0.0367],
    [0.0389, -0.0685, 1.0296],
])
_WHITE_SRGB = _RGB_TO_XYZ.sum(axis=1)  # D65 as the sRGB matrix rounds it, so white maps to (1, 1, 1)


def _adapt_to_d65(white: np.ndarray) -> np.ndarray:
    """The Bradford matrix taking XYZ under ``white`` to XYZ under sRGB's D65."""
    return np.linalg.inv(_BRADFORD) @ np.diag((_BRADFORD @ _WHITE_SRGB) / (_BRADFORD @ white)) @ _BRADFORD


_D50_TO_D65 = _adapt_to_d65(_WHITE_D50)
_LINEAR_FROM_XYZ_D50 = _XYZ_TO_RGB @ _D50_TO_D65


def _rgb_to_xyz(primaries: np.ndarray, white: np.ndarray) -> np.ndarray:
    """The RGB -> XYZ matrix of three xy primaries whose sum is ``white`` (XYZ)."""
    xyz = np.column_stack([[x / y, 1.0, (1 - x - y) / y] for x, y in primaries])
    return xyz * np.linalg.solve(xyz, white)


def _white(x: float, y: float) -> np.ndarray:
    """XYZ (Y = 1) of the white point at chromaticity (x, y)."""
    return np.array([x / y, 1.0, (1 - x - y) / y])


def _linear_from(primaries: list[list[float]], white: np.ndarray) -> np.ndarray:
    """The matrix taking linear RGB of these xy primaries and white to linear sRGB, the white
    adapted to D65 (by Bradford) so that it stays white, as a relative colorimetric ICC conversion
    does."""
    return _XYZ_TO_RGB @ _adapt_to_d65(white) @ _rgb_to_xyz(np.array(primaries), white)


# Display P3: DCI-P3's primaries under sRGB's D65, and the sRGB curve.
_P3_TO_XYZ = _rgb_to_xyz(np.array([[0.680, 0.320], [0.265, 0.690], [0.150, 0.060]]), _WHITE_SRGB)
_LINEAR_FROM_P3 = _XYZ_TO_RGB @ _P3_TO_XYZ
# The RGB working spaces paint programs name, by their primaries and white (sRGB's own is the identity).
_LINEAR_FROM_PRIMARIES = {
    "sRGB": np.eye(3),
    "Rec. 2020": _linear_from([[0.708, 0.292], [0.170, 0.797], [0.131, 0.046]], _WHITE_SRGB),
    "Adobe RGB": _linear_from([[0.64, 0.33], [0.21, 0.71], [0.15, 0.06]], _WHITE_SRGB),
    "ProPhoto RGB": _linear_from([[0.7347, 0.2653], [0.1596, 0.8404], [0.0366, 0.0001]], _WHITE_D50),
    "ACEScg": _linear_from([[0.713, 0.293], [0.165, 0.830], [0.128, 0.044]], _white(0.32168, 0.33767)),
}
PRIMARIES = tuple(_LINEAR_FROM_PRIMARIES)
# How far outside [0, 1] a linear channel may be and still round into 8-bit sRGB (under half a step
# at either end of the curve).
_GAMUT_SLACK = 1e-4

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


def _mat3(x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """``x @ m.T`` over a last axis of three, without BLAS: a threaded BLAS call leaves its threads
    spinning for a while, and they slow the parallel kernel that runs next. Each row on its own, so
    a chunk converts exactly as it would in the whole."""
    x = np.asarray(x, dtype=np.float64)
    out = np.empty(x.shape)
    for r in range(3):
        out[..., r] = x[..., 0] * m[r, 0] + x[..., 1] * m[r, 1] + x[..., 2] * m[r, 2]
    return out


def srgb_to_linear(srgb: np.ndarray) -> np.ndarray:
    """Undo the sRGB transfer curve."""
    c = np.asarray(srgb, dtype=np.float64)
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(linear: np.ndarray) -> np.ndarray:
    """Apply the sRGB transfer curve (input clipped to [0, 1])."""
    c = np.clip(np.asarray(linear, dtype=np.float64), 0.0, 1.0)
    return np.where(c <= 0.0031308, c * 12.92, 1.055 * c ** (1 / 2.4) - 0.055)


def linear_to_lab(linear: np.ndarray) -> np.ndarray:
    """Linear RGB -> CIE L*a*b* (D65 white). Computed a component at a time (the values of
    ``_mat3``), with no stacked temporaries: a quarter faster on 200k colours."""
    rgb = np.moveaxis(np.asarray(linear, dtype=np.float64), -1, 0)
    eps, kappa = 216 / 24389, 24389 / 27
    f = np.empty(rgb.shape)
    for r in range(3):
        xyz = (rgb[0] * _RGB_TO_XYZ[r, 0] + rgb[1] * _RGB_TO_XYZ[r, 1]
               + rgb[2] * _RGB_TO_XYZ[r, 2]) / _WHITE_D65[r]
        f[r] = np.where(xyz > eps, np.cbrt(xyz), (kappa * xyz + 16) / 116)
    lab = np.empty(rgb.shape[1:] + (3,))
    lab[..., 0] = 116 * f[1] - 16
    lab[..., 1] = 500 * (f[0] - f[1])
    lab[..., 2] = 200 * (f[1] - f[2])
    return lab


def lab_to_linear(lab: np.ndarray) -> np.ndarray:
    """CIE L*a*b* (D65 white) -> linear RGB (not clipped)."""
    return _mat3(_lab_to_xyz(lab, _WHITE_D65), _XYZ_TO_RGB)


def _lab_to_xyz(lab: np.ndarray, white: np.ndarray) -> np.ndarray:
    """CIE L*a*b* -> XYZ relative to ``white``."""
    lab = np.asarray(lab, dtype=np.float64)
    fy = (lab[..., 0] + 16) / 116
    f = np.stack([fy + lab[..., 1] / 500, fy, fy - lab[..., 2] / 200], axis=-1)
    eps, kappa = 216 / 24389, 24389 / 27
    return np.where(f ** 3 > eps, f ** 3, (116 * f - 16) / kappa) * white


def xyz_d50_to_linear(xyz: np.ndarray) -> np.ndarray:
    """CIE XYZ under D50 (the ICC's connection space, white Y = 1: Krita's XYZ) -> linear sRGB (not
    clipped), D50 adapted to sRGB's D65 by Bradford."""
    return _mat3(xyz, _LINEAR_FROM_XYZ_D50)


def lab_d50_to_linear(lab: np.ndarray) -> np.ndarray:
    """CIE L*a*b* under D50 (the ICC's connection space: Photoshop's, Krita's Lab) -> linear sRGB
    (not clipped), D50 adapted to sRGB's D65 by Bradford."""
    return xyz_d50_to_linear(_lab_to_xyz(lab, _WHITE_D50))


def display_p3_to_linear(p3: np.ndarray) -> np.ndarray:
    """Display P3 in [0, 1] (encoded with the sRGB curve, as Apple's devices store it) -> linear
    sRGB (not clipped: P3's saturated colours fall outside sRGB)."""
    return _mat3(srgb_to_linear(p3), _LINEAR_FROM_P3)


def _power(encoded: np.ndarray, gamma: float) -> np.ndarray:
    return np.sign(encoded) * np.abs(encoded) ** gamma


def _rec709_to_linear(v: np.ndarray) -> np.ndarray:
    return np.where(v < 0.081, v / 4.5, ((np.maximum(v, 0.081) + 0.099) / 1.099) ** (1 / 0.45))


def _lstar_to_linear(v: np.ndarray) -> np.ndarray:
    """CIE lightness L* = 100 v -> relative luminance."""
    f = (100 * v + 16) / 116
    return np.where(f ** 3 > 216 / 24389, f ** 3, 100 * v * 27 / 24389)


def _pq_to_linear(v: np.ndarray) -> np.ndarray:
    """SMPTE ST 2084 (PQ), scaled as Krita scales it: 1.0 is sRGB's 80 cd/m² white, 10,000 cd/m²
    is 125."""
    m1, m2 = 2610 / 16384, 2523 / 4096 * 128
    c1, c2, c3 = 3424 / 4096, 2413 / 4096 * 32, 2392 / 4096 * 32
    p = np.clip(v, 0.0, 1.0) ** (1 / m2)
    return 125.0 * (np.maximum(p - c1, 0.0) / (c2 - c3 * p)) ** (1 / m1)


# The transfer curves of the working spaces paint programs name: encoded value -> linear light.
_CURVES = {
    "linear": lambda v: v,
    "sRGB": srgb_to_linear,
    "gamma 1.8": lambda v: _power(v, 1.8),
    "gamma 2.2": lambda v: _power(v, 2.2),
    "Rec. 709": _rec709_to_linear,
    "L*": _lstar_to_linear,
    "PQ": _pq_to_linear,
}
CURVES = tuple(_CURVES)


def rgb_to_linear(encoded: np.ndarray, primaries: str, curve: str) -> np.ndarray:
    """RGB of a working space (:data:`PRIMARIES`, encoded with a :data:`CURVES` curve) -> linear
    sRGB (not clipped: a wider space's saturated colours fall outside sRGB)."""
    linear = _CURVES[curve](np.asarray(encoded, dtype=np.float64))
    return _mat3(linear, _LINEAR_FROM_PRIMARIES[primaries])


def grey_to_linear(encoded: float, curve: str) -> np.ndarray:
    """A grey encoded with a :data:`CURVES` curve -> linear sRGB (a neutral is the same in every
    working space)."""
    return np.full(3, float(_CURVES[curve](np.array(encoded, dtype=np.float64))))


def outside_srgb(linear: np.ndarray) -> np.ndarray:
    """True where a linear sRGB colour (the last axis) lies outside the gamut by more than 8-bit
    rounding hides, so that clipping it changes the colour."""
    linear = np.asarray(linear, dtype=np.float64)
    return ((linear < -_GAMUT_SLACK) | (linear > 1 + _GAMUT_SLACK)).any(axis=-1)


def linear_to_oklab(linear: np.ndarray) -> np.ndarray:
    """Linear RGB -> OKLab."""
    return _mat3(np.cbrt(_mat3(linear, _LMS_FROM_LINEAR)), _OKLAB_FROM_LMS)


def oklab_to_linear(oklab: np.ndarray) -> np.ndarray:
    """OKLab -> linear RGB (not clipped)."""
    return _mat3(_mat3(oklab, _LMS_FROM_OKLAB) ** 3, _LINEAR_FROM_LMS)


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


# ------------------------------------------------------------------ working spaces of the palette fit

# rgb+lab: sRGB (0..255) beside CIELAB times this weight, so squared distances add RGB error and
# (weighted) ΔE76²; the mix trades a little PSNR for much lower CIEDE2000 (docs/QUALITY.md).
LAB_WEIGHT = 1.0
_LINEAR_LUT = srgb_to_linear(np.arange(256) / 255.0)  # 8-bit sRGB -> linear, per channel
# Scales that put every space's coordinates in roughly 0..100-255 (rgb stays 0..255 exactly).
_LINEAR_SCALE = 255.0
_OKLAB_SCALE = 100.0


def _srgb255_to_space(rgb: np.ndarray, space: str) -> np.ndarray:
    """(n, 3) sRGB in 0..255 (uint8: exact table look-up; floats: the transfer curve) -> ``space``."""
    if space == "rgb":
        return rgb.astype(np.float64)
    linear = _LINEAR_LUT[rgb] if rgb.dtype == np.uint8 else srgb_to_linear(rgb / 255.0)
    if space == "linear":
        return linear * _LINEAR_SCALE
    if space == "oklab":
        return linear_to_oklab(linear) * _OKLAB_SCALE
    if space == "lab":
        return linear_to_lab(linear)
    if space == "rgb+lab":
        return np.hstack([rgb.astype(np.float64), LAB_WEIGHT * linear_to_lab(linear)])
    raise ValueError(f"unknown colour space {space!r} (choose from {', '.join(SPACES)})")


def _space_to_srgb255(points: np.ndarray, space: str) -> np.ndarray:
    """(n, 3) ``space`` coordinates -> sRGB floats in 0..255, clipped to the gamut."""
    if space in ("rgb", "rgb+lab"):
        return np.clip(points[:, :3], 0.0, 255.0)  # rgb+lab: a centre's RGB is its cluster's mean
    if space == "linear":
        linear = points / _LINEAR_SCALE
    elif space == "oklab":
        linear = oklab_to_linear(points / _OKLAB_SCALE)
    elif space == "lab":
        linear = lab_to_linear(points)
    else:
        raise ValueError(f"unknown colour space {space!r} (choose from {', '.join(SPACES)})")
    return linear_to_srgb(linear) * 255.0


def dims(space: str) -> int:
    """Coordinates of one opaque colour in ``space``."""
    return 6 if space == "rgb+lab" else 3


def encode(colors: np.ndarray, space: str) -> np.ndarray:
    """8-bit sRGB(A) colours (n, 3|4) -> float64 points in ``space``: (n, d), or (n, 2d) with alpha
    (d = :func:`dims`).

    A colour with alpha is the pair (composited over black, composited over white), each in
    ``space``: squared distances then judge a colour over both backgrounds, and every fully
    transparent colour is one point whatever its RGB. Opaque pixels of RGBA images are points
    whose halves are equal.
    """
    colors = np.asarray(colors)
    if colors.shape[-1] == 3:
        return _srgb255_to_space(colors.reshape(-1, 3), space)
    alpha = colors[:, 3:].astype(np.float64) / 255.0
    over_black = colors[:, :3] * alpha
    over_white = over_black + 255.0 * (1.0 - alpha)
    return np.hstack([_srgb255_to_space(over_black, space), _srgb255_to_space(over_white, space)])


def decode(points: np.ndarray, space: str) -> np.ndarray:
    """Points of ``space`` (n, d|2d) -> sRGB(A) floats in 0..255 (n, 3|4), clipped to the gamut.

    For (n, 2d) points (see :func:`encode`), alpha is 255 minus the mean gap between the white and
    the black composite, and the colour is the black composite un-premultiplied."""
    points = np.asarray(points, dtype=np.float64)
    d = dims(space)
    if points.shape[-1] == d:
        return _space_to_srgb255(points, space)
    black = _space_to_srgb255(points[:, :d], space)
    white = _space_to_srgb255(points[:, d:], space)
    alpha = np.clip(255.0 - (white - black).mean(axis=1), 0.0, 255.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        rgb = np.where(alpha[:, None] > 0, black * 255.0 / alpha[:, None], 0.0)
    return np.column_stack([np.clip(rgb, 0.0, 255.0), alpha])
