"""Numba kernels: plain arrays and scalars in, arrays out; no I/O, no options objects, no randomness.

Every kernel is compiled with ``cache=True``. Parallel kernels split work over points, and every
floating-point reduction runs in a fixed order (serially, or over fixed-size chunks combined in
order), so results do not depend on the number of threads.
"""

import importlib.abc
import os
import sys

# OpenMP threads that wait for work sleep rather than spin. Spinning between parallel regions
# steals the core that another batch worker is computing on (measured: 24 Kodak images with two
# processes ran 27 % slower per image); one process alone runs at the same speed either way.
# Set before Numba loads its OpenMP layer (at the first parallel kernel); a user's value stands.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

# Before it loads a kernel from the disk cache, Numba "refreshes" its compiler: it imports and
# registers every implementation it could compile with (0.17 s of a whole compress here, an import
# of scipy.linalg to probe for BLAS among them). A cached kernel needs none of them, only Numba's
# runtime for the arrays it allocates. Processes that run nothing but quantize (the CLI and its
# batch workers set this variable) load cached kernels with just that; a kernel that has to be
# compiled still gets the full refresh, as Numba's compiler does its own. Such a process also
# imports Numba without SciPy and PyYAML (see _NotForNumba). A library user's process is left as
# it is.
LEAN_START = "QUANTIZE_LEAN_START"


class _NotForNumba(importlib.abc.MetaPathFinder):
    """While a lean process imports Numba: Numba's own imports of two packages it does not need
    there fail as if they were not installed (Numba goes on without them); anyone else's import
    them as usual. SciPy (15 ms) is imported only to check its version; PyYAML (20 ms) only to read
    a ``.numba_config.yaml`` in the working folder, so it stays when there is one."""

    def __init__(self) -> None:
        self.names = {"scipy"} if os.path.isfile(".numba_config.yaml") else {"scipy", "yaml"}

    def find_spec(self, name, path=None, target=None):
        if name in self.names and _importer().startswith("numba"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


def _importer() -> str:
    """The module whose import statement is being run (past importlib's frames and this one's)."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").startswith(
            ("importlib", "_frozen_importlib", __name__)):
        frame = frame.f_back
    return "" if frame is None else frame.f_globals.get("__name__", "")


def _lean_cache_loads() -> None:
    finder = _NotForNumba()
    sys.meta_path.insert(0, finder)
    try:
        from numba.core.caching import Cache
        from numba.core.runtime import rtsys

        load = Cache.load_overload
    except (ImportError, AttributeError):  # another Numba layout: it loads as it likes
        return
    finally:
        sys.meta_path.remove(finder)

    def load_overload(self, sig, target_context, *args, **kwargs):
        # Numba compiles under one lock, so no other thread sees this stand-in
        target_context.refresh = lambda: rtsys.initialize(target_context)
        try:
            return load(self, sig, target_context, *args, **kwargs)
        finally:
            del target_context.refresh

    Cache.load_overload = load_overload


if os.environ.get(LEAN_START) == "1":
    _lean_cache_loads()
