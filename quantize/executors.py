"""Where a batch's jobs run: in this process, in this process and worker processes, or on a Dask
cluster.

Local workers are forked while this process runs no other thread (on Linux, before Numba's threads
start), else spawned; each has one Numba thread, loads the kernels once and then takes job after
job.
"""

from __future__ import annotations

import collections
import multiprocessing
import os
import signal
from concurrent import futures
from typing import TYPE_CHECKING, Any, Callable, Protocol, Sequence

from . import runtime
from .errors import ParameterError
from .threads import one_thread

if TYPE_CHECKING:
    from .discovery import Job

# What a job runs: fn(job, settings) -> its outcome, in whichever process takes the job. The
# settings are the caller's (pickled for workers), the same for every job.
JobFn = Callable[["Job", Any], Any]
Done = Callable[["Job", Any], None]

INTERRUPTED = "interrupted"  # what a local worker returns for a job stopped by Ctrl-C

_stop: Any = None  # in a local worker: the event the parent sets on Ctrl-C


class Executor(Protocol):
    """Runs ``fn(job, settings)`` for every job and hands each outcome to ``done(job, outcome)`` in
    this process, as jobs finish. ``last=False`` keeps the workers for another run."""

    def run(self, fn: JobFn, jobs: Sequence[Job], settings: Any, done: Done, *,
            last: bool = True) -> None: ...

    def close(self) -> None: ...


def _start_method() -> str:
    """How local workers start: forked where that is safe, so they inherit this process's modules
    (Numba's among them, 0.2 s of a spawned worker's start-up); otherwise spawned.

    Safe means Linux, and no other thread running yet: Numba starts its threads at the first
    parallel kernel, which this process runs only after the workers are forked (they are, at the
    first job handed out)."""
    import sys
    import threading

    if sys.platform != "linux" or threading.active_count() > 1 or _numba_threads_started():
        return "spawn"
    return "fork"


def _numba_threads_started() -> bool:
    """Whether Numba has launched its threads in this process (in another Numba layout: maybe)."""
    import sys

    parallel = sys.modules.get("numba.np.ufunc.parallel")
    return parallel is not None and getattr(parallel, "_is_initialized", True)


def _init_worker(stop: Any, lean: bool) -> None:
    """Local worker start-up: a batch worker's process settings, Ctrl-C only while a job runs."""
    global _stop
    runtime.enable_worker(lean)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _stop = stop


def _file_size(job: Job) -> int:
    try:
        return os.stat(job.source).st_size
    except OSError:  # gone: the job reports it
        return 0


def _interrupt_once(signum: int, frame: Any) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not break the clean-up
    raise KeyboardInterrupt


def _local_call(fn: JobFn, job: Job, settings: Any) -> Any:
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

    def run(self, fn: JobFn, jobs: Sequence[Job], settings: Any, done: Done, *,
            last: bool = True) -> None:
        with one_thread():
            for job in jobs:
                done(job, fn(job, settings))

    def close(self) -> None:
        pass


class _Processes:
    """``--jobs N``: this process and N - 1 workers take jobs from one queue.

    This process has its modules loaded already, so it starts on the first job while the workers
    start up. Each worker holds two jobs (four during this process's first, which includes loading
    the kernels), so it never waits for this process to hand it the next one while this process
    runs a job of its own; once the queue is empty, this process takes back the jobs no worker has
    started. The largest files go first, so the jobs that finish last are short ones. In the
    ``last`` run, the workers are told to exit as soon as every job is handed out, so their
    shut-down overlaps the last jobs."""

    def __init__(self, n: int) -> None:
        method = _start_method()
        if method == "fork":
            import numba  # noqa: F401  (imported once here, for every worker; starts no thread)
        ctx = multiprocessing.get_context(method)
        self.n_workers = n - 1
        self.stop = ctx.Event()
        self.pool = futures.ProcessPoolExecutor(self.n_workers, mp_context=ctx,
                                                initializer=_init_worker, initargs=(self.stop, runtime.lean()))

    def run(self, fn: JobFn, jobs: Sequence[Job], settings: Any, done: Done, *,
            last: bool = True) -> None:
        queue = collections.deque(sorted(jobs, key=_file_size, reverse=True))
        pending: dict[futures.Future, Job] = {}
        in_flight = 4  # per worker; 2 after this process's first job

        def collect(wait: bool) -> None:
            """Record the workers' finished jobs and hand them new ones."""
            if wait:
                futures.wait(pending, return_when=futures.FIRST_COMPLETED)
            for fut in [f for f in pending if f.done()]:
                done(pending.pop(fut), fut.result())
            while queue and len(pending) < in_flight * self.n_workers:
                job = queue.popleft()
                pending[self.pool.submit(_local_call, fn, job, settings)] = job
            if last and not queue:
                self.pool.shutdown(wait=False)

        def take() -> Job | None:
            """This process's next job: from the queue, else the last one no worker started."""
            if queue:
                return queue.popleft()
            for fut in reversed(list(pending)):
                if fut.cancel():
                    return pending.pop(fut)
            return None

        try:
            collect(wait=False)
            with one_thread():
                while (job := take()) is not None:
                    done(job, fn(job, settings))
                    in_flight = 2
                    collect(wait=False)
            while pending:
                collect(wait=True)
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

    def run(self, fn: JobFn, jobs: Sequence[Job], settings: Any, done: Done, *,
            last: bool = True) -> None:
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


def make_executor(jobs: int, scheduler: str | None, n_jobs: int) -> Executor:
    """The executor for ``--jobs``/``--scheduler``: Dask, this process with N - 1 workers,
    or this process alone."""
    if scheduler:
        return _Dask(scheduler)
    if jobs < 1:
        raise ParameterError(f"--jobs must be at least 1, got {jobs}")
    n = min(jobs, n_jobs)
    return _Processes(n) if n > 1 else _InProcess()


def default_jobs() -> int:
    """The number of cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
