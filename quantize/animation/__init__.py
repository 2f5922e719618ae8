"""Animations: reading a clip as a stream of frames, quantising it with palettes that stay put
and indices that do not flicker, and writing animated GIF, APNG, lossless WebP and ``.qnt``.

The stages, one module each: :mod:`.source` (frames in) → :mod:`.palettes` (the clip's colour
statistics and palettes) → :mod:`.temporal` (stable mapping, duplicate frames merged) →
:mod:`.gif`, :mod:`.apng`, :mod:`.webp`, :mod:`.qntanim` (frames out) with :mod:`.measure`
(PSNR, CIEDE2000, flicker); :mod:`.run` runs them, two passes over the stream.
"""

from .choices import DITHERS, FORMATS, PALETTE_MODES

__all__ = ["DITHERS", "FORMATS", "PALETTE_MODES"]
