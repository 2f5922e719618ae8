"""Bounded memory: no stage after loading makes a full-size copy wider than the indices.

tracemalloc sees numpy's and Numba's allocations. The whole-process peak for big photos is measured
by ``benchmarks/memory.py``; these tests keep the per-pixel terms from creeping back in.
"""

from __future__ import annotations

import gc
import tracemalloc
import weakref

import numpy as np
import pytest
from PIL import Image

from conftest import make_photo

from quantize.io import container
from quantize.jobs import pipeline
from quantize.io.formats import encode_png
from quantize.io.images import image_from_array
from quantize.jobs.job import FileJob

TABLE_BYTES = 4 << 24  # the colour-count table: 2**24 int32, by design


def traced_peak(fn, *args, **kwargs) -> tuple[int, object]:
    """Peak bytes allocated while ``fn`` runs (over what was allocated before), and its value."""
    tracemalloc.start()
    try:
        value = fn(*args, **kwargs)
        return tracemalloc.get_traced_memory()[1], value
    finally:
        tracemalloc.stop()


@pytest.fixture(scope="module")
def many_pixels_few_colours() -> np.ndarray:
    """4 megapixels of 3,000 colours: the fit is small, so per-pixel costs dominate."""
    rng = np.random.default_rng(1)
    palette = rng.integers(0, 256, (3000, 3), dtype=np.uint8)
    return palette[rng.integers(0, len(palette), (2000, 2000))]


def test_quantize_image_adds_at_most_the_table_and_two_bytes_per_pixel(many_pixels_few_colours):
    image = image_from_array(many_pixels_few_colours)
    options = pipeline.CompressOptions(fit=pipeline.FitOptions(k=256))
    pipeline.quantize_image(image, options)  # compile and load the kernels outside the measurement
    peak, result = traced_peak(pipeline.quantize_image, image, options)
    n = image.width * image.height
    assert result.k_used == 256
    # the uint8 indices, and a renumbered copy of them; any int64 or float per pixel would be 8n+
    assert peak < TABLE_BYTES + 2 * n + (16 << 20), peak / n


def test_writing_needs_about_one_byte_per_pixel_beyond_the_outputs(many_pixels_few_colours):
    rng = np.random.default_rng(2)
    palette = rng.integers(0, 256, (256, 3), dtype=np.uint8)
    indices = rng.integers(0, 256, many_pixels_few_colours.shape[:2], dtype=np.uint8)
    n = indices.size
    for encode in (lambda: container.encode(palette, indices),
                   lambda: encode_png(palette, indices, effort=0)):
        peak, data = traced_peak(encode)
        assert peak < 2 * len(data) + n + (8 << 20), (peak / n, len(data) / n)


def test_unused_palette_entries_are_dropped_without_a_wide_copy():
    indices = np.zeros((2000, 2000), np.uint8)
    indices[::2] = 7
    palette = np.arange(8 * 3, dtype=np.uint8).reshape(8, 3)
    peak, (kept, renumbered, counts) = traced_peak(pipeline._drop_unused, palette, indices)
    assert kept.tolist() == [palette[0].tolist(), palette[7].tolist()]
    assert renumbered.dtype == np.uint8 and set(np.unique(renumbered)) == {0, 1}
    assert counts.tolist() == [2000 * 1000, 2000 * 1000]
    assert peak < indices.size + (10 << 20)  # the renumbered copy and chunked counts


def test_a_compress_lets_the_pixels_go_before_it_encodes_the_files(tmp_path, monkeypatch):
    photo = tmp_path / "photo.png"
    Image.fromarray(make_photo(64, 96)).save(photo)
    pixels = []
    load = FileJob.load

    def loaded(self):
        image = load(self)
        pixels.append(weakref.ref(image.pixels))
        return image

    freed = []
    encode = pipeline.encode_outputs

    def encoded(*args, **kwargs):
        gc.collect()
        freed.append(pixels[0]() is None)
        return encode(*args, **kwargs)

    monkeypatch.setattr(FileJob, "load", loaded)
    monkeypatch.setattr(pipeline, "encode_outputs", encoded)
    result = pipeline.compress_file(photo, tmp_path / "out", options=pipeline.CompressOptions(
        fit=pipeline.FitOptions(k=16)))
    assert freed == [True]
    assert result.files["qnt"][1] == (tmp_path / "out" / "photo.qnt").stat().st_size
