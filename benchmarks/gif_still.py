"""Still GIF: our writer against Pillow's, ImageMagick's and gifsicle -O3 on the same pixels.

    python benchmarks/gif_still.py                 # 24 Kodak photos (or test_images/), K = 16, 64, 256
    python benchmarks/gif_still.py --images 6 -k 64

Each photo is quantised once per K with the defaults (``quantize.compress(path, k=K, seed=0)``);
the same palette and indices are then written by ``quantize.io.formats.encode_gif``, by Pillow's
GIF encoder (``optimize=False``: the palette as given), by ImageMagick (``convert`` of our PNG) and
by ``gifsicle -O3`` of our GIF, where those tools are installed. Every file is decoded and checked
against the pixels. Prints total bytes and each tool's total over ours, and our encode time.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from common import KODAK, available
from quantize import compress
from quantize.io.formats import encode_gif, encode_png

ROOT = Path(__file__).resolve().parent.parent


def pillow_gif(palette: np.ndarray, indices: np.ndarray) -> bytes:
    image = Image.fromarray(indices.astype(np.uint8), "P")
    image.putpalette(palette[:, :3].tobytes())
    buf = io.BytesIO()
    image.save(buf, "GIF", optimize=False)
    return buf.getvalue()


def decoded(data: bytes) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGB"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", default="16,64,256", help="comma-separated K (default 16,64,256)")
    parser.add_argument("--images", type=int, default=24, help="how many photos (default 24)")
    args = parser.parse_args()
    photos = sorted(KODAK.glob("kodim*.png"))[:args.images] if KODAK.is_dir() else []
    photos = photos or sorted((ROOT / "test_images").glob("*.png"))
    tools = {"pillow": None}
    if available("convert"):
        tools["imagemagick"] = (["convert", "IN", "OUT"], ".png")
    if available("gifsicle"):
        tools["gifsicle -O3"] = (["gifsicle", "-O3", "IN", "-o", "OUT"], ".gif")
    print(f"{len(photos)} photos from {photos[0].parent}; anchors: {', '.join(tools)}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for k in (int(x) for x in args.k.split(",")):
            totals = dict.fromkeys(["ours", *tools], 0)
            seconds = 0.0
            for photo in photos:
                result = compress(photo, k=k, seed=0)
                palette, indices = result.palette[:, :3], result.indices
                pixels = palette[indices]
                start = time.perf_counter()
                files = {"ours": encode_gif(palette, indices)}
                seconds += time.perf_counter() - start
                for name, spec in tools.items():
                    if spec is None:
                        files[name] = pillow_gif(palette, indices)
                        continue
                    cmd, suffix = spec
                    source = encode_png(palette, indices) if suffix == ".png" else files["ours"]
                    argv = [str(folder / f"in{suffix}") if a == "IN" else
                            str(folder / "out.gif") if a == "OUT" else a for a in cmd]
                    (folder / f"in{suffix}").write_bytes(source)
                    subprocess.run(argv, check=True, capture_output=True)
                    files[name] = (folder / "out.gif").read_bytes()
                for name, data in files.items():
                    if not np.array_equal(decoded(data), pixels):
                        raise SystemExit(f"{name}'s GIF of {photo.name} at K={k} decodes to other pixels")
                    totals[name] += len(data)
            ours = totals["ours"]
            print(f"K={k:<4} ours {ours:>11,} B ({seconds / len(photos):.3f} s a photo)  "
                  + "  ".join(f"{name} {size:,} ({size / ours:.3f}x ours)"
                              for name, size in totals.items() if name != "ours"))


if __name__ == "__main__":
    main()
