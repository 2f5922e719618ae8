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
