"""Numba and the compress pipeline's kernels, loaded in a side thread before their first use.

A new process spends ~0.3 s importing Numba and 5-70 ms loading each kernel from the disk cache,
all of it holding the GIL. A thread started before the image is decoded (Pillow's decoders release
the GIL) imports Numba, then loads the kernels of an undithered RGB compress in the order the
pipeline calls them, each for the types its caller passes (``tests/test_preload.py`` checks that a
compress then loads nothing more), so the main thread finds each one ready when it gets there.
The kernels are only loaded (compiled, if the cache lacks them), never run: no two threads ever
launch parallel kernels together, which Numba's workqueue threading layer does not allow.
"""

from __future__ import annotations

import sys
import threading

_lock = threading.Lock()
_asked: set[int | None] = set()  # what threads were started for: None (Numba itself) and each K
_last: threading.Thread | None = None


def start(k: int | None = None) -> None:
    """Import Numba and load the colour-count kernel in a daemon thread, once a process and only
    if Numba is not loaded yet; with ``k``, also (after that) the kernels that fit, map and
    measure K colours, once per K. Errors are left for the pipeline to meet and report, with
    its one-line messages."""
    global _last
    with _lock:
        if not _asked and "numba" in sys.modules:
            return
        wanted = [need for need in dict.fromkeys((None, k)) if need not in _asked]
        if wanted:
            _asked.update(wanted)
            _last = threading.Thread(target=_load, args=(wanted, _last),
                                     name="quantize-preload", daemon=True)
            _last.start()


def _load(wanted: list[int | None], after: threading.Thread | None) -> None:
    if after is not None:
        after.join()  # one thread at a time, in the order the kernels are needed
    try:
        for need in wanted:
            for kernel, signature in _kernels(need):
                kernel.compile(signature)
    except Exception:  # noqa: BLE001  (reported where the pipeline calls the kernel)
        pass


def _kernels(k: int | None):
    """(kernel, argument types) in the order of an undithered compress: count the colours, seed and
    run Lloyd, search the nearest entries, gather them per pixel and per ΔE sample."""
    import numpy as np

    from .kernels.colorstats import distinct_rgb, gather_rows  # Numba's import, lean if asked

    from numba import from_dtype, types

    def array(dtype: type, ndim: int = 1) -> types.Array:
        return types.Array(from_dtype(np.dtype(dtype)), ndim, "C")

    pixels_index = (array(np.uint8, 2), array(np.uint64), array(np.int32))
    if k is None:
        yield distinct_rgb, pixels_index + (array(np.int32), array(np.float64))
        return
    from .kernels.kmeans import kmeans_plusplus, lloyd
    from .kernels.metrics import squared_error_sum
    from .kernels.nearest import nearest_labels
    from .indexcodec import MAX_K as MAX_CM_K
    from .mapping import index_dtype
    from .threads import start_parallel_layer

    points, weights, indices = array(np.float64, 2), array(np.float64), array(np.int64)
    yield kmeans_plusplus, (points, weights, points, points)
    start_parallel_layer()  # before lloyd loads (see there)
    count, real, flag = types.int64, types.float64, types.boolean
    yield lloyd, (points, weights, points, count, indices, count, count, real, flag, real, real, flag,
                  points, array(np.int32))
    yield nearest_labels, (points, points, indices, weights, weights, indices)
    labels = array(index_dtype(k))
    yield gather_rows, pixels_index + (labels, labels)
    yield gather_rows, pixels_index + (indices, indices)
    yield squared_error_sum, (array(np.uint8, 3), array(np.int64, 2), array(index_dtype(k), 2))
    if k <= MAX_CM_K:
        from .kernels.indexcodec import code_indices

        yield code_indices, (array(index_dtype(k), 2), array(np.uint8, 2), array(np.int32, 2),
                             array(np.int32, 2), array(np.uint8, 2), array(np.uint8), flag,
                             array(np.int16),
                             array(np.int16), array(np.int32))
