"""Benchmark: rate–distortion mapping (``--rdo``) at equal bytes, on the Kodak photos.

    python benchmarks/rdo.py                    # 24 photos, budgets of the plain K=64 and K=256 files
    python benchmarks/rdo.py --images 6 --rdo 50,100,200

For each photo and budget (the size of the plain ``.qnt`` at K=64 and at K=256, default settings),
the largest K up to 1024 whose ``.qnt`` fits the budget is searched with each ``--rdo`` value (as
``compress -k 1024 --max-bytes B --format qnt --rdo L``) and its PSNR and CIEDE2000 measured. The anchor is
``--rdo 0`` at the same budget (the plain K itself). Prints the mean gain in dB per setting.
"""

from __future__ import annotations

import argparse
import statistics

from common import require_kodak
from quantize.core.fitting import FitOptions
from quantize.io import container
from quantize.io.images import load_image
from quantize.jobs.pipeline import CompressOptions, quantize_image
from quantize.jobs.sweep import search_bytes, with_k

MAX_K = 1024  # the cm coder's largest K


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=24)
    parser.add_argument("--rdo", default="25,50,100,auto",
                        help="allowances to try (comma-separated numbers or auto)")
    args = parser.parse_args()
    allowances = [0.0] + [a if a == "auto" else float(a) for a in args.rdo.split(",")]
    photos = sorted(require_kodak().glob("kodim*.png"))[:args.images]
    gains: dict[tuple[int, float | str], list[float]] = {}
    print(f"{len(photos)} Kodak photos; budget = the plain .qnt at K; PSNR dB (dE2000) at the K found")
    for photo in photos:
        image = load_image(photo)
        for k in (64, 256):
            plain = quantize_image(image, CompressOptions(fit=FitOptions(k=k)), measure=False)
            budget = len(container.encode(plain.palette, plain.indices))
            cells = []
            base = None
            for rdo in allowances:
                options = CompressOptions(rdo=rdo)
                found = search_bytes(image, budget, options, max_k=MAX_K)
                result = quantize_image(image, with_k(options, found.k))
                base = result.psnr if rdo == 0 else base
                gains.setdefault((k, rdo), []).append(result.psnr - base)
                cells.append(f"rdo {rdo}: K={found.k:4d} {result.psnr:5.2f} ({result.delta_e:.2f})")
            print(f"{photo.stem} budget {budget:7,d} B (K={k}) | " + " | ".join(cells), flush=True)
    for (k, rdo), values in sorted(gains.items(), key=lambda item: (item[0][0], str(item[0][1]))):
        if rdo:
            print(f"budget of K={k:3d}, --rdo {rdo}: mean PSNR gain at equal bytes "
                  f"{statistics.mean(values):+.2f} dB (min {min(values):+.2f}, max {max(values):+.2f})")


if __name__ == "__main__":
    main()
