"""The bilevel coder of ``.qnt`` version 4 (docs/FORMAT.md, "The bilevel codec"): a K = 2 index
map as one binary decision a pixel, each mixing three context models of the pixels already coded
around it (a 16-pixel template, its 10-pixel core, and the template widened to 27 pixels, hashed),
with cm's arithmetic coder, counters and mixer. A page of text, line art or a dithered picture
repeats shapes that a template this wide sees and cm's few neighbours do not.
"""

from __future__ import annotations

import numpy as np
from numba import njit, uint64

from .indexcodec import INITIAL_WEIGHT, _code_bit, _coder_start, _flush, _learn, _mix

MODELS = 3
WIDE_BITS = 20  # the hashed model's table: 2^20 counters
WEIGHT_SETS = 256
_ABOVE, _SIDE = 3, 6  # rows above and columns each side of the template: zeros outside the stripe
_GOLDEN = uint64(0x9E3779B97F4A7C15)


@njit(cache=True, nogil=True, inline="always")
def _at(pad, r, c, dy, dx):
    return np.int64(pad[r + dy, c + dx])


@njit(cache=True, nogil=True, inline="always")
def _code_bits(bits, buf, decoding, stretch, squash, reciprocal):
    """Encode ``bits`` (H, W) of 0 and 1 into ``buf`` or, with ``decoding``, decode ``buf`` into
    them. Encoding returns the bytes written, or -1 when ``buf`` is too small; decoding returns the
    bytes read, or -1 when the stream runs out before the image ends."""
    height, width = bits.shape
    low, high, code, pos = _coder_start(buf, decoding)
    limit = buf.size
    cells = np.full((MODELS, 1 << WIDE_BITS), 32768 << 16, np.uint32)
    weights = np.full((WEIGHT_SETS, MODELS), INITIAL_WEIGHT, np.int32)
    pad = np.zeros((height + _ABOVE, width + 2 * _SIDE), np.uint8)
    for y in range(height):
        r = y + _ABOVE
        for x in range(width):
            if decoding and pos > limit:
                return -1  # a whole stream is read exactly to its end, never past it
            if not decoding and pos + 128 > limit:
                return -1
            c = x + _SIDE
            core = ((_at(pad, r, c, -2, -1) << 9) | (_at(pad, r, c, -2, 0) << 8)
                    | (_at(pad, r, c, -2, 1) << 7) | (_at(pad, r, c, -1, -2) << 6)
                    | (_at(pad, r, c, -1, -1) << 5) | (_at(pad, r, c, -1, 0) << 4)
                    | (_at(pad, r, c, -1, 1) << 3) | (_at(pad, r, c, -1, 2) << 2)
                    | (_at(pad, r, c, 0, -2) << 1) | _at(pad, r, c, 0, -1))
            template = ((_at(pad, r, c, -2, -2) << 15) | (_at(pad, r, c, -2, -1) << 14)
                        | (_at(pad, r, c, -2, 0) << 13) | (_at(pad, r, c, -2, 1) << 12)
                        | (_at(pad, r, c, -2, 2) << 11) | (_at(pad, r, c, -1, -3) << 10)
                        | (_at(pad, r, c, -1, -2) << 9) | (_at(pad, r, c, -1, -1) << 8)
                        | (_at(pad, r, c, -1, 0) << 7) | (_at(pad, r, c, -1, 1) << 6)
                        | (_at(pad, r, c, -1, 2) << 5) | (_at(pad, r, c, -1, 3) << 4)
                        | (_at(pad, r, c, 0, -4) << 3) | (_at(pad, r, c, 0, -3) << 2)
                        | (_at(pad, r, c, 0, -2) << 1) | _at(pad, r, c, 0, -1))
            outer = ((_at(pad, r, c, -3, -1) << 10) | (_at(pad, r, c, -3, 0) << 9)
                     | (_at(pad, r, c, -3, 1) << 8) | (_at(pad, r, c, -1, -5) << 7)
                     | (_at(pad, r, c, -1, -4) << 6) | (_at(pad, r, c, -1, 4) << 5)
                     | (_at(pad, r, c, -1, 5) << 4) | (_at(pad, r, c, 0, -6) << 3)
                     | (_at(pad, r, c, 0, -5) << 2) | (_at(pad, r, c, -2, -3) << 1)
                     | _at(pad, r, c, -2, 3))
            wide = np.int64((uint64(template | (outer << 16)) * _GOLDEN) >> uint64(64 - WIDE_BITS))
            slots = (template, core, wide)
            wset = ((_at(pad, r, c, -1, -1) << 3) | (_at(pad, r, c, -1, 0) << 2)
                    | (_at(pad, r, c, -1, 1) << 1) | _at(pad, r, c, 0, -1)
                    | (_at(pad, r, c, 0, -2) << 7) | (_at(pad, r, c, -2, 0) << 6)
                    | (_at(pad, r, c, 0, -3) << 5) | (_at(pad, r, c, -1, -2) << 4))
            p12 = _mix(cells, weights, wset, slots, stretch, squash)
            bit = np.int64(0) if decoding else np.int64(bits[y, x])
            bit, low, high, code, pos = _code_bit(low, high, code, pos, buf, bit, p12, decoding)
            _learn(cells, weights, wset, slots, bit, p12, stretch, reciprocal)
            pad[r, c] = bit
            if decoding:
                bits[y, x] = bit
    return pos if decoding else _flush(buf, pos, low)


@njit(cache=True, nogil=True)
def encode_bits(bits, buf, stretch, squash, reciprocal):
    """:func:`_code_bits` encoding: the bytes written into ``buf``, or -1 when it is too small."""
    return _code_bits(bits, buf, False, stretch, squash, reciprocal)


@njit(cache=True, nogil=True)
def decode_bits(bits, buf, stretch, squash, reciprocal):
    """:func:`_code_bits` decoding into ``bits``: the bytes read, or -1 for a corrupt stream."""
    return _code_bits(bits, buf, True, stretch, squash, reciprocal)
