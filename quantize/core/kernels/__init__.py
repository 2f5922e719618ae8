"""Numba kernels: plain arrays and scalars in, arrays out; no I/O, no options objects, no randomness.

Every kernel is compiled with ``cache=True``. Parallel kernels split work over points, and every
floating-point reduction runs in a fixed order (serially, or over fixed-size chunks combined in
order), so results do not depend on the number of threads.
"""

from ...runtime import prepare_kernels

prepare_kernels()  # lean cache loads, only in a process that switched them on (quantize.runtime)

# Numba is imported whole here, before any kernel: a thread that imports a Numba module by its
# dotted name (numba.core.sigutils) while another is inside `import numba` can deadlock on Numba's
# circular imports, which Python breaks by failing one import and leaving Numba half loaded.
import numba  # noqa: E402, F401
