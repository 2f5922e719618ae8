"""quantize: colour quantisation with a Numba k-means.

>>> import quantize
>>> result = quantize.compress_file("photo.jpg", "out/", options=quantize.CompressOptions())
>>> result.psnr, result.bits_per_pixel

Heavy modules load on first use, so ``import quantize`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # what __getattr__ loads, for type checkers and IDEs (tests/test_library.py)
    from .animation.qntanim import load_animation as load_animation
    from .animation.run import (AnimationOptions as AnimationOptions,
                                AnimationResult as AnimationResult, animate as animate,
                                animate_file as animate_file)
    from .animation.source import frames_clip as frames_clip
    from .core.estimator import KMeans as KMeans
    from .core.fitting import FitOptions as FitOptions
    from .errors import (FormatError as FormatError, InputError as InputError,
                         OutputError as OutputError, ParameterError as ParameterError,
                         QuantizeError as QuantizeError)
    from .io.container import (PackedImage as PackedImage, decode as decode, encode as encode,
                               load as load)
    from .io.images import (Image as Image, image_from_array as image_from_array,
                            image_from_pillow as image_from_pillow, load_image as load_image)
    from .io.outputs import FileOptions as FileOptions
    from .jobs.pipeline import (CompressOptions as CompressOptions, Result as Result,
                                compress as compress, compress_file as compress_file,
                                quantize_image as quantize_image)

__version__ = "0.1.0"

_EXPORTS = {
    "KMeans": "core.estimator",
    "compress": "jobs.pipeline", "compress_file": "jobs.pipeline",
    "quantize_image": "jobs.pipeline", "CompressOptions": "jobs.pipeline",
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
__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    """The module's names with the exports that load on first use, for ``dir``, ``help`` and
    tab completion."""
    return sorted(set(globals()) | set(__all__))

