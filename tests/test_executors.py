"""Local executors: this process and its workers share one queue; every job runs once."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from quantize.jobs.discovery import Job
from quantize.jobs.executors import _start_method, make_executor


def whose(job: Job, settings: object) -> tuple[str, int]:
    """A job that takes a moment and says which process ran it."""
    time.sleep(0.02 + 0.01 * (len(job.name) % 3))
    return job.name, os.getpid()


def jobs_of(tmp_path: Path, n: int) -> list[Job]:
    jobs = []
    for i in range(n):
        source = tmp_path / f"in{i:02d}.bin"
        source.write_bytes(b"x" * (i * 37 % 101))  # sizes in no particular order
        jobs.append(Job(str(source), source.name, str(tmp_path / "out")))
    return jobs


def test_this_process_and_a_worker_run_every_job_once(tmp_path: Path) -> None:
    executor = make_executor(2, None, n_jobs=40)
    runs: list[tuple[str, int]] = []
    try:
        first = jobs_of(tmp_path, 40)
        executor.run(whose, first, None, lambda job, row: runs.append(row), last=False)
        # a second run on the same workers, as a shared-palette batch does after counting colours
        second = [Job(j.source, "again-" + j.name, j.out_root) for j in first[:10]]
        executor.run(whose, second, None, lambda job, row: runs.append(row))
    finally:
        executor.close()
    names = Counter(name for name, _ in runs)
    assert set(names) == {j.name for j in first} | {j.name for j in second}
    assert set(names.values()) == {1}
    pids = {pid for _, pid in runs}
    assert os.getpid() in pids and len(pids) == 2


def test_one_job_runs_here(tmp_path: Path) -> None:
    executor = make_executor(1, None, n_jobs=3)
    runs: list[tuple[str, int]] = []
    executor.run(whose, jobs_of(tmp_path, 3), None, lambda job, row: runs.append(row))
    executor.close()
    assert sorted(name for name, _ in runs) == ["in00.bin", "in01.bin", "in02.bin"]
    assert {pid for _, pid in runs} == {os.getpid()}


def test_workers_are_forked_only_while_no_other_thread_runs() -> None:
    """Forking copies no thread: a process running another thread, or whose Numba has started its
    threads, spawns its workers; a fresh one on Linux forks them."""
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert _start_method() == "spawn"
    finally:
        stop.set()
        other.join()
    def method_in_a_new_process(before: str) -> str:
        proc = subprocess.run([sys.executable, "-c", before + "from quantize.jobs.executors import "
                               "_start_method; print(_start_method())"],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.strip()

    assert method_in_a_new_process("") == ("fork" if sys.platform == "linux" else "spawn")
    assert method_in_a_new_process("import numba; numba.set_num_threads(1); ") == "spawn"


def test_a_forked_worker_can_still_compile() -> None:
    """A kernel missing from the cache is compiled in the worker that needs it (on a fresh
    install, every kernel): Numba re-reads its environment before compiling, and refuses a
    changed thread count once its threads run."""
    script = (
        "import os\n"
        "from quantize.jobs.discovery import Job\n"
        "from quantize.jobs.executors import _start_method, make_executor\n"
        "def compile_here(job, settings):\n"
        "    from numba import njit\n"
        "    return os.getpid(), njit(lambda x: x + 1)(int(job.name))\n"
        "method = _start_method()\n"
        "executor = make_executor(2, None, n_jobs=8)\n"
        "runs = []\n"
        "executor.run(compile_here, [Job('-', str(i), '-') for i in range(8)], None,\n"
        "             lambda job, row: runs.append(row))\n"
        "executor.close()\n"
        "assert sorted(v for _, v in runs) == list(range(1, 9)), runs\n"
        "print(method, len({pid for pid, _ in runs}))\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    method, n_processes = proc.stdout.split()
    assert method == ("fork" if sys.platform == "linux" else "spawn") and n_processes == "2"
