"""Working colour spaces: 8-bit sRGB(A) -> space -> sRGB(A) round trips, gamut clipping, alpha."""

from __future__ import annotations

import numpy as np
import pytest

from quantize.core.colorspace import (CURVES, PRIMARIES, SPACES, decode, display_p3_to_linear, encode,
                                     grey_to_linear, lab_d50_to_linear, outside_srgb, rgb_to_linear,
                                     srgb8_to_lab, srgb_to_linear)


def dense_colours(step: int = 3) -> np.ndarray:
    """Every ``step``-th level per channel plus 255: a dense sample of the 2^24 colours."""
    levels = np.unique(np.r_[np.arange(0, 256, step), 255]).astype(np.uint8)
    return np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), -1).reshape(-1, 3)


@pytest.mark.parametrize("space", SPACES)
def test_round_trip_is_exact_after_rounding(space: str) -> None:
    colours = dense_colours()
    back = decode(encode(colours, space), space)
    assert back.shape == colours.shape
    assert np.abs(back - colours).max() < 1e-6  # far inside the 1/255 the issue allows
    np.testing.assert_array_equal(np.clip(np.rint(back), 0, 255).astype(np.uint8), colours)


@pytest.mark.parametrize("space", SPACES)
def test_rgba_round_trip_and_transparent_colours_are_one_point(space: str) -> None:
    rng = np.random.default_rng(1)
    colours = rng.integers(0, 256, (20000, 4)).astype(np.uint8)
    colours[:, 3] = np.maximum(colours[:, 3], 1)
    back = decode(encode(colours, space), space)
    np.testing.assert_array_equal(np.rint(back).astype(np.uint8), colours)
    clear = rng.integers(0, 256, (50, 4)).astype(np.uint8)
    clear[:, 3] = 0
    points = encode(clear, space)
    assert np.ptp(points, axis=0).max() < 1e-9  # hidden RGB makes no difference
    np.testing.assert_allclose(decode(points[:1], space)[0, 3], 0, atol=1e-9)


@pytest.mark.parametrize("space", ["linear", "oklab", "lab"])
def test_decode_clips_to_the_srgb_gamut(space: str) -> None:
    far = encode(np.array([[255, 0, 0], [0, 0, 255]], np.uint8), space) * 3.0  # out of gamut
    back = decode(far, space)
    assert back.min() >= 0 and back.max() <= 255


def test_spaces_agree_with_the_reference_conversions() -> None:
    colours = dense_colours(17)
    np.testing.assert_allclose(encode(colours, "lab"), srgb8_to_lab(colours), atol=1e-9)
    np.testing.assert_allclose(encode(colours, "linear"), 255 * srgb_to_linear(colours / 255.0),
                               atol=1e-9)
    mixed = encode(colours, "rgb+lab")
    np.testing.assert_array_equal(mixed[:, :3], colours)
    np.testing.assert_allclose(mixed[:, 3:], srgb8_to_lab(colours), atol=1e-9)
    # OKLab of white is L = 1 (x 100), a = b = 0.
    np.testing.assert_allclose(encode(np.array([[255, 255, 255]], np.uint8), "oklab"),
                               [[100, 0, 0]], atol=1e-3)


def test_unknown_space_is_an_error() -> None:
    with pytest.raises(ValueError, match="unknown colour space"):
        encode(np.zeros((1, 3), np.uint8), "hsv")


def test_d50_lab_and_display_p3_keep_white_white_and_p3_green_is_outside_srgb() -> None:
    """Bradford maps D50's white to D65's; P3 shares sRGB's white, and its green lies beyond sRGB's."""
    np.testing.assert_allclose(lab_d50_to_linear(np.array([100.0, 0, 0])), [1, 1, 1], atol=1e-6)
    np.testing.assert_allclose(display_p3_to_linear(np.array([1.0, 1, 1])), [1, 1, 1], atol=1e-6)
    green = display_p3_to_linear(np.array([0.0, 1, 0]))
    assert green[0] < 0 < 1 < green[1] and outside_srgb(green)
    assert not outside_srgb(np.array([1.0, 0, 0.5]))


@pytest.mark.parametrize("primaries", PRIMARIES)
def test_every_working_space_keeps_white_white(primaries: str) -> None:
    """Its white adapted to D65 as a relative colorimetric conversion adapts it (ProPhoto's D50,
    ACEScg's D60)."""
    np.testing.assert_allclose(rgb_to_linear(np.array([1.0, 1, 1]), primaries, "linear"), [1, 1, 1], atol=1e-9)


def test_rec2020_to_srgb_is_bt2087s_matrix() -> None:
    """ITU-R BT.2087: linear BT.709 = M @ linear BT.2020, M's first row (1.6605, -0.5876, -0.0728);
    within 2e-4, sRGB's own matrix being IEC 61966's rounded one."""
    rows = [rgb_to_linear(np.eye(3)[i], "Rec. 2020", "linear") for i in range(3)]
    np.testing.assert_allclose(np.column_stack(rows)[0], [1.6605, -0.5876, -0.0728], atol=2e-4)


@pytest.mark.parametrize("curve", CURVES)
def test_every_curve_keeps_black_and_rises(curve: str) -> None:
    """0 is black and 1 white (PQ's 1 is 10,000 cd/m², 125 times sRGB's 80); a mid value is darker
    in linear light."""
    top = 125.0 if curve == "PQ" else 1.0
    values = [float(grey_to_linear(v, curve)[0]) for v in (0.0, 0.5, 1.0)]
    assert values[0] == pytest.approx(0, abs=1e-12) and values[2] == pytest.approx(top)
    assert 0 < values[1] <= top / 2
