"""Nearest-palette mapping: exact, ties to the lowest index, for small and large palettes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from quantize.core.colorspace import encode
from quantize.core.colorstats import color_stats
from quantize.core.mapping import index_dtype, map_pixels, nearest_indices


TEST_IMAGES = Path(__file__).resolve().parents[1] / "test_images"


def brute_nearest(points: np.ndarray, centers: np.ndarray) -> np.ndarray:
    d = ((points[:, None, :].astype(np.float64) - centers[None, :, :]) ** 2).sum(2)
    return np.argmin(d, axis=1)  # first (lowest) index on ties


@pytest.mark.parametrize("k", [1, 2, 7, 256, 4096])
def test_nearest_indices_equals_brute_force_with_ties(k: int) -> None:
    rng = np.random.default_rng(k)
    centers = rng.integers(0, 256, (k, 3)).astype(np.float64)
    if k > 1:
        centers[k // 2] = centers[0]  # a duplicate centre: always an exact tie
    points = rng.integers(0, 256, (3000, 3)).astype(np.float64)
    # Midpoints of centre pairs with even coordinate sums: exactly equidistant from both.
    pairs = rng.integers(0, k, (200, 2))
    mids = (centers[pairs[:, 0]] + centers[pairs[:, 1]]) / 2
    points = np.vstack([points, centers, mids])
    np.testing.assert_array_equal(nearest_indices(points, centers), brute_nearest(points, centers))


def test_map_pixels_rgb_and_rgba() -> None:
    """Nearest in RGB; with alpha, nearest over both black and white (see colorspace.encode)."""
    rng = np.random.default_rng(0)
    for channels in (3, 4):
        pixels = rng.integers(0, 256, (37, 23, channels), dtype=np.uint8)
        palette = rng.integers(0, 256, (300, channels), dtype=np.uint8)
        got = map_pixels(pixels, color_stats(pixels).in_space("rgb"), palette)
        assert got.dtype == np.uint16 and got.shape == (37, 23)
        want = brute_nearest(encode(pixels.reshape(-1, channels), "rgb"), encode(palette, "rgb"))
        np.testing.assert_array_equal(got.ravel(), want)


def test_index_dtype() -> None:
    assert index_dtype(1) == np.uint8 and index_dtype(256) == np.uint8
    assert index_dtype(257) == np.uint16 and index_dtype(65536) == np.uint16


@pytest.mark.parametrize("k", [5, 300])
def test_map_pixels_in_chunks_same_as_in_one_search(monkeypatch, k: int) -> None:
    """Colours searched a chunk at a time give what one search over every colour gives."""
    import quantize.core.colorstats as colorstats

    rng = np.random.default_rng(k)
    pixels = rng.integers(0, 256, (61, 47, 3), dtype=np.uint8)
    palette = rng.integers(0, 256, (k, 3), dtype=np.uint8)
    stats = color_stats(pixels)
    whole = map_pixels(pixels, stats.in_space("rgb+lab"), palette)
    monkeypatch.setattr(colorstats, "POINTS_CHUNK", 256)
    chunked = map_pixels(pixels, stats.in_space("rgb+lab"), palette)
    assert chunked.dtype == index_dtype(k)
    np.testing.assert_array_equal(chunked, whole)
    want = brute_nearest(encode(pixels.reshape(-1, 3), "rgb+lab"), encode(palette, "rgb+lab"))
    np.testing.assert_array_equal(chunked.ravel(), want)


@pytest.mark.parametrize("space", ["rgb", "rgb+lab", "oklab"])
@pytest.mark.parametrize("k", [16, 256])
def test_map_pixels_with_the_fit_settles_colours_and_stays_exact(space: str, k: int) -> None:
    """With the fit's labels and margins most colours need no search, and every index is still
    the nearest palette entry; a palette the fit did not round to is searched in full."""
    from dataclasses import replace

    from quantize.core.fitting import FitOptions, fit_palette, to_palette
    from quantize.core.mapping import _settled_by_fit

    pixels = np.asarray(Image.open(TEST_IMAGES / "parrots.png").convert("RGB"))[::3, ::3]
    stats = color_stats(pixels)
    fit = fit_palette(pixels, stats.in_space(space), FitOptions(k=k, space=space))
    palette = to_palette(fit.centers)
    settled = _settled_by_fit(fit, palette, encode(palette, space))(0, stats.n_colors)
    assert (settled >= 0).mean() > 0.25
    want = brute_nearest(encode(pixels.reshape(-1, 3), space), encode(palette, space))
    np.testing.assert_array_equal(map_pixels(pixels, stats.in_space(space), palette, fit).ravel(), want)
    other = palette.copy()
    other[0] = 255 - other[0]
    assert _settled_by_fit(fit, other, encode(other, space)) is None
    want = brute_nearest(encode(pixels.reshape(-1, 3), space), encode(other, space))
    np.testing.assert_array_equal(map_pixels(pixels, stats.in_space(space), other, fit).ravel(), want)
    # rounding that merges two centres: both map to the first entry of that colour
    twin = replace(fit, centers=np.vstack([fit.centers[:1], fit.centers[1:]]))
    twin.centers[1] = twin.centers[0] + 0.1
    merged = to_palette(twin.centers)
    got = map_pixels(pixels, stats.in_space(space), merged, twin).ravel()
    np.testing.assert_array_equal(got, brute_nearest(encode(pixels.reshape(-1, 3), space),
                                                     encode(merged, space)))


@pytest.mark.parametrize("mode", ["rgb", "rgba", "dithered", "fixed palette", "fixed, all kept"])
def test_each_entry_counts_its_pixels(mode: str) -> None:
    """The usage counts (from the colours' labels, or from the indices when dithered) are each
    kept entry's pixels, and every kept entry is used, except that a fixed palette keeps every
    entry unless told to drop the unused ones."""
    from quantize.core.fitting import FitOptions
    from quantize.io.images import Image as QImage
    from quantize.jobs.pipeline import CompressOptions, quantize_image

    rng = np.random.default_rng(5)
    pixels = rng.integers(0, 256, (40, 50, 4 if mode == "rgba" else 3), dtype=np.uint8)
    if mode == "rgba":
        pixels[:10, :, 3] = 0  # fully transparent rows, hiding random RGB
    options = CompressOptions(fit=FitOptions(k=16), dither="fs" if mode == "dithered" else "none",
                              palette=rng.integers(0, 256, (300, 3), dtype=np.uint8)
                              if mode.startswith("fixed") else None,
                              drop_unused=mode == "fixed palette")
    result = quantize_image(QImage(pixels), options)
    want = np.bincount(result.indices.ravel(), minlength=result.k_used)
    np.testing.assert_array_equal(result.usage(), want)
    assert result.usage().dtype == np.int64
    assert result.k_used == 300 if mode == "fixed, all kept" else want.min() > 0


@pytest.mark.parametrize("n_colors, k, parallel", [(1000, 16, False), (12000, 256, True)])
def test_small_mappings_run_on_one_thread(monkeypatch, n_colors: int, k: int,
                                          parallel: bool) -> None:
    """A mapping below threads.PARALLEL_MIN_WORK (colours x palette, pixels for the gather) runs
    its kernels on one thread, a parallel barrier costing more than its work; the same indices."""
    import numba

    import quantize.core.kernels.colorstats as stats_kernels
    import quantize.core.kernels.nearest as nearest_kernels

    threads = numba.get_num_threads()
    if threads < 2:
        pytest.skip("needs two Numba threads")
    seen: dict[str, int] = {}

    def counted(module, name: str) -> None:
        kernel = getattr(module, name)

        def run(*args):
            seen[name] = numba.get_num_threads()
            return kernel(*args)
        monkeypatch.setattr(module, name, run)

    counted(nearest_kernels, "nearest_labels")
    counted(stats_kernels, "gather_rows")
    rng = np.random.default_rng(n_colors)
    pixels = rng.integers(0, 256, (1, n_colors, 3), dtype=np.uint8)
    palette = rng.integers(0, 256, (k, 3), dtype=np.uint8)
    stats = color_stats(pixels)
    indices = map_pixels(pixels, stats.in_space("rgb"), palette)
    np.testing.assert_array_equal(indices[0], brute_nearest(pixels[0], palette))
    assert seen["nearest_labels"] == (threads if parallel else 1)
    assert seen["gather_rows"] == 1  # n_colors pixels: below the threshold either way
    assert numba.get_num_threads() == threads
