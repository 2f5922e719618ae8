"""Benchmark: the default 8-value sweep against one ``compress -k 256``, on a ~2-megapixel photo.

    PYTHONPATH=. python benchmarks/sweep_speed.py [--repeat 3] [--process]

The photo is benchmarks/common.py's 3x2 mosaic of six Kodak images (2304x1024). Both runs are in
one warm process (kernels compiled by a first run) and go from the PNG file to the result: compress
writes its packed file and preview; the sweep encodes both in memory for every K and scores the
silhouette. Times are the minimum over ``--repeat`` runs (the machine is shared). ``--process``
adds whole ``python -m quantize`` processes. Target: ratio <= 3.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from common import mosaic_2mp, run_process
from quantize.core.fitting import FitOptions
from quantize.jobs.pipeline import CompressOptions, compress_file
from quantize.jobs.sweep import DEFAULT_KS, sweep_file


def best_of(repeat: int, runs: dict[str, Callable[[], object]]) -> dict[str, float]:
    """The minimum time of each run over ``repeat`` rounds; rounds interleave the runs, so a
    shared machine's changing load falls on all of them alike."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: min(t) for name, t in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--process", action="store_true", help="also time whole CLI processes")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        photo = mosaic_2mp(Path(tmp))
        options = CompressOptions(fit=FitOptions(k=256))
        out = Path(tmp) / "out"

        def compress() -> None:
            compress_file(photo, out, options=options, force=True)

        def sweep() -> None:
            sweep_file(photo, DEFAULT_KS, options=options)

        def sweep_pictures() -> None:
            sweep_file(photo, DEFAULT_KS, Path(tmp) / "sweep", options=options, force=True)

        compress(), sweep()  # compile and load every kernel first
        runs = {"compress -k 256 (anchor)": compress, "sweep, default K": sweep,
                "sweep -o DIR (pictures, page)": sweep_pictures}
        if args.process:
            cli = [sys.executable, "-m", "quantize"]
            runs["process: compress -k 256"] = lambda: run_process(
                [*cli, "compress", str(photo), "-k", "256", "-o", str(out), "-f"])
            runs["process: sweep"] = lambda: run_process([*cli, "sweep", str(photo), "-q"])
        times = best_of(args.repeat, runs)
    anchor = times["compress -k 256 (anchor)"]
    print(f"2304x1024 Kodak mosaic, K = {','.join(map(str, DEFAULT_KS))}; best of {args.repeat}")
    print("x compress: in-process rows over the in-process compress, process rows over the process one")
    print(f"{'run':32} {'seconds':>8} {'x compress':>10}")
    for name, seconds in times.items():
        base = times["process: compress -k 256"] if name.startswith("process:") else anchor
        print(f"{name:32} {seconds:8.2f} {seconds / base:10.2f}")
    print(f"sweep / compress -k 256 in one process: {times['sweep, default K'] / anchor:.2f} "
          f"(target <= 3)")

if __name__ == "__main__":
    main()
