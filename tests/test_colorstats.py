"""Colour statistics: distinct colours, counts and every pixel's colour row."""

from __future__ import annotations

import numpy as np
import pytest

from quantize.core.colorspace import encode
from quantize.core.colorstats import (binned_points, cell_rows, clear_transparent, color_stats,
                                 occupied_cells)


@pytest.mark.parametrize("channels", [3, 4])
def test_counts_sum_to_pixels_and_rows_round_trip(channels: int) -> None:
    rng = np.random.default_rng(channels)
    pixels = (rng.integers(0, 6, (41, 29, channels)) * 51).astype(np.uint8)
    stats = color_stats(pixels)
    flat = clear_transparent(pixels).reshape(-1, channels)  # fully transparent: one colour
    assert stats.n_pixels == len(flat) and stats.counts.sum() == len(flat)
    assert len(np.unique(flat, axis=0)) == stats.n_colors
    rows = stats.gather(pixels, np.arange(stats.n_colors, dtype=np.int32))
    np.testing.assert_array_equal(stats.colors[rows], flat)
    np.testing.assert_array_equal(np.bincount(rows, minlength=stats.n_colors), stats.counts)
    X, w = stats.points()
    assert X.dtype == np.float64 and w is stats.counts
    assert np.array_equal(X, stats.colors) if channels == 3 else X.shape == (stats.n_colors, 6)


def test_rgb_colour_index_at_word_edges_and_over_the_whole_cube() -> None:
    """Keys ascending, counts and rows exact, for colours at the bitmap's word edges (bits 0 and
    63, the first and last colour) among random ones from the whole cube."""
    rng = np.random.default_rng(7)
    edges = np.array([0, 63, 64, 127, (1 << 24) - 64, (1 << 24) - 1, 1 << 23], np.int64)
    keys = np.concatenate([np.repeat(edges, 3), rng.integers(0, 1 << 24, 19_979)])
    rng.shuffle(keys)
    flat = np.stack([keys >> 16, (keys >> 8) & 0xFF, keys & 0xFF], axis=1).astype(np.uint8)
    stats = color_stats(flat.reshape(100, -1, 3))
    want, counts = np.unique(keys, return_counts=True)
    np.testing.assert_array_equal(stats.colors.astype(np.int64) @ [1 << 16, 1 << 8, 1], want)
    np.testing.assert_array_equal(stats.counts, counts)
    rows = stats.gather(flat, np.arange(stats.n_colors, dtype=np.int32))
    np.testing.assert_array_equal(want[rows], keys)


def test_distinct_rgb_writes_only_the_first_m_of_its_buffers() -> None:
    """The colour count fills caller-owned buffers with anything in them on entry, up to m (the
    distinct colours) and no further."""
    from quantize.core.kernels.colorstats import WORDS, distinct_rgb

    pixels = np.array([[5, 5, 5], [0, 0, 1], [5, 5, 5], [255, 0, 0], [0, 0, 1], [5, 5, 5]],
                      np.uint8)
    keys, counts = np.full(len(pixels), -7, np.int32), np.full(len(pixels), 9.5)
    m = distinct_rgb(pixels, np.zeros(WORDS, np.uint64), np.empty(WORDS, np.int32), keys, counts)
    assert m == 3
    np.testing.assert_array_equal(keys, [1, 5 << 16 | 5 << 8 | 5, 255 << 16, -7, -7, -7])
    np.testing.assert_array_equal(counts, [2.0, 3.0, 1.0, 9.5, 9.5, 9.5])


def test_gather_refuses_statistics_without_pixel_rows() -> None:
    from dataclasses import replace

    rgb = color_stats(np.zeros((2, 2, 3), np.uint8))
    rgba = color_stats(np.array([[[0, 0, 0, 0], [9, 9, 9, 255]]], np.uint8))
    for stats, pixels in ((replace(rgb, index=None), np.zeros((2, 2, 3), np.uint8)),
                          (rgba.without_transparent(), np.zeros((1, 2, 4), np.uint8))):
        with pytest.raises(ValueError, match="no"):
            stats.gather(pixels, np.arange(stats.n_colors, dtype=np.int32))


def test_binned_points_keep_weight_and_mean() -> None:
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    stats = color_stats(pixels)
    points, weights = binned_points(stats, 4)
    assert weights.sum() == stats.n_pixels and len(points) <= 16 ** 3
    np.testing.assert_allclose(weights @ points, pixels.reshape(-1, 3).astype(float).sum(0))


@pytest.mark.parametrize("space", ["rgb", "rgb+lab", "oklab"])
def test_points_in_chunks_equal_one_conversion(space: str) -> None:
    from quantize.core.colorspace import encode

    rng = np.random.default_rng(1)
    for channels in (3, 4):
        stats = color_stats(rng.integers(0, 256, (50, 40, channels), dtype=np.uint8))
        chunks = list(stats.points_chunks(space, size=256))
        assert [start for start, _ in chunks] == list(range(0, stats.n_colors, 256))
        np.testing.assert_array_equal(stats.points(space)[0], encode(stats.colors, space))
        np.testing.assert_array_equal(np.vstack([X for _, X in chunks]), encode(stats.colors, space))


@pytest.mark.parametrize("channels, bits", [(3, 4), (3, 7), (4, 5), (4, 6)])
def test_binned_points_dense_and_sparse_grids_agree(monkeypatch, channels: int, bits: int) -> None:
    """The dense count over every cell gives exactly what grouping the occupied cells gives."""
    import quantize.core.colorstats as colorstats

    rng = np.random.default_rng(bits)
    stats = color_stats(rng.integers(0, 256, (80, 70, channels), dtype=np.uint8))
    X = stats.points("rgb+lab")[0]
    monkeypatch.setattr(colorstats, "DENSE_GRID_CELLS", 1 << 30)
    dense = binned_points(stats, bits, X)
    monkeypatch.setattr(colorstats, "DENSE_GRID_CELLS", 0)
    sparse = binned_points(stats, bits, X)
    for a, b in zip(dense, sparse):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("channels, bits", [(3, 4), (3, 7), (4, 5), (4, 6)])
@pytest.mark.parametrize("dense", [True, False])
def test_cell_rows_give_each_colour_the_grid_row_of_its_cell(monkeypatch, channels: int, bits: int,
                                                               dense: bool) -> None:
    """A grid row is the weighted mean of the colours whose cell row it is."""
    import quantize.core.colorstats as colorstats

    monkeypatch.setattr(colorstats, "DENSE_GRID_CELLS", 1 << 30 if dense else 0)
    rng = np.random.default_rng(bits)
    stats = color_stats(rng.integers(0, 256, (80, 70, channels), dtype=np.uint8))
    X = stats.points("rgb+lab")[0]
    means, weights = binned_points(stats, bits, X)
    rows = cell_rows(stats, bits)
    assert rows.dtype == np.int32 and rows.shape == (stats.n_colors,)
    np.testing.assert_allclose(np.bincount(rows, stats.counts), weights)
    for ch in range(X.shape[1]):
        sums = np.bincount(rows, stats.counts * X[:, ch], minlength=len(means))
        np.testing.assert_allclose(sums / weights, means[:, ch], rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("channels", [3, 4])
@pytest.mark.parametrize("space", ["rgb", "rgb+lab", "oklab"])
def test_cell_colors_are_each_cells_mean_colour_in_the_space(channels: int, space: str) -> None:
    """Each occupied cell's pixel-weighted mean colour, then put in the space (for opaque RGB in
    rgb, the grid of the points itself); weights and rows as the grid's."""
    rng = np.random.default_rng(channels)
    stats = color_stats(rng.integers(0, 256, (80, 70, channels), dtype=np.uint8))
    points, weights = stats.cell_colors(5, space)
    rows = stats.grid_rows(5)
    np.testing.assert_array_equal(weights, np.bincount(rows, stats.counts))
    sums = np.stack([np.bincount(rows, stats.counts * c) for c in stats.colors.T], 1)
    mean = sums / weights[:, None]
    np.testing.assert_allclose(points, encode(mean, space), rtol=1e-12, atol=1e-9)
    grid = stats.grid(5, space, stats.points(space)[0])
    if space == "rgb" and channels == 3:
        np.testing.assert_array_equal(points, grid[0])
    else:  # the mean of the points is not the point of the mean colour
        assert not np.allclose(points, grid[0])


@pytest.mark.parametrize("channels, bits", [(3, 3), (3, 5), (3, 8), (4, 4), (4, 6)])
def test_occupied_cells_count_the_rows_of_the_grid(channels: int, bits: int) -> None:
    """The cheap count (no averaging) is the number of rows binned_points gives."""
    rng = np.random.default_rng(bits)
    stats = color_stats(rng.integers(0, 256, (60, 50, channels), dtype=np.uint8) // 3)
    assert occupied_cells(stats, bits) == len(binned_points(stats, bits)[1])
