"""The colour profiles a Krita swatch names (its ``space`` attribute), as working spaces quantize
converts: Krita's bundled profiles by Elle Stone (``Rec2020-elle-V4-g10.icc``: primaries, then the
curve), its built-in Rec. 2020 PQ profile and the usual sRGB names."""

from __future__ import annotations

import re

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
