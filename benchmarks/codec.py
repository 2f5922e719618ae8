"""Lossless coding of the quantised pixels: `.qnt`, our PNG, WebP and JPEG XL on the Kodak photos.

    python benchmarks/codec.py                          # 24 photos x K = 16, 64, 256: totals, timings
    python benchmarks/codec.py --images 6 -k 64         # the first six photos, one K
    python benchmarks/codec.py --per-image --markdown /tmp/codec-table.md
    python benchmarks/codec.py --build-cache            # only quantise and code the anchors (slow once)

Every photo is quantised with the default settings, ``quantize.compress(path, k=K, seed=0)``, and
the same decoded pixels are coded by: our ``.qnt`` (the container's default codec, and ``zstd`` for
reference), our PNG (``quantize.io.formats.encode_png``), oxipng level 6 of our PNG (pyoxipng), WebP
lossless (Pillow/libwebp, method 4, quality 100) and JPEG XL lossless (imagecodecs/libjxl, effort 9).
pngquant (``--nofs``, same K, default speed) quantises the original photo itself, so its column is
its own file, not our pixels. Every coder's output is decoded and checked against the pixels.

Targets (issue 22): at each K, total ``.qnt`` <= min(total WebP, total JPEG XL); total PNG <= 1.02x
total oxipng-6 and <= total pngquant.

The quantisation (palette + indices, .npz) and the anchors' sizes and times (JSON) are cached in
``--cache`` (default /tmp/quantize-codec-cache), keyed by the photo's content, K and the pixels, so
that after one ``--build-cache`` a run only codes ``.qnt`` and PNG (and oxipng once per new PNG).
Anchor times are one run each, single-threaded, on a shared machine: indicative only.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from common import available, best_time, require_kodak

DEFAULT_CACHE = Path(tempfile.gettempdir()) / "quantize-codec-cache"
COLUMNS = ("qnt", "qnt_zstd", "png", "oxipng6", "pngquant", "webp", "jxl")
TITLES = {"qnt": ".qnt", "qnt_zstd": ".qnt zstd", "png": "our PNG", "oxipng6": "oxipng -o6",
          "pngquant": "pngquant --nofs", "webp": "WebP m4 q100", "jxl": "JPEG XL e9"}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


@dataclass
class Row:
    name: str
    k: int
    k_used: int
    size: dict[str, int] = field(default_factory=dict)
    encode_s: dict[str, float] = field(default_factory=dict)
    decode_s: dict[str, float] = field(default_factory=dict)


class Cache:
    """JSON and .npz files under one folder; a missing or unreadable entry is recomputed, and an
    anchor that was not installed (an empty entry) is not stored."""

    def __init__(self, root: Path, refresh: bool) -> None:
        self.root, self.refresh = root, refresh

    def path(self, kind: str, key: str, suffix: str) -> Path:
        folder = self.root / kind
        folder.mkdir(parents=True, exist_ok=True)
        return folder / f"{key}{suffix}"

    def json(self, kind: str, key: str, compute) -> dict:
        path = self.path(kind, key, ".json")
        if path.exists() and not self.refresh:
            try:
                return json.loads(path.read_text())
            except ValueError:
                pass
        value = compute()
        if not value:
            return value
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(value))
        tmp.replace(path)
        return value

    def quantised(self, photo: Path, k: int) -> tuple[np.ndarray, np.ndarray]:
        path = self.path("quantised", f"{photo.stem}-{sha(photo.read_bytes())}-k{k}", ".npz")
        if path.exists() and not self.refresh:
            with np.load(path) as npz:
                return npz["palette"], npz["indices"]
        import quantize

        result = quantize.compress(str(photo), k=k, seed=0)
        palette, indices = np.asarray(result.palette), np.asarray(result.indices)
        tmp = path.with_name(path.stem + ".tmp.npz")
        np.savez(tmp, palette=palette, indices=indices)
        tmp.replace(path)
        return palette, indices


def timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def check(name: str, decoded: np.ndarray, pixels: np.ndarray) -> None:
    if decoded.shape != pixels.shape or not np.array_equal(decoded, pixels):
        raise SystemExit(f"{name}: decoded pixels differ from the quantised ones")


def pillow_pixels(data: bytes, channels: int) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as im:
        return np.asarray(im.convert("RGBA" if channels == 4 else "RGB"))


def webp_anchor(pixels: np.ndarray) -> dict:
    buf = io.BytesIO()
    enc, _ = timed(lambda: Image.fromarray(pixels).save(buf, "WEBP", lossless=True, method=4,
                                                        quality=100, exact=True))
    data = buf.getvalue()
    dec, decoded = timed(lambda: pillow_pixels(data, pixels.shape[2]))
    check("WebP", decoded, pixels)
    return {"bytes": len(data), "encode_s": enc, "decode_s": dec}


def jxl_anchor(pixels: np.ndarray) -> dict:
    try:
        import imagecodecs
    except ImportError:
        return {}

    enc, data = timed(lambda: imagecodecs.jpegxl_encode(pixels, lossless=True, effort=9, numthreads=1))
    dec, decoded = timed(lambda: imagecodecs.jpegxl_decode(data, numthreads=1))
    check("JPEG XL", decoded, pixels)
    return {"bytes": len(data), "encode_s": enc, "decode_s": dec}


def pngquant_anchor(photo: Path, k: int) -> dict:
    binary = shutil.which("pngquant")
    if binary is None:
        return {}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.png"
        enc, _ = timed(lambda: subprocess.run([binary, "--nofs", "--force", "--output", str(out), str(k),
                                               str(photo)], check=True, capture_output=True))
        return {"bytes": out.stat().st_size, "encode_s": enc}


def oxipng6(png: bytes) -> dict:
    import oxipng

    enc, data = timed(lambda: oxipng.optimize_from_memory(png, level=6))
    return {"bytes": len(data), "encode_s": enc}


def measure(photo: Path, k: int, cache: Cache, anchors_only: bool, repeat: int) -> Row:
    palette, indices = cache.quantised(photo, k)
    pixels = palette[indices]
    key = sha(palette.tobytes() + indices.astype(np.uint16).tobytes() + bytes(str(indices.shape), "ascii"))
    row = Row(photo.stem, k, len(palette))
    found = {"webp": cache.json("webp", key, lambda: webp_anchor(pixels)),
             "jxl": cache.json("jxl", key, lambda: jxl_anchor(pixels)),
             "pngquant": cache.json("pngquant", f"{photo.stem}-{sha(photo.read_bytes())}-k{k}",
                                    lambda: pngquant_anchor(photo, k))}
    if not anchors_only:
        from quantize.io import container
        from quantize.io.formats import encode_png

        for name, encode in (("qnt", lambda: container.encode(palette, indices)),
                             ("qnt_zstd", lambda: container.encode(palette, indices, codec="zstd")),
                             ("png", lambda: encode_png(palette, indices))):
            # warm: the first call in a process would also load the coder's Numba kernels
            enc, data = best_time(encode, repeat, warm=True)
            decode = ((lambda: container.decode(data).pixels()) if name != "png"
                      else (lambda: pillow_pixels(data, pixels.shape[2])))
            dec, decoded = best_time(decode, repeat, warm=True)
            check(TITLES[name], decoded, pixels)
            found[name] = {"bytes": len(data), "encode_s": enc, "decode_s": dec}
            if name == "png":
                found["oxipng6"] = cache.json("oxipng6", sha(data), lambda: oxipng6(data))
    for name, entry in found.items():
        if entry:
            row.size[name] = entry["bytes"]
            row.encode_s[name] = entry["encode_s"]
            if "decode_s" in entry:
                row.decode_s[name] = entry["decode_s"]
    return row


def qnt_codec_name() -> str:
    from quantize.io import container

    one = np.zeros((1, 3), np.uint8)
    return container.read_header(container.encode(one, np.zeros((1, 1), np.uint8))).codec


def totals(rows: list[Row], k: int) -> dict[str, int]:
    mine = [r for r in rows if r.k == k]
    return {c: sum(r.size[c] for r in mine) for c in COLUMNS if all(c in r.size for r in mine)}


def report(rows: list[Row], ks: list[int], per_image: bool) -> None:
    cols = [c for c in COLUMNS if any(c in r.size for r in rows)]
    if per_image:
        print(f"{'image':8} {'K':>4} " + " ".join(f"{TITLES[c]:>15}" for c in cols))
        for r in rows:
            print(f"{r.name:8} {r.k:>4} " + " ".join(f"{r.size.get(c, 0):>15,}" for c in cols))
        print()
    count = len({r.name for r in rows})
    print(f"totals over {count} photos (bytes); pngquant quantises the original itself")
    print(f"{'K':>4} " + " ".join(f"{TITLES[c]:>15}" for c in cols))
    for k in ks:
        tot = totals(rows, k)
        print(f"{k:>4} " + " ".join(f"{tot.get(c, 0):>15,}" for c in cols))
    print("\nratios of the totals (targets: .qnt / min(WebP, JXL) <= 1; PNG / oxipng6 <= 1.02; "
          "PNG / pngquant <= 1)")
    print(f"{'K':>4} {'.qnt/min':>9} {'zstd/min':>9} {'PNG/min':>9} {'PNG/oxi6':>9} {'PNG/pngq':>9}")
    for k in ks:
        tot = totals(rows, k)
        best = min(tot.get("webp", 0), tot.get("jxl", 0))

        def ratio(a: str, b: float | int) -> str:
            return f"{tot[a] / b:>9.3f}" if a in tot and b else f"{'-':>9}"

        print(f"{k:>4} {ratio('qnt', best)} {ratio('qnt_zstd', best)} {ratio('png', best)} "
              f"{ratio('png', tot.get('oxipng6', 0))} {ratio('png', tot.get('pngquant', 0))}")
    print("\nmean seconds per photo, encode / decode (ours: best of --repeat after a warm-up; anchors: one "
          "run, cached)")
    print(f"{'K':>4} " + " ".join(f"{TITLES[c]:>15}" for c in cols))
    for k in ks:
        mine = [r for r in rows if r.k == k]
        cells = []
        for c in cols:
            enc = [r.encode_s[c] for r in mine if c in r.encode_s]
            dec = [r.decode_s[c] for r in mine if c in r.decode_s]
            text = f"{np.mean(enc):.3f}" if enc else "-"
            text += f"/{np.mean(dec):.3f}" if dec else ""
            cells.append(f"{text:>15}")
        print(f"{k:>4} " + " ".join(cells))


def markdown(rows: list[Row], ks: list[int]) -> str:
    cols = [c for c in COLUMNS if any(c in r.size for r in rows)]
    head = "| image | K | " + " | ".join(TITLES[c] for c in cols) + " | .qnt / min(WebP, JXL) |"
    lines = [head, "|" + "---|" * (len(cols) + 3)]
    for k in ks:
        for r in (r for r in rows if r.k == k):
            best = min(r.size.get("webp", 0), r.size.get("jxl", 0))
            ratio = f"{r.size['qnt'] / best:.3f}" if best and "qnt" in r.size else "-"
            lines.append(f"| {r.name} | {k} | " + " | ".join(f"{r.size.get(c, 0):,}" for c in cols)
                         + f" | {ratio} |")
        tot = totals(rows, k)
        best = min(tot.get("webp", 0), tot.get("jxl", 0))
        ratio = f"**{tot['qnt'] / best:.3f}**" if best and "qnt" in tot else "-"
        lines.append(f"| **total** | {k} | " + " | ".join(f"**{tot.get(c, 0):,}**" for c in cols)
                     + f" | {ratio} |")
    return "\n".join(lines) + "\n"


def photos(folder: Path, images: list[str] | None) -> list[Path]:
    found = sorted(folder.glob("*.png"))
    if not found:
        sys.exit(f"benchmark skipped: no .png photos in {folder}")
    if not images:
        return found
    if len(images) == 1 and images[0].isdigit():
        return found[:int(images[0])]
    by_name = {p.stem: p for p in found}
    missing = [n for n in images if n not in by_name]
    if missing:
        sys.exit(f"not in {folder}: {', '.join(missing)}")
    return [by_name[n] for n in images]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-k", "--k", type=int, nargs="+", default=[16, 64, 256])
    parser.add_argument("--images", nargs="+", help="N (the first N photos) or names like kodim05")
    parser.add_argument("--dir", type=Path, help="folder of the photos (default: Kodak)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--refresh", action="store_true", help="recompute every cached entry")
    parser.add_argument("--build-cache", action="store_true",
                        help="only quantise and code the anchors (WebP, JPEG XL, pngquant)")
    parser.add_argument("--repeat", type=int, default=1, help="timed runs of our coders; the best is kept")
    parser.add_argument("--per-image", action="store_true")
    parser.add_argument("--markdown", type=Path, help="write the per-image table here")
    args = parser.parse_args()
    args.dir = args.dir or require_kodak()
    if not args.dir.is_dir():
        sys.exit(f"benchmark skipped: {args.dir} not found")
    available("pngquant"), available("imagecodecs")  # a line for each one absent
    cache = Cache(args.cache, args.refresh)
    rows = []
    start = time.perf_counter()
    for photo in photos(args.dir, args.images):
        for k in args.k:
            rows.append(measure(photo, k, cache, args.build_cache, args.repeat))
            if args.build_cache:
                print(f"{photo.stem} K={k}: cached ({time.perf_counter() - start:.0f} s)", flush=True)
    if args.build_cache:
        return
    print(f".qnt default codec: {qnt_codec_name()}; cache {args.cache}\n")
    report(rows, args.k, args.per_image)
    if args.markdown:
        args.markdown.write_text(markdown(rows, args.k))
        print(f"\nper-image table written to {args.markdown}")


if __name__ == "__main__":
    main()
