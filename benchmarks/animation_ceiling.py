"""How far a zero-flicker animated GIF can go on a clip of benchmarks/animation.py, and its size.

A study, not the shipped pipeline. The still background keeps the first frame's indices (no
flicker); each later frame shows its changed pixels through a local colour table of L colours
fitted to them, every pixel weighted by the number of frames it will stay on screen (so colours
that last are served first), and the first frame's table is fitted the same way. Each L gives a
real GIF (the project's writer and LZW), measured as benchmarks/animation.py measures its files,
beside the anchors run on the same frames and ``quantize animate``'s default.

    python benchmarks/animation_ceiling.py [--clip patch] [--colours 255,127,63,31] [--gifsicle 0,5]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.animation import (CLIPS, FPS, anchors, flicker_free_ceiling,  # noqa: E402
                                  installed_anchors, measure, ours, run, weighted_palette,
                                  write_frames)
from benchmarks.common import require_kodak  # noqa: E402
from quantize.animation.gif import GifWriter  # noqa: E402
from quantize.animation.temporal import MappedFrame  # noqa: E402
from quantize.core.mapping import nearest_indices  # noqa: E402


def frames_on_screen(frames: list[np.ndarray]) -> list[np.ndarray]:
    """For each frame, how many frames (itself included) each pixel's source stays unchanged."""
    stay = [np.ones(frames[0].shape[:2], np.float64) for _ in frames]
    for t in range(len(frames) - 2, -1, -1):
        same = np.all(frames[t + 1] == frames[t], axis=2)
        stay[t][same] += stay[t + 1][same]
    return stay


def zero_flicker_gif(frames: list[np.ndarray], colours: int, path: Path) -> None:
    """Write the study's GIF of ``frames`` with local tables of ``colours`` (2^n - 1)."""
    stay = frames_on_screen(frames)
    height, width = frames[0].shape[:2]
    first = weighted_palette(frames[0].reshape(-1, 3), stay[0].ravel(), 256)
    writer = GifWriter(width, height, plays=0, main=first)
    indices = nearest_indices(frames[0].reshape(-1, 3), first).reshape(height, width)
    shown = first[indices]
    writer.add(MappedFrame(0, first, indices.astype(np.int16), shown, 1000 // FPS))
    for t in range(1, len(frames)):
        changed = np.any(frames[t] != frames[t - 1], axis=2)
        local_indices = np.full((height, width), -1, np.int16)
        local = first
        if changed.any():
            local = weighted_palette(frames[t][changed], stay[t][changed], colours)
            local_indices[changed] = nearest_indices(frames[t][changed], local)
            shown = shown.copy()
            shown[changed] = local[local_indices[changed]]
        writer.add(MappedFrame(t, local, local_indices, shown, 1000 // FPS))
    path.write_bytes(writer.finish())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", default="patch", choices=sorted(CLIPS))
    parser.add_argument("--colours", default="255,127,63,31",
                        help="local table sizes to try, each one less than a power of two (the free "
                             "index shows the kept pixels)")
    parser.add_argument("--keep", type=Path, help="keep the clip and the GIFs in this folder")
    parser.add_argument("--gifsicle", default="0,5", type=lambda v: [int(x) for x in v.split(",") if x],
                        help="also pass each GIF through gifsicle -O3 with these --lossy levels "
                             "(0: lossless; '' for none)")
    args = parser.parse_args()
    require_kodak()
    present = installed_anchors()
    if not present & {"ffmpeg", "gifski"}:
        sys.exit("benchmark skipped: neither ffmpeg nor gifski is installed, no anchor to compare with")
    work = args.keep or Path(tempfile.mkdtemp(prefix="anim-ceiling-"))
    work.mkdir(parents=True, exist_ok=True)
    frames = CLIPS[args.clip](work)
    frames_dir = work / "frames"
    write_frames(frames, frames_dir)
    made = anchors(frames_dir, work, present)
    rows = {name: measure(frames, path) for name, (path, _) in made.items()}
    rows["quantize animate (default)"] = measure(frames, ours(frames_dir, work, 256)[0])
    for colours in map(int, args.colours.split(",")):
        path = work / f"study-{colours}.gif"
        zero_flicker_gif(frames, colours, path)
        rows[f"study: weighted local tables of {colours}"] = measure(frames, path)
        # the same GIF with gifsicle's LZW optimisation (and loss)
        for lossy in args.gifsicle if "gifsicle" in present else []:
            squeezed = path.with_suffix(f".O3-{lossy}.gif")
            run(["gifsicle", "-O3", *([f"--lossy={lossy}"] if lossy else []), str(path),
                 "-o", str(squeezed)])
            rows[f"study: tables of {colours}, gifsicle -O3" + (f" --lossy={lossy}" if lossy else "")] \
                = measure(frames, squeezed)
    print(f"| {args.clip} | bytes | mean PSNR dB | mean ΔE2000 | flicker |")
    print("|---|---|---|---|---|")
    for name, row in rows.items():
        print(f"| {name} | {row['bytes']:,} | {row['psnr']:.2f} | {row['de']:.2f} | "
              f"{row['flicker']:.3f} |")
    anchor_rows = [row for name, row in rows.items() if not name.startswith(("study", "quantize"))]
    budget = min(row["bytes"] for row in anchor_rows)
    best = max(row["psnr"] for row in anchor_rows)
    fitting = [row["psnr"] for name, row in rows.items()
               if row["bytes"] <= budget and row["flicker"] == 0]
    print(f"\nfewest anchor bytes {budget:,}, best anchor PSNR {best:.2f} dB; best zero-flicker "
          f"PSNR within those bytes here: {max(fitting, default=float('nan')):.2f} dB; "
          f"with any bytes: {max(r['psnr'] for r in rows.values() if r['flicker'] == 0):.2f} dB; "
          f"flicker-free ceiling (changed pixels exact): {flicker_free_ceiling(frames):.2f} dB")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
