"""A clip made smaller or slower before it is quantised: frames scaled down to fit a width and
height (aspect kept, never enlarged), frames dropped to a frame rate or to what GIF's clock (or,
without a GIF, browsers) can show, each shown frame lasting until the next so that the clip's
length is kept, alpha made all or nothing for a GIF, and the number of plays set. Frames stream
through one at a time."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Callable, Iterator

import numpy as np

from ..core.colorstats import binary_alpha
from ..errors import ParameterError, is_real, is_whole
from ..io.outputs import GIF_ALPHA_THRESHOLD
from .choices import GIF_MIN_DELAY_MS, SHORT_FRAME_MS
from .source import Clip, Frame, Origin, check_plays

#: Frames a second at most: the output's durations are whole milliseconds.
MAX_FPS = 1000.0
#: The shortest frame browsers play as long as it says (one of SHORT_FRAME_MS or less lasts
#: 100 ms), the shortest an APNG or WebP is written with.
BROWSER_MIN_DELAY_MS = SHORT_FRAME_MS + 1
#: A frame starting this soon after an --fps slot is taken as meant for it: GIF's centisecond
#: clock starts a frame up to half a centisecond after its time (a 30 fps GIF's 30, 40, 30 ms).
SLOT_LEAD_MS = 5


def fitted_size(width: int, height: int, max_width: int | None,
                max_height: int | None) -> tuple[int, int]:
    """The largest size of ``width`` x ``height``'s aspect within ``max_width`` x ``max_height``
    (either None: no bound), never larger than the frame itself nor below one pixel a side."""
    scale = min([1.0, *(bound / side for bound, side in ((max_width, width), (max_height, height))
                        if bound is not None)])
    return max(1, round(width * scale)), max(1, round(height * scale))


def _scaled(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``pixels`` (H, W, 3|4) resampled to ``size`` (width, height) with Lanczos (Pillow weighs
    colours by alpha); a frame whose alpha was only 0 or 255 keeps it so (GIF has no other)."""
    from PIL import Image

    out = np.asarray(Image.fromarray(pixels).resize(size, Image.Resampling.LANCZOS)).copy()
    if out.shape[2] == 4:
        if np.isin(pixels[..., 3], (0, 255)).all():
            out[..., 3] = np.where(out[..., 3] >= 128, 255, 0)
        if (out[..., 3] == 255).all():
            out = np.ascontiguousarray(out[..., :3])
    return out


def _slot_at_or_after(ms: float, fps: float) -> int:
    """The time (ms) of the first frame slot, slot k at round(k * 1000 / fps), not before ``ms``."""
    k = max(0, math.floor(ms * fps / 1000) - 1)
    while math.floor(k * 1000 / fps + 0.5) < ms:
        k += 1
    return math.floor(k * 1000 / fps + 0.5)


def _retimed(frames: Iterator[Frame], fps: float) -> Iterator[Frame]:
    """The frames on screen just after the slots of ``fps`` (:data:`SLOT_LEAD_MS`, at most a
    quarter slot): a frame no such time falls in is dropped, and each kept frame lasts from its
    first slot to the next kept frame's (the last to the clip's end)."""
    lead = min(SLOT_LEAD_MS, 250 / fps)
    pending: tuple[Frame, int] | None = None  # a kept frame and the time its slot starts
    start = 0
    last = None
    for frame in frames:
        last = frame
        end = start + frame.duration
        slot = _slot_at_or_after(start - lead, fps)
        if slot + lead < end:
            if pending is not None:
                yield replace(pending[0], duration=slot - pending[1])
            pending = frame, slot
        start = end
    if pending is not None:
        yield replace(pending[0], duration=start - pending[1])
    elif last is not None:  # a clip that lasts no time: no slot falls in it
        yield last


def _paced(frames: Iterator[Frame], least: int) -> Iterator[Frame]:
    """The frames as a clock of ``least`` ms at least can time them (GIF's: 20): each kept frame
    shows from its own start or ``least`` after the last kept one's, whichever is later, and a
    frame that would no longer be on screen then is dropped (a 60 fps clip keeps five frames in
    six, evenly at 50 fps; frames of ``least`` or more all keep their times). A last frame that
    would show for less than that takes the place of the one kept before it; the clip's length
    is kept."""
    before: tuple[Frame, int] | None = None  # kept frames not yet given out, with their times
    last: tuple[Frame, int] | None = None
    start = 0
    frame = None
    for frame in frames:
        end = start + frame.duration
        shown = 0 if last is None else max(start, last[1] + least)
        if shown < end:
            if before is not None:
                yield replace(before[0], duration=last[1] - before[1])
            before, last = last, (frame, shown)
        start = end
    if last is None:  # a clip that lasts no time
        if frame is not None:
            yield frame
        return
    if before is not None:
        if start - last[1] < least:
            last = last[0], before[1]  # the clip ends on its last picture
        else:
            yield replace(before[0], duration=last[1] - before[1])
    yield replace(last[0], duration=start - last[1])


def check_resampling(*, width: int | None = None, height: int | None = None,
                     fps: float | None = None, plays: int | None = None) -> None:
    """A :class:`ParameterError` unless each given bound of :func:`resampled` is usable."""
    for name, side in (("width", width), ("height", height)):
        if side is not None and not (is_whole(side) and side >= 1):
            raise ParameterError(f"{name} must be at least 1 pixel, got {side!r}",
                                 parameters=(name,))
    if fps is not None and not (is_real(fps) and 0 < fps <= MAX_FPS):
        raise ParameterError(f"fps must be above 0 and at most {MAX_FPS:g}, got "
                             f"{format(fps, 'g') if is_real(fps) else repr(fps)}",
                             parameters=("fps",))
    if plays is not None:
        check_plays(plays)


def _counted(clip: Clip, origin: Origin) -> Iterator[Frame]:
    """``clip``'s frames, counted and measured into ``origin`` as they pass."""
    origin.frames = origin.length_ms = 0
    for origin.frames, frame in enumerate(clip.frames(), 1):
        origin.height, origin.width = frame.pixels.shape[:2]
        origin.length_ms += frame.duration
        yield frame


def _binary_alpha(frames: Iterator[Frame], origin: Origin) -> Iterator[Frame]:
    """The frames with alpha all or nothing (:data:`GIF_ALPHA_THRESHOLD`), each keeping its pixels
    as read to be measured against, the partly transparent pixels counted into ``origin``."""
    origin.partly_clear = 0
    for frame in frames:
        pixels, partial = binary_alpha(frame.pixels, GIF_ALPHA_THRESHOLD)
        origin.partly_clear += partial
        yield replace(frame, pixels=pixels, as_read=frame.pixels) if partial else frame


def _counted_once(clip: Clip) -> tuple[Origin, Callable[[], Iterator[Frame]]]:
    """The origin ``clip``'s frames are counted into as they are read, and a reader of them."""
    if clip.origin is not None:  # made from another: its frames are counted there
        return clip.origin, clip.frames
    origin = Origin()
    return origin, lambda: _counted(clip, origin)


def as_gif_shows(clip: Clip) -> Clip:
    """``clip`` as a GIF can show it: the frames dropped that GIF's clock could not time
    (:func:`_paced`) and every pixel opaque or fully transparent (each frame keeping its pixels
    as read, :attr:`~.source.Frame.as_read`), both counted in its origin."""
    origin, frames = _counted_once(clip)
    origin.paced_fps, origin.paced_for = 1000 / GIF_MIN_DELAY_MS, "GIF's"
    return replace(clip, _read=lambda: _paced(_binary_alpha(frames(), origin), GIF_MIN_DELAY_MS),
                   origin=origin, files=())  # the frames no longer match the files one to one


def as_browsers_play(clip: Clip) -> Clip:
    """``clip`` as browsers play an APNG or WebP: the frames dropped that would show for less
    than :data:`BROWSER_MIN_DELAY_MS` (:func:`_paced`), which they would play for 100 ms each;
    frames of that or longer keep their times."""
    origin, frames = _counted_once(clip)
    origin.paced_fps, origin.paced_for = 1000 / BROWSER_MIN_DELAY_MS, "browsers'"
    return replace(clip, _read=lambda: _paced(frames(), BROWSER_MIN_DELAY_MS), origin=origin,
                   files=())


def resampled(clip: Clip, *, width: int | None = None, height: int | None = None,
              fps: float | None = None, plays: int | None = None) -> Clip:
    """``clip`` with its frames scaled down to fit ``width`` x ``height`` (pixels; aspect kept,
    never enlarged), retimed to at most ``fps`` frames a second (the clip's length kept) and
    playing ``plays`` times (0: for ever); the parameters left None change nothing."""
    check_resampling(width=width, height=height, fps=fps, plays=plays)
    if plays is not None:
        clip = replace(clip, plays=plays)
    if width is None and height is None and fps is None:
        return clip

    origin = Origin(fps)

    def frames() -> Iterator[Frame]:
        source = _counted(clip, origin)
        if fps is not None:
            source = _retimed(source, fps)
        for frame in source:
            h, w = frame.pixels.shape[:2]
            size = fitted_size(w, h, width, height)
            yield frame if size == (w, h) else replace(frame, pixels=_scaled(frame.pixels, size))

    return replace(clip, _read=frames, origin=origin, files=())  # frames may be dropped
