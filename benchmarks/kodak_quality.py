"""Palette quality on the Kodak set: quantize's default against scikit-learn KMeans on all pixels.

    python benchmarks/kodak_quality.py                   # 24 images x K = 16, 64, 256 (~30 min)
    python benchmarks/kodak_quality.py -k 64 --images kodim05 kodim23
    python benchmarks/kodak_quality.py --reference ref.json   # reuse / extend saved references

The reference is KMeans(n_clusters=K, n_init=3, random_state=42) fitted on every pixel, its centres
rounded to uint8 and every pixel mapped to the nearest; it is deterministic, so --reference may
save it between runs (the file is only a cache of that computation). MSE is the squared RGB error
summed over the three channels, mean over pixels. Targets (issue 2): every image within 1 % of the
reference; kodim05 at K=64 at most 106.5.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from PIL import Image

from common import require_kodak, space_option
from quantize.core.fitting import FitOptions
from quantize.io.images import image_from_array
from quantize.core.mapping import nearest_indices
from quantize.core.metrics import mse
from quantize.jobs.pipeline import CompressOptions, quantize_image


def reference_mse(pixels: np.ndarray, k: int) -> float:
    from sklearn.cluster import KMeans

    flat = pixels.reshape(-1, 3).astype(np.float64)
    km = KMeans(n_clusters=k, n_init=3, random_state=42).fit(flat)
    palette = np.clip(np.rint(km.cluster_centers_), 0, 255).astype(np.uint8)
    return mse(pixels, palette, nearest_indices(flat, palette).reshape(pixels.shape[:2]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-k", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--images", nargs="+", help="names like kodim05 (default: all 24)")
    parser.add_argument("--reference", type=Path, help="JSON cache of the reference MSEs")
    parser.add_argument("--space", default=None, help="colour space of our fit (default: the default)")
    args = parser.parse_args()
    folder = require_kodak()
    names = args.images or sorted(p.stem for p in folder.glob("kodim*.png"))
    ref = json.loads(args.reference.read_text()) if args.reference and args.reference.exists() else {}
    warm = image_from_array(np.asarray(Image.open(folder / f"{names[0]}.png").convert("RGB")))
    for k in args.k:  # the first fit in a process also loads the kernels: not timed
        quantize_image(warm, CompressOptions(fit=FitOptions(k=k, **space_option(args.space)),
                                             delta_e_samples=1))
    print(f"{'image':8} {'K':>4} {'ours MSE':>9} {'ref MSE':>9} {'ours/ref':>8} {'ours s':>7}")
    ratios: dict[int, list[float]] = {k: [] for k in args.k}
    for name in names:
        pixels = np.asarray(Image.open(folder / f"{name}.png").convert("RGB"))
        image = image_from_array(pixels)
        for k in args.k:
            key = f"{name}:{k}"
            if key not in ref:
                ref[key] = {"mse": reference_mse(pixels, k)}
                if args.reference:
                    args.reference.write_text(json.dumps(ref, indent=1))
            start = time.perf_counter()
            fit = FitOptions(k=k, **space_option(args.space))
            ours = quantize_image(image, CompressOptions(fit=fit, delta_e_samples=1))
            seconds = time.perf_counter() - start
            ratio = ours.mse / ref[key]["mse"]
            ratios[k].append(ratio)
            flag = "" if ratio <= 1.01 else "  > 1%"
            print(f"{name:8} {k:4} {ours.mse:9.2f} {ref[key]['mse']:9.2f} {ratio:8.4f} {seconds:7.3f}{flag}")
    print("\nper K, ours/ref (the reference: sklearn KMeans on all pixels): mean, max, images over 1 %")
    for k, r in ratios.items():
        print(f"  K={k:<4} {np.mean(r):.4f}  {np.max(r):.4f}  {sum(x > 1.01 for x in r)}/{len(r)}")


if __name__ == "__main__":
    main()
