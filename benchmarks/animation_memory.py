"""Peak RSS of ``quantize animate`` on a 300-frame 1920x1080 clip (a patch moving over a still
Kodak mosaic, read from a folder of JPEG frames), against the 1.87 GB its decoded frames would
take if held: frames stream through both passes.

    python benchmarks/animation_memory.py [--frames 300] [--format gif]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import mosaic_2mp, peak_rss, require_kodak  # noqa: E402

WIDTH, HEIGHT = 1920, 1080


def make_clip(folder: Path, frames: int) -> None:
    """JPEG frames: the still part of each frame decodes to the same pixels every time."""
    folder.mkdir(parents=True, exist_ok=True)
    mosaic = Image.open(mosaic_2mp(folder.parent)).convert("RGB")
    still = np.asarray(mosaic.resize((2432, HEIGHT), Image.LANCZOS))[:, :WIDTH]
    patch = still[100:300, 1500:1800].copy()
    for t in range(frames):
        frame = still.copy()
        x, y = 20 + 5 * t, 600 + int(200 * np.sin(t / 20))
        frame[y:y + 200, x:x + 300] = patch
        Image.fromarray(frame).save(folder / f"f{t:04d}.jpg", quality=90)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--format", default="gif")
    args = parser.parse_args()
    require_kodak()
    with tempfile.TemporaryDirectory(prefix="anim-rss-") as work:
        frames = Path(work) / "clip"
        make_clip(frames, args.frames)
        rss, stdout = peak_rss([sys.executable, "-m", "quantize", "animate", str(frames), "-o",
                                str(Path(work) / "out"), "--format", args.format, "--duration", "40"])
        held = args.frames * WIDTH * HEIGHT * 3
        print(stdout.strip())
        print(f"peak RSS {rss / 2**20:.0f} MiB for {args.frames} frames of {WIDTH}x{HEIGHT} "
              f"(all decoded frames held would be {held / 2**20:.0f} MiB)")


if __name__ == "__main__":
    main()
