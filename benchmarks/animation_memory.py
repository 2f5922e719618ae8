"""Peak RSS of ``quantize animate`` on a 300-frame 1920x1080 clip (a patch moving over a still
Kodak mosaic, read from a folder of JPEG frames), against the 1.87 GB its decoded frames would
take if held: frames stream through both passes. Then the peak of ``quantize decode`` of the
clip's multi-frame .qnt, and of a .qnt of one-pixel changes on a 2048x2048 canvas at the full
frame count and a tenth of it: decode streams too, its peak does not grow with the frames.

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
DOTS_SIDE = 2048  # the canvas of the one-pixel-a-frame .qnt


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


def make_dots(path: Path, frames: int) -> None:
    """A multi-frame .qnt of 8-colour tiles on a DOTS_SIDE square whose frames each repaint one
    pixel (written by the library's writer: animate would spend minutes reading the frames)."""
    from quantize.animation.qntanim import QntWriter
    from quantize.animation.temporal import MappedFrame

    palette = np.array([[20, 40, 60], [200, 30, 30], [30, 200, 30], [30, 30, 200],
                        [220, 220, 40], [240, 240, 240], [120, 60, 160], [10, 130, 130]], np.uint8)
    y, x = np.mgrid[:DOTS_SIDE, :DOTS_SIDE]
    indices = (((x // 256) + (y // 256)) % len(palette)).astype(np.int16)
    colors = palette[indices]
    writer = QntWriter(DOTS_SIDE, DOTS_SIDE, 0)
    for t in range(frames):
        rect = None
        if t:
            indices, colors = indices.copy(), colors.copy()
            row, col = 1000 + t // 50, 700 + (3 * t) % 600
            indices[row, col] = (indices[row, col] + 1) % len(palette)
            colors[row, col] = palette[indices[row, col]]
            rect = (slice(row, row + 1), slice(col, col + 1))
        writer.add(MappedFrame(0, palette, indices, colors, 40, rect))
    path.write_bytes(writer.finish())


def decode_peak(packed: Path, fmt: str) -> int:
    """Peak RSS of ``quantize decode`` of ``packed`` to an animated ``fmt``, from a second run (a
    first compiles the decoder's kernels where the cache lacks them, which doubles its peak);
    prints its line."""
    command = [sys.executable, "-m", "quantize", "decode", str(packed), "-o",
               str(packed.parent / f"{packed.stem}.decoded.{fmt}"), "-f"]
    peak_rss(command)
    rss, stdout = peak_rss(command)
    print(stdout.strip())
    return rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--format", default="gif", help="animate's format, and decode's output")
    args = parser.parse_args()
    require_kodak()
    with tempfile.TemporaryDirectory(prefix="anim-rss-") as work:
        frames, out = Path(work) / "clip", Path(work) / "out"
        make_clip(frames, args.frames)
        formats = args.format if args.format == "qnt" else f"{args.format},qnt"
        rss, stdout = peak_rss([sys.executable, "-m", "quantize", "animate", str(frames), "-o",
                                str(out), "--format", formats, "--duration", "40"])
        held = args.frames * WIDTH * HEIGHT * 3
        print(stdout.strip())
        print(f"peak RSS {rss / 2**20:.0f} MiB for {args.frames} frames of {WIDTH}x{HEIGHT} "
              f"(all decoded frames held would be {held / 2**20:.0f} MiB)")
        fmt = "gif" if args.format == "qnt" else args.format
        rss = decode_peak(out / "clip.anim.qnt", fmt)
        print(f"decode to {fmt}: peak RSS {rss / 2**20:.0f} MiB")
        for count in (args.frames, max(1, args.frames // 10)):
            dots = Path(work) / f"dots{count}.qnt"
            make_dots(dots, count)
            rss = decode_peak(dots, fmt)
            print(f"decode of {count} one-pixel frames on {DOTS_SIDE}x{DOTS_SIDE} to {fmt}: "
                  f"peak RSS {rss / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
