"""Shared fixtures: small generated images, and the optional real photos beside the project."""

from __future__ import annotations

from pathlib import Path

import lzma
import struct
import zlib

import numpy as np
import pytest
import zstandard
from PIL import Image, ImageCms

SHARED_IMAGES = Path(__file__).resolve().parents[2] / "shared" / "images"
KODAK = SHARED_IMAGES / "kodak"

# An independent compressor per codec of the packed format (as docs/FORMAT.md describes them).
COMPRESS = {
    "none": bytes,
    "zlib": zlib.compress,
    "lzma": lambda raw: lzma.compress(raw, format=lzma.FORMAT_XZ,
                                      filters=[{"id": lzma.FILTER_LZMA2, "dict_size": 4096}]),
    "zstd": zstandard.compress,
    "cm": bytes,  # no independent coder exists: fuzzing hands it raw bytes as a stream
    "bilevel": bytes,  # the same
    "template": bytes,
}
COMPRESS.update({"lzma-bytes": COMPRESS["lzma"], "zstd-bytes": COMPRESS["zstd"]})  # a byte an index


def make_photo(height: int = 48, width: int = 64, seed: int = 0) -> np.ndarray:
    """A photo-like RGB test image: smooth gradients, a few shapes, mild noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    img = np.stack([255 * x / max(width - 1, 1), 255 * y / max(height - 1, 1),
                    128 + 100 * np.sin(x / 5.0) * np.cos(y / 7.0)], axis=-1)
    img[(x - width / 3) ** 2 + (y - height / 2) ** 2 < (min(height, width) / 4) ** 2] = (200, 30, 40)
    img += rng.normal(0, 6, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def swapped_icc_profile(name: str = "swap") -> bytes:
    """An RGB ICC profile whose red and green primaries are swapped, named "``name`` built-in"
    (Pillow's sRGB profile, its name's "sRGB" replaced by ``name``)."""
    data = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    (count,) = struct.unpack(">I", data[128:132])
    tags = {data[132 + 12 * i:136 + 12 * i]: 132 + 12 * i for i in range(count)}
    out = bytearray(data)
    r, g = tags[b"rXYZ"], tags[b"gXYZ"]
    out[r + 4:r + 12], out[g + 4:g + 12] = data[g + 4:g + 12], data[r + 4:r + 12]
    return bytes(out).replace("sRGB".encode("utf-16-be"), name.encode("utf-16-be"))


@pytest.fixture
def photo_path(tmp_path: Path) -> Path:
    path = tmp_path / "photo.png"
    Image.fromarray(make_photo()).save(path)
    return path


@pytest.fixture
def pyproject() -> dict:
    """pyproject.toml's [project] table (tomllib is Python 3.11's; 3.10 skips)."""
    tomllib = pytest.importorskip("tomllib")
    return tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]


@pytest.fixture
def kodak() -> Path:
    if not KODAK.is_dir():
        pytest.skip("the Kodak set (../shared/images/kodak) is not available")
    return KODAK
