"""Reading images into normalised uint8 pixel arrays, and writing previews and restored images.

Every input ends up as an (H, W, 3) uint8 array, or (H, W, 4) when some pixel is not fully opaque.
What the loader changed on the way (frames skipped, bit depth, colour profile, orientation, alpha)
is recorded in :attr:`Image.notes` for the report.

Decoding is Pillow's, restricted to the formats in :data:`FORMATS` (no Ghostscript-backed EPS/PDF).
Floating-point and other TIFFs that Pillow cannot identify are read with ``tifffile`` when installed.
Any problem with a file's content becomes a one-line :class:`InputError` naming the file.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import struct
import sys
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Iterator

import numpy as np
from numpy.typing import ArrayLike
from PIL import Image as PILImage
from PIL import UnidentifiedImageError

from ..errors import InputError, ParameterError, one_line, whole
from .files import display_name, input_path, is_stream, open_input, read_stream, write_bytes

#: Pillow's own default limit (``PIL.Image.MAX_IMAGE_PIXELS``): about 89.5 megapixels.
DEFAULT_MAX_PIXELS = 89_478_485

#: Formats the loader accepts (Pillow plugin names; JPEG includes multi-picture MPO files).
FORMATS = ("PNG", "JPEG", "WEBP", "TIFF", "BMP", "GIF", "PPM", "TGA", "QOI", "AVIF", "JPEG2000")
#: File name endings of those formats as Pillow registers them (tests/test_images.py checks that
#: they match), kept here so that finding a batch's inputs imports no Pillow plugin.
SUFFIXES = frozenset((".apng", ".avif", ".avifs", ".bmp", ".gif", ".icb", ".j2c", ".j2k", ".jfif",
                      ".jp2", ".jpc", ".jpe", ".jpeg", ".jpf", ".jpg", ".jpx", ".pbm", ".pfm", ".pgm",
                      ".png", ".pnm", ".ppm", ".qoi", ".tga", ".tif", ".tiff", ".vda", ".vst", ".webp"))

#: zlib level for PNG output: higher levels save under 1 % of the bytes for several times the time
#: (docs/TUNING.md).
PREVIEW_COMPRESS_LEVEL = 3

_ROWS_BYTES = 1 << 22  # working-set size for row-chunked conversions
_TIFF_MAGIC = (b"II*\0", b"MM\0*", b"II+\0", b"MM\0+")
_LOW_BYTE_RAWMODE = {";16B": ";16L", ";16L": ";16B", ";16N": ";16B" if sys.byteorder == "little" else ";16L"}
_ORIENTATION = {  # EXIF orientation tag -> the transpose that undoes it (as ImageOps.exif_transpose)
    2: PILImage.Transpose.FLIP_LEFT_RIGHT,
    3: PILImage.Transpose.ROTATE_180,
    4: PILImage.Transpose.FLIP_TOP_BOTTOM,
    5: PILImage.Transpose.TRANSPOSE,
    6: PILImage.Transpose.ROTATE_270,
    7: PILImage.Transpose.TRANSVERSE,
    8: PILImage.Transpose.ROTATE_90,
}


ORIENTED = "EXIF orientation applied"  # the note of a picture turned by its orientation tag


@dataclass(frozen=True, eq=False)
class Image:
    """A decoded image: uint8 pixels plus where they came from and what the loader did.

    Made by the loaders (:func:`load_image`, :func:`image_from_array`, :func:`image_from_pillow`);
    built by hand, its pixels must already be (H, W, 3) or (H, W, 4) uint8.
    """

    pixels: np.ndarray  # (H, W, 3) uint8, or (H, W, 4) when some alpha < 255; C-contiguous
    source: Path | None = None
    format: str | None = None
    file_bytes: int = 0  # the file's size (0: made in memory)
    frames: int = 1  # the frames or pages the file holds, of which these pixels are the first
    notes: tuple[str, ...] = ()
    grey: bool = False  # the source's samples were grey: its raw pixels were 1 byte, 2 with alpha

    def __post_init__(self) -> None:
        a = self.pixels
        if not isinstance(a, np.ndarray) or a.dtype != np.uint8 or a.ndim != 3 \
                or a.shape[2] not in (3, 4) or not a.shape[0] or not a.shape[1]:
            what = (f"{a.dtype} of shape {a.shape}" if isinstance(a, np.ndarray)
                    else f"a {type(a).__name__}")
            raise ParameterError(f"Image pixels must be an (H, W, 3) or (H, W, 4) uint8 array, not "
                                 f"{what}: image_from_array converts other arrays")
        if not a.flags.c_contiguous:  # the kernels read the pixels as one block
            object.__setattr__(self, "pixels", np.ascontiguousarray(a))

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    @property
    def channels(self) -> int:
        return int(self.pixels.shape[2])

    @property
    def raw_channels(self) -> int:
        """Bytes a pixel of the source took uncompressed: 1 or 2 for grey, else :attr:`channels`."""
        return self.channels - 2 if self.grey else self.channels


# --------------------------------------------------------------------------------------------- loading

def load_image(path: str | os.PathLike[str] | BinaryIO, *,
               max_pixels: int | None = DEFAULT_MAX_PIXELS) -> Image:
    """Read an image file, by its path or a binary file object (read from where it stands); refuse
    it (before decoding) if it has more than ``max_pixels`` pixels.

    ``max_pixels=None`` lifts the decompression-bomb guard (the CLI's ``--allow-huge``).
    Raises :class:`InputError` with a one-line message for every unreadable or refused input.
    """
    if is_stream(path):
        return _read_stream(path, max_pixels)
    path = input_path(path, "an image")
    with open_input(path) as (fh, size):
        return _read(fh, size, display_name(path), max_pixels, path)



def refuse_packed(path: str | os.PathLike[str]) -> None:
    """Raise the :class:`InputError` :func:`load_image` raises for ``path`` when it is a packed
    file, without decoding anything."""
    from .container import packed_instead

    with open_input(path) as (fh, _):
        why = packed_instead(fh.read(16))
    if why:
        raise InputError(f"{display_name(path)} {why}")


def _read(fh: BinaryIO, size: int, name: str, max_pixels: int | None,
          source: Path | None) -> Image:
    """The image in ``fh`` (``size`` bytes); every problem is an :class:`InputError` naming it
    ``name``."""
    if max_pixels is not None:  # a caller's value, refused as such, not as the file's problem
        whole("max_pixels", max_pixels, 1)
    notes: list[str] = []
    try:
        (pixels, grey), fmt, frames = _decode(fh, max_pixels, notes)
    except _Refused as exc:
        raise InputError(f"{name}{exc}", parameters=exc.parameters) from None
    except MemoryError:
        raise InputError(f"{name}: not enough memory to decode the image") from None
    except Exception as exc:  # any file content must end in a one-line message, never a traceback
        detail = one_line(exc)
        if "decoder" in detail or "truncated" in detail.lower():  # Pillow's for a cut stream
            detail = f"damaged or truncated: {detail}"
        raise InputError(f"{name}: cannot decode the image ({detail})") from None
    return Image(pixels, source, fmt, size, frames, tuple(notes), grey)


def _read_stream(stream: BinaryIO, max_pixels: int | None) -> Image:
    """The image in a binary file object, read from where it stands to its end, as a file of
    those bytes is loaded."""
    data, name = read_stream(stream)
    return _read(io.BytesIO(data), len(data), name, max_pixels, None)


def image_from_bytes(data: bytes) -> Image:
    """An image file held in memory (one frame of an APNG, say), decoded as :func:`load_image`
    decodes a file, with no pixel limit (the caller's); one it cannot read is a ``ValueError``
    saying why."""
    notes: list[str] = []
    try:
        (pixels, grey), fmt, frames = _decode(io.BytesIO(data), None, notes)
    except _Refused as exc:
        raise ValueError(str(exc).lstrip(": ")) from None
    return Image(pixels, None, fmt, len(data), frames, tuple(notes), grey)


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_SIGNATURES = ((_PNG_SIGNATURE, 0, "PNG"), (b"GIF8", 0, "GIF"), (b"\xff\xd8\xff", 0, "JPEG"),
               (b"WEBP", 8, "WebP"), (b"ftypavi", 4, "AVIF"), (b"qoif", 0, "QOI"))


def signature_format(head: bytes) -> str | None:
    """The format whose signature starts ``head`` (a file's first bytes), if quantize reads it."""
    for signature, at, name in _SIGNATURES:
        if head[at:at + len(signature)] == signature:
            return name
    return None


def beyond_pillow(head: bytes) -> str | None:
    """The format of a still, starting ``head``, that quantize reads where Pillow cannot: a TIFF
    of samples Pillow does not take (tifffile reads it) or a colour PFM."""
    if head[:4] in _TIFF_MAGIC:
        return "TIFF"
    if head[:2] == b"PF" and head[2:3].isspace():
        return "PFM"
    return None


# ISO base media brands of stills (AVIF, HEIF, JPEG XL): any other "ftyp" box opens a video
_STILL_BRANDS = (b"avif", b"avis", b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1", b"jxl ")


def video_container(head: bytes) -> str | None:
    """The container a file starting ``head`` (16 bytes) is a video in (MP4 or QuickTime,
    Matroska or WebM, AVI, MPEG), or None."""
    if head[4:8] == b"ftyp" and head[8:12] not in _STILL_BRANDS:
        return "MP4 or QuickTime"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "Matroska or WebM"
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return "AVI"
    if head.startswith((b"\x00\x00\x01\xba", b"\x00\x00\x01\xb3")):
        return "MPEG"
    return None


def gif_without_frames(fh: BinaryIO) -> bool:
    """Whether the GIF in ``fh`` is whole but holds no image (Pillow cannot identify it): its
    blocks, walked from the start, reach the trailer before any image descriptor."""
    fh.seek(0)
    head = fh.read(13)
    if len(head) < 13 or head[:6] not in (b"GIF87a", b"GIF89a"):
        return False
    if head[10] & 0x80:
        fh.seek(3 << ((head[10] & 7) + 1), 1)  # the global colour table
    while (block := fh.read(1)) == b"!":
        fh.read(1)  # the extension's label, then its sub-blocks
        while (size := fh.read(1)) not in (b"", b"\0"):
            fh.seek(size[0], 1)
    return block == b";"


def _icon(start: bytes) -> bool:
    """Whether a file's first bytes open a Windows icon (or cursor): a count of images, then
    their directory, which the first image's data follows."""
    if len(start) < 22 or start[:4] not in (b"\0\0\1\0", b"\0\0\2\0"):
        return False
    count = struct.unpack("<H", start[4:6])[0]
    return count > 0 and struct.unpack("<I", start[18:22])[0] == 6 + 16 * count


#: Formats met among images that quantize does not read, by how their files start, named when
#: one is refused (an HTML page is what a failed download often saves under an image's name).
_FOREIGN = (
    (re.compile(rb"....ftyp(hei[cxms]|hev[cx]|mif1|msf1)", re.S).match, "a HEIF (HEIC) image"),
    (re.compile(rb"\xff\x0a|\0\0\0\x0cJXL ").match, "a JPEG XL image"),
    (re.compile(rb"8BPS\0[\1\2]").match, "a Photoshop (PSD) file"),
    (_icon, "a Windows icon (ICO)"),
    (re.compile(rb"icns").match, "a macOS icon (ICNS)"),
    (re.compile(rb"%PDF-").match, "a PDF document"),
    (re.compile(rb"(\xef\xbb\xbf)?\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<svg", re.I | re.S).match,
     "an SVG drawing"),
    (re.compile(rb"(\xef\xbb\xbf)?\s*<(!doctype html|html)", re.I).match, "an HTML page"),
)


def _avif_brand(start: bytes) -> bool:
    """Whether a file's first bytes are an ftyp box naming AVIF among its brands."""
    if start[4:8] != b"ftyp":
        return False
    box = start[8:min(struct.unpack(">I", start[:4])[0], len(start))]
    return any(box[at:at + 4] in (b"avif", b"avis") for at in range(0, len(box), 4))


def _reads_avif() -> bool:
    """Whether this Pillow decodes AVIF (its plugin came in 11.3, and needs libavif)."""
    try:
        from PIL import AvifImagePlugin
    except ImportError:
        return False
    return bool(AvifImagePlugin.SUPPORTED)


def unreadable(name: str, fh: BinaryIO, head: bytes) -> str | None:
    """Why a file Pillow cannot identify, named ``name``, starting ``head``, is refused when it
    claims a format quantize reads or is one of :data:`_FOREIGN` (None otherwise): one line for
    still and animated inputs alike."""
    from .container import packed_instead

    if packed_instead(head):
        return f"{name} {packed_instead(head)}"
    if head.startswith((b"GIF87a", b"GIF89a")) and gif_without_frames(fh):
        return f"{name}: no frames (the GIF ends after its header)"
    fh.seek(0)
    start = fh.read(512)
    if _avif_brand(start) and not _reads_avif():
        return (f"{name} is an AVIF image, and this Pillow reads no AVIF (Pillow 11.3 or later, "
                f"built with libavif, does)")
    signed = signature_format(head)
    if signed:  # a file of a format we read that its reader cannot make out
        return f"{name}: cannot decode the image (a damaged or truncated {signed} file)"
    foreign = next((what for opens, what in _FOREIGN if opens(start)), None)
    if foreign:
        return f"{name} is {foreign}, a format quantize does not read (it reads {', '.join(FORMATS)})"
    return None


class _Refused(Exception):
    """The file was read but is refused; the message follows the file name (e.g. ": too large")."""

    def __init__(self, message: str, parameters: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.parameters = parameters


def _check_size(width: int, height: int, max_pixels: int | None) -> None:
    if width <= 0 or height <= 0:
        raise _Refused(f": the image has no pixels ({width}x{height})")
    if max_pixels is not None and width * height > max_pixels:
        raise _Refused(too_large(f"{width}x{height} is {width * height:,} pixels", max_pixels),
                       LIFT_LIMIT)


LIFT_LIMIT = ("max_pixels=None",)  # what a refused image's message cites to lift the limit


def too_large(size: str, max_pixels: int) -> str:
    """The tail of a refused image's message (cite :data:`LIFT_LIMIT` with it)."""
    return (f": {size}, more than the limit of {max_pixels:,} that guards against decompression "
            "bombs; use max_pixels=None to load it")


def _decode(fh: BinaryIO, max_pixels: int | None,
            notes: list[str]) -> tuple[tuple[np.ndarray, bool], str, int]:
    """Decode the first frame of an open file into normalised uint8 pixels; return them with
    whether they were grey (:func:`_finish`), the format and how many frames (or pages) the file
    holds."""
    start = len(notes)
    try:
        return _decode_file(fh, max_pixels, notes)
    except ValueError as exc:
        mended = _png_without_oversized(fh) if "MAX_TEXT_CHUNK" in str(exc) else None
        if mended is None:
            raise
    data, dropped = mended
    del notes[start:]  # those of the refused read
    notes.append(f"PNG: its {', '.join(dropped)} chunk{'s' * (len(dropped) > 1)} left out: "
                 f"{'they expand' if len(dropped) > 1 else 'it expands'} past Pillow's limit for "
                 f"text and colour profiles (a decompression bomb?)")
    return _decode_file(io.BytesIO(data), max_pixels, notes)


def _decode_file(fh: BinaryIO, max_pixels: int | None,
                 notes: list[str]) -> tuple[tuple[np.ndarray, bool], str, int]:
    """:func:`_decode` of a file Pillow reads as it stands."""
    try:
        im = PILImage.open(fh, formats=FORMATS)
    except PILImage.DecompressionBombError as exc:  # Pillow's own limit, which the process sets
        found = re.search(r"\((\d+) pixels\)", str(exc))
        if found and max_pixels is not None and int(found.group(1)) > max_pixels:
            raise _Refused(too_large(f"{int(found.group(1)):,} pixels", max_pixels),
                           LIFT_LIMIT) from None
        raise _Refused(f": {one_line(exc)} (raise PIL.Image.MAX_IMAGE_PIXELS to load it)") from None
    except UnidentifiedImageError:
        fh.seek(0)
        head = fh.read(16)
        other = beyond_pillow(head)
        if other == "TIFF":
            return _decode_with_tifffile(fh, max_pixels, notes)
        if other == "PFM":
            return _decode_colour_pfm(fh, max_pixels, notes), "PFM", 1
        mended = png_without_damaged_extras(fh)
        if mended is not None:
            data, dropped = mended
            notes.append(f"PNG: its damaged {', '.join(dropped)} chunk{'s' * (len(dropped) > 1)} "
                          f"(CRC error) left out, as browsers read it")
            return _decode(io.BytesIO(data), max_pixels, notes)
        why = unreadable("", fh, head)
        if why:
            raise _Refused(why) from None
        video = video_container(head)
        if video:  # compress takes one picture: a video's frames are animate's
            raise _Refused(f" is a video ({video}), not an image: quantize animate reads its "
                           "frames") from None
        raise _Refused(f" is not an image in a format quantize reads ({', '.join(FORMATS)})") from None
    fmt = im.format or "unknown"
    if _misread_planes(im):
        return _decode_with_tifffile(fh, max_pixels, notes)
    _check_size(*im.size, max_pixels)
    try:
        frames = getattr(im, "n_frames", 1)
    except Exception:  # counting walks every frame: a file cut after the first fails it
        frames = 1
        notes.append(f"{_label(fmt)}: used {_PARTS.get(fmt, 'frame')} 1; the file is cut or "
                     f"damaged after it")
        fh.seek(0)
        im = PILImage.open(fh, formats=(fmt,))  # afresh: the failed count left it mid-file
    if frames > 1:  # n_frames leaves im on frame 1
        notes.append(_used_note(fmt, frames, hidden=bool(im.info.get("default_image"))))
    rawmodes = [_rawmode(t.args) for t in im.tile]  # how Pillow unpacks the samples; gone after load()
    # a colour PPM of 2-byte samples: Pillow's own decoder scales it to 8 bits, unlike a grey one's
    if fmt == "PPM" and im.mode == "RGB" and any(
            isinstance(t.args, tuple) and len(t.args) > 1 and t.args[1] > 255 for t in im.tile):
        notes.append("16-bit reduced to 8 bits")
    covered = im.tile[0][1] if fmt == "GIF" and len(im.tile) == 1 else None  # its extents
    # Pillow's TIFF reader turns the picture by its orientation tag as it loads, and drops the tag
    turned = fmt == "TIFF" and im.tag_v2.get(0x0112) in _ORIENTATION
    im.load()  # the full decode, inside load_image's error handling (truncated files fail here)
    if turned:
        notes.append(ORIENTED)
    orientation = exif_orientation(im, notes)
    icc, gamma = im.info.get("icc_profile"), png_gamma(im)  # read before _to_8bit drops im.info
    im, curved = _to_8bit(im, rawmodes, fh, notes, gamma=gamma)
    if fmt in ("BMP", "TGA") and im.mode == "RGBA" and im.getextrema()[3] == (0, 0):
        im = im.convert("RGB")  # as Chromium reads such a BMP: an invisible picture is no picture
        notes.append(f"{fmt}: its alpha channel is 0 everywhere (written, never used): read as "
                     f"opaque")
    if covered is not None and tuple(covered) != (0, 0, *im.size):
        im = _clear_uncovered(im, tuple(covered), notes)
    return _finish(im, orientation, icc, notes, None if curved else gamma), fmt, frames


def _clear_uncovered(im: PILImage.Image, box: tuple[int, int, int, int],
                     notes: list[str]) -> PILImage.Image:
    """A GIF's screen made transparent where its first image, at ``box``, leaves it uncovered, as
    browsers show it (Pillow paints it with the background colour unless the image has a
    transparent index)."""
    rgba = im.convert("RGBA")
    alpha = PILImage.new("L", im.size, 0)
    alpha.paste(rgba.getchannel("A").crop(box), box[:2])
    rgba.putalpha(alpha)
    width, height = box[2] - box[0], box[3] - box[1]
    notes.append(f"GIF: its {width}x{height} image leaves the rest of its {im.width}x{im.height} "
                 f"screen uncovered: transparent there, as browsers show it")
    return rgba


#: What the pictures of a file of several are called, by Pillow's format name (else frames).
_PARTS = {"TIFF": "page", "MPO": "image"}
_USED = re.compile(r"\w+: used (\w+ 1 of [\d,]+|its default image, none of its [\d,]+ frames?)")


def _label(fmt: str) -> str:
    """How notes name a file of several pictures by Pillow's format name (PNG: APNG)."""
    return {"PNG": "APNG", "WEBP": "WebP"}.get(fmt, fmt)


def _used_note(fmt: str, count: int, hidden: bool = False) -> str:
    """The note of a file of ``count`` pictures whose first is read: 'TIFF: used page 1 of 3';
    an APNG's ``hidden`` default image (an IDAT before the first fcTL) is no frame of its own."""
    label = _label(fmt)
    if hidden:
        frames = f"{count - 1:,} frame{'s' * (count != 2)}"
        return f"{label}: used its default image, none of its {frames}"
    return f"{label}: used {_PARTS.get(fmt, 'frame')} 1 of {count:,}"


def used_part(notes: Iterable[str]) -> str | None:
    """Which of a file's several pictures the loader read, from its note ('page 1 of 3', 'frame 1
    of 2'); None for a file of one."""
    return next((found.group(1) for found in map(_USED.fullmatch, notes) if found), None)


def png_without_damaged_extras(fh: BinaryIO) -> tuple[bytes, list[str]] | None:
    """The PNG file ``fh`` without its ancillary chunks whose CRC is wrong, and their names, as
    libpng reads it by default (Chromium's and Firefox's readers before the image data; Pillow
    refuses the file); None if none is, or a critical chunk is damaged, or the file is cut or no
    PNG."""
    return _png_without(fh, lambda kind, data, whole: not whole)


def _png_without_oversized(fh: BinaryIO) -> tuple[bytes, list[str]] | None:
    """The PNG file ``fh`` without its compressed text and colour-profile chunks that expand past
    Pillow's limit (``PngImagePlugin.MAX_TEXT_CHUNK``), which makes Pillow refuse the whole file,
    and their names; None as :func:`png_without_damaged_extras`."""
    from PIL import PngImagePlugin

    def oversized(kind: bytes, data: bytes, whole: bool) -> bool:
        if not whole or kind not in (b"zTXt", b"iTXt", b"iCCP"):
            return False
        body = data[data.find(b"\0") + 1:]  # after the keyword (the profile's name)
        if kind == b"iTXt":  # a flag (1: compressed) and method, a language and a keyword, then text
            parts = body[2:].split(b"\0", 2)
            if body[:1] != b"\1" or len(parts) < 3:
                return False
            stream = parts[2]
        else:  # the compression method, then the stream
            stream = body[1:]
        inflater = zlib.decompressobj()
        try:
            inflater.decompress(stream, PngImagePlugin.MAX_TEXT_CHUNK)
        except zlib.error:
            return False
        return bool(inflater.unconsumed_tail)

    return _png_without(fh, oversized)


def _png_without(fh: BinaryIO, unwanted: Callable[[bytes, bytes, bool], bool]
                 ) -> tuple[bytes, list[str]] | None:
    """The PNG file ``fh`` without the ancillary chunks ``unwanted(kind, data, whole)`` picks
    (``whole``: its CRC is right), and their names; None if it picks none, a chunk it keeps is
    damaged, or the file is cut or no PNG."""
    fh.seek(0)
    if fh.read(8) != _PNG_SIGNATURE:
        return None
    data = _PNG_SIGNATURE + fh.read()
    kept, dropped, at = [data[:8]], [], 8
    while at + 12 <= len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        end = at + 12 + length
        if end > len(data):
            return None
        whole = zlib.crc32(data[at + 4:end - 4]) == struct.unpack(">I", data[end - 4:end])[0]
        if kind[0] & 0x20 and unwanted(kind, data[at + 8:end - 4], whole):  # the ancillary bit
            dropped.append(kind.decode("latin-1"))
        elif whole:
            kept.append(data[at:end])
        else:
            return None
        at = end
        if kind == b"IEND":
            break
    return (b"".join(kept), dropped) if dropped else None


def _misread_planes(im: PILImage.Image) -> bool:
    """Whether ``im`` is a TIFF of samples over 8 bits stored plane by plane (PlanarConfiguration
    2), which Pillow's raw decoder reads as bytes (colours garbled, nothing said)."""
    if im.format != "TIFF" or im.tag_v2.get(284) != 2:
        return False
    bits = im.tag_v2.get(258, 8)
    return max(bits if isinstance(bits, tuple) else (bits,)) > 8


def _decode_with_tifffile(fh: BinaryIO, max_pixels: int | None,
                          notes: list[str]) -> tuple[tuple[np.ndarray, bool], str, int]:
    """Read the first page of a TIFF Pillow cannot identify (e.g. floating-point RGB) or misreads
    (:func:`_misread_planes`), as :func:`_decode` reads a file."""
    try:
        import tifffile
    except ImportError:
        raise _Refused(": reading this TIFF needs the 'tifffile' package (pip install tifffile)") from None
    fh.seek(0)
    with _log_as_notes("tifffile", "TIFF", notes), tifffile.TiffFile(fh, name="input.tif") as tif:
        if not len(tif.pages):
            raise _Refused(": the TIFF has no readable page")
        page = tif.pages.first
        _check_size(int(page.imagewidth), int(page.imagelength), max_pixels)
        pages = len(tif.pages)
        if pages > 1:
            notes.append(_used_note("TIFF", pages))
        if page.photometric not in (tifffile.PHOTOMETRIC.MINISBLACK, tifffile.PHOTOMETRIC.RGB):
            raise _Refused(f": unsupported TIFF photometric interpretation {page.photometric.name}")
        array = page.asarray()
        if page.axes.startswith("S"):  # planar configuration: samples first
            array = np.moveaxis(array, 0, -1)
        orientation = page.tags.valueof(274)
        icc = page.tags.valueof(34675)
    try:
        array8 = _array_to_8bit(array, notes, clip_floats=True)
    except ParameterError as exc:
        raise _Refused(f": {exc}") from None
    return _finish(PILImage.fromarray(array8), orientation, icc, notes), "TIFF", pages


def _decode_colour_pfm(fh: BinaryIO, max_pixels: int | None,
                       notes: list[str]) -> tuple[np.ndarray, bool]:
    """Read a colour PFM (float RGB, bottom row first; Pillow reads only the grey kind)."""
    fh.seek(0)
    header = re.match(rb"PF\s+(\d+)\s+(\d+)\s+([-+.\deE]+)\s", fh.read(256))
    if not header:
        raise _Refused(": cannot decode the image (a damaged or truncated PFM file)")
    width, height = int(header.group(1)), int(header.group(2))
    _check_size(width, height, max_pixels)
    try:
        order = "<" if float(header.group(3)) < 0 else ">"  # the scale's sign gives the byte order
    except ValueError:
        raise _Refused(": cannot decode the image (a damaged or truncated PFM file)") from None
    fh.seek(header.end())
    data = fh.read(width * height * 12)
    if not width or not height or len(data) < width * height * 12:
        raise _Refused(": cannot decode the image (a damaged or truncated PFM file)")
    floats = np.frombuffer(data, f"{order}f4").reshape(height, width, 3)[::-1]
    try:
        array8 = _array_to_8bit(floats.astype(np.float32), notes, clip_floats=True)
    except ParameterError as exc:
        raise _Refused(f": {exc}") from None
    return _finish(PILImage.fromarray(array8), None, None, notes)


class _NoteCatcher(logging.Filter):
    """On a library's logger, turns the warnings logged by each thread inside
    :func:`_log_as_notes` into that thread's notes, instead of lines on stderr; other threads'
    records pass as they would."""

    def __init__(self) -> None:
        super().__init__()
        self.local = threading.local()
        self.users = 0  # threads inside _log_as_notes: the filter stays on the logger while any are

    def filter(self, record: logging.LogRecord) -> bool:
        catch = getattr(self.local, "catch", None)
        if catch is None or record.levelno < logging.WARNING:
            return True
        catch(re.sub(r"^<[^>]*>\s*", "", one_line(record.getMessage())))  # drop "<TiffPages @...>"
        return False


_catchers: dict[str, _NoteCatcher] = {}
_catchers_lock = threading.Lock()


@contextlib.contextmanager
def _log_as_notes(logger_name: str, label: str, notes: list[str]) -> Iterator[None]:
    """Turn what ``logger_name`` logs meanwhile in this thread into notes instead of lines on
    stderr; the logger is as it was once every thread has left."""
    logger = logging.getLogger(logger_name)
    with _catchers_lock:
        catcher = _catchers.setdefault(logger_name, _NoteCatcher())
        if not catcher.users:
            logger.addFilter(catcher)
        catcher.users += 1
    catcher.local.catch = lambda text: notes.append(f"{label}: {text}")
    try:
        yield
    finally:
        del catcher.local.catch
        with _catchers_lock:
            catcher.users -= 1
            if not catcher.users:
                logger.removeFilter(catcher)


def _rawmode(args: object) -> str:
    if isinstance(args, tuple) and args:
        args = args[0]
    return args if isinstance(args, str) else ""


def _to_8bit(im: PILImage.Image, rawmodes: list[str], fh: BinaryIO | None, notes: list[str], *,
             made: bool = False, gamma: float | None = None) -> tuple[PILImage.Image, bool]:
    """Bring 16-bit and floating-point samples of the decoded ``im`` to an 8-bit Pillow mode; say
    whether a PNG's ``gamma`` (:func:`png_gamma`) was applied on the way, to 16-bit colour samples
    before they are rounded (else the caller applies it to the 8-bit ones).

    ``rawmodes`` are the unpackers Pillow used for ``im``'s tiles (e.g. "RGB;16B"). An image
    ``made`` in memory, not decoded from a file, is held to an array's rules: float samples in
    [0, 1], and mode I refused where its values could as well be 8-bit ones.
    """
    curve = None if gamma is None else _gamma_curve(gamma, 1 << 16)
    if im.mode.startswith("I;16") or im.mode == "I":
        values = np.asarray(im)
        if im.mode == "I" and (values.min() < 0 or values.max() > 0xFFFF):
            raise _Refused(": unsupported 32-bit integer samples (values past 16 bits)")
        if made and im.mode == "I" and values.max() <= 0xFF:
            raise _Refused(" of mode I has values 0..255 only: 8-bit or dark 16-bit samples? "
                           "convert it to 'L' (8-bit values) or 'I;16' (16-bit ones) first")
        notes.append("16-bit reduced to 8 bits")
        if curve is not None:
            notes.append(gamma_note(gamma))
        gray = _reduce_16_to_8(values) if curve is None else curve[values]
        trns = im.info.get("transparency")
        if isinstance(trns, int):
            gray = np.dstack([gray, np.where(values == trns, 0, 255).astype(np.uint8)])
        return PILImage.fromarray(gray), curve is not None
    if im.mode == "F":
        values = np.asarray(im)
        if made and np.isfinite(values).all() and (values.min() < 0 or values.max() > 1):
            raise _Refused(f" of mode F has values {values.min():g}..{values.max():g}; float "
                           "samples are read in [0, 1]")
        return PILImage.fromarray(_array_to_8bit(values, notes, clip_floats=not made)), False
    if not rawmodes or not all(r[-4:] in _LOW_BYTE_RAWMODE for r in rawmodes):
        return im, False
    # 16-bit samples decoded by Pillow into an 8-bit mode: it kept the high byte of each sample.
    notes.append("16-bit reduced to 8 bits")
    # Pillow unpacks a 16-bit grey + alpha PNG into RGBA; it has no unpacker for the low bytes
    grey_alpha = im.mode == "RGBA" and all(r == "LA;16B" for r in rawmodes)
    if not grey_alpha and (im.mode not in ("RGB", "RGBA")
                           or any(r.split(";")[0] != im.mode for r in rawmodes)):
        return im, False  # no unpacker for the low bytes: truncated
    # Decode once more keeping the low bytes, so the reduction rounds (v * 255 / 65535).
    fh.seek(0)
    low = PILImage.open(fh, formats=[im.format])
    low.tile = [t._replace(args=_low_byte_args(t.args, grey_alpha)) for t in low.tile]
    low.load()
    if grey_alpha:  # each pixel's four bytes as RGBA: grey's high and low, alpha's high and low
        low = PILImage.fromarray(np.asarray(low)[..., [1, 1, 1, 3]])
    if curve is not None:
        notes.append(gamma_note(gamma))
    return PILImage.fromarray(_combine_bytes(im, low, curve)), curve is not None


def _low_byte_args(args: str | tuple, grey_alpha: bool = False) -> str | tuple:
    """A tile's decoder arguments that unpack the low byte of each 16-bit sample (of a 16-bit
    ``grey_alpha`` PNG, each pixel's four bytes)."""
    if isinstance(args, str):
        return "RGBA" if grey_alpha else args[:-4] + _LOW_BYTE_RAWMODE[args[-4:]]
    return (_low_byte_args(args[0], grey_alpha), *args[1:])


def _combine_bytes(high: PILImage.Image, low: PILImage.Image,
                   curve: np.ndarray | None = None) -> np.ndarray:
    """Rebuild 16-bit samples from the two 8-bit decodes and round them to 8 bits, in row chunks;
    the colour samples through ``curve`` (a 65,536-entry table, :func:`_gamma_curve`) if given.

    A 16-bit RGB tRNS colour (PNG) becomes an alpha channel, matched on the full 16-bit value.
    """
    hi, lo = np.asarray(high), np.asarray(low)
    trns = high.info.get("transparency") if high.mode == "RGB" else None
    channels = hi.shape[2]
    out = np.empty((*hi.shape[:2], channels + (trns is not None)), np.uint8)
    for rows in _row_chunks(hi.shape[0], hi[0].nbytes * 4):
        v = (hi[rows].astype(np.uint32) << 8) | lo[rows]
        if curve is None:
            out[rows, :, :channels] = _reduce_16_to_8(v)
        else:  # alpha is linear in a PNG: rounded, not curved
            out[rows, :, :3] = curve[v[..., :3]]
            out[rows, :, 3:channels] = _reduce_16_to_8(v[..., 3:])
        if trns is not None:
            out[rows, :, channels] = np.where((v == np.asarray(trns)).all(axis=-1), 0, 255)
    return out


def exif_orientation(im: PILImage.Image, notes: list[str]) -> int | None:
    """The EXIF orientation (2 to 8) that turns the picture of the opened ``im``, None if none
    does (an AVIF's is its irot/imir, as Pillow reports them); a note says when a damaged EXIF
    block's is left out."""
    try:
        orientation = im.getexif().get(0x0112)
    except Exception:  # a damaged EXIF block costs the orientation, not the image
        notes.append("EXIF data unreadable: orientation not applied")
        return None
    return orientation if orientation in _ORIENTATION else None


def oriented(pixels: np.ndarray, orientation: int | None) -> np.ndarray:
    """``pixels`` (H, W, C) uint8 turned as the EXIF ``orientation`` shows them (None: as they
    are), as a loaded image is turned."""
    if orientation is None:
        return pixels
    return np.array(PILImage.fromarray(pixels).transpose(_ORIENTATION[orientation]))


def _finish(im: PILImage.Image, orientation: object, icc: bytes | None, notes: list[str],
            gamma: float | None = None) -> tuple[np.ndarray, bool]:
    """Orientation, colour profile (or a PNG's ``gamma``, :func:`png_gamma`) and mode: 8-bit
    Pillow image -> (H, W, 3|4) uint8 array, and whether its samples were grey."""
    if orientation in _ORIENTATION:
        im = im.transpose(_ORIENTATION[orientation])
        notes.append(ORIENTED)
    if im.mode == "CMYK":
        notes.append("CMYK converted to RGB")
    im = _base_mode(im)
    grey = im.mode in ("L", "LA")
    if icc:
        im = _apply_icc(im, icc, notes)
    elif gamma:
        im = _apply_gamma(im, gamma, notes)
    if im.mode in ("L", "CMYK"):
        im = im.convert("RGB")
    elif im.mode == "LA":
        im = im.convert("RGBA")
    if im.mode == "RGBA" and im.getextrema()[3][0] == 255:
        im = im.convert("RGB")
        notes.append("alpha channel dropped: fully opaque")
    return _pillow_to_array(im), grey


_COLOUR_PART = {"L": "L", "LA": "L", "RGB": "RGB", "RGBA": "RGB", "CMYK": "CMYK"}
#: A gAMA within this share of sRGB's 1/2.2 is taken as sRGB (as libpng judges a gamma significant).
_SRGB_GAMMA_TOLERANCE = 0.05


def png_gamma(im: PILImage.Image) -> float | None:
    """The gamma of a PNG's gAMA chunk (a sample is the light to this power) where it is the
    image's only colour information and not sRGB's, as browsers and pngquant honour it; else None."""
    gamma = im.info.get("gamma")
    if im.format != "PNG" or not gamma or "srgb" in im.info or im.info.get("icc_profile"):
        return None
    return None if abs(gamma * 2.2 - 1) < _SRGB_GAMMA_TOLERANCE else float(gamma)


def gamma_note(gamma: float) -> str:
    """What reading a PNG of ``gamma`` (:func:`png_gamma`) did to its colours."""
    return f"PNG gamma {1 / gamma:.2f} (its gAMA chunk) converted to sRGB"


def _gamma_curve(gamma: float, levels: int) -> np.ndarray:
    """The 8-bit sRGB sample of each of ``levels`` sample values (0 to ``levels`` - 1) declared
    with ``gamma``, rounded once."""
    from ..core.colorspace import linear_to_srgb, to_srgb8

    return to_srgb8(linear_to_srgb((np.arange(levels) / (levels - 1)) ** (1 / gamma)))


def _apply_gamma(im: PILImage.Image, gamma: float, notes: list[str]) -> PILImage.Image:
    """Re-encode the colour samples of an L, LA, RGB or RGBA image declared with ``gamma`` in
    sRGB's curve (alpha is linear in a PNG, and kept)."""
    curve = _gamma_curve(gamma, 256).tolist()
    colour = len(_COLOUR_PART[im.mode])
    notes.append(gamma_note(gamma))
    return im.point(curve * colour + list(range(256)) * (len(im.getbands()) - colour))


def _base_mode(im: PILImage.Image) -> PILImage.Image:
    """Convert to L, LA, RGB, RGBA or CMYK (the modes a colour profile applies to); tRNS becomes alpha."""
    if im.has_transparency_data and im.mode not in ("LA", "RGBA"):
        return im.convert("LA" if im.mode in ("1", "L", "La") else "RGBA")
    if im.mode in _COLOUR_PART:
        return im
    if im.mode == "1":
        return im.convert("L")
    if im.mode in ("P", "RGBX", "YCbCr", "HSV"):
        return im.convert("RGB")
    raise _Refused(f": unsupported colour mode {im.mode}")


def _apply_icc(im: PILImage.Image, icc: bytes, notes: list[str]) -> PILImage.Image:
    """Convert to sRGB with the embedded profile; a profile that is sRGB already is left alone."""
    from PIL import ImageCms

    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        description = ImageCms.getProfileDescription(profile).strip()
        space = profile.profile.xcolor_space.strip()
    except (OSError, ValueError, TypeError, ImageCms.PyCMSError):
        notes.append("ICC profile ignored (unreadable)")
        return im
    colour_mode = {"RGB": "RGB", "GRAY": "L", "CMYK": "CMYK"}.get(space)
    if colour_mode != _COLOUR_PART[im.mode]:
        notes.append(f"ICC profile ignored (it is for {space} data, the image is {im.mode})")
        return im
    if colour_mode != "CMYK" and _is_srgb(profile, colour_mode):
        return im
    alpha = im.getchannel("A") if im.mode in ("LA", "RGBA") else None
    try:
        out = ImageCms.profileToProfile(im.convert(colour_mode) if alpha is not None else im, profile,
                                        ImageCms.createProfile("sRGB"), outputMode="RGB")
    except ImageCms.PyCMSError as exc:
        notes.append(f"ICC profile ignored ({one_line(exc)})")
        return im
    if alpha is not None:
        out.putalpha(alpha)
    notes.append(f"ICC profile converted to sRGB (from '{description}')" if description
                 else "ICC profile converted to sRGB")
    return out


def _is_srgb(profile: object, mode: str) -> bool:
    """Whether ``profile`` (for ``mode`` "RGB" or "L" data) shows colours as sRGB does, to within
    a level: judged by what it does, as names mislead ("GIMP built-in Linear sRGB")."""
    from PIL import ImageCms

    levels = np.arange(0, 256, 15, dtype=np.uint8) if mode == "RGB" else np.arange(256, dtype=np.uint8)
    if mode == "RGB":
        probe = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), -1).reshape(1, -1, 3)
    else:
        probe = levels[None]
    try:
        shown = np.asarray(ImageCms.profileToProfile(PILImage.fromarray(probe, mode), profile,
                                                     ImageCms.createProfile("sRGB"), outputMode="RGB"))
    except ImageCms.PyCMSError:
        return False
    wanted = probe if mode == "RGB" else np.repeat(probe[..., None], 3, axis=-1)
    return int(np.abs(shown.astype(np.int16) - wanted).max()) <= 1


def _pillow_to_array(im: PILImage.Image) -> np.ndarray:
    """Copy an RGB/RGBA Pillow image into a new C-contiguous array, in row chunks (no third full copy)."""
    width, height = im.size
    out = np.empty((height, width, len(im.getbands())), np.uint8)
    for rows in _row_chunks(height, width * 4):
        out[rows] = np.asarray(im.crop((0, rows.start, width, rows.stop)))
    return out


def _row_chunks(height: int, row_bytes: int) -> Iterator[slice]:
    step = max(1, _ROWS_BYTES // max(1, row_bytes))
    for start in range(0, height, step):
        yield slice(start, min(height, start + step))


# ------------------------------------------------------------------------- arrays and Pillow (library)

def as_image(image: str | os.PathLike | BinaryIO | PILImage.Image | np.ndarray | Image, *,
             max_pixels: int | None = DEFAULT_MAX_PIXELS) -> Image:
    """An :class:`Image` from what a library user has: a path or a binary file object (loaded as
    the CLI loads a file, up to ``max_pixels``), a Pillow image, an array (see
    :func:`image_from_array`) or an :class:`Image`."""
    if isinstance(image, Image):
        return image
    if isinstance(image, PILImage.Image):
        return image_from_pillow(image)
    if isinstance(image, (str, bytes, os.PathLike)) or callable(getattr(image, "read", None)):
        return load_image(image, max_pixels=max_pixels)
    if isinstance(image, (np.ndarray, list, tuple)) or hasattr(image, "__array__") \
            or hasattr(image, "__array_interface__"):
        return image_from_array(image)
    raise ParameterError(f"an image must be a file path, a binary file object, a Pillow image or "
                         f"an array, not {type(image).__name__}")


def image_from_pillow(im: PILImage.Image) -> Image:
    """A Pillow image as an :class:`Image`, normalised as a loaded file is: 16-bit and float samples
    to 8 bits, an embedded colour profile to sRGB, palette and grey modes to RGB(A), transparency
    kept (a fully opaque alpha channel dropped). EXIF orientation is not applied (Pillow's
    ``ImageOps.exif_transpose`` does it when wanted)."""
    notes: list[str] = []
    if not isinstance(im, PILImage.Image):
        raise ParameterError(f"image_from_pillow takes a Pillow image, not {type(im).__name__}")
    if not im.width or not im.height:
        raise ParameterError(f"Pillow image has no pixels ({im.width}x{im.height})")
    try:
        im.load()
    except (OSError, ValueError) as exc:  # a lazily opened file that is damaged, or a closed image
        raise InputError(f"Pillow image: cannot decode the image ({one_line(exc)})") from None
    try:
        gamma = png_gamma(im)
        im8, curved = _to_8bit(im, [], None, notes, made=True, gamma=gamma)
        pixels, grey = _finish(im8, None, im.info.get("icc_profile"), notes,
                               None if curved else gamma)
    except _Refused as exc:
        raise ParameterError(f"Pillow image{exc}") from None
    return Image(pixels, format=im.format, notes=tuple(notes), grey=grey)


def image_from_array(array: ArrayLike) -> Image:
    """Wrap an array as an :class:`Image`: HxW or HxWx{1,2,3,4}; uint8, uint16 or float in [0, 1].

    uint16 is rounded to 8 bits (v * 255 / 65535), floats to round(v * 255). A nested list's
    integers, which have no bit depth of their own, are 8-bit values (0 to 255). A fully opaque
    alpha channel is dropped. A uint8 (H, W, 3) C-contiguous array is used as is, without a copy.
    """
    try:
        a = np.asarray(array)
    except ValueError as exc:  # nested lists of uneven lengths
        raise ParameterError(f"an image array must be rectangular: {one_line(exc)}") from None
    if isinstance(array, (list, tuple)) and a.dtype.kind == "i":  # Python's ints, not uint16 rows
        if a.size and not 0 <= a.min() <= a.max() <= 255:
            raise ParameterError(f"a nested list's integers are 8-bit values, 0 to 255, not "
                                 f"{a.min()} to {a.max()}" + (" (np.array(image, np.uint16) "
                                 "for 16-bit ones)" if a.min() >= 0 else ""))
        a = a.astype(np.uint8)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (2, 3, 4)):
        raise ParameterError(f"image array must be HxW or HxWx1/2/3/4, got shape {a.shape}")
    if a.shape[0] == 0 or a.shape[1] == 0:
        raise ParameterError(f"image array has no pixels (shape {a.shape})")
    notes: list[str] = []
    a = _array_to_8bit(a, notes, clip_floats=False)
    grey = a.ndim == 2 or a.shape[2] == 2
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    elif a.shape[2] == 2:
        a = np.concatenate([np.repeat(a[:, :, :1], 3, axis=2), a[:, :, 1:]], axis=2)
    if a.shape[2] == 4 and a[:, :, 3].min() == 255:
        a = a[:, :, :3]
        notes.append("alpha channel dropped: fully opaque")
    return Image(np.ascontiguousarray(a), notes=tuple(notes), grey=grey)


def _array_to_8bit(a: np.ndarray, notes: list[str], *, clip_floats: bool) -> np.ndarray:
    """uint8 as is; uint16 rounded to 8 bits; floats in [0, 1] (clipped first if ``clip_floats``)."""
    if a.dtype.kind == "u" and not a.dtype.isnative:  # big-endian samples: the same values
        a = a.astype(a.dtype.newbyteorder("="))
    if a.dtype == np.uint8:
        return a
    if a.dtype == np.uint16:
        notes.append("16-bit reduced to 8 bits" if a.max(initial=0) > 0xFF else
                     "16-bit samples all 0..255, so nearly black: 8-bit values belong in uint8")
        return _reduce_16_to_8(a)
    if a.dtype.kind != "f":  # other integers could be 8- or 16-bit samples: the caller says
        raise ParameterError(f"image array must be uint8, uint16 or float in [0, 1], not {a.dtype}"
                             + (": .astype(np.uint8) for 8-bit values" if a.dtype.kind in "iu"
                                else ""))
    out = np.empty(a.shape, np.uint8)
    clipped = False
    for rows in _row_chunks(a.shape[0], a[0].nbytes):
        chunk = a[rows]
        if not np.isfinite(chunk).all():
            raise ParameterError("image array contains NaN or infinite values")
        outside = chunk.min() < 0 or chunk.max() > 1
        if outside and not clip_floats:
            raise ParameterError("float image values must lie in [0, 1]")
        clipped |= bool(outside)
        out[rows] = np.rint(np.clip(chunk, 0, 1) * 255)
    notes.append(f"{a.dtype.itemsize * 8}-bit float samples converted to 8 bits"
                 + (" (values outside [0, 1] clipped)" if clipped else ""))
    return out


def _reduce_16_to_8(v: np.ndarray) -> np.ndarray:
    """16-bit samples -> nearest 8-bit value, round(v * 255 / 65535), row chunk by row chunk."""
    out = np.empty(v.shape, np.uint8)
    for rows in _row_chunks(v.shape[0], v[0].nbytes * 2):
        out[rows] = (v[rows].astype(np.uint32) * 255 + 32767) // 65535
    return out


# ----------------------------------------------------------------------------------------- writing

_PIXEL_FORMATS: dict[str, tuple[str, dict[str, object]]] = {
    ".png": ("PNG", {"compress_level": PREVIEW_COMPRESS_LEVEL}),
    ".bmp": ("BMP", {}),
    ".tif": ("TIFF", {"compression": "tiff_deflate"}),
    ".tiff": ("TIFF", {"compression": "tiff_deflate"}),
    ".webp": ("WEBP", {"lossless": True, "exact": True}),
    ".jpg": ("JPEG", {"quality": 95}),
    ".jpeg": ("JPEG", {"quality": 95}),
}


def check_lossless(path: str | os.PathLike[str], also: tuple[str, ...] = ()) -> None:
    """Refuse, before any work, an image name whose format would not keep every pixel exactly
    (JPEG) or that no writer here knows (nor is one of the suffixes ``also`` the caller writes)."""
    suffix = Path(path).suffix.lower()
    kept = [s for s in (*_PIXEL_FORMATS, *also) if s not in _LOSSY]
    if suffix in also:
        return
    if not suffix:
        raise ParameterError(f"{display_name(path)} names no image format: end it in "
                             f"{', '.join(kept)}")
    if suffix not in _PIXEL_FORMATS:
        raise ParameterError(f"cannot write '{suffix}' images; use one of {', '.join(kept)}")
    if suffix in _LOSSY:
        raise ParameterError(f"{display_name(path)}: JPEG is lossy and would not keep the quantised "
                             f"pixels; write {', '.join(kept[:-1])} or {kept[-1]}")


_LOSSY = frozenset((".jpg", ".jpeg"))


def save_pixels(path: str | os.PathLike[str], pixels: np.ndarray, *, force: bool = False,
                protect: tuple[Path, ...] = ()) -> int:
    """Write (H, W, 3|4) uint8 pixels in the format named by the suffix: PNG, TIFF, lossless WebP,
    BMP (no alpha) or JPEG (quality 95: lossy, no alpha); return the number of bytes written."""
    fmt, options = _pixel_format(path)
    pixels = np.asarray(pixels)
    if pixels.dtype != np.uint8 or pixels.ndim != 3 or pixels.shape[2] not in (3, 4):
        raise ParameterError(f"pixels must be an (H, W, 3|4) uint8 array, got {pixels.dtype} {pixels.shape}")
    if fmt in ("JPEG", "BMP") and pixels.shape[2] == 4:
        raise ParameterError(f"{fmt} cannot store transparency; write .png, .webp or .tiff instead")
    data = _encode(PILImage.fromarray(np.ascontiguousarray(pixels)), fmt, options)
    return write_bytes(path, data, force=force, protect=protect)


#: Formats written as an 8-bit indexed image (the palette in the file) when the colours allow.
_INDEXED = ("BMP", "TIFF")


def save_indexed(path: str | os.PathLike[str], palette: np.ndarray, indices: np.ndarray, *,
                 force: bool = False, protect: tuple[Path, ...] = ()) -> int:
    """Write a (K, 3|4) uint8 palette's (H, W) indices as :func:`save_pixels` writes their pixels,
    but as an indexed BMP or TIFF (a byte a pixel and the palette) where K <= 256 and every entry
    is opaque (a TIFF only where that is the smaller file); return the number of bytes written."""
    fmt, options = _pixel_format(path)
    if fmt not in _INDEXED or len(palette) > 256 or palette.shape[1] == 4:
        return save_pixels(path, palette[indices], force=force, protect=protect)
    im = PILImage.fromarray(np.ascontiguousarray(indices, dtype=np.uint8))
    im.putpalette(np.ascontiguousarray(palette).tobytes())
    data = _encode(im, fmt, options)
    if fmt == "TIFF":  # its colour map always holds 256 entries of 6 bytes, more than a small image
        data = min(data, _encode(im.convert("RGB"), fmt, options), key=len)
    return write_bytes(path, data, force=force, protect=protect)


def _pixel_format(path: str | os.PathLike[str]) -> tuple[str, dict[str, object]]:
    """The Pillow format and options that the suffix of ``path`` names."""
    suffix = Path(path).suffix.lower()
    if suffix not in _PIXEL_FORMATS:
        raise ParameterError(f"cannot write '{suffix or Path(path).name}' images; use one of "
                             f"{', '.join(_PIXEL_FORMATS)}")
    return _PIXEL_FORMATS[suffix]


def _encode(im: PILImage.Image, fmt: str, options: dict[str, object]) -> bytes:
    """``im`` encoded as ``fmt``; a format's own limits (BMP's 4 GB, JPEG's sides) refused."""
    buf = io.BytesIO()
    try:
        im.save(buf, fmt, **options)
    except (ValueError, OSError) as exc:
        raise ParameterError(f"{fmt} cannot hold this {im.width}x{im.height} image "
                             f"({one_line(exc)}); write .png instead") from None
    return buf.getvalue()
