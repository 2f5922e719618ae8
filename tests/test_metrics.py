"""Tests for quantize.core.metrics: exact MSE, PSNR, CIEDE2000 against published data, ΔE sampling, ratios."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quantize.core.colorspace import srgb8_to_lab
from quantize.core.metrics import (DeltaEReference, ciede2000, delta_e_pairs, mean_delta_e, mse, psnr,
                                   sample_positions)
from quantize.io.container import bits_per_index, classic_ratio

# Sharma, Wu and Dalal (2005), Table 1: L1 a1 b1  L2 a2 b2  ΔE00, all 34 pairs.
SHARMA_2005 = """
50.0000 2.6772 -79.7751 50.0000 0.0000 -82.7485 2.0425
50.0000 3.1571 -77.2803 50.0000 0.0000 -82.7485 2.8615
50.0000 2.8361 -74.0200 50.0000 0.0000 -82.7485 3.4412
50.0000 -1.3802 -84.2814 50.0000 0.0000 -82.7485 1.0000
50.0000 -1.1848 -84.8006 50.0000 0.0000 -82.7485 1.0000
50.0000 -0.9009 -85.5211 50.0000 0.0000 -82.7485 1.0000
50.0000 0.0000 0.0000 50.0000 -1.0000 2.0000 2.3669
50.0000 -1.0000 2.0000 50.0000 0.0000 0.0000 2.3669
50.0000 2.4900 -0.0010 50.0000 -2.4900 0.0009 7.1792
50.0000 2.4900 -0.0010 50.0000 -2.4900 0.0010 7.1792
50.0000 2.4900 -0.0010 50.0000 -2.4900 0.0011 7.2195
50.0000 2.4900 -0.0010 50.0000 -2.4900 0.0012 7.2195
50.0000 -0.0010 2.4900 50.0000 0.0009 -2.4900 4.8045
50.0000 -0.0010 2.4900 50.0000 0.0010 -2.4900 4.8045
50.0000 -0.0010 2.4900 50.0000 0.0011 -2.4900 4.7461
50.0000 2.5000 0.0000 50.0000 0.0000 -2.5000 4.3065
50.0000 2.5000 0.0000 73.0000 25.0000 -18.0000 27.1492
50.0000 2.5000 0.0000 61.0000 -5.0000 29.0000 22.8977
50.0000 2.5000 0.0000 56.0000 -27.0000 -3.0000 31.9030
50.0000 2.5000 0.0000 58.0000 24.0000 15.0000 19.4535
50.0000 2.5000 0.0000 50.0000 3.1736 0.5854 1.0000
50.0000 2.5000 0.0000 50.0000 3.2972 0.0000 1.0000
50.0000 2.5000 0.0000 50.0000 1.8634 0.5757 1.0000
50.0000 2.5000 0.0000 50.0000 3.2592 0.3350 1.0000
60.2574 -34.0099 36.2677 60.4626 -34.1751 39.4387 1.2644
63.0109 -31.0961 -5.8663 62.8187 -29.7946 -4.0864 1.2630
61.2901 3.7196 -5.3901 61.4292 2.2480 -4.9620 1.8731
35.0831 -44.1164 3.7933 35.0232 -40.0716 1.5901 1.8645
22.7233 20.0904 -46.6940 23.0331 14.9730 -42.5619 2.0373
36.4612 47.8580 18.3852 36.2715 50.5065 21.2231 1.4146
90.8027 -2.0831 1.4410 91.1528 -1.6435 0.0447 1.4441
90.9257 -0.5406 -0.9208 88.6381 -0.8985 -0.7239 1.5381
6.7747 -0.2908 -2.4247 5.8714 -0.0985 -2.2286 0.6377
2.0776 0.0795 -1.1350 0.9033 -0.0636 -0.5514 0.9082
"""


def _sharma() -> np.ndarray:
    return np.array([line.split() for line in SHARMA_2005.strip().splitlines()], dtype=np.float64)


def _quantised(rng: np.random.Generator, h: int, w: int, c: int, k: int):
    pixels = rng.integers(0, 256, (h, w, c), dtype=np.uint8)
    palette = rng.integers(0, 256, (k, c), dtype=np.uint8)
    indices = rng.integers(0, k, (h, w)).astype(np.uint8 if k <= 256 else np.uint16)
    return pixels, palette, indices


# ------------------------------------------------------------------------------------------ CIEDE2000

def test_ciede2000_matches_all_34_published_pairs() -> None:
    table = _sharma()
    assert table.shape == (34, 7)
    got = ciede2000(table[:, :3], table[:, 3:6])
    np.testing.assert_allclose(got, table[:, 6], atol=1e-4, rtol=0)


def test_ciede2000_is_symmetric_and_zero_on_identity() -> None:
    table = _sharma()
    np.testing.assert_allclose(ciede2000(table[:, 3:6], table[:, :3]), table[:, 6], atol=1e-4, rtol=0)
    assert np.all(ciede2000(table[:, :3], table[:, :3]) == 0)


def test_ciede2000_broadcasts() -> None:
    table = _sharma()
    one = ciede2000(table[0, :3], table[:, 3:6])
    assert one.shape == (34,)
    np.testing.assert_allclose(one, [ciede2000(table[0, :3], row) for row in table[:, 3:6]])


def test_ciede2000_agrees_with_scikit_image_on_random_colours() -> None:
    skcolor = pytest.importorskip("skimage.color")
    rng = np.random.default_rng(7)
    rgb1 = rng.integers(0, 256, (20_000, 3))
    rgb2 = np.clip(rgb1 + rng.integers(-40, 41, (20_000, 3)), 0, 255)
    rgb2[:5000] = rng.integers(0, 256, (5000, 3))  # far pairs too
    rgb2[5000:5100] = rgb1[5000:5100]  # identical pairs
    grey = np.repeat(rng.integers(0, 256, (100, 1)), 3, axis=1)  # achromatic: C' = 0
    rgb1[5100:5200], rgb2[5100:5200] = grey, np.roll(grey, 1, axis=0)
    lab1, lab2 = srgb8_to_lab(rgb1), srgb8_to_lab(rgb2)
    np.testing.assert_allclose(ciede2000(lab1, lab2), skcolor.deltaE_ciede2000(lab1, lab2),
                               atol=1e-9, rtol=1e-9)


# ------------------------------------------------------------------------------------------------ MSE

@pytest.mark.parametrize("shape", [(1, 1, 3), (7, 3, 3), (300, 500, 3), (40, 9, 4)])
def test_mse_equals_plain_float_computation(shape: tuple[int, int, int]) -> None:
    rng = np.random.default_rng(sum(shape))
    pixels, palette, indices = _quantised(rng, *shape, k=300)
    expected = ((pixels.astype(np.float64) - palette[indices]) ** 2).sum(axis=2).mean()
    assert mse(pixels, palette, indices) == pytest.approx(expected, rel=1e-12)


def test_mse_is_exact_where_float_accumulation_is_not() -> None:
    # Every pixel off by 1 in one channel: the sum is exactly n, so the mean is exactly 1.
    pixels = np.zeros((1001, 997, 3), np.uint8)
    palette = np.array([[1, 0, 0]], np.uint8)
    assert mse(pixels, palette, np.zeros((1001, 997), np.uint8)) == 1.0


def test_mse_extremes_and_chunk_boundaries() -> None:
    pixels = np.full((1000, 200, 3), 255, np.uint8)  # several row chunks
    palette = np.array([[0, 0, 0], [255, 255, 255]], np.uint8)
    indices = np.zeros((1000, 200), np.uint8)
    assert mse(pixels, palette, indices) == 3 * 255 ** 2
    indices[:] = 1
    assert mse(pixels, palette, indices) == 0.0
    indices[::2] = 0  # half the rows fully wrong
    assert mse(pixels, palette, indices) == 3 * 255 ** 2 / 2


def test_mse_rejects_mismatched_shapes() -> None:
    with pytest.raises(ValueError, match="shapes"):
        mse(np.zeros((2, 2, 3), np.uint8), np.zeros((1, 4), np.uint8), np.zeros((2, 2), np.uint8))
    with pytest.raises(ValueError, match="shapes"):
        mse(np.zeros((2, 2, 3), np.uint8), np.zeros((1, 3), np.uint8), np.zeros((2, 3), np.uint8))


# ----------------------------------------------------------------------------------------------- PSNR

def test_psnr_formula() -> None:
    assert psnr(0.0) == math.inf
    assert psnr(3 * 255 ** 2) == pytest.approx(0.0, abs=1e-12)
    assert psnr(3.0) == pytest.approx(20 * math.log10(255))  # per-channel MSE of 1
    assert psnr(201.5) == pytest.approx(10 * math.log10(255 ** 2 / (201.5 / 3)))
    assert psnr(4.0, channels=4) == pytest.approx(20 * math.log10(255))


# ------------------------------------------------------------------------------------------------- ΔE

def _reference_delta_e(pixels, palette, indices, positions) -> float:
    flat = pixels.reshape(-1, pixels.shape[2])[positions].astype(np.float64)
    quant = palette[indices.reshape(-1)[positions]].astype(np.float64)
    if pixels.shape[2] == 4:
        flat = flat[:, :3] * flat[:, 3:] / 255 + 255 * (1 - flat[:, 3:] / 255)
        quant = quant[:, :3] * quant[:, 3:] / 255 + 255 * (1 - quant[:, 3:] / 255)
    return float(ciede2000(srgb8_to_lab(flat), srgb8_to_lab(quant)).mean())


def test_mean_delta_e_uses_all_pixels_of_a_small_image() -> None:
    rng = np.random.default_rng(1)
    pixels, palette, indices = _quantised(rng, 30, 40, 3, k=16)
    got = mean_delta_e(pixels, palette, indices)
    assert got == pytest.approx(_reference_delta_e(pixels, palette, indices, np.arange(1200)), rel=1e-12)


def test_mean_delta_e_is_deterministic_and_depends_on_seed() -> None:
    rng = np.random.default_rng(2)
    pixels, palette, indices = _quantised(rng, 200, 300, 3, k=8)
    a = mean_delta_e(pixels, palette, indices, n_samples=5000, seed=3)
    assert a == mean_delta_e(pixels.copy(), palette, indices, n_samples=5000, seed=3)
    assert a != mean_delta_e(pixels, palette, indices, n_samples=5000, seed=4)
    full = mean_delta_e(pixels, palette, indices, n_samples=60_000)
    assert a == pytest.approx(full, rel=0.05)  # a 5k sample estimates the full mean


def test_mean_delta_e_sample_matches_reference_on_the_same_positions() -> None:
    rng = np.random.default_rng(5)
    pixels, palette, indices = _quantised(rng, 64, 64, 3, k=4)
    positions = np.sort(np.random.default_rng(9).choice(4096, size=1000, replace=False, shuffle=False))
    expected = _reference_delta_e(pixels, palette, indices, positions)
    got = mean_delta_e(pixels, palette, indices, n_samples=1000, seed=9)
    assert got == pytest.approx(expected, rel=1e-12)


def test_mean_delta_e_zero_when_exact_and_rgba_composited_on_white() -> None:
    rng = np.random.default_rng(6)
    palette = rng.integers(0, 256, (5, 4), dtype=np.uint8)
    indices = rng.integers(0, 5, (20, 20)).astype(np.uint8)
    assert mean_delta_e(palette[indices], palette, indices) == 0.0
    # Fully transparent pixels look white whatever their RGB: no difference.
    pixels = np.zeros((2, 2, 4), np.uint8)
    clear = np.array([[255, 0, 0, 0]], np.uint8)
    assert mean_delta_e(pixels, clear, np.zeros((2, 2), np.uint8)) == 0.0
    # Opaque black against transparent (white): the black-white difference, 100.
    pixels[..., 3] = 255
    assert mean_delta_e(pixels, clear, np.zeros((2, 2), np.uint8)) == pytest.approx(100.0, abs=1e-3)
    expected = _reference_delta_e(palette[indices] // 2, palette, indices, np.arange(400))
    assert mean_delta_e(palette[indices] // 2, palette, indices) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("channels", [3, 4])
def test_delta_e_pairs_are_the_per_pixel_values_of_the_mean(channels) -> None:
    rng = np.random.default_rng(channels)
    palette = rng.integers(0, 256, (7, channels), dtype=np.uint8)
    indices = rng.integers(0, 7, (30, 20))
    pixels = rng.integers(0, 256, (30, 20, channels), dtype=np.uint8)
    pairs = delta_e_pairs(pixels.reshape(-1, channels), palette[indices].reshape(-1, channels))
    assert pairs.shape == (600,) and (pairs >= 0).all()
    assert pairs.mean() == pytest.approx(mean_delta_e(pixels, palette, indices), rel=1e-12)


@pytest.mark.parametrize("channels", [3, 4])
def test_delta_e_reference_gives_the_same_value_for_every_palette(channels) -> None:
    rng = np.random.default_rng(7)
    pixels = rng.integers(0, 6, (90, 70, channels), dtype=np.uint8) * 51  # repeated colours
    reference = DeltaEReference(pixels, n_samples=3000, seed=2)
    for k in (1, 4, 32):
        palette = rng.integers(0, 256, (k, channels), dtype=np.uint8)
        by_colour = rng.integers(0, k, 6 ** channels)  # one index per colour (no dithering)
        code = (pixels // 51).astype(np.int64) @ (6 ** np.arange(channels))
        dithered = rng.integers(0, k, (90, 70))  # indices that are no function of the colour
        for indices in (by_colour[code].astype(np.uint8), dithered.astype(np.uint16)):
            positions = np.sort(np.random.default_rng(2).choice(6300, size=3000, replace=False,
                                                                shuffle=False))
            expected = _reference_delta_e(pixels, palette, indices, positions)
            got = mean_delta_e(pixels, palette, indices, n_samples=3000, seed=2, reference=reference)
            assert got == mean_delta_e(pixels, palette, indices, n_samples=3000, seed=2)
            assert got == pytest.approx(expected, rel=1e-12)


def test_delta_e_reference_from_positions_drawn_beforehand() -> None:
    rng = np.random.default_rng(10)
    pixels, palette, indices = _quantised(rng, 50, 80, 3, k=8)
    positions = sample_positions(4000, 1500, seed=3)
    assert len(np.unique(positions)) == 1500 and np.all(np.diff(positions) > 0)
    drawn = DeltaEReference(pixels, n_samples=1500, seed=3, positions=positions)
    assert drawn.mean(palette, indices) == mean_delta_e(pixels, palette, indices, n_samples=1500, seed=3)
    np.testing.assert_array_equal(sample_positions(30, 1500), np.arange(30))
    with pytest.raises(ValueError, match="1499 sample positions for 1500"):
        DeltaEReference(pixels, n_samples=1500, seed=3, positions=positions[1:])


def test_compress_file_measures_on_the_fixed_sample(tmp_path) -> None:
    """compress_file draws the ΔE sample beside the colour count: the value is the metric's own."""
    from PIL import Image

    from quantize.core.fitting import FitOptions
    from quantize.jobs.pipeline import CompressOptions, compress_file

    rng = np.random.default_rng(11)
    pixels = rng.integers(0, 256, (60, 90, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "noise.png")
    result = compress_file(tmp_path / "noise.png", tmp_path / "out",
                           options=CompressOptions(fit=FitOptions(k=8), delta_e_samples=1000))
    assert result.delta_e == mean_delta_e(pixels, result.palette, result.indices, n_samples=1000)
    assert result.mse == mse(pixels, result.palette, result.indices)


def test_delta_e_reference_must_match_the_image_and_settings() -> None:
    pixels = np.zeros((10, 10, 3), np.uint8)
    palette, indices = np.zeros((1, 3), np.uint8), np.zeros((10, 10), np.uint8)
    reference = DeltaEReference(pixels, n_samples=50, seed=1)
    with pytest.raises(ValueError, match="reference"):
        mean_delta_e(pixels, palette, indices, n_samples=50, seed=0, reference=reference)
    with pytest.raises(ValueError, match="reference"):
        mean_delta_e(pixels[:5], palette, indices[:5], n_samples=50, seed=1, reference=reference)


def test_mse_is_exact_for_wide_indices_and_strided_arrays() -> None:
    rng = np.random.default_rng(8)
    pixels = rng.integers(0, 256, (40, 60, 4), dtype=np.uint8)[::2, ::3]
    palette = rng.integers(0, 256, (300, 4), dtype=np.uint8)
    indices = rng.integers(0, 300, (40, 60)).astype(np.uint16)[::2, ::3]
    diff = pixels.astype(np.int64) - palette[indices].astype(np.int64)
    assert mse(pixels, palette, indices) == (diff * diff).sum() / indices.size


# --------------------------------------------------------------------------------------- size measures

@pytest.mark.parametrize(("k", "bits", "ratio"), [
    (1, 0, math.inf), (2, 1, 24.0), (3, 2, 12.0), (16, 4, 6.0), (17, 5, 4.8),
    (64, 6, 4.0), (256, 8, 3.0), (257, 9, 24 / 9), (65536, 16, 1.5)])
def test_bits_per_index_and_classic_ratio(k: int, bits: int, ratio: float) -> None:
    assert bits_per_index(k) == bits
    assert classic_ratio(k) == ratio
    assert classic_ratio(k, channels=4) == pytest.approx(ratio * 4 / 3)


@settings(max_examples=50, deadline=None)
@given(st.integers(1, 65536))
def test_classic_ratio_is_24_over_bits(k: int) -> None:
    bits = bits_per_index(k)
    assert 2 ** bits >= k and (bits == 0 or 2 ** (bits - 1) < k)
    assert classic_ratio(k) == (math.inf if bits == 0 else 24 / bits)
