"""Batch runs as whole processes: Ctrl-C mid-batch, and a Dask cluster against a local run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from conftest import make_photo
from quantize import manifest
from quantize.batch import Settings, run_batch
from quantize.errors import ParameterError
from quantize.fitting import FitOptions
from quantize.pipeline import CompressOptions
from test_batch import make_tree, outputs, without_times

ROOT = Path(__file__).resolve().parents[1]


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
    src = tmp_path / "in"
    src.mkdir()
    for i in range(10):
        Image.fromarray(make_photo(256, 320, seed=i)).save(src / f"p{i:02d}.png")
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


def test_missing_dask_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(ParameterError, match=r"pip install 'quantize\[dask\]'"):
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
