"""Numba's disk cache across processes: a kernel's entry runs however it was compiled."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import quantize
from quantize.core.kernels import kmeans as kmeans_kernels
from quantize.core.kmeans import lloyd

# 40k points x 64 centres: enough work for Lloyd's parallel loops (threads.PARALLEL_MIN_WORK)
RUN = """
import numpy as np
import quantize
from quantize.core.kmeans import lloyd
X = np.random.default_rng(0).random((40_000, 3))
print(quantize.__file__)
print(repr(lloyd(X, np.ones(len(X)), X[:64], max_iter=3, tol=0.0).inertia))
"""


def test_lloyd_compiled_beside_cached_parallel_kernels_runs_from_the_cache(tmp_path):
    """Lloyd's kernel calls parallel ones. Compiled while they come from the disk cache (another
    process compiled them a moment before), its own entry does not start Numba's threading layer,
    and a process that loads it from there used to crash (Numba issues #4807, #8578)."""
    X = np.random.default_rng(0).random((40_000, 3))
    expected = lloyd(X, np.ones(len(X)), X[:64], max_iter=3, tol=0.0).inertia  # caches them all
    package = Path(quantize.__file__).parent
    copy = tmp_path / "quantize"
    shutil.copytree(package, copy)  # with mtimes: the entries stay valid
    cache = copy / Path(kmeans_kernels.__file__).parent.relative_to(package) / "__pycache__"
    entries = list(cache.glob("kmeans.lloyd-*"))
    if not entries or not list(cache.glob("kmeans._assign-*")):
        pytest.skip("the kernels' disk cache is elsewhere (a read-only install)")
    for entry in entries:
        entry.unlink()
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    for _ in range(2):  # compiles Lloyd's kernel beside the cached ones, then loads it
        proc = subprocess.run([sys.executable, "-c", RUN], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-2000:]
        path, inertia = proc.stdout.split()
        assert Path(path).is_relative_to(tmp_path)
        assert float(inertia) == expected
