"""quantize against the anchors, side by side in one run: speed and quality on one photo.

    python benchmarks/compare.py                 # the 2.36-MP Kodak mosaic, K = 256
    python benchmarks/compare.py -k 64 --image some.png --repeat 5

Anchors: the classic scikit-learn recipe (KMeans(n_clusters=K, n_init=3, max_iter=100,
random_state=42) on a 50,000-pixel sample, then predict on every pixel), pngquant --nofs K (whole
process), Pillow's median cut, ImageMagick -colors K (whole process, undithered). Ours is timed
in-process (colour statistics, fit and mapping after loading, warm Numba cache; the quality metrics
are left out, as they are for the recipe) and as a whole `quantize compress` process. In-process
runs are warmed once first (Numba's kernels, scikit-learn's import), processes run once untimed.
Times are the minimum of --repeat runs; quality is MSE (summed over RGB), PSNR, mean CIEDE2000.
The two whole processes are also run in turn for --alternate rounds and compared by their medians,
which a drift of the machine's speed moves less than the minima of runs taken one after another.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from common import (alternating_times, available, best_time, mosaic_2mp, palette_and_indices,
                    run_process, space_option)
from quantize.core.fitting import FitOptions
from quantize.io.images import image_from_array
from quantize.core.metrics import mean_delta_e, mse, psnr
from quantize.jobs.pipeline import CompressOptions, quantize_image


def recipe(pixels: np.ndarray, k: int):
    from sklearn.cluster import KMeans

    flat = pixels.reshape(-1, 3).astype(np.float64)
    sample = np.random.default_rng(42).choice(len(flat), 50_000, replace=False)
    km = KMeans(n_clusters=k, n_init=3, max_iter=100, random_state=42).fit(flat[sample])
    labels = km.predict(flat)
    palette = np.clip(np.rint(km.cluster_centers_), 0, 255).astype(np.uint8)
    return palette, labels.reshape(pixels.shape[:2])


def pillow_median_cut(pixels: np.ndarray, k: int):
    im = Image.fromarray(pixels).quantize(k, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    palette = np.asarray(im.getpalette()[: 3 * k], np.uint8).reshape(-1, 3)
    return palette, np.asarray(im)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--image", type=Path)
    parser.add_argument("-k", type=int, default=256)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--space", default=None, help="colour space of our fit (default: the default)")
    parser.add_argument("--alternate", type=int, default=15,
                        help="rounds of our process and pngquant's run in turn (0: none)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="quantize-bench-") as work:
        run(args, Path(work))


def run(args: argparse.Namespace, work: Path) -> None:
    """Every method on the photo, then the table and the ratios; scratch files go in ``work``."""
    path = args.image or mosaic_2mp(work)
    pixels = np.asarray(Image.open(path).convert("RGB"))
    image = image_from_array(pixels)
    k = args.k
    print(f"{path.name}: {pixels.shape[1]}x{pixels.shape[0]} ({pixels.shape[0] * pixels.shape[1] / 1e6:.2f} MP), K={k}")

    rows: dict[str, tuple[float, np.ndarray, np.ndarray]] = {}
    options = CompressOptions(fit=FitOptions(k=k, **space_option(args.space)))
    quantize_image(image, options)  # warm the Numba cache and the process
    runs = [quantize_image(image, options) for _ in range(args.repeat)]
    # stats + fit + map, as the recipe's fit + predict (neither is charged for measuring quality)
    t = min(sum(v for stage, v in r.seconds.items() if stage != "metrics") for r in runs)
    rows["quantize (in-process)"] = (t, runs[-1].palette, runs[-1].indices)
    # warmed once, as ours is: its first call also imports scikit-learn (~0.9 s more)
    t, (pal, idx) = best_time(lambda: recipe(pixels, k), args.repeat, warm=True)
    rows["sklearn recipe (in-process)"] = (t, pal, idx)
    t, (pal, idx) = best_time(lambda: pillow_median_cut(pixels, k), args.repeat, warm=True)
    rows["Pillow median cut"] = (t, pal, idx)

    ours_cmd = [sys.executable, "-m", "quantize", "compress", str(path), "-k", str(k),
                "-o", str(work / "ours"), "--force", "-q"] + (["--space", args.space] if args.space else [])
    t, _ = best_time(lambda: run_process(ours_cmd), args.repeat, warm=True)
    from quantize.io.container import load

    packed = load(work / "ours" / (path.stem + ".qnt"))
    rows["quantize compress (process)"] = (t, packed.palette, packed.indices)
    if available("pngquant"):
        pq_cmd = ["pngquant", "--nofs", "--force", "-o", str(work / "pq.png"), str(k), str(path)]
        t, _ = best_time(lambda: run_process(pq_cmd), args.repeat, warm=True)
        rows["pngquant --nofs (process)"] = (t, *palette_and_indices(
            np.asarray(Image.open(work / "pq.png").convert("RGB"))))
    if available("convert"):
        cmd = ["convert", str(path), "-dither", "None", "-colors", str(k), str(work / "im.png")]
        t, _ = best_time(lambda: run_process(cmd), args.repeat, warm=True)
        rows["ImageMagick -colors (process)"] = (t, *palette_and_indices(
            np.asarray(Image.open(work / "im.png").convert("RGB"))))

    print(f"\n{'method':32} {'seconds':>8} {'MSE':>8} {'PSNR dB':>8} {'dE2000':>7}")
    quality = {}
    for name, (t, pal, idx) in rows.items():
        m = mse(pixels, pal, idx)
        quality[name] = psnr(m)
        print(f"{name:32} {t:8.3f} {m:8.2f} {psnr(m):8.3f} {mean_delta_e(pixels, pal, idx):7.3f}")
    ours_in, ours_proc = rows["quantize (in-process)"][0], rows["quantize compress (process)"][0]
    print("\nratios (same run):")
    print(f"  recipe time / quantize in-process time: {rows['sklearn recipe (in-process)'][0] / ours_in:6.2f}x  (target >= 10)")
    if "pngquant --nofs (process)" in rows:
        print(f"  quantize process time / pngquant process time: {ours_proc / rows['pngquant --nofs (process)'][0]:6.2f}  (target <= 1)")
        if args.alternate:
            ours_t, pq_t = (np.median(t) for t in alternating_times([ours_cmd, pq_cmd], args.alternate))
            print(f"  the same, medians of {args.alternate} alternating runs: {ours_t:.3f} s / "
                  f"{pq_t:.3f} s = {ours_t / pq_t:.2f}  (target <= 1)")
    for name in rows:
        if not name.startswith("quantize"):
            print(f"  PSNR ours - {name}: {quality['quantize (in-process)'] - quality[name]:+.3f} dB")


if __name__ == "__main__":
    main()
