"""Rate–distortion mapping (``rdo``): pixels take a neighbour's index only within the allowance,
files shrink, the cost shows in the measured error, and a byte budget buys more quality with it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from quantize.cli import main
from quantize.core.fitting import FitOptions
from quantize.core.mapping import prefer_cheap_indices
from quantize.errors import ParameterError
from quantize.io import container
from quantize.io.images import load_image
from quantize.jobs.pipeline import CompressOptions, quantize_image

PARROTS = Path(__file__).resolve().parents[1] / "test_images" / "parrots.png"


def _error(pixels: np.ndarray, palette: np.ndarray, indices: np.ndarray) -> np.ndarray:
    diff = pixels.astype(np.float64) - palette[indices].astype(np.float64)
    return (diff * diff).sum(axis=-1)


@pytest.mark.parametrize("allowance", [0.0, 40.0, 400.0])
def test_each_moved_pixel_took_a_neighbour_within_the_allowance(allowance: float) -> None:
    image = load_image(PARROTS)
    result = quantize_image(image, CompressOptions(fit=FitOptions(k=32)), measure=False)
    before = result.indices.copy()
    after = before.copy()
    moved = prefer_cheap_indices(image.pixels, result.palette, after, allowance)
    changed = after != before
    assert moved == int(changed.sum())
    assert moved > 0 or allowance == 0.0  # at 0 only exact ties move
    ys, xs = np.nonzero(changed)
    left = np.where(xs > 0, after[ys, np.maximum(xs - 1, 0)], -1)
    up = np.where(ys > 0, after[np.maximum(ys - 1, 0), xs], -1)
    assert ((after[ys, xs] == left) | (after[ys, xs] == up)).all()
    extra = _error(image.pixels, result.palette, after) - _error(image.pixels, result.palette, before)
    assert (extra[changed] <= allowance + 1e-9).all() and (extra[~changed] == 0).all()


def test_rdo_shrinks_the_packed_file_at_a_measured_cost() -> None:
    image = load_image(PARROTS)
    plain = quantize_image(image, CompressOptions(fit=FitOptions(k=128)))
    traded = quantize_image(image, CompressOptions(fit=FitOptions(k=128), rdo=100))
    np.testing.assert_array_equal(plain.palette, traded.palette)  # the same fit
    assert len(container.encode(traded.palette, traded.indices)) < \
        0.9 * len(container.encode(plain.palette, plain.indices))
    assert plain.mse < traded.mse <= plain.mse + 100
    assert traded.to_dict()["rdo"] == 100 and any("rate–distortion" in n for n in traded.notes)


def test_a_byte_budget_buys_more_quality_with_rdo(tmp_path: Path, capsys) -> None:
    import json

    psnr = {}
    for rdo in ("0", "100"):
        with pytest.raises(SystemExit) as done:
            main(["compress", str(PARROTS), "-o", str(tmp_path / rdo), "--format", "qnt",
                  "--max-bytes", "9k", "--rdo", rdo, "--json", "-q"])
        assert done.value.code == 0
        report = json.loads(capsys.readouterr().out)
        assert report["files"]["qnt"]["bytes"] <= 9000
        psnr[rdo] = report["psnr"]
    assert psnr["100"] > psnr["0"] + 0.5


def test_auto_allows_twice_the_nearest_mappings_error() -> None:
    from quantize.jobs.pipeline import RDO_AUTO

    image = load_image(PARROTS)
    plain = quantize_image(image, CompressOptions(fit=FitOptions(k=64)))
    auto = quantize_image(image, CompressOptions(fit=FitOptions(k=64), rdo="auto"))
    assert auto.rdo == pytest.approx(RDO_AUTO * plain.mse)
    assert plain.mse < auto.mse <= plain.mse + auto.rdo
    assert len(container.encode(auto.palette, auto.indices)) < \
        len(container.encode(plain.palette, plain.indices))


@pytest.mark.parametrize(("options", "named"), [
    (CompressOptions(rdo=-1), "rdo"), (CompressOptions(rdo=1e6), "rdo"),
    (CompressOptions(rdo="best"), "rdo"),
    (CompressOptions(rdo=50, dither="fs"), "dither")])
def test_bad_rdo_is_refused(options: CompressOptions, named: str) -> None:
    with pytest.raises(ParameterError, match=named):
        options.validated()


def test_the_cli_refuses_rdo_with_a_dither(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as done:
        main(["compress", str(PARROTS), "-o", str(tmp_path), "--rdo", "50", "--dither", "fs"])
    assert done.value.code == 2 and "--rdo" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())
