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
# what threads were started for: None (Numba itself) and each (K, whether the cm coder runs)
_asked: set[tuple[int, bool] | None] = set()
_last: threading.Thread | None = None
_imported = threading.Event()  # set once the side thread has imported what it loads


def start(k: int | None = None, *, code: bool = True) -> None:
    """Import Numba and load the colour-count kernel in a daemon thread, once a process and only
    if Numba is not loaded yet; with ``k``, also (after that) the kernels that fit, map and
    measure K colours, and with ``code`` the ``cm`` coder, once per K. Errors are left for the
    pipeline to meet and report, with its one-line messages."""
    global _last
    with _lock:
        if not _asked and "numba" in sys.modules:
            return
        needs = (None,) if k is None else (None, (k, code))
        wanted = [need for need in needs if need not in _asked]
        if wanted:
            _asked.update(wanted)
            _last = threading.Thread(target=_load, args=(wanted, _last),
                                     name="quantize-preload", daemon=True)
            _last.start()


def wait_for_imports() -> None:
    """Return once this process's side thread, if it started one, has imported Numba and the
    kernels' modules: two threads importing Numba's circular modules at once can deadlock, which
    Python breaks by failing the import in one of them."""
    if _last is not None:
        _imported.wait()


def finish() -> None:
    """Wait until this process's side thread, if it started one, has loaded what it was asked
    for (a compress that succeeded calls it): a kernel it is still compiling when the process
    leaves never reaches the disk cache, so every later run would compile it again (the template
    coder's, which a photo never calls). Once the kernels are cached this costs nothing: they
    load before the compress needs them."""
    if _last is not None:
        _last.join()


def _load(wanted: list[int | None], after: threading.Thread | None) -> None:
    if after is not None:
        after.join()  # one thread at a time, in the order the kernels are needed
    kernels = []
    try:
        kernels = [pair for need in wanted for pair in _kernels(need)]  # every import, first
    except Exception:  # noqa: BLE001  (reported where the pipeline calls the kernel)
        pass
    finally:
        _imported.set()
    try:
        for kernel, signature in kernels:
            kernel.compile(signature)
    except Exception:  # noqa: BLE001  (as above)
        pass


def _kernels(need: tuple[int, bool] | None):
    """(kernel, argument types) in the order of an undithered compress (:mod:`quantize.core.kernels.registry`):
    the colour count alone, or for ``(k, code)`` what fits, maps and measures K colours, and codes
    them if ``code``."""
    import numpy as np

    from .core.kernels import registry  # Numba's import, lean if asked
    from .core.mapping import index_dtype
    from .core.threads import start_parallel_layer

    if need is None:
        entries, labels = registry.COUNT, "uint8"
    else:
        k, code = need
        entries = tuple(e for e in registry.FIT if code or e.module != "indexcodec")
        if code and k == 2:
            entries += registry.BILEVEL
        elif code and 3 <= k <= 256:
            entries += registry.TEMPLATE
        labels = np.dtype(index_dtype(k)).name
    for entry, kernel, args in registry.signatures(entries, labels):
        if entry.calls_parallel:
            start_parallel_layer()  # before it loads (see there)
        yield kernel, args
