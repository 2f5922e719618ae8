"""Batch runs as whole processes: Ctrl-C mid-batch, and a Dask cluster against a local run."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import make_photo
from quantize.io import manifest
from quantize.jobs.batch import Settings, run_batch
from quantize.errors import ParameterError
from quantize.core.fitting import FitOptions
from quantize.jobs.pipeline import CompressOptions
from test_batch import make_tree, outputs, without_times

ROOT = Path(__file__).resolve().parents[1]



def photo_folder(tmp_path: Path, count: int, height: int, width: int) -> Path:
    """A folder ``in`` of ``count`` synthetic photos, p00.png, p01.png, ..."""
    src = tmp_path / "in"
    src.mkdir()
    for i in range(count):
        Image.fromarray(make_photo(height, width, seed=i)).save(src / f"p{i:02d}.png")
    return src

def quantize_process(*args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "quantize", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def ok_rows(out: Path) -> list[dict]:
    try:
        doc = json.loads((out / manifest.JSON_NAME).read_text())
    except (OSError, ValueError):
        return []
    return [r for r in doc["rows"] if r["status"] == "ok"]


def test_ctrl_c_keeps_finished_outputs_and_a_consistent_manifest(tmp_path):
    src = photo_folder(tmp_path, 10, 256, 320)
    out = tmp_path / "out"
    args = ("batch", str(src), "-o", str(out), "-k", "128", "-j", "2")
    proc = quantize_process(*args)
    deadline = time.monotonic() + 60
    while not ok_rows(out) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    sent = time.monotonic()
    _, err = proc.communicate(timeout=30)
    assert time.monotonic() - sent < 5  # workers stop promptly
    assert proc.returncode == 130, err
    assert "--resume" in err and "Traceback" not in err
    assert not [p for p in out.rglob("*") if p.name.endswith(".part")]
    rows = ok_rows(out)
    assert 1 <= len(rows) < 10
    assert all(manifest.outputs_intact(r, out) for r in rows)
    assert len(list(out.glob("*.qnt"))) >= len(rows)  # finished outputs kept
    proc = quantize_process(*args, "--resume")
    stdout, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert f"({len(rows)} kept from the last run)" in stdout and len(ok_rows(out)) == 10


@pytest.mark.parametrize("name, group", [("SIGTERM", False), ("SIGHUP", True)])
def test_sigterm_or_a_hangup_stops_the_batch_as_ctrl_c_does_in_one_line(tmp_path, name, group):
    """The signal to the batch alone (``kill``), or a hangup to its whole process group (the
    terminal closed): its workers stop, its semaphores are released (no resource-tracker
    warning), one line, exit code 128 + the signal's number."""
    if not hasattr(signal, name):
        pytest.skip(f"no {name} on this platform")
    signum = getattr(signal, name)
    src = photo_folder(tmp_path, 10, 256, 320)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "quantize", "batch", str(src), "-o", str(out),
                             "-k", "128", "-j", "2"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=group)
    deadline = time.monotonic() + 60
    while not ok_rows(out) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    if group:
        os.killpg(proc.pid, signum)
    else:
        proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    if proc.returncode == 0:
        pytest.skip("the run finished before the signal")
    assert err.splitlines() == [f"quantize: error: interrupted by {name}: finished outputs and "
                                f"{out / 'manifest.json'} are kept; run again with --resume to "
                                "finish"], err
    assert proc.returncode == 128 + signum
    assert not [p for p in out.rglob("*") if p.name.endswith(".part")]
    rows = ok_rows(out)
    assert rows and all(manifest.outputs_intact(r, out) for r in rows)


def test_ctrl_c_before_the_batch_wrote_anything_does_not_promise_a_manifest(tmp_path, capsys,
                                                                          monkeypatch):
    """Stopped while waiting for a scheduler (or counting a shared palette's colours), the batch
    said its manifest was kept and to --resume, with no output folder at all; once the manifest
    is there, it says so."""
    from quantize.cli import main
    from quantize.jobs import batch

    src = make_tree(tmp_path / "in", n=1)

    def stopped(inputs, out, **kwargs):
        if (tmp_path / "wrote").exists():
            Path(out).mkdir()
            (Path(out) / manifest.JSON_NAME).write_text("{}")
        raise KeyboardInterrupt

    monkeypatch.setattr(batch, "run_batch", stopped)
    for wrote, said in ((False, "interrupted before the batch wrote anything: run it again"),
                        (True, f"interrupted: finished outputs and {tmp_path / 'out' / 'manifest.json'}"
                               " are kept; run again with --resume to finish")):
        if wrote:
            (tmp_path / "wrote").touch()
        with pytest.raises(SystemExit) as stop:
            main(["batch", str(src), "-o", str(tmp_path / "out")])
        assert stop.value.code == 130
        assert capsys.readouterr().err == f"quantize: error: {said}\n"


def test_jobs_with_a_scheduler_is_refused_not_ignored(tmp_path):
    """A cluster's workers run the jobs: a --jobs limit beside --scheduler was silently ignored."""
    with pytest.raises(ParameterError, match=r"^jobs sets this machine's processes; with "
                       "scheduler the cluster's workers") as refused:
        run_batch([make_tree(tmp_path / "in", n=1)], tmp_path / "out",
                  settings=Settings(CompressOptions()), jobs=2, scheduler="tcp://127.0.0.1:1")
    assert refused.value.parameters == ("jobs", "scheduler")
    assert not (tmp_path / "out").exists()


def test_missing_dask_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ParameterError, match=r"pip install 'dask\[distributed\]'"):
        run_batch([make_tree(tmp_path / "in", n=1)], tmp_path / "out",
                  settings=Settings(CompressOptions()), scheduler="tcp://127.0.0.1:1")


def test_dask_cluster_gives_the_same_outputs_and_manifest(tmp_path):
    distributed = pytest.importorskip("distributed")
    src = make_tree(tmp_path / "in", n=4)
    settings = Settings(CompressOptions(fit=FitOptions(k=8)), formats=("qnt", "png"))
    local = run_batch([src], tmp_path / "local", settings=settings, jobs=1, shared_palette=True)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        remote = run_batch([src], tmp_path / "dask", settings=settings, scheduler=cluster.scheduler_address,
                           shared_palette=True)
    assert outputs(tmp_path / "local") == outputs(tmp_path / "dask")
    assert without_times(local.manifest.sorted_rows()) == without_times(remote.manifest.sorted_rows())


def test_a_job_that_kills_its_dask_worker_fails_its_row_alone(tmp_path):
    """KilledWorker is that job's failure, as a local worker's death is; the others finish. A
    scheduler address Dask cannot use, or none, is one ParameterError."""
    distributed = pytest.importorskip("distributed")
    import dask

    from quantize.jobs.executors import Died, make_executor

    def job(name, settings):
        if name == "bad":
            os._exit(1)
        return name.upper()

    outcomes = {}
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}), \
            distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                     dashboard_address=None) as cluster:
        executor = make_executor(1, cluster.scheduler_address, 3)
        try:
            executor.run(job, ["a", "bad", "c"], None, outcomes.__setitem__)
        finally:
            executor.close()
    assert set(outcomes) == {"a", "bad", "c"}
    assert isinstance(outcomes["bad"], Died) and "KilledWorker" in outcomes["bad"].reason
    # a job queued on the worker when it died may share its fate (Dask's allowed failures; which
    # job Dask queued there, on a busy machine "a" too, is its choice): then as its own row
    for name in ("a", "c"):
        assert outcomes[name] == name.upper() or (isinstance(outcomes[name], Died)
                                                  and "KilledWorker" in outcomes[name].reason)
    with pytest.raises(ParameterError, match="cannot reach the Dask scheduler at tls://"):
        make_executor(1, "tls://127.0.0.1:1", 1)


@pytest.mark.parametrize("address", ["nonsense:abc", "localhost", "tcp://localhost:99999",
                                     "http://localhost:8787", "tcp://:8786", "tcp://[::1", " "])
def test_a_malformed_scheduler_address_names_the_form_expected(address, monkeypatch):
    """Dask's words for these were a parser's ("invalid literal for int()") or, after a wait,
    a timeout: one line says what an address looks like, at once."""
    pytest.importorskip("distributed")
    from quantize.jobs import executors

    monkeypatch.setattr(executors, "CONNECT_SECONDS", 1)
    given = f", not {re.escape(address)}" if address.strip() else ""
    with pytest.raises(ParameterError, match=r"^scheduler must be an address tcp://HOST:PORT \(a "
                       rf"Dask cluster's, such as tcp://10\.0\.0\.5:8786\){given}$") as raised:
        executors.make_executor(1, address, 1)
    assert raised.value.parameters == ("scheduler",)



def test_a_cluster_with_no_worker_is_noticed_and_its_jobs_wait_for_one(tmp_path):
    """The user hears that the jobs wait (the batch does not hang silently); a worker that joins
    then runs them."""
    distributed = pytest.importorskip("distributed")
    from quantize.jobs.executors import make_executor

    def job(name, settings):
        return name.upper()

    notices, outcomes = [], {}
    with distributed.LocalCluster(n_workers=0, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        def notice(message):
            notices.append(message)
            cluster.scale(1)

        unheard = threading.Timer(60, cluster.scale, (1,))  # without the notice: no hang
        unheard.start()
        executor = make_executor(1, cluster.scheduler_address, 2, notice)
        try:
            executor.run(job, ["a", "b"], None, outcomes.__setitem__)
        finally:
            unheard.cancel()
            executor.close()
    assert notices == [f"no Dask worker at {cluster.scheduler_address} yet: the jobs wait for "
                       "one (Ctrl-C stops the batch)"]
    assert outcomes == {"a": "A", "b": "B"}


def test_the_command_line_keeps_dask_log_tracebacks_off_stderr(tmp_path):
    """A lost scheduler is logged by Dask as a traceback; the batch command's rows say it in one
    line, so it lets only Dask's critical records through (the library leaves them alone)."""
    pytest.importorskip("distributed")
    import logging

    from click.testing import CliRunner

    from quantize.cli import cli

    client = logging.getLogger("distributed.client")
    levels = {name: logger.level for name, logger in logging.root.manager.loggerDict.items()
              if name.split(".")[0] == "distributed" and isinstance(logger, logging.Logger)}
    try:
        # the levels Dask's configuration gives, not those a command line run before set
        logging.getLogger("distributed").setLevel(logging.INFO)
        client.setLevel(logging.WARNING)
        assert client.isEnabledFor(logging.ERROR)
        run_batch([make_tree(tmp_path / "lib", n=1)], tmp_path / "o1", settings=Settings(
            CompressOptions(fit=FitOptions(k=4))), jobs=1)
        assert client.isEnabledFor(logging.ERROR)
        res = CliRunner().invoke(cli, ["batch", str(make_tree(tmp_path / "in", n=1)), "-o",
                                       str(tmp_path / "out"), "--scheduler", " "])
        assert isinstance(res.exception, ParameterError)
        assert not client.isEnabledFor(logging.ERROR) and client.isEnabledFor(logging.CRITICAL)
        assert not logging.getLogger("distributed.core").isEnabledFor(logging.ERROR)
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def test_dask_workers_of_another_quantize_are_refused(monkeypatch):
    """Their files would differ from a local run's: one ParameterError names a worker."""
    distributed = pytest.importorskip("distributed")
    import quantize
    from quantize.jobs.executors import make_executor

    theirs = re.escape(quantize.__version__)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        monkeypatch.setattr(quantize, "__version__", "0.0.0-other")  # this process only
        with pytest.raises(ParameterError, match=rf"^Dask worker tcp://\S+ has quantize {theirs}, "
                           r"this is quantize 0\.0\.0-other: install the same version"):
            make_executor(1, cluster.scheduler_address, 1)


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads the process tree in /proc")
def test_a_killed_worker_costs_only_the_file_it_was_running(tmp_path):
    """SIGKILL a worker in the middle of a job: that file fails ("worker died: signal 9"), a new
    worker takes the others it held, the batch finishes with exit 1; --resume redoes that file."""
    src = tmp_path / "in"
    src.mkdir()
    rng = np.random.default_rng(0)
    big = [f"big{i}.png" for i in range(2)]  # the largest go first, to the worker: seconds each
    for name in big:
        Image.fromarray(rng.integers(0, 256, (1200, 1600, 3), dtype=np.uint8)).save(src / name)
    for i in range(8):
        Image.fromarray(make_photo(96, 128, seed=i)).save(src / f"p{i:02d}.png")
    out = tmp_path / "out"
    args = ("batch", str(src), "-o", str(out), "-k", "256", "-j", "2", "-q")
    proc = quantize_process(*args)
    deadline = time.monotonic() + 120
    victim = None
    while victim is None and proc.poll() is None and time.monotonic() < deadline:
        busy = [c for c in _children(proc.pid) if _cpu_seconds(c) > 0.3]  # inside its first job
        victim = busy[0] if busy else None
        time.sleep(0.02)
    assert victim is not None, "no worker seen at work"
    os.kill(victim, signal.SIGKILL)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 1, err
    rows = json.loads((out / manifest.JSON_NAME).read_text())["rows"]
    failed = [r for r in rows if r["status"] != "ok"]
    assert len(rows) == 10 and len(failed) == 1, rows
    assert failed[0]["path"] in big and failed[0]["error"] == "worker died: signal 9"
    assert f"{failed[0]['path']}: worker died: signal 9" in err

    again = quantize_process(*args, "--resume")
    out_text, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert "done 10 (9 kept from the last run), skipped 0, failed 0" in out_text
    assert len(ok_rows(out)) == 10


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="reads the process tree in /proc")
def test_a_batch_killed_outright_leaves_no_worker_behind(tmp_path):
    """SIGKILL the batch process itself: its worker, which holds both ends of its own pipe
    (forked), sees the parent gone and exits after its job, rather than wait for ever."""
    src = photo_folder(tmp_path, 12, 256, 320)
    proc = quantize_process("batch", str(src), "-o", str(tmp_path / "out"), "-k", "128", "-j", "2")
    deadline = time.monotonic() + 120
    workers: list[int] = []
    while not workers and proc.poll() is None and time.monotonic() < deadline:
        workers = _children(proc.pid)
        time.sleep(0.02)
    assert workers, "no worker seen"
    proc.kill()
    proc.communicate(timeout=30)
    deadline = time.monotonic() + 60
    while Path(f"/proc/{workers[0]}").exists() and time.monotonic() < deadline:
        state = Path(f"/proc/{workers[0]}/stat").read_text().rsplit(")", 1)[1].split()[0]
        if state == "Z":  # exited, waiting for init to reap it
            break
        time.sleep(0.1)
    alive = Path(f"/proc/{workers[0]}").exists() and \
        Path(f"/proc/{workers[0]}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    assert not alive, "the worker outlived the batch"


WORKER_CALLBACK_INTERRUPTED = """
import multiprocessing, weakref
from quantize.jobs import executors

executors._init_worker(multiprocessing.get_context("spawn").Event(), False)

class Thing:
    pass

def callback(kind):
    def fire(_):
        raise kind
    return fire

for kind in (KeyboardInterrupt, ValueError):
    thing = Thing()
    ref = weakref.ref(thing, callback(kind))
    del thing  # the callback runs here, where Python cannot raise what it raises
print("done", flush=True)
"""


def test_a_workers_ctrl_c_inside_a_callback_prints_no_traceback():
    """A SIGHUP to the batch's process group reached a worker inside a weakref callback: its
    KeyboardInterrupt, which Python cannot raise there, printed "Exception ignored in: ..." and a
    traceback on the stderr the batch shares (seen in .ci/run). A worker drops that one, as Python
    does, silently; any other exception in a callback is still shown."""
    done = subprocess.run([sys.executable, "-c", WORKER_CALLBACK_INTERRUPTED], capture_output=True,
                          text=True, timeout=120)
    assert done.stdout == "done\n", done.stderr
    assert "KeyboardInterrupt" not in done.stderr and "ValueError" in done.stderr, done.stderr


WORKER_SIGNALS = """
import os, signal
from quantize.jobs import executors

def parents(signum, frame):  # as the batch's own handler, which a forked worker inherits
    raise KeyboardInterrupt
signal.signal(signal.SIGHUP, parents)
signal.signal(signal.SIGTERM, parents)
executors._init_worker(None, False)  # no stop event: no semaphore for the tracker to miss
os.kill(os.getpid(), signal.SIGHUP)
print("hangup ignored", flush=True)
os.kill(os.getpid(), signal.SIGTERM)
print("not reached", flush=True)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="no SIGHUP on this platform")
def test_a_forked_worker_takes_no_handler_of_its_batch():
    """A forked worker kept the batch's handlers, so a hangup of the process group raised
    KeyboardInterrupt in it wherever it was (a traceback on the shared stderr, seen in .ci/run).
    A worker ignores a hangup (its batch stops it) and dies of SIGTERM as a process does."""
    done = subprocess.run([sys.executable, "-c", WORKER_SIGNALS], capture_output=True, text=True,
                          timeout=120)
    assert done.stdout == "hangup ignored\n" and done.stderr == "", done.stderr
    assert done.returncode == -signal.SIGTERM


def test_a_port_that_does_not_speak_dask_is_refused_in_time(monkeypatch):
    """A port that accepts the connection and never answers (a dashboard's, HTTP) must give
    one ParameterError after the connection timeout, not a wait for ever."""
    pytest.importorskip("distributed")
    import socket

    from quantize.jobs import executors

    monkeypatch.setattr(executors, "CONNECT_SECONDS", 1, raising=False)
    server = socket.create_server(("127.0.0.1", 0))
    held = []

    def answer() -> None:
        conn, _ = server.accept()
        held.append(conn)
        conn.recv(1)  # and never answers, the connection kept open

    threading.Thread(target=answer, daemon=True).start()
    address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
    raised = []

    def connect() -> None:
        try:
            executors.make_executor(1, address, 1)
        except ParameterError as exc:
            raised.append(str(exc))

    caller = threading.Thread(target=connect, daemon=True)
    caller.start()
    caller.join(30)
    try:
        assert not caller.is_alive(), "still waiting for the scheduler"
        assert len(raised) == 1 and raised[0].startswith(f"cannot reach the Dask scheduler at "
                                                         f"{address}: "), raised
    finally:
        for conn in held:
            conn.close()
        server.close()


@pytest.mark.parametrize("answer, why", [
    (b"HTTP/1.1 400 Bad Request\r\n\r\n" * 4, "(it sent other bytes): give a Dask scheduler's "
                                             "address, such as tcp://host:8786 (not its dashboard's)"),
    (b"", "(it closed the connection unanswered): give a Dask scheduler's address, such as "
          "tcp://host:8786, or tls://… for one that requires TLS")])
def test_a_port_that_answers_in_another_protocol_is_named_as_such(answer, why):
    """A server that sends other bytes (an HTTP server's) gave Dask's reading of them as a frame
    length, "Unable to allocate 3.07 EiB", as the reason; one that hangs up, a closed stream's."""
    pytest.importorskip("distributed")
    import socket

    from quantize.jobs import executors

    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:  # closed: the test is over
                return
            with conn:
                conn.sendall(answer)

    threading.Thread(target=serve, daemon=True).start()
    address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
    try:
        with pytest.raises(ParameterError) as raised:
            executors.make_executor(1, address, 1)
    finally:
        server.close()
    assert str(raised.value) == f"{address} does not speak Dask's protocol {why}"


def test_more_jobs_than_the_open_file_limit_holds_run_fewer_workers_with_a_note(tmp_path):
    """-j 40 under ulimit -n 48 stopped with 'cannot write to out: Too many open files' (exit 5)
    and a manifest of its header alone: the workers' pipes had taken every file."""
    import resource

    src = photo_folder(tmp_path, 40, 16, 16)
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "quantize", "batch", str(src), "-o", str(out), "-k", "4", "-j", "40"],
        env=env, capture_output=True, text=True, timeout=300,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (48, 48)))
    assert done.returncode == 0, done.stderr
    assert "the open-file limit (ulimit -n 48) leaves room for" in done.stderr
    assert "Traceback" not in done.stderr
    assert len(ok_rows(out)) == 40
