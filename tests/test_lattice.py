"""``--bits``: lattice levels by bit replication, the constrained fit, and its errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from quantize.core.colorspace import encode
from quantize.core.colorstats import color_stats
from quantize.errors import ParameterError
from quantize.core.fitting import FitOptions, fit_palette, path_order, to_palette
from quantize.io.images import load_image
from quantize.core.lattice import lattice_fit, levels, parse_bits, project, round_to_lattice
from quantize.core.mapping import map_pixels
from quantize.core.metrics import mse
from quantize.jobs.pipeline import CompressOptions, quantize_image

from test_builtin_palettes import run

PARROTS = Path(__file__).resolve().parents[1] / "test_images" / "parrots.png"


def on_lattice(palette: np.ndarray, bits: tuple[int, ...]) -> bool:
    channels = bits * 3 if len(bits) == 1 else bits
    return all(set(palette[:, c].tolist()) <= set(levels(b).tolist()) for c, b in enumerate(channels))


def test_levels_by_bit_replication() -> None:
    assert levels(5).tolist() == [v << 3 | v >> 2 for v in range(32)]
    assert levels(6).tolist() == [v << 2 | v >> 4 for v in range(64)]
    assert levels(3).tolist() == [v << 5 | v << 2 | v >> 1 for v in range(8)]
    assert levels(1).tolist() == [0, 255] and levels(2).tolist() == [0, 85, 170, 255]
    assert levels(8).tolist() == list(range(256))


@pytest.mark.parametrize("text, bits", [("5,6,5", (5, 6, 5)), ("3,3,2", (3, 3, 2)), ("4", (4,))])
def test_parse_bits(text: str, bits: tuple[int, ...]) -> None:
    assert parse_bits(text) == bits


@pytest.mark.parametrize("text", ["5,6", "0", "9,9,9", "a,b,c", ""])
def test_parse_bits_refuses(text: str) -> None:
    with pytest.raises(ParameterError, match="^bits must be") as info:
        parse_bits(text)
    assert info.value.parameters == ("bits",)


def test_projection_and_rounding_land_on_the_lattice() -> None:
    rng = np.random.default_rng(0)
    colors = rng.uniform(0, 255, (50, 3))
    for bits in ((5, 6, 5), (3, 3, 2), (2,)):
        rounded = round_to_lattice(colors, bits)
        assert on_lattice(rounded, bits)
        assert on_lattice(project(colors, "rgb", bits), bits)
        assert on_lattice(project(encode(colors, "rgb+lab"), "rgb+lab", bits), bits)
    # in RGB the projection is the per-channel nearest level
    np.testing.assert_array_equal(project(colors, "rgb", (5, 6, 5)), round_to_lattice(colors, (5, 6, 5)))


@pytest.mark.parametrize("space", ["rgb", "rgb+lab"])
@pytest.mark.parametrize("bits", [(5, 6, 5), (3, 3, 2), (4,)])
def test_constrained_fit_is_on_the_lattice_and_beats_rounding(space: str, bits) -> None:
    image = load_image(PARROTS)
    stats = color_stats(image.pixels)
    k = 12
    free = fit_palette(image.pixels, stats.in_space(space), FitOptions(k=k, space=space))
    rounded = np.unique(round_to_lattice(to_palette(free.centers), bits), axis=0)
    baseline = mse(image.pixels, rounded, map_pixels(image.pixels, stats.in_space(space), rounded))
    result = quantize_image(image, CompressOptions(fit=FitOptions(k=k, space=space, bits=bits)))
    assert on_lattice(result.palette, bits)
    if len(bits) == 1:
        assert (result.palette == result.palette[:, :1]).all()  # grey
    assert result.mse < baseline
    # the same palette as refining that free fit directly (the pipeline adds only its path order)
    again = to_palette(lattice_fit(stats.in_space(space), free, bits, FitOptions().max_iter).centers)
    np.testing.assert_array_equal(result.palette, again[path_order(again)])


def test_few_colours_are_moved_to_the_lattice() -> None:
    pixels = np.array([[[10, 20, 30], [200, 100, 7]]], np.uint8)
    from quantize.io.images import image_from_array

    result = quantize_image(image_from_array(pixels),
                            CompressOptions(fit=FitOptions(k=4, bits=(5, 6, 5))))
    assert on_lattice(result.palette, (5, 6, 5)) and len(result.palette) == 2


def test_bits_on_the_command_line(capsys, tmp_path: Path) -> None:
    from quantize.io import container

    code, _, err = run(capsys, "compress", PARROTS, "-k", "16", "--bits", "5,6,5", "-o", tmp_path)
    assert code == 0, err
    assert on_lattice(container.load(tmp_path / "parrots.qnt").palette, (5, 6, 5))
    code, _, err = run(capsys, "compress", PARROTS, "--bits", "2", "-o", tmp_path / "grey")
    assert code == 0, err  # no -k: the lattice's 4 greys, not the default K=256 refused
    assert len(container.load(tmp_path / "grey" / "parrots.qnt").palette) == 4


@pytest.mark.parametrize("args, message", [
    (("--bits", "5,6,5", "--palette", "pico8"), "--bits constrains the fitted colours"),
    (("--bits", "1", "-k", "4"), "holds only 2 colours, fewer than K=4"),
    (("--bits", "3,3,2", "-k", "257"), "holds only 256 colours"),
    (("--bits", "5,6"), "--bits must be R,G,B or N"),
    # an RGB565 file cannot hold the lattice asked for: it was a note after all the work
    (("--bits", "6,6,6", "-k", "16", "--format", "qnt,rgb565"),
     "--bits 6,6,6 is finer than --format rgb565 holds (5,6,5 bits)"),
    (("--bits", "8", "--format", "rgb565"), "--bits 8 is finer than --format rgb565 holds"),
])
def test_bad_bits_are_one_line_before_any_work(capsys, tmp_path: Path, args, message) -> None:
    code, out, err = run(capsys, "compress", PARROTS, *args, "-o", tmp_path / "o")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "o").exists()


_SCRIPT = """
import sys
from quantize.core.fitting import FitOptions
from quantize.io.images import load_image
from quantize.jobs.pipeline import CompressOptions, quantize_image
result = quantize_image(load_image({path!r}), CompressOptions(fit=FitOptions(k=24, bits=(5, 6, 5))))
print(result.palette.tobytes().hex(), result.indices.tobytes().hex()[:4000])
"""


def test_same_palette_across_thread_counts() -> None:
    import os
    import subprocess
    import sys

    outputs = set()
    for threads in ("1", "2"):
        proc = subprocess.run([sys.executable, "-c", _SCRIPT.format(path=str(PARROTS))],
                              capture_output=True, text=True, timeout=300,
                              env={**os.environ, "NUMBA_NUM_THREADS": threads})
        assert proc.returncode == 0, proc.stderr
        outputs.add(proc.stdout)
    assert len(outputs) == 1


def test_bits_fit_in_rgb_unless_a_space_is_given(capsys, tmp_path: Path) -> None:
    import json

    code, out, err = run(capsys, "compress", PARROTS, "-k", "8", "--bits", "4,4,4", "--json", "-o", tmp_path)
    assert code == 0, err
    assert json.loads(out)["space"] == "rgb"
    code, out, err = run(capsys, "compress", PARROTS, "-k", "8", "--bits", "4,4,4", "--space", "lab",
                         "--json", "-o", tmp_path, "--force")
    assert code == 0, err
    assert json.loads(out)["space"] == "lab"


def test_bits_refuse_transparency(capsys, tmp_path: Path) -> None:
    from PIL import Image

    pixels = np.zeros((8, 8, 4), np.uint8)
    pixels[:4, :, 3] = 255
    Image.fromarray(pixels).save(tmp_path / "clear.png")
    code, _, err = run(capsys, "compress", tmp_path / "clear.png", "-k", "2", "--bits", "5,6,5",
                       "-o", tmp_path / "o")
    assert code == 2 and err == "quantize: error: --bits needs an image without transparency\n"
    assert not (tmp_path / "o").exists() or not any((tmp_path / "o").iterdir())


def test_lattice_colors_are_the_builtin_palettes_at_their_codes() -> None:
    from quantize.core.lattice import lattice_colors
    from quantize.io.palettes.builtin import builtin_palette

    for bits, name in (((1,), "bw"), ((2,), "grey2"), ((4,), "grey4"), ((3, 3, 2), "rgb332")):
        np.testing.assert_array_equal(lattice_colors(bits), builtin_palette(name).colors)
    rgb565 = lattice_colors((5, 6, 5))
    assert rgb565[0xF800].tolist() == [255, 0, 0] and rgb565[0x07E0].tolist() == [0, 255, 0]


def test_bits_say_when_the_raw_indices_are_not_the_displays_codes(capsys, tmp_path: Path) -> None:
    """--bits 4 --format raw, for a 4-bit grey display, wrote indices into the greys the fit used:
    with no pixel near black, index 0 was #111111, shown a level darker on the panel, in silence."""
    from PIL import Image

    from quantize.io import container

    ramp = np.repeat(np.linspace(20, 255, 64).round().astype(np.uint8)[None, :, None], 3, axis=2)
    Image.fromarray(np.repeat(ramp, 4, axis=0)).save(tmp_path / "ramp.png")
    code, _, err = run(capsys, "compress", tmp_path / "ramp.png", "--bits", "4",
                       "--format", "qnt,raw", "-o", tmp_path / "a")
    assert code == 0, err
    palette = container.load(tmp_path / "a" / "ramp.qnt").palette
    assert len(palette) == 15 and palette[0].tolist() == [17, 17, 17]
    assert ("note: the raw file holds 4-bit indices into the 15 colours fitted, not --bits 4's own "
            "codes (index 0 is #111111, code 1); --palette grey4 writes each pixel's code") in err
    for args in (("--bits", "4", "--format", "qnt"),  # no file of indices
                 ("--bits", "2", "--format", "raw"),  # all four greys: the indices are the codes
                 ("--bits", "4", "-k", "3", "--format", "raw")):  # 2-bit indices: plainly a LUT's
        code, _, err = run(capsys, "compress", tmp_path / "ramp.png", *args, "-o", tmp_path / "b",
                           "--force")
        assert code == 0 and "own codes" not in err, (args, err)


def test_the_bits_note_lists_no_lattice_it_does_not_need(monkeypatch) -> None:
    """The note listed every colour of the lattice before comparing widths: at --bits 8,8,8 every
    24-bit colour, for indices that are never 24 bits wide."""
    import quantize.core.lattice as lattice
    from quantize.io.exports import lattice_code_note

    def refuse(bits):
        raise AssertionError(f"listed the {bits} lattice")

    monkeypatch.setattr(lattice, "lattice_colors", refuse)
    palette = np.arange(48, dtype=np.uint8).reshape(16, 3)
    assert lattice_code_note(("raw", "c"), palette, (8, 8, 8)) == ()
    assert lattice_code_note(("raw",), palette, (5, 6, 5)) == ()
