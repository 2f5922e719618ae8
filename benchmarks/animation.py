"""Animated GIF against gifski, ffmpeg (palettegen + paletteuse, default and dither=none) and
ffmpeg's output after gifsicle -O3, on three 48-frame 480x270 clips at 25 fps made from the
Kodak and CQ100 photos: a pan across a mosaic, a still photo with a moving patch, a cross-fade.

Every output is decoded with Pillow and measured the same way (quantize.animation.measure):
bytes, mean per-frame PSNR, mean CIEDE2000 and flicker (mean absolute RGB change between
consecutive frames over the pixels whose source did not change). A verdict also says when the
best anchor's PSNR is above the clip's flicker-free ceiling, the highest mean PSNR a GIF without
flicker can show (:func:`flicker_free_ceiling`).

    python benchmarks/animation.py [--keep DIR] [-k 256] [--clips pan,patch,fade]
    python benchmarks/animation.py --clips '' --others      # the same recipes on other photos
    python benchmarks/animation.py --clips '' --patch STILL.png PATCH.png --fade A.png B.png
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.common import (CQ100, KODAK, available, mosaic_2mp, photos_missing,  # noqa: E402
                               process_env, require_kodak)
from quantize.animation.measure import ClipMeter  # noqa: E402
from quantize.core.kmeans import kmeans  # noqa: E402
from quantize.core.mapping import nearest_indices  # noqa: E402

FRAMES, WIDTH, HEIGHT, FPS = 48, 480, 270, 25
ANCHOR_TOOLS = ("ffmpeg", "gifsicle", "gifski")


class MissingPhotos(Exception):
    """A recipe's photos are not there: its clip is left out, with a line saying why."""


def _crop(path: Path, left: int = 0, top: int = 0, width: int = WIDTH,
          height: int = HEIGHT) -> np.ndarray:
    image = np.asarray(Image.open(path).convert("RGB"))
    crop = image[top:top + height, left:left + width]
    if crop.shape[:2] != (height, width):
        sys.exit(f"{path.name} has no {width}x{height} crop at ({left}, {top})")
    return crop


def panned(image: np.ndarray) -> list[np.ndarray]:
    """A window moving 6 px right and 2 px down per frame across ``image`` from its top left."""
    width, height = WIDTH + 6 * (FRAMES - 1), HEIGHT + 2 * (FRAMES - 1)
    if image.shape[0] < height or image.shape[1] < width:
        sys.exit(f"a pan needs a photo of at least {width}x{height}")
    return [image[2 * t:2 * t + HEIGHT, 6 * t:6 * t + WIDTH].copy() for t in range(FRAMES)]


def patched(still: np.ndarray, patch: np.ndarray) -> list[np.ndarray]:
    """``still`` with the 100x80 ``patch`` moving over it, right and up and down."""
    frames = []
    for t in range(FRAMES):
        frame = still.copy()
        x, y = 10 + 7 * t, 60 + int(40 * np.sin(t / 6))
        frame[y:y + 80, x:x + 100] = patch
        frames.append(frame)
    return frames


def faded(a: np.ndarray, b: np.ndarray) -> list[np.ndarray]:
    """A cross-fade from ``a`` to ``b``: still for 8 frames, fading for 32, still for 8."""
    weights = np.clip((np.arange(FRAMES) - 8) / 31, 0, 1)
    a, b = a.astype(np.float64), b.astype(np.float64)
    return [np.rint(a * (1 - w) + b * w).astype(np.uint8) for w in weights]


def pan_clip(work: Path) -> list[np.ndarray]:
    """The pan across the Kodak mosaic, from (500, 300)."""
    mosaic = np.asarray(Image.open(mosaic_2mp(work)).convert("RGB"))
    return panned(mosaic[300:, 500:])


def patch_clip(work: Path) -> list[np.ndarray]:
    """kodim23 with a 100x80 patch of kodim05 moving over it."""
    return patched(_crop(_photo("kodim23"), 100, 50), _crop(_photo("kodim05"), 100, 100, 100, 80))


def fade_clip(work: Path) -> list[np.ndarray]:
    """A cross-fade from kodim14 to CQ100's peacock."""
    return faded(_crop(_photo("kodim14"), 150, 120), _crop(_photo("peacock")))


CLIPS = {"pan": pan_clip, "patch": patch_clip, "fade": fade_clip}

#: The same recipes on photos the defaults were not tuned on (docs/ANIMATION.md): a patch
#: clip's still and 100x80 patch, a fade's two photos, each with the crop's top left corner.
OTHER_PATCHES = [(("kodim23", 100, 50), ("kodim05", 100, 100)),
                 (("fruits", 150, 120), ("peacock", 300, 200)),
                 (("king_penguin", 100, 100), ("spices", 300, 200)),
                 (("sun_parakeet", 200, 150), ("race_car", 350, 250)),
                 (("umbrellas", 100, 100), ("pencils", 300, 220)),
                 (("kodim03", 150, 120), ("kodim15", 300, 200)),
                 (("mandarin_ducks", 120, 140), ("shopping_bags", 330, 230)),
                 (("kodim01", 200, 150), ("siberian_tiger", 200, 300))]
OTHER_FADES = [(("kodim14", 150, 120), ("peacock", 0, 0)),
               (("kodim01", 100, 100), ("fruits", 100, 100)),
               (("sun_parakeet", 100, 100), ("kodim20", 150, 120)),
               (("umbrellas", 50, 50), ("kodim07", 100, 100)),
               (("spices", 100, 100), ("siberian_tiger", 0, 200)),
               (("kodim23", 100, 50), ("shopping_bags", 100, 100))]
OTHER_PANS = ["kodim08", "fruits", "mandarin_ducks", "kodim13"]


def _photo(name: str) -> Path:
    """A Kodak (kodim*) or CQ100 photo; :class:`MissingPhotos` when its folder is not there."""
    folder = KODAK if name.startswith("kodim") else CQ100
    why = photos_missing(folder)
    if why:
        raise MissingPhotos(why)
    return folder / f"{name}.png"


def other_clips() -> dict[str, Callable[[Path], list[np.ndarray]]]:
    """The recipes on the other photos, by name (``patch:still+patch`` and so on)."""
    clips: dict[str, Callable[[Path], list[np.ndarray]]] = {}
    for (s, sx, sy), (p, px, py) in OTHER_PATCHES:
        clips[f"patch:{s}+{p}"] = lambda work, s=s, sx=sx, sy=sy, p=p, px=px, py=py: patched(
            _crop(_photo(s), sx, sy), _crop(_photo(p), px, py, 100, 80))
    for (a, ax, ay), (b, bx, by) in OTHER_FADES:
        clips[f"fade:{a}+{b}"] = lambda work, a=a, ax=ax, ay=ay, b=b, bx=bx, by=by: faded(
            _crop(_photo(a), ax, ay), _crop(_photo(b), bx, by))
    for name in OTHER_PANS:
        clips[f"pan:{name}"] = lambda work, name=name: panned(
            np.asarray(Image.open(_photo(name)).convert("RGB")))
    return clips


def own_clips(args: argparse.Namespace) -> dict[str, Callable[[Path], list[np.ndarray]]]:
    """The recipes on photos given on the command line (centre crops)."""
    def centre(path: str, width: int = WIDTH, height: int = HEIGHT) -> np.ndarray:
        with Image.open(path) as image:  # the header only: _crop decodes it
            full_width, full_height = image.size
        top, left = max(0, (full_height - height) // 2), max(0, (full_width - width) // 2)
        return _crop(Path(path), left, top, width, height)

    clips: dict[str, Callable[[Path], list[np.ndarray]]] = {}
    for still, patch in args.patch or []:
        clips[f"patch:{Path(still).stem}+{Path(patch).stem}"] = \
            lambda work, s=still, p=patch: patched(centre(s), centre(p, 100, 80))
    for a, b in args.fade or []:
        clips[f"fade:{Path(a).stem}+{Path(b).stem}"] = \
            lambda work, a=a, b=b: faded(centre(a), centre(b))
    for photo in args.pan or []:
        clips[f"pan:{Path(photo).stem}"] = \
            lambda work, p=photo: panned(np.asarray(Image.open(p).convert("RGB")))
    return clips


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


def weighted_palette(pixels: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
    """k colours (uint8) fitted by weighted k-means (4 starts) to ``pixels`` (n, 3)."""
    colors, inverse = np.unique(pixels, axis=0, return_inverse=True)
    counts = np.bincount(inverse.ravel(), weights=weights)
    fit = kmeans(np.ascontiguousarray(colors, np.float64), counts, min(k, len(colors)), n_init=4,
                 max_iter=300, tol=1e-6)
    return np.clip(np.rint(fit.centers), 0, 255).astype(np.uint8)


def flicker_free_ceiling(frames: list[np.ndarray], k: int = 256) -> float | None:
    """The highest mean PSNR a GIF of ``frames`` without flicker can show, or None if no pixel
    stays past the first frame. Without flicker a pixel shows its first-frame colour, from one
    table of ``k``, until its source changes; here every pixel shows its source exactly after
    that, and the table is the best of four k-means starts, each pixel weighted by the frames it
    keeps that colour: an estimate of the ceiling, not a proof of it."""
    first = frames[0].reshape(-1, 3)
    stay = np.full(len(first), len(frames))
    for t in range(len(frames) - 1, 0, -1):
        stay[np.any(frames[t] != frames[t - 1], axis=2).ravel()] = t
    if not (stay > 1).any():
        return None
    table = weighted_palette(first, stay.astype(np.float64), k)
    kept = table[nearest_indices(first, table)]
    meter = ClipMeter()
    for t, frame in enumerate(frames):
        shown = frame.reshape(-1, 3).copy()
        shown[stay > t] = kept[stay > t]
        meter.add(frame, shown.reshape(frame.shape))
    return meter.mean_psnr


def run(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env=process_env())
    return time.perf_counter() - start


def installed_anchors() -> set[str]:
    """The anchor programs on PATH (a line is printed for each one that is not)."""
    return {name for name in ANCHOR_TOOLS if available(name)}


def anchors(frames_dir: Path, out: Path, present: set[str]) -> dict[str, tuple[Path, float]]:
    """Each anchor's GIF of the clip in ``frames_dir`` and its seconds, for the ``present`` tools."""
    pattern = str(frames_dir / "f%03d.png")
    made = {}
    ff = ["ffmpeg", "-v", "error", "-y", "-framerate", str(FPS), "-i", pattern, "-vf"]
    for name, use in (("ffmpeg", "paletteuse"), ("ffmpeg dither=none", "paletteuse=dither=none")):
        if "ffmpeg" not in present:
            break
        path = out / f"{name.replace(' ', '_').replace('=', '-')}.gif"
        made[name] = path, run(ff + [f"split[a][b];[a]palettegen[p];[b][p]{use}", str(path)])
        if "gifsicle" in present:
            squeezed = path.with_suffix(".O3.gif")
            made[f"{name}, gifsicle -O3"] = squeezed, made[name][1] + run(
                ["gifsicle", "-O3", str(path), "-o", str(squeezed)])
    if "gifski" in present:
        path = out / "gifski.gif"
        version = subprocess.run(["gifski", "--version"], capture_output=True, text=True).stdout.split()
        made[" ".join(version[:2]) or "gifski"] = path, run(
            ["gifski", "--fps", str(FPS), "-o", str(path), *sorted(map(str, frames_dir.glob("f*.png")))])
    return made


def ours(frames_dir: Path, out: Path, k: int) -> tuple[Path, float]:
    path = out / "ours"
    seconds = run([sys.executable, "-m", "quantize", "animate", str(frames_dir), "-o", str(path),
                   "-k", str(k), "--duration", str(1000 // FPS), "--force"])
    return path / f"{frames_dir.name}.anim.gif", seconds


def _existing(text: str) -> str:
    if not Path(text).is_file():
        raise argparse.ArgumentTypeError(f"no such file: {text}")
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--keep", type=Path, help="keep the clips and outputs in this folder")
    parser.add_argument("-k", type=int, default=256, help="colours per frame (default 256)")
    parser.add_argument("--clips", default=",".join(CLIPS),
                        help=f"the benchmark's clips to run, of {', '.join(CLIPS)} ('' for none)")
    parser.add_argument("--others", action="store_true",
                        help="also the recipes on the other photos of docs/ANIMATION.md")
    parser.add_argument("--patch", nargs=2, action="append", metavar=("STILL", "PATCH"), type=_existing,
                        help="also a patch clip of these photos (centre crops); repeatable")
    parser.add_argument("--fade", nargs=2, action="append", metavar=("FROM", "TO"), type=_existing,
                        help="also a cross-fade between these photos (centre crops); repeatable")
    parser.add_argument("--pan", action="append", metavar="PHOTO", type=_existing,
                        help=f"also a pan across this photo (at least "
                             f"{WIDTH + 6 * (FRAMES - 1)}x{HEIGHT + 2 * (FRAMES - 1)}); repeatable")
    args = parser.parse_args()
    clips = {name: CLIPS[name] for name in filter(None, args.clips.split(","))}
    if args.others:
        require_kodak()
        clips.update(other_clips())
    clips.update(own_clips(args))
    if set(clips) & set(CLIPS):
        require_kodak()
    present = installed_anchors()
    work = args.keep or Path(tempfile.mkdtemp(prefix="anim-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    verdicts = []
    print("| clip | tool | bytes | mean PSNR dB | mean ΔE2000 | flicker | seconds |")
    print("|---|---|---|---|---|---|---|")
    for number, (clip, make) in enumerate(clips.items()):
        try:
            frames = make(work)
        except MissingPhotos as why:
            verdicts.append(f"{clip}: skipped, {why}")
            continue
        folder = work / (clip if clip in CLIPS else f"clip{number:02d}")
        frames_dir = folder / "frames"
        write_frames(frames, frames_dir)
        rows = {name: (measure(frames, path), secs) for name, (path, secs)
                in anchors(frames_dir, folder, present).items()}
        path, secs = ours(frames_dir, folder, args.k)
        mine = measure(frames, path)
        for name, (row, secs_) in [*rows.items(), ("quantize animate (default)", (mine, secs))]:
            print(f"| {clip} | {name} | {row['bytes']:,} | {row['psnr']:.2f} | {row['de']:.2f} | "
                  f"{row['flicker']:.3f} | {secs_:.1f} |")
        if not rows:
            verdicts.append(f"{clip}: no anchor installed, nothing to compare with")
            continue
        beaten = all(mine["bytes"] <= r["bytes"] and mine["psnr"] >= r["psnr"]
                     and mine["flicker"] <= r["flicker"] for r, _ in rows.values())
        fewest = min(r["bytes"] for r, _ in rows.values())
        best = max(r["psnr"] for r, _ in rows.values())
        ceiling = flicker_free_ceiling(frames, args.k)
        verdicts.append(f"{clip}: {'beats every anchor' if beaten else 'does NOT beat every anchor'}"
                        f" ({mine['bytes'] / fewest:.3f} of the fewest anchor bytes {fewest:,}, "
                        f"{mine['psnr'] - best:+.3f} dB against the best anchor PSNR {best:.2f}, "
                        f"least anchor flicker {min(r['flicker'] for r, _ in rows.values()):.3f})"
                        + (f"; no GIF without flicker reaches that PSNR: ceiling {ceiling:.2f} dB"
                           if ceiling is not None and ceiling < best else ""))
    print()
    print("\n".join(verdicts))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
