"""Numba kernels: plain arrays and scalars in, arrays out; no I/O, no options objects, no randomness.

Every kernel is compiled with ``cache=True``. Parallel kernels split work over points, and every
floating-point reduction runs in a fixed order (serially, or over fixed-size chunks combined in
order), so results do not depend on the number of threads.
"""

import os

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
# compiled still gets the full refresh, as Numba's compiler does its own. A library user's process
# is left as it is.
LEAN_START = "QUANTIZE_LEAN_START"


def _lean_cache_loads() -> None:
    try:
        from numba.core.caching import Cache
        from numba.core.runtime import rtsys

        load = Cache.load_overload
    except (ImportError, AttributeError):  # another Numba layout: it loads as it likes
        return

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
