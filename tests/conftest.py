"""Shared fixtures: small generated images, and the optional real photos beside the project."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

SHARED_IMAGES = Path(__file__).resolve().parents[2] / "shared" / "images"
KODAK = SHARED_IMAGES / "kodak"


def make_photo(height: int = 48, width: int = 64, seed: int = 0) -> np.ndarray:
    """A photo-like RGB test image: smooth gradients, a few shapes, mild noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    img = np.stack([255 * x / max(width - 1, 1), 255 * y / max(height - 1, 1),
                    128 + 100 * np.sin(x / 5.0) * np.cos(y / 7.0)], axis=-1)
    img[(x - width / 3) ** 2 + (y - height / 2) ** 2 < (min(height, width) / 4) ** 2] = (200, 30, 40)
    img += rng.normal(0, 6, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


@pytest.fixture
def photo_path(tmp_path: Path) -> Path:
    path = tmp_path / "photo.png"
    Image.fromarray(make_photo()).save(path)
    return path


@pytest.fixture
def kodak() -> Path:
    if not KODAK.is_dir():
        pytest.skip("the Kodak set (../shared/images/kodak) is not available")
    return KODAK
