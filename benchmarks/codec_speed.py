"""Whole-process cost of the cm codec: `quantize compress -k 256` and `quantize decode` on a 2-MP
photo with the default codec against the same with `--codec zstd`, run in turn.

    python benchmarks/codec_speed.py                 # the Kodak mosaic, 9 alternating rounds
    python benchmarks/codec_speed.py --image PHOTO --rounds 15

Prints the medians and the ratios (targets, issue 22: compress <= 1.20x, decode <= 1.5x), for the
default outputs (qnt,png) and for the packed file alone (--format qnt), where the codec's own cost
is not hidden behind the PNG's.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from common import alternating_times, mosaic_2mp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", type=Path, default=None, help="default: the 2.36-MP Kodak mosaic")
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        image = args.image or mosaic_2mp(folder)
        quantize = [sys.executable, "-m", "quantize"]
        print(f"{image.name}, K=256, medians of {args.rounds} alternating rounds (seconds)")
        for formats in ("qnt,png", "qnt"):
            commands = [quantize + ["compress", str(image), "-k", "256", "-o", str(folder / codec),
                                    "--force", "-q", "--format", formats, "--codec", codec]
                        for codec in ("cm", "zstd")]
            cm, zstd = map(statistics.median, alternating_times(commands, args.rounds))
            print(f"compress --format {formats:8s} cm {cm:.3f}  zstd {zstd:.3f}  cm/zstd {cm / zstd:.3f}"
                  f"  (target <= 1.20)")
        commands = [quantize + ["decode", str(folder / codec / (image.stem + ".qnt")), "-o",
                                str(folder / f"{codec}.png"), "--force"] for codec in ("cm", "zstd")]
        cm, zstd = map(statistics.median, alternating_times(commands, args.rounds))
        print(f"decode                    cm {cm:.3f}  zstd {zstd:.3f}  cm/zstd {cm / zstd:.3f}"
              f"  (target <= 1.50)")


if __name__ == "__main__":
    main()
