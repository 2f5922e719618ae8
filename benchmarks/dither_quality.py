"""Every dither against none and against Floyd–Steinberg on the Kodak photos.

    PYTHONPATH=. python benchmarks/dither_quality.py              # 24 Kodak photos, K = 8 and 16
    PYTHONPATH=. python benchmarks/dither_quality.py --every 4 -k 16
    PYTHONPATH=. python benchmarks/dither_quality.py --palette acep7,bw   # built-in palettes

Per K, the palette is fitted once per photo (default space, undithered) and every dither maps to
it (with --palette, every dither maps to each built-in palette instead). Measures, means over the
photos: PSNR, and blurred ΔE = mean CIEDE2000 after a Gaussian blur
(sigma 1 pixel, per sRGB channel) of both the original and the output, on a fixed 200k-pixel
subsample (the eye averages neighbouring pixels, which is what a dither relies on); how many
photos each dither beats no dither on, and its blurred ΔE relative to fs; seconds of the mapping.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy.ndimage import gaussian_filter

from common import require_kodak
from quantize.core.colorspace import srgb8_to_lab
from quantize.core.dither import DITHERS
from quantize.core.fitting import FitOptions
from quantize.io.images import load_image
from quantize.io.palettes.builtin import builtin_palette
from quantize.core.metrics import ciede2000, mse, psnr, sample_positions
from quantize.jobs.pipeline import CompressOptions, quantize_image

N_SAMPLES = 200_000
BLUR_SIGMA = 1.0


def blurred_lab(pixels: np.ndarray, positions: np.ndarray) -> np.ndarray:
    blurred = gaussian_filter(pixels.astype(np.float64), sigma=(BLUR_SIGMA, BLUR_SIGMA, 0))
    return srgb8_to_lab(blurred.reshape(-1, 3)[positions])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", default="8,16", help="comma-separated K (default 8,16)")
    parser.add_argument("--every", type=int, default=1, help="every N-th photo only")
    parser.add_argument("--palette", default="", help="comma-separated built-in palettes instead of K")
    args = parser.parse_args()
    paths = sorted(require_kodak().glob("*.png"))[::args.every]
    warm = load_image(paths[0])  # every dither's kernels loaded before any is timed
    palette = quantize_image(warm, CompressOptions(fit=FitOptions(k=8))).palette
    for dither in DITHERS:
        quantize_image(warm, CompressOptions(palette=palette, dither=dither))
    runs = ([name for name in args.palette.split(",")] if args.palette
            else [int(v) for v in args.k.split(",")])
    for k in runs:
        rows: dict[str, list[tuple[float, float, float]]] = {d: [] for d in DITHERS}
        for path in paths:
            image = load_image(path)
            positions = sample_positions(image.height * image.width, N_SAMPLES)
            reference = blurred_lab(image.pixels, positions)
            palette = builtin_palette(k).colors if isinstance(k, str) else None
            plain = quantize_image(image, CompressOptions(fit=FitOptions(k=8 if palette is not None
                                                                           else k), palette=palette))
            for dither in DITHERS:
                start = time.perf_counter()
                out = plain if dither == "none" else quantize_image(
                    image, CompressOptions(palette=plain.palette, dither=dither))
                seconds = time.perf_counter() - start
                quantised = out.palette[out.indices]
                delta_e = float(ciede2000(reference, blurred_lab(quantised, positions)).mean())
                rows[dither].append((psnr(mse(image.pixels, out.palette, out.indices)), delta_e,
                                     seconds))
        none = np.array([r[1] for r in rows["none"]])
        fs = np.mean([r[1] for r in rows["fs"]])
        print(f"\n{f'--palette {k}' if isinstance(k, str) else f'K={k}'}, {len(paths)} Kodak photos\n")
        print("| dither | PSNR dB | blurred ΔE | vs fs | photos better than none | seconds |")
        print("|---|---|---|---|---|---|")
        for dither, values in rows.items():
            v = np.array(values)
            better = int((v[:, 1] < none).sum())
            print(f"| {dither} | {v[:, 0].mean():.2f} | {v[:, 1].mean():.3f} | "
                  f"{v[:, 1].mean() / fs:.3f} | {better}/{len(paths)} | {v[:, 2].mean():.3f} |")


if __name__ == "__main__":
    main()
