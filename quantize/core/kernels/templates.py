"""The template coders of ``.qnt`` version 4 (docs/FORMAT.md, "The bilevel and template codecs"),
with cm's arithmetic coder, counters and mixer. A page of text, line art, a screenshot or a dithered
picture repeats shapes that a template of a dozen or more pixels sees and cm's few neighbours do
not. ``bilevel`` (K = 2): one decision a pixel, mixing a 16-pixel template, its 10-pixel core,
the template widened to 27 pixels, hashed, and a hashed "line" of 52 pixels (25 of the row above,
14 to the left, 13 two rows up), which sees a line of text repeat. ``template`` (K = 3 to 256):
each index as its bits, most significant first, each decision mixing hashes of the 16-pixel
template's, the 10-pixel core's and a 31-pixel line's indices and of the four nearest, with the
bits decided so far.
"""

from __future__ import annotations

import numpy as np
from numba import njit, uint64

from .indexcodec import (INITIAL_WEIGHT, _code_bit, _coder_start, _flush, _learn, _mix,
                         _out_of_room)

MODELS = 4
WIDE_BITS = 20  # the hashed models' tables: 2^20 counters each
WEIGHT_SETS = 256
TEMPLATE_WEIGHT_SETS = 256 * 8  # by the bits decided so far (with the leading 1) and the left index
_ABOVE, _SIDE = 3, 14  # rows above and columns each side of the contexts: zeros outside the stripe
# the lines: (row, first and last column) relative to the pixel, in the order they are folded;
# over indices (template) a shorter one codes smaller, its colours being sparser than bits
_LINE = ((-1, -12, 12), (0, -14, -1), (-2, -6, 6))
_INDEX_LINE = ((-1, -6, 6), (0, -9, -1), (-2, -6, 6))
_INDEX_FOLD = 1000003  # an index takes up to 8 bits: folding by 8 would let the first ones wrap off
_GOLDEN = uint64(0x9E3779B97F4A7C15)
_SECOND = uint64(0xC2B2AE3D27D4EB4F)


@njit(cache=True, nogil=True, inline="always")
def _at(pad, r, c, dy, dx):
    return np.int64(pad[r + dy, c + dx])


def padded(indices: np.ndarray) -> np.ndarray:
    """The zeroed buffer a coder keeps the stripe ``indices`` in, padded as far as its contexts
    reach. NumPy's zeros come from the OS untouched, so the padding, only ever read, takes no
    memory: a stripe of one wide row costs its own pixels, not four times them."""
    height, width = indices.shape
    return np.zeros((height + _ABOVE, width + 2 * _SIDE), np.uint8)


@njit(cache=True, nogil=True, inline="always")
def _start(buf, decoding, weight_sets):
    """A coder's state before the first pixel: the arithmetic coder's (:func:`_coder_start`), the
    models' counters and ``weight_sets`` weight sets."""
    return (*_coder_start(buf, decoding), np.full((MODELS, 1 << WIDE_BITS), 32768 << 16, np.uint32),
            np.full((weight_sets, MODELS), INITIAL_WEIGHT, np.int32))


@njit(cache=True, nogil=True, inline="always")
def _line(pad, r, c, spans, scale):
    """The pixels of ``spans`` folded in order, each ``line · scale + value`` modulo 2^64."""
    line = uint64(0)
    for dy, first, last in spans:
        for dx in range(first, last + 1):
            line = line * uint64(scale) + uint64(pad[r + dy, c + dx])
    return line


@njit(cache=True, nogil=True, inline="always")
def _code_bits(bits, buf, pad, decoding, stretch, squash, reciprocal):
    """Encode ``bits`` (H, W) of 0 and 1 into ``buf`` or, with ``decoding``, decode ``buf`` into
    them, in ``pad`` (:func:`padded`). Encoding returns the bytes written, or -1 when ``buf`` is
    too small; decoding returns the bytes read, or -1 when the stream runs out before the image
    ends."""
    low, high, code, pos, cells, weights = _start(buf, decoding, WEIGHT_SETS)
    height, width = bits.shape
    for y in range(height):
        r = y + _ABOVE
        for x in range(width):
            if _out_of_room(pos, buf.size, decoding):
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
            line = np.int64((_line(pad, r, c, _LINE, 2) * _SECOND * _GOLDEN)
                            >> uint64(64 - WIDE_BITS))
            slots = (template, core, wide, line)
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


@njit(cache=True, nogil=True, inline="always")
def _hashed(context, prefix):
    """A template model's slot: ``context`` and the bits decided so far, mixed."""
    return np.int64((((context * _GOLDEN) ^ (uint64(prefix) * _SECOND)) * _GOLDEN)
                    >> uint64(64 - WIDE_BITS))


@njit(cache=True, nogil=True, inline="always")
def _code_indices(indices, nbits, k, buf, pad, decoding, stretch, squash, reciprocal):
    """Encode ``indices`` (H, W) below ``k`` as ``nbits`` decisions each into ``buf`` or, with
    ``decoding``, decode ``buf`` into them, in ``pad``; returns as :func:`_code_bits`, and -1 too
    when a decoded index is ``k`` or more."""
    low, high, code, pos, cells, weights = _start(buf, decoding, TEMPLATE_WEIGHT_SETS)
    height, width = indices.shape
    for y in range(height):
        r = y + _ABOVE
        for x in range(width):
            if _out_of_room(pos, buf.size, decoding):
                return -1
            c = x + _SIDE
            template = uint64(0)  # each index in turn, times 8: a hash, not a number (mod 2^64)
            for dy, dx in ((-2, -2), (-2, -1), (-2, 0), (-2, 1), (-2, 2), (-1, -3), (-1, -2),
                           (-1, -1), (-1, 0), (-1, 1), (-1, 2), (-1, 3), (0, -4), (0, -3),
                           (0, -2), (0, -1)):
                template = template * uint64(8) + uint64(pad[r + dy, c + dx])
            core = uint64(0)
            for dy, dx in ((-2, -1), (-2, 0), (-2, 1), (-1, -2), (-1, -1), (-1, 0), (-1, 1),
                           (-1, 2), (0, -2), (0, -1)):
                core = core * uint64(8) + uint64(pad[r + dy, c + dx])
            line = _line(pad, r, c, _INDEX_LINE, _INDEX_FOLD)
            west = _at(pad, r, c, 0, -1)
            near = uint64(((west * 256 + _at(pad, r, c, -1, 0)) * 256 + _at(pad, r, c, -1, -1))
                          * 256 + _at(pad, r, c, -1, 1))
            value = np.int64(0) if decoding else np.int64(indices[y, x])
            prefix = np.int64(1)
            for j in range(nbits - 1, -1, -1):
                slots = (_hashed(template, prefix), _hashed(core, prefix), _hashed(near, prefix),
                         _hashed(line, prefix))
                wset = prefix * 8 + min(west, 7)
                p12 = _mix(cells, weights, wset, slots, stretch, squash)
                bit = np.int64(0) if decoding else (value >> j) & 1
                bit, low, high, code, pos = _code_bit(low, high, code, pos, buf, bit, p12, decoding)
                _learn(cells, weights, wset, slots, bit, p12, stretch, reciprocal)
                prefix = prefix * 2 + bit
            value = prefix - (1 << nbits)
            if value >= k:
                return -1  # only a corrupt stream names an entry past the palette
            pad[r, c] = value
            if decoding:
                indices[y, x] = value
    return pos if decoding else _flush(buf, pos, low)


@njit(cache=True, nogil=True)
def encode_indices(indices, nbits, k, buf, pad, stretch, squash, reciprocal):
    """:func:`_code_indices` encoding: the bytes written into ``buf``, or -1 when it is too
    small."""
    return _code_indices(indices, nbits, k, buf, pad, False, stretch, squash, reciprocal)


@njit(cache=True, nogil=True)
def decode_indices(indices, nbits, k, buf, pad, stretch, squash, reciprocal):
    """:func:`_code_indices` decoding into ``indices``: the bytes read, or -1 for a corrupt
    stream."""
    return _code_indices(indices, nbits, k, buf, pad, True, stretch, squash, reciprocal)


@njit(cache=True, nogil=True)
def encode_bits(bits, buf, pad, stretch, squash, reciprocal):
    """:func:`_code_bits` encoding: the bytes written into ``buf``, or -1 when it is too small."""
    return _code_bits(bits, buf, pad, False, stretch, squash, reciprocal)


@njit(cache=True, nogil=True)
def decode_bits(bits, buf, pad, stretch, squash, reciprocal):
    """:func:`_code_bits` decoding into ``bits``: the bytes read, or -1 for a corrupt stream."""
    return _code_bits(bits, buf, pad, True, stretch, squash, reciprocal)
