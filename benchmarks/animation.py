"""Animated GIF against gifski, ffmpeg (palettegen + paletteuse, default and dither=none) and
ffmpeg's output after gifsicle -O3, on three 48-frame 480x270 clips at 25 fps made from the
Kodak and CQ100 photos: a pan across a mosaic, a still photo with a moving patch, a cross-fade.

Every output is decoded with Pillow and measured the same way (quantize.animation.measure):
bytes, mean per-frame PSNR, mean CIEDE2000 and flicker (mean absolute RGB change between
consecutive frames over the pixels whose source did not change).

    python benchmarks/animation.py [--keep DIR] [-k 256]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import KODAK, SHARED, mosaic_2mp, require_kodak  # noqa: E402
from quantize.animation.measure import ClipMeter  # noqa: E402

FRAMES, WIDTH, HEIGHT, FPS = 48, 480, 270, 25
GIFSKI = Path("/tmp/gifski/node_modules/gifski/bin/debian/gifski")


def _crop(path: Path, left: int = 0, top: int = 0) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"))[top:top + HEIGHT, left:left + WIDTH]


def pan_clip(work: Path) -> list[np.ndarray]:
    """A window moving 6 px right and 2 px down per frame across the Kodak mosaic."""
    mosaic = np.asarray(Image.open(mosaic_2mp(work)).convert("RGB"))
    return [mosaic[300 + 2 * t:300 + 2 * t + HEIGHT, 500 + 6 * t:500 + 6 * t + WIDTH].copy()
            for t in range(FRAMES)]


def patch_clip(work: Path) -> list[np.ndarray]:
    """A still Kodak photo with a 100x80 patch of another moving over it."""
    still = _crop(KODAK / "kodim23.png", 100, 50)
    patch = np.asarray(Image.open(KODAK / "kodim05.png").convert("RGB"))[100:180, 100:200]
    frames = []
    for t in range(FRAMES):
        frame = still.copy()
        x, y = 10 + 7 * t, 60 + int(40 * np.sin(t / 6))
        frame[y:y + 80, x:x + 100] = patch
        frames.append(frame)
    return frames


def fade_clip(work: Path) -> list[np.ndarray]:
    """A cross-fade from a Kodak photo to a CQ100 photo: still for 8 frames, fading for 32,
    still for 8."""
    a = _crop(KODAK / "kodim14.png", 150, 120).astype(np.float64)
    b = _crop(SHARED / "cq100_subset" / "peacock.png", 0, 0).astype(np.float64)
    if b.shape != a.shape:
        sys.exit(f"peacock.png is smaller than {WIDTH}x{HEIGHT}")
    weights = np.clip((np.arange(FRAMES) - 8) / 31, 0, 1)
    return [np.rint(a * (1 - w) + b * w).astype(np.uint8) for w in weights]


CLIPS = {"pan": pan_clip, "patch": patch_clip, "fade": fade_clip}


def write_frames(frames: list[np.ndarray], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, frame in enumerate(frames):
        Image.fromarray(frame).save(folder / f"f{i:03d}.png", compress_level=1)


def decoded(path: Path) -> list[tuple[np.ndarray, int]]:
    im = Image.open(path)
    out = []
    for i in range(getattr(im, "n_frames", 1)):
        im.seek(i)
        out.append((np.asarray(im.convert("RGB")), int(im.info.get("duration", 0))))
    return out


def measure(frames: list[np.ndarray], path: Path) -> dict:
    """The output at ``path`` against the source ``frames`` (40 ms each): each source frame is
    compared with the output frame showing at its start time."""
    shown = decoded(path)
    starts = np.cumsum([0] + [d for _, d in shown])
    meter = ClipMeter()
    for t, frame in enumerate(frames):
        at = min(int(np.searchsorted(starts, t * 1000 // FPS, side="right")) - 1, len(shown) - 1)
        meter.add(frame, shown[at][0])
    return {"bytes": path.stat().st_size, "psnr": meter.mean_psnr, "de": meter.mean_delta_e,
            "flicker": meter.flicker, "frames": len(shown)}


def run(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def anchors(frames_dir: Path, out: Path) -> dict[str, tuple[Path, float]]:
    pattern = str(frames_dir / "f%03d.png")
    made = {}
    ff = ["ffmpeg", "-v", "error", "-y", "-framerate", str(FPS), "-i", pattern, "-vf"]
    for name, use in (("ffmpeg", "paletteuse"), ("ffmpeg dither=none", "paletteuse=dither=none")):
        path = out / f"{name.replace(' ', '_').replace('=', '-')}.gif"
        made[name] = path, run(ff + [f"split[a][b];[a]palettegen[p];[b][p]{use}", str(path)])
        squeezed = path.with_suffix(".O3.gif")
        made[f"{name}, gifsicle -O3"] = squeezed, made[name][1] + run(
            ["gifsicle", "-O3", str(path), "-o", str(squeezed)])
    if GIFSKI.exists():
        path = out / "gifski.gif"
        made["gifski 1.7.1"] = path, run([str(GIFSKI), "--fps", str(FPS), "-o", str(path),
                                          *sorted(map(str, frames_dir.glob("f*.png")))])
    return made


def ours(frames_dir: Path, out: Path, k: int) -> tuple[Path, float]:
    path = out / "ours"
    seconds = run([sys.executable, "-m", "quantize", "animate", str(frames_dir), "-o", str(path),
                   "-k", str(k), "--duration", str(1000 // FPS), "--force"])
    return path / f"{frames_dir.name}.anim.gif", seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="keep the clips and outputs in this folder")
    parser.add_argument("-k", type=int, default=256)
    parser.add_argument("--clips", default=",".join(CLIPS))
    args = parser.parse_args()
    require_kodak()
    work = args.keep or Path(tempfile.mkdtemp(prefix="anim-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    verdicts = []
    print("| clip | tool | bytes | mean PSNR dB | mean ΔE2000 | flicker | seconds |")
    print("|---|---|---|---|---|---|---|")
    for clip in args.clips.split(","):
        frames = CLIPS[clip](work)
        frames_dir = work / clip / "frames"
        write_frames(frames, frames_dir)
        rows = {name: (measure(frames, path), secs) for name, (path, secs)
                in anchors(frames_dir, work / clip).items()}
        path, secs = ours(frames_dir, work / clip, args.k)
        mine = measure(frames, path)
        for name, (row, secs_) in [*rows.items(), ("quantize animate (default)", (mine, secs))]:
            print(f"| {clip} | {name} | {row['bytes']:,} | {row['psnr']:.2f} | {row['de']:.2f} | "
                  f"{row['flicker']:.3f} | {secs_:.1f} |")
        beaten = all(mine["bytes"] <= r["bytes"] and mine["psnr"] >= r["psnr"]
                     and mine["flicker"] <= r["flicker"] for r, _ in rows.values())
        verdicts.append(f"{clip}: {'beats every anchor' if beaten else 'does NOT beat every anchor'}"
                        f" (fewest anchor bytes {min(r['bytes'] for r, _ in rows.values()):,}, "
                        f"best anchor PSNR {max(r['psnr'] for r, _ in rows.values()):.2f} dB, "
                        f"least anchor flicker {min(r['flicker'] for r, _ in rows.values()):.3f})")
    print()
    print("\n".join(verdicts))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
