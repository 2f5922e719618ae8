"""Numba and the kernels loaded ahead in a side thread (quantize.preload), and the lean start-up of
a process that runs nothing but quantize (quantize.core.kernels)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import pytest
from PIL import Image

from conftest import make_photo
from quantize import preload

# Run in a new process: load what preload.start(K) loads, then compress, and list every kernel
# signature the compress added (none, if the preload loaded exactly what the pipeline calls).
AFTER_PRELOAD = """
import json, sys, threading
from quantize import preload, runtime
from quantize.jobs.pipeline import CompressOptions, FitOptions, compress_file

def loaded():
    from numba.core.registry import CPUDispatcher
    return {f"{name}.{attr}": {str(s) for s in value.signatures}
            for name, module in list(sys.modules.items()) if name.startswith("quantize.core.kernels.")
            for attr, value in vars(module).items() if isinstance(value, CPUDispatcher)}

k, codec = int(sys.argv[2]), sys.argv[4]
runtime.lean_kernel_loading()  # as the command line loads kernels
preload.start(k, code=codec == "cm")  # before anything imports Numba, as in the command line
for thread in threading.enumerate():
    if thread.name == "quantize-preload":
        thread.join()
before = loaded()
compress_file(sys.argv[1], sys.argv[3], options=CompressOptions(fit=FitOptions(k=k), codec=codec))
after = loaded()
print(json.dumps({"preloaded": sorted(n for n, s in before.items() if s),
                  "added": {n: sorted(s - before.get(n, set())) for n, s in after.items()
                            if s - before.get(n, set())}}))
"""


@pytest.mark.parametrize(("k", "codec"), [(2, "cm"), (16, "cm"), (300, "cm"), (16, "zstd")])  # uint8, uint16
def test_a_compress_loads_nothing_the_preload_did_not(tmp_path, k, codec):
    photo = tmp_path / "photo.png"
    Image.fromarray(make_photo(96, 128)).save(photo)
    proc = subprocess.run([sys.executable, "-c", AFTER_PRELOAD, str(photo), str(k), str(tmp_path),
                           codec], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["added"] == {}
    assert {"quantize.core.kernels.kmeans.lloyd", "quantize.core.kernels.kmeans.kmeans_plusplus",
            "quantize.core.kernels.colorstats.distinct_rgb"} <= set(report["preloaded"])
    coder = "quantize.core.kernels.indexcodec.encode_model2"
    assert (coder in report["preloaded"]) == (codec == "cm")  # a zstd compress never loads cm


def test_no_thread_where_numba_is_loaded_already(monkeypatch):
    """A process that loaded Numba itself (a library user's, a forked batch worker) loads its
    kernels as it calls them: no thread, which would also stop a batch from forking."""
    import numba  # noqa: F401

    monkeypatch.setattr(preload, "_asked", set())
    before = threading.active_count()
    preload.start(64)
    assert threading.active_count() == before and preload._asked == set()


LEAN_COMPRESS = """
import sys
from quantize import runtime
from quantize.cli import main
runtime.enable()  # as the command line does: lean unless QUANTIZE_LEAN_START=0
try:
    main(["compress", sys.argv[1], "-k", "8", "-o", sys.argv[2], "--force", "-q"])
except SystemExit as exit:
    assert not exit.code, exit.code
print("imported:", *(name for name in ("scipy", "yaml") if name in sys.modules))
import scipy, yaml  # still importable by anyone else
"""


def test_a_lean_compress_imports_numba_without_scipy_and_yaml(tmp_path):
    """Numba imports SciPy only to check its version and PyYAML only for a .numba_config.yaml;
    a lean process (the command line's, see quantize.runtime) skips both, unless that file is in
    the working folder."""
    pytest.importorskip("yaml")
    photo = tmp_path / "photo.png"
    Image.fromarray(make_photo()).save(photo)

    def imported(lean: str) -> list[str]:
        proc = subprocess.run([sys.executable, "-c", LEAN_COMPRESS, str(photo), str(tmp_path)],
                              capture_output=True, text=True, timeout=300, cwd=tmp_path,
                              env={**os.environ, "QUANTIZE_LEAN_START": lean})
        assert proc.returncode == 0, proc.stderr
        return proc.stdout.splitlines()[-1].split()[1:]

    assert imported("0") == ["scipy", "yaml"]
    assert imported("1") == []
    (tmp_path / ".numba_config.yaml").write_text("{}\n")
    assert imported("1") == ["yaml"]


# Record, in a new process, which thread imports each Numba module and whether the side thread had
# finished its imports by then; the side thread's imports are slowed down so that the main thread
# reaches its own first kernel while they are still under way.
IMPORTERS = """
import json, sys, threading, time
from quantize import preload
from quantize.jobs.pipeline import CompressOptions, FitOptions, compress_file

seen = []

class Watch:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "numba":
            seen.append((threading.current_thread().name, preload._imported.is_set()))
        return None

sys.meta_path.insert(0, Watch())
kernels = preload._kernels

def slow(need):
    time.sleep(0.5)
    yield from kernels(need)

preload._kernels = slow
compress_file(sys.argv[1], sys.argv[2], options=CompressOptions(fit=FitOptions(k=8)))
print(json.dumps(seen))
"""


def test_the_main_thread_imports_no_numba_module_while_the_side_thread_does(tmp_path):
    photo = tmp_path / "photo.png"
    Image.fromarray(make_photo(48, 64)).save(photo)
    proc = subprocess.run([sys.executable, "-c", IMPORTERS, str(photo), str(tmp_path / "out")],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    seen = json.loads(proc.stdout.splitlines()[-1])
    assert any(thread == "quantize-preload" for thread, _ in seen)
    assert [entry for entry in seen if entry[0] != "quantize-preload" and not entry[1]] == []


def test_the_kernels_package_brings_numba_whole_so_threads_importing_at_once_wait():
    # Three threads of a new process (compress, KMeans.fit, compress_file's side thread) importing
    # Numba at once once ended in "_DeadlockError: deadlock detected by _ModuleLock(
    # 'numba.core.sigutils')", then "module 'numba' has no attribute 'core'" on every later call:
    # the side thread imported Numba's modules by their dotted names while another thread was inside
    # `import numba`. The kernels' package, which every thread passes first, imports it whole.
    proc = subprocess.run([sys.executable, "-c", "import sys, quantize.core.kernels; "
                           "print('numba.core.sigutils' in sys.modules)"],
                          capture_output=True, text=True, timeout=600)
    assert proc.stdout.split() == ["True"], proc.stderr[-3000:]


# The side thread made slow: a compress that succeeds returns only once it is done.
SLOW_SIDE_THREAD = """
import pathlib, sys, time
from quantize import preload
from quantize.jobs.pipeline import compress_file

load, marker = preload._load, pathlib.Path(sys.argv[1])
def slow(*args):
    load(*args)
    time.sleep(1.0)
    marker.write_text("done")
preload._load = slow
compress_file(sys.argv[2], sys.argv[3], formats=("qnt",))
print(marker.exists())
"""


def test_a_compress_returns_only_once_the_side_thread_is_done(tmp_path):
    # Killed at the exit, a kernel the side thread was compiling (the template coder's, which a
    # photo never calls) never reached the cache, so every run compiled it again, beside the work.
    Image.fromarray(make_photo(24, 32)).save(tmp_path / "p.png")
    proc = subprocess.run([sys.executable, "-c", SLOW_SIDE_THREAD, tmp_path / "side-thread-done",
                           tmp_path / "p.png", tmp_path / "out"], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split() == ["True"]
