"""The colour profiles a Krita swatch names (its ``space`` attribute), as working spaces quantize
converts: Krita's bundled profiles by Elle Stone (``Rec2020-elle-V4-g10.icc``: primaries, then the
curve), its built-in Rec. 2020 PQ profile and the usual sRGB names; and the ICC profiles a palette
carries in its zip, which littleCMS (through Pillow's ImageCms) converts."""

from __future__ import annotations

import io
import re
from typing import Callable

import numpy as np
from PIL import Image, ImageCms

_ELLE = re.compile(r"(?P<space>\w+?)(?:-D50)?-elle-V[24]-(?P<curve>g10|g18|g22|srgbtrc|labl|rec709)\.icc",
                   re.IGNORECASE)
_ELLE_PRIMARIES = {"srgb": "sRGB", "rec2020": "Rec. 2020", "clayrgb": "Adobe RGB", "largergb": "ProPhoto RGB",
                   "acescg": "ACEScg", "gray": "sRGB"}
_ELLE_CURVES = {"g10": "linear", "g18": "gamma 1.8", "g22": "gamma 2.2", "srgbtrc": "sRGB", "labl": "L*",
                "rec709": "Rec. 709"}
_NAMED = {
    "sRGB built-in": ("sRGB", "sRGB"),
    "sRGB IEC61966-2.1": ("sRGB", "sRGB"),
    "scRGB (linear)": ("sRGB", "linear"),  # Krita 2's float RGB default
    "High Dynamic Range UHDTV Wide Color Gamut Display (Rec. 2020) - SMPTE ST 2084 PQ EOTF": ("Rec. 2020", "PQ"),
}


def working_space(profile: str | None, model: str, depth: str) -> tuple[tuple[str, str], bool]:
    """``((primaries, curve), known)`` of a swatch's ``profile`` name in colour ``model`` ("RGB" or
    "Gray") at bit ``depth`` (``U8``, ``U16``, ``F16``, ``F32``). Without a name, or with one quantize
    does not know (``known`` False), it is Krita's default profile for that model and depth: sRGB
    for RGB in integers, linear for float RGB and for greys deeper than 8 bits."""
    if profile:
        if profile in _NAMED:
            return _NAMED[profile], True
        m = _ELLE.fullmatch(profile)
        if m and m["space"].lower() in _ELLE_PRIMARIES and (model == "Gray") == (m["space"].lower() == "gray"):
            return (_ELLE_PRIMARIES[m["space"].lower()], _ELLE_CURVES[m["curve"].lower()]), True
    linear = depth.upper() in ("F16", "F32") if model == "RGB" else depth.upper() != "U8"
    return ("sRGB", "linear" if linear else "sRGB"), not profile


# Pillow's 8-bit mode for each colour model a Krita swatch may give in an embedded profile
_MODES = {"RGB": "RGB", "Gray": "L", "CMYK": "CMYK"}


class EmbeddedProfiles:
    """The ICC profiles a Krita palette carries: ``files`` maps each profile's name (what a swatch's
    ``space`` gives) to its member in the zip, which ``read`` returns (None when it cannot). A
    profile is read when a swatch first names it."""

    def __init__(self, files: dict[str, str], read: Callable[[str], bytes | None]) -> None:
        self._files = files
        self._read = read
        self._transforms: dict[tuple[str, str], ImageCms.ImageCmsTransform | None] = {}

    def to_srgb8(self, profile: str | None, model: str, values: list[float]) -> tuple[int, int, int] | None:
        """8-bit sRGB of an RGB, Gray or CMYK (``model``) swatch's channel ``values`` (0..1, CMYK as ink;
        clipped to it
        and rounded to 8 bits, as littleCMS takes them through Pillow) in the embedded ``profile``,
        converted relative colorimetric; None when the palette carries no such profile or it is
        unreadable or not of that model."""
        if profile not in self._files:
            return None
        key = (profile, model)
        if key not in self._transforms:
            self._transforms[key] = self._transform(self._read(self._files[profile]), model)
        transform = self._transforms[key]
        if transform is None:
            return None
        pixel = tuple(int(round(255 * min(max(v, 0.0), 1.0))) for v in values)
        out = transform.apply(Image.new(_MODES[model], (1, 1), pixel[0] if model == "Gray" else pixel))
        return tuple(int(c) for c in np.asarray(out)[0, 0])

    @staticmethod
    def _transform(icc: bytes | None, model: str) -> ImageCms.ImageCmsTransform | None:
        if not icc:
            return None
        try:
            return ImageCms.buildTransform(
                ImageCms.ImageCmsProfile(io.BytesIO(icc)), ImageCms.createProfile("sRGB"),
                _MODES[model], "RGB", ImageCms.Intent.RELATIVE_COLORIMETRIC)
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):  # a damaged or foreign profile
            return None
