"""When to run a parallel kernel on one thread.

A parallel region costs a barrier per call; on a busy machine that is a time slice (milliseconds),
which dwarfs the work of a small problem. Results do not depend on the thread count (every kernel
reduces in a fixed order), so small problems simply run on one thread.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

PARALLEL_MIN_WORK = 1 << 21  # e.g. points x centres of one Lloyd iteration


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run the block on one Numba thread (e.g. beside other worker processes)."""
    import numba

    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        yield
    finally:
        numba.set_num_threads(threads)


@contextlib.contextmanager
def serial_below(work: int, threshold: int = PARALLEL_MIN_WORK) -> Iterator[None]:
    """Run the block on one Numba thread when ``work`` is below ``threshold``."""
    if work >= threshold:
        yield
        return
    with one_thread():
        yield
