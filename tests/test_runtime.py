"""Process-level settings (quantize.runtime): the library changes none, the command line owns them,
and lean kernel loading steps aside for a Numba it was not tested with."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from conftest import make_photo
from quantize import runtime

# What a process-wide change would touch, recorded before and after the library's calls.
STATE = """
import atexit, json, logging, os, signal, sys, warnings
import multiprocessing.util  # registers its own exit handler on import (Numba's threads import it)
import numba
import PIL.Image
from numba.core.caching import Cache

def state():
    loggers = {name: (logger.level, len(logger.handlers), logger.propagate, logger.disabled)
               for name, logger in logging.root.manager.loggerDict.items()
               if isinstance(logger, logging.Logger)}
    return {"environ": dict(os.environ), "pillow_limit": PIL.Image.MAX_IMAGE_PIXELS,
            "meta_path": [repr(f) for f in sys.meta_path],
            "load_overload": repr(Cache.load_overload),
            "signals": [repr(signal.getsignal(s)) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)],
            "showwarning": repr(warnings.showwarning), "exit_handlers": atexit._ncallbacks(),
            "warning_filters": [repr(f) for f in warnings.filters],
            "root_logger": (logging.root.level, [repr(h) for h in logging.root.handlers]),
            "loggers": {name: value for name, value in loggers.items()
                        if value != (logging.NOTSET, 0, True, False)},
            "numba": [repr(getattr(numba.config, name)) for name in ("NUMBA_NUM_THREADS",
                                                                     "THREADING_LAYER")]}
"""

LIBRARY = STATE + """
import sklearn.base, sklearn.utils.validation  # scikit-learn's own settings, made as it loads
before = state()
import quantize
result = quantize.compress(sys.argv[1], k=8)
quantize.compress_file(sys.argv[1], sys.argv[2], options=quantize.CompressOptions(
    fit=quantize.FitOptions(k=300)))
assert result.k == 8
labels = quantize.KMeans(8, n_init=2, random_state=0).fit_predict(result.palette)
print(json.dumps({"before": before, "after": state()}))
"""


def _run(script: str, *args: object) -> dict:
    proc = subprocess.run([sys.executable, "-c", script, *map(str, args)], capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.splitlines()[-1])


def test_the_library_changes_nothing_process_wide(tmp_path: Path) -> None:
    photo = tmp_path / "photo.png"
    Image.fromarray(make_photo(96, 128)).save(photo)
    report = _run(LIBRARY, photo, tmp_path / "out")
    assert report["after"] == report["before"]
    assert (tmp_path / "out" / "photo.qnt").exists()


CLI = STATE + """
before = state()
from quantize import runtime
runtime.enable()
import quantize.core.kernels
print(json.dumps({"before": before, "after": state()}))
"""


def test_the_command_line_switches_its_settings_on() -> None:
    report = _run(CLI)
    before, after = report["before"], report["after"]
    assert after["environ"]["OMP_WAIT_POLICY"] == before["environ"].get("OMP_WAIT_POLICY", "PASSIVE")
    assert before["pillow_limit"] and after["pillow_limit"] is None
    assert after["load_overload"] != before["load_overload"]  # lean loading
    assert after["meta_path"] == before["meta_path"]  # the import filter is gone once Numba is in
    assert after["exit_handlers"] == before["exit_handlers"] + 1


FALLBACK = """
import sys
import numba
numba.__version__ = sys.argv[1]  # a release lean loading was not tested with
from numba.core.caching import Cache
original = Cache.load_overload
from quantize import runtime
runtime.lean_kernel_loading()
import quantize
result = quantize.compress(sys.argv[2], k=16)
print('{"patched": %s, "digest": "%s"}' % (str(Cache.load_overload is not original).lower(),
                                          __import__("hashlib").sha256(result.indices.tobytes()
                                                                       + result.palette.tobytes()).hexdigest()))
"""


def test_an_untested_numba_loads_kernels_the_ordinary_way(tmp_path: Path) -> None:
    photo = tmp_path / "photo.png"
    Image.fromarray(make_photo(96, 128)).save(photo)
    low, high = runtime.TESTED_NUMBA
    tested = _run(FALLBACK, f"{low[0]}.{low[1]}.0", photo)
    untested = _run(FALLBACK, f"{high[0]}.{high[1]}.0", photo)
    assert tested["patched"] and not untested["patched"]
    assert untested["digest"] == tested["digest"]


def test_lean_loading_needs_the_private_shape_it_relies_on() -> None:
    from numba.core.caching import Cache
    from numba.core.runtime import rtsys

    import numba

    assert runtime.numba_supports_lean(numba.__version__, Cache.load_overload, rtsys)
    assert not runtime.numba_supports_lean("0.58.1", Cache.load_overload, rtsys)
    assert not runtime.numba_supports_lean("1.0.0", Cache.load_overload, rtsys)

    def renamed(self, signature, context):  # a refactored private method
        return None

    assert not runtime.numba_supports_lean(numba.__version__, renamed, rtsys)
    assert not runtime.numba_supports_lean(numba.__version__, Cache.load_overload, object())


def test_pyproject_pins_the_tested_numba_range(pyproject) -> None:
    (pin,) = [d for d in pyproject["dependencies"] if d.startswith("numba")]
    low, high = runtime.TESTED_NUMBA
    assert pin == f"numba>={low[0]}.{low[1]},<{high[0]}.{high[1]}"


FIRST_RUN = """
import sys
from quantize import runtime
runtime.enable(notify=lambda text: print("note:", text))
import quantize
quantize.compress(sys.argv[1], k=8)
print("done")
"""


def test_the_first_run_says_the_kernels_compile(tmp_path: Path, photo_path: Path) -> None:
    """With an empty Numba cache the command line announces the compile, once; when the cache
    holds the kernels, nothing is said."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    said = []
    for _ in range(2):
        proc = subprocess.run([sys.executable, "-c", FIRST_RUN, str(photo_path)],
                              capture_output=True, text=True, timeout=600, env=env)
        assert proc.returncode == 0, proc.stderr
        said.append(proc.stdout.splitlines())
    assert said[0] == ["note: " + runtime.COMPILING.format(seconds=runtime.COMPILE_SECONDS), "done"]
    assert said[1] == ["done"]


BLOCKS = """
import ctypes, sys
import numpy as np
from quantize import runtime

class Info(ctypes.Structure):  # glibc's struct mallinfo2
    _fields_ = [(name, ctypes.c_size_t) for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd",
                                                       "usmblks", "fsmblks", "uordblks", "fordblks",
                                                       "keepcost")]

mallinfo2 = ctypes.CDLL(None).mallinfo2
mallinfo2.restype = Info
if sys.argv[1] == "on":
    runtime.return_large_blocks()
small = np.ones(12 << 20, np.uint8)
below = mallinfo2().hblkhd  # bytes in blocks mapped apart (given back when freed)
large = np.ones(24 << 20, np.uint8)
print('{"below": %d, "above": %d}' % (below, mallinfo2().hblkhd - below))
"""


LIBC, LIBC_VERSION = platform.libc_ver()


@pytest.mark.skipif(LIBC != "glibc" or tuple(map(int, LIBC_VERSION.split(".")[:2])) < (2, 33),
                    reason="glibc's malloc (2.33 or later, for mallinfo2)")
def test_the_command_line_gives_large_freed_blocks_back() -> None:
    # glibc's own threshold starts at 128 KiB and then rises with each large free (up to 32 MiB),
    # which is what keeps the freed blocks; the fixed one stays at MMAP_THRESHOLD
    assert (12 << 20) < runtime.MMAP_THRESHOLD < (24 << 20)
    default = _run(BLOCKS, "off")
    assert default["below"] >= 12 << 20  # a fresh process maps even the 12 MiB block
    fixed = _run(BLOCKS, "on")
    assert fixed["below"] < 12 << 20 and fixed["above"] >= 24 << 20
