"""Palettes for designers: the Palette type, files for every tool they use, names, order, swatches.

Write with :func:`write_palette` / :func:`encode_palette` in any of :data:`FORMATS`; read with
:func:`read_palette` / :func:`decode_palette`; order with :func:`sort_palette`; name with
:func:`name_palette`; show with :func:`format_swatches`.
"""

from .io import FORMATS, SWATCH_NAMES, FormatInfo, check_capacity, decode_palette, encode_palette, \
    format_for_path, read_palette, resolve_format, write_palette
from .model import Palette
from .naming import name_palette
from .sorting import SORT_KEYS, sort_palette
from .terminal import format_swatches

__all__ = [
    "FORMATS", "FormatInfo", "Palette", "SORT_KEYS", "SWATCH_NAMES", "check_capacity", "decode_palette",
    "encode_palette", "format_for_path", "format_swatches", "name_palette", "read_palette", "resolve_format",
    "sort_palette", "write_palette",
]
