"""Names and defaults of animation outputs, shared by the command line and the library (no NumPy)."""

import os

#: Output formats, each written as ``<stem>.anim.<extension>``.
FORMATS = ("gif", "png", "webp", "qnt")
EXTENSIONS = {"gif": ".gif", "png": ".png", "webp": ".webp", "qnt": ".qnt"}
DEFAULT_FORMATS = ("gif",)
#: What a multi-frame .qnt unpacks to, by the output's extension (png: APNG).
UNPACKED = {".gif": "gif", ".png": "png", ".apng": "png", ".webp": "webp"}
#: global: one palette for the clip; frame: one per frame; auto: one per scene where it pays.
PALETTE_MODES = ("auto", "global", "frame")
#: Dithers that do not crawl: thresholds fixed to the pixel position (or none).
DITHERS = ("none", "ordered", "blue-noise", "pattern")
#: Entries of a GIF colour table at most (a palette following another keeps one free at 256).
GIF_TABLE = 256
#: Frame durations are whole milliseconds, at most GIF's longest delay (655.35 s).
MAX_DURATION_MS = 655_350
#: Plays of a clip at most (0: for ever): GIF's and WebP's loop counts are 16-bit.
MAX_PLAYS = 65535
#: Duration of each frame read from a folder or glob of still images, unless given.
DEFAULT_FOLDER_DURATION_MS = 100
#: GIF's clock counts centiseconds, and browsers (and ffmpeg) play a delay under 2 of them as 10:
#: a written GIF frame shows for at least this long.
GIF_MIN_DELAY_MS = 20
#: Browsers play a frame of an animated GIF, APNG or WebP lasting at most SHORT_FRAME_MS (a GIF
#: delay of 0 or 1 centisecond) for SHORT_FRAME_PLAYED_MS, and so does a read.
SHORT_FRAME_MS = 10
SHORT_FRAME_PLAYED_MS = 100


def gif_centiseconds(ms: int) -> int:
    """The time ``ms`` (milliseconds) on GIF's clock: the nearest centisecond, halves up."""
    return (ms + 5) // 10


def named_format(name: str) -> str | None:
    """The animation format a file called ``name`` holds by its extension (out.apng: png), or
    None."""
    suffix = os.path.splitext(name)[1].lower()
    return {**UNPACKED, **{end: fmt for fmt, end in EXTENSIONS.items()}}.get(suffix)
