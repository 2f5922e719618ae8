"""Whole ``quantize batch`` processes on the 24 Kodak images at K=256: --jobs 2 against --jobs 1, and
against pngquant (``pngquant --nofs 256`` on the same files in one process), as images per second.

    python benchmarks/batch_speed.py [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import available, process_env, require_kodak


def timed(cmd: list[str], **kwargs) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **kwargs)
    return time.perf_counter() - start


def batch_seconds(files: list[Path], work: Path, jobs: int, repeat: int) -> tuple[float, float]:
    """Best wall time of a whole ``quantize batch`` process, and the mean PSNR it reports."""
    env = process_env()
    best = float("inf")
    for i in range(repeat):
        out = work / f"jobs{jobs}-{i}"
        cmd = [sys.executable, "-m", "quantize", "batch", *map(str, files), "-o", str(out),
               "-k", "256", "--jobs", str(jobs), "-q"]
        best = min(best, timed(cmd, env=env))
    psnr = json.loads((out / "manifest.json").read_text())["summary"]["mean_psnr"]
    return best, psnr


def pngquant_seconds(files: list[Path], work: Path, repeat: int) -> float | None:
    if not available("pngquant"):
        return None
    copies = work / "pngquant"
    copies.mkdir()
    for f in files:
        shutil.copy(f, copies)
    cmd = ["pngquant", "--nofs", "--force", "--ext", ".q.png", "256",
           *sorted(str(p) for p in copies.glob("*.png"))]
    return min(timed(cmd) for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=2, help="runs per row; the best is kept")
    args = parser.parse_args()
    files = sorted(require_kodak().glob("kodim*.png"))
    n = len(files)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        one, psnr1 = batch_seconds(files, work, 1, args.repeat)
        two, psnr2 = batch_seconds(files, work, 2, args.repeat)
        png = pngquant_seconds(files, work, args.repeat)
    print(f"{n} Kodak images, K=256, whole processes, best of {args.repeat}")
    print(f"{'run':28} {'seconds':>8} {'images/s':>9} {'mean PSNR':>10}")
    print(f"{'quantize batch --jobs 1':28} {one:8.2f} {n / one:9.2f} {psnr1:10.2f}")
    print(f"{'quantize batch --jobs 2':28} {two:8.2f} {n / two:9.2f} {psnr2:10.2f}")
    if png is not None:
        print(f"{'pngquant --nofs 256':28} {png:8.2f} {n / png:9.2f} {'-':>10}")
    print(f"jobs 1 time / jobs 2 time: {one / two:.2f} (target >= 1.7)")
    if png is not None:
        print(f"pngquant time / jobs 2 time: {png / two:.2f} "
              f"(quantize batch --jobs 2 {'faster' if two < png else 'slower'})")


if __name__ == "__main__":
    main()
