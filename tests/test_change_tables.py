"""Change tables: a patch moving over a still photo, coded so that what stays on screen is served
first (quantize.animation.refine)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter

from quantize.animation.palettes import scan_clip
from quantize.animation.qntanim import decode_animation
from quantize.animation.refine import on_screen, takes_change_tables
from quantize.animation.run import AnimationOptions, animate
from quantize.animation.source import Clip, Frame
from quantize.core.fitting import FitOptions

IMAGES = Path(__file__).resolve().parents[1] / "test_images"


def patch_frames(n: int = 12) -> list[np.ndarray]:
    """A crop of the bundled parrots with a crop of the bundled motocross moving over it."""
    background = np.asarray(Image.open(IMAGES / "parrots.png").convert("RGB"))[40:168, 60:252]
    patch = np.asarray(Image.open(IMAGES / "motocross.jpg").convert("RGB"))[60:92, 100:148]
    frames = []
    for t in range(n):
        frame = background.copy()
        x, y = (4 + 10 * t) % 140, 40 + int(20 * np.sin(t / 3))
        frame[y:y + 32, x:x + 48] = patch
        frames.append(frame)
    return frames


def pan_frames(n: int = 8) -> list[np.ndarray]:
    photo = np.asarray(Image.open(IMAGES / "parrots.png").convert("RGB"))
    return [np.ascontiguousarray(photo[10:90, 5 * t:5 * t + 120]) for t in range(n)]


def fade_frames(hold: int = 3, fade: int = 10) -> list[np.ndarray]:
    """The bundled parrots held, cross-faded to the bundled motocross, that held."""
    a = np.asarray(Image.open(IMAGES / "parrots.png").convert("RGB"))[:96, :128].astype(float)
    b = np.asarray(Image.open(IMAGES / "motocross.jpg").convert("RGB"))[:96, :128].astype(float)
    weights = [0.0] * hold + [(t + 1) / fade for t in range(fade)] + [1.0] * (hold - 1)
    return [np.rint(a * (1 - w) + b * w).astype(np.uint8) for w in weights]


def as_clip(frames: list[np.ndarray]) -> Clip:
    return Clip("c", "test", 0, lambda: iter([Frame(f, 40) for f in frames]))


def options(k: int = 256, **kwargs) -> AnimationOptions:
    return AnimationOptions(fit=FitOptions(k=k), **kwargs).validated()


def test_on_screen_counts_the_frames_each_pixel_stays():
    rng = np.random.default_rng(3)
    frames = [rng.integers(0, 2, (5, 7, 3), dtype=np.uint8) * 200 for _ in range(9)]
    for t in range(1, 9):  # most pixels hold for a while
        hold = rng.random((5, 7)) < 0.7
        frames[t][hold] = frames[t - 1][hold]
    seen = list(on_screen([Frame(f, 10) for f in frames], depth=4))
    assert len(seen) == 9 and seen[0][1] is None
    for t, (frame, changed, stay, ahead) in enumerate(seen):
        assert frame.pixels is frames[t]
        assert [later.pixels for later in ahead] == frames[t + 1:t + 4]
        if t:
            assert np.array_equal(changed, np.any(frames[t] != frames[t - 1], axis=2))
        for y in range(5):
            for x in range(7):
                count = 1
                while count < 4 and t + count < 9 and \
                        np.array_equal(frames[t + count][y, x], frames[t][y, x]):
                    count += 1
                assert stay[y, x] == count, (t, y, x)


def test_a_changed_pixel_that_never_changes_again_stays_to_the_clips_end(monkeypatch):
    """Later frames weigh each changed pixel by its frames on screen: up to the look-ahead when
    it changes again, to the end of the clip when the first pass saw it never does."""
    import quantize.animation.refine as refine

    seen = {}
    changed_frame = refine.ChangeTables._changed

    def recording(self, number, pixels, changed, stay, *args):
        seen[number] = changed.copy(), stay.copy()
        return changed_frame(self, number, pixels, changed, stay, *args)

    monkeypatch.setattr(refine.ChangeTables, "_changed", recording)
    frames = patch_frames(14)
    animate(as_clip(frames), options(formats=("gif",)))
    n = len(frames)
    moves = [np.any(b != a, axis=2) for a, b in zip(frames, frames[1:])]  # moves[g - 1]: at g
    assert sorted(seen) == list(range(1, n))
    for t, (changed, stay) in seen.items():
        expected = np.full(changed.shape, n - t)
        for g in range(n - 1, t, -1):  # the first change after t wins
            expected[moves[g - 1]] = min(g - t, refine.LOOKAHEAD)
        assert np.array_equal(stay[changed], expected[changed]), t
        assert (stay[changed] > refine.LOOKAHEAD).any() == (t < n - refine.LOOKAHEAD)


def test_the_first_frames_indices_are_chosen_for_lzw_within_its_tolerance(monkeypatch):
    """A pixel of the first frame may show another colour than its nearest where LZW then codes
    fewer codes, its squared error at most the tolerance of a whole-picture change (a moving
    patch holds no picture: the motion one) over its frames on screen above the nearest's; the
    palette it chose from is then centred on those choices."""
    import quantize.animation.refine as refine
    from quantize.io.formats import gif_lzw_blocks
    from quantize.core.colorstats import color_stats
    from quantize.core.mapping import map_pixels

    fitted = []  # the palette each centring starts from
    centre = refine.centred
    monkeypatch.setattr(refine, "centred", lambda palette, *args: fitted.append(palette)
                        or centre(palette, *args))
    frames = patch_frames()
    result = animate(as_clip(frames), options(formats=("gif",)))
    first = Image.open(io.BytesIO(result.outputs["gif"]))
    chosen, source, palette = np.asarray(first), frames[0], fitted[0]
    nearest = map_pixels(source, color_stats(source).in_space("rgb+lab"), palette)

    def error(indices):
        return ((palette[indices].astype(float) - source) ** 2).sum(axis=2)

    stay = scan_clip(as_clip(frames).frames()).first_change
    allowed = refine.MOTION_TOLERANCE * error(nearest).mean()
    assert (error(chosen) <= error(nearest) + allowed / stay + 1e-9).all()
    assert (chosen != nearest).mean() > 0.01
    assert len(gif_lzw_blocks(chosen)) < len(gif_lzw_blocks(nearest))
    shown = np.asarray(first.getpalette(), np.uint8).reshape(-1, 3)[:len(palette)]
    assert np.array_equal(shown, centre(palette, chosen.ravel(), source.reshape(-1, 3)
                                        .astype(float), stay.ravel().astype(float)))


@pytest.mark.parametrize("frames,chosen,why", [
    (patch_frames(), options(), True),
    (fade_frames(), options(), True),  # a transition between held pictures
    (pan_frames(), options(), True),  # the whole picture moves
    (fade_frames() + [255 - fade_frames()[-1]], options(), False),  # and a scene cut
    (patch_frames(), options(dither="ordered"), False),
    (patch_frames(), options(k=8), False),
    (patch_frames(), options(palette_mode="global"), False),
    ([f // 64 * 64 for f in patch_frames()], options(), False),  # 31 colours: exact in one palette
    ([f // 64 * 64 for f in patch_frames()], options(k=16), True),
])
def test_which_clips_take_change_tables(frames, chosen, why):
    scan = scan_clip(as_clip(frames).frames())
    assert takes_change_tables(scan, chosen.palette_mode, chosen.dither, chosen.fit) is why


@pytest.mark.parametrize("make", [patch_frames, pan_frames, fade_frames])
def test_a_clip_of_at_most_k_colours_gets_one_palette_of_exactly_them(make):
    """Re-coding a GIF whose frames share one palette (here of at most 64 colours) is lossless
    at K = 64, whatever the motion; the fade has parts (held, fading, held) that would each
    fit their own."""
    frames = [f // 64 * 64 for f in make()]
    assert len(np.unique(np.concatenate([f.reshape(-1, 3) for f in frames]), axis=0)) <= 64
    result = animate(as_clip(frames), options(k=64, formats=("gif", "png")))
    assert result.n_palettes == 1 and result.psnr == [100.0] * len(result.psnr)
    im = Image.open(io.BytesIO(result.outputs["gif"]))
    shown = []
    for t in range(im.n_frames):
        im.seek(t)
        shown.append(np.asarray(im.convert("RGB")))
    distinct = [f for t, f in enumerate(frames) if t == 0 or not np.array_equal(f, frames[t - 1])]
    assert len(shown) == len(distinct)
    assert all(np.array_equal(a, b) for a, b in zip(shown, distinct))


def test_change_tables_raise_the_psnr_of_a_moving_patch_without_flicker():
    frames = patch_frames()
    tables = animate(as_clip(frames), options(formats=("gif",)))
    one = animate(as_clip(frames), options(formats=("gif",), palette_mode="global"))
    assert tables.n_palettes == len(frames) and one.n_palettes == 1
    assert tables.flicker == 0.0 == one.flicker
    assert tables.mean_psnr > one.mean_psnr + 0.5


def test_a_frame_changing_part_of_the_picture_fits_its_table_to_what_stays(monkeypatch):
    """Each later frame of a moving patch fits one table of K - 1 colours to the pixels it
    changes, each weighted by its frames on screen; the first frame fits the whole picture so."""
    import quantize.animation.refine as refine

    calls = []  # ("stay", changed, stay) from each changed frame, ("fit", pixels, weights)
    changed_frame, weighted = refine.ChangeTables._changed, refine.weighted_stats

    def recording_frame(self, number, pixels, changed, stay, *args):
        calls.append(("stay", changed.copy(), stay.copy()))
        return changed_frame(self, number, pixels, changed, stay, *args)

    def recording_fit(pixels, weights):
        calls.append(("fit", pixels.copy(), np.asarray(weights).copy()))
        return weighted(pixels, weights)

    monkeypatch.setattr(refine.ChangeTables, "_changed", recording_frame)
    monkeypatch.setattr(refine, "weighted_stats", recording_fit)
    frames = patch_frames(6)
    result = animate(as_clip(frames), options(formats=("gif",)))
    assert result.n_palettes == len(frames)
    first, *later = calls
    assert first[0] == "fit" and np.array_equal(first[1], frames[0].reshape(-1, 3))
    assert np.array_equal(first[2], scan_clip(as_clip(frames).frames()).first_change.ravel())
    assert [kind for kind, _, _ in later] == ["stay", "fit"] * (len(frames) - 1)
    for t, ((_, changed, stay), (_, pixels, weights)) in enumerate(zip(later[::2], later[1::2]), 1):
        assert np.array_equal(pixels, frames[t][changed])
        assert np.array_equal(weights, stay[changed])
        assert (weights > 1).any() == (t < len(frames) - 1)  # what the patch uncovers stays


@pytest.mark.parametrize("repeat,warm", [(False, [False, True, True, True, True]),
                                         (True, [False, True, False, True, True])])
def test_a_patch_frames_table_starts_from_the_frame_befores(monkeypatch, repeat, warm):
    """A table is fitted from the frame before's table and one seeded start when that frame had
    a table of its own; after a held frame, afresh with the seeded starts."""
    import quantize.animation.refine as refine

    fits = []  # each table's fit: (its warm start, its seeded starts, the palette)

    def recording(stats, fit):
        palette = fit_colors(stats, fit)
        if fit.k == 255:
            fits.append((fit.init_centers, fit.max_starts, palette))
        return palette

    fit_colors = refine.fit_colors
    monkeypatch.setattr(refine, "fit_colors", recording)
    frames = patch_frames(6)
    if repeat:  # the patch holds a frame: the next frame's table starts afresh
        frames.insert(3, frames[2])
    animate(as_clip(frames), options(formats=("gif",)))
    assert [init is not None for init, _, _ in fits] == warm
    for (init, starts, _), (_, _, before) in zip(fits[1:], fits):
        if init is None:
            assert starts == refine.TABLE_STARTS
        else:
            assert starts == 1 and np.array_equal(init, before)


def test_centred_moves_each_chosen_colour_to_its_pixels_weighted_mean():
    from quantize.animation.refine import centred

    palette = np.array([[0, 0, 0], [100, 100, 100], [200, 10, 10]], np.uint8)
    pixels = np.array([[10, 20, 30], [20, 40, 60], [90, 90, 90], [7, 7, 7]], float)
    indices = np.array([0, 0, 3, 1])  # 3: no colour of this palette (a kept pixel)
    weights = np.array([3.0, 1.0, 5.0, 2.0])
    out = centred(palette, indices, pixels, weights)
    assert out.dtype == np.uint8
    assert out[0].tolist() == [12, 25, 38]  # (3 * 10 + 20) / 4, ... rounded
    assert out[1].tolist() == [7, 7, 7] and out[2].tolist() == [200, 10, 10]  # unused: as it was


def test_centred_never_raises_the_weighted_error_of_the_same_indices():
    from quantize.animation.refine import centred

    rng = np.random.default_rng(3)
    for _ in range(20):
        palette = rng.integers(0, 256, (16, 3)).astype(np.uint8)
        pixels = rng.integers(0, 256, (500, 3)).astype(float)
        indices, weights = rng.integers(0, 17, 500), rng.integers(1, 48, 500).astype(float)

        def error(colors):
            mine = indices < 16
            diff = colors[indices[mine]].astype(float) - pixels[mine]
            return float((weights[mine] * (diff ** 2).sum(axis=1)).sum())

        assert error(centred(palette, indices, pixels, weights)) <= error(palette)


def test_a_table_is_chosen_again_from_colours_centred_on_its_choice(monkeypatch):
    """A table's frame chooses its indices, centres its colours on the pixels that chose them
    (weighted by their frames on screen), chooses again from those and centres once more; the
    frame shows that last palette. The first frame's palette is centred once."""
    import quantize.animation.refine as refine

    calls = []  # ("centre", palette in, weights, palette out), ("frame", number, changed, stay)
    centre = refine.centred

    def recording_centre(palette, indices, pixels, weights):
        out = centre(palette, indices, pixels, weights)
        calls.append(("centre", palette.copy(), weights.copy(), out))
        return out

    changed_frame = refine.ChangeTables._changed
    shown = []

    def recording_frame(self, number, pixels, changed, stay, *args):
        calls.append(("frame", number, changed.copy(), stay.copy()))
        frame = changed_frame(self, number, pixels, changed, stay, *args)
        shown.append(frame)
        return frame

    monkeypatch.setattr(refine, "centred", recording_centre)
    monkeypatch.setattr(refine.ChangeTables, "_changed", recording_frame)
    frames = patch_frames(5)
    result = animate(as_clip(frames), options(formats=("gif",)))
    assert result.n_palettes == len(frames)
    assert [c[0] for c in calls] == ["centre"] + ["frame", "centre", "centre"] * 4
    first_stay = scan_clip(as_clip(frames).frames()).first_change.ravel()
    assert np.array_equal(calls[0][2], first_stay) and len(calls[0][1]) == 256
    for t in range(4):
        _, number, changed, stay = calls[1 + 3 * t]
        (_, first_in, weights, first_out), (_, second_in, _, last) = calls[2 + 3 * t:4 + 3 * t]
        assert number == t + 1 and len(first_in) == 255
        assert not np.array_equal(first_in, first_out)  # the colours moved
        assert np.array_equal(second_in, first_out)  # and were chosen from again
        assert np.array_equal(shown[t].palette, last)
        rect = refine.bounding_rect(changed)
        assert np.array_equal(weights, stay[rect].ravel())


def _pan_tolerances(monkeypatch, frames: list[np.ndarray]) -> tuple[list[float], list[float]]:
    """Each LZW choice of ``frames``' GIF: the largest tolerance of a changed pixel, and the
    motion tolerance times the mean squared error of the changed pixels' preferred colours."""
    import quantize.animation.refine as refine
    import quantize.core.kernels.lzw as lzw

    largest, expected = [], []
    choose = lzw.lzw_choose

    def spy(preferred, targets, table, n_colors, clear, kept, tolerance, min_size):
        changed = tolerance >= 0
        error = ((table[preferred[changed]] - targets[changed]) ** 2).sum(axis=1)
        largest.append(float(tolerance[changed].max()))
        expected.append(refine.MOTION_TOLERANCE * float(error.mean()))
        return choose(preferred, targets, table, n_colors, clear, kept, tolerance, min_size)

    monkeypatch.setattr(lzw, "lzw_choose", spy)
    result = animate(as_clip(frames), options(formats=("gif",)))
    assert result.n_palettes == 3 and result.flicker == 0.0  # frame 0's, frames 1-8's, 9's
    return largest, expected


def test_a_pans_pixels_may_each_lose_a_multiple_of_their_frames_error(monkeypatch):
    """Whole-picture motion that never holds a picture: a changed pixel may take a colour up to
    MOTION_TOLERANCE times its frame's mean squared error (the changed pixels to their nearest
    colours) worse, over its frames on screen; so a smoother picture may lose less."""
    frames = pan_frames(10)
    largest, expected = _pan_tolerances(monkeypatch, frames)
    assert len(largest) == 10 and np.allclose(largest, expected, rtol=1e-9)
    smooth = [np.asarray(Image.fromarray(f).filter(ImageFilter.BoxBlur(3))) for f in frames]
    smooth_largest, smooth_expected = _pan_tolerances(monkeypatch, smooth)
    assert np.allclose(smooth_largest, smooth_expected, rtol=1e-9)
    assert all(a < b for a, b in zip(smooth_largest, largest))


def test_a_fade_gets_palettes_that_follow_it():
    frames = fade_frames()
    tables = animate(as_clip(frames), options(formats=("gif",)))
    one = animate(as_clip(frames), options(formats=("gif",), palette_mode="global"))
    # the first picture, a palette for each 8 fading frames (fitted to them), the last one's
    assert 3 <= tables.n_palettes <= 4 and tables.flicker == 0.0 == one.flicker
    assert tables.mean_psnr > one.mean_psnr + 1.0
    runs = [1]  # repeated source frames merge, their durations summed
    for a, b in zip(frames, frames[1:]):
        runs[-1:] = [runs[-1] + 1] if np.array_equal(a, b) else [runs[-1], 1]
    assert tables.durations == [40 * n for n in runs] and runs[0] == runs[-1] == 3


@pytest.mark.parametrize("make", [patch_frames, fade_frames], ids=["patch", "fade"])
def test_every_format_shows_the_same_frames_and_still_pixels_hold(tmp_path, make):
    frames = make()[:6] if make is patch_frames else make()
    result = animate(as_clip(frames), options(k=64, formats=("gif", "png", "webp", "qnt")))
    assert result.n_palettes > 2 and sum(result.durations) == 40 * len(frames)
    shown, seen = {}, []
    for name in ("gif", "png", "webp"):
        path = tmp_path / f"o.{name}"
        path.write_bytes(result.outputs[name])
        im = Image.open(path)
        shown[name] = []
        for i in range(im.n_frames):
            im.seek(i)
            shown[name].append(np.asarray(im.convert("RGB")))
            if name == "gif":  # each source frame's picture, merged frames repeated
                seen.extend([shown[name][-1]] * (im.info["duration"] // 40))
    shown["qnt"] = list(decode_animation(result.outputs["qnt"]).frames())
    assert len({len(f) for f in shown.values()}) == 1
    for t in range(len(shown["gif"])):
        assert all(np.array_equal(shown["gif"][t], shown[name][t]) for name in shown)
    assert len(seen) == len(frames)
    for t in range(1, len(frames)):  # a pixel whose source held shows the same colour
        held = np.all(frames[t] == frames[t - 1], axis=2)
        assert np.array_equal(seen[t][held], seen[t - 1][held])


def test_same_bytes_whatever_the_threads(tmp_path):
    source = tmp_path / "c.png"
    images = [Image.fromarray(f) for f in patch_frames(8)]
    images[0].save(source, save_all=True, append_images=images[1:], duration=40, loop=0)
    outputs = []
    for threads in ("1", "2"):
        out = tmp_path / f"t{threads}"
        done = subprocess.run([sys.executable, "-m", "quantize", "animate", source, "-o", out,
                               "--format", "gif,png,webp,qnt", "--seed", "7"], capture_output=True,
                              text=True, env={**os.environ, "NUMBA_NUM_THREADS": threads},
                              timeout=300)
        assert done.returncode == 0, done.stderr
        assert "8 palettes" in done.stdout  # the clip took change tables
        outputs.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert outputs[0] == outputs[1] and len(outputs[0]) == 4
