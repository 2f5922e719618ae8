"""Peak memory of ``quantize compress -k 256`` on 5, 18 and 100 megapixel photos.

The photos are a Kodak image tiled (alternate tiles mirrored) with mild Gaussian noise, so colours
are not all repeated; they are written once as PNG into a temporary folder and reused. Each size
runs as a whole child process; its peak memory is the child's max RSS from ``os.wait4``. The budget
is the issue's: 4x the decoded RGB bytes + 150 MB.

    python benchmarks/memory.py            # all three sizes (the 100-MP one takes a few minutes)
    python benchmarks/memory.py 5 18       # chosen sizes, in megapixels
    python benchmarks/memory.py 18 --stages  # also the peak RSS of each stage (sampled in-process)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]
from common import REPO, peak_rss, require_kodak  # noqa: E402

SIZES = {5: (2736, 1824), 18: (5184, 3456), 100: (12288, 8192)}  # megapixels -> (width, height)
TILE = "kodim05"
NOISE_SIGMA = 2.0
MB = 1 << 20
FOLDER = Path(tempfile.gettempdir()) / "quantize-memory-bench"


def budget(width: int, height: int) -> int:
    """The issue's bound: 4x the decoded RGB bytes + 150 MB."""
    return 4 * width * height * 3 + 150 * MB


def photo(width: int, height: int) -> Path:
    """The tiled, noisy test photo of this size (generated once, row band by row band)."""
    path = FOLDER / f"tiled_{width}x{height}.png"
    if path.exists():
        return path
    FOLDER.mkdir(exist_ok=True)
    tile = np.asarray(Image.open(require_kodak() / f"{TILE}.png").convert("RGB"))
    th, tw = tile.shape[:2]
    row = np.concatenate([tile if i % 2 == 0 else tile[:, ::-1] for i in range(-(-width // tw))], 1)
    band = np.concatenate([row, row[::-1]], 0)[:, :width]
    out = np.empty((height, width, 3), np.uint8)
    rng = np.random.default_rng(0)
    for y in range(0, height, th):
        rows = band[(y // th) % 2 * th:][:min(th, height - y)]
        noisy = rows + rng.normal(0, NOISE_SIGMA, rows.shape)
        out[y:y + len(rows)] = np.clip(np.rint(noisy), 0, 255)
    Image.fromarray(out).save(path, compress_level=1)
    return path


def run(path: Path, out: Path) -> tuple[int, dict]:
    """Run ``quantize compress -k 256`` on ``path`` as a child; return its max RSS and JSON report."""
    rss, stdout = peak_rss([sys.executable, "-m", "quantize", "compress", str(path), "-k", "256",
                            "-o", str(out), "--json", "--force", "--allow-huge"], cwd=REPO)
    return rss, json.loads(stdout)


def stage_peaks(path: str, out: str) -> None:
    """In this process: run ``compress_file`` with an RSS sampler; print each stage's peak RSS."""
    import threading

    from quantize.jobs import pipeline

    page = os.sysconf("SC_PAGE_SIZE")
    peak = [0]

    def sample() -> None:
        with open("/proc/self/statm", "rb", buffering=0) as statm:
            while True:
                statm.seek(0)
                peak[0] = max(peak[0], int(statm.read().split()[1]) * page)
                time.sleep(0.002)

    threading.Thread(target=sample, daemon=True).start()
    peaks: dict[str, int] = {}
    stage = pipeline._Clock.stage

    def measured(self, name):
        peak[0] = 0
        with stage(self, name):
            yield
        time.sleep(0.005)
        peaks[name] = max(peaks.get(name, 0), peak[0])

    pipeline._Clock.stage = contextlib.contextmanager(measured)
    pipeline.compress_file(path, out, options=pipeline.CompressOptions(
        fit=pipeline.FitOptions(k=256)), force=True, allow_huge=True)
    print("        peak RSS by stage (MB): "
          + " ".join(f"{name} {value / MB:.0f}" for name, value in peaks.items()), flush=True)


def main(argv: list[str]) -> None:
    if argv[:1] == ["--stages-of"]:  # the child that --stages runs
        return stage_peaks(*argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, choices=sorted(SIZES), metavar="MP",
                        help=f"megapixels, of {', '.join(map(str, SIZES))} (default: all)")
    parser.add_argument("--stages", action="store_true",
                        help="also the peak RSS of each stage (sampled in-process)")
    args = parser.parse_args(argv)
    with_stages, sizes = args.stages, args.sizes or list(SIZES)
    print("quantize compress -k 256, max RSS of the whole process; budget = 4 x RGB bytes + 150 MB")
    print(f"{'MP':>5} {'size':>12} {'RGB MB':>7} {'RSS MB':>7} {'budget MB':>9} {'RSS/budget':>10} "
          f"{'seconds':>8}  stages")
    with tempfile.TemporaryDirectory() as out:
        for mp in sizes:
            width, height = SIZES[mp]
            path = photo(width, height)
            start = time.perf_counter()
            rss, report = run(path, Path(out))
            seconds = time.perf_counter() - start
            stages = " ".join(f"{k} {v:.1f}" for k, v in report["seconds"].items() if k != "total")
            print(f"{width * height / 1e6:5.1f} {f'{width}x{height}':>12} {width * height * 3 / MB:7.0f} "
                  f"{rss / MB:7.0f} {budget(width, height) / MB:9.0f} "
                  f"{rss / budget(width, height):10.2f} {seconds:8.1f}  {stages}", flush=True)
            if with_stages:
                subprocess.run([sys.executable, __file__, "--stages-of", str(path), out], check=True,
                               cwd=REPO)


if __name__ == "__main__":
    main(sys.argv[1:])
