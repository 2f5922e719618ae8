"""``--bits``: the lattice-constrained fit against fitting freely and rounding, on the Kodak photos.

    PYTHONPATH=. python benchmarks/bits_quality.py                       # 5,6,5 at K = 16 and 64
    PYTHONPATH=. python benchmarks/bits_quality.py --bits 4,4,4 -k 16 --space rgb

Per photo and K, one free fit (``--space``, default rgb+lab); "rounded" is its palette with each
colour rounded to the lattice (duplicates merged) and every pixel remapped, "constrained" is what
``compress --bits`` writes (the same free fit refined on the lattice, quantize/core/lattice.py). PSNR
and mean CIEDE2000 (200k-pixel subsample) of both; the table ends with means and the wins.
"""

from __future__ import annotations

import argparse

import numpy as np

from common import require_kodak
from quantize.core.colorstats import color_stats
from quantize.core.fitting import FitOptions, fit_palette, to_palette
from quantize.io.images import load_image
from quantize.core.lattice import lattice_fit, levels, parse_bits, round_to_lattice
from quantize.core.mapping import map_pixels
from quantize.core.metrics import mean_delta_e, mse, psnr


def measured(pixels: np.ndarray, stats, palette: np.ndarray, space: str) -> tuple[float, float]:
    indices = map_pixels(pixels, stats.in_space(space), palette)
    return psnr(mse(pixels, palette, indices)), mean_delta_e(pixels, palette, indices)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bits", default="5,6,5")
    parser.add_argument("-k", default="16,64", help="comma-separated K (default 16,64)")
    parser.add_argument("--space", default="rgb+lab")
    parser.add_argument("--every", type=int, default=1, help="every N-th photo only")
    args = parser.parse_args()
    bits = parse_bits(args.bits)
    lattice = [set(levels(b).tolist()) for b in (bits * 3 if len(bits) == 1 else bits)]
    paths = sorted(require_kodak().glob("*.png"))[::args.every]
    ks = [int(v) for v in args.k.split(",")]
    print(f"--bits {args.bits}, --space {args.space}, {len(paths)} Kodak photos\n")
    print("| photo | K | rounded PSNR | constrained PSNR | gain dB | rounded ΔE | constrained ΔE |")
    print("|---|---|---|---|---|---|---|")
    totals = {k: [] for k in ks}
    for path in paths:
        image = load_image(path)
        stats = color_stats(image.pixels)
        for k in ks:
            options = FitOptions(k=k, space=args.space)
            free = fit_palette(image.pixels, stats.in_space(options.space), options)
            rounded = np.unique(round_to_lattice(to_palette(free.centers), bits), axis=0)
            constrained = to_palette(lattice_fit(stats.in_space(args.space), free, bits,
                                                 FitOptions().max_iter).centers)
            assert all(c[i] in lattice[i] for c in constrained.tolist() for i in range(3))
            r, c = measured(image.pixels, stats, rounded, args.space), \
                measured(image.pixels, stats, constrained, args.space)
            totals[k].append(r + c)
            print(f"| {path.stem} | {k} | {r[0]:.3f} | {c[0]:.3f} | {c[0] - r[0]:+.3f} | "
                  f"{r[1]:.3f} | {c[1]:.3f} |")
    print("\n| K | rounded PSNR | constrained PSNR | gain dB (min, max) | constrained wins | "
          "rounded ΔE | constrained ΔE |")
    print("|---|---|---|---|---|---|---|")
    for k, rows in totals.items():
        v = np.array(rows)
        gain = v[:, 2] - v[:, 0]
        print(f"| {k} | {v[:, 0].mean():.3f} | {v[:, 2].mean():.3f} | {gain.mean():+.3f} "
              f"({gain.min():+.3f}, {gain.max():+.3f}) | {int((gain > 0).sum())}/{len(v)} | "
              f"{v[:, 1].mean():.3f} | {v[:, 3].mean():.3f} |")


if __name__ == "__main__":
    main()
