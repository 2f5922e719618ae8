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

# Numba's first kernel load imports scipy.linalg (0.11 s here, a quarter of Numba's start-up) only
# to learn whether BLAS is there for np.dot and its kin, which no kernel of ours uses. Processes
# that run nothing but quantize (the CLI and its batch workers set this variable) skip that probe:
# Numba then takes BLAS as absent for the rest of the process, which changes only how it would
# compile np.correlate and np.convolve. A library user's process is left as it is.
SKIP_BLAS_PROBE = "QUANTIZE_SKIP_BLAS_PROBE"


def _skip_blas_probe() -> None:
    import sys

    if "numba.np.arraymath" in sys.modules:
        return
    try:
        from numba.np import linalg

        probe = linalg.ensure_blas
    except (ImportError, AttributeError):  # another Numba layout: it probes as it likes
        return

    def absent() -> None:
        raise ImportError("BLAS not probed")

    linalg.ensure_blas = absent
    try:
        import numba.np.arraymath  # noqa: F401  (runs the probe once, at import)
    finally:
        linalg.ensure_blas = probe  # np.dot and np.linalg still check for real when compiled


if os.environ.get(SKIP_BLAS_PROBE) == "1":
    _skip_blas_probe()
