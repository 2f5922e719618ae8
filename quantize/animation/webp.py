"""Animated lossless WebP, frame by frame through libwebp's animation encoder (which finds each
frame's changed rectangle itself). Pillow's ``save_all`` wants every frame at once, so its
encoder object is used directly, one frame in memory at a time."""

from __future__ import annotations

from ..errors import ParameterError
from ..choices import DEFAULT_WEBP_METHOD
from .temporal import MappedFrame

_MAX_SIDE = 16383
_MAX_TIMESTAMP_MS = 2**31 - 1  # libwebp's frame timestamps are C ints
#: kmin and kmax 0: no key frames after the first (libwebp's own default; Pillow's is 9 and 17), as
#: a key frame re-codes the whole canvas, which an animation that plays through never needs.
_KEYFRAMES = (0, 0)
_VP8X_FLAGS, _ALPHA_FLAG = 20, 0x10  # the VP8X chunk's flags byte in the file, its alpha bit


class WebpWriter:
    """Add merged frames in order, then :meth:`finish` for the file's bytes."""

    def __init__(self, width: int, height: int, plays: int, method: int = DEFAULT_WEBP_METHOD) -> None:
        from PIL import _webp

        if max(width, height) > _MAX_SIDE:
            raise ParameterError(f"WebP images are at most {_MAX_SIDE} pixels a side, got "
                                 f"{width}x{height}")
        self.method = method
        self._timestamp = 0
        self._alpha = False  # whether a frame is not fully opaque
        self._encoder = _webp.WebPAnimEncoder((width, height), 0, plays, False, *_KEYFRAMES,
                                              False, False)

    def add(self, frame: MappedFrame) -> None:
        from PIL import Image as PILImage

        if self._timestamp + frame.duration > _MAX_TIMESTAMP_MS:
            raise ParameterError(f"a WebP animation lasts at most {_MAX_TIMESTAMP_MS:,} ms "
                                 f"(24.8 days); this one is longer")
        if not self._alpha and frame.colors.shape[2] == 4:
            self._alpha = bool((frame.colors[..., 3] < 255).any())
        image = PILImage.fromarray(frame.colors)
        self._encoder.add(image.getim(), self._timestamp, True, 100, 100, self.method)
        self._timestamp += frame.duration

    def finish(self) -> bytes:
        self._encoder.add(None, self._timestamp, True, 100, 100, 0)
        data = self._encoder.assemble("", "", "")
        if data is None:
            raise ParameterError("libwebp could not write this animation")
        data = bytearray(data)
        # libwebp crops a frame to its opaque pixels and then leaves the alpha flag off, so that
        # decoders show the canvas it no longer covers opaque
        if self._alpha and data[12:16] == b"VP8X":
            data[_VP8X_FLAGS] |= _ALPHA_FLAG
        return bytes(data)
