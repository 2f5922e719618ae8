"""The animation API as a library caller meets it: the argument types it takes, and one clear
ParameterError for the ones it does not."""

from __future__ import annotations

import io
import os
import re
import typing
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import quantize
from quantize.animation.run import AnimationOptions
from quantize.animation.source import open_clip
from quantize.errors import FormatError, InputError, ParameterError


def _gif(path: Path) -> Path:
    rng = np.random.default_rng(0)
    frames = [Image.fromarray(rng.integers(0, 256, (12, 16, 3), np.uint8)) for _ in range(2)]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    return path


@pytest.mark.parametrize("as_given", [os.fsencode, str, Path])
def test_animate_file_takes_bytes_str_and_path_outputs(tmp_path, as_given):
    gif = _gif(tmp_path / "clip.gif")
    options = AnimationOptions(fit=quantize.FitOptions(k=4), formats=("qnt",))
    result = quantize.animate_file(gif, as_given(tmp_path / "out"), options)
    assert result.paths["qnt"] == tmp_path / "out" / "clip.anim.qnt"
    assert (tmp_path / "out" / "clip.anim.qnt").exists()
    quantize.animate_file(gif, None, options, out_file=as_given(tmp_path / "one.qnt"))
    assert (tmp_path / "one.qnt").exists()


@pytest.mark.parametrize("where", ["out_dir", "out_file"])
def test_animate_file_refuses_a_non_path_output_in_one_line(tmp_path, where):
    gif = _gif(tmp_path / "clip.gif")
    options = AnimationOptions(formats=("qnt",))
    given = {"out_dir": 5} if where == "out_dir" else {"out_dir": None, "out_file": 5}
    with pytest.raises(ParameterError, match=f"^animate_file's {where} must be a path, not int$"):
        quantize.animate_file(gif, options=options, **given)


@pytest.mark.parametrize("formats, name, message", [
    (("gif",), "small.webp", r"^out_file small\.webp names a webp file, but the format written is "
                             r"gif: give formats=\('webp',\)$"),
    (("gif", "webp"), "small.gif", r"^out_file small\.gif names one file, but formats gif, webp "
                                   r"are 2: give out_dir$")])
def test_animate_file_refuses_an_out_file_named_for_other_formats(tmp_path, formats, name,
                                                                  message):
    gif = _gif(tmp_path / "clip.gif")
    options = AnimationOptions(fit=quantize.FitOptions(k=4), formats=formats)
    with pytest.raises(ParameterError, match=message):
        quantize.animate_file(gif, None, options, out_file=tmp_path / name)
    assert not (tmp_path / name).exists()


@pytest.mark.parametrize("wrong", [quantize.FileOptions(), quantize.FitOptions(), object()])
def test_like_refuses_what_is_no_compress_options_in_one_line(wrong):
    with pytest.raises(ParameterError, match=r"^options must be CompressOptions, not \w+"):
        AnimationOptions.like(wrong, ("gif",))


def test_like_refuses_formats_given_as_one_string():
    with pytest.raises(ParameterError, match=r"^formats must be a sequence of names"):
        AnimationOptions.like(quantize.CompressOptions(), "gif")


@pytest.mark.parametrize("given, message", [
    ({"formats": (1,)}, r"^formats must be a sequence of names, e.g. \('gif',\), got \(1,\)$"),
    ({"formats": None}, r"^formats must be a sequence of names, e.g. \('gif',\), got None$"),
    ({"formats": "gif"}, r"^formats must be a sequence of names"),
    ({"fit": None}, r"^fit must be FitOptions, not NoneType$"),
    ({"palette_mode": "x"}, r"^palette mode must be one of auto, global, frame, got 'x'$"),
])
def test_animation_options_refuse_wrong_types_in_one_line(given, message):
    with pytest.raises(ParameterError, match=message):
        AnimationOptions(**given).validated()


@pytest.mark.parametrize("run", [quantize.animate, quantize.animate_file])
def test_animate_refuses_fit_options_in_place_of_animation_options(tmp_path, run):
    gif = _gif(tmp_path / "clip.gif")
    with pytest.raises(ParameterError, match=r"^options must be AnimationOptions, not FitOptions "
                       r"\(a FitOptions goes in AnimationOptions\(fit=\.\.\.\)\)$"):
        run(gif, options=quantize.FitOptions(k=4),
            **({} if run is quantize.animate else {"out_dir": tmp_path}))


def _packed(tmp_path: Path) -> Path:
    gif = _gif(tmp_path / "clip.gif")
    quantize.animate_file(gif, tmp_path, AnimationOptions(fit=quantize.FitOptions(k=4),
                                                          formats=("qnt",)))
    return tmp_path / "clip.anim.qnt"


def test_load_animation_reads_a_binary_file_object_as_its_path(tmp_path):
    packed = _packed(tmp_path)
    with open(packed, "rb") as fh:
        streamed = quantize.load_animation(fh)
    by_path = quantize.load_animation(packed)
    assert streamed.durations == by_path.durations and streamed.source == by_path.source
    assert [f.colors.tobytes() for f in streamed.mapped()] == \
        [f.colors.tobytes() for f in by_path.mapped()]


def test_load_animation_refuses_text_empty_and_closed_file_objects_in_one_line(tmp_path):
    packed = _packed(tmp_path)
    with open(packed, encoding="latin-1") as fh, \
            pytest.raises(ParameterError, match=r"^a packed file object must be opened in binary "
                                                r"mode \('rb'\), not give str$"):
        quantize.load_animation(fh)
    (tmp_path / "empty.qnt").write_bytes(b"")
    with open(tmp_path / "empty.qnt", "rb") as fh, \
            pytest.raises(InputError, match=r"^packed file .*empty\.qnt is empty$"):
        quantize.load_animation(fh)
    fh = open(packed, "rb")
    fh.close()
    with pytest.raises(InputError, match=r"^cannot read packed file .*clip\.anim\.qnt: "):
        quantize.load_animation(fh)
    with pytest.raises(FormatError, match=r"^the packed stream: "):
        quantize.load_animation(io.BytesIO(b"not a qnt file"))


@pytest.mark.parametrize("as_given", [os.fsencode, str, Path])
def test_open_clip_and_animate_take_a_bytes_str_or_path_name(tmp_path, as_given):
    gif = as_given(_gif(tmp_path / "clip.gif"))
    assert len(list(open_clip(gif).frames())) == 2
    assert quantize.animate(gif, AnimationOptions(fit=quantize.FitOptions(k=4),
                                                  formats=("gif",))).n_frames == 2


def test_open_clip_and_animate_read_a_binary_file_object_as_its_path(tmp_path):
    gif = _gif(tmp_path / "clip.gif")
    options = AnimationOptions(fit=quantize.FitOptions(k=4), formats=("gif",))
    with open(gif, "rb") as fh:
        clip = open_clip(fh)
    assert clip.name == os.fspath(gif) and clip.format == "GIF"
    streamed, by_path = list(clip.frames()), list(open_clip(gif).frames())
    assert [f.pixels.tobytes() for f in streamed] == [f.pixels.tobytes() for f in by_path]
    assert len(list(clip.frames())) == 2  # read again from memory, as a file is from disk
    with open(gif, "rb") as fh:
        assert quantize.animate(fh, options).outputs == quantize.animate(gif, options).outputs
    png = tmp_path / "still.png"
    Image.fromarray(np.full((4, 4, 3), 9, np.uint8)).save(png)
    with open(png, "rb") as fh:
        assert list(open_clip(fh).frames())[0].pixels.tobytes() == bytes([9]) * 48


def test_open_clip_names_a_damaged_still_file_object_by_its_name(tmp_path):
    png = tmp_path / "still.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (48, 64, 3), np.uint8)).save(png)
    png.write_bytes(png.read_bytes()[:4000])
    with open(png, "rb") as fh, \
            pytest.raises(InputError, match=rf"^{re.escape(os.fspath(png))}: cannot decode"):
        open_clip(fh)


def test_open_clip_refuses_text_empty_and_video_file_objects_in_one_line(tmp_path):
    gif = _gif(tmp_path / "clip.gif")
    with open(gif, encoding="latin-1") as fh, \
            pytest.raises(ParameterError, match=r"^an image file object must be opened in binary"):
        open_clip(fh)
    with pytest.raises(InputError, match=r"^the image stream is empty$"):
        open_clip(io.BytesIO())
    with pytest.raises(InputError, match=r"video: a video is read by its path, not a file object"):
        open_clip(io.BytesIO(b"\0\0\0\x18ftypmp42" + bytes(64)))


def test_the_animation_api_type_hints_resolve():
    from quantize.animation import qntanim, run, source

    for function in (run.animate, run.animate_file, run.sweep_clip, run.search_clip, run.unpack,
                     run.output_paths, run.AnimationOptions.like, run.AnimationOptions,
                     run.AnimationResult, run.ScannedClip.read, source.open_clip,
                     source.frames_clip, source.Clip, qntanim.load_animation):
        assert typing.get_type_hints(function) is not None


@pytest.mark.parametrize("given, message", [
    ({"dither_strength": "1"}, r"^dither strength must be 0 to 1, got '1'$"),
    ({"dither_strength": 2}, r"^dither strength must be 0 to 1, got 2$"),
    ({"webp_method": 9}, r"^webp_method must be 0 to 6, got 9$"),
    ({"webp_method": "4"}, r"^webp_method must be 0 to 6, got '4'$"),
])
def test_animation_options_refuse_a_wrong_strength_or_webp_method_in_one_line(given, message):
    with pytest.raises(ParameterError, match=message):
        AnimationOptions(**given).validated()


@pytest.mark.parametrize("call, message", [
    (lambda gif, out: open_clip(gif, duration="100"),
     r"^duration must be 1 to 655350 ms, got '100'$"),
    (lambda gif, out: quantize.animate(gif, max_bytes="100"),
     r"^max_bytes must be a whole number >= 1, got '100'$"),
    (lambda gif, out: quantize.animate_file(gif, out, width="10"),
     r"^width must be at least 1 pixel, got '10'$"),
    (lambda gif, out: quantize.animate_file(gif, out, fps="10"),
     r"^fps must be above 0 and at most 1000, got '10'$"),
])
def test_a_count_given_as_a_string_is_one_parameter_error(tmp_path, call, message):
    with pytest.raises(ParameterError, match=message):
        call(_gif(tmp_path / "clip.gif"), tmp_path / "out")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("frames, durations, message", [
    ([], 40, r"^frames_clip takes at least one frame, got none$"),
    ([np.zeros((4, 4, 3), np.uint8)] * 2, -5,
     r"^durations must be whole milliseconds, 0 to 655350$"),
    ([np.zeros((4, 4, 3), np.uint8)] * 2, [40, 10 ** 7],
     r"^durations must be whole milliseconds, 0 to 655350$"),
])
def test_frames_clip_refuses_no_frames_and_impossible_durations_as_the_callers(frames, durations,
                                                                               message):
    with pytest.raises(ParameterError, match=message):
        quantize.frames_clip(frames, durations)


def test_frames_clip_of_one_colour_image_says_to_wrap_it():
    """One (H, W, 3) array was read as H grey frames of W x 3 pixels, without a word."""
    image = np.zeros((6, 8, 3), np.uint8)
    with pytest.raises(ParameterError, match=r"^frames is one \(6, 8, 3\) image, which would be "
                                             r"read as 6 frames of 8x3 pixels: give a list"):
        quantize.frames_clip(image)
    assert [f.pixels.shape for f in quantize.frames_clip([image]).frames()] == [(6, 8, 3)]
    clip = quantize.frames_clip(np.zeros((2, 6, 8, 3), np.uint8))  # an (N, H, W, C) stack
    assert [frame.pixels.shape for frame in clip.frames()] == [(6, 8, 3)] * 2
