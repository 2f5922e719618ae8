"""Perceptual quality on the Kodak set: quantize against pngquant, undithered and dithered.

    PYTHONPATH=. python benchmarks/perceptual.py                  # Kodak, K = 16, 64, 256 (~10 min)
    PYTHONPATH=. python benchmarks/perceptual.py --spaces --every 3   # every --space, Kodak + CQ100
    PYTHONPATH=. python benchmarks/perceptual.py --dir ../shared/images/cq100_subset  # other photos

Undithered: our default against ``pngquant --nofs K``; dithered: ``--dither fs`` and
``--dither fs-edge`` against pngquant's default (dithered) output. Measures, means over the set:
PSNR (from the MSE summed over R, G, B), ΔE = mean CIEDE2000 on a fixed 200k-pixel subsample, and
blurred ΔE = the same after a Gaussian blur (sigma 1 pixel, per sRGB channel) of both the original
and the output, which is how a dither is judged (the eye averages neighbouring pixels); SSIM
(scikit-image, channel-wise on RGB) when scikit-image is installed.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter

from common import CQ100, available, need, palette_and_indices, photos_missing, require_kodak
from quantize.core.colorspace import SPACES, srgb8_to_lab
from quantize.core.fitting import FitOptions
from quantize.io.images import image_from_array
from quantize.core.metrics import ciede2000, mean_delta_e, mse, psnr
from quantize.jobs.pipeline import CompressOptions, quantize_image

N_SAMPLES = 200_000
BLUR_SIGMA = 1.0


def measures(pixels: np.ndarray, palette: np.ndarray, indices: np.ndarray,
             blurred: np.ndarray, positions: np.ndarray, ssim: bool) -> list[float]:
    """[PSNR, ΔE, blurred ΔE(, SSIM)] of one quantised image."""
    out = palette[indices]
    lab = srgb8_to_lab(_blur(out).reshape(-1, 3)[positions])
    row = [psnr(mse(pixels, palette, indices)),
           mean_delta_e(pixels, palette, indices, n_samples=N_SAMPLES),
           float(ciede2000(blurred, lab).mean())]
    if ssim:
        from skimage.metrics import structural_similarity

        row.append(structural_similarity(pixels, out, channel_axis=2, data_range=255))
    return row


def _blur(pixels: np.ndarray) -> np.ndarray:
    return gaussian_filter(pixels.astype(np.float64), sigma=(BLUR_SIGMA, BLUR_SIGMA, 0))


def pngquant(path: Path, k: int, dither: bool, work: Path) -> tuple[np.ndarray, np.ndarray]:
    out = work / "pq.png"
    cmd = ["pngquant", "--force", "-o", str(out), str(k), str(path)]
    subprocess.run(cmd[:1] + ([] if dither else ["--nofs"]) + cmd[1:], check=True)
    return palette_and_indices(np.asarray(Image.open(out).convert("RGB")))


def ours(pixels: np.ndarray, k: int, **options) -> tuple[np.ndarray, np.ndarray]:
    space = options.pop("space", FitOptions.space)
    result = quantize_image(image_from_array(pixels),
                            CompressOptions(fit=FitOptions(k=k, space=space), delta_e_samples=1,
                                            **options))
    return result.palette, result.indices


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-k", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--images", nargs="+", help="names like kodim05 (default: all 24)")
    parser.add_argument("--dir", type=Path, help="a folder of PNG photos instead of Kodak")
    parser.add_argument("--spaces", action="store_true",
                        help="compare every --space on Kodak and CQ100 instead")
    parser.add_argument("--every", type=int, default=1, help="only every N-th image of each set")
    parser.add_argument("--no-ssim", action="store_true")
    args = parser.parse_args()
    folder = args.dir or require_kodak()
    paths = sorted(folder.glob("*.png" if args.dir else "kodim*.png"))
    if args.images:
        paths = [folder / f"{n}.png" for n in args.images]
    if args.spaces:
        if why := photos_missing(CQ100):
            print(f"photos skipped: {why}; Kodak alone", flush=True)
        paths = paths[::args.every] + sorted(CQ100.glob("*.png"))[::args.every]
        methods = {s: (lambda p, k, w, s=s: ours(p, k, space=s)) for s in SPACES}
    else:
        need("pngquant")
        methods = {
            "ours": lambda p, k, w: ours(p, k),
            "pngquant --nofs": lambda p, k, w: pngquant(w / "in.png", k, False, w),
            "ours --dither fs": lambda p, k, w: ours(p, k, dither="fs"),
            "ours --dither fs-edge": lambda p, k, w: ours(p, k, dither="fs-edge"),
            "pngquant (dithered)": lambda p, k, w: pngquant(w / "in.png", k, True, w),
        }
    ssim = not args.no_ssim and not args.spaces
    if ssim:
        ssim = available("skimage")
    table = {(name, k): [] for k in args.k for name in methods}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for path in paths:
            pixels = np.ascontiguousarray(np.asarray(Image.open(path).convert("RGB")))
            Image.fromarray(pixels).save(work / "in.png")
            n = pixels.shape[0] * pixels.shape[1]
            rng = np.random.default_rng(0)
            positions = (np.arange(n) if n <= N_SAMPLES else
                         np.sort(rng.choice(n, size=N_SAMPLES, replace=False, shuffle=False)))
            blurred = srgb8_to_lab(_blur(pixels).reshape(-1, 3)[positions])
            for k in args.k:
                for name, run in methods.items():
                    palette, indices = run(pixels, k, work)
                    table[name, k].append(measures(pixels, palette, indices, blurred, positions, ssim))
            print(f"  {path.stem}", flush=True)
    cols = ["PSNR dB", "ΔE", "blur ΔE"] + (["SSIM"] if ssim else [])
    print(f"\n{len(paths)} images")
    print(f"{'K':>4}  {'method':24}" + "".join(f"{c:>9}" for c in cols))
    for k in args.k:
        for name in methods:
            mean = np.mean(table[name, k], axis=0)
            print(f"{k:>4}  {name:24}" + "".join(f"{v:9.3f}" if i != 3 else f"{v:9.4f}"
                                                  for i, v in enumerate(mean)))


if __name__ == "__main__":
    main()
