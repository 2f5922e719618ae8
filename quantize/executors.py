"""Where a batch's jobs run: in this process, in spawned worker processes, or on a Dask cluster.

Local workers are ``spawn``-ed (never forked after Numba's threads started), each with one Numba
thread, loading the kernels once and then taking job after job.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from concurrent import futures
from typing import TYPE_CHECKING, Any, Callable, Sequence

from .errors import ParameterError

if TYPE_CHECKING:
    from .batch import Settings
    from .discovery import Job

INTERRUPTED = "interrupted"  # what a local worker returns for a job stopped by Ctrl-C

_stop: Any = None  # in a local worker: the event the parent sets on Ctrl-C


def _init_worker(stop: Any) -> None:
    """Local worker start-up: one Numba thread, Ctrl-C only while a job runs."""
    global _stop
    os.environ["NUMBA_NUM_THREADS"] = "1"
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _stop = stop


def _interrupt_once(signum: int, frame: Any) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not break the clean-up
    raise KeyboardInterrupt


def _local_call(fn: Callable, job: Job, settings: Settings) -> Any:
    """Run ``fn(job, settings)`` in a worker; a Ctrl-C (or the stop event) gives ``INTERRUPTED``."""
    if _stop.is_set():
        return INTERRUPTED
    signal.signal(signal.SIGINT, _interrupt_once)
    try:
        return fn(job, settings)
    except KeyboardInterrupt:
        return INTERRUPTED
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


class _InProcess:
    """``--jobs 1``: the jobs in this process, one after another, on one Numba thread."""

    def run(self, fn: Callable, jobs: Sequence[Job], settings: Settings,
            done: Callable[[Job, Any], None]) -> None:
        import numba

        threads = numba.get_num_threads()
        numba.set_num_threads(1)
        try:
            for job in jobs:
                done(job, fn(job, settings))
        finally:
            numba.set_num_threads(threads)

    def close(self) -> None:
        pass


class _Processes:
    """``--jobs N``: N spawned worker processes."""

    def __init__(self, n: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self.stop = ctx.Event()
        self.pool = futures.ProcessPoolExecutor(n, mp_context=ctx, initializer=_init_worker,
                                                initargs=(self.stop,))

    def run(self, fn: Callable, jobs: Sequence[Job], settings: Settings,
            done: Callable[[Job, Any], None]) -> None:
        pending = {self.pool.submit(_local_call, fn, job, settings): job for job in jobs}
        try:
            for fut in futures.as_completed(pending):
                done(pending.pop(fut), fut.result())
        except KeyboardInterrupt:
            self.stop.set()
            for fut in pending:
                fut.cancel()
            for child in multiprocessing.active_children():
                os.kill(child.pid, signal.SIGINT)
            futures.wait(pending)
            for fut, job in pending.items():  # jobs that finished while we stopped are kept
                if not fut.cancelled() and fut.exception() is None and fut.result() != INTERRUPTED:
                    done(job, fut.result())
            raise

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


class _Dask:
    """``--scheduler ADDRESS``: the jobs as tasks on a Dask distributed cluster (shared storage)."""

    def __init__(self, address: str) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise ParameterError("--scheduler needs Dask: pip install 'quantize[dask]'") from None
        try:
            self.client = Client(address, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise ParameterError(f"cannot reach the Dask scheduler at {address}: {exc}") from None

    def run(self, fn: Callable, jobs: Sequence[Job], settings: Settings,
            done: Callable[[Job, Any], None]) -> None:
        from distributed import as_completed

        pending = {self.client.submit(fn, job, settings, pure=False): job for job in jobs}
        try:
            for fut in as_completed(list(pending)):
                done(pending.pop(fut), fut.result())
        except KeyboardInterrupt:
            self.client.cancel(list(pending))
            raise

    def close(self) -> None:
        self.client.close()


def make_executor(jobs: int, scheduler: str | None, n_jobs: int) -> Any:
    """The executor for ``--jobs``/``--scheduler``: Dask, N spawned workers, or this process."""
    if scheduler:
        return _Dask(scheduler)
    if jobs < 1:
        raise ParameterError(f"--jobs must be at least 1, got {jobs}")
    n = min(jobs, n_jobs)
    return _Processes(n) if n > 1 else _InProcess()


def default_jobs() -> int:
    """The number of cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
