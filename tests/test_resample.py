"""Clips made smaller or slower before quantising: sizes, Lanczos scaling, alpha, retiming,
plays."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from conftest import make_photo
from quantize.animation.resample import as_browsers_play, as_gif_shows, fitted_size, resampled
from quantize.animation.run import AnimationOptions, animate
from quantize.animation.source import Clip, Frame
from quantize.errors import ParameterError


def clip_of(frames: list[np.ndarray], durations: list[int]) -> Clip:
    return Clip("test", "frames", 0, lambda: (Frame(f, d) for f, d in zip(frames, durations)))


def numbered(n: int) -> list[np.ndarray]:
    """``n`` frames, frame i all of grey level 10 * i, so that a frame names itself."""
    return [np.full((4, 6, 3), 10 * i, np.uint8) for i in range(n)]


def shown(clip: Clip) -> list[tuple[int, int]]:
    """(number of the source frame, duration) of each frame of a clip of :func:`numbered` frames."""
    return [(int(f.pixels[0, 0, 0]) // 10, f.duration) for f in clip.frames()]


def test_a_size_keeps_the_aspect_fits_both_bounds_and_never_enlarges():
    assert fitted_size(768, 512, 480, None) == (480, 320)
    assert fitted_size(768, 512, None, 256) == (384, 256)
    assert fitted_size(768, 512, 480, 200) == (300, 200)  # the tighter bound wins
    assert fitted_size(768, 512, 1000, 1000) == (768, 512)
    assert fitted_size(1000, 3, 10, None) == (10, 1)  # never below a pixel


def test_frames_are_scaled_as_pillow_scales_them_with_lanczos():
    photos = [make_photo(96, 128, seed) for seed in range(3)]
    clip = resampled(clip_of(photos, [40, 50, 60]), width=50)
    frames = list(clip.frames())
    assert [f.duration for f in frames] == [40, 50, 60]
    for photo, frame in zip(photos, frames):
        expected = Image.fromarray(photo).resize((50, 38), Image.Resampling.LANCZOS)
        assert np.array_equal(frame.pixels, np.asarray(expected))


def test_scaling_weighs_colours_by_alpha_and_keeps_binary_alpha_binary(tmp_path):
    frame = np.zeros((40, 40, 4), np.uint8)
    frame[:, :20] = (0, 255, 0, 255)  # opaque green beside fully transparent pixels
    frame[:, 20:] = (255, 0, 255, 0)  # whose hidden colour must not bleed into the green
    small = next(resampled(clip_of([frame], [50]), width=15).frames()).pixels
    alpha = small[..., 3]
    assert set(np.unique(alpha)) == {0, 255}
    opaque = small[alpha == 255]
    assert len(opaque) and (opaque[:, 1] >= 250).all() and (opaque[:, [0, 2]] <= 5).all()
    result = animate(resampled(clip_of([frame, frame[::-1].copy()], [50, 50]), width=15),
                     AnimationOptions(formats=("gif",)))  # GIF takes it: no partial alpha
    assert result.width == 15 and len(result.outputs["gif"]) > 0
    soft = frame.copy()
    soft[:, 20:, 3] = 100
    partial = next(resampled(clip_of([soft], [50]), width=15).frames()).pixels[..., 3]
    assert 100 in partial and (partial < 255).any() and (partial > 100).any()


def test_a_frame_rate_keeps_the_frames_on_screen_at_its_slots_and_the_clip_length():
    # 25 fps to 10 fps: slots at 0, 100, 200, 300 ms fall in frames 0, 2, 5 and 7
    assert shown(resampled(clip_of(numbered(10), [40] * 10), fps=10)) == \
        [(0, 100), (2, 100), (5, 100), (7, 100)]
    # irregular: a frame of no time is never on screen; one between slots (530-540) is dropped
    assert shown(resampled(clip_of(numbered(4), [0, 30, 500, 10]), fps=25)) == [(1, 40), (2, 500)]
    # a rate above the clip's changes nothing
    assert shown(resampled(clip_of(numbered(5), [40] * 5), fps=50)) == [(i, 40) for i in range(5)]
    # a clip of no time has no slot: its last frame stands for it
    assert shown(resampled(clip_of(numbered(3), [0, 0, 0]), fps=10)) == [(2, 0)]


def test_a_frame_rate_keeps_every_frame_of_a_gif_timed_at_that_rate():
    # a 30 fps GIF (gifski's, ffmpeg's) starts its frames on the centisecond nearest their time
    starts = [round(i * 100 / 30) * 10 for i in range(25)]
    gif_30 = [b - a for a, b in zip(starts, starts[1:])]
    assert set(gif_30) == {30, 40}
    kept = shown(resampled(clip_of(numbered(24), gif_30), fps=30))
    assert [n for n, _ in kept] == list(range(24)) and {d for _, d in kept} == {33, 34}
    half = shown(resampled(clip_of(numbered(24), gif_30), fps=15))
    assert [n for n, _ in half] == list(range(0, 24, 2)) and {d for _, d in half} == {66, 67}


def test_a_gif_keeps_frames_at_least_20_ms_apart_and_the_clip_length():
    # 60 fps (17, 17, 16 ms...): five frames in six, each 20 ms, evenly
    sixty = [round(1000 * (i + 1) / 60) - round(1000 * i / 60) for i in range(60)]
    frames = [np.full((2, 2, 3), i, np.uint8) for i in range(60)]
    paced = [(int(f.pixels[0, 0, 0]), f.duration) for f in as_gif_shows(clip_of(frames, sixty)).frames()]
    assert [d for _, d in paced] == [20] * 50 and [n for n, _ in paced][:6] == [0, 1, 2, 3, 4, 6]
    # frames of 20 ms or more keep their times, irregular or not
    steady = [20, 30, 45, 100, 20]
    assert shown(as_gif_shows(clip_of(numbered(5), steady))) == list(enumerate(steady))
    # frames of no time are never seen; a short last frame replaces the one before it
    assert shown(as_gif_shows(clip_of(numbered(4), [0, 0, 50, 30]))) == [(2, 50), (3, 30)]
    assert shown(as_gif_shows(clip_of(numbered(3), [100, 100, 10]))) == [(0, 100), (2, 110)]
    assert shown(as_gif_shows(clip_of(numbered(3), [0, 0, 0]))) == [(2, 0)]
    origin = as_gif_shows(clip_of(numbered(6), [10] * 6))
    assert len(list(origin.frames())) == 3 and origin.origin.frames == 6


def test_animate_times_every_format_as_the_gif_when_it_writes_one(tmp_path: Path):
    for i, frame in enumerate(numbered(10)):
        Image.fromarray(frame).save(tmp_path / f"f{i}.png")
    done = run("animate", tmp_path, "-o", tmp_path / "out", "--duration", "10", "--format",
               "gif,png", "-k", "16")
    assert done.returncode == 0, done.stderr
    assert "10 frames read, 5 at GIF's 50 fps at most, 5 written (0.10 s" in done.stdout
    for name in ("gif", "png"):
        with Image.open(tmp_path / "out" / f"{tmp_path.name}.anim.{name}") as im:
            durations = []
            for i in range(im.n_frames):
                im.seek(i)
                durations.append(im.info["duration"])
            assert durations == [20] * 5
    # without a GIF, frames of 10 ms (browsers would play each for 100 ms) are paced to 11 ms
    alone = run("animate", tmp_path, "-o", tmp_path / "png", "--duration", "10", "--format", "png")
    assert alone.returncode == 0, alone.stderr
    assert "10 frames read, 9 at browsers' 90.9 fps at most, 9 written (0.10 s" in alone.stdout


def test_without_a_gif_frames_browsers_would_stretch_to_100_ms_are_dropped():
    """Browsers play an APNG or WebP frame of 10 ms or less for 100 ms: a 120 fps clip written
    as WebP played each frame for 100 ms. Frames of 11 ms or more keep their times."""
    hundred_twenty = [round(1000 * (i + 1) / 120) - round(1000 * i / 120) for i in range(12)]
    paced = shown(as_browsers_play(clip_of(numbered(12), hundred_twenty)))
    assert all(d >= 11 for _, d in paced) and sum(d for _, d in paced) == 100
    assert [n for n, _ in paced] == [0, 1, 2, 4, 5, 6, 7, 9, 11]
    steady = [11, 12, 30, 100, 11]
    assert shown(as_browsers_play(clip_of(numbered(5), steady))) == list(enumerate(steady))
    assert shown(as_browsers_play(clip_of(numbered(3), [100, 100, 5]))) == [(0, 100), (2, 105)]


@pytest.mark.parametrize("bounds, words", [({"width": 0}, "width must be at least 1 pixel"),
                                           ({"height": -2}, "height must be at least 1 pixel"),
                                           ({"fps": 0}, "fps must be above 0"),
                                           ({"fps": float("nan")}, "fps must be above 0"),
                                           ({"fps": 5000}, "at most 1000"),
                                           ({"plays": 70000}, "plays must be 0")])
def test_unusable_bounds_are_parameter_errors(bounds, words):
    with pytest.raises(ParameterError, match=words):
        resampled(clip_of(numbered(2), [40, 40]), **bounds)


def run(*args: object) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "quantize", *map(str, args)], capture_output=True,
                          text=True, env=dict(os.environ), timeout=300)


def test_the_report_of_a_clip_slower_than_its_fps_gives_the_clip_s_rate():
    from quantize.render.report import format_clip_report

    frames = [Frame(make_photo(12, 16, seed), 100) for seed in range(4)]
    clip = resampled(Clip("slow", "test", 0, lambda: iter(frames)), fps=20)
    first = format_clip_report(animate(clip, AnimationOptions(formats=("gif",)))).splitlines()[0]
    assert first.startswith("slow: 16x12, 4 frames read at 10 fps, under the 20 fps asked, 4 "
                            "written (0.40 s, "), first


def test_animate_makes_a_clip_smaller_and_slower(tmp_path: Path):
    source = tmp_path / "clip.png"
    images = [Image.fromarray(make_photo(48, 64, seed)) for seed in range(10)]
    images[0].save(source, save_all=True, append_images=images[1:], duration=40, loop=0)
    out = tmp_path / "out"
    done = run("animate", source, "-o", out, "-k", "16", "--width", "32", "--fps", "10",
               "--plays", "3", "--format", "gif,png", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["width"], report["height"]) == (32, 24)
    assert report["frames_read"] == 4 and sum(report["durations_ms"]) == 400
    assert report["plays"] == 3
    assert report["source"] == {"width": 64, "height": 48, "frames": 10, "fps": 25.0,
                                "fps_asked": 10.0}
    again = run("animate", source, "-o", tmp_path / "again", "-k", "16", "--width", "32",
                "--fps", "10")
    assert again.stdout.splitlines()[0].startswith(
        f"{source}: 64x48 scaled to 32x24, 10 frames read, 4 at 10 fps, 4 written (0.40 s, ")
    with Image.open(out / "clip.anim.gif") as gif, Image.open(out / "clip.anim.png") as png:
        assert gif.size == (32, 24) and gif.n_frames == 4
        assert gif.info["loop"] == 2 and png.info["loop"] == 3  # GIF counts repeats
    for flag, value in (("--width", "0"), ("--fps", "-1"), ("--plays", "-1")):
        bad = run("animate", source, "-o", tmp_path / "bad", flag, value)
        assert bad.returncode == 2 and bad.stderr.count("\n") == 1, bad.stderr
        assert not (tmp_path / "bad").exists()
