"""Palette fitting: the all-pixel objective, exact palettes for few colours, determinism."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.cluster import KMeans

from quantize.choices import DEFAULT_SPACE
from quantize.core.colorstats import color_stats
from quantize.core.fitting import FitOptions, fit_palette, to_palette
from quantize.core.kmeans import kmeans
from quantize.core.mapping import map_pixels
from quantize.errors import ParameterError

KODAK = Path(__file__).resolve().parents[2] / "shared" / "images" / "kodak"
REPO = Path(__file__).resolve().parents[1]


def smooth_photo(size: int, noise: float, seed: int = 0) -> np.ndarray:
    """Gradients, a wave and sensor-like noise: many distinct colours, photo-like clusters."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size] * (512 / size)
    img = np.stack([x / 2, y / 2, 128 + 100 * np.sin(x / 40) * np.cos(y / 30)], -1)
    img[(x - 300) ** 2 + (y - 200) ** 2 < 80 ** 2] = (220, 40, 50)
    return np.clip(np.rint(img + rng.normal(0, noise, img.shape)), 0, 255).astype(np.uint8)


def quantised_mse(pixels: np.ndarray, centers: np.ndarray) -> float:
    stats = color_stats(pixels)
    palette = to_palette(centers)
    err = pixels.astype(np.float64) - palette[map_pixels(pixels, stats.in_space("rgb"), palette)]
    return float((err ** 2).sum(-1).mean())


def test_few_colours_are_kept_exactly() -> None:
    rng = np.random.default_rng(0)
    colours = rng.integers(0, 256, (5, 3), dtype=np.uint8)
    pixels = colours[rng.integers(0, 5, (20, 30))]
    stats = color_stats(pixels)
    fit = fit_palette(pixels, stats.in_space(DEFAULT_SPACE), FitOptions(k=8))
    palette = to_palette(fit.centers)
    assert sorted(map(tuple, palette)) == sorted(map(tuple, colours))
    np.testing.assert_array_equal(palette[map_pixels(pixels, stats.in_space("rgb"), palette)], pixels)


def test_to_palette_rounds_and_dedupes_in_order() -> None:
    centers = np.array([[10.4, 20.6, 30.5], [10.0, 21.0, 30.0], [300.0, -4.0, 7.49]])
    np.testing.assert_array_equal(to_palette(centers), [[10, 21, 30], [255, 0, 7]])


def test_default_fit_is_within_one_percent_of_sklearn_on_all_pixels() -> None:
    pixels = smooth_photo(96, noise=8)
    X = pixels.reshape(-1, 3).astype(np.float64)
    for k in (8, 32):
        ref = KMeans(k, n_init=3, random_state=42).fit(X).cluster_centers_
        ours = fit_palette(pixels, color_stats(pixels).in_space("rgb"), FitOptions(k=k, space="rgb")).centers
        assert quantised_mse(pixels, ours) <= 1.01 * quantised_mse(pixels, ref)


def test_coarse_grid_path_reaches_the_direct_fit() -> None:
    pixels = smooth_photo(512, noise=10)  # many colours: starts run on the 6-bit grid
    stats = color_stats(pixels)
    assert stats.n_colors > 1 << 17
    X, w = stats.points()
    direct = kmeans(X, w, 32, n_init=3, seed=1)
    ours = fit_palette(pixels, stats.in_space("rgb"), FitOptions(k=32, space="rgb")).centers
    assert quantised_mse(pixels, ours) <= 1.01 * quantised_mse(pixels, direct.centers)


def test_kodim05_at_64_colours() -> None:
    if not KODAK.is_dir():
        pytest.skip("the Kodak set (../shared/images/kodak) is not available")
    pixels = np.asarray(Image.open(KODAK / "kodim05.png").convert("RGB"))
    fit = fit_palette(pixels, color_stats(pixels).in_space("rgb"), FitOptions(k=64, space="rgb"))
    assert quantised_mse(pixels, fit.centers) <= 106.5


_PALETTE_SCRIPT = """
import sys, numpy as np
sys.path.insert(0, {tests!r})
from test_fitting import smooth_photo
from quantize.choices import DEFAULT_SPACE
from quantize.core.colorstats import color_stats
from quantize.core.fitting import FitOptions, fit_palette, to_palette
for size, k in ((512, 64), (96, 16)):
    pixels = smooth_photo(size, noise=10)
    fit = fit_palette(pixels, color_stats(pixels).in_space(DEFAULT_SPACE), FitOptions(k=k, seed=3))
    sys.stdout.write(to_palette(fit.centers).tobytes().hex() + str(fit.n_iter))
"""


def test_same_seed_same_palette_whatever_the_threads() -> None:
    script = _PALETTE_SCRIPT.format(tests=str(Path(__file__).parent))
    outputs = []
    for threads in ("1", "2"):
        env = {**os.environ, "NUMBA_NUM_THREADS": threads,
               "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
        outputs.append(subprocess.run([sys.executable, "-c", script], env=env, check=True,
                                      capture_output=True, text=True).stdout)
    assert outputs[0] and outputs[0] == outputs[1]


def test_the_plan_decides_grid_starts_and_stopping_from_the_counts_alone() -> None:
    from quantize.core.fitting import MAX_STARTS, RELAX, plan_fit

    many = color_stats(smooth_photo(512, 6.0))
    few = color_stats(np.ascontiguousarray(smooth_photo(512, 6.0)[:8, :8]))
    assert many.n_colors > 2 * 128 * 16 > few.n_colors
    plan = plan_fit(many, FitOptions(k=16), warm=False)
    assert plan.coarse_bits is not None and plan.relax == RELAX and 1 <= plan.n_seeded <= MAX_STARTS
    assert plan_fit(few, FitOptions(k=16), warm=False).coarse_bits is None
    assert plan_fit(many, FitOptions(k=16, tol=0), warm=False).relax == 0.0  # plain Lloyd
    assert plan_fit(many, FitOptions(k=16), warm=True).n_seeded == 0  # only the caller's start
    assert plan_fit(many, FitOptions(k=16, n_init=40, max_starts=0), warm=False).n_seeded == 40


def test_the_fit_runs_in_the_space_its_colours_were_made_in() -> None:
    stats = color_stats(smooth_photo(64, 6.0))
    with pytest.raises(ParameterError, match="colours are in rgb, the fit asks for oklab"):
        fit_palette(None, stats.in_space("rgb"), FitOptions(k=4, space="oklab"))
    rgb = to_palette(fit_palette(None, stats.in_space("rgb"), FitOptions(k=4, space="rgb")).centers)
    lab = to_palette(fit_palette(None, stats.in_space("lab"), FitOptions(k=4, space="lab")).centers)
    assert not np.array_equal(rgb, lab)  # the space travels with the colours, and is used


@pytest.mark.parametrize("options, words", [
    (FitOptions(k=2.5), "K must be a whole number >= 1, got 2.5"),
    (FitOptions(k=8, max_iter=1.5), "max_iter must be a whole number >= 1"),
    (FitOptions(k=8, n_init=0), "n_init must be a whole number >= 1, got 0"),
    (FitOptions(k=8, seed=None), "seed must be a whole number >= 0, got None"),
    (FitOptions(k=8, tol=float("nan")), "tol must be a number >= 0"),
    (FitOptions(k=8, sample=0), "sample must be a whole number >= 1"),
    (FitOptions(k=8, space="xyz"), "unknown colour space 'xyz'"),
    (FitOptions(k=1, bits=(0, 0, 0)), "bits must be a whole number >= 1, got 0"),
    (FitOptions(k=4, bits=(9, 9, 9)), "bits must be 1 to 8 per channel"),
    (FitOptions(k=4, bits=5), "bits must be (R, G, B) or (N,) grey"),
    (FitOptions(k=8, init_centers=np.full((8, 3), np.nan)), "init_centers must be finite"),
    (FitOptions(k=8, locked=np.array([[300, 300, 300]])), "locked colours must be whole numbers"),
])
def test_fit_options_refuse_what_would_hang_crash_or_wrap(options, words) -> None:
    """Each value a library caller may pass is checked before any kernel sees it: a zero-bit
    lattice used to spin for ever, a float max_iter reached Numba as a typing error, a colour of
    300 wrapped to 44."""
    with pytest.raises(ParameterError, match=re.escape(words)):
        options.validated()


def test_fit_options_make_numpy_integers_python_ones() -> None:
    checked = FitOptions(k=np.int64(8), seed=np.int64(3), bits=[5, 6, 5]).validated()
    assert (type(checked.k), type(checked.seed), checked.bits) == (int, int, (5, 6, 5))


def test_path_order_walks_to_the_nearest_colour_left():
    from quantize.core.fitting import path_order

    rng = np.random.default_rng(3)
    colors = rng.integers(0, 256, size=(40, 3)).astype(np.uint8)
    order = path_order(colors)
    assert sorted(order) == list(range(40))
    walk = colors[order].astype(np.int64)
    assert walk[0].sum() == colors.astype(np.int64).sum(axis=1).min()  # from the darkest
    for i in range(39):
        distance = ((walk[i + 1:] - walk[i]) ** 2).sum(axis=1)
        assert distance[0] == distance.min()
    fixed = path_order(colors, fixed=5)
    assert list(fixed[:5]) == [0, 1, 2, 3, 4] and sorted(fixed) == list(range(40))
    assert list(path_order(np.zeros((1025, 3), np.uint8))) == list(range(1025))  # past the cap


def test_a_fitted_palette_is_stored_in_path_order_and_codes_smaller():
    """The fit's order (its seeding's) made the delta-coded palette of a .qnt as large as the
    entries themselves; in path order the same pixels' file is smaller."""
    from quantize import compress
    from quantize.core.fitting import path_order
    from quantize.io import container

    from conftest import make_photo

    result = compress(make_photo(64, 96), k=128, seed=0)
    assert list(path_order(result.palette)) == list(range(len(result.palette)))
    shuffled = np.random.default_rng(0).permutation(len(result.palette))
    rank = np.argsort(shuffled)
    assert np.array_equal(result.palette[shuffled][rank[result.indices]],
                          result.palette[result.indices])
    assert len(container.encode(result.palette, result.indices)) < \
        len(container.encode(result.palette[shuffled], rank[result.indices]))
