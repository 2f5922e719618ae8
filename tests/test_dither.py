"""Dithering: deterministic across runs and thread counts, lowers blurred error on gradients,
works with every space and with alpha."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from quantize.core.bluenoise import blue_noise_mask, void_and_cluster
from quantize.core.colorspace import SPACES, srgb8_to_lab
from quantize.core.dither import DIFFUSION, DITHERS, bayer, diffusion_matrix
from quantize.core.fitting import FitOptions
from quantize.io.images import image_from_array, load_image
from quantize.core.metrics import ciede2000
from quantize.jobs.pipeline import CompressOptions, quantize_image


def gradient(h: int = 48, w: int = 160) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    return np.rint(np.stack([255 * x / (w - 1), 80 + 60 * y / (h - 1), 200 - 150 * x / (w - 1)],
                            -1)).astype(np.uint8)


def run(pixels: np.ndarray, k: int, dither: str, space: str = "rgb+lab", strength: float = 1.0):
    options = CompressOptions(fit=FitOptions(k=k, space=space), dither=dither,
                              dither_strength=strength)
    return quantize_image(image_from_array(pixels), options)


def blurred_delta_e(pixels: np.ndarray, quantised: np.ndarray) -> float:
    def lab(img):
        return srgb8_to_lab(gaussian_filter(img.astype(np.float64), (1, 1, 0)))
    return float(ciede2000(lab(pixels), lab(quantised)).mean())


def test_bayer_matrix() -> None:
    m = bayer(8)
    assert sorted(m.ravel()) == list(range(64))
    assert m[0, 0] == 0 and m[0, 1] == 32 and m[1, 1] == 16


PARROTS = os.path.join(os.path.dirname(__file__), "..", "test_images", "parrots.png")


def test_bayer_and_blue_noise_masks() -> None:
    mask = blue_noise_mask()
    assert mask.shape == (64, 64) and sorted(mask.ravel()) == list(range(64 * 64))
    np.testing.assert_array_equal(void_and_cluster(), mask)  # the shipped file is the generator's
    # blue noise: a half-on threshold pattern has little energy at low frequencies
    power = np.abs(np.fft.fft2((mask < 2048) - 0.5)) ** 2
    radius = np.hypot(*np.meshgrid(np.fft.fftfreq(64), np.fft.fftfreq(64)))
    assert power[(radius > 0) & (radius < 0.1)].mean() < 0.05 * power[radius > 0.35].mean()


@pytest.mark.parametrize("method", list(DIFFUSION))
def test_diffusion_matrices_spread_the_error_forward(method: str) -> None:
    taps, weights = diffusion_matrix(method)
    assert weights.sum() == pytest.approx(0.75 if method == "atkinson" else 1.0)
    assert ((taps[:, 1] > 0) | (taps[:, 0] > 0)).all()  # never back onto a pixel already mapped
    assert (taps[:, 1] <= 2).all() and (np.abs(taps[:, 0]) <= 2).all()


@pytest.mark.parametrize("k", [8, 16])
@pytest.mark.parametrize("dither", [d for d in DITHERS if d != "none"])
def test_every_dither_lowers_blurred_error_on_a_photo(dither: str, k: int) -> None:
    image = load_image(PARROTS)
    plain = quantize_image(image, CompressOptions(fit=FitOptions(k=k)))
    dithered = quantize_image(image, CompressOptions(palette=plain.palette, dither=dither))
    before = blurred_delta_e(image.pixels, plain.palette[plain.indices])
    after = blurred_delta_e(image.pixels, dithered.palette[dithered.indices])
    assert after < before, (before, after)


@pytest.mark.parametrize("dither", [d for d in DITHERS if d != "none"])
def test_dither_lowers_blurred_error_on_a_gradient(dither: str) -> None:
    pixels = gradient()
    plain = run(pixels, 16, "none")
    dithered = run(pixels, 16, dither)
    before = blurred_delta_e(pixels, plain.palette[plain.indices])
    after = blurred_delta_e(pixels, dithered.palette[dithered.indices])
    assert after < 0.9 * before, (before, after)
    # The report measures what was written: the dithered indices.
    err = ((pixels.astype(float) - dithered.palette[dithered.indices]) ** 2).sum(-1).mean()
    assert dithered.mse == pytest.approx(err) and dithered.dither == dither


@pytest.mark.parametrize("dither", [d for d in DIFFUSION if d not in ("atkinson", "fs-edge")])
@pytest.mark.parametrize("space", ["rgb", "rgb+lab"])
def test_error_diffusion_keeps_a_ramps_tone_on_black_and_white(dither: str, space: str) -> None:
    # two entries a whole black-to-white apart: the error a pixel passes on is as long as their
    # gap, so a limit meant against colour bleeding in full palettes must not cut it
    ramp = np.tile(np.linspace(0, 255, 256).round().astype(np.uint8), (64, 1))
    options = CompressOptions(fit=FitOptions(space=space), dither=dither,
                              palette=np.array([[0, 0, 0], [255, 255, 255]], np.uint8))
    shown = quantize_image(image_from_array(ramp), options)
    shown = shown.palette[shown.indices][..., 0].astype(float)
    for band in range(0, 256, 32):  # each band's mean level as the source's, to a few levels
        assert abs(shown[:, band:band + 32].mean() - (band + 15.5)) < 5, (band, shown.mean())


def test_zero_strength_is_plain_mapping() -> None:
    pixels = gradient()
    plain = run(pixels, 8, "none")
    for dither in DITHERS[1:]:
        np.testing.assert_array_equal(run(pixels, 8, dither, strength=0.0).indices, plain.indices)


@pytest.mark.parametrize("space", SPACES)
def test_every_space_with_alpha(space: str) -> None:
    pixels = np.dstack([gradient(), np.tile(np.linspace(0, 255, 160).astype(np.uint8), (48, 1))])
    pixels[:, :10, 3] = 0
    result = run(pixels, 12, "fs", space=space)
    clear = result.palette[:, 3] == 0
    assert clear[result.indices[:, :10]].all()  # fully transparent pixels take no error
    assert not clear[result.indices[:, 40:]].any()
    assert result.delta_e < 6


_SCRIPT = """
import hashlib, sys, numpy as np
sys.path.insert(0, {tests!r})
from test_dither import gradient, run
from quantize.core.dither import DITHERS
pixels = gradient(64, 96)
rgba = np.dstack([pixels, np.tile(np.linspace(0, 255, 96).astype(np.uint8), (64, 1))])
digest = hashlib.sha256()
for image in (pixels, rgba):
    for dither in DITHERS[1:]:
        result = run(image, 16, dither)
        digest.update(result.palette.tobytes() + result.indices.tobytes())
print(digest.hexdigest())
"""


def test_same_bytes_across_runs_and_thread_counts() -> None:
    script = _SCRIPT.format(tests=os.path.dirname(__file__))
    digests = set()
    for threads in ("1", "2"):
        proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              env={**os.environ, "NUMBA_NUM_THREADS": threads}, timeout=300)
        assert proc.returncode == 0, proc.stderr
        digests.add(proc.stdout.strip())
    assert len(digests) == 1


def test_one_list_of_dithers_for_the_library_and_every_command() -> None:
    """The names live in quantize.choices; the kernels' matrices and every command's --dither
    offer exactly them."""
    import click

    from quantize import choices
    from quantize.cli import batch, compress, sweep

    assert DITHERS is choices.DITHERS and tuple(DIFFUSION) == choices.DIFFUSION_DITHERS
    for command in (compress.compress, sweep.sweep, batch.batch):
        (option,) = [p for p in command.params if p.name == "dither"]
        assert isinstance(option.type, click.Choice) and tuple(option.type.choices) == DITHERS


SPARSE = np.array([[0, 0, 0], [255, 255, 255], [0, 160, 0], [0, 0, 255], [255, 0, 0], [255, 255, 0],
                   [255, 128, 0]], np.uint8)  # seven colours, as a colour e-ink panel's


@pytest.mark.parametrize("colour", [(128, 0, 128), (0, 80, 128), (200, 200, 100)])
def test_a_pattern_mixes_the_hues_a_sparse_palette_lacks(colour) -> None:
    """A flat colour between entries of different hue (purple between red and blue): the pattern
    lays those entries side by side so their mean is near it; the ordered dither only shifts each
    pixel along black-to-white, so it never mixes two hues."""
    pixels = np.zeros((32, 32, 3), np.uint8) + np.array(colour, np.uint8)

    def shown(dither: str) -> np.ndarray:
        result = quantize_image(image_from_array(pixels),
                                CompressOptions(palette=SPARSE, dither=dither))
        return result.palette[result.indices].reshape(-1, 3).astype(float)

    pattern, ordered = shown("pattern"), shown("ordered")
    off = np.abs(pattern.mean(axis=0) - colour).sum()
    assert off < 25 and off < 0.25 * np.abs(ordered.mean(axis=0) - colour).sum()
    assert len(np.unique(pattern, axis=0)) >= 2


def test_a_pattern_depends_on_the_pixel_and_its_place_only() -> None:
    """No error travels: changing one pixel changes no other pixel's entry (so an animation's
    still areas keep theirs), and equal colours at places of equal mask level take one entry."""
    pixels = gradient()
    before = run(pixels, 8, "pattern")
    changed = pixels.copy()
    changed[20, 50] = (255 - changed[20, 50]).astype(np.uint8)
    after = quantize_image(image_from_array(changed),
                           CompressOptions(palette=before.palette, dither="pattern"))
    differs = before.indices != after.indices
    assert not differs[np.arange(differs.shape[0]) != 20].any()
    assert not np.delete(differs[20], 50).any()
    flat = quantize_image(image_from_array(np.full((12, 12, 3), 97, np.uint8)),
                          CompressOptions(palette=before.palette, dither="pattern")).indices
    np.testing.assert_array_equal(flat[:4, :4], flat[4:8, 8:12])  # the 4x4 pattern repeats


@pytest.mark.parametrize("dither", [d for d in DITHERS if d != "none"])
def test_an_image_the_palette_holds_exactly_is_not_dithered(dither: str) -> None:
    rng = np.random.default_rng(4)
    colours = rng.integers(0, 256, (12, 3), dtype=np.uint8)
    pixels = colours[rng.integers(0, 12, (40, 50))]  # 12 colours, K = 16: lossless
    result = run(pixels, 16, dither)
    np.testing.assert_array_equal(result.palette[result.indices], pixels)
    assert result.dither == "none" and any("holds every colour" in n for n in result.notes)
