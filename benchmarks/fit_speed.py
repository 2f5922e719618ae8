"""Dev benchmark of the palette fit: per-stage times on one image, and MSE against a reference.

    PYTHONPATH=. python benchmarks/fit_speed.py IMAGE [-k 256] [--repeat 5] [--ref ref.json] [--space rgb]
    PYTHONPATH=. python benchmarks/fit_speed.py --kodak DIR --ref skref.json [-k 16 64 256]

Times are the minimum over ``--repeat`` warm runs (the machine is shared: the minimum is the
least disturbed run). The reference JSON maps "name:K" to {"mse": ...} (scikit-learn KMeans fitted
on all pixels); the quality table prints our MSE over it, per K mean and max.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from PIL import Image

import common  # noqa: F401  (puts this checkout first on sys.path)
from quantize.core.colorstats import color_stats
from quantize.core.fitting import DEFAULT_SPACE, FitOptions, fit_palette, to_palette
from quantize.core.mapping import map_pixels


def run(pixels: np.ndarray, options: FitOptions) -> tuple[dict[str, float], float]:
    """One pass of the pipeline's in-process stages: seconds per stage and the MSE."""
    t0 = time.perf_counter()
    stats = color_stats(pixels)
    t1 = time.perf_counter()
    fit = fit_palette(pixels, stats.in_space(options.space), options)
    palette = to_palette(fit.centers)
    t2 = time.perf_counter()
    idx = map_pixels(pixels, stats.in_space(options.space), palette)
    t3 = time.perf_counter()
    # MSE per distinct colour weighted by its count: no per-pixel float copy.
    labels = idx.reshape(-1)[_first_pixel(pixels, stats)]
    diff = stats.colors.astype(np.float64) - palette[labels]
    mse = float(stats.counts @ (diff * diff).sum(1) / stats.n_pixels)
    times = {"stats": t1 - t0, "fit": t2 - t1, "map": t3 - t2, "total": t3 - t0,
             "n_iter": fit.n_iter}
    return times, mse


def _first_pixel(pixels: np.ndarray, stats) -> np.ndarray:
    """A pixel index for every distinct colour."""
    rows = stats.gather(pixels, np.arange(stats.n_colors, dtype=np.int32))
    first = np.empty(stats.n_colors, np.int64)
    first[rows[::-1]] = np.arange(len(rows))[::-1]
    return first


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("image", nargs="?")
    ap.add_argument("-k", type=int, nargs="+", default=[256])
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--kodak", help="a folder of PNG photos, each fitted once")
    ap.add_argument("--ref", help="reference MSEs, as kodak_quality.py --reference writes them")
    ap.add_argument("--space", default=DEFAULT_SPACE, help="colour space of the fit")
    args = ap.parse_args()
    ref = json.loads(Path(args.ref).read_text()) if args.ref else {}
    if args.image:
        pixels = np.asarray(Image.open(args.image).convert("RGB"))
        for k in args.k:
            runs = [run(pixels, FitOptions(k=k, space=args.space)) for _ in range(args.repeat + 1)][1:]
            best = {key: min(r[0][key] for r in runs) for key in runs[0][0]}
            mse = runs[0][1]
            key = f"{Path(args.image).stem}:{k}"
            ratio = f"  mse/ref {mse / ref[key]['mse']:.4f}" if key in ref else ""
            print(f"{Path(args.image).name} K={k}: " +
                  " ".join(f"{name} {v:.3f}" for name, v in best.items()) + f"  mse {mse:.3f}{ratio}")
    if args.kodak:
        ratios: dict[int, list[float]] = {k: [] for k in args.k}
        for path in sorted(Path(args.kodak).glob("*.png")):
            pixels = np.asarray(Image.open(path).convert("RGB"))
            for k in args.k:
                times, mse = run(pixels, FitOptions(k=k, space=args.space))
                key = f"{path.stem}:{k}"
                ratio = ""
                if key in ref:
                    ratios[k].append(mse / ref[key]["mse"])
                    ratio = f"  mse/ref {ratios[k][-1]:.4f}"
                print(f"{key:12s} mse {mse:8.3f}{ratio}  fit {times['fit']:.3f}s", flush=True)
        for k, rs in ratios.items():
            if rs:
                print(f"K={k}: n={len(rs)} mse/ref mean {np.mean(rs):.4f} max {np.max(rs):.4f}")


if __name__ == "__main__":
    main()
