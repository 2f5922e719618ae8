"""Shared helpers for the benchmarks: the photos, the anchors' outputs as palette + indices, timing."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
# Benchmarks measure the checkout they live in, not whichever quantize is installed (children too:
# process_env).
sys.path.insert(0, str(REPO))
# A checkout that does not sit beside the shared photos names their folder in QUANTIZE_IMAGES.
SHARED = Path(os.environ.get("QUANTIZE_IMAGES") or REPO.parent / "shared" / "images")
KODAK = SHARED / "kodak"
CQ100 = SHARED / "cq100_subset"
MOSAIC_TILES = ("kodim05", "kodim23", "kodim03", "kodim14", "kodim22", "kodim13")


def photos_missing(folder: Path) -> str | None:
    """Why the photos of ``folder`` (:data:`KODAK`, :data:`CQ100`) cannot be read, in a few words;
    None when the folder is there."""
    if folder.is_dir():
        return None
    return (f"{folder} not found (set QUANTIZE_IMAGES to the folder that holds kodak/ and "
            f"cq100_subset/)")


def require_kodak() -> Path:
    """The Kodak folder, or exit with a message when it is absent."""
    why = photos_missing(KODAK)
    if why:
        sys.exit(f"benchmark skipped: {why}")
    return KODAK


def mosaic_2mp(folder: Path) -> Path:
    """A 2304x1024 (2.36 MP) photo: six Kodak landscapes in a 3x2 mosaic; written once."""
    path = folder / "mosaic2mp.png"
    if not path.exists():
        tiles = [np.asarray(Image.open(require_kodak() / f"{n}.png").convert("RGB"))
                 for n in MOSAIC_TILES]
        rows = [np.concatenate(tiles[:3], 1), np.concatenate(tiles[3:], 1)]
        Image.fromarray(np.concatenate(rows, 0)).save(path)
    return path


def palette_and_indices(quantised: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Any quantised RGB image as (palette, indices), to measure it like our own output."""
    flat = quantised.reshape(-1, 3)
    palette, inverse = np.unique(flat, axis=0, return_inverse=True)
    return palette.astype(np.uint8), inverse.reshape(quantised.shape[:2])


def best_time(fn, repeat: int, warm: bool = False) -> tuple[float, object]:
    """Minimum wall time of ``repeat`` calls (the least disturbed on a shared machine), and the
    last call's value; with ``warm``, after one untimed call (imports, caches)."""
    if warm:
        fn()
    best, value = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        value = fn()
        best = min(best, time.perf_counter() - start)
    return best, value


def alternating_times(commands: list[list[str]], rounds: int) -> list[list[float]]:
    """Wall times of whole processes, the ``commands`` run in turn for ``rounds`` rounds (after one
    untimed round), so a drift of the shared machine's speed falls on all of them alike; the
    medians of these are steadier than minima of runs taken one command after another."""
    for cmd in commands:
        run_process(cmd)
    times: list[list[float]] = [[] for _ in commands]
    for _ in range(rounds):
        for cmd, taken in zip(commands, times):
            start = time.perf_counter()
            run_process(cmd)
            taken.append(time.perf_counter() - start)
    return times


def process_env(**extra: str) -> dict[str, str]:
    """The environment for the processes a benchmark starts: this checkout's quantize first, and as
    after ``pip install``, whose byte-compiled modules a process loads. Some machines set PYTHONDONTWRITEBYTECODE, which would have every run of a
    source checkout compile quantize's modules again (~0.03 s); here the untimed first run writes
    the bytecode and the timed ones use it."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env | extra


def run_process(cmd: list[str]) -> None:
    """Run a whole process (in :func:`process_env`), failing loudly."""
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                   env=process_env())


# Runs the command as its own child and writes that child's peak RSS (KiB) to the pipe named by
# argv[1]: a command started from the benchmark itself would be charged the benchmark's own
# peak, which Linux carries over fork and exec into the child's.
_LAUNCHER = """import os, subprocess, sys
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
os.write(int(sys.argv[1]), str(usage.ru_maxrss).encode())
sys.exit(os.waitstatus_to_exitcode(status))"""


def peak_rss(cmd: list[str], **popen) -> tuple[int, str]:
    """Run ``cmd`` as a child process: its peak RSS in bytes (``os.wait4``, from a small
    launcher) and its stdout; exit with its error line when it fails."""
    read, write = os.pipe()
    try:
        proc = subprocess.Popen([sys.executable, "-c", _LAUNCHER, str(write), *cmd],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env=process_env(), pass_fds=(write,), **popen)
    finally:
        os.close(write)
    with os.fdopen(read, "rb") as report:
        stdout, stderr = proc.communicate()
        kib = report.read()
    if proc.returncode:
        sys.exit(f"{' '.join(cmd[1:4])} failed ({proc.returncode}): {stderr.strip()}")
    return int(kib) * 1024, stdout  # ru_maxrss is in KiB on Linux


# How to get each anchor, for the one line that says it was skipped.
INSTALL = {
    "pngquant": "apt-get install pngquant", "cwebp": "apt-get install webp",
    "cjxl": "apt-get install libjxl-tools", "gifsicle": "apt-get install gifsicle",
    "convert": "apt-get install imagemagick", "ffmpeg": "apt-get install ffmpeg",
    "gifski": "npm install gifski, then put node_modules/gifski/bin/debian on PATH",
    "imagecodecs": "pip install imagecodecs", "skimage": "pip install scikit-image",
}
MODULES = ("imagecodecs", "skimage")


def missing(name: str) -> str:
    """Why anchor ``name`` is left out and how to install it, in a few words."""
    label = "ImageMagick's convert" if name == "convert" else name  # a stand-in may be on PATH
    return f"{label} not installed ({INSTALL[name]})"


def _installed(name: str) -> bool:
    if name in MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            return False
        return True
    path = shutil.which(name)
    if path is not None and name == "convert":  # a stand-in `convert` is not ImageMagick
        probe = subprocess.run([path, "-version"], capture_output=True, text=True)
        return "ImageMagick" in probe.stdout
    return path is not None


def available(name: str) -> bool:
    """Whether the anchor program or module ``name`` is installed; if not, says so in one line."""
    if _installed(name):
        return True
    print(f"anchor skipped: {missing(name)}", flush=True)
    return False


def need(name: str) -> None:
    """Exit with :func:`missing` when an anchor the benchmark cannot do without is absent."""
    if not _installed(name):
        sys.exit(f"benchmark skipped: {missing(name)}")


def space_option(space: str | None) -> dict[str, str]:
    """FitOptions keywords for ``--space`` (nothing when the default is wanted)."""
    return {} if space is None else {"space": space}
