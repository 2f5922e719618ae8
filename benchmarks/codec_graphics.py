"""The `.qnt` of flat graphics against lossless WebP and JPEG XL of the same pixels.

    python benchmarks/codec_graphics.py                   # 7 drawn graphics x K = 16, 64, 256
    python benchmarks/codec_graphics.py -k 256 shot.png   # any images too, at one K

Draws a UI screenshot, a bar chart, a logo with alpha, pixel art, a gradient, a page of text and a
code editor (DejaVu fonts; other fonts give other figures), runs `quantize compress IMG -k K
--format qnt,png`, and codes the preview PNG with `cwebp -lossless -z 9 -exact` and `cjxl -d 0
-e 9` (each skipped when absent). Prints the bytes, the codec the `.qnt` was written with, and
`.qnt / min(WebP, JPEG XL)`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from common import available, process_env

FONTS = Path("/usr/share/fonts/truetype/dejavu")


def font(size: int, mono: bool = False) -> ImageFont.ImageFont:
    try:
        return ImageFont.truetype(str(FONTS / ("DejaVuSansMono.ttf" if mono else "DejaVuSans.ttf")), size)
    except OSError:
        return ImageFont.load_default()


def ui() -> Image.Image:
    im = Image.new("RGB", (800, 600), (245, 246, 248))
    d = ImageDraw.Draw(im)
    d.rectangle([0, 0, 800, 40], fill=(45, 52, 64))
    d.text((12, 10), "File  Edit  View  Window  Help", fill=(230, 230, 230), font=font(16))
    d.rectangle([0, 40, 180, 600], fill=(230, 233, 238))
    for i in range(12):
        d.text((14, 60 + i * 28), f"Sidebar item {i}", fill=(40, 40, 40), font=font(14))
    d.rounded_rectangle([200, 60, 780, 200], radius=8, fill=(255, 255, 255), outline=(200, 200, 210))
    for i in range(5):
        d.text((215, 72 + i * 24), "Lorem ipsum dolor sit amet, consectetur adipiscing elit %d" % i,
               fill=(30, 30, 30), font=font(15))
    d.rounded_rectangle([600, 540, 770, 580], radius=6, fill=(0, 120, 215))
    d.text((640, 550), "Submit", fill="white", font=font(16))
    colours = [(220, 80, 80), (80, 180, 90), (70, 130, 220), (240, 180, 40), (150, 90, 200), (90, 90, 90)]
    for i, colour in enumerate(colours):
        d.rounded_rectangle([200 + i * 95, 230, 280 + i * 95, 320], radius=5, fill=colour)
    d.text((210, 340), "Chart of something: antialiased text at several sizes", fill=(60, 60, 60),
           font=font(20))
    return im


def logo() -> Image.Image:
    s = 256
    im = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    d.ellipse([20, 20, 236, 236], fill=(220, 40, 60, 255))
    d.ellipse([70, 70, 186, 186], fill=(255, 255, 255, 255))
    d.text((78, 105), "LOGO", fill=(20, 30, 120, 255), font=font(34))
    a = np.array(im.resize((512, 512), Image.LANCZOS).resize((256, 256), Image.LANCZOS))
    yy, xx = np.mgrid[0:s, 0:s]
    shadow = (np.clip((120 - np.hypot(yy - s / 2 - 6, xx - s / 2 - 6)) / 12, 0, 1) * 90).astype(np.uint8)
    alpha = a[..., 3:4] / 255.0
    out = a.astype(float)
    out[..., :3] = a[..., :3] * alpha
    out[..., 3] = np.maximum(a[..., 3], shadow * (1 - alpha[..., 0]))
    return Image.fromarray(out.astype(np.uint8), "RGBA")


def chart() -> Image.Image:
    im = Image.new("RGB", (640, 480), "white")
    d = ImageDraw.Draw(im)
    colours = [(31, 119, 180), (255, 127, 14), (44, 160, 44)]
    d.line([60, 420, 620, 420], fill="black", width=2)
    d.line([60, 40, 60, 420], fill="black", width=2)
    for i in range(8):
        for j, colour in enumerate(colours):
            h = int(50 + (i * 37 + j * 53) % 300)
            d.rectangle([80 + i * 66 + j * 18, 420 - h, 94 + i * 66 + j * 18, 419], fill=colour)
        d.text((80 + i * 66, 430), f"Q{i + 1}", fill="black", font=font(14))
    for y in range(60, 420, 60):
        d.line([61, y, 620, y], fill=(220, 220, 220))
        d.text((20, y - 8), str(420 - y), fill="black", font=font(12))
    d.text((200, 10), "Revenue by quarter (flat colours)", fill="black", font=font(18))
    return im


def gradient() -> Image.Image:
    x, y = np.linspace(0, 1, 512), np.linspace(0, 1, 384)[:, None]
    planes = [x * 255, y * 255, (1 - x) * (1 - y) * 200 + 30]
    return Image.fromarray(np.stack([np.broadcast_to(p, (384, 512)) for p in planes], -1).astype(np.uint8))


def sprite() -> Image.Image:
    rng = np.random.default_rng(1)
    palette = rng.integers(0, 256, (12, 3))
    art = np.zeros((32, 32), int)
    for i in range(32):
        for j in range(16):
            art[i, j] = art[i, 31 - j] = rng.integers(0, 12) if (i - 16) ** 2 + (j - 16) ** 2 < 200 else 0
    return Image.fromarray(palette[art].astype(np.uint8)).resize((256, 256), Image.NEAREST)


def text() -> Image.Image:
    im = Image.new("RGB", (800, 1000), "white")
    d = ImageDraw.Draw(im)
    words = ("the quick brown fox jumps over the lazy dog while colour quantisation packs "
             "indices").split()
    rng = np.random.default_rng(3)
    for i in range(45):
        d.text((40, 30 + i * 21), " ".join(rng.choice(words, 11)), fill=(20, 20, 20), font=font(16))
    return im


def editor() -> Image.Image:
    rng = np.random.default_rng(4)
    im = Image.new("RGB", (1024, 768), (40, 44, 52))
    d = ImageDraw.Draw(im)
    mono = font(14, mono=True)
    d.rectangle([0, 0, 1024, 28], fill=(33, 37, 43))
    d.rectangle([0, 740, 1024, 768], fill=(0, 122, 204))
    d.rectangle([0, 28, 220, 740], fill=(33, 37, 43))
    for i in range(24):
        d.text((14, 40 + i * 24), f"module_{i}.py", fill=(171, 178, 191), font=mono)
    colours = [(198, 120, 221), (97, 175, 239), (152, 195, 121), (229, 192, 123), (224, 108, 117),
               (171, 178, 191)]
    tokens = ["def", "return", "self", "import", "np.array", "for", "in", "range", "if", "else", "x",
              "y", "=", "+", "(", ")", ":"]
    for i in range(38):
        d.text((230, 36 + i * 18), f"{i + 1:4d}", fill=(99, 109, 131), font=mono)
        x = 280 + 8 * int(rng.integers(0, 4)) * 4
        for token in rng.choice(tokens, int(rng.integers(2, 9))):
            d.text((x, 36 + i * 18), token, fill=colours[int(rng.integers(0, 6))], font=mono)
            x += 8 * (len(token) + 1)
    d.text((10, 748), "Ln 12, Col 4   UTF-8   Python", fill="white", font=mono)
    return im


DRAWN = {"chart": chart, "editor": editor, "gradient": gradient, "logo": logo, "sprite": sprite,
         "text": text, "ui": ui}


def thousands(n: int | None) -> str:
    return "-" if n is None else f"{n:,}"


def coded(command: list[str], out: Path, present: set[str]) -> int | None:
    """Bytes of ``out`` after ``command``, or None when its program is not ``present``."""
    if command[0] not in present:
        return None
    subprocess.run(command, check=True, capture_output=True)
    return out.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("images", nargs="*", type=Path, help="more images to measure")
    parser.add_argument("-k", type=int, action="append", help="default: 16, 64 and 256")
    args = parser.parse_args()
    from quantize.io.container import codec_of

    present = {name for name in ("cwebp", "cjxl") if available(name)}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        images = []
        for name, draw in DRAWN.items():
            draw().save(folder / f"{name}.png")
            images.append(folder / f"{name}.png")
        print("| image | K | .qnt | codec | our PNG | WebP -z 9 | JPEG XL e9 | .qnt / min(WebP, JXL) |")
        print("|---|---|---|---|---|---|---|---|")
        for image in images + args.images:
            for k in args.k or [16, 64, 256]:
                out = folder / f"{image.stem}-{k}"
                done = subprocess.run([sys.executable, "-m", "quantize", "compress", str(image), "-k",
                                       str(k), "--format", "qnt,png", "-o", str(out)],
                                      capture_output=True, text=True, env=process_env())
                if done.returncode:
                    sys.exit(done.stderr.strip() or f"quantize compress {image} failed")
                qnt, png = out / f"{image.stem}.qnt", out / f"{image.stem}.preview.png"
                webp = coded(["cwebp", "-quiet", "-lossless", "-z", "9", "-exact", str(png), "-o",
                              str(out / "x.webp")], out / "x.webp", present)
                jxl = coded(["cjxl", "-d", "0", "-e", "9", str(png), str(out / "x.jxl")], out / "x.jxl",
                            present)
                anchors = [n for n in (webp, jxl) if n]
                ratio = f"{qnt.stat().st_size / min(anchors):.3f}" if anchors else "-"
                print(f"| {image.stem} | {k} | {qnt.stat().st_size:,} | {codec_of(qnt.read_bytes())} | "
                      f"{png.stat().st_size:,} | {thousands(webp)} | {thousands(jxl)} | {ratio} |",
                      flush=True)


if __name__ == "__main__":
    main()
