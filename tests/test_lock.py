"""Locked colours (``FitOptions.locked``, ``compress --lock``): kept exactly, the rest fitted."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import make_photo
from quantize.choices import DEFAULT_SPACE
from quantize.core.colorstats import color_stats
from quantize.errors import ParameterError
from quantize.core.fitting import FitOptions, fit_palette, to_palette
from quantize.io.images import image_from_array
from quantize.core.kmeans import kmeans_plusplus, kmeans_starts, lloyd, tolerance
from quantize.core.mapping import map_pixels
from quantize.jobs.pipeline import CompressOptions
from quantize.jobs.sweep import sweep

LOCKED = np.array([[200, 30, 40], [128, 128, 128]], np.uint8)  # the photo's disc, and a grey


def photo() -> np.ndarray:
    return make_photo(96, 128, seed=4)


def mse(pixels: np.ndarray, palette: np.ndarray) -> float:
    indices = map_pixels(pixels, color_stats(pixels).in_space("rgb"), palette)
    err = pixels.astype(np.float64) - palette[indices]
    return float((err ** 2).sum(-1).mean())


def points(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 255, (n, 3)), rng.integers(1, 20, n).astype(np.float64)


@pytest.mark.parametrize("space", ["rgb", "rgb+lab", "oklab"])
def test_locked_colours_are_in_the_palette_exactly_and_the_rest_fitted(space):
    pixels = photo()
    fit = fit_palette(pixels, color_stats(pixels).in_space(space),
                      FitOptions(k=16, locked=LOCKED, space=space))
    palette = to_palette(fit.centers)
    np.testing.assert_array_equal(palette[:2], LOCKED)
    assert len(palette) == 16 and fit.n_iter > 0


def test_error_no_worse_than_fitting_the_rest_alone_beside_the_locked():
    pixels = photo()
    stats = color_stats(pixels)
    for k in (6, 16):
        alone = to_palette(fit_palette(pixels, stats.in_space("rgb"),
                                       FitOptions(k=k - 2, space="rgb")).centers)
        beside = np.vstack([LOCKED, alone])
        locked = to_palette(fit_palette(pixels, stats.in_space("rgb"),
                                        FitOptions(k=k, locked=LOCKED, space="rgb")).centers)
        assert mse(pixels, locked) <= mse(pixels, beside)


def test_as_many_locked_colours_as_k_is_a_one_line_error():
    pixels = photo()
    with pytest.raises(ParameterError, match="2 locked colours .* K=2") as info:
        fit_palette(pixels, color_stats(pixels).in_space(DEFAULT_SPACE), FitOptions(k=2, locked=LOCKED))
    assert "\n" not in str(info.value)


def test_few_colours_keep_the_locked_ones_too():
    pixels = np.array([[[1, 2, 3], [4, 5, 6]]], np.uint8)
    fit = fit_palette(pixels, color_stats(pixels).in_space(DEFAULT_SPACE), FitOptions(k=4, locked=LOCKED))
    np.testing.assert_array_equal(to_palette(fit.centers), [*LOCKED, [1, 2, 3], [4, 5, 6]])


def test_rgba_image_with_rgb_locked_colours_and_transparent_pixels():
    pixels = np.dstack([photo(), np.full((96, 128), 255, np.uint8)])
    pixels[:10, :, 3] = 0
    pixels[10:20, :, 3] = 128
    fit = fit_palette(pixels, color_stats(pixels).in_space("rgb"),
                      FitOptions(k=8, locked=LOCKED, space="rgb"))
    palette = to_palette(fit.centers)
    assert [0, 0, 0, 0] in palette.tolist()  # the transparent entry stays
    for colour in LOCKED:
        assert [*colour, 255] in palette.tolist()
    assert len(palette) == 8


def test_fixed_centres_never_move_nor_take_relocated_points():
    X, w = points(3000, seed=1)
    far = np.array([[1000.0, 1000.0, 1000.0]])  # no point is nearest to it: an empty cluster
    init = np.vstack([far, X[:10] + 0.5])
    fit = lloyd(X, w, init, max_iter=100, tol=0.0, n_fixed=1)
    np.testing.assert_array_equal(fit.centers[0], far[0])
    assert not (fit.labels == 0).any()
    brute = np.argmin(((X[:, None, :] - fit.centers[None]) ** 2).sum(-1), 1)
    np.testing.assert_array_equal(fit.labels, brute)
    free = lloyd(X, w, init[1:], max_iter=100, tol=0.0)  # the far centre changes nothing else
    np.testing.assert_allclose(fit.centers[1:], free.centers)


def test_seeding_continues_greedy_kmeans_plusplus_from_the_fixed_centres():
    X, w = points(2000, seed=2)
    fixed = np.array([[10.0, 20.0, 30.0], [240.0, 200.0, 100.0]])
    got = kmeans_plusplus(X, w, 12, np.random.default_rng(3), n_local_trials=4, fixed=fixed)
    rng = np.random.default_rng(3)
    uniforms = rng.uniform(size=(10, 4))
    closest = ((X[:, None, :] - fixed[None]) ** 2).sum(-1).min(1)
    want = []
    for row in uniforms:  # the plain greedy algorithm, from the fixed centres
        cum = np.cumsum(w * closest)
        cand = np.minimum(np.searchsorted(cum, row * cum[-1], side="right"), len(X) - 1)
        d = ((X[None, :, :] - X[cand][:, None, :]) ** 2).sum(2)
        best = int(np.argmin((w * np.minimum(closest, d)).sum(1)))
        want.append(int(cand[best]))
        closest = np.minimum(closest, d[best])
    assert got.tolist() == want


def test_no_locked_colours_is_the_unlocked_fit():
    X, w = points(4000, seed=5)
    plain = kmeans_starts(X, w, 8, n_init=2, seed=1)
    empty = kmeans_starts(X, w, 8, n_init=2, seed=1, fixed=np.empty((0, 3)))
    for a, b in zip(plain, empty):
        np.testing.assert_array_equal(a.centers, b.centers)
    fit = lloyd(X, w, X[:8] + 0.5, max_iter=50, tol=tolerance(X, 1e-4), n_fixed=0)
    assert fit.n_iter > 1 and not np.allclose(fit.centers[0], X[0] + 0.5)


def test_sweep_keeps_the_locked_colours_in_every_row():
    image = image_from_array(photo())
    options = CompressOptions(fit=FitOptions(locked=LOCKED, space="rgb"))
    for point in sweep(image, [4, 8, 16], options):
        np.testing.assert_array_equal(point.result.palette[:2], LOCKED)


def test_locked_colour_no_pixel_uses_stays_in_the_written_palette():
    from quantize.jobs.pipeline import quantize_image

    locked = np.array([[255, 0, 255], [0, 255, 255]], np.uint8)  # far from the photo's colours
    image = image_from_array(make_photo(32, 40, seed=5))
    result = quantize_image(image, CompressOptions(fit=FitOptions(k=12, locked=locked)))
    assert np.bincount(result.indices.ravel(), minlength=2)[:2].min() == 0  # one is unused
    np.testing.assert_array_equal(result.palette[:2], locked)
    assert result.k_used == 12
    idle = int((np.bincount(result.indices.ravel(), minlength=12) == 0).sum())
    from quantize.render.report import format_report

    assert f"K 12 asked, {12 - idle} used ({idle} more kept: locked)" in format_report(result)


def test_locked_colours_come_first_on_an_image_with_transparent_pixels():
    """With transparent pixels the fit put its transparent entry first, so the second locked
    colour fell outside the kept leading entries: unused, it was dropped; used, reordered."""
    from quantize.jobs.pipeline import quantize_image

    pixels = np.zeros((16, 16, 4), np.uint8)
    pixels[8:, :, :3] = (np.arange(16) * 16)[None, :, None]  # a grey ramp under clear rows
    pixels[8:, :, 3] = 255
    locked = np.array([[255, 0, 0], [0, 255, 0]], np.uint8)  # neither is near a grey
    result = quantize_image(image_from_array(pixels),
                            CompressOptions(fit=FitOptions(k=5, locked=locked)))
    np.testing.assert_array_equal(result.palette[:2], [[255, 0, 0, 255], [0, 255, 0, 255]])
    assert result.k_used == 5 and [0, 0, 0, 0] in result.palette.tolist()


def test_locked_colours_equal_but_for_alpha_are_one_on_an_opaque_image():
    """--lock of red, half-transparent red and blue at -k 6 gave 5 colours on a photo, with no
    word why: the opaque image drops alpha, so the two reds were one locked colour twice."""
    from quantize.jobs.pipeline import quantize_image

    locked = np.array([[255, 0, 0, 255], [255, 0, 0, 128], [0, 0, 255, 255]], np.uint8)
    result = quantize_image(image_from_array(photo()),
                            CompressOptions(fit=FitOptions(k=6, locked=locked)))
    np.testing.assert_array_equal(result.palette[:2], [[255, 0, 0], [0, 0, 255]])
    assert result.k_used == 6
    assert any("differs from another only in alpha" in note for note in result.notes)
