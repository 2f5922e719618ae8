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
import re
import signal
import sys
from dataclasses import dataclass
from multiprocessing import connection
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any, Callable, Protocol, Sequence

from .. import runtime
from ..errors import ParameterError, one_line
from ..core.threads import one_thread

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


def _start_resource_tracker() -> None:
    """Start multiprocessing's resource tracker (it unlinks the workers' semaphores should this
    process die) ignoring SIGHUP, as it ignores SIGINT and SIGTERM: a hangup of the process group
    killed it, and the tracker started in its place printed a traceback per semaphore released."""
    import threading

    if not hasattr(signal, "SIGHUP") or threading.current_thread() is not threading.main_thread():
        return
    from multiprocessing import resource_tracker

    previous = signal.signal(signal.SIGHUP, signal.SIG_IGN)  # kept by the tracker's exec
    try:
        resource_tracker.ensure_running()
    finally:
        signal.signal(signal.SIGHUP, previous)


def _init_worker(stop: Any, lean: bool) -> None:
    """Local worker start-up: a batch worker's process settings, Ctrl-C only while a job runs."""
    global _stop
    runtime.enable_worker(lean)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # a forked worker has its parent's handlers, which turn a hangup of the process group into a
    # KeyboardInterrupt anywhere (a traceback); the parent stops its workers itself
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    sys.unraisablehook = _unraisable
    _stop = stop


def _unraisable(unraisable: Any) -> None:
    """A worker's Ctrl-C that lands in a callback Python cannot raise from (a weakref's, a
    finaliser's) is dropped there, as Python drops it: its "Exception ignored" traceback, on the
    stderr the batch shares, broke the batch's one line. Anything else is shown as Python shows it."""
    if not issubclass(unraisable.exc_type, KeyboardInterrupt):
        sys.__unraisablehook__(unraisable)


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


@dataclass(frozen=True)
class Died:
    """The outcome of a job whose worker process died while running it (killed, out of memory)."""

    reason: str  # e.g. "worker died: signal 9"


_SKIP = "skipped"  # a worker's answer for a job this process took back before the worker started it


class _Worker:
    """This process's end of one local worker: its pipe and the jobs sent to it, not yet answered."""

    def __init__(self, process: multiprocessing.process.BaseProcess, conn: Connection) -> None:
        self.process, self.conn = process, conn
        self.held: list[int] = []  # indices of the jobs sent, in order
        self.retired = False  # told to exit once its jobs are done

    @property
    def ident(self) -> int:
        return self.process.pid or 0


def _serve(conn: Connection, stop: Any, lean: bool, claims: Any) -> None:
    """A local worker: take (fn, settings) for a run, then jobs, until told to stop (None)."""
    _init_worker(stop, lean)
    me = os.getpid()
    fn = settings = None
    while (message := _receive(conn)) is not None:
        if message[0] == "run":
            _, fn, settings = message
            continue
        _, i, job = message
        conn.send((i, _local_call(fn, job, settings) if _claim(claims, i, me) else _SKIP))


def _receive(conn: Connection) -> Any:
    """The next message from this process's parent; None (stop) when the parent is gone. A
    forked worker holds the parent's end of its own pipe too, so a parent killed outright never
    closes it: the parent's sentinel says so instead."""
    parent = multiprocessing.parent_process()
    try:
        if parent is not None and parent.sentinel in connection.wait([conn, parent.sentinel]):
            return None
        return conn.recv()
    except (EOFError, OSError):
        return None


def _claim(claims: Any, i: int, who: int) -> bool:
    """Mark job ``i`` as started by process ``who`` unless someone started it already."""
    with claims.get_lock():
        if claims[i]:
            return False
        claims[i] = who
        return True


class _Processes:
    """``--jobs N``: this process and N - 1 workers take jobs from one queue.

    This process has its modules loaded already, so it starts on the first job while the workers
    start up. Each worker holds two jobs (four during this process's first, which includes loading
    the kernels), so it never waits for this process to hand it the next one while this process
    runs a job of its own; once the queue is empty, this process takes back the jobs no worker has
    started. The largest files go first, so the jobs that finish last are short ones. In the
    ``last`` run, the workers are told to exit as soon as every job is handed out, so their
    shut-down overlaps the last jobs.

    A worker that dies (killed, out of memory) costs only the job it was running, whose outcome is
    :class:`Died`; the jobs it held but had not started go back to the queue, and a new worker
    takes its place."""

    def __init__(self, n: int, n_jobs: int) -> None:
        if _start_method() == "fork":
            import numba  # noqa: F401  (imported once here, for every worker; starts no thread)
        # shared objects from the spawn context, so that a worker spawned later (after Numba's
        # threads started here, when forking is no longer safe) can receive them too
        ctx = multiprocessing.get_context("spawn")
        _start_resource_tracker()
        self.n_workers = n - 1
        self.stop = ctx.Event()
        self.claims = ctx.Array("q", max(n_jobs, 1))  # per job: the pid that started it, or 0
        self.workers: list[_Worker] = []
        self.deaths = 0

    def _spawn(self) -> _Worker:
        ctx = multiprocessing.get_context(_start_method())
        ours, theirs = ctx.Pipe()
        process = ctx.Process(target=_serve, args=(theirs, self.stop, runtime.lean(), self.claims),
                              name="quantize-worker", daemon=True)
        process.start()
        theirs.close()
        return _Worker(process, ours)

    def run(self, fn: JobFn, jobs: Sequence[Job], settings: Any, done: Done, *,
            last: bool = True) -> None:
        order = sorted(range(len(jobs)), key=lambda i: _file_size(jobs[i]), reverse=True)
        queue = collections.deque(order)
        self.claims[:len(jobs)] = [0] * len(jobs)
        in_flight = 4  # per worker; 2 after this process's first job

        def start(worker: _Worker) -> _Worker:
            worker.conn.send(("run", fn, settings))
            return worker

        while len(self.workers) < self.n_workers:
            self.workers.append(start(self._spawn()))
        for worker in self.workers:
            start(worker)

        def answered(worker: _Worker) -> None:
            while worker.conn.poll():
                i, outcome = worker.conn.recv()
                worker.held.remove(i)
                if outcome != _SKIP:
                    done(jobs[i], outcome)

        def buried(worker: _Worker) -> None:
            """The jobs of a dead worker: the one it was running failed, those it had not
            started queued again (this process may have taken some back)."""
            worker.process.join()
            code = worker.process.exitcode or 0
            reason = f"worker died: signal {-code}" if code < 0 else f"worker died: exit code {code}"
            for i in worker.held:
                if self.claims[i] == worker.ident:
                    done(jobs[i], Died(reason))
                elif not self.claims[i]:
                    queue.appendleft(i)
            worker.held = []
            worker.conn.close()

        def collect() -> list[_Worker]:
            """Record the workers' finished jobs, replace dead ones, hand out new jobs; return the
            workers still holding jobs."""
            for n, worker in enumerate(self.workers):
                try:
                    answered(worker)
                except (EOFError, OSError):  # it died while answering: the sentinel tells
                    pass
                if not worker.process.is_alive() and worker.held:
                    buried(worker)
                    self.deaths += 1
                    if self.deaths <= len(jobs):  # else workers die at start: finish here
                        self.workers[n] = start(self._spawn())
            self.workers = [w for w in self.workers if w.process.is_alive() or w.held]
            for worker in self.workers:
                while queue and len(worker.held) < in_flight and not worker.retired:
                    i = queue.popleft()
                    worker.conn.send(("job", i, jobs[i]))
                    worker.held.append(i)
                if last and not queue and not worker.retired:
                    worker.conn.send(None)
                    worker.retired = True
            return [w for w in self.workers if w.held]

        def take() -> int | None:
            """This process's next job: from the queue, else the last one no worker started."""
            if queue:
                return queue.popleft()
            for worker in self.workers:
                for i in reversed(worker.held):
                    if _claim(self.claims, i, os.getpid()):
                        return i
            return None

        try:
            collect()
            with one_thread():
                while (i := take()) is not None:
                    done(jobs[i], fn(jobs[i], settings))
                    in_flight = 2
                    collect()
            while busy := collect():
                connection.wait([w.conn for w in busy] + [w.process.sentinel for w in busy])
            with one_thread():
                while queue:  # only when no worker could be started
                    i = queue.popleft()
                    done(jobs[i], fn(jobs[i], settings))
        except KeyboardInterrupt:
            self.stop.set()
            for worker in self.workers:
                if worker.process.is_alive():
                    os.kill(worker.process.pid, signal.SIGINT)
            for worker in self.workers:  # jobs that finished while we stopped are kept
                while worker.held and worker.process.is_alive():
                    connection.wait([worker.conn, worker.process.sentinel])
                    try:
                        i, outcome = worker.conn.recv()
                    except (EOFError, OSError):
                        break
                    worker.held.remove(i)
                    if outcome not in (_SKIP, INTERRUPTED):
                        done(jobs[i], outcome)
            raise

    def close(self) -> None:
        for worker in self.workers:
            if not worker.retired:
                try:
                    worker.conn.send(None)
                except OSError:
                    pass
        for worker in self.workers:
            worker.process.join(timeout=10)
            if worker.process.is_alive():
                worker.process.terminate()
                worker.process.join()
            worker.conn.close()
        self.workers = []


class _Dask:
    """``--scheduler ADDRESS``: the jobs as tasks on a Dask distributed cluster (shared storage)."""

    def __init__(self, address: str, notice: Callable[[str], None] | None = None) -> None:
        try:
            from distributed import Client
        except ImportError:
            raise ParameterError("scheduler needs Dask: pip install 'dask[distributed]' (the dask extra)",
                                 parameters=("scheduler",)) from None
        _check_address(address)
        try:
            self.client = _connect(Client, address)
        except Exception as exc:  # unreachable, or an address Dask cannot use (tls:// alone)
            raise ParameterError(_unreachable(address, exc)) from None
        self.address, self.notice = address, notice
        try:
            _check_worker_versions(self.client, address)
        except BaseException:
            self.close()
            raise

    def run(self, fn: JobFn, jobs: Sequence[Job], settings: Any, done: Done, *,
            last: bool = True) -> None:
        from distributed import as_completed

        pending = {self.client.submit(fn, job, settings, pure=False): job for job in jobs}
        if pending and self.notice and not self.client.scheduler_info()["workers"]:
            # submitted first: an adaptive cluster starts its workers for queued tasks
            self.notice(f"no Dask worker at {self.address} yet: the jobs wait for one "
                        "(Ctrl-C stops the batch)")
        try:
            for fut in as_completed(list(pending)):
                job = pending.pop(fut)
                try:
                    outcome = fut.result()
                except (KeyboardInterrupt, SystemExit):
                    raise
                except BaseException as exc:  # the job's own errors are rows: this is Dask's
                    outcome = Died(_dask_failure(exc))
                done(job, outcome)
        except KeyboardInterrupt:
            self.client.cancel(list(pending))
            raise

    def close(self) -> None:
        try:
            self.client.close()
        except Exception:  # a scheduler already lost: nothing left to close
            pass


def _check_address(address: str) -> None:
    """Refuse, in one line, an address that is not Dask's [SCHEME://]HOST:PORT (Dask's own words
    were a parser's, such as "invalid literal for int()"); an in-process cluster's inproc://
    address has no port and is Dask's to check."""
    from distributed.comm import registry
    from distributed.comm.addressing import parse_address, parse_host_port

    scheme, location = parse_address(address)
    if scheme == "inproc":
        return
    try:
        host, port = parse_host_port(location)
        ok = scheme in registry.backends and bool(host.strip()) and 0 < port < 65536
    except ValueError:
        ok = False
    if not ok:
        given = f", not {address}" if address.strip() else ""
        raise ParameterError("scheduler must be an address tcp://HOST:PORT (a Dask cluster's, "
                             f"such as tcp://10.0.0.5:8786){given}", parameters=("scheduler",))


def _unreachable(address: str, exc: BaseException) -> str:
    """Why no client of the scheduler at ``address`` was made: Dask's reason, unless the server
    answered its greeting with what Dask cannot read (Dask's reason was then its parser's, such
    as a frame length read from an HTTP reply that no memory could hold)."""
    import traceback

    read = any(frame.f_code.co_name == "read" and "distributed" in frame.f_code.co_filename
               for frame, _ in traceback.walk_tb(exc.__traceback__))
    if not read:
        return f"cannot reach the Dask scheduler at {address}: {one_line(exc)}"
    if isinstance(exc, OSError):  # as a scheduler that requires TLS does with plain tcp://
        return (f"{address} does not speak Dask's protocol (it closed the connection unanswered): "
                "give a Dask scheduler's address, such as tcp://host:8786, or tls://… for one "
                "that requires TLS")
    return (f"{address} does not speak Dask's protocol (it sent other bytes): give a Dask "
            "scheduler's address, such as tcp://host:8786 (not its dashboard's)")


CONNECT_SECONDS = 10  # how long the batch waits for a Dask scheduler to answer


def _connect(client_type: Any, address: str) -> Any:
    """A Dask client of the scheduler at ``address``, or TimeoutError: Dask's own timeout covers
    the connection only, and a port that accepts but never speaks Dask (a dashboard's) held it
    forever, so the client is made in a thread given up on after the timeout."""
    import threading

    made: dict[str, Any] = {}

    def make() -> None:
        try:
            made["client"] = client_type(address, timeout=f"{CONNECT_SECONDS}s")
        except BaseException as exc:  # handed to the caller's thread
            made["error"] = exc

    thread = threading.Thread(target=make, name="quantize-dask-connect", daemon=True)
    thread.start()
    thread.join(CONNECT_SECONDS + 2)
    if "error" in made:
        raise made["error"]
    if "client" not in made:
        raise TimeoutError(f"no answer in Dask's protocol after {CONNECT_SECONDS} s")
    return made["client"]


def _check_worker_versions(client: Any, address: str) -> None:
    """Refuse a cluster whose connected workers run another quantize (or none): their files
    would differ from this one's, or every job would fail alike."""
    from .. import __version__

    def version() -> str | None:  # nested: shipped by value, so it runs without quantize too
        try:
            import quantize
        except ImportError:
            return None
        return getattr(quantize, "__version__", "unknown")

    try:
        versions = client.run(version)
    except Exception as exc:
        raise ParameterError(f"cannot ask the Dask workers at {address} their quantize version: "
                             f"{one_line(exc)}") from None
    others = {worker: v for worker, v in sorted(versions.items()) if v != __version__}
    if others:
        worker, v = next(iter(others.items()))
        has = "no quantize installed" if v is None else f"quantize {v}"
        more = f" (and {len(others) - 1} more)" if len(others) > 1 else ""
        raise ParameterError(f"Dask worker {worker}{more} has {has}, this is quantize "
                             f"{__version__}: install the same version on every worker",
                             parameters=("scheduler",))


def _dask_failure(exc: BaseException) -> str:
    """Why Dask gave no outcome for a job, in a manifest row."""
    name = type(exc).__name__
    if name == "KilledWorker":
        return "worker died: a Dask worker died each time it ran the job (KilledWorker)"
    if "CancelledError" in name:  # Dask says why in "... cancelled for reason: <reason>. ..."
        why = re.search(r"reason: ([\w-]+)", str(exc))
        return "the job was cancelled before it finished" + (
            f" ({why.group(1)})" if why else "")
    return f"Dask failed to run it: {name}: {one_line(exc)}"


def make_executor(jobs: int, scheduler: str | None, n_jobs: int,
                  notice: Callable[[str], None] | None = None) -> Executor:
    """The executor for ``--jobs``/``--scheduler``: Dask, this process with N - 1 workers,
    or this process alone, with no more workers than the open-file limit leaves room for.
    ``notice(message)`` hears of a wait or of such a cap, which the user should know about."""
    if scheduler is not None:
        return _Dask(scheduler, notice)
    check_jobs(jobs)
    n = min(jobs, n_jobs)
    room = _workers_the_file_limit_allows()
    if room is not None and n - 1 > room:
        if notice:
            notice(f"{jobs} processes asked, but the open-file limit (ulimit -n {_file_limit()}) "
                   f"leaves room for {room} worker{'s' * (room != 1)}: running {room + 1}")
        n = room + 1
    return _Processes(n, n_jobs) if n > 1 else _InProcess()


def check_jobs(jobs: int) -> None:
    """A :class:`ParameterError` unless ``jobs`` is at least 1."""
    if jobs < 1:
        raise ParameterError(f"jobs must be at least 1, got {jobs}: leave jobs out for all the "
                             f"cores ({default_jobs()} here)", parameters=("jobs",))


#: Files a worker holds open in this process: its pipe and its process's two sentinel pipes.
FILES_PER_WORKER = 3
#: Files left free for reading and writing a job's files (each worker inherits this process's).
FILES_KEPT = 16


def _file_limit() -> int | None:
    """This process's open-file limit (the soft one), or None where there is none."""
    try:
        import resource
    except ImportError:  # not on Windows
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY else soft


def _workers_the_file_limit_allows() -> int | None:
    """How many workers fit under the open-file limit beside the files open now, or None."""
    limit = _file_limit()
    if limit is None or not os.path.isdir("/proc/self/fd"):
        return None
    return max(0, (limit - len(os.listdir("/proc/self/fd")) - FILES_KEPT) // FILES_PER_WORKER)


def default_jobs() -> int:
    """The number of cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
