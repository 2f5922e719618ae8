"""The argument types the pipeline passes each kernel, in the order an undithered compress calls
them: the one list that preloading (:mod:`quantize.preload`) loads. ``tests/test_preload.py``
checks that a compress calls nothing else.

Types are written in Numba's syntax; ``labels`` stands for the palette-index type (uint8 up to 256
colours, else uint16).
"""

from __future__ import annotations

import importlib
from typing import Any, Iterator, NamedTuple


class Entry(NamedTuple):
    module: str  # below quantize.core.kernels
    name: str
    args: str
    # calls parallel kernels: Numba's threading layer must run before it loads
    # (quantize.core.threads.start_parallel_layer)
    calls_parallel: bool = False


PIXELS = "uint8[:, ::1], uint64[::1], int32[::1]"  # pixels, bitmap of the colours, their ranks
POINTS = "float64[:, ::1]"

COUNT = (Entry("colorstats", "distinct_rgb", f"{PIXELS}, int32[::1], float64[::1]"),)

FIT = (
    Entry("kmeans", "kmeans_plusplus", f"{POINTS}, float64[::1], {POINTS}, {POINTS}"),
    Entry("kmeans", "lloyd", f"{POINTS}, float64[::1], {POINTS}, int64, int64[::1], int64, int64, "
          f"float64, boolean, float64, float64, boolean, {POINTS}, int32[::1]", calls_parallel=True),
    Entry("nearest", "nearest_labels",
          f"{POINTS}, {POINTS}, int64[::1], float64[::1], float64[::1], int64[::1]"),
    Entry("colorstats", "gather_rows", f"{PIXELS}, labels[::1], labels[::1]"),
    Entry("colorstats", "gather_rows", f"{PIXELS}, int64[::1], int64[::1]"),
    Entry("metrics", "squared_error_sum", "uint8[:, :, ::1], int64[:, ::1], labels[:, ::1]"),
    Entry("indexcodec", "encode_model2", "labels[:, ::1], uint8[:, ::1], int32[:, ::1], int32[:, ::1], "
          "uint8[:, ::1], uint8[::1], int16[::1], int16[::1], int32[::1]"),
)


#: What a cm compress of K colours also codes with (container._smallest_of_cm): bilevel at K = 2,
#: the template coder (its probe at least) at K = 3 to 256.
BILEVEL = (Entry("templates", "encode_bits",
                 "uint8[:, ::1], uint8[::1], uint8[:, ::1], int16[::1], int16[::1], int32[::1]"),)
TEMPLATE = (Entry("templates", "encode_indices",
                  "uint8[:, ::1], int64, int64, uint8[::1], uint8[:, ::1], int16[::1], int16[::1], "
                  "int32[::1]"),)


def signatures(entries: tuple[Entry, ...], labels: str = "uint8") -> Iterator[tuple[Entry, Any, tuple]]:
    """Each entry with its kernel (imported) and its argument types as Numba's type objects."""
    from numba.core.sigutils import normalize_signature

    for entry in entries:
        kernel = getattr(importlib.import_module(f"{__package__}.{entry.module}"), entry.name)
        args, _ = normalize_signature(f"({entry.args.replace('labels', labels)},)")
        yield entry, kernel, args
