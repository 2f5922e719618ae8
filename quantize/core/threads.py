"""When to run a parallel kernel on one thread.

A parallel region costs a barrier per call; on a busy machine that is a time slice (milliseconds),
which dwarfs the work of a small problem. Results do not depend on the thread count (every kernel
reduces in a fixed order), so small problems simply run on one thread.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Iterator

PARALLEL_MIN_WORK = 1 << 21  # e.g. points x centres of one Lloyd iteration
_LAUNCHES = threading.RLock()  # held by the thread running a block of launches, on workqueue only


def start_parallel_layer() -> None:
    """Start Numba's threading layer, as loading a cached parallel kernel does first.

    Call it before loading a kernel that calls parallel ones (``kernels.kmeans.lloyd``). When such
    a kernel is compiled while its parallel callees come from the disk cache (e.g. another process
    compiled them a moment before), its own cache entry forgets to start the layer, and a process
    that loads it from there crashes in its first parallel loop (Numba issues #4807, #8578)."""
    import numba

    numba.get_num_threads()  # starts the layer, once a process


@contextlib.contextmanager
def launches_one_thread_at_a_time() -> Iterator[None]:
    """Run the block's parallel kernels while no other thread runs its own, when Numba's threading
    layer is ``workqueue`` (its fallback where neither OpenMP nor TBB is found), which stops the
    process when two threads launch at once; under the other layers threads run side by side."""
    import numba

    start_parallel_layer()  # the layer is known once started
    if numba.threading_layer() != "workqueue":
        yield
        return
    with _LAUNCHES:
        yield


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
