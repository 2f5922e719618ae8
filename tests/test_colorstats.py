"""Colour statistics: distinct colours, counts and the pixel-to-colour lookup."""

from __future__ import annotations

import numpy as np
import pytest

from quantize.colorstats import binned_points, clear_transparent, color_stats, occupied_cells


@pytest.mark.parametrize("channels", [3, 4])
def test_counts_sum_to_pixels_and_lookup_round_trips(channels: int) -> None:
    rng = np.random.default_rng(channels)
    pixels = (rng.integers(0, 6, (41, 29, channels)) * 51).astype(np.uint8)
    stats = color_stats(pixels)
    flat = clear_transparent(pixels).reshape(-1, channels)  # fully transparent: one colour
    assert stats.n_pixels == len(flat) and stats.counts.sum() == len(flat)
    assert len(np.unique(flat, axis=0)) == stats.n_colors
    if channels == 3:
        keys = (flat[:, 0].astype(np.int64) << 16) | (flat[:, 1].astype(np.int64) << 8) | flat[:, 2]
        rows = stats.lookup[keys]
    else:
        rows = stats.lookup
    np.testing.assert_array_equal(stats.colors[rows], flat)
    np.testing.assert_array_equal(np.bincount(rows, minlength=stats.n_colors), stats.counts)
    X, w = stats.points()
    assert X.dtype == np.float64 and w is stats.counts
    assert np.array_equal(X, stats.colors) if channels == 3 else X.shape == (stats.n_colors, 6)


def test_binned_points_keep_weight_and_mean() -> None:
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
    stats = color_stats(pixels)
    points, weights = binned_points(stats, 4)
    assert weights.sum() == stats.n_pixels and len(points) <= 16 ** 3
    np.testing.assert_allclose(weights @ points, pixels.reshape(-1, 3).astype(float).sum(0))


@pytest.mark.parametrize("space", ["rgb", "rgb+lab", "oklab"])
def test_points_in_chunks_equal_one_conversion(space: str) -> None:
    from quantize.colorspace import encode

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
    import quantize.colorstats as colorstats

    rng = np.random.default_rng(bits)
    stats = color_stats(rng.integers(0, 256, (80, 70, channels), dtype=np.uint8))
    X = stats.points("rgb+lab")[0]
    monkeypatch.setattr(colorstats, "DENSE_GRID_CELLS", 1 << 30)
    dense = binned_points(stats, bits, X)
    monkeypatch.setattr(colorstats, "DENSE_GRID_CELLS", 0)
    sparse = binned_points(stats, bits, X)
    for a, b in zip(dense, sparse):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("channels, bits", [(3, 3), (3, 5), (3, 8), (4, 4), (4, 6)])
def test_occupied_cells_count_the_rows_of_the_grid(channels: int, bits: int) -> None:
    """The cheap count (no averaging) is the number of rows binned_points gives."""
    rng = np.random.default_rng(bits)
    stats = color_stats(rng.integers(0, 256, (60, 50, channels), dtype=np.uint8) // 3)
    assert occupied_cells(stats, bits) == len(binned_points(stats, bits)[1])
