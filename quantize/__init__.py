"""quantize: colour quantisation with a Numba k-means.

>>> import quantize
>>> result = quantize.compress_file("photo.jpg", "out/", options=quantize.CompressOptions())
>>> result.psnr, result.bits_per_pixel

Heavy modules load on first use, so ``import quantize`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .jobs.pipeline import Result

__version__ = "0.1.0"

_EXPORTS = {
    "KMeans": "core.estimator",
    "compress_file": "jobs.pipeline", "quantize_image": "jobs.pipeline", "CompressOptions": "jobs.pipeline",
    "Result": "jobs.pipeline",
    "FitOptions": "core.fitting", "FileOptions": "io.outputs",
    "load_image": "io.images", "image_from_array": "io.images", "image_from_pillow": "io.images",
    "Image": "io.images",
    "decode": "io.container", "encode": "io.container", "load": "io.container", "PackedImage": "io.container",
    "animate": "animation.run", "animate_file": "animation.run",
    "AnimationOptions": "animation.run", "AnimationResult": "animation.run",
    "load_animation": "animation.qntanim", "frames_clip": "animation.source",
    "QuantizeError": "errors", "InputError": "errors", "FormatError": "errors",
    "OutputError": "errors", "ParameterError": "errors",
}
__all__ = sorted(_EXPORTS) + ["__version__", "compress"]


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    """The module's names with the exports that load on first use, for ``dir``, ``help`` and
    tab completion."""
    return sorted(set(globals()) | set(__all__))


class _DefaultLimit:
    """compress()'s max_pixels when not given: load_image's own limit (its module loads Pillow)."""

    def __repr__(self) -> str:
        return "load_image's limit"


_DEFAULT_LIMIT = _DefaultLimit()


def compress(image: Any, k: int = 256, *, max_pixels: int | None | _DefaultLimit = _DEFAULT_LIMIT,
             **fit_options: Any) -> Result:
    """Quantise an image to ``k`` colours in memory; return the Result.

    ``image`` is a file path, a Pillow image or an array or nested list (HxW or HxWx1/2/3/4;
    uint8, uint16 or floats in [0, 1]). ``fit_options`` are those of :class:`FitOptions` (n_init, max_iter, tol,
    seed, sample, space). A path's image is refused past ``max_pixels`` (None: no limit).
    """
    from dataclasses import fields

    from .core.fitting import FitOptions
    from .errors import ParameterError
    from .io.images import DEFAULT_MAX_PIXELS, as_image
    from .jobs.pipeline import CompressOptions, quantize_image

    unknown = sorted(set(fit_options) - {f.name for f in fields(FitOptions)})
    if unknown:
        raise ParameterError(f"compress takes k, max_pixels and FitOptions' fields, not "
                             f"{', '.join(unknown)}", parameters=tuple(unknown))
    options = CompressOptions(fit=FitOptions(k=k, **fit_options)).validated()  # before any read
    limit = DEFAULT_MAX_PIXELS if max_pixels is _DEFAULT_LIMIT else max_pixels
    return quantize_image(as_image(image, max_pixels=limit), options)
