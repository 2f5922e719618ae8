"""Transparency: fully transparent pixels share one entry, partial alpha is judged over black and
white, RGBA outputs carry alpha."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from quantize.io import container
from quantize.core.colorstats import color_stats
from quantize.core.fitting import FitOptions
from quantize.io.images import image_from_array
from quantize.core.kmeans import kmeans
from quantize.core.mapping import map_pixels
from quantize.jobs.pipeline import CompressOptions, quantize_image

LOGO = Path(__file__).resolve().parents[1] / "test_images" / "logo.png"


def run(image: np.ndarray, k: int, **options):
    return quantize_image(image_from_array(image), CompressOptions(fit=FitOptions(k=k, **options)))


def photo_rgba(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:48, 0:64]
    rgb = np.stack([4 * x, 5 * y, 255 - 2 * x - 2 * y], -1) + rng.integers(-12, 13, (48, 64, 3))
    alpha = np.full((48, 64, 1), 255)
    return np.clip(np.concatenate([rgb, alpha], -1), 0, 255).astype(np.uint8)


def over(pixels: np.ndarray, background: int) -> np.ndarray:
    a = pixels[..., 3:].astype(np.float64) / 255
    return pixels[..., :3] * a + background * (1 - a)


def test_all_transparent_is_one_clear_entry() -> None:
    pixels = np.random.default_rng(0).integers(0, 256, (20, 30, 4)).astype(np.uint8)
    pixels[..., 3] = 0
    result = run(pixels, 16)
    np.testing.assert_array_equal(result.palette, [[0, 0, 0, 0]])
    assert result.transparent_pixels == 600 and result.mse == 0 and result.delta_e == 0
    assert result.to_dict()["transparent_pixels"] == 600


def test_all_opaque_rgba_is_treated_as_rgb() -> None:
    pixels = photo_rgba()
    result = run(pixels, 8)
    assert result.channels == 3 and result.palette.shape == (8, 3)
    assert result.transparent_pixels == 0
    rgb = run(np.ascontiguousarray(pixels[..., :3]), 8)
    np.testing.assert_array_equal(result.palette, rgb.palette)


def test_one_transparent_pixel_gets_its_own_entry_whatever_its_rgb() -> None:
    pixels = photo_rgba()
    pixels[5, 7] = (250, 10, 10, 0)
    result = run(pixels, 8)
    assert result.transparent_pixels == 1 and result.k_used == 8
    clear = np.flatnonzero(result.palette[:, 3] == 0)
    assert len(clear) == 1 and tuple(result.palette[clear[0]]) == (0, 0, 0, 0)
    assert result.indices[5, 7] == clear[0] and (result.indices == clear[0]).sum() == 1
    assert (result.palette[result.palette[:, 3] > 0, 3] == 255).all()
    other = pixels.copy()
    other[5, 7] = (0, 200, 90, 0)  # different hidden RGB: the same result
    again = run(other, 8)
    np.testing.assert_array_equal(again.palette, result.palette)
    np.testing.assert_array_equal(again.indices, result.indices)


def test_k_1_keeps_the_transparent_entry_beside_its_one_colour() -> None:
    """One entry would show the image as a half-transparent wash (PSNR 6 on the logo); the
    transparent pixels keep theirs, as at any K, and the one colour is fitted to the rest."""
    pixels = photo_rgba()
    pixels[:, :20, 3] = 0
    result = run(pixels, 1)
    assert result.k_used == 2 and tuple(result.palette[0]) == (0, 0, 0, 0)
    assert result.palette[1, 3] == 255
    np.testing.assert_array_equal(result.indices == 0, pixels[..., 3] == 0)
    np.testing.assert_allclose(result.palette[1, :3], pixels[:, 20:, :3].reshape(-1, 3).mean(0), atol=6)


def test_semi_transparent_gradient_is_judged_over_black_and_white() -> None:
    y, x = np.mgrid[0:64, 0:96]
    pixels = np.stack([255 * x / 95, 200 - y, 60 + 0 * x, 255 * y / 63], -1)
    pixels = np.rint(pixels).astype(np.uint8)
    pixels[:4] = (0, 0, 0, 0)  # and a transparent band
    k = 12
    result = run(pixels, k, space="rgb")
    out = result.palette[result.indices]
    assert result.transparent_pixels == 4 * 96 and (out[:4] == 0).all()
    assert len(np.unique(result.palette[:, 3])) >= 4  # opacity levels are fitted, not rounded away

    def both_backgrounds_error(quantised: np.ndarray) -> float:
        return sum(float(((over(pixels, b) - over(quantised, b)) ** 2).mean()) for b in (0, 255))

    # A plain k-means on straight (unpremultiplied) RGBA, mapped the same way, errs more.
    stats = color_stats(pixels)
    straight = kmeans(pixels[4:].reshape(-1, 4).astype(np.float64), np.ones(60 * 96), k - 1, seed=0)
    palette = np.vstack([[0, 0, 0, 0], np.clip(np.rint(straight.centers), 0, 255)]).astype(np.uint8)
    plain = palette[map_pixels(pixels, stats.in_space("rgb"), palette)]
    assert both_backgrounds_error(out) < 0.9 * both_backgrounds_error(plain)  # measured: 0.85
    assert result.delta_e < 5.0  # measured: 4.2 (over white)


def test_logo_through_the_cli_keeps_alpha(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "quantize", "compress", str(LOGO), "-k", "16",
                           "-o", str(tmp_path), "--json", "--dither", "fs"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    original = np.asarray(Image.open(LOGO).convert("RGBA"))
    assert report["channels"] == 4 and report["transparent_pixels"] == (original[..., 3] == 0).sum()
    assert "fully transparent" in proc.stderr
    packed = container.load(tmp_path / "logo.qnt")
    assert packed.header.channels == 4 and packed.palette.shape[1] == 4
    restored = packed.pixels()
    assert (restored[original[..., 3] == 0] == 0).all()  # transparent stays transparent
    preview = np.asarray(Image.open(tmp_path / "logo.preview.png").convert("RGBA"))
    np.testing.assert_array_equal(preview, restored)
    assert report["delta_e"] < 3.0
