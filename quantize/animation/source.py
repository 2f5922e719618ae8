"""Reading an animation as a stream of frames: animated GIF, APNG, WebP and AVIF (and any still
image, one frame) through Pillow, an ordered folder or glob of still images, and video files through
imageio.

A :class:`Clip` is read again each time :meth:`Clip.frames` is called, one decoded frame at a
time, so a long clip never holds all its frames; a small one is kept by its first read
(:class:`HeldFrames`). Every frame comes composited as browsers show it (GIF disposal and
transparency and APNG blending by :mod:`.compose`, WebP canvases by libwebp), as (H, W, 3) uint8, or
(H, W, 4) when some pixel is not fully opaque; a GIF, APNG or WebP frame of at most 10 ms lasts
100 ms, as browsers play it. A truncated file, zero frames, a frame of another size or an absurd
duration is one :class:`~quantize.errors.InputError` naming the input.
"""

from __future__ import annotations

import contextlib
import glob
import io
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import BinaryIO, Callable, ContextManager, Iterable, Iterator, Sequence

import numpy as np

from ..core.colorstats import clear_transparent
from ..errors import InputError, ParameterError, is_whole, one_line
from ..io.files import display_name, input_path, is_stream, open_input, read_stream
from ..io.images import (DEFAULT_MAX_PIXELS, FORMATS, LIFT_LIMIT, ORIENTED, SUFFIXES,
                         beyond_pillow, exif_orientation, gamma_note, load_image, oriented,
                         png_gamma, png_without_damaged_extras, too_large, unreadable)
from .choices import (DEFAULT_FOLDER_DURATION_MS, MAX_DURATION_MS, MAX_PLAYS, SHORT_FRAME_MS,
                      SHORT_FRAME_PLAYED_MS)

#: Video containers read through imageio's ffmpeg plugin (the ``video`` extra).
VIDEO_SUFFIXES = frozenset((".mp4", ".m4v", ".mov", ".mkv", ".avi", ".webm", ".mpg", ".mpeg"))
#: Pillow's formats whose files may hold an animation (PNG: APNG), read frame by frame.
_ANIMATED = ("GIF", "PNG", "WEBP", "AVIF")
#: A clip whose decoded frames take at most this many bytes is kept by its first read
#: (:class:`HeldFrames`), so later passes, and a search's every probe, do not decode it again.
HELD_BYTES = 64 << 20


@dataclass(frozen=True)
class Frame:
    """One frame: its pixels and how long it shows, in milliseconds."""

    pixels: np.ndarray  # (H, W, 3|4) uint8, C-contiguous
    duration: int
    #: the pixels as read, where ``pixels`` are them as a GIF shows them (alpha all or nothing)
    as_read: np.ndarray | None = field(default=None, repr=False)

    @property
    def reference(self) -> np.ndarray:
        """The pixels an output of this frame is measured against: the frame as read."""
        return self.pixels if self.as_read is None else self.as_read


@dataclass
class Origin:
    """What a clip made from another (:func:`~.resample.resampled`, :func:`~.resample.as_gif_shows`,
    :func:`~.resample.as_browsers_play`) took in on its last read: the source's frames, length
    (ms) and size, the frame rate asked for (None: the source's timing), the highest rate the
    outputs could time and whose clock that is (``paced_fps`` None: not paced), and the partly
    transparent pixels it made opaque or clear, as GIF shows them."""

    fps: float | None = None
    frames: int = 0
    width: int = 0
    height: int = 0
    paced_fps: float | None = None
    paced_for: str = ""
    length_ms: int = 0
    partly_clear: int = 0

    @property
    def source_fps(self) -> float | None:
        """The source's mean frame rate (None: it lasts no time)."""
        return round(1000 * self.frames / self.length_ms, 3) if self.length_ms else None


class FrameSizes(InputError):
    """A clip's frames are not all of one size (a folder of photos read as frames, say)."""


@dataclass(frozen=True)
class Clip:
    """An animation to read frame by frame: ``frames()`` opens the source afresh each time.

    ``plays`` is how many times the animation plays (0: for ever), as APNG and WebP count it;
    ``origin`` is set on a clip made from another; ``notes`` say what reading it left aside;
    ``files`` names each frame's file, for a folder or glob of stills.
    """

    name: str
    format: str
    plays: int
    _read: Callable[[], Iterator[Frame]] = field(repr=False, compare=False)
    origin: Origin | None = field(default=None, compare=False)
    notes: tuple[str, ...] = field(default=(), compare=False)
    files: tuple[str, ...] = field(default=(), repr=False, compare=False)

    def frames(self) -> Iterator[Frame]:
        """The frames in order, checked: at least one, all of one size, sane durations; fully
        transparent pixels are (0, 0, 0, 0) (in ``pixels`` and ``as_read``), whatever RGB they
        hide (neither fitted nor measured)."""
        size = None
        count = 0
        for count, frame in enumerate(self._read(), 1):
            _check_duration(self.name, count, frame.duration)
            shape = frame.pixels.shape[:2]
            if size is None:
                size = shape
            elif shape != size:
                frame_name, first = ((f" ({self.files[count - 1]})", f" ({self.files[0]})")
                                     if len(self.files) >= count else ("", ""))
                raise FrameSizes(f"{self.name}: frame {count}{frame_name} is "
                                 f"{shape[1]}x{shape[0]}, the first{first} is "
                                 f"{size[1]}x{size[0]}; every frame must have one size")
            as_read = None if frame.as_read is None else clear_transparent(frame.as_read)
            yield replace(frame, pixels=clear_transparent(frame.pixels), as_read=as_read)
        if not count:
            raise InputError(f"{self.name}: no frames")


def _check_duration(name: str, count: int, duration: int) -> None:
    if not 0 <= duration <= MAX_DURATION_MS:
        raise InputError(f"{name}: frame {count} lasts {duration} ms; a frame lasts 0 to "
                         f"{MAX_DURATION_MS} ms")


def open_clip(source: str | os.PathLike[str] | BinaryIO, *, duration: int | None = None,
              max_pixels: int | None = DEFAULT_MAX_PIXELS) -> Clip:
    """The clip at ``source``: an image file (animated or not; by its path, or in a binary file
    object, read from where it stands), a video file (by its path), a folder of still images (in
    natural name order) or a glob pattern of them. ``duration`` (ms) is each still's
    duration for a folder or pattern (default 100 ms); files carry their own (a note says
    ``duration`` is not used)."""
    if duration is not None and not (is_whole(duration) and 1 <= duration <= MAX_DURATION_MS):
        # a still of 0 ms never shows
        raise ParameterError(f"duration must be 1 to {MAX_DURATION_MS} ms, got {duration!r}",
                             parameters=("duration",))
    if is_stream(source):  # held in memory, read afresh from there as a file is from disk
        data, name = read_stream(source)
        path: Path | bytes = data
    else:
        path = input_path(source, "open_clip's source")
        name = display_name(path)
    if isinstance(path, bytes) or not is_frames(path):
        clip = _file_clip(path, name, max_pixels)
        if duration is None:
            return clip
        return replace(clip, notes=(*clip.notes, f"--duration not used: it times a folder or "
                                                 f"glob of stills, and {name} has its own"))
    files, videos = _still_files(path, name)
    each = DEFAULT_FOLDER_DURATION_MS if duration is None else duration
    notes = (f"{_videos(len(videos))} left out ({_some(videos)}): a folder's frames are its "
             f"still images; a video is animated on its own",) if videos else ()
    one_folder = len({file.parent for file in files}) == 1
    # one folder's files by their names; a glob's over several folders by their paths
    shown = {file: display_name(file.name if one_folder else file) for file in files}
    animated = [shown[file] for file in files if is_animation(file)]
    if animated:
        notes += (f"only the first frame of {len(animated)} animated "
                  f"file{'s' * (len(animated) != 1)} taken ({_some(animated)}): a folder's "
                  f"frames are its still images; an animation is animated on its own",)
    return Clip(name, "frames", 0, lambda: _still_frames(files, each, max_pixels), notes=notes,
                files=tuple(shown.values()))


def _opened(path: Path | bytes, name: str = "") -> ContextManager[tuple[BinaryIO, int]]:
    """:func:`~quantize.io.files.open_input` for a file; for a file's bytes, a fresh stream
    called ``name``, as a reader that names a file object by its ``name`` will call it."""
    if isinstance(path, bytes):
        stream = io.BytesIO(path)
        if name:
            stream.name = name  # type: ignore[attr-defined]
        return contextlib.nullcontext((stream, len(path)))
    return open_input(path)


def _file_clip(path: Path | bytes, name: str, max_pixels: int | None) -> Clip:
    """The clip of an image or video file, or of a file's bytes, which carries its own
    durations."""
    if isinstance(path, Path) and path.suffix.lower() in VIDEO_SUFFIXES:
        return _video_clip(path, name, max_pixels)
    with _opened(path) as (fh, _):
        plays, fmt = _pillow_header(fh, name, streamed=isinstance(path, bytes))
    if fmt is None:  # a still, read as compress reads it: oriented, profile converted, any TIFF
        with _opened(path, name) as (fh, _):
            image = load_image(path if isinstance(path, Path) else fh, max_pixels=max_pixels)
        return Clip(name, image.format, 1, lambda: iter((Frame(image.pixels, 0),)),
                    notes=image.notes)
    notes = (_gif_end_note(path, name) if fmt == "GIF" else
             _apng_notes(path, name) if fmt == "APNG" else ())
    orientation, turned = _orientation(path)
    notes += turned
    if plays > MAX_PLAYS:  # an APNG's count is 32-bit; a GIF's 65,535 repeats are 65,536 plays
        notes += (f"{fmt} plays {plays:,} times; written to play {MAX_PLAYS:,} times, the most "
                  f"GIF, WebP and .qnt hold",)
        plays = MAX_PLAYS
    return Clip(name, fmt, plays,
                lambda: _pillow_frames(path, name, fmt, max_pixels, orientation), notes=notes)


def _orientation(path: Path | bytes) -> tuple[int | None, tuple[str, ...]]:
    """The EXIF orientation that turns every frame of an animated file, as compress turns its
    first (:func:`~quantize.io.images.exif_orientation`: an APNG's eXIf chunk, an AVIF's
    irot/imir, never a WebP's), and the notes saying what was done."""
    from PIL import Image as PILImage

    notes: list[str] = []
    with _opened(path) as (fh, _):
        with PILImage.open(fh, formats=FORMATS) as im:
            orientation = exif_orientation(im, notes)
    return orientation, (*notes, *(ORIENTED,) * (orientation is not None))


def _gif_end_note(path: Path | bytes, name: str) -> tuple[str, ...]:
    """A note when a GIF's frames end at data that is no GIF block, read as its end."""
    from .compose import gif_end

    with _opened(path) as (fh, _):
        end = gif_end(fh)
    if end is None:
        return ()
    frames, offset = end
    return (f"{name}: data that is no GIF block starts at byte {offset:,}, after frame "
            f"{frames} (another file appended?); read as the GIF's end, as browsers read it",)


def _apng_notes(path: Path | bytes, name: str) -> tuple[str, ...]:
    """Notes of an APNG read in one pass over it: more frames than its acTL chunk announces (those
    after left out), and a gAMA chunk its frames are read with, as compress reads frame 1
    (:func:`~quantize.io.images.png_gamma`: each frame is decoded by ``image_from_pillow``)."""
    from PIL import Image as PILImage

    from .compose import apng_frame_count

    with _opened(path) as (fh, _):
        with PILImage.open(fh, formats=["PNG"]) as im:
            gamma = png_gamma(im)
        fh.seek(0)
        counts = apng_frame_count(fh)
    notes = () if gamma is None else (gamma_note(gamma),)
    if counts is None:
        return notes
    announced, controls = counts
    return (f"{name}: its acTL chunk announces {announced} frame{'s' * (announced != 1)} and "
            f"{controls} follow; read as announced, as libpng (Firefox) and Pillow read it",
            *notes)


def frames_clip(frames: Sequence, durations: int | Sequence[int] = DEFAULT_FOLDER_DURATION_MS,
                plays: int = 0) -> Clip:
    """A clip of frames held in memory: arrays (as :func:`~quantize.io.images.image_from_array`
    takes them) or Pillow images, each lasting ``durations`` ms (one for all, or one each);
    ``plays`` times through (0: for ever). Frames are converted as they are read."""
    from PIL import Image as PILImage

    from ..io.images import image_from_array, image_from_pillow

    if isinstance(frames, np.ndarray) and frames.ndim == 3 and frames.shape[-1] in (3, 4):
        # one colour image, not a stack of grey frames as narrow as its channels
        raise ParameterError(f"frames is one {frames.shape} image, which would be read as "
                             f"{len(frames)} frames of {frames.shape[1]}x{frames.shape[2]} "
                             "pixels: give a list of frames ([image]) or an (N, H, W, C) array",
                             parameters=("frames",))
    frames = list(frames)
    if not frames:
        raise ParameterError("frames_clip takes at least one frame, got none",
                             parameters=("frames",))
    if isinstance(durations, (str, bytes)) or not (is_whole(durations)
                                                   or isinstance(durations, Iterable)):
        raise ParameterError(f"durations must be whole milliseconds, one or one a frame, got "
                             f"{durations!r}", parameters=("durations",))
    each = [durations] * len(frames) if is_whole(durations) else list(durations)
    if len(each) != len(frames):
        raise ParameterError(f"{len(frames)} frames and {len(each)} durations: give one duration "
                             f"for all or one for each", parameters=("durations",))
    if not all(is_whole(ms) and 0 <= ms <= MAX_DURATION_MS for ms in each):
        raise ParameterError(f"durations must be whole milliseconds, 0 to {MAX_DURATION_MS}",
                             parameters=("durations",))
    check_plays(plays)

    def image(frame) -> np.ndarray:
        if isinstance(frame, PILImage.Image):
            return image_from_pillow(frame).pixels
        if isinstance(frame, np.ndarray):
            return image_from_array(frame).pixels
        raise ParameterError(f"a frame must be an array or a Pillow image, not "
                             f"{type(frame).__name__}")

    def read() -> Iterator[Frame]:
        for frame, duration in zip(frames, each):
            yield Frame(image(frame), int(duration))

    return Clip("frames in memory", "frames", plays, read)


def check_plays(plays: object) -> None:
    """A :class:`ParameterError` unless ``plays`` is a count of plays the formats can hold."""
    if not is_whole(plays) or not 0 <= plays <= MAX_PLAYS:
        raise ParameterError(f"plays must be 0 (for ever) to {MAX_PLAYS}, got {plays!r}",
                             parameters=("plays",))


def reads_video() -> bool:
    """Whether this installation reads video files: imageio with its ffmpeg plugin (the ``video``
    extra)."""
    from importlib.util import find_spec

    return find_spec("imageio") is not None and find_spec("imageio_ffmpeg") is not None


def is_frames(source: str | os.PathLike[str]) -> bool:
    """Whether ``source`` names a clip of still images: a folder, or a glob pattern that is no
    file's name."""
    path = Path(source)
    return path.is_dir() or (not path.exists() and glob.has_magic(os.fsdecode(source)))


def frame_files(source: str | os.PathLike[str]) -> tuple[Path, ...]:
    """The still images a folder or glob ``source`` reads as its frames, in order (none for a
    file)."""
    if not is_frames(source):
        return ()
    return tuple(_still_files(Path(source), display_name(source))[0])


def is_clip(path: str | os.PathLike[str]) -> bool:
    """Whether the file at ``path`` is played rather than shown: a video (by its name) or an
    animated GIF, APNG, WebP or AVIF."""
    return Path(path).suffix.lower() in VIDEO_SUFFIXES or is_animation(path)


def is_animation(path: str | os.PathLike[str]) -> bool:
    """Whether the image file at ``path`` is an animated GIF, APNG, WebP or AVIF; False for a
    still, a camera's MPO (a photo and its preview), a multi-page TIFF (pages, not frames), a video
    or a file Pillow cannot open (its reader reports that)."""
    from PIL import Image as PILImage

    try:
        with open_input(path) as (fh, _):
            im = PILImage.open(fh, formats=FORMATS)
            return im.format in _ANIMATED and bool(getattr(im, "is_animated", False))
    except Exception:
        return False


# ------------------------------------------------------------------------------- Pillow containers

def _too_large_for_pillow(name: str, exc: Exception) -> InputError:
    """The error of a file over Pillow's own decompression-bomb limit (on in a library process)."""
    return InputError(f"{name}: {one_line(exc)} (raise PIL.Image.MAX_IMAGE_PIXELS to load it)")


def _pillow_header(fh, name: str, *, streamed: bool = False) -> tuple[int, str | None]:
    """How many times the file's animation plays, and its format (APNG for an animated PNG);
    None for a still other than a GIF (a multi-page TIFF or a camera's MPO too: pages, not
    frames). A one-frame GIF is composited as browsers show it, its delay kept."""
    from PIL import Image as PILImage

    try:
        im = PILImage.open(fh, formats=FORMATS)
    except PILImage.UnidentifiedImageError:
        fh.seek(0)
        head = fh.read(16)
        if beyond_pillow(head) or _mended_still(fh):
            return 1, None
        why = unreadable(name, fh, head)
        if why:
            raise InputError(why) from None
        video = ("a video is read by its path, not a file object" if streamed
                 else ', '.join(sorted(VIDEO_SUFFIXES)))
        raise InputError(f"{name} is not an image or animation quantize reads "
                         f"({', '.join(FORMATS)}, video: {video})") from None
    except PILImage.DecompressionBombError as exc:
        raise _too_large_for_pillow(name, exc) from None
    except Exception as exc:  # identified by its header, then unreadable
        raise InputError(f"{name}: cannot read it (damaged or truncated: {one_line(exc)})") \
            from None
    try:  # a GIF tells by reading its second frame's header, which may be damaged
        animated = bool(getattr(im, "is_animated", False))
    except Exception as exc:
        raise InputError(f"{name}: cannot read it (damaged or truncated: {one_line(exc)})") \
            from None
    if im.format == "GIF" and not animated:
        return 1, "GIF"
    if not animated or im.format not in _ANIMATED:
        return 1, None
    fmt = "APNG" if im.format == "PNG" else im.format
    loop = im.info.get("loop")
    if im.format == "GIF":  # NETSCAPE's count is of repeats after the first play; none: play once
        return (1 if loop is None else 0 if loop == 0 else loop + 1), fmt
    return int(loop or 0), fmt  # APNG's num_plays and WebP's loop count plays, 0 for ever


def _mended_still(fh) -> bool:
    """Whether ``fh`` is a still PNG that load_image reads once its damaged ancillary chunks are
    left out; an APNG's frames are not read so (its damage is reported instead)."""
    from PIL import Image as PILImage

    mended = png_without_damaged_extras(fh)
    if mended is None:
        return False
    with PILImage.open(io.BytesIO(mended[0]), formats=["PNG"]) as im:
        return not getattr(im, "is_animated", False)


class HeldFrames:
    """A clip read once, its frames kept (read-only) while they take at most ``budget`` bytes
    (default :data:`HELD_BYTES`)."""

    def __init__(self, clip: Clip, budget: int | None = None) -> None:
        self._clip, self._left = clip, HELD_BYTES if budget is None else budget
        self._kept: list[Frame] | None = []

    def frames(self) -> Iterator[Frame]:
        """The clip's frames, as :meth:`Clip.frames` gives them, kept as they pass."""
        for frame in self._clip.frames():
            if self._kept is not None:
                self._left -= frame.pixels.nbytes + (0 if frame.as_read is None
                                                     else frame.as_read.nbytes)
                if self._left < 0:
                    self._kept = None
                else:
                    frame.pixels.flags.writeable = False
                    self._kept.append(frame)
            yield frame

    def clip(self) -> Clip:
        """The clip, read from memory if :meth:`frames` kept every frame, else from its source."""
        if self._kept is None:
            return self._clip
        kept = tuple(self._kept)
        return replace(self._clip, _read=lambda: iter(kept))


def _pillow_frames(path: Path | bytes, name: str, fmt: str, max_pixels: int | None,
                   orientation: int | None) -> Iterator[Frame]:
    """The frames of an animated file, each turned by its EXIF ``orientation``."""
    for frame in _unturned_frames(path, name, fmt, max_pixels):
        yield replace(frame, pixels=oriented(frame.pixels, orientation))


def _unturned_frames(path: Path | bytes, name: str, fmt: str,
                     max_pixels: int | None) -> Iterator[Frame]:
    from PIL import Image as PILImage

    from ..io.images import image_from_pillow

    with _opened(path) as (fh, _):
        try:  # Pillow's own bomb check stays on in a library process (the CLI lifts it)
            im = PILImage.open(fh, formats=FORMATS)
        except PILImage.DecompressionBombError as exc:
            raise _too_large_for_pillow(name, exc) from None
        _check_pixels(name, *im.size, max_pixels)
        if fmt in ("GIF", "APNG"):
            fh.seek(0)
            yield from _composed_frames(fh, name, fmt, max_pixels)
            return
        index = 0
        while True:
            try:
                im.seek(index)
            except EOFError:
                break
            except Exception as exc:
                raise InputError(f"{name}: cannot read frame {index + 1} (damaged or truncated: "
                                 f"{one_line(exc)})") from None
            try:
                im.load()
                pixels = image_from_pillow(im).pixels
            except Exception as exc:
                raise InputError(f"{name}: cannot decode frame {index + 1} (damaged or truncated: "
                                 f"{one_line(exc)})") from None
            yield Frame(pixels, _as_played(int(round(im.info.get("duration", 0) or 0))))
            index += 1


def _composed_frames(fh, name: str, fmt: str, max_pixels: int | None) -> Iterator[Frame]:
    """A GIF's or an APNG's frames composited as browsers show them (:mod:`.compose`), timed as
    they play them (:func:`_as_played`)."""
    from .compose import apng_frames, gif_frames

    frames = gif_frames(fh, max_pixels) if fmt == "GIF" else apng_frames(fh)
    for canvas, duration in _read_or_refused(frames, name, max_pixels):
        opaque = bool((canvas[..., 3] == 255).all())
        yield Frame(np.ascontiguousarray(canvas[..., :3]) if opaque else canvas.copy(),
                    _as_played(duration))


def _read_or_refused(frames: Iterator, name: str, max_pixels: int | None) -> Iterator:
    """``frames`` of :mod:`.compose`, any error in them one :class:`InputError` naming the frame."""
    from PIL import Image as PILImage

    from .compose import TooLarge, Truncated

    count = 0
    while True:
        try:
            shown = next(frames, None)
        except PILImage.DecompressionBombError as exc:
            raise _too_large_for_pillow(name, exc) from None
        except Truncated as exc:
            raise InputError(f"{name}: truncated after frame {count} ({exc})") from None
        except TooLarge as exc:
            raise InputError(name + too_large(str(exc), max_pixels), parameters=LIFT_LIMIT) \
                from None
        except Exception as exc:  # any file content ends in a one-line message
            raise InputError(f"{name}: cannot read frame {count + 1} (damaged or truncated: "
                             f"{one_line(exc)})") from None
        if shown is None:
            return
        count += 1
        yield shown


def refusal(path: str | os.PathLike[str],
            max_pixels: int | None = DEFAULT_MAX_PIXELS) -> str | None:
    """Why :func:`open_clip`'s frames of the animated GIF or APNG at ``path`` would be refused,
    found from the file's structure alone (:func:`~.compose.frame_delays`: no pixel decoded): the
    error's message; None when its structure reads whole, or for any other file."""
    from .compose import frame_delays

    name = display_name(path)
    try:
        with open_input(path) as (fh, _):
            fmt = _pillow_header(fh, name)[1]
            if fmt not in ("GIF", "APNG"):
                return None
            fh.seek(0)
            for count, delay in enumerate(_read_or_refused(frame_delays(fh, fmt, max_pixels),
                                                           name, max_pixels), 1):
                _check_duration(name, count, _as_played(delay))
    except InputError as exc:
        return str(exc)
    return None


def _as_played(duration: int) -> int:
    """A frame's duration (ms) in an animated GIF, APNG or WebP as browsers play it: at most
    :data:`SHORT_FRAME_MS` (such as a GIF delay of 0) lasts :data:`SHORT_FRAME_PLAYED_MS`."""
    return SHORT_FRAME_PLAYED_MS if duration <= SHORT_FRAME_MS else duration


def _check_pixels(name: str, width: int, height: int, max_pixels: int | None) -> None:
    if max_pixels is not None and width * height > max_pixels:
        size = f"{width}x{height} is {width * height:,} pixels"
        raise InputError(name + too_large(size, max_pixels), parameters=LIFT_LIMIT)


def _last_line(exc: BaseException) -> str:
    """The last line of a long message, such as ffmpeg's log: where it says what went wrong."""
    lines = [line for line in str(exc).splitlines() if line.strip()]
    return " ".join(lines[-1].split())[:200] if lines else type(exc).__name__


# ------------------------------------------------------------------------------- folders and globs

def _natural_key(path: Path) -> tuple[list, tuple[str, ...]]:
    """Sort key that puts frame2 before frame10 and Img4 after img1 (case aside), folder by
    folder (a glob's s1/f2.png before s2/f1.png); the names order names equal so (f5, f05)."""
    return [[int(piece) if piece.isdigit() else piece.casefold()
             for piece in re.split(r"(\d+)", part)] for part in path.parts], path.parts


def _still_files(path: Path, name: str) -> tuple[list[Path], list[str]]:
    """The image files of a folder or pattern in natural order, and the names of its videos."""
    from ..io.files import is_output_name

    # a folder leaves out hidden files (macOS's ._img1.png beside img1.png), as a glob does
    candidates = ((p for p in path.iterdir() if not p.name.startswith(".")) if path.is_dir()
                  else (Path(p) for p in glob.glob(os.fsdecode(path))))
    candidates = sorted((p for p in candidates if p.is_file()), key=_natural_key)
    files = [p for p in candidates if p.suffix.lower() in SUFFIXES and not is_output_name(p.name)]
    videos = [display_name(p.name) for p in candidates if p.suffix.lower() in VIDEO_SUFFIXES]
    if not files:
        held = f"; it holds {_videos(len(videos))}, each animated on its own" if videos else ""
        raise InputError(f"{name}: no frames (no image files{held})")
    return files, videos


def _videos(n: int) -> str:
    return f"{n} video{'s' * (n != 1)}"


def _some(names: list[str]) -> str:
    """The first three of ``names``, and an ellipsis if there are more."""
    return ", ".join(names[:3]) + ", …" * (len(names) > 3)


def _still_frames(files: list[Path], duration: int, max_pixels: int | None) -> Iterator[Frame]:
    for file in files:
        yield Frame(load_image(file, max_pixels=max_pixels).pixels, duration)


# ------------------------------------------------------------------------------------------- video

def _video_clip(path: Path, name: str, max_pixels: int | None) -> Clip:
    """A video through imageio's ffmpeg plugin: RGB frames (RGBA where the video has alpha), at
    the stream's base rate, each lasting its share of it (rounded so that the durations add up
    to the video's length in whole milliseconds). A variable-rate video comes at that rate too,
    a frame held over several slots repeated, so its timing is kept (the repeats are merged)."""
    try:
        import imageio.v3 as iio
        import imageio_ffmpeg
    except ImportError:
        raise InputError(f"{name}: reading video needs imageio with its ffmpeg plugin "
                         f"(pip install imageio imageio-ffmpeg: the video extra)") from None
    with open_input(path):  # the one opener's checks: exists, a regular file, readable
        pass
    try:
        meta = iio.immeta(path, plugin="FFMPEG")
    except Exception as exc:
        kinds = dict.fromkeys(re.findall(r"Stream #\S+.*?: (\w+):", str(exc)))  # ffmpeg's log
        if kinds and "Video" not in kinds:
            raise InputError(f"{name} holds no video stream (only "
                             f"{', '.join(kinds).lower()})") from None
        raise InputError(f"{name}: cannot read the video ({_last_line(exc)})") from None
    stream = _video_stream(path)
    rate = _base_rate(stream) or float(meta.get("fps") or 0)
    if not 0 < rate <= 1000:
        raise InputError(f"{name}: the video gives no usable frame rate ({rate})")
    _check_pixels(name, *meta.get("size", (0, 0)), max_pixels)
    announced = float(meta.get("duration") or 0)
    # the fps filter places frames by their timestamps (ffmpeg's -r lost some of a variable-rate
    # video with B-frames); non-square pixels (an anamorphic video) are scaled to its display
    # aspect, as players show it
    output = ["-vf", f"fps={rate!r}" + (",scale=iw*sar:ih,setsar=1" * _anamorphic(stream))]
    decoder = _alpha_decoder(stream)
    given = ["-c:v", decoder] if decoder else None
    alpha = str(meta.get("pix_fmt", "")).startswith(_ALPHA_FORMATS) or decoder is not None

    def decoded() -> Iterator[np.ndarray]:
        if not alpha:
            yield from iio.imiter(path, plugin="FFMPEG", output_params=output)
            return
        # imageio's reader gives three channels; its ffmpeg backend gives what it is asked for
        frames = imageio_ffmpeg.read_frames(os.fspath(path), pix_fmt="rgba", bits_per_pixel=32,
                                            input_params=given, output_params=output)
        try:
            width, height = next(frames)["size"]
            for data in frames:
                yield np.frombuffer(data, np.uint8).reshape(height, width, 4)
        finally:
            frames.close()

    def frames() -> Iterator[Frame]:
        count = 0
        try:
            for count, pixels in enumerate(decoded(), 1):
                duration = round(1000 * count / rate) - round(1000 * (count - 1) / rate)
                yield Frame(np.ascontiguousarray(pixels[..., :4 if alpha else 3], np.uint8),
                            duration)
        except Exception as exc:
            raise InputError(f"{name}: cannot decode the video ({_last_line(exc)})") from None
        if count < announced * rate - 1.5:  # short of its length: cut, or timed otherwise?
            damage = _decoding_errors(path)
            if damage:
                raise InputError(f"{name}: damaged or truncated: {count} frames decode of the "
                                 f"{announced:.2f} s it announces ({damage})")

    return Clip(name, "video", 0, frames)


#: ffmpeg pixel formats with an alpha channel (the prefixes of their names).
_ALPHA_FORMATS = ("rgba", "bgra", "argb", "abgr", "yuva", "gbrap", "ya8", "ya16")
#: The decoders that read the alpha a WebM's VP8 or VP9 stream carries beside its pixels
#: (alpha_mode 1, its pixel format yuv420p); ffmpeg's own decoders leave it out.
_ALPHA_DECODERS = {"vp8": "libvpx", "vp9": "libvpx-vp9"}


def _ffmpeg_log(path: Path, *args: str) -> str:
    """What imageio's ffmpeg says on stderr opening ``path``, ``args`` after it."""
    import subprocess

    import imageio_ffmpeg

    return subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-hide_banner", "-i",
                           os.fspath(path), *args], capture_output=True, text=True,
                          errors="replace").stderr


def _video_stream(path: Path) -> str:
    """ffmpeg's line for the file's first video stream, with its metadata ('' if it names
    none)."""
    video = re.search(r"Stream #\S+.*?: Video:.*(?:\n {4,}.*)*", _ffmpeg_log(path))
    return video.group(0) if video else ""


def _alpha_decoder(stream: str) -> str | None:
    """The decoder that reads the alpha of a VP8 or VP9 stream with alpha beside it (None for
    any other stream)."""
    codec = re.search(r"Video: (\w+)", stream)
    if codec is None or not re.search(r"^\s*alpha_mode\s*:\s*1\s*$", stream, re.MULTILINE):
        return None
    return _ALPHA_DECODERS.get(codec.group(1))


def _base_rate(stream: str) -> float:
    """A video stream's base rate (ffmpeg's "tbr"; 0 if its line gives none), the rate its
    frames are read at: a variable-rate video's "fps" is its average, which would time them
    wrong."""
    rate = re.search(r" (\d+(?:\.\d+)?)(k?) tbr", stream)
    return float(rate.group(1)) * (1000 if rate.group(2) else 1) if rate else 0.0


def _anamorphic(stream: str) -> bool:
    """Whether a video stream's pixels are not square (its sample aspect ratio is not 1:1)."""
    sar = re.search(r"\[SAR (\d+):(\d+)", stream)
    return sar is not None and sar.group(1) != sar.group(2) and int(sar.group(1)) > 0


def _decoding_errors(path: Path) -> str:
    """The first error ffmpeg reports decoding the video's first stream ('' if none): imageio
    ends a cut file's frames without one, as it ends a whole file's, and a video may be shorter
    than its container (audio running on) or timed otherwise (variable frame rate)."""
    log = _ffmpeg_log(path, "-v", "error", "-map", "0:v:0", "-f", "null", "-")
    lines = [line for line in log.splitlines() if line.strip()]
    return " ".join(re.sub(r"^\[[^]]*\] ", "", lines[0]).split())[:200] if lines else ""
