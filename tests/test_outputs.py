"""--format and --max-bytes: every written format holds the same pixels; a byte budget picks the
largest K that fits; every report gives each file's real size."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from conftest import make_photo
from quantize.io import container
from quantize.cli import cli, main
from quantize.errors import OutputError, ParameterError
from quantize.core.fitting import FitOptions
from quantize.io.images import load_image
from quantize.io.outputs import encode_one, parse_formats
from quantize.jobs.pipeline import CompressOptions, compress_file, quantize_image
from quantize.jobs.sweep import parse_size, with_k

LOGO = Path(__file__).resolve().parents[1] / "test_images" / "logo.png"


def decoded(path: Path) -> np.ndarray:
    """The pixels of a written file, RGBA."""
    if path.suffix == ".qnt":
        packed = container.load(path)
        pixels = packed.pixels()
    else:
        with Image.open(path) as img:
            pixels = np.asarray(img.convert("RGBA"))
    if pixels.shape[-1] == 3:
        pixels = np.dstack([pixels, np.full(pixels.shape[:2], 255, np.uint8)])
    return pixels


@pytest.mark.parametrize("source,k,formats", [("photo", 16, "qnt,png,webp,gif"),
                                              ("logo", 8, "qnt,png,webp"),
                                              ("logo", 8, "qnt,png,webp,gif")])
def test_every_format_holds_the_same_pixels(photo_path, tmp_path, source, k, formats):
    path = photo_path if source == "photo" else LOGO
    result = compress_file(path, tmp_path, options=CompressOptions(fit=FitOptions(k=k)),
                           formats=formats)
    files = {fmt: Path(p) for fmt, (p, _) in result.files.items()}
    assert sorted(files) == sorted(formats.split(","))
    reference = decoded(files["qnt"])
    for fmt, file in files.items():
        assert file.stat().st_size == result.files[fmt][1]
        np.testing.assert_array_equal(decoded(file), reference, err_msg=fmt)
    assert files["png"].name.endswith(".preview.png")
    alpha = reference[..., 3]
    partial = ((alpha > 0) & (alpha < 255)).any()
    # GIF shows a pixel or not: with it, every file's alpha is all or nothing, and a note says so
    assert partial == (source == "logo" and "gif" not in formats)
    assert any("GIF has no partial transparency" in n for n in result.notes) == (
        source == "logo" and "gif" in formats)


def test_a_gif_run_makes_partial_alpha_all_or_nothing_at_128(tmp_path):
    """A soft-edged image and --format gif was refused (GIF has no partial alpha), so no GIF of
    it could be had; its alpha is now made opaque at 128 or more and clear below, as ffmpeg's
    paletteuse does, in every file of the run."""
    ramp = np.tile(np.arange(256, dtype=np.uint8), (4, 1))
    pixels = np.dstack([np.full((4, 256, 3), (200, 40, 90), np.uint8), ramp])
    Image.fromarray(pixels, "RGBA").save(tmp_path / "soft.png")
    result = compress_file(tmp_path / "soft.png", tmp_path / "o",
                           options=CompressOptions(fit=FitOptions(k=4)), formats="gif,png")
    for fmt in ("gif", "png"):
        shown = decoded(Path(result.files[fmt][0]))
        np.testing.assert_array_equal(shown[..., 3], np.where(ramp >= 128, 255, 0))


def _against_loaded(path: Path, written: np.ndarray) -> tuple[float, float]:
    """The MSE and mean CIEDE2000 of ``written`` RGBA pixels against the image at ``path`` as
    loaded (its fully transparent pixels' hidden RGB cleared), all its pixels, composited over
    white for the ΔE."""
    from quantize.core.colorstats import clear_transparent
    from quantize.core.metrics import mean_delta_e, mse

    loaded = clear_transparent(load_image(path).pixels)
    loaded = loaded if loaded.shape[-1] == 4 else np.dstack(
        [loaded, np.full(loaded.shape[:2], 255, np.uint8)])
    colours, indices = np.unique(written.reshape(-1, 4), axis=0, return_inverse=True)
    indices = indices.reshape(written.shape[:2]).astype(np.int32)
    return (mse(loaded, colours, indices),
            mean_delta_e(loaded, colours, indices, n_samples=loaded.shape[0] * loaded.shape[1]))


def test_a_gif_run_measures_its_files_against_the_image_as_loaded(tmp_path):
    """With gif in --format the report measured the files against the image with its alpha
    already made all or nothing: a grey at alpha 50 everywhere, written fully clear, reported
    PSNR inf and ΔE 0. The error is now that of the files against the image as loaded."""
    soft = np.dstack([np.full((8, 8, 3), 100, np.uint8), np.full((8, 8), 50, np.uint8)])
    Image.fromarray(soft, "RGBA").save(tmp_path / "faint.png")
    ramp = np.tile(np.arange(256, dtype=np.uint8), (4, 1))
    Image.fromarray(np.dstack([np.full((4, 256, 3), (200, 40, 90), np.uint8), ramp]),
                    "RGBA").save(tmp_path / "soft.png")
    for name in ("faint.png", "soft.png"):
        result = compress_file(tmp_path / name, tmp_path / "o",
                               options=CompressOptions(fit=FitOptions(k=4)), formats="gif,qnt")
        error, delta_e = _against_loaded(tmp_path / name, decoded(Path(result.files["gif"][0])))
        assert result.mse == pytest.approx(error) and error > 0
        assert result.delta_e == pytest.approx(delta_e, rel=1e-4)
        assert result.psnr == pytest.approx(10 * np.log10(255 ** 2 * 4 / error))


def test_a_quality_target_with_gif_is_judged_against_the_image_as_loaded(tmp_path):
    """--target-psnr with gif judged each K against the image with its alpha made all or
    nothing, so the K it picked could miss the target against the image given; it now misses
    (with a soft ramp no K can meet a high target), and a reachable one is met as reported."""
    from quantize.jobs.sweep import Target, TargetMissed, compress_searched

    ramp = np.tile(np.arange(256, dtype=np.uint8), (4, 1))
    Image.fromarray(np.dstack([np.full((4, 256, 3), (200, 40, 90), np.uint8), ramp]),
                    "RGBA").save(tmp_path / "soft.png")
    options = CompressOptions(fit=FitOptions(k=16))
    with pytest.raises(TargetMissed, match="partly transparent pixels, which GIF shows opaque or "
                                            "clear, keep part of the error at any K"):
        compress_searched(tmp_path / "soft.png", tmp_path / "o", Target(psnr=40), options=options,
                          formats="gif")
    result, search = compress_searched(tmp_path / "soft.png", tmp_path / "o", Target(psnr=9),
                                       options=options, formats="gif")
    error, _ = _against_loaded(tmp_path / "soft.png", decoded(Path(result.files["gif"][0])))
    assert result.psnr == search.result.psnr == pytest.approx(10 * np.log10(255 ** 2 * 4 / error))


def test_firmware_exports_are_written_beside_the_packed_file(photo_path, tmp_path):
    result = compress_file(photo_path, tmp_path, options=CompressOptions(fit=FitOptions(k=16)),
                           formats=("c", "raw", "rgb565"))
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix != ".png") == \
        ["photo.h", "photo.raw", "photo.rgb565"]
    assert (tmp_path / "photo.raw").stat().st_size == result.height * ((result.width * 4 + 7) // 8)
    assert (tmp_path / "photo.rgb565").stat().st_size == 2 * result.width * result.height


def test_rgb565_of_a_transparent_image_says_it_holds_no_alpha(photo_path, tmp_path):
    """RGB565 has no alpha: an RGBA image's .rgb565 showed its transparent pixels black and its
    soft edges opaque without a word; an opaque image's has no such note."""
    rgba = np.dstack([np.asarray(Image.open(photo_path)), np.full((48, 64), 255, np.uint8)])
    rgba[:8, :, 3] = 0
    rgba[8:10, :, 3] = 90
    Image.fromarray(rgba).save(tmp_path / "soft.png")
    options = CompressOptions(fit=FitOptions(k=8))
    result = compress_file(tmp_path / "soft.png", tmp_path / "a", options=options, formats="rgb565")
    assert [n for n in result.notes if "alpha" in n] == [
        "the rgb565 file holds no alpha: its pixels that are not opaque are written opaque, in their "
        "palette colour (the transparent ones black)"]
    values = np.frombuffer((tmp_path / "a" / "soft.rgb565").read_bytes(), "<u2").reshape(48, 64)
    assert not values[:8].any() and values[8:10].all()
    opaque = compress_file(photo_path, tmp_path / "b", options=options, formats="rgb565")
    assert not [n for n in opaque.notes if "alpha" in n]


def test_a_library_caller_names_the_one_file(photo_path, tmp_path):
    result = compress_file(photo_path, formats="webp", out_file=tmp_path / "a" / "small.webp",
                           options=CompressOptions(fit=FitOptions(k=4)))
    assert result.files["webp"][1] == (tmp_path / "a" / "small.webp").stat().st_size
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["photo.png", "small.webp"]
    for formats, out_dir in (("qnt,png", None), ("png", tmp_path)):
        with pytest.raises(ParameterError, match="out_file names the one file of one format"):
            compress_file(photo_path, out_dir, formats=formats, out_file=tmp_path / "x.png")


def test_an_out_file_without_formats_is_written_in_the_format_it_names(photo_path, tmp_path):
    """As the command line's -o small.png asks for png alone."""
    options = CompressOptions(fit=FitOptions(k=4))
    result = compress_file(photo_path, out_file=tmp_path / "small.png", options=options)
    assert list(result.files) == ["png"]
    assert (tmp_path / "small.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    compress_file(photo_path, out_file=tmp_path / "panel.h", options=options)
    assert (tmp_path / "panel.h").read_text().lstrip().startswith(("/*", "//", "#"))
    with pytest.raises(ParameterError, match="out_file names the one file of one format, not of "
                                             "qnt, png"):
        compress_file(photo_path, out_file=tmp_path / "x.bin", options=options)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["panel.h", "photo.png", "small.png"]


def test_an_out_file_below_a_file_says_that_file_is_no_folder(photo_path, tmp_path):
    """The refusal names the file asked for, not its folder as if one had been asked for."""
    (tmp_path / "o.gif").write_bytes(b"GIF89a")
    with pytest.raises(OutputError, match="^cannot write .*o.gif/x.gif: .*o.gif is a file, not a "
                                          "folder$"):
        compress_file(photo_path, formats="gif", out_file=tmp_path / "o.gif" / "x.gif")


def test_an_out_file_named_for_another_format_is_refused(photo_path, tmp_path):
    with pytest.raises(ParameterError, match="out_file cx.WEBP names a webp file, but the format "
                                             "written is png: give formats='webp'"):
        compress_file(photo_path, formats="png", out_file=tmp_path / "cx.WEBP")
    with pytest.raises(ParameterError, match="out_file x.h names a c file.*formats='c'"):
        compress_file(photo_path, formats="qnt", out_file=tmp_path / "x.h")
    assert not [p for p in tmp_path.iterdir() if p.name != "photo.png"]


def test_format_errors_come_before_any_work(photo_path, tmp_path):
    with pytest.raises(ParameterError, match="unknown format 'jpg' \\(choose from qnt, png"):
        parse_formats("qnt,jpg")
    with pytest.raises(ParameterError, match="gif holds at most 256 colours"):
        compress_file(photo_path, tmp_path / "o", options=CompressOptions(fit=FitOptions(k=300)),
                      formats="gif")
    assert not (tmp_path / "o").exists()
    assert parse_formats(" PNG, qnt,png ") == ("png", "qnt")


def test_real_bits_per_pixel_in_the_json(photo_path, tmp_path):
    res = CliRunner().invoke(cli, ["compress", str(photo_path), "-k", "16", "-o", str(tmp_path),
                                   "--format", "qnt,webp", "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    pixels = report["width"] * report["height"]
    for fmt in ("qnt", "webp"):
        file = report["files"][fmt]
        assert file["bytes"] == Path(file["path"]).stat().st_size
        assert file["bits_per_pixel"] == round(8 * file["bytes"] / pixels, 4)
    assert report["packed_file_bits_per_pixel"] == report["files"]["qnt"]["bits_per_pixel"]
    text = CliRunner().invoke(cli, ["compress", str(photo_path), "-k", "16", "-o", str(tmp_path),
                                    "--force", "-q"]).stdout
    assert "bits/pixel" in text and ".preview.png" in text


@pytest.mark.parametrize("text,size", [("150000", 150000), ("150k", 150000), ("1.5M", 1500000),
                                       ("64KiB", 65536), ("2kb", 2000),
                                       ("40,000", 40000), ("1,500k", 1500000)])
def test_sizes_read_as_users_write_them(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "ten", "-5", "0", "5X", "1,5M", "40,00", "4,0000"])
def test_bad_sizes_are_refused(text):
    with pytest.raises(ParameterError) as refused:
        parse_size(text)
    assert refused.value.parameters == ("max_bytes",)


def test_a_bad_size_names_the_flag(photo_path, tmp_path, capsys):
    """'--max-bytes 0' said only 'the size must be at least 1 byte'."""
    with pytest.raises(SystemExit) as exit_:
        main(["compress", str(photo_path), "--max-bytes", "0", "-o", str(tmp_path / "o")])
    assert exit_.value.code == 2
    assert capsys.readouterr().err == ("quantize: error: --max-bytes must be at least 1 byte, "
                                       "got '0'\n")


def qnt_bytes(photo_path: Path, k: int) -> int:
    image = load_image(photo_path)
    result = quantize_image(image, with_k(CompressOptions(), k), measure=False)
    return len(encode_one("qnt", result.palette, result.indices, codec="cm", stem="photo"))


def test_max_bytes_picks_a_k_that_fits_beside_one_that_does_not(photo_path, tmp_path):
    budget = (qnt_bytes(photo_path, 12) + qnt_bytes(photo_path, 13)) // 2
    res = CliRunner().invoke(cli, ["compress", str(photo_path), "-k", "64", "-o", str(tmp_path),
                                   "--max-bytes", str(budget), "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.stdout)
    k = report["k"]
    assert (tmp_path / "photo.qnt").stat().st_size <= budget
    assert report["files"]["qnt"]["bytes"] == qnt_bytes(photo_path, k)
    assert k == 64 or qnt_bytes(photo_path, k + 1) > budget
    assert "the largest K whose qnt file fits" in res.stderr


def test_a_budget_looks_past_the_first_k_that_does_not_fit():
    """Sizes wobble with K: the search once stopped at K = 21 beside a K = 22 that did not fit,
    where K = 23 fitted."""
    from quantize.jobs.sweep import LOOK_PAST, largest_fitting

    sizes = {k: 100 * k for k in range(1, 65)}
    sizes[22] = 5_000  # a bump where the bisection looks (16, 32, 24, 20, 22, 21): 23 fits
    budget = largest_fitting(sizes.__getitem__, 2_350, "qnt", 64)
    assert budget.k == 23 and set(range(24, 24 + LOOK_PAST)) <= set(budget.sizes)
    assert largest_fitting(sizes.__getitem__, 10_000, "qnt", 64).k == 64


def doubling_search(size, max_bytes: int, max_k: int) -> int | None:
    """The budget search as it was before it tried the largest K first: K doubles from 2 while it
    fits, then a binary search, then K past the first misfit; None when K = 1 does not fit."""
    from quantize.jobs.sweep import LOOK_PAST

    fits = lambda k: size(k) <= max_bytes  # noqa: E731
    if max_k == 1 or not fits(2):
        return 1 if fits(1) else None
    low, high = 2, None
    while high is None and low < max_k:
        k = min(2 * low, max_k)
        low, high = (k, None) if fits(k) else (low, k)
    while high is not None and high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if fits(middle) else (low, middle)
    misfits, k = 1, low + 2
    while misfits < LOOK_PAST and k <= max_k:
        low, misfits = (k, 0) if fits(k) else (low, misfits + 1)
        k += 1
    return low


@pytest.mark.parametrize("max_k", [16, 24])
def test_a_budget_that_holds_the_largest_k_costs_one_probe_and_picks_as_before(max_k, tmp_path):
    """A budget that K = max_k fits cost a doubling from 2 (8 runs of a 40-frame clip at K=256,
    where one does); the first probe is now max_k, and every budget picks the K it picked."""
    from quantize.jobs.sweep import TargetMissed, largest_fitting

    image = tmp_path / "p.png"
    Image.fromarray(make_photo(24, 32, seed=3)).save(image)
    known: dict[int, int] = {}

    def size(k: int) -> int:
        if k not in known:
            known[k] = qnt_bytes(image, k)
        return known[k]

    top = size(max_k)
    budgets = {top, top + 1, 10 * top, size(1) - 1, size(1), size(2) - 1, size(2), size(4),
               size(8) + 1, size(max_k - 1), top - 1, (size(4) + top) // 2}
    for budget in sorted(budgets):
        probed: list[int] = []
        try:
            k = largest_fitting(lambda k: probed.append(k) or size(k), budget, "qnt", max_k).k
        except TargetMissed:
            k = None
        assert k == doubling_search(size, budget, max_k), budget
        if budget >= top:
            assert probed == [max_k]


def test_max_bytes_takes_k1_below_k2_and_names_the_smallest_size_below_that(photo_path, tmp_path,
                                                                           capsys):
    flat, two = qnt_bytes(photo_path, 1), qnt_bytes(photo_path, 2)
    assert flat < two
    res = CliRunner().invoke(cli, ["compress", str(photo_path), "-o", str(tmp_path / "flat"),
                                   "--max-bytes", str(two - 1), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["k"] == 1 and (tmp_path / "flat" / "photo.qnt").stat().st_size == flat
    with pytest.raises(SystemExit) as exit_:
        main(["compress", str(photo_path), "-o", str(tmp_path / "o"), "--max-bytes",
              str(flat - 1)])
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert err.count("\n") == 1 and f"at K=1, takes {flat:,} B" in err
    assert not (tmp_path / "o").exists()


def test_batch_writes_every_format_and_records_its_size(photo_path, tmp_path):
    res = CliRunner().invoke(cli, ["batch", str(photo_path), "-o", str(tmp_path / "out"), "-k", "8",
                                   "-j", "1", "--format", "qnt,webp"])
    assert res.exit_code == 0, res.output
    row = json.loads((tmp_path / "out" / "manifest.json").read_text())["rows"][0]
    webp = tmp_path / "out" / "photo.preview.webp"
    assert row["webp_bytes"] == webp.stat().st_size and row["webp_sha256"]
    assert row["packed_file_bits_per_pixel"] > 0


def test_batch_takes_the_encoders_efforts_as_compress_does(photo_path, tmp_path):
    """batch had no --png-effort or --webp-method: its images were always written at the defaults."""
    sizes = {}
    for effort, method in (("0", "0"), ("2", "6")):
        out = tmp_path / method
        res = CliRunner().invoke(cli, ["batch", str(photo_path), "-o", str(out), "-k", "16", "-j", "1",
                                       "--format", "qnt,png,webp", "--png-effort", effort,
                                       "--webp-method", method])
        assert res.exit_code == 0, res.output
        row = json.loads((out / "manifest.json").read_text())["rows"][0]
        sizes[method] = (row["preview_bytes"], row["webp_bytes"])
        assert np.array_equal(decoded(out / "photo.preview.webp"), decoded(out / "photo.preview.png"))
    assert sizes["6"][0] < sizes["0"][0] and sizes["6"][1] < sizes["0"][1]
    res = CliRunner().invoke(cli, ["batch", str(photo_path), "-o", str(tmp_path / "x"),
                                   "--webp-method", "6"])
    assert res.exit_code == 2 and "--webp-method applies to --format webp" in res.output
    assert not (tmp_path / "x").exists()


def test_raw_and_rgb565_options_reach_the_files(photo_path, tmp_path):
    from quantize.io.exports import index_bits, raw_indices, rgb565

    res = CliRunner().invoke(cli, ["compress", str(photo_path), "-k", "8", "-o", str(tmp_path),
                                   "--format", "qnt,raw,rgb565", "--raw-bit-order", "lsb",
                                   "--raw-rows", "packed", "--rgb565-endian", "big", "-q"])
    assert res.exit_code == 0, res.output
    packed = container.load(tmp_path / "photo.qnt")
    bits = index_bits(packed.header.k)
    assert (tmp_path / "photo.raw").read_bytes() == raw_indices(packed.indices, bits, msb_first=False,
                                                                 row_padding=False)
    assert (tmp_path / "photo.rgb565").read_bytes() == rgb565(packed.palette, packed.indices,
                                                              big_endian=True)
    assert rgb565(packed.palette, packed.indices, big_endian=True) != \
        rgb565(packed.palette, packed.indices)


def test_batch_takes_the_raw_and_rgb565_layouts_as_compress_does(photo_path, tmp_path, capsys):
    """--raw-bit-order, --raw-rows and --rgb565-endian were compress's only: batch wrote every raw
    file MSB-first with padded rows and every RGB565 file little-endian."""
    from quantize.io.exports import index_bits, raw_indices, rgb565

    out = tmp_path / "out"
    layout = ["--raw-bit-order", "lsb", "--raw-rows", "packed", "--rgb565-endian", "big"]
    res = CliRunner().invoke(cli, ["batch", str(photo_path), "-o", str(out), "-k", "8", "-j", "1",
                                   "--format", "qnt,raw,rgb565", *layout, "-q"])
    assert res.exit_code == 0, res.output
    packed = container.load(out / "photo.qnt")
    assert (out / "photo.raw").read_bytes() == raw_indices(
        packed.indices, index_bits(packed.header.k), msb_first=False, row_padding=False)
    assert (out / "photo.rgb565").read_bytes() == rgb565(packed.palette, packed.indices,
                                                         big_endian=True)
    with pytest.raises(SystemExit) as exc:  # the layouts decide the files: the defaults are another run
        main(["batch", str(photo_path), "-o", str(out), "-k", "8", "-j", "1",
              "--format", "qnt,raw,rgb565", "--resume", "-q"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "other options (--raw-bit-order lsb, now msb; --raw-rows " \
                                   "packed, now padded; --rgb565-endian big, now little)" in err, err
    for args, words in ((["--rgb565-endian", "big"], "--rgb565-endian applies to --format rgb565"),
                        (["--raw-rows", "packed", "--raw-bit-order", "lsb"],
                         "--raw-bit-order and --raw-rows apply to --format raw")):
        res = CliRunner().invoke(cli, ["batch", str(photo_path), "-o", str(tmp_path / "x"), *args])
        assert res.exit_code == 2 and words in res.output, res.output
    assert not (tmp_path / "x").exists()


@pytest.mark.parametrize("args, words", [((), "not a fit"), (("--shared-palette",), "not a fit"),
                                         (("--palette-from", "acep7"), "not one of 7 colours")])
def test_batch_raw_rows_pages_needs_a_two_colour_palette(photo_path, tmp_path, args, words):
    """As compress: a fitted pair comes in no set order, and a page holds 1 bit a pixel."""
    res = CliRunner().invoke(cli, ["batch", str(photo_path), "-o", str(tmp_path / "x"), *args,
                                   "--format", "raw", "--raw-rows", "pages"])
    assert res.exit_code == 2, res.output
    assert "--raw-rows pages needs a --palette-from of 2 colours in the panel's order (bw: black 0, " \
           f"white 1 lit), {words}" in res.output, res.output
    assert not (tmp_path / "x").exists()


def test_batch_reads_the_palette_from_file_once(tmp_path, monkeypatch):
    """--raw-rows planes read --palette-from twice, once to check its size and once to run."""
    from quantize.io.palettes import builtin

    reads = []
    find = builtin.find_palette
    monkeypatch.setattr(builtin, "find_palette", lambda spec: reads.append(spec) or find(spec))
    (tmp_path / "in").mkdir()
    Image.new("RGB", (3, 2), "red").save(tmp_path / "in" / "tag.png")
    (tmp_path / "bwr.gpl").write_text("GIMP Palette\nName: p\n#\n0 0 0 black\n255 255 255 "
                                      "white\n255 0 0 red\n")
    res = CliRunner().invoke(cli, ["batch", str(tmp_path / "in"), "-o", str(tmp_path / "out"),
                                   "--palette-from", str(tmp_path / "bwr.gpl"), "--format", "raw",
                                   "--raw-rows", "planes", "-j", "1", "-q"])
    assert res.exit_code == 0, res.output
    assert reads == [tmp_path / "bwr.gpl"]
    assert (tmp_path / "out" / "tag.raw").read_bytes() == bytes([0xFF, 0xFF, 0x1F, 0x1F])


def test_batch_raw_rows_pages_writes_oled_buffers(tmp_path):
    pixels = np.zeros((9, 3, 3), np.uint8)
    pixels[0, 0] = pixels[8, 2] = 255  # white is bw's index 1: a lit OLED pixel
    (tmp_path / "in").mkdir()
    Image.fromarray(pixels).save(tmp_path / "in" / "oled.png")
    res = CliRunner().invoke(cli, ["batch", str(tmp_path / "in"), "-o", str(tmp_path / "out"),
                                   "--palette-from", "bw", "--format", "raw", "--raw-rows", "pages",
                                   "-j", "1", "-q"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "out" / "oled.raw").read_bytes() == bytes([0x01, 0, 0, 0, 0, 0x01])


def test_batch_raw_rows_planes_writes_tri_colour_buffers(tmp_path):
    """Black, white, red: the black plane then the red, 0 where the ink is (Waveshare's EPD_*b)."""
    pixels = np.array([[[0, 0, 0], [255, 255, 255], [255, 0, 0]]], np.uint8)
    (tmp_path / "in").mkdir()
    Image.fromarray(pixels).save(tmp_path / "in" / "label.png")
    planes = ["--format", "raw", "--raw-rows", "planes"]
    res = CliRunner().invoke(cli, ["batch", str(tmp_path / "in"), "-o", str(tmp_path / "out"),
                                   "--palette-from", "bwr", *planes, "-j", "1", "-q"])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "out" / "label.raw").read_bytes() == bytes([0x7F, 0xDF])
    res = CliRunner().invoke(cli, ["batch", str(tmp_path / "in"), "-o", str(tmp_path / "x"),
                                   "--palette-from", "acep7", *planes])
    assert res.exit_code == 2 and "--raw-rows planes needs a --palette-from of 3 colours, or 2 with no " \
                                   "red, in the panel's order" in res.output


def test_a_gif_run_counts_the_colours_of_the_image_given(tmp_path):
    """The report's first line, the input's size and colours, counted the colours left once a
    GIF's all-or-nothing alpha was applied: the bundled logo showed fewer colours with gif in
    --format than without."""
    plain, gif = (compress_file(LOGO, tmp_path / formats, formats=formats,
                                options=CompressOptions(fit=FitOptions(k=8)))
                  for formats in ("png", "gif"))
    assert gif.n_colors == plain.n_colors


def test_quantize_image_refuses_a_loaded_image_of_another_size():
    """quantize_image(loaded=...) of another size failed deep in the metrics with a ValueError
    about shapes; it is one ParameterError naming both sizes, as the library's other checks."""
    from quantize.io.images import image_from_array

    image = image_from_array(np.zeros((4, 6, 3), np.uint8))
    for loaded, says in ((image_from_array(np.zeros((6, 4, 4), np.uint8)), "not 4x6"),
                         ("photo.png", "not a str")):
        with pytest.raises(ParameterError, match=f"of its 6x4 pixels, {says}"):
            quantize_image(image, CompressOptions(fit=FitOptions(k=2)), loaded=loaded)


def test_a_gif_run_sizes_the_raw_pixels_of_the_image_given(tmp_path):
    """A grey image at alpha 200 everywhere, made opaque for a GIF, was sized as 1 byte a raw
    pixel (8 / bits, the classic ratio of an opaque grey image), though it was loaded as grey and
    alpha, 2 bytes, as the same run without gif says."""
    grey = np.tile(np.arange(0, 256, 4, dtype=np.uint8), (16, 1))
    Image.fromarray(np.dstack([grey, np.full_like(grey, 200)]), "LA").save(tmp_path / "veil.png")
    plain, gif = (compress_file(tmp_path / "veil.png", tmp_path / formats, formats=formats,
                                options=CompressOptions(fit=FitOptions(k=4)))
                  for formats in ("png", "gif"))
    assert gif.raw_bytes == plain.raw_bytes == 2 * grey.size
    assert gif.ratio == plain.ratio


def test_a_budget_that_keeps_every_colour_does_not_say_a_larger_k_may_fit(tmp_path):
    """--max-bytes on a 2-colour drawing, well within the budget, said "K=256 is the largest
    searched, a larger K may fit too", though every K from 2 up writes the same file; the reason
    now says the colours are all kept."""
    from quantize.jobs.sweep import search_bytes

    lines = np.full((24, 32, 3), 255, np.uint8)
    lines[::5] = 0
    Image.fromarray(lines).save(tmp_path / "lines.png")
    budget = search_bytes(load_image(tmp_path / "lines.png"), 10**6, max_k=256)
    assert budget.k == 256 and "a larger K may fit" not in budget.pick.reason
    assert "; K=256 keeps all the image's 2 colours: a larger K writes the same file" \
        in budget.pick.reason
