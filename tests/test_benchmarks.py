"""The benchmarks on a machine holding the Kodak photos but not CQ100's: one line says what is
left out and why, as for a missing anchor, instead of a traceback or a silent change of set."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _kodak_only(tmp_path: Path, *names: str) -> Path:
    """A QUANTIZE_IMAGES folder of kodak/ alone, its photos ``names`` (640x400 noise)."""
    rng = np.random.default_rng(1)
    (tmp_path / "kodak").mkdir()
    for name in names:
        Image.fromarray(rng.integers(0, 256, (400, 640, 3), np.uint8)).save(
            tmp_path / "kodak" / f"{name}.png")
    return tmp_path


def _bench(script: str, images: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "QUANTIZE_IMAGES": str(images),
           "PYTHONPATH": os.pathsep.join([str(BENCHMARKS.parent), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, str(BENCHMARKS / script), *args], capture_output=True,
                          text=True, env=env, cwd=BENCHMARKS, timeout=300)


def test_the_animation_benchmark_skips_a_clip_of_cq100_photos_with_a_line(tmp_path):
    """The fade clip ended in FileNotFoundError on peacock.png."""
    images = _kodak_only(tmp_path, "kodim14")
    proc = _bench("animation.py", images, "--clips", "fade")
    assert proc.returncode == 0, proc.stderr
    assert f"fade: skipped, {images / 'cq100_subset'} not found (set QUANTIZE_IMAGES" in proc.stdout


def test_the_perceptual_benchmark_says_when_it_compares_spaces_on_kodak_alone(tmp_path):
    """--spaces measured Kodak alone, saying nothing, when CQ100 was not there."""
    images = _kodak_only(tmp_path, "kodim01")
    proc = _bench("perceptual.py", images, "--spaces", "-k", "2")
    assert proc.returncode == 0, proc.stderr
    assert f"photos skipped: {images / 'cq100_subset'} not found" in proc.stdout
    assert "Kodak alone" in proc.stdout and "\n1 images\n" in proc.stdout


def test_peak_rss_charges_the_command_alone_not_the_benchmark_that_ran_it():
    """A command started by a benchmark was charged the memory the benchmark had held: Linux
    carries the starting process's peak into the child's."""
    script = ("import sys, numpy as np\n"
              "from benchmarks.common import peak_rss\n"
              "held = np.ones(400 << 20, np.uint8)\n"
              "del held\n"
              "print(peak_rss([sys.executable, '-c', 'pass'])[0] >> 20)")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(BENCHMARKS.parent),
                                                        os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout) < 100, proc.stdout  # an interpreter that does nothing
