"""Animations: reading clips, stable mapping, the four writers, the command and its errors."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import quantize
from quantize.animation.choices import DITHERS as ANIMATION_DITHERS
from quantize.animation.palettes import scan_clip
from quantize.animation.qntanim import decode_animation
from quantize.animation.run import AnimationOptions, animate, unpack
from quantize.animation.source import Clip, Frame, open_clip
from quantize.errors import FormatError, InputError, ParameterError
from quantize.jobs.sweep_model import Target

W, H = 40, 24


def clip_frames(n: int = 6, seed: int = 1) -> list[np.ndarray]:
    """A noisy still background with a bright square moving over it, one step per frame."""
    rng = np.random.default_rng(seed)
    background = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    frames = []
    for t in range(n):
        frame = background.copy()
        frame[4:12, 3 + 4 * t:11 + 4 * t] = (250, 30 + 20 * t, 40)
        frames.append(frame)
    return frames


def save_apng(path: Path, frames: list[np.ndarray], durations: list[int], loop: int) -> Path:
    images = [Image.fromarray(f) for f in frames]
    images[0].save(path, save_all=True, append_images=images[1:], duration=durations, loop=loop)
    return path


def decoded(path: Path) -> tuple[list[np.ndarray], list[int], int | None]:
    """Every frame of an animated file as Pillow shows it (RGB), the durations and the loop."""
    im = Image.open(path)
    frames, durations = [], []
    for i in range(im.n_frames):
        im.seek(i)
        frames.append(np.asarray(im.convert("RGB")))
        durations.append(int(im.info.get("duration", 0)))
    return frames, durations, im.info.get("loop")


def run(*args: object, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "quantize", *map(str, args)], capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=300)


def bordered() -> list[np.ndarray]:
    """Six frames of a square changing colour in place over a still background, at the top left
    of a canvas 8 pixels wider and taller whose rest stays transparent (a GIF of opaque frames
    on a larger logical screen): no frame libwebp codes has a transparent pixel. 14 colours."""
    background = clip_frames(1)[0] // 128 * 128 + 64
    out = []
    for t in range(6):
        canvas = np.zeros((H + 8, W + 8, 4), np.uint8)
        canvas[:H, :W, :3], canvas[:H, :W, 3] = background, 255
        canvas[4:12, 4:12, :3] = (250, 30 + 20 * t, 40)  # at even offsets, as libwebp puts them
        out.append(canvas)
    return out


@pytest.mark.parametrize("border", [False, True], ids=["opaque", "transparent border"])
def test_formats_decode_to_identical_frames_with_durations_and_loop(tmp_path, border):
    """Every format shows the same frames; the WebP of a clip whose transparent border no frame
    covers had its alpha flag off (libwebp crops frames to their opaque pixels), the border
    decoding opaque black."""
    frames = bordered() if border else clip_frames()
    durations = [40, 60, 80, 100, 120, 140]
    source = save_apng(tmp_path / "clip.png", frames, durations, loop=3)
    out = tmp_path / "out"
    done = run("animate", source, "-o", out, "--format", "qnt,gif,png,webp", "-k", "16", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["frames_read"] == report["frames_written"] == 6
    assert report["durations_ms"] == durations and report["flicker"] == 0.0
    gif, gif_durations, gif_loop = decoded(out / "clip.anim.gif")
    png, png_durations, png_loop = decoded(out / "clip.anim.png")
    webp, webp_durations, webp_loop = decoded(out / "clip.anim.webp")
    qnt = decode_animation((out / "clip.anim.qnt").read_bytes())
    qnt_frames = list(qnt.frames())
    assert len(gif) == len(png) == len(webp) == len(qnt_frames) == 6
    shown = [decoded_rgba(out / f"clip.anim.{ext}") for ext in ("gif", "png", "webp")]
    for a, b, c, d, source in zip(*shown, qnt_frames, frames):
        d = d if d.shape[2] == 4 else np.dstack([d, np.full(d.shape[:2], 255, np.uint8)])
        assert np.array_equal(a, b) and np.array_equal(a, c) and np.array_equal(a, d)
        assert np.array_equal(a[..., 3], source[..., 3] if border else np.full((H, W), 255))
    assert gif_durations == png_durations == webp_durations == list(qnt.durations) == durations
    assert gif_loop == 2 and png_loop == webp_loop == qnt.plays == 3  # GIF counts repeats
    # what was not covered by the square never changes
    still = np.ones(gif[0].shape[:2], bool)
    still[4:12] = False
    assert all(np.array_equal(f[still], gif[0][still]) for f in gif)


def test_gif_frames_are_the_changed_rectangles(tmp_path):
    frames = clip_frames()
    result = animate(open_clip(save_apng(tmp_path / "c.png", frames, [50] * 6, 0)),
                     AnimationOptions(formats=("gif",)))
    (tmp_path / "c.gif").write_bytes(result.outputs["gif"])
    im = Image.open(tmp_path / "c.gif")
    im.seek(2)  # the square moved from x 7..15 to 11..19: 12 columns of rows 4..12 changed
    assert im.dispose_extent == (7, 4, 19, 12)


def test_a_transparent_clip_gif_draws_rectangles_and_clears_what_turns_transparent(tmp_path):
    """A square moving over a transparent background beside a still patch: a frame is cleared
    (disposal 2, with a transparent index so that Pillow and ffmpeg clear it as browsers do)
    where the next turns pixels transparent, and the next draws only what its clearing took and
    what changed (GIF clears a frame's whole rectangle: the patch, once in one, is redrawn);
    every frame shows as the source does."""
    frames = []
    for t in range(5):
        rgba = np.zeros((H, W, 4), np.uint8)
        rgba[4:12, 3 + 4 * t:11 + 4 * t] = (200, 60, 30, 255)
        rgba[16:20, 30:36] = (20, 90, 220, 255)  # a still opaque patch
        frames.append(rgba)
    result = animate(save_apng(tmp_path / "s.png", frames, [50] * 5, 0),
                     AnimationOptions(formats=("gif",), fit=_fit(8)))
    data = result.outputs["gif"]
    controls = [data[m.start() + 3] for m in re.finditer(b"\x21\xf9\x04", data)]
    assert len(controls) == len(frames)
    assert all(flags >> 2 & 7 == 2 and flags & 1 for flags in controls[:-1])
    im = Image.open(io.BytesIO(data))
    for t, frame in enumerate(frames):
        im.seek(t)
        assert im.dispose_extent == ((0, 0, W, H) if t == 0 else (3 + 4 * t, 4, 36, 20))
        rgba = np.asarray(im.convert("RGBA"))
        assert np.array_equal(rgba[..., 3], frame[..., 3])
        opaque = frame[..., 3] > 0
        assert np.array_equal(rgba[opaque], frame[opaque])


def test_unchanged_pixels_keep_their_index_with_a_threshold_dither(tmp_path):
    frames = clip_frames()
    source = save_apng(tmp_path / "c.png", frames, [50] * 6, 0)
    for dither in ANIMATION_DITHERS[1:]:
        result = animate(source, AnimationOptions(formats=("png",), dither=dither))
        assert result.flicker == 0.0
        (tmp_path / "o.png").write_bytes(result.outputs["png"])
        shown, _, _ = decoded(tmp_path / "o.png")
        assert all(np.array_equal(f[13:], shown[0][13:]) for f in shown)


def test_duplicate_frames_merge_with_durations_summed(tmp_path):
    frames = clip_frames(3)
    folder = tmp_path / "frames"
    folder.mkdir()
    for i, frame in enumerate([frames[0], frames[1], frames[1], frames[1], frames[2]]):
        Image.fromarray(frame).save(folder / f"f{i + 1}.png")
    result = animate(open_clip(folder, duration=30), AnimationOptions(formats=("gif", "qnt")))
    assert result.n_frames == 5 and result.durations == [30, 90, 30]
    assert decode_animation(result.outputs["qnt"]).durations == (30, 90, 30)


def test_duplicates_merge_only_up_to_the_longest_frame_every_format_times(tmp_path):
    """Three equal frames of 655.35 s, then another: merged they lasted 1,966.05 s, which the
    APNG's writer refused (an internal error), the .qnt's reader refused, and the GIF wrote as
    655.35 s, its overflow moved onto the next frame. Each stays a frame of its own; every
    format shows the true timing (libwebp merges equal frames itself: its clock holds them)."""
    first, second = clip_frames(2)
    result = animate(quantize.frames_clip([first] * 3 + [second], [655_350] * 3 + [100]),
                     AnimationOptions(formats=("gif", "png", "webp", "qnt"), fit=_fit(16)))
    assert result.durations == [655_350] * 3 + [100]
    assert decode_animation(result.outputs["qnt"]).durations == (655_350,) * 3 + (100,)
    shown = {}
    for name in ("gif", "png", "webp"):
        (tmp_path / f"o.{name}").write_bytes(result.outputs[name])
        frames, durations, _ = decoded(tmp_path / f"o.{name}")
        shown[name] = [picture for frame, d in zip(frames, durations)
                       for picture in [frame.tobytes()] * (d // 50)]  # what shows every 50 ms
        if name != "webp":
            assert durations == result.durations, name
    assert shown["gif"] == shown["png"] == shown["webp"]
    assert len(shown["gif"]) == 3 * 13107 + 2
    folder = tmp_path / "same"  # two equal stills of 400 s, then another: 800 s and 400 s
    folder.mkdir()
    for i, frame in enumerate((first, first, second)):
        Image.fromarray(frame).save(folder / f"f{i}.png")
    result = animate(open_clip(folder, duration=400_000), AnimationOptions(formats=("gif",)))
    (tmp_path / "same.gif").write_bytes(result.outputs["gif"])
    assert decoded(tmp_path / "same.gif")[1] == result.durations == [400_000] * 3


def test_equal_pictures_of_other_palettes_merge_and_every_qnt_frame_reads_back(tmp_path):
    """From a fuzzing pass: with a palette a frame, two equal frames were kept apart (their
    palettes differ), and the second, showing nothing new, was packed as a frame that keeps every
    pixel, which the .qnt reader refuses (exit 0, then exit 4 from info). Equal pictures now
    merge; two too long to merge still give a .qnt that reads back. An APNG frame past 65.535 s
    is timed exactly where 16-bit terms can (66,535 ms was written as 66,540)."""
    first, second = clip_frames(2)
    options = AnimationOptions(formats=("gif", "png", "webp", "qnt"), fit=_fit(16),
                               palette_mode="frame")
    result = animate(quantize.frames_clip([first, first, second], [100, 100, 100]), options)
    assert result.durations == [200, 100]
    assert decode_animation(result.outputs["qnt"]).durations == (200, 100)
    result = animate(quantize.frames_clip([first, first], [400_000, 400_000]), options)
    assert decode_animation(result.outputs["qnt"]).durations == (400_000, 400_000)
    result = animate(quantize.frames_clip([first, second], [100, 66_535]), options)
    (tmp_path / "t.png").write_bytes(result.outputs["png"])
    assert decoded(tmp_path / "t.png")[1] == [100, 66_535]


def test_colour_counts_of_many_frames_sum_exactly_through_compaction(monkeypatch):
    import quantize.animation.palettes as palettes
    from quantize.core.colorstats import color_keys, color_stats

    monkeypatch.setattr(palettes, "_COMPACT_ENTRIES", 500)  # compact every few frames
    rng = np.random.default_rng(0)
    counter, expected = palettes.ColorCounter(), {}
    for _ in range(7):
        pixels = rng.integers(0, 12, (30, 40, 3), dtype=np.uint8) * 20
        counter.add(pixels)
        stats = color_stats(pixels)
        for key, count in zip(color_keys(stats.colors).tolist(), stats.counts):
            expected[key] = expected.get(key, 0) + count
    keys, counts = counter.keys_counts()
    assert keys.tolist() == sorted(expected)
    assert counts.tolist() == [expected[key] for key in sorted(expected)]
    assert counter.n_pixels == 7 * 30 * 40


def test_the_scan_notes_each_pixels_first_and_last_change():
    rng = np.random.default_rng(2)
    frames = [rng.integers(0, 2, (6, 9, 3), dtype=np.uint8) * 200 for _ in range(7)]
    for t in range(1, 7):
        hold = rng.random((6, 9)) < 0.8
        frames[t][hold] = frames[t - 1][hold]
    scan = scan_clip(Frame(f, 10) for f in frames)
    assert scan.shares[0] == 1.0 and 0 < scan.shares[1] < 1
    for y in range(6):
        for x in range(9):
            changes = [t for t in range(1, 7)
                       if not np.array_equal(frames[t][y, x], frames[t - 1][y, x])]
            assert scan.first_change[y, x] == (changes[0] if changes else 7)
            assert scan.last_change[y, x] == (changes[-1] if changes else 0)


def test_frames_folder_is_read_in_natural_order(tmp_path):
    """f2 before f10, whatever the case (F4.PNG came before f1.png), and hidden files left out
    as a glob leaves them (macOS's ._f1.png, not an image, failed the whole folder)."""
    frames = clip_frames(4)
    for name, frame in zip(("f10.png", "F4.PNG", "f2.png", "f1.png"), frames[::-1]):
        Image.fromarray(frame).save(tmp_path / name)
    (tmp_path / "._f1.png").write_bytes(b"\0\5\26\7 AppleDouble")
    for clip in (tmp_path, tmp_path / "*.*"):
        read = [f.pixels for f in open_clip(clip).frames()]
        assert len(read) == 4 and all(np.array_equal(a, b) for a, b in zip(read, frames))


def test_a_glob_over_folders_reads_them_one_after_the_other(tmp_path):
    """'scenes/*/f*.png' was sorted by file name alone: the scenes' frames interleaved."""
    frames = clip_frames(4)
    for n, (scene, name) in enumerate([("s2", "f1"), ("s2", "f2"), ("s10", "f1"), ("s10", "f2")]):
        (tmp_path / scene).mkdir(exist_ok=True)
        Image.fromarray(frames[n]).save(tmp_path / scene / f"{name}.png")
    read = [f.pixels for f in open_clip(tmp_path / "*" / "f*.png").frames()]
    assert len(read) == 4 and all(np.array_equal(a, b) for a, b in zip(read, frames))


def test_a_frame_of_another_size_in_a_glob_over_folders_is_named_by_its_path(tmp_path):
    frames = clip_frames(2)
    for scene, frame in (("s1", frames[0]), ("s2", frames[1][:-2])):
        (tmp_path / scene).mkdir()
        Image.fromarray(frame).save(tmp_path / scene / "f1.png")
    with pytest.raises(InputError, match=rf"frame 2 \({re.escape(str(tmp_path / 's2' / 'f1.png'))}"
                                         rf"\) is {W}x{H - 2}, the first \("):
        list(open_clip(tmp_path / "*" / "f1.png").frames())


def test_a_frames_folder_says_it_left_its_videos_out(tmp_path):
    """A video in a folder of frames is not a frame: the note names it; a folder of videos
    alone is refused with the reason."""
    Image.fromarray(clip_frames(1)[0]).save(tmp_path / "f1.png")
    (tmp_path / "take.mp4").write_bytes(b"not read")
    assert open_clip(tmp_path).notes == ("1 video left out (take.mp4): a folder's frames are its "
                                         "still images; a video is animated on its own",)
    done = run("animate", tmp_path, "-o", tmp_path / "out", "--format", "gif")
    assert done.returncode == 0 and "note: 1 video left out (take.mp4)" in done.stderr
    (tmp_path / "f1.png").unlink()
    refused = run("animate", tmp_path, "-o", tmp_path / "out2")
    assert refused.returncode == 3 and refused.stderr.strip().endswith(
        "no frames (no image files; it holds 1 video, each animated on its own)")
    assert not (tmp_path / "out2").exists()


def test_transparent_clip_round_trips_through_gif_and_png(tmp_path):
    frames = []
    for frame in clip_frames(4):
        rgba = np.dstack([frame, np.full((H, W), 255, np.uint8)])
        rgba[:, :5] = 0  # a transparent band
        frames.append(rgba)
    images = [Image.fromarray(f) for f in frames]
    images[0].save(tmp_path / "t.png", save_all=True, append_images=images[1:], duration=50)
    result = animate(tmp_path / "t.png", AnimationOptions(formats=("gif", "png"), fit=_fit(8)))
    for name in ("gif", "png"):
        (tmp_path / f"o.{name}").write_bytes(result.outputs[name])
        im = Image.open(tmp_path / f"o.{name}")
        for i in range(4):
            im.seek(i)
            rgba = np.asarray(im.convert("RGBA"))
            assert (rgba[:, :5, 3] == 0).all() and (rgba[:, 5:, 3] == 255).all()


def test_a_clip_that_turns_transparent_after_opaque_frames_keeps_its_alpha(tmp_path):
    """Opaque first frames read as RGB and a later one with a hole as RGBA: every format shows
    the opaque frames opaque and the hole transparent (it was an internal error)."""
    opaque = clip_frames(3)
    holed = np.dstack([opaque[2], np.full((H, W), 255, np.uint8)])
    holed[2:6, 3:9, 3] = 0
    result = animate(quantize.frames_clip([*opaque, holed], [50] * 4),
                     AnimationOptions(formats=("gif", "png", "webp", "qnt"), fit=_fit(16)))
    assert result.channels == 4
    shown = [frame for frame in decode_animation(result.outputs["qnt"]).frames()]
    for name in ("gif", "png", "webp"):
        (tmp_path / f"o.{name}").write_bytes(result.outputs[name])
        frames = decoded_rgba(tmp_path / f"o.{name}")
        assert len(frames) == 4
        for frame, qnt in zip(frames, shown):
            np.testing.assert_array_equal(frame[..., 3], qnt[..., 3])
            np.testing.assert_array_equal(frame[qnt[..., 3] > 0], qnt[qnt[..., 3] > 0])
    assert [(f[..., 3] == 0).sum() for f in shown] == [0, 0, 0, 24]


def test_a_transparent_multi_frame_qnt_unpacks_to_the_same_gif_frames(tmp_path):
    """Unpacked from .qnt, whose frames hold only their rectangle (-1 elsewhere), a clip with
    transparency gives the GIF frames its own GIF shows: a cleared pixel kept from before takes
    its colour's entry."""
    frames = []
    for frame in clip_frames(5):
        rgba = np.dstack([frame, np.full((H, W), 255, np.uint8)])
        rgba[:, :6] = 0  # a transparent band; the square moves over the opaque rest
        frames.append(rgba)
    source = save_apng(tmp_path / "t.png", frames, [50] * 5, 0)
    result = animate(source, AnimationOptions(formats=("qnt", "gif"), fit=_fit(16)))
    animation = decode_animation(result.outputs["qnt"])
    assert any((frame.indices < 0).any() for frame in animation.mapped())  # rectangles, kept pixels
    written, unpacked = (Image.open(io.BytesIO(data))
                         for data in (result.outputs["gif"], unpack(animation, "gif")))
    for t, expected in enumerate(animation.frames()):
        for gif in (written, unpacked):
            gif.seek(t)
            rgba = np.asarray(gif.convert("RGBA"))
            assert np.array_equal(rgba[..., 3], expected[..., 3])
            shown = expected[..., 3] > 0
            assert np.array_equal(rgba[shown], expected[shown])


def test_a_multi_frame_qnt_unpacks_to_what_animate_wrote_when_holes_open_later(tmp_path):
    """An opaque first frame, then a square leaving transparent holes where it was (a GIF frame
    disposed to the background): unpacked from the .qnt, whose first frame's palette has no
    transparent entry, the GIF had no transparent index in its first frame, so Pillow read it
    opaque and showed the holes black. Every format unpacked shows animate's own frames."""
    frames = [np.dstack([clip_frames(1)[0], np.full((H, W), 255, np.uint8)])]
    for t in range(1, 6):
        rgba = frames[-1].copy()
        if t > 1:  # the hole the square leaves, from the third frame on
            rgba[4:12, 4 * t - 4:4 * t + 4] = 0
        rgba[4:12, 4 * t:4 * t + 8] = (250, 30 + 20 * t, 40, 255)
        frames.append(rgba)
    result = animate(quantize.frames_clip(frames, 50),
                     AnimationOptions(formats=("qnt", "gif", "png", "webp"), fit=_fit(16)))
    animation = decode_animation(result.outputs["qnt"])
    expected = list(animation.frames())
    assert [int((f[..., 3] == 0).sum()) for f in expected] == [0, 0, 32, 64, 96, 128]
    for name in ("gif", "png", "webp"):
        for written, data in (("animate", result.outputs[name]),
                              ("unpack", unpack(animation, name))):
            (tmp_path / f"{written}.{name}").write_bytes(data)
            shown = decoded_rgba(tmp_path / f"{written}.{name}")
            assert len(shown) == len(expected), (name, written)
            for frame, qnt in zip(shown, expected):
                np.testing.assert_array_equal(frame[..., 3], qnt[..., 3], f"{name} {written}")
                np.testing.assert_array_equal(frame[qnt[..., 3] > 0], qnt[qnt[..., 3] > 0])


@pytest.mark.parametrize("mode, palettes", [("global", 1), ("auto", 6)])
def test_a_multi_frame_qnt_unpacks_to_animates_gif_and_apng(tmp_path, mode, palettes):
    """Unpack gave the writers no clip palette, so a one-palette clip's APNG came out truecolour
    and its GIF with the first frame's colours as the global table: decode now writes animate's
    own GIF and APNG bytes (and WebP's, as before). Frames of several palettes keep their own GIF tables and, their
    colours fitting one, an indexed APNG (animate writes it truecolour) of the same frames."""
    result = animate(quantize.frames_clip(clip_frames(), 50),
                     AnimationOptions(formats=("qnt", "gif", "png", "webp"), palette_mode=mode,
                                      fit=_fit(16)))
    assert result.n_palettes == palettes
    animation = decode_animation(result.outputs["qnt"])
    assert unpack(animation, "gif") == result.outputs["gif"]
    assert unpack(animation, "webp") == result.outputs["webp"]
    png = unpack(animation, "png")
    assert png[25] == 3  # IHDR's colour type: indexed
    if palettes == 1:
        assert png == result.outputs["png"]
    else:
        assert len(png) < len(result.outputs["png"])
        (tmp_path / "u.png").write_bytes(png)
        for shown, frame in zip(decoded_rgba(tmp_path / "u.png"), animation.frames(),
                                strict=True):
            np.testing.assert_array_equal(shown[..., :3], frame)


def test_rgb_hidden_under_full_transparency_is_neither_fitted_nor_measured(tmp_path):
    rng = np.random.default_rng(3)
    frames = []
    for t in range(3):
        rgba = np.zeros((H, W, 4), np.uint8)
        rgba[..., :3] = rng.integers(0, 256, (H, W, 3))  # noise under alpha 0
        rgba[:, 10:] = ((200, 40, 40, 255), (40, 200, 40, 255), (40, 40, 200, 255))[t]
        frames.append(rgba)
    source = save_apng(tmp_path / "hidden.png", frames, [50] * 3, 0)
    assert (np.asarray(Image.open(source))[:, :10, :3] > 0).any()  # the file keeps the noise
    result = animate(source, AnimationOptions(formats=("png",), fit=_fit(4)))
    assert result.psnr == [100.0] * 3  # two colours a frame and transparency: exact
    im = Image.open(io.BytesIO(result.outputs["png"]))
    for t in range(3):
        im.seek(t)
        rgba = np.asarray(im.convert("RGBA"))
        assert (rgba[:, :10, 3] == 0).all() and (rgba[:, 10:] == frames[t][:, 10:]).all()


def test_clip_meter_measures_each_frame_as_a_meter_of_that_frame_alone():
    """The meter measures ΔE again only where the source or the output changed: each frame's
    figures are those of a fresh meter given that frame only."""
    from quantize.animation.measure import ClipMeter

    rng = np.random.default_rng(5)
    sources = clip_frames(5)
    outputs = [np.clip(f.astype(int) + rng.integers(-9, 10, f.shape) * (t % 2), 0, 255)
               .astype(np.uint8) for t, f in enumerate(sources)]
    outputs[3] = outputs[2]  # an output that holds while its source changes
    meter = ClipMeter()
    for source, output in zip(sources, outputs):
        meter.add(source, output)
    for t, (source, output) in enumerate(zip(sources, outputs)):
        alone = ClipMeter()
        alone.add(source, output)
        assert (meter.psnr[t], meter.delta_e[t]) == (alone.psnr[0], alone.delta_e[0])


def _fit(k: int):
    from quantize.core.fitting import FitOptions

    return FitOptions(k=k)


def counted_clip(frames: list[np.ndarray]) -> tuple[Clip, list]:
    """A clip of ``frames`` (40 ms each) and the list its every read appends to."""
    opened = []

    def read():
        opened.append(1)
        return iter([Frame(f.copy(), 40) for f in frames])

    return Clip("c", "test", 0, read), opened


@pytest.mark.parametrize("fits", [True, False])
def test_held_frames_replay_a_clip_within_the_budget(fits):
    from quantize.animation.source import HeldFrames

    frames = clip_frames(5)
    clip, opened = counted_clip(frames)
    held = HeldFrames(clip, W * H * 3 * (5 if fits else 4))
    first = list(held.frames())
    again = [list(held.clip().frames()) for _ in range(2)]
    assert len(opened) == (1 if fits else 3)
    assert all(not f.pixels.flags.writeable for f in first) == fits
    for replay in again:
        assert [f.duration for f in replay] == [40] * 5
        assert all(np.array_equal(f.pixels, s) for f, s in zip(replay, frames))


def test_a_byte_budget_search_decodes_a_small_clip_once(monkeypatch):
    import quantize.animation.source as source

    clip, opened = counted_clip(clip_frames(6))
    options = AnimationOptions(formats=("gif",), fit=_fit(16))
    held = animate(clip, options, max_bytes=1000)  # under K = 16's GIF: several K are run
    assert len(opened) == 1 and len(held.budget.sizes) >= 2
    opened.clear()
    monkeypatch.setattr(source, "HELD_BYTES", 0)
    streamed = animate(clip, options, max_bytes=1000)
    assert len(opened) == 1 + len(streamed.budget.sizes) and streamed.outputs == held.outputs


def test_the_report_counts_frames_palettes_and_plays_in_words(tmp_path):
    from quantize.animation.run import animate_file
    from quantize.render.report import format_clip_report

    still = tmp_path / "one.gif"
    Image.fromarray(clip_frames(1)[0]).save(still, duration=90)
    one = animate_file(still, tmp_path / "a", AnimationOptions(fit=_fit(8), formats=("gif",)))
    lines = format_clip_report(one).splitlines()
    assert lines[0] == f"{still}: 40x24, 1 frame read, 1 written (0.09 s, plays 1 time), 1 palette"
    gif = tmp_path / "a" / "one.anim.gif"
    assert f"  gif       {gif}: {gif.stat().st_size:,} B" in lines

    moving = save_apng(tmp_path / "six.png", clip_frames(), [40] * 6, loop=0)
    six = animate_file(moving, tmp_path / "b", AnimationOptions(fit=_fit(8), palette_mode="frame",
                                                               formats=("gif",)))
    assert format_clip_report(six).splitlines()[0] == \
        f"{moving}: 40x24, 6 frames read, 6 written (0.24 s, plays for ever), 6 palettes"


def test_compress_of_an_animation_points_at_animate(tmp_path):
    source = save_apng(tmp_path / "c.png", clip_frames(), [50] * 6, 0)
    still = tmp_path / "s.png"
    Image.fromarray(clip_frames(1)[0]).save(still)
    hint = "quantize: note: quantize animate writes every frame"
    for path, pointed in ((source, True), (still, False)):
        done = run("compress", path, "-o", tmp_path / "out", "-k", "8", "--force")
        assert done.returncode == 0 and (hint in done.stderr) == pointed, done.stderr



def test_compress_of_an_animation_animate_refuses_says_why_and_keeps_frame_one(tmp_path):
    """A cut last frame: compress wrote frame 1 and pointed at animate, which then refused it."""
    whole = save_apng(tmp_path / "c.png", clip_frames(), [50] * 6, 0).read_bytes()
    cut = tmp_path / "cut.png"
    cut.write_bytes(whole[:-100])
    done = run("compress", cut, "-o", tmp_path / "out", "-k", "8")
    refused = run("animate", cut, "-o", tmp_path / "anim")
    why = refused.stderr.strip().removeprefix("quantize: error: ")
    assert refused.returncode != 0 and "cannot read frame 6" in why, refused.stderr
    assert done.returncode == 0 and (tmp_path / "out" / "cut.qnt").exists(), done.stderr
    assert f"quantize: note: {why}: quantize animate refuses the file; its first frame is " \
           f"written" in done.stderr and "animate writes every frame" not in done.stderr

def test_the_package_exports_the_animation_api_lazily(tmp_path):
    """``quantize.animate`` and friends load the animation layer on first use, not on import."""
    code = ("import sys, quantize\n"
            "assert set(quantize.__all__) <= set(dir(quantize))  # for help() and completion\n"
            "assert not any(m.startswith('quantize.animation') for m in sys.modules)\n"
            "from quantize.animation import run\n"
            "assert (quantize.animate, quantize.animate_file, quantize.AnimationOptions,\n"
            "        quantize.AnimationResult) == (run.animate, run.animate_file,\n"
            "                                      run.AnimationOptions, run.AnimationResult)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    source = save_apng(tmp_path / "c.png", clip_frames(), [50] * 6, 0)
    import quantize

    result = quantize.animate_file(source, tmp_path / "out", quantize.AnimationOptions(fit=_fit(8)))
    assert result.paths["gif"].read_bytes() == result.outputs["gif"] and result.n_frames == 6


def test_same_seed_same_bytes_whatever_the_threads(tmp_path):
    source = save_apng(tmp_path / "c.png", clip_frames(), [50] * 6, 0)
    outputs = []
    for threads in ("1", "2"):
        out = tmp_path / f"t{threads}"
        done = run("animate", source, "-o", out, "--format", "gif,png,webp,qnt", "--seed", "7",
                   "--palette-mode", "frame", env={"NUMBA_NUM_THREADS": threads})
        assert done.returncode == 0, done.stderr
        outputs.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert outputs[0] == outputs[1] and len(outputs[0]) == 4


@pytest.mark.parametrize("suffix", [".gif", ".png", ".webp"])
def test_truncated_animation_is_one_line_exit_3_and_nothing_written(tmp_path, suffix):
    images = [Image.fromarray(f) for f in clip_frames()]
    images[0].save(tmp_path / f"c{suffix}", save_all=True, append_images=images[1:], duration=50,
                   lossless=True)
    data = (tmp_path / f"c{suffix}").read_bytes()
    cuts = [len(data) // 2, 3 * len(data) // 4]
    if suffix == ".gif":  # Pillow ends a GIF cut between frames there: only the trailer tells
        cuts.append(len(data) - 1)
    for cut in cuts:
        (tmp_path / f"cut{suffix}").write_bytes(data[:cut])
        done = run("animate", tmp_path / f"cut{suffix}", "-o", tmp_path / "out")
        assert done.returncode == 3 and done.stderr.count("\n") == 1, done.stderr
        message = done.stderr.replace(str(tmp_path), "")  # the test's own name says truncated
        assert "truncated" in message and not (tmp_path / "out").exists()


def test_an_animation_over_pillows_own_limit_says_so(tmp_path, monkeypatch):
    from PIL import Image as PILImage

    source = save_apng(tmp_path / "c.png", clip_frames(3), [50] * 3, 0)
    monkeypatch.setattr(PILImage, "MAX_IMAGE_PIXELS", 100)  # a library process keeps Pillow's guard
    with pytest.raises(InputError, match="MAX_IMAGE_PIXELS") as caught:
        animate(source, AnimationOptions(formats=("gif",)))
    assert "truncated" not in str(caught.value).replace(str(tmp_path), "")


def test_bad_clips_are_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    done = run("animate", tmp_path / "empty", "-o", tmp_path / "out")
    assert done.returncode == 3 and "no frames" in done.stderr
    sizes = tmp_path / "sizes"
    sizes.mkdir()
    Image.new("RGB", (8, 8)).save(sizes / "a1.png")
    Image.new("RGB", (9, 8)).save(sizes / "a2.png")
    done = run("animate", sizes, "-o", tmp_path / "out")
    assert done.returncode == 3 and "frame 2 (a2.png) is 9x8" in done.stderr
    empty = tmp_path / "empty.gif"  # a header and a trailer: it was "not an image ... reads"
    empty.write_bytes(b"GIF89a\x08\0\x08\0\x80\0\0" + bytes(6) + b";")
    done = run("animate", empty, "-o", tmp_path / "out")
    assert done.returncode == 3, done.stderr
    assert done.stderr.endswith("empty.gif: no frames (the GIF ends after its header)\n")
    assert not (tmp_path / "out").exists()
    cut = tmp_path / "cut.gif"  # a header cut short: it was "not an image ... quantize reads"
    cut.write_bytes(b"GIF89a")
    done = run("animate", cut, "-o", tmp_path / "out")
    assert done.returncode == 3
    assert done.stderr.endswith("cut.gif: cannot decode the image (a damaged or truncated GIF file)\n")
    assert not (tmp_path / "out").exists()
    absurd = Clip("absurd", "test", 0, lambda: iter([Frame(clip_frames(1)[0], 10 ** 7)]))
    with pytest.raises(InputError, match="lasts 10000000 ms"):
        animate(absurd)
    for duration in ("-5", "0"):  # a still of 0 ms never shows (GIF dropped all but one)
        done = run("animate", sizes, "-o", tmp_path / "out", "--duration", duration)
        assert done.returncode == 2, done.stderr
        assert f"duration must be 1 to 655350 ms, got {duration}" in done.stderr
    clip = save_apng(tmp_path / "c.png", clip_frames(3), [50] * 3, 0)
    done = run("animate", clip, "-o", tmp_path / "timed", "--duration", "40", "--json", "-q")
    assert done.returncode == 0 and json.loads(done.stdout)["durations_ms"] == [50] * 3
    assert ("quantize: note: --duration not used: it times a folder or glob of stills, and "
            f"{clip} has its own") in done.stderr
    for args, words in ((("-k", "300"), "K must be 1 to 256 for an animation, got 300"),
                        (("--format", "jpg"), "--format must be some of gif, png, webp, qnt, got jpg"),
                        (("--format", "gif,apng"), "got gif, apng (png is written as an APNG)")):
        done = run("animate", clip, "-o", tmp_path / "out", *args)
        assert done.returncode == 2 and words in done.stderr and done.stderr.count("\n") == 1


def test_a_gif_of_a_partly_transparent_clip_makes_its_alpha_all_or_nothing(tmp_path):
    """A clip with soft edges (partial alpha) was refused whenever GIF was written, the default
    format included: GIF shows a pixel or not. Its alpha is now made all or nothing at 128, as
    ffmpeg's paletteuse does, in every format of the run, with a note; without gif it is kept."""
    ramp = np.tile(np.linspace(255, 0, W).astype(np.uint8), (H, 1))  # opaque where the square moves
    frames = [np.dstack([f, ramp]) for f in clip_frames(3)]
    soft = save_apng(tmp_path / "soft.png", frames, [50] * 3, 0)
    done = run("animate", soft, "-o", tmp_path / "all", "--format", "gif,png,webp", "-k", "64")
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("GIF has no partial transparency: partly transparent pixels were "
                             "made opaque (alpha 128 or more) or clear") == 1
    expected = np.where(ramp >= 128, 255, 0)
    for name in ("gif", "png", "webp"):
        shown = decoded_rgba(tmp_path / "all" / f"soft.anim.{name}")
        assert len(shown) == 3
        for frame in shown:
            np.testing.assert_array_equal(frame[..., 3], expected)
    done = run("animate", soft, "-o", tmp_path / "kept", "--format", "png,qnt", "-k", "64")
    assert done.returncode == 0 and "partial transparency" not in done.stderr
    kept = decoded_rgba(tmp_path / "kept" / "soft.anim.png")[0][..., 3]
    assert ((kept > 0) & (kept < 255)).mean() > 0.5
    # decode writes the file's pixels exactly, so a GIF of them is refused
    done = run("decode", tmp_path / "kept" / "soft.anim.qnt", "-o", tmp_path / "soft.gif")
    assert done.returncode == 2 and done.stderr.count("\n") == 1
    assert "GIF has no partial transparency" in done.stderr and "write .png or .webp" in done.stderr
    assert not (tmp_path / "soft.gif").exists()


def soft_sticker(path: Path) -> Path:
    """An APNG sticker: a disc over a gradient, its alpha edge blurred, moving a step a frame."""
    from PIL import ImageDraw, ImageFilter

    yy, xx = np.mgrid[0:H, 0:W]
    frames = []
    for t in range(4):
        alpha = Image.new("L", (W, H), 0)
        ImageDraw.Draw(alpha).ellipse((4 + 3 * t, 3, 24 + 3 * t, 21), fill=255)
        rgb = np.dstack([xx * 6, yy * 10 + 20 * t, np.full_like(xx, 180)]).astype(np.uint8)
        frames.append(np.dstack([rgb, np.asarray(alpha.filter(ImageFilter.GaussianBlur(2)))]))
    return save_apng(path, frames, [60] * 4, 0)


def _cleared(frame: np.ndarray) -> np.ndarray:
    """An RGBA frame with its fully transparent pixels (0, 0, 0, 0), as the meter takes them."""
    return np.where(frame[..., 3:] == 0, 0, frame).astype(np.uint8)


def test_a_gif_run_measures_its_files_against_the_frames_as_read(tmp_path):
    """With gif among the formats, every frame's alpha is made all or nothing, and the report
    measured the files against those thresholded frames: a soft-edged sticker reported a PSNR
    far above its GIF's against the input. Each frame's PSNR and CIEDE2000 are now those of the
    written GIF (as Pillow decodes it) against the frame as read."""
    from quantize.core.metrics import delta_e_pairs

    sticker = soft_sticker(tmp_path / "sticker.png")
    given = [_cleared(f) for f in decoded_rgba(sticker)]
    assert any(((f[..., 3] > 0) & (f[..., 3] < 255)).any() for f in given)
    result = animate(sticker, AnimationOptions(formats=("gif",), fit=_fit(64)))
    (tmp_path / "s.gif").write_bytes(result.outputs["gif"])
    shown = [_cleared(f) for f in decoded_rgba(tmp_path / "s.gif")]
    assert len(shown) == len(given) == len(result.psnr)
    for source, out, db, delta_e in zip(given, shown, result.psnr, result.delta_e):
        diff = source.astype(np.int64) - out
        error = (diff * diff).sum() / (H * W)
        assert db == pytest.approx(10 * np.log10(255 ** 2 * 4 / error))
        assert delta_e == pytest.approx(delta_e_pairs(source.reshape(-1, 4),
                                                      out.reshape(-1, 4)).mean())


def test_a_quality_target_with_gif_is_judged_against_the_frames_as_read(tmp_path):
    """--target-psnr with gif judged each K against the thresholded frames, so a soft-edged
    sticker met a high target at a few colours while its GIF stays far below it; it now misses,
    as no K can make a soft edge all or nothing without error, and the K a reachable target
    picks meets it as measured against the frames as read."""
    from quantize.jobs.sweep import TargetMissed

    sticker = soft_sticker(tmp_path / "sticker.png")
    options = AnimationOptions(formats=("gif",), fit=_fit(64))
    with pytest.raises(TargetMissed, match="partly transparent pixels, which GIF shows opaque or "
                                            "clear, keep part of the error at any K"):
        animate(sticker, options, target=Target(psnr=30))
    reachable = animate(sticker, options).clip_psnr - 1
    met = animate(sticker, options, target=Target(psnr=reachable))
    assert met.clip_psnr >= reachable and met.search.k <= 64


def test_decode_unpacks_a_multi_frame_qnt_to_each_animated_format(tmp_path):
    source = save_apng(tmp_path / "clip.png", clip_frames(), [40, 60, 80, 100, 120, 140], loop=3)
    out = tmp_path / "out"
    done = run("animate", source, "-o", out, "--format", "qnt,gif", "-k", "16", "-q")
    assert done.returncode == 0 and done.stderr == "" and "clip.anim.qnt" in done.stdout
    packed = out / "clip.anim.qnt"
    expected = list(decode_animation(packed.read_bytes()).frames())
    animated = decoded(out / "clip.anim.gif")[0]
    assert all(np.array_equal(a, b) for a, b in zip(expected, animated))
    for ext in ("gif", "png", "apng", "webp"):
        target = tmp_path / "back" / f"clip.{ext}"
        done = run("decode", packed, "-o", target)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(f"{target}: 40x24, 6 frames (0.54 s), ")
        frames, durations, loop = decoded(target)
        assert len(frames) == 6 and all(np.array_equal(a, b) for a, b in zip(frames, expected))
        assert durations == [40, 60, 80, 100, 120, 140] and loop == (2 if ext == "gif" else 3)
    info = json.loads(run("info", packed, "--json").stdout)
    assert (info["kind"], info["frames"], info["width"], info["height"]) == ("multi-frame", 6, 40, 24)
    assert info["durations_ms"] == [40, 60, 80, 100, 120, 140] and info["plays"] == 3
    assert info["frame_table"] == decode_animation(packed.read_bytes()).table_codec
    assert run("info", packed).stdout.splitlines()[2].split() == ["kind", "multi-frame"]
    refused = run("decode", packed, "-o", tmp_path / "x.tiff")
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1
    assert "decodes to an animation" in refused.stderr and not (tmp_path / "x.tiff").exists()
    damaged = tmp_path / "bad.anim.qnt"
    damaged.write_bytes(packed.read_bytes()[:-9])
    for args in (("info", damaged), ("decode", damaged, "-o", tmp_path / "bad.gif")):
        done = run(*args)
        assert done.returncode == 4 and done.stderr.count("\n") == 1, done.stderr
        assert "multi-frame .qnt" in done.stderr and not (tmp_path / "bad.gif").exists()


def _kept_frames() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Two 40x24 frames of 256 colours each (palettes a and b); the second keeps every other row
    of the first, colours its palette lacks (index -1). Returns a, b, the indices and what shows."""
    rng = np.random.default_rng(6)
    a = rng.integers(0, 256, (256, 3), dtype=np.uint8)
    b = rng.integers(0, 256, (256, 3), dtype=np.uint8)
    first = rng.integers(0, 256, (24, 40)).astype(np.int16)
    second = rng.integers(0, 256, (24, 40)).astype(np.int16)
    second[::2] = -1
    return a, b, first, second, np.where((second < 0)[..., None], a[first], b[second])


def _version_1(a, b, first, second, shown) -> bytes:
    """The two frames of :func:`_kept_frames` as a version 1 file wrote them: no flags, the kept
    colours appended to the second frame's palette."""
    import zlib

    from quantize.io import container

    extra, inverse = np.unique(shown[second < 0], axis=0, return_inverse=True)
    indices = second.astype(np.int32)
    indices[second < 0] = 256 + inverse.ravel()
    body = b"\x89QNA\r\n\x1a\n" + struct.pack("<HIIII", 1, 40, 24, 0, 2)
    for duration, palette, idx in ((50, a, first), (70, np.concatenate([b, extra]), indices)):
        packed = container.encode(palette, idx)
        body += struct.pack("<IIIQ", duration, 0, 0, len(packed)) + packed
    return body + struct.pack("<I", zlib.crc32(body))


def test_kept_pixels_pack_as_one_entry_and_unpack_to_gif():
    from quantize.animation.qntanim import QntWriter
    from quantize.animation.temporal import MappedFrame

    a, b, first, second, shown = _kept_frames()
    writer = QntWriter(40, 24, 0)
    writer.add(MappedFrame(0, a, first, a[first], 50))
    writer.add(MappedFrame(1, b, second, shown, 70))
    data = writer.finish()
    animation = decode_animation(data)
    frames = list(animation.mapped())
    assert animation.version == 3  # each frame's palette: the entries it shows
    assert [len(f.palette) for f in frames] == [len(np.unique(first)),
                                                len(np.unique(second[second >= 0]))]
    assert np.array_equal(frames[1].indices < 0, second < 0)  # "as before", not new colours
    assert np.array_equal(frames[1].colors, shown)
    old = _version_1(a, b, first, second, shown)
    assert len(data) < len(old)  # one entry codes the kept pixels smaller than their colours
    gif = Image.open(io.BytesIO(unpack(animation, "gif")))
    gif.seek(1)
    assert np.array_equal(np.asarray(gif.convert("RGB")), shown)


def test_a_version_1_multi_frame_qnt_still_decodes_and_unpacks():
    from quantize.animation.qntanim import QntWriter
    from quantize.animation.temporal import MappedFrame

    a, b, first, second, shown = _kept_frames()
    animation = decode_animation(_version_1(a, b, first, second, shown))
    frames = list(animation.frames())
    assert animation.version == 1 and animation.durations == (50, 70)
    assert np.array_equal(frames[0], a[first]) and np.array_equal(frames[1], shown)
    gif = Image.open(io.BytesIO(unpack(animation, "gif")))  # the appended colours kept out
    gif.seek(1)
    assert np.array_equal(np.asarray(gif.convert("RGB")), shown)
    lots = np.random.default_rng(7).integers(0, 256, (300, 3), dtype=np.uint8)  # 300 colours
    many = QntWriter(20, 15, 0)
    indices = np.arange(300, dtype=np.int16).reshape(15, 20)
    many.add(MappedFrame(0, lots, indices, lots[indices], 50))
    with pytest.raises(ParameterError, match="more than a GIF frame holds"):
        unpack(decode_animation(many.finish()), "gif")
    assert len(unpack(decode_animation(many.finish()), "png")) > 0


def _recrc(data: bytes | bytearray) -> bytes:
    """``data`` with its trailing CRC made right again (so a change reaches the decoder)."""
    import zlib

    return bytes(data[:-4]) + struct.pack("<I", zlib.crc32(data[:-4]))


def test_a_multi_frame_qnt_past_its_limits_is_refused_naming_file_and_frame(tmp_path):
    from quantize.animation.qntanim import QntWriter, load_animation
    from quantize.animation.temporal import MappedFrame

    a, b, first, second, shown = _kept_frames()
    writer = QntWriter(40, 24, 0)
    writer.add(MappedFrame(0, a, first, a[first], 50))
    writer.add(MappedFrame(1, b, second, shown, 70))
    data = bytearray(writer.finish())
    plays = bytearray(data)
    plays[18:22] = struct.pack("<I", 65536)  # GIF and WebP count plays in 16 bits
    with pytest.raises(FormatError, match="plays 65536 times, more than 65535"):
        decode_animation(_recrc(plays))
    huge = bytearray(data)
    huge[10:18] = struct.pack("<II", 100_000, 100_000)  # past the pixel limit, before any frame
    with pytest.raises(FormatError, match="canvas 100000x100000 is over the limit"):
        decode_animation(_recrc(huge))
    inner = bytearray(_table_as_is(bytes(data))) + b"\0\0\0\0"
    inner[-5] ^= 0xFF  # the second frame's own CRC: the file's is right
    path = tmp_path / "clip.anim.qnt"
    path.write_bytes(_recrc(inner))
    with pytest.raises(FormatError, match=r"clip\.anim\.qnt: multi-frame \.qnt file is corrupt "
                                          r"\(frame 2: CRC mismatch"):
        list(load_animation(path).frames())


def test_a_gif_playing_past_the_formats_limit_plays_65535_times_with_a_note(tmp_path):
    """65,535 repeats are 65,536 plays, one more than WebP's and the .qnt's counts hold: read as
    65,535 plays with a note, every output is written and reads back (WebP was an internal
    error, the .qnt a file decode refused)."""
    images = [Image.fromarray(f) for f in clip_frames(2)]
    images[0].save(tmp_path / "l.gif", save_all=True, append_images=images[1:], duration=50,
                   loop=65535)
    assert open_clip(tmp_path / "l.gif").plays == 65535
    done = run("animate", tmp_path / "l.gif", "-o", tmp_path / "o", "--format", "gif,png,webp,qnt")
    assert done.returncode == 0, done.stderr
    assert "note: GIF plays 65,536 times; written to play 65,535 times" in done.stderr
    assert decode_animation((tmp_path / "o" / "l.anim.qnt").read_bytes()).plays == 65535
    loops = [decoded(tmp_path / "o" / f"l.anim.{ext}")[2] for ext in ("gif", "png", "webp")]
    assert loops == [65534, 65535, 65535]  # GIF counts repeats


def test_a_webp_longer_than_its_clock_is_refused():
    from quantize.animation.temporal import MappedFrame
    from quantize.animation.webp import WebpWriter

    writer = WebpWriter(4, 2, 0)
    pixels = np.zeros((2, 4, 3), np.uint8)
    frame = MappedFrame(0, pixels[0, :1], np.zeros((2, 4), np.int16), pixels, 655_350)
    with pytest.raises(ParameterError, match="a WebP animation lasts at most 2,147,483,647 ms"):
        for _ in range(3300):
            writer.add(frame)


def _table_as_is(data: bytes, version: int = 3) -> bytearray:
    """A multi-frame .qnt file (without its CRC) rewritten with its frame table stored as it is,
    in ``version`` 3 or 2 (which has no table header)."""
    from quantize.animation.qntanim import _HEADER

    table = bytes(decode_animation(data)._table)
    head = bytearray(data[:_HEADER.size])
    head[8:10] = struct.pack("<H", version)
    return head + (struct.pack("<BQ", 0, len(table)) if version == 3 else b"") + table


def test_a_screen_recordings_frame_table_is_coded_and_a_photos_is_not(tmp_path):
    """A clip of small changes over flat colours repeats its frames' headers and colours: its
    table is stored coded, smaller, and decodes to the same frames as the table as it is (and as
    version 2 stored it); frames of noise, as cm codes them, gain nothing and are stored as is."""
    import zlib

    from quantize.animation.qntanim import MAX_TABLE_RATIO, _HEADER

    screen = np.full((40, 64, 3), 240, np.uint8)
    screen[:8] = (40, 44, 52)
    frames = []
    for n in range(12):  # a cursor and a bar moving over a still screen
        frame = screen.copy()
        frame[12:20, 4 + 4 * n:6 + 4 * n] = (0, 90, 200)
        frame[30:33, 2:2 + 5 * n] = (80, 160, 90)
        frames.append(frame)
    data = animate(quantize.frames_clip(frames, [100] * 12),
                   AnimationOptions(formats=("qnt",))).outputs["qnt"]
    coded = decode_animation(data)
    assert coded.table_codec in ("zstd", "lzma")
    for version in (3, 2):
        plain = bytes(_table_as_is(data, version))
        plain += struct.pack("<I", zlib.crc32(plain))
        assert len(data) < 0.8 * len(plain)
        as_is = decode_animation(plain)
        assert (as_is.version, as_is.table_codec) == (version, "none")
        for a, b in zip(coded.frames(), as_is.frames(), strict=True):
            np.testing.assert_array_equal(a, b)
    noise = np.random.default_rng(3).integers(0, 256, (4, 48, 64, 3), dtype=np.uint8)
    photo = animate(quantize.frames_clip(list(noise), [100] * 4),
                    AnimationOptions(formats=("qnt",))).outputs["qnt"]
    assert decode_animation(photo).table_codec == "none"

    head = bytearray(data[:_HEADER.size + 9])
    stored = data[_HEADER.size + 9:-4]
    codec, size = struct.unpack_from("<BQ", head, _HEADER.size)
    for codec_id, claimed, words in ((1, size, "unknown codec"), (9, size, "unknown codec"),
                                     (codec, MAX_TABLE_RATIO * len(stored) + 1, "claims"),
                                     (codec, size + 1, "declares|decompresses to"),
                                     (0, size, "its header says")):
        bad = head.copy()
        bad[_HEADER.size:] = struct.pack("<BQ", codec_id, claimed)
        bad += stored
        with pytest.raises(FormatError, match=words):
            decode_animation(bytes(bad) + struct.pack("<I", zlib.crc32(bad)))


def test_a_keep_flag_where_nothing_can_be_kept_is_a_format_error():
    import zlib

    from quantize.animation.qntanim import QntWriter
    from quantize.animation.temporal import MappedFrame

    a, b, first, second, shown = _kept_frames()
    writer = QntWriter(40, 24, 0)
    writer.add(MappedFrame(0, a, first, a[first], 50))
    writer.add(MappedFrame(1, b, second, shown, 70))
    data = _table_as_is(writer.finish())
    flags_at = 26 + 9 + 12  # the first frame record's flags: after the headers and three fields
    for flags, words in ((1, "keeps pixels from before the first frame"), (4, "unknown flags")):
        bad = data.copy()
        bad[flags_at:flags_at + 4] = struct.pack("<I", flags)
        with pytest.raises(FormatError, match=words):
            decode_animation(bytes(bad) + struct.pack("<I", zlib.crc32(bad)))


def test_corrupt_multi_frame_qnt_is_a_format_error(tmp_path):
    data = animate(save_apng(tmp_path / "c.png", clip_frames(), [50] * 6, 0),
                   AnimationOptions(formats=("qnt",))).outputs["qnt"]
    for bad in (data[:-9], data[:20], b"x" + data[1:], data[:40] + bytes([data[40] ^ 1]) + data[41:]):
        with pytest.raises(FormatError):
            list(decode_animation(bad).frames())


def test_frames_held_in_memory_animate_as_the_same_frames_from_a_file(tmp_path):
    frames = clip_frames()
    durations = [40, 60, 40, 60, 40, 80]
    held = [Image.fromarray(f) if i % 2 else f for i, f in enumerate(frames)]  # both kinds
    options = AnimationOptions(formats=("gif", "png"))
    ours = animate(quantize.frames_clip(held, durations, plays=3), options)
    saved = animate(save_apng(tmp_path / "c.png", frames, durations, 3), options)
    assert ours.outputs == saved.outputs and ours.durations == durations
    (tmp_path / "o.png").write_bytes(ours.outputs["png"])
    shown, read_durations, loop = decoded(tmp_path / "o.png")
    assert read_durations == durations and loop == 3 and len(shown) == 6
    with pytest.raises(ParameterError, match="6 frames and 2 durations"):
        quantize.frames_clip(frames, [40, 60])
    with pytest.raises(InputError, match="frames in memory: frame 2 is"):
        animate(quantize.frames_clip([frames[0], frames[1][:8]]))


def test_a_multi_frame_qnts_frames_carry_only_the_colours_they_show(tmp_path):
    frames = clip_frames()  # a noisy still, a small square moving: few colours change a frame
    result = animate(save_apng(tmp_path / "c.png", frames, [50] * 6, 0),
                     AnimationOptions(formats=("qnt", "gif"), fit=_fit(64)))
    mapped = list(decode_animation(result.outputs["qnt"]).mapped())
    assert len(mapped[0].palette) == 64 and all(len(m.palette) < 40 for m in mapped[1:])
    (tmp_path / "o.gif").write_bytes(result.outputs["gif"])
    for shown, gif in zip((m.colors for m in mapped), decoded(tmp_path / "o.gif")[0]):
        np.testing.assert_array_equal(shown, gif)


def test_the_still_reader_sends_a_multi_frame_qnt_to_load_animation(tmp_path):
    path = tmp_path / "c.anim.qnt"
    path.write_bytes(animate(save_apng(tmp_path / "c.png", clip_frames(), [50] * 6, 0),
                             AnimationOptions(formats=("qnt",))).outputs["qnt"])
    with pytest.raises(FormatError, match="c.anim.qnt: a multi-frame .qnt .*load_animation reads it"):
        quantize.load(path)
    assert len(list(quantize.load_animation(path).frames())) == 6
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(FormatError, match="c.anim.qnt: .*corrupt"):
        quantize.load_animation(path)


def fade_frames() -> list[np.ndarray]:
    """Three frames of a reddish picture, a four-step fade to a bluish one, three frames of it;
    the top-left 6x6 corner stays one grey pattern throughout."""
    rng = np.random.default_rng(5)
    a = rng.integers(0, 256, (H, W, 3)) * [1.0, 0.3, 0.2]
    b = rng.integers(0, 256, (H, W, 3)) * [0.2, 0.4, 1.0]
    weights = [0, 0, 0, 0.2, 0.4, 0.6, 0.8, 1, 1, 1]
    frames = [np.rint(a * (1 - w) + b * w).astype(np.uint8) for w in weights]
    corner = rng.integers(0, 256, (6, 6, 1), dtype=np.uint8).repeat(3, axis=2)
    for frame in frames:
        frame[:6, :6] = corner
    return frames


def test_palette_changes_keep_still_pixels_and_formats_agree(tmp_path):
    source = tmp_path / "fade"
    source.mkdir()
    for i, frame in enumerate(fade_frames()):
        Image.fromarray(frame).save(source / f"f{i}.png")
    options = AnimationOptions(formats=("gif", "png", "webp", "qnt"), fit=_fit(16))
    result = animate(source, options)
    flat = animate(source, AnimationOptions(formats=("gif",), fit=_fit(16),
                                            palette_mode="global"))
    assert result.n_palettes > 1 and result.flicker == 0.0
    assert result.mean_psnr > flat.mean_psnr
    shown = {}
    for name in ("gif", "png", "webp"):
        (tmp_path / f"o.{name}").write_bytes(result.outputs[name])
        shown[name] = decoded(tmp_path / f"o.{name}")[0]
    shown["qnt"] = [f[..., :3] for f in decode_animation(result.outputs["qnt"]).frames()]
    assert len(shown["gif"]) == len(result.durations)
    for frames in zip(*shown.values()):
        assert all(np.array_equal(frames[0], f) for f in frames[1:])
    assert all(np.array_equal(f[:6, :6], shown["gif"][0][:6, :6]) for f in shown["gif"])


@pytest.mark.parametrize("k", [2, 4])
def test_palettes_that_follow_others_keep_k_colours_and_gif_grows_its_table(tmp_path, k):
    from quantize.animation.palettes import PaletteSchedule

    source = tmp_path / "fade"
    source.mkdir()
    for i, frame in enumerate(fade_frames()):
        Image.fromarray(frame).save(source / f"f{i}.png")
    clip = open_clip(source)
    for mode in ("auto", "frame"):
        schedule = PaletteSchedule(scan_clip(clip.frames()), mode, _fit(k))
        sizes = {number: len(schedule.palette_for(number, frame.pixels)[1])
                 for number, frame in enumerate(clip.frames())}
        assert set(sizes.values()) == {k}, (mode, sizes)  # not K - 1 (one colour at K = 2)
    result = animate(source, AnimationOptions(formats=("gif", "png", "qnt"), fit=_fit(k)))
    assert result.n_palettes > 1 and result.flicker == 0.0
    (tmp_path / "o.gif").write_bytes(result.outputs["gif"])
    (tmp_path / "o.png").write_bytes(result.outputs["png"])
    gif, png = decoded(tmp_path / "o.gif")[0], decoded(tmp_path / "o.png")[0]
    qnt = [f[..., :3] for f in decode_animation(result.outputs["qnt"]).frames()]
    assert len(gif) == len(png) == len(qnt) == len(result.durations)
    for a, b, c in zip(gif, png, qnt):
        assert np.array_equal(a, b) and np.array_equal(a, c)
    assert len(np.unique(gif[0].reshape(-1, 3), axis=0)) == k
    assert all(np.array_equal(f[:6, :6], gif[0][:6, :6]) for f in gif)


def _gif_of(tmp_path: Path, frames: list) -> list[np.ndarray]:
    """The GIF a GifWriter makes of ``frames`` (MappedFrame), decoded."""
    from quantize.animation.gif import GifWriter

    h, w = frames[0].indices.shape
    writer = GifWriter(w, h, 0)
    for frame in frames:
        writer.add(frame)
    (tmp_path / "w.gif").write_bytes(writer.finish())
    return decoded(tmp_path / "w.gif")[0]


def test_gif_grows_a_full_table_for_kept_colours_it_lacks(tmp_path):
    from quantize.animation.temporal import MappedFrame

    rng = np.random.default_rng(3)
    a = np.array([[0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255]], np.uint8)
    b = np.array([[9, 9, 9], [99, 9, 9], [9, 99, 9], [9, 9, 99]], np.uint8)
    first = rng.integers(0, 4, (16, 20)).astype(np.int16)
    second = rng.integers(0, 4, (16, 20)).astype(np.int16)
    third = rng.integers(0, 4, (16, 20)).astype(np.int16)
    third[::2] = -1  # every other row keeps the second frame's colours, which palette a lacks
    shown = [a[first], b[second], np.where((third < 0)[..., None], b[second], a[third])]
    frames = [MappedFrame(0, a, first, shown[0], 50), MappedFrame(1, b, second, shown[1], 50),
              MappedFrame(0, a, third, shown[2], 50)]  # the global palette again, full
    gif = _gif_of(tmp_path, frames)
    assert len(gif) == 3 and all(np.array_equal(g, s) for g, s in zip(gif, shown))


def test_gif_delays_follow_the_clock_of_the_clip_steadily():
    """Each delay is the frame's end on GIF's clock (centiseconds, halves up) less the time
    written: steady frames after an odd start keep steady delays, and the total stays exact."""
    from quantize.animation.gif import GifWriter
    from quantize.animation.temporal import MappedFrame

    palette = np.array([[0, 0, 0], [255, 255, 255]], np.uint8)
    writer = GifWriter(4, 2, 0)
    durations = [15, 50, 50, 50, 50, 55]
    for t, duration in enumerate(durations):
        indices = np.full((2, 4), t % 2, np.int16)
        writer.add(MappedFrame(0, palette, indices, palette[indices], duration))
    gif = Image.open(io.BytesIO(writer.finish()))
    delays = []
    for t in range(gif.n_frames):
        gif.seek(t)
        delays.append(gif.info["duration"])
    assert delays == [20, 50, 50, 50, 50, 50] and sum(delays) == sum(durations)


def test_an_output_named_as_an_animation_file_is_that_file_unless_a_folder(tmp_path):
    """-o out.webp, as gifski and ffmpeg take it, made a folder out.webp holding the WebP (then,
    for a while, was refused): it is that one file, and --format naming others is refused."""
    src = save_apng(tmp_path / "c.png", clip_frames(2), [50, 50], 0)
    done = run("animate", src, "-o", tmp_path / "sub" / "out.webp", "--format", "webp,gif")
    assert done.returncode == 2
    assert "out.webp names one webp file, but --format webp,gif writes 2 files" in done.stderr
    assert not (tmp_path / "sub").exists()
    done = run("animate", src, "-o", tmp_path / "sub" / "out.apng", "-k", "8", "-q")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["out.apng"]
    with Image.open(tmp_path / "sub" / "out.apng") as apng:
        assert apng.format == "PNG" and apng.n_frames == 2
    (tmp_path / "kept.gif").mkdir()  # a folder of that name is a folder
    done = run("animate", src, "-o", tmp_path / "kept.gif", "-k", "8", "-q")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "kept.gif" / "c.anim.gif").is_file()


@pytest.mark.parametrize("name", ["out.mp4", "out.jpg", "-", "brand.gpl"])
def test_an_output_named_as_no_animation_file_is_refused_not_made_a_folder(tmp_path, name,
                                                                            monkeypatch):
    monkeypatch.chdir(tmp_path)
    src = save_apng(tmp_path / "c.png", clip_frames(2), [50, 50], 0)
    done = run("animate", src, "-o", name, "-k", "8")
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "-o takes a folder or one animation file (out.gif, out.apng" in done.stderr
    assert not (tmp_path / name).exists()


@pytest.mark.parametrize("given", ["folder", "glob"])
def test_an_output_over_a_frame_of_the_input_is_refused_even_with_force(tmp_path, given):
    folder = tmp_path / "frames"
    folder.mkdir()
    for n, frame in enumerate(clip_frames(3), 1):
        Image.fromarray(frame).save(folder / f"f{n}.png")
    kept = (folder / "f2.png").read_bytes()
    source = folder if given == "folder" else folder / "f*.png"
    done = run("animate", source, "-o", folder / "f2.png", "-f", "-k", "8")
    assert done.returncode == 5 and done.stderr.count("\n") == 1, done.stderr
    assert "refusing to overwrite the input file" in done.stderr and "f2.png" in done.stderr
    assert (folder / "f2.png").read_bytes() == kept


def test_the_help_says_duration_times_a_folder_as_gifskis_fps_does():
    done = run("animate", "--help")
    assert done.returncode == 0
    assert "gifski's --fps 20; --fps only drops frames" in " ".join(done.stdout.split())


def test_a_glob_the_shell_expanded_is_one_line_saying_to_quote_it(tmp_path):
    """frames/*.png unquoted gives animate every file (f1, f10, f2, ... in the shell's order):
    click's 'Got unexpected extra arguments' listed them and said nothing of globs."""
    for n, frame in enumerate(clip_frames(3)):
        Image.fromarray(frame).save(tmp_path / f"f{n}.png")
    done = run("animate", tmp_path / "f0.png", tmp_path / "f1.png", tmp_path / "f2.png",
               "-o", tmp_path / "out")
    assert done.returncode == 2
    assert "one INPUT, got 3" in done.stderr
    assert f"quote a glob, such as '{tmp_path / '*.png'}'" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and not (tmp_path / "out").exists()


def test_a_frame_of_another_size_in_a_folder_is_named_by_its_file(tmp_path):
    frames = clip_frames(3)
    for n, frame in enumerate(frames):
        Image.fromarray(frame if n != 1 else frame[:-2]).save(tmp_path / f"f{n}.png")
    with pytest.raises(InputError, match=rf"frame 2 \(f1.png\) is {W}x{H - 2}, the first "
                                         rf"\(f0.png\) is {W}x{H}; every frame"):
        list(open_clip(tmp_path).frames())


def test_a_folder_notes_the_animated_files_it_takes_a_first_frame_of(tmp_path):
    """A folder's frames are stills: an animated GIF among them gives its first frame, and a note
    names it (it was taken silently)."""
    frames = clip_frames(4)
    for n, frame in enumerate(frames[:2]):
        Image.fromarray(frame).save(tmp_path / f"f{n}.png")
    save_apng(tmp_path / "f2.png", frames[2:], [50, 50], 0)
    clip = open_clip(tmp_path)
    read = [frame.pixels for frame in clip.frames()]
    assert len(read) == 3 and np.array_equal(read[2], frames[2])
    assert any("only the first frame of 1 animated file taken (f2.png)" in note
               for note in clip.notes)
    (tmp_path / "f2.png").unlink()
    assert not open_clip(tmp_path).notes


def test_a_read_gif_plays_delays_under_20_ms_as_browsers_do(tmp_path):
    """Browsers (and ffmpeg) play a GIF delay of 0 or 1 centisecond as 100 ms; so does a read."""
    images = [Image.fromarray(f) for f in clip_frames(4)]
    images[0].save(tmp_path / "d.gif", save_all=True, append_images=images[1:],
                   duration=[0, 10, 20, 30], loop=0)
    assert [f.duration for f in open_clip(tmp_path / "d.gif").frames()] == [100, 100, 20, 30]


@pytest.mark.parametrize("suffix", [".png", ".webp"])
def test_a_read_apng_or_webp_plays_frames_of_10_ms_or_less_as_browsers_do(tmp_path, suffix):
    """Firefox, Chromium and WebKit play any animated frame of at most 10 ms for 100 ms: an APNG
    of 0 ms frames was one frame of 0 ms."""
    images = [Image.fromarray(f) for f in clip_frames(4)]
    images[0].save(tmp_path / f"d{suffix}", save_all=True, append_images=images[1:],
                   duration=[0, 10, 11, 30], loop=0, lossless=True)
    assert [f.duration for f in open_clip(tmp_path / f"d{suffix}").frames()] == [100, 100, 11, 30]


def test_gif_takes_a_wider_table_where_transparency_codes_smaller(tmp_path):
    from quantize.io.formats import gif_lzw_blocks
    from quantize.animation.temporal import MappedFrame

    rng = np.random.default_rng(4)
    a = np.array([[0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255]], np.uint8)
    first = rng.integers(0, 4, (200, 200)).astype(np.int16)
    second = first.copy()
    for n, (y, x) in enumerate([(0, 0), (199, 199), (50, 60), (120, 30), (80, 150)]):
        second[y, x] = (first[y, x] + 1) % 4 if n < 2 else n - 1  # every index among the changed
    assert set(second[second != first]) == {0, 1, 2, 3}
    frames = [MappedFrame(0, a, first, a[first], 50), MappedFrame(0, a, second, a[second], 50)]
    gif = _gif_of(tmp_path, frames)
    assert np.array_equal(gif[1], a[second])
    data = (tmp_path / "w.gif").read_bytes()
    control = data.index(b"\x21\xf9\x04", data.index(b"\x21\xf9\x04") + 1)  # the second frame's
    flags, transparent = data[control + 3], data[control + 6]
    descriptor = data[control + 8:control + 18]
    assert descriptor[0] == ord(",") and flags & 1 and transparent == 4  # the entry after a's
    assert descriptor[9] & 0x87 == 0x82  # a local table of 8 entries
    plain = len(gif_lzw_blocks(second, 2))  # the same frame coded whole with the full table of 4
    assert len(data) < len(gif_lzw_blocks(first, 2)) + plain // 2


def gif_images(data: bytes) -> list[tuple[tuple[slice, slice], int | None]]:
    """Each image of a GIF: its rectangle (rows, columns) and its local colour table's entries
    (None: it takes the global table)."""
    pos = 13 + (3 << (data[10] & 7) + 1 if data[10] & 0x80 else 0)
    images = []
    while data[pos] != 0x3B:
        if data[pos] == 0x21:  # an extension: its label, then sub-blocks
            pos += 2
        else:
            left, top, width, height, flags = struct.unpack_from("<HHHHB", data, pos + 1)
            entries = 2 << (flags & 7) if flags & 0x80 else None
            images.append(((slice(top, top + height), slice(left, left + width)), entries))
            pos += 10 + 3 * (entries or 0) + 1  # the descriptor, the table, the LZW code size
        while data[pos]:
            pos += data[pos] + 1
        pos += 1
    return images


def test_a_gif_frame_of_its_own_palette_takes_only_the_colours_its_rectangle_shows(tmp_path):
    """A palette per frame, each rectangle showing few of its colours: each frame's local table
    was the whole palette (and its LZW codes as wide); it holds now only what the rectangle
    shows (and a transparent index), and the frames are the same as the .qnt's and APNG's."""
    blocks = np.array([[(i * 70 % 256, i * 150 % 256, 255 - i * 20) for i in range(12)]],
                      np.uint8).reshape(3, 4, 3)
    background = np.repeat(np.repeat(blocks, 8, axis=0), 10, axis=1)  # 12 blocks of 10x8
    frames = []
    for t in range(6):
        frame = background.copy()
        frame[2:6, 1 + t:5 + t] = (250, 30 + 30 * t, 40)  # a square of its own colour per frame
        frames.append(frame)
    result = animate(quantize.frames_clip(frames, 50),
                     AnimationOptions(formats=("gif", "png", "qnt"), palette_mode="frame",
                                      fit=_fit(16)))
    assert result.n_palettes == 6
    (tmp_path / "o.gif").write_bytes(result.outputs["gif"])
    (tmp_path / "o.png").write_bytes(result.outputs["png"])
    gif, png = decoded(tmp_path / "o.gif")[0], decoded(tmp_path / "o.png")[0]
    qnt = list(decode_animation(result.outputs["qnt"]).frames())
    assert len(gif) == len(png) == len(qnt) == 6
    for a, b, c in zip(gif, png, qnt):
        assert np.array_equal(a, b) and np.array_equal(a, c)
    images = gif_images(result.outputs["gif"])
    assert len(images) == 6 and all(entries for _, entries in images[1:])
    for (rect, entries), shown in zip(images[1:], gif[1:]):
        colours = len(np.unique(shown[rect].reshape(-1, 3), axis=0))
        assert colours < 4 and entries <= 4  # the colours shown and a transparent index


def test_a_following_palette_at_256_leaves_gif_one_index():
    from quantize.animation.palettes import PaletteSchedule

    frames = fade_frames()
    clip = Clip("c", "test", 0, lambda: iter([Frame(f, 40) for f in frames]))
    schedule = PaletteSchedule(scan_clip(clip.frames()), "frame", _fit(256))
    assert [len(schedule.palette_for(n, f)[1]) for n, f in enumerate(frames[:3])] == [256, 255, 255]


def test_max_bytes_picks_the_largest_k_that_fits(tmp_path):
    source = save_apng(tmp_path / "clip.png", clip_frames(), [50] * 6, 0)
    budget = len(animate(source, AnimationOptions(fit=_fit(8))).outputs["gif"])
    out = tmp_path / "out"
    done = run("animate", source, "-o", out, "-k", "64", "--format", "gif,qnt", "--max-bytes",
               f"{budget / 1000}k", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    k, sizes = report["k"], {int(key): size for key, size in report["budget"]["sizes"].items()}
    written = (out / "clip.anim.gif").stat().st_size
    assert 8 <= k <= 64 and written == sizes[k] <= budget and (out / "clip.anim.qnt").exists()
    assert k == 64 or sizes[k + 1] > budget
    assert ("leaves more colours" in done.stderr) == (k < 16)


def test_a_budget_that_k_256_fits_does_not_say_a_larger_k_may_fit():
    frames = [Frame(f, 50) for f in clip_frames(2)]
    clip = Clip("c", "test", 0, lambda: iter(frames))
    result = animate(clip, AnimationOptions(formats=("gif",)), max_bytes=10 ** 9)
    assert result.k == 256 and "larger K" not in result.budget.pick.reason


@pytest.mark.parametrize("k, colours", [(4, "4 colours"), (1, "1 colour")])
def test_a_budget_that_leaves_few_colours_says_how_to_leave_more(tmp_path, k, colours):
    """The note counts the frames shown (6), not those left after merging, and says "colour"
    of one."""
    source = save_apng(tmp_path / "clip.png", clip_frames(), [50] * 6, 0)
    budget = len(animate(source, AnimationOptions(formats=("gif",), fit=_fit(k))).outputs["gif"])
    done = run("animate", source, "-o", tmp_path / "out", "--format", "gif", "--max-bytes",
               str(budget))
    assert done.returncode == 0, done.stderr
    assert f"note: {budget:,} B leaves {colours} to each of 6 frames of {W}x{H}" in done.stderr
    assert "--width or --fps leaves more colours to each" in done.stderr


def test_max_bytes_below_every_k_is_one_line_exit_2_and_nothing_written(tmp_path):
    source = save_apng(tmp_path / "clip.png", clip_frames(), [50] * 6, 0)
    done = run("animate", source, "-o", tmp_path / "out", "--max-bytes", "50")
    assert done.returncode == 2 and "smallest gif file, at K=1" in done.stderr
    assert done.stderr.strip().count("\n") == 0, done.stderr
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_transparent_clip_keeps_its_transparency_at_k_1_so_searches_run_on_it(tmp_path):
    """At K = 1 the one colour took in the transparent pixels too (alpha 236 everywhere), which
    GIF refused ("no partial transparency"): so a target or a byte budget, which probe K = 1,
    failed on any clip with transparency. The transparent pixels keep their entry."""
    frames = []
    for frame in clip_frames(4):
        rgba = np.dstack([frame, np.full((H, W), 255, np.uint8)])
        rgba[:, :8, 3] = 0
        frames.append(rgba)
    clip = quantize.frames_clip(frames, 50)
    one = animate(clip, AnimationOptions(formats=("gif", "png"), fit=_fit(1)))
    for name in ("gif", "png"):
        (tmp_path / f"o.{name}").write_bytes(one.outputs[name])
        for shown, source in zip(decoded_rgba(tmp_path / f"o.{name}"), frames):
            np.testing.assert_array_equal(shown[..., 3], source[..., 3])
            assert len(np.unique(shown[:, 8:].reshape(-1, 4), axis=0)) == 1
    found = animate(clip, AnimationOptions(formats=("gif",), fit=_fit(64)),
                    target=Target(psnr=one.clip_psnr + 3))
    assert found.k > 1
    with pytest.raises(ParameterError, match="no K fits 50 B: the smallest gif file, at K=1"):
        animate(clip, AnimationOptions(formats=("gif",)), max_bytes=50)


# --------------------------------------------------------------------------------- quality targets

def gif_at(clip, k: int):
    """A plain run of ``clip`` at K, GIF only."""
    return animate(clip, AnimationOptions(formats=("gif",), fit=_fit(k)))


def between_4_and_32(clip, name: str) -> Target:
    """A target on ``name`` (psnr or delta_e) halfway between the clip's at K=4 and K=32."""
    low, high = gif_at(clip, 4), gif_at(clip, 32)
    if name == "psnr":
        return Target(psnr=(low.clip_psnr + high.clip_psnr) / 2)
    return Target(delta_e=(low.mean_delta_e + high.mean_delta_e) / 2)


def counting(monkeypatch) -> tuple[list[int], list[int]]:
    """Record the K of every second pass and count the first passes of quantize.animation.run."""
    import quantize.animation.run as module

    passes, scans = [], []
    animate_one, scan = module._animate, module.scan_clip
    monkeypatch.setattr(module, "_animate",
                        lambda clip, s, options, **kept: passes.append(options.fit.k)
                        or animate_one(clip, s, options, **kept))
    monkeypatch.setattr(module, "scan_clip", lambda *a, **kw: scans.append(1) or scan(*a, **kw))
    return passes, scans


@pytest.mark.parametrize("name", ["psnr", "delta_e"])
def test_target_picks_the_smallest_k_that_meets_it(name, monkeypatch):
    clip = Clip("c", "test", 0, lambda: iter([Frame(f, 40) for f in clip_frames()]))
    target = between_4_and_32(clip, name)
    passes, scans = counting(monkeypatch)
    result = animate(clip, AnimationOptions(formats=("gif",), fit=_fit(64)), target=target)
    assert scans == [1] and sorted(passes) == sorted(result.search.probes)  # the winner not rerun
    k = result.k
    assert 4 < k <= 32 and result.search.k == k  # K=4 fails, K=32 meets it: doubling reaches it
    plain, below = gif_at(clip, k), gif_at(clip, k - 1)
    assert target.met(plain) and not target.met(below)
    assert result.outputs["gif"] == plain.outputs["gif"] and result.psnr == plain.psnr
    assert result.search.probes[k - 1].psnr == below.psnr
    report = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert report["k"] == k and report["budget"] is None
    assert report["target"][name] == getattr(target, name)
    assert report["target"]["probes"][str(k - 1)]["mean_psnr"] == below.mean_psnr
    assert f"while K={k - 1} gives " in result.search.pick.reason


def test_a_psnr_target_judges_the_clips_mean_error_not_its_frames_mean_psnr():
    """Exact frames (a title card) count as 100 dB in the mean of per-frame PSNRs; the target
    judges the PSNR of the mean squared error, which they cannot lift past poor frames."""
    title = np.zeros((H, W, 3), np.uint8)
    title[:, W // 2:] = 255
    frames = [title] * 3 + clip_frames(3)  # 2 colours, then photos
    clip = Clip("c", "test", 0, lambda: iter([Frame(f, 40) for f in frames]))
    at_4 = gif_at(clip, 4)
    assert at_4.mean_psnr > at_4.clip_psnr + 10  # the exact frames' 100 dB lift the mean
    target = Target(psnr=(at_4.clip_psnr + gif_at(clip, 32).clip_psnr) / 2)
    assert at_4.mean_psnr > target.psnr  # the mean of frames' PSNRs would call K=4 good enough
    result = animate(clip, AnimationOptions(formats=("gif",), fit=_fit(64)), target=target)
    assert result.k > 4 and result.clip_psnr >= target.psnr
    errors = [255 ** 2 / 10 ** (p / 10) for p in result.psnr]
    assert result.clip_psnr == pytest.approx(10 * np.log10(255 ** 2 / np.mean(errors)))
    assert result.to_dict()["clip_psnr"] == result.clip_psnr


def test_target_nobody_meets_and_a_target_with_a_budget_are_refused():
    from quantize.jobs.sweep import TargetMissed

    clip = Clip("c", "test", 0, lambda: iter([Frame(f, 40) for f in clip_frames(3)]))
    with pytest.raises(TargetMissed, match=r"no K up to 8 meets PSNR >= 90 dB \(K=8 gives PSNR"):
        animate(clip, AnimationOptions(formats=("gif",), fit=_fit(8)), target=Target(psnr=90))
    with pytest.raises(ParameterError, match="each choose K"):
        animate(clip, AnimationOptions(fit=_fit(8)), max_bytes=10_000, target=Target(psnr=20))


def test_a_target_missed_at_256_colours_asks_for_no_larger_k():
    """256 is the most an animation takes: a target it misses is beyond reach, not a K limit to
    raise."""
    from quantize.jobs.sweep import TargetMissed

    noise = np.random.default_rng(3).integers(0, 256, (3, 24, 32, 3), dtype=np.uint8)
    clip = Clip("c", "test", 0, lambda: iter([Frame(f, 40) for f in noise]))
    with pytest.raises(TargetMissed, match=r"beyond what 256 colours reach, and no larger K is "
                                           r"allowed: relax the target") as missed:
        animate(clip, AnimationOptions(formats=("gif",), fit=_fit(256)), target=Target(psnr=90))
    assert "raise the K limit" not in str(missed.value)


def test_animate_target_on_the_command_line(tmp_path):
    source = save_apng(tmp_path / "clip.png", clip_frames(), [50] * 6, 0)
    target = between_4_and_32(source, "psnr")
    expected = animate(source, AnimationOptions(formats=("gif",), fit=_fit(64)), target=target)
    out = tmp_path / "out"
    done = run("animate", source, "-o", out, "-k", "64", "--format", "gif,qnt", "--target-psnr",
               target.psnr, "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["k"] == expected.k and report["target"]["psnr"] == target.psnr
    assert sorted(map(int, report["target"]["probes"])) == sorted(expected.search.probes)
    assert (out / "clip.anim.gif").read_bytes() == expected.outputs["gif"]
    assert (out / "clip.anim.qnt").exists()
    text = run("animate", source, "-o", out, "-k", "64", "--target-psnr", target.psnr, "-f")
    assert f"  K={expected.k}: {expected.search.pick.reason}" in text.stdout.splitlines()


def test_animate_target_missed_or_with_max_bytes_is_one_line_and_nothing_written(tmp_path):
    source = save_apng(tmp_path / "clip.png", clip_frames(), [50] * 6, 0)
    out = tmp_path / "out"
    missed = run("animate", source, "-o", out, "-k", "8", "--target-psnr", "90")
    assert missed.returncode == 2 and "no K up to 8 meets PSNR >= 90 dB" in missed.stderr
    both = run("animate", source, "-o", out, "--max-bytes", "100k", "--target-delta-e", "5")
    assert both.returncode == 2 and "--max-bytes and a quality target each choose K" in both.stderr
    for done in (missed, both):
        assert done.stderr.strip().count("\n") == 0, done.stderr
    assert not out.exists() or not any(out.iterdir())


def test_sweep_of_an_animation_picks_the_target_reusing_its_rows(tmp_path, monkeypatch, capsys):
    from quantize.cli import main

    source = save_gif(tmp_path / "clip.gif", clip_frames(), [50] * 6)
    target = between_4_and_32(source, "psnr")
    expected = animate(source, AnimationOptions(formats=("gif",), fit=_fit(32)), target=target)
    passes, scans = counting(monkeypatch)
    with pytest.raises(SystemExit) as stopped:
        main(["sweep", str(source), "-k", "4,8,16,32", "--target-psnr", str(target.psnr), "--json"])
    assert stopped.value.code == 0
    picks = json.loads(capsys.readouterr().out)["picks"]
    assert picks["target"]["k"] == expected.k  # a still's keys, the two it has not null
    assert set(picks) == {"elbow", "silhouette", "target", "budget"}
    assert picks["silhouette"] is None and picks["budget"] is None
    same = expected.search.pick.reason.split(";")[0]  # the values at K and K-1, not the count
    added = expected.k not in (4, 8, 16, 32)  # then run once more for its row, with its poster
    assert picks["target"]["reason"] == f"{same}; {len(set(passes))} K evaluated" + \
        "; its row is added to the K asked" * added
    assert scans == [1] and passes[:4] == [4, 8, 16, 32] and len(passes) == len(set(passes)) + added
    missed = run("sweep", source, "-k", "4,8", "--target-psnr", "90", "-q")
    lines = missed.stdout.splitlines()
    assert missed.returncode == 0 and [line.split()[0] for line in lines[1:3]] == ["4", "8"]
    assert lines[-2].startswith("elbow: ")
    assert lines[-1].startswith("target: none (no K up to 8 meets PSNR >= 90 dB (K=8 gives PSNR")


# ------------------------------------------------------------------------------------------- batch

def save_gif(path: Path, frames: list[np.ndarray], durations: list[int]) -> Path:
    images = [Image.fromarray(f) for f in frames]
    images[0].save(path, save_all=True, append_images=images[1:], duration=durations, loop=0)
    return path


def test_batch_writes_an_animated_gif_as_an_animation_and_resumes_it(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(clip_frames(1, seed=5)[0]).save(src / "still.png")
    durations = [40, 60, 80, 100]
    save_gif(src / "clip.gif", clip_frames(4), durations)
    out = tmp_path / "out"
    done = run("batch", src, "-o", out, "--format", "gif,qnt", "-k", "16", "-j", "1", "-q")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "clip.anim.gif", "clip.anim.qnt", "manifest.csv", "manifest.json", "still.preview.gif",
        "still.qnt"]
    frames, got_durations, _ = decoded(out / "clip.anim.gif")
    assert len(frames) == 4 and got_durations == durations
    qnt = decode_animation((out / "clip.anim.qnt").read_bytes())
    assert list(qnt.durations) == durations
    assert all(np.array_equal(a, b) for a, b in zip(frames, qnt.frames()))
    rows = {r["path"]: r for r in json.loads((out / "manifest.json").read_text())["rows"]}
    clip, still = rows["clip.gif"], rows["still.png"]
    assert clip["status"] == still["status"] == "ok"
    assert clip["frames"] == 4 and clip["k"] == 16
    sources = decoded(src / "clip.gif")[0]
    mses = [np.mean((a.astype(float) - b) ** 2) for a, b in zip(sources, frames)]
    # the manifest keeps 4 decimals
    assert clip["psnr"] == pytest.approx(np.mean([10 * np.log10(255 ** 2 / m) for m in mses]),
                                         abs=5e-5)
    assert clip["gif_file"] == "clip.anim.gif" and clip["packed_file"] == "clip.anim.qnt"
    assert clip["gif_bytes"] == (out / "clip.anim.gif").stat().st_size
    assert still["packed_file"] == "still.qnt" and "frames" not in still
    assert "animation: 4 frames" in clip["notes"]

    (out / "clip.anim.gif").write_bytes(b"GIF89a")  # a damaged output is redone on --resume
    again = run("batch", src, "-o", out, "--format", "gif,qnt", "-k", "16", "-j", "1", "--resume")
    assert again.returncode == 0, again.stderr
    assert "(1 kept from the last run)" in again.stdout
    assert len(decoded(out / "clip.anim.gif")[0]) == 4


def test_batch_rows_of_animations_keep_what_reading_them_noted(tmp_path):
    """As a still's row does: here GIF's alpha, which made half-transparent pixels opaque."""
    src = tmp_path / "in"
    src.mkdir()
    frames = [np.dstack([f, np.full((H, W), 100, np.uint8)]) for f in clip_frames(3)]
    save_apng(src / "soft.png", frames, [50] * 3, 0)
    done = run("batch", src, "-o", tmp_path / "out", "--format", "gif", "-k", "16", "-j", "1")
    assert done.returncode == 0, done.stderr
    (row,) = json.loads((tmp_path / "out" / "manifest.json").read_text())["rows"]
    assert "animation: 3 frames" in row["notes"]
    assert "GIF has no partial transparency" in row["notes"]


def test_batch_leaves_a_lossless_animation_out_of_its_mean_psnr_as_a_still(tmp_path):
    """A lossless still has no PSNR and is left out of the batch's mean; a lossless animation
    counted as 100 dB in it ("mean PSNR 60.55 dB (1 lossless left out)")."""
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(clip_frames(1, seed=5)[0]).save(src / "still.png")
    few = [frame // 128 * 128 for frame in clip_frames(4)]  # at most 8 + 4 colours: exact at K 16
    save_gif(src / "clip.gif", few, [50] * 4)
    done = run("batch", src, "-o", tmp_path / "out", "--format", "gif", "-k", "16", "-j", "1")
    assert done.returncode == 0, done.stderr
    rows = {r["path"]: r for r in
            json.loads((tmp_path / "out" / "manifest.json").read_text())["rows"]}
    assert rows["clip.gif"]["psnr"] is None and rows["clip.gif"]["frames"] == 4
    assert f"mean PSNR {rows['still.png']['psnr']:.2f} dB (1 lossless left out)" in done.stdout


def test_batch_makes_animated_inputs_smaller_and_slower_and_leaves_stills(tmp_path):
    """--width, --height, --fps and --plays act on an animated input as in animate; a still is
    written at its size; the bounds are part of the options a --resume must match."""
    src = tmp_path / "in"
    src.mkdir()
    still = clip_frames(1, seed=5)[0]
    Image.fromarray(still).save(src / "still.png")
    save_gif(src / "clip.gif", clip_frames(6), [40] * 6)
    out = tmp_path / "out"
    bounds = ("--width", W // 2, "--fps", 12.5, "--plays", 3)
    done = run("batch", src, "-o", out, "--format", "gif", "-k", "16", "-j", "1", "-q", *bounds)
    assert done.returncode == 0, done.stderr
    frames, durations, loop = decoded(out / "clip.anim.gif")
    assert frames[0].shape == (round(H / 2), W // 2, 3)
    assert durations == [80, 80, 80] and loop == 2  # frames 0, 2, 4 at 80 ms; 3 plays
    assert decoded(out / "still.preview.gif")[0][0].shape == still.shape
    options = json.loads((out / "manifest.json").read_text())["options"]
    assert options["resample"] == {"width": W // 2, "fps": 12.5, "plays": 3}
    again = run("batch", src, "-o", out, "--format", "gif", "-k", "16", "-j", "1", "--resume")
    assert again.returncode == 2 and (f"(--width {W // 2}, now not given; --fps 12.5, now not "
                                      "given; --plays 3, now not given)") in again.stderr, again.stderr


@pytest.mark.parametrize("bound", [("--width", 0), ("--height", -3), ("--fps", 0),
                                   ("--fps", 5000), ("--plays", -1)])
def test_batch_refuses_an_unusable_bound_before_any_work(tmp_path, bound):
    src = tmp_path / "in"
    src.mkdir()
    save_gif(src / "clip.gif", clip_frames(2), [40, 40])
    done = run("batch", src, "-o", tmp_path / "out", "-j", "1", *bound)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert bound[0][2:] in done.stderr and not (tmp_path / "out").exists()


def test_batch_tells_clashing_outputs_by_the_names_they_really_take(tmp_path):
    """A clip's outputs are <stem>.anim.<ext>: a clip and a still of one stem do not clash; two
    clips of one stem do, and are refused by the files they share."""
    from quantize.jobs.discovery import plan

    src = tmp_path / "in"
    src.mkdir()
    save_gif(src / "a.gif", clip_frames(3), [50] * 3)
    Image.fromarray(clip_frames(1)[0]).save(src / "a.png")
    apart = plan([src], tmp_path / "out")
    assert not apart.rows and [j.name for j in apart.jobs] == ["a.gif", "a.png"]
    save_apng(src / "a.png", clip_frames(3), [50] * 3, 0)
    with pytest.raises(InputError, match=r"a\.gif and .*a\.png both take the outputs a\.anim\.\* "):
        plan([src], tmp_path / "out")


def test_batch_fails_an_animation_only_for_a_format_it_has_no_animated_form_of(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(clip_frames(1, seed=5)[0]).save(src / "still.png")
    save_gif(src / "clip.gif", clip_frames(3), [50, 50, 50])
    out = tmp_path / "out"
    done = run("batch", src, "-o", out, "--format", "qnt,c", "-k", "16", "-j", "1", "-q")
    assert done.returncode == 1
    assert done.stderr.strip() == ("quantize: failed: clip.gif: an animation has no c form; it is "
                                   "written as gif, png, webp, qnt")
    assert sorted(p.name for p in out.iterdir()) == ["manifest.csv", "manifest.json", "still.h",
                                                     "still.qnt"]


# ------------------------------------------------------------------------------------------- sweep

def test_sweep_of_an_animation_makes_it_smaller_and_slower_first(tmp_path):
    source = save_gif(tmp_path / "clip.gif", clip_frames(6), [40] * 6)
    swept = run("sweep", source, "-k", "4,8", "--json", "-q", "--width", W // 2, "--fps", 12.5)
    assert swept.returncode == 0, swept.stderr
    rows = json.loads(swept.stdout)["rows"]
    assert [(r["width"], r["frames_read"], r["durations_ms"]) for r in rows] == \
        [(W // 2, 3, [80, 80, 80])] * 2
    assert rows[0]["source"] == {"width": W, "height": H, "frames": 6, "fps": 25.0,
                                 "fps_asked": 12.5}
    still = tmp_path / "still.png"
    Image.fromarray(clip_frames(1)[0]).save(still)
    refused = run("sweep", still, "-k", "4", "--width", 8)
    assert refused.returncode == 2 and refused.stderr.startswith(
        "quantize: error: --width, --height, --fps and --plays apply to an animated input")
    bad = run("sweep", source, "-k", "4", "--plays", -1, "-o", tmp_path / "out")
    assert bad.returncode == 2 and "plays must be 0" in bad.stderr
    assert not (tmp_path / "out").exists()


def test_sweep_of_an_animation_reports_each_k_as_animate_writes_it(tmp_path):
    source = save_gif(tmp_path / "clip.gif", clip_frames(5), [40, 50, 60, 70, 80])
    pictures = tmp_path / "pictures"
    done = run("sweep", source, "-k", "16,4", "--json", "-o", pictures)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in pictures.iterdir()) == ["k0004.anim.gif", "k0016.anim.gif",
                                                          "report.html", "sweep.chart.png",
                                                          "sweep.sheet.png"]
    rows = json.loads(done.stdout)["rows"]
    assert [r["k"] for r in rows] == [4, 16] and all(r["frames_read"] == 5 for r in rows)
    one = run("animate", source, "-o", tmp_path / "out", "-k", "16", "--json")
    assert one.returncode == 0, one.stderr
    animated = json.loads(one.stdout)
    assert rows[1]["bytes"] == animated["bytes"]
    # each K's GIF is the file animate writes at that K
    written = (tmp_path / "out" / "clip.anim.gif").read_bytes()
    assert (pictures / "k0016.anim.gif").read_bytes() == written
    again = run("sweep", source, "-k", "4,8", "-o", pictures)  # k0004 exists: nothing is written
    assert again.returncode != 0 and not (pictures / "k0008.anim.gif").exists()
    assert rows[1]["mean_psnr"] == animated["mean_psnr"] > rows[0]["mean_psnr"]
    table = run("sweep", source, "-k", "4,16", "-q").stdout.splitlines()
    assert table[0].split()[:5] == ["K", "frames", "palettes", "GIF", "B"]
    assert [line.split()[0] for line in table[1:3]] == ["4", "16"]
    assert table[3:] == ["", "elbow: none (the elbow needs at least 3 values of K)"]
    assert table[2].split()[3] == f"{animated['bytes']['gif']:,}"


def test_sweep_of_a_frames_folder_or_glob_is_the_sweep_of_that_clip(tmp_path):
    folder = tmp_path / "frames"
    folder.mkdir()
    for t, frame in enumerate(clip_frames(4)):
        Image.fromarray(frame).save(folder / f"f{t}.png")
    animated = json.loads(run("animate", folder, "-o", tmp_path / "out", "-k", "8",
                              "--json").stdout)
    for source in (folder, folder / "f*.png"):
        done = run("sweep", source, "-k", "8", "--json")
        assert done.returncode == 0, done.stderr
        [row] = json.loads(done.stdout)["rows"]
        assert row["frames_read"] == 4 and row["bytes"] == animated["bytes"]


def test_sweep_of_an_animation_draws_its_middle_frame_at_each_k_and_a_page(tmp_path):
    from quantize.render.sheet import GAP, LABEL_H, tile_size

    source = save_gif(tmp_path / "clip.gif", clip_frames(5), [40, 50, 60, 70, 80])
    pictures = tmp_path / "pictures"
    done = run("sweep", source, "-k", "2,4,8", "--json", "-o", pictures)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    for row in report["rows"]:  # each row names the GIF it wrote
        assert Path(row["files"]["gif"]).stat().st_size == row["bytes"]["gif"]
    # the sheet: the source's middle frame, then that frame as each K's GIF shows it, tiles
    # enlarged by a whole factor so each is the frame's pixels exactly
    sheet = np.asarray(Image.open(pictures / "sweep.sheet.png").convert("RGB"))
    tw, th = tile_size(W, H)
    cell_w = max(tw, 150)

    def tile(i: int) -> np.ndarray:
        x, y = GAP + (i % 2) * (cell_w + GAP), GAP + (i // 2) * (th + LABEL_H + GAP)
        return sheet[y:y + th:th // H, x:x + tw:tw // W]

    def frame_of(path: Path, number: int) -> np.ndarray:
        gif = Image.open(path)
        gif.seek(number)
        return np.asarray(gif.convert("RGB"))

    assert np.array_equal(tile(0), frame_of(source, 2))  # the source as the sweep decoded it
    for i, k in enumerate((2, 4, 8), start=1):
        shown = frame_of(pictures / f"k{k:04d}.anim.gif", 2)
        assert np.array_equal(tile(i), shown)
        assert len(np.unique(shown.reshape(-1, 3), axis=0)) <= k
    page = (pictures / "report.html").read_text()
    elbow = report["picks"]["elbow"]
    assert f"<li>elbow: {'none' if elbow['k'] is None else 'K=' + str(elbow['k'])}" in page
    for row in report["rows"]:  # every K's row, with its GIF's bytes, in the page's table
        assert f"<td>{row['k']}</td>" in page and f"<td>{row['bytes']['gif']:,}</td>" in page
    assert page.count('src="data:image/png;base64,') == 2 and "clip.gif" in page
    chart = Image.open(pictures / "sweep.chart.png")
    assert chart.size == (1200, 480)


def test_sweep_of_an_animation_picks_the_elbow_of_its_error(tmp_path):
    from quantize.jobs.sweep import kneedle

    source = save_gif(tmp_path / "clip.gif", clip_frames(4), [40, 50, 60, 70])
    done = run("sweep", source, "-k", "2,4,8,16,32", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    rows = report["rows"]
    errors = [np.mean([255 ** 2 / 10 ** (db / 10) for db in r["psnr"]]) for r in rows]
    expected = kneedle([r["k"] for r in rows], errors, "mean MSE")
    assert report["picks"]["elbow"] == {"k": expected.k, "reason": expected.reason}
    assert expected.k in (4, 8, 16) and "Kneedle on mean MSE against log2 K" in expected.reason
    table = run("sweep", source, "-k", "2,4,8,16,32", "-q").stdout.splitlines()
    assert table[-1] == expected.line("elbow")
    two = json.loads(run("sweep", source, "-k", "4,16", "--json").stdout)
    assert two["picks"]["elbow"]["k"] is None  # two values of K have no bend


def test_sweep_of_an_animation_writes_its_rows_as_csv(tmp_path):
    import csv

    source = save_gif(tmp_path / "clip.gif", clip_frames(4), [40, 50, 60, 70])
    table = tmp_path / "t.csv"
    done = run("sweep", source, "-k", "4,16", "--json", "--csv", table)
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)["rows"]
    lines = list(csv.DictReader(table.open()))
    assert [int(line["k"]) for line in lines] == [4, 16]
    for line, row in zip(lines, rows):
        assert int(line["bytes_gif"]) == row["bytes"]["gif"]
        assert float(line["bits_per_pixel_gif"]) == row["bits_per_pixel"]["gif"]
        assert float(line["mean_psnr"]) == round(row["mean_psnr"], 4)  # as a still's psnr
        assert float(line["min_psnr"]) == round(min(row["psnr"]), 4)
        assert int(line["frames_written"]) == row["frames_written"]
    before = table.read_bytes()
    again = run("sweep", source, "-k", "8", "--csv", table)  # an existing file needs --force
    assert again.returncode != 0 and len(again.stderr.splitlines()) == 1
    assert table.read_bytes() == before
    assert run("sweep", source, "-k", "8", "--csv", table, "--force", "-q").returncode == 0
    assert [int(line["k"]) for line in csv.DictReader(table.open())] == [8]


def test_sweep_of_an_animation_refuses_what_it_cannot_do(tmp_path):
    source = save_gif(tmp_path / "clip.gif", clip_frames(3), [50, 50, 50])
    done = run("sweep", source, "-k", "4", "--sample", "100", "--csv", tmp_path / "t.csv")
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1
    assert "--sample does not apply" in done.stderr
    assert not (tmp_path / "t.csv").exists()
    assert "--rdo does not apply" in run("sweep", source, "-k", "4", "--rdo", "5").stderr


# ------------------------------------------------------------------------------------------- video

def make_video(folder: Path, frames: list[np.ndarray], suffix: str = ".mp4") -> Path:
    """``folder/clip<suffix>``: ``frames`` at 30 fps, coded losslessly (needs the 'video' extra)."""
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    work = folder / "frames"
    work.mkdir()
    for i, frame in enumerate(frames):
        Image.fromarray(frame).save(work / f"f{i}.png")
    video = folder / f"clip{suffix}"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-framerate", "30", "-i",
                    work / "f%d.png", "-c:v", "libx264rgb", "-qp", "0", video], check=True)
    return video


def test_video_is_read_through_imageio_with_durations_from_its_frame_rate(tmp_path):
    frames = clip_frames(6)
    video = make_video(tmp_path, frames)
    done = run("animate", video, "-o", tmp_path / "out", "--format", "qnt,gif", "-k", "64",
               "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["frames_read"] == 6 and report["plays"] == 0
    assert report["source"] == {"width": W, "height": H, "frames": 6, "fps": 30.0,
                                "fps_asked": None}
    assert report["durations_ms"] == [33, 34, 33, 33, 34, 33]  # 6 frames of 1/30 s: 200 ms
    qnt = decode_animation((tmp_path / "out" / "clip.anim.qnt").read_bytes())
    psnrs = [10 * np.log10(255 ** 2 / np.mean((a.astype(float) - b) ** 2))
             for a, b in zip(frames, qnt.frames())]  # a lossless video: the frames as made
    assert report["mean_psnr"] == pytest.approx(np.mean(psnrs))


def test_a_cut_video_is_refused_and_one_with_longer_audio_is_not(tmp_path):
    video = make_video(tmp_path, clip_frames(12), ".mkv")
    data = video.read_bytes()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[:len(data) * 6 // 10])  # imageio ends its frames at the cut, no error
    done = run("animate", cut, "-o", tmp_path / "out", "-k", "16")
    assert done.returncode == 3 and not (tmp_path / "out").exists()
    assert re.fullmatch(r"quantize: error: .*cut.mkv: damaged or truncated: \d+ frames decode of "
                        r"the 0.40 s it announces \(.+\)\n", done.stderr)
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    longer = tmp_path / "longer.mkv"  # its container lasts 2 s, the video 0.4 s
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", video, "-f", "lavfi",
                    "-i", "sine=d=2", "-c:v", "copy", "-c:a", "libopus", longer], check=True)
    done = run("animate", longer, "-o", tmp_path / "out", "-k", "16", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["frames_read"] == 12


def test_a_variable_rate_video_keeps_its_timing_and_a_video_its_alpha(tmp_path):
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    vfr = tmp_path / "vfr.mp4"  # 30 fps for 1 s, then 1 s without a new frame, then 10 fps
    subprocess.run([ffmpeg, "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=64x36:rate=30",
                    "-t", "3", "-vf", "select='lt(t,1)+gte(t,2)*not(mod(n,3))'", "-fps_mode", "vfr",
                    "-c:v", "libx264", "-pix_fmt", "yuv420p", vfr], check=True)
    done = run("animate", vfr, "-o", tmp_path / "v", "--format", "qnt", "--json", "-q")
    report = json.loads(done.stdout)
    assert 2900 <= sum(report["durations_ms"]) <= 3100, report["durations_ms"]  # not 6.44 s
    assert max(report["durations_ms"]) >= 1000  # the pause is one long frame
    clear = tmp_path / "alpha.mov"  # the right half fully transparent
    subprocess.run([ffmpeg, "-v", "error", "-f", "lavfi", "-i",
                    "testsrc2=size=64x36:rate=25,format=rgba,geq=r='r(X,Y)':g='g(X,Y)':"
                    "b='b(X,Y)':a='if(lt(X,32),255,0)'", "-t", "0.2", "-c:v", "png", clear],
                   check=True)
    done = run("animate", clear, "-o", tmp_path / "a", "--format", "png", "--json", "-q")
    assert json.loads(done.stdout)["channels"] == 4, done.stderr
    shown = decoded_rgba(tmp_path / "a" / "alpha.anim.png")
    assert all((f[:, 32:, 3] == 0).all() and (f[:, :32, 3] == 255).all() for f in shown)


def test_a_variable_rate_video_with_b_frames_shows_every_frame_at_its_time(tmp_path):
    """Frames 120 and 80 ms apart, a pause of a second, coded with B-frames: read with ffmpeg's
    -r at the base rate (25) frames were lost and others drawn out (7 of 13 written, 2.52 s for
    2.16). Every 40 ms slot now shows the frame ffmpeg decodes for that time."""
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    video = tmp_path / "b.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i",
                    "testsrc2=size=64x36:rate=25", "-t", "2.2", "-vf",
                    "select='(lt(t,0.6)+gte(t,1.5))*(not(mod(n,5))+eq(mod(n,5),3))'",
                    "-fps_mode", "vfr", "-c:v", "libx264", "-bf", "3", "-pix_fmt", "yuv420p",
                    video], check=True)
    starts = [n for n in range(55) if (n < 15 or n >= 38) and n % 5 in (0, 3)]  # in 40 ms slots
    reader = imageio_ffmpeg.read_frames(str(video), output_params=["-fps_mode", "passthrough"])
    next(reader)
    decoded = [np.frombuffer(data, np.uint8).reshape(36, 64, 3) for data in reader]
    assert len(decoded) == len(starts)
    expected = [frame for frame, start, end in zip(decoded, starts, [*starts[1:], 54])
                for _ in range(end - start)]
    read = list(open_clip(video).frames())
    assert len(read) >= 54 and {f.duration for f in read} == {40}  # the last frame's end varies
    assert all(np.array_equal(f.pixels, e) for f, e in zip(read, expected))
    assert all(np.array_equal(f.pixels, decoded[-1]) for f in read[54:])


def test_a_vp9_webm_with_alpha_keeps_it(tmp_path):
    """A VP9 (or VP8) WebM carries its alpha beside pixels of yuv420p, which ffmpeg's own
    decoder leaves out: it was read opaque, without a word. libvpx's decoder reads it."""
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    clear = tmp_path / "alpha.webm"  # the right half fully transparent
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i",
                    "testsrc2=size=64x36:rate=10,format=rgba,geq=r='r(X,Y)':g='g(X,Y)':"
                    "b='b(X,Y)':a='if(lt(X,32),255,0)'", "-t", "0.3", "-c:v", "libvpx-vp9",
                    "-lossless", "1", "-pix_fmt", "yuva420p", clear], check=True)
    frames = list(open_clip(clear).frames())
    assert len(frames) == 3 and all(f.pixels.shape == (36, 64, 4) for f in frames)
    assert all((f.pixels[:, 32:, 3] == 0).all() and (f.pixels[:, :32, 3] == 255).all()
               for f in frames)


def test_an_anamorphic_video_is_shown_at_its_display_aspect(tmp_path):
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    video = tmp_path / "wide.mp4"  # 48x36 stored, pixels 4:3 wide: shown 64x36
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i",
                    "testsrc2=size=48x36:rate=25", "-t", "0.2", "-vf", "setsar=4/3", "-c:v",
                    "libx264", "-pix_fmt", "yuv420p", video], check=True)
    done = run("animate", video, "-o", tmp_path / "o", "--json", "-q")
    report = json.loads(done.stdout)
    assert (report["width"], report["height"]) == (64, 36), done.stderr


def decoded_rgba(path: Path) -> list[np.ndarray]:
    im = Image.open(path)
    frames = []
    for i in range(im.n_frames):
        im.seek(i)
        frames.append(np.asarray(im.convert("RGBA")))
    return frames


def test_a_file_of_sound_alone_says_it_holds_no_video(tmp_path):
    imageio_ffmpeg = pytest.importorskip("imageio_ffmpeg")
    sound = tmp_path / "sound.mp4"
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i",
                    "sine=d=1", "-c:a", "aac", sound], check=True)
    done = run("animate", sound, "-o", tmp_path / "out")
    assert done.returncode == 3 and not (tmp_path / "out").exists()
    assert done.stderr.endswith("sound.mp4 holds no video stream (only audio)\n")


def test_batch_writes_a_video_as_an_animation(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    make_video(src, clip_frames(6))
    shutil.rmtree(src / "frames")
    Image.fromarray(clip_frames(1, seed=5)[0]).save(src / "still.png")
    out = tmp_path / "out"
    done = run("batch", src, "-o", out, "-k", "16", "-j", "1", "-q")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == [
        "clip.anim.qnt", "manifest.csv", "manifest.json", "still.qnt"]
    rows = {r["path"]: r for r in json.loads((out / "manifest.json").read_text())["rows"]}
    assert rows["clip.mp4"]["status"] == "ok" and rows["clip.mp4"]["frames"] == 6
    assert len(list(decode_animation((out / "clip.anim.qnt").read_bytes()).frames())) == 6


def test_batch_skips_videos_when_it_cannot_read_them(tmp_path, monkeypatch):
    from quantize.animation import source
    from quantize.jobs.discovery import plan

    src = tmp_path / "in"
    src.mkdir()
    (src / "clip.mp4").write_bytes(b"not read")
    Image.fromarray(clip_frames(1)[0]).save(src / "still.png")
    monkeypatch.setattr(source, "reads_video", lambda: False)
    found = plan([src], tmp_path / "out")
    assert [job.name for job in found.jobs] == ["still.png"]
    (row,) = found.rows
    assert row["path"] == "clip.mp4" and row["status"] == "skipped"
    assert "pip install imageio imageio-ffmpeg" in row["error"]
    monkeypatch.setattr(source, "reads_video", lambda: True)
    assert sorted(job.name for job in plan([src], tmp_path / "out").jobs) == ["clip.mp4", "still.png"]


def test_apng_of_many_palettes_blends_kept_pixels_over_when_that_is_smaller(tmp_path):
    from quantize.animation.apng import ApngWriter
    from quantize.animation.temporal import MappedFrame

    rng = np.random.default_rng(8)
    base = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)

    def written(frames: list[np.ndarray]) -> tuple[int, list[np.ndarray]]:
        writer = ApngWriter(64, 48, 0, 3, indexed=False)
        for number, colors in enumerate(frames):
            writer.add(MappedFrame(number, colors.reshape(-1, 3), np.zeros((48, 64), np.int16),
                                   colors, 40))
        (tmp_path / "a.png").write_bytes(data := writer.finish())
        return data[25], decoded(tmp_path / "a.png")[0]  # IHDR's colour type, the frames

    kept = [base]  # each frame changes 40 scattered pixels of the one before
    for t in range(1, 12):  # past the frames both codings are tried on
        frame = kept[-1].copy()
        frame[rng.integers(0, 48, 40), rng.integers(0, 64, 40)] = (t * 20, 0, 255 - t * 20)
        kept.append(frame)
    color_type, shown = written(kept)
    assert color_type == 6 and len(shown) == 12
    assert all(np.array_equal(a, b) for a, b in zip(shown, kept))
    moving = [np.roll(base, 3 * t, axis=1) for t in range(12)]  # every pixel changes
    color_type, shown = written(moving)
    assert color_type == 2 and all(np.array_equal(a, b) for a, b in zip(shown, moving))


def test_webp_codes_every_later_frame_as_its_changed_rectangle():
    rng = np.random.default_rng(9)
    background = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    frames = []
    for t in range(24):  # past libwebp's key frame distances, had they been asked for
        frame = background.copy()
        x = 2 + 4 * (t % 8)
        frame[8:14, x:x + 6] = (250, 10 * t, 40)
        frames.append(frame)
    clip = Clip("patch", "frames", 0, lambda: (Frame(f, 40) for f in frames))
    data = animate(clip, AnimationOptions(formats=("webp",), fit=_fit(16))).outputs["webp"]
    areas, pos = [], 12
    while pos < len(data):
        kind, size = data[pos:pos + 4], struct.unpack("<I", data[pos + 4:pos + 8])[0]
        if kind == b"ANMF":
            head = data[pos + 8:pos + 20]
            width = int.from_bytes(head[6:9], "little") + 1
            height = int.from_bytes(head[9:12], "little") + 1
            areas.append(width * height)
        pos += 8 + size + (size & 1)
    assert len(areas) == 24 and areas[0] == W * H
    assert max(areas[1:]) < W * H // 2  # where the square was and is, never a key frame


def test_a_still_is_read_as_compress_reads_it(tmp_path):
    """A still given to animate is oriented, converted and read by the same reader as compress:
    an EXIF-rotated JPEG was its stored way up, a float TIFF refused, a multi-page TIFF's pages
    taken as frames of 0 ms."""
    import tifffile

    from quantize.io.images import load_image

    rotated = tmp_path / "rot.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(clip_frames(1)[0]).save(rotated, exif=exif, quality=95)
    floats = tmp_path / "f.tif"
    tifffile.imwrite(floats, np.random.default_rng(0).random((20, 30, 3)).astype(np.float32),
                     photometric="rgb")
    pages = tmp_path / "pages.tif"
    Image.fromarray(clip_frames(1)[0]).save(pages, save_all=True,
                                            append_images=[Image.new("RGB", (64, 48))])
    for path in (rotated, floats, pages):
        clip = open_clip(path)
        frames = list(clip.frames())
        assert len(frames) == 1 and clip.plays == 1, path
        still = load_image(path)
        np.testing.assert_array_equal(frames[0].pixels, still.pixels)
        assert clip.notes == still.notes and still.notes, path


def test_an_apngs_gamma_is_applied_to_every_frame_as_compress_applies_it(tmp_path):
    """compress reads a PNG whose only colour information is a gAMA chunk of another gamma than
    sRGB's in sRGB's curve, as browsers show it, and says so; animate read the same APNG's frames
    alike (each frame is decoded by image_from_pillow) without a word."""
    import zlib

    from quantize.io.images import load_image

    data = save_apng(tmp_path / "c.png", clip_frames(3), [50] * 3, 0).read_bytes()
    chunk = b"gAMA" + struct.pack(">I", 100000)  # 1.0: linear samples
    gamma = struct.pack(">I", 4) + chunk + struct.pack(">I", zlib.crc32(chunk))
    path = tmp_path / "g.png"
    path.write_bytes(data[:33] + gamma + data[33:])  # after the 8-byte signature and IHDR
    clip = open_clip(path)
    frames = [frame.pixels for frame in clip.frames()]
    assert len(frames) == 3 and "PNG gamma 1.00 (its gAMA chunk) converted to sRGB" in clip.notes
    np.testing.assert_array_equal(frames[0], load_image(path).pixels)
    plain = [frame.pixels for frame in open_clip(tmp_path / "c.png").frames()]
    assert all((f > p).sum() > 0.5 * f.size for f, p in zip(frames[1:], plain[1:]))


def test_info_checks_many_small_frames_without_composing_a_canvas_each(tmp_path):
    """A few hundred bytes a frame can each name a frame of the whole canvas: info decodes and
    checks every frame's rectangle, as decode would, without building the canvases."""
    import tracemalloc
    import zlib

    from quantize.io import container

    side, dots = 1024, 40
    full = container.encode(np.zeros((1, 3), np.uint8), np.zeros((side, side), np.uint8), "none")
    dot = container.encode(np.array([[255, 0, 0]], np.uint8), np.zeros((1, 1), np.uint8), "none")

    def clip(last: bytes) -> bytes:
        table = b"".join(struct.pack("<IIIIQ", 10, i, 0, 0, len(f)) + f
                         for i, f in enumerate([full] + [dot] * dots + [last]))
        data = (struct.pack("<8sHIIII", b"\x89QNA\r\n\x1a\n", 3, side, side, 0, dots + 2)
                + struct.pack("<BQ", 0, len(table)) + table)
        return data + struct.pack("<I", zlib.crc32(data))

    animation = decode_animation(clip(dot))
    tracemalloc.start()
    try:
        animation.check()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 2 * side * side  # the first frame's indices: no canvas of 3 bytes a pixel
    path = tmp_path / "dots.anim.qnt"
    path.write_bytes(clip(dot[:-1] + bytes([dot[-1] ^ 1])))  # the last frame's CRC broken
    done = run("info", path)
    assert done.returncode == 4 and done.stderr.count("\n") == 1, done.stderr
    assert f"(frame {dots + 2}: CRC mismatch" in done.stderr


def test_unpack_compares_only_each_frames_rectangle_and_writes_the_same_bytes(monkeypatch):
    """Frames of a multi-frame .qnt change their rectangle alone: the writers compare that, not
    the whole canvas each frame (a one-pixel change on a big canvas cost the canvas), and write
    what comparing the whole canvas writes, GIF's clearing of pixels turned transparent too."""
    from dataclasses import replace as replaced

    from quantize.animation import canvas
    from quantize.animation.qntanim import QntAnimation, QntWriter
    from quantize.animation.temporal import MappedFrame

    palette = np.array([[0, 0, 0, 0], [255, 0, 0, 255], [0, 255, 0, 255], [0, 0, 255, 255]],
                       np.uint8)
    rng = np.random.default_rng(3)
    indices = rng.integers(1, 4, (48, 64)).astype(np.int16)
    writer = QntWriter(64, 48, 0)
    for number in range(40):
        if number:
            indices = indices.copy()
            y, x = rng.integers(0, 46), rng.integers(0, 62)
            indices[y:y + 2, x:x + 2] = rng.integers(0, 4)  # a 2x2 patch, transparent at times
        writer.add(MappedFrame(number, palette, indices, palette[indices], 40))
    animation = decode_animation(writer.finish())
    compared = []

    def recorded(a, b):
        compared.append(a.shape[0] * a.shape[1])
        return differs(a, b)

    differs = canvas.differs
    monkeypatch.setattr(canvas, "differs", recorded)
    hinted = {fmt: unpack(animation, fmt) for fmt in ("gif", "png")}
    assert sum(compared) < len(compared) * 64 * 48 // 8, compared
    mapped = QntAnimation.mapped
    monkeypatch.setattr(QntAnimation, "mapped",
                        lambda self, *palette: (replaced(f, rect=None)
                                                for f in mapped(self, *palette)))
    assert hinted == {fmt: unpack(animation, fmt) for fmt in ("gif", "png")}


def test_an_animation_is_turned_by_its_exif_orientation_as_compress_turns_it(tmp_path):
    """compress turned an animated file's first frame by its EXIF orientation and animate none of
    its frames, so the two gave the same file two ways up: animate now turns every frame."""
    from quantize.io.images import load_image

    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned 90 degrees clockwise
    frames = clip_frames(3)
    images = [Image.fromarray(f) for f in frames]
    for name, lossless in (("turned.png", {}), ("turned.webp", {"lossless": True})):
        images[0].save(tmp_path / name, save_all=True, append_images=images[1:], duration=50,
                       loop=0, exif=exif, **lossless)
        clip = open_clip(tmp_path / name)
        shown = [frame.pixels for frame in clip.frames()]
        assert len(shown) == 3 and "EXIF orientation applied" in clip.notes, name
        for got, stored in zip(shown, frames):
            np.testing.assert_array_equal(got, np.rot90(stored, -1))
        np.testing.assert_array_equal(shown[0], load_image(tmp_path / name).pixels)


@pytest.mark.parametrize("fmt", ["gif", "png", "webp"])
def test_unpack_holds_a_few_frames_not_every_frame(monkeypatch, fmt):
    """Decoding a multi-frame .qnt streams: the frames decoded so far are let go as the writer
    takes the next, so memory does not grow with the clip's length."""
    import weakref

    from quantize.animation.qntanim import QntAnimation, QntWriter
    from quantize.animation.temporal import MappedFrame

    palette = np.array([[0, 0, 0], [255, 0, 0], [0, 255, 0], [0, 0, 255]], np.uint8)
    indices = np.random.default_rng(5).integers(0, 4, (24, 32)).astype(np.int16)
    writer = QntWriter(32, 24, 0)
    for number in range(30):
        indices = indices.copy()
        indices[number % 24, number] = (indices[number % 24, number] + 1) % 4
        writer.add(MappedFrame(0, palette, indices, palette[indices], 40))
    animation = decode_animation(writer.finish())
    whole = unpack(animation, fmt)
    arrays, alive = [], []
    mapped = QntAnimation.mapped

    def watched(self, *palette):
        for frame in mapped(self, *palette):
            alive.append(sum(ref() is not None for ref in arrays))
            arrays.extend(weakref.ref(a) for a in (frame.colors, frame.indices))
            yield frame

    monkeypatch.setattr(QntAnimation, "mapped", watched)
    assert unpack(animation, fmt) == whole
    assert len(alive) == 30 and max(alive) <= 4, alive
