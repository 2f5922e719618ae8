"""quantize: colour quantisation with a Numba k-means.

>>> import quantize
>>> result = quantize.compress_file("photo.jpg", "out/", options=quantize.CompressOptions())
>>> result.psnr, result.bits_per_pixel

Heavy modules load on first use, so ``import quantize`` stays cheap.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    "KMeans": "estimator",
    "compress_file": "pipeline", "quantize_image": "pipeline", "CompressOptions": "pipeline",
    "Result": "pipeline",
    "FitOptions": "fitting",
    "load_image": "images", "image_from_array": "images", "Image": "images",
    "decode": "container", "encode": "container", "load": "container", "PackedImage": "container",
    "QuantizeError": "errors", "InputError": "errors", "FormatError": "errors",
    "OutputError": "errors", "ParameterError": "errors",
}
__all__ = sorted(_EXPORTS) + ["__version__", "compress"]


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def compress(image, k: int = 256, **fit_options):
    """Quantise an image (a path or an array) to ``k`` colours in memory; return the Result.

    ``fit_options`` are those of :class:`FitOptions` (n_init, max_iter, tol, seed, sample).
    """
    from .fitting import FitOptions
    from .images import image_from_array, load_image
    from .pipeline import CompressOptions, quantize_image

    img = image_from_array(image) if hasattr(image, "__array__") else load_image(image)
    return quantize_image(img, CompressOptions(fit=FitOptions(k=k, **fit_options)))
