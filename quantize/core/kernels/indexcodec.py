"""The index-map coder of ``.qnt`` (docs/FORMAT.md, "The cm codec"): one coder, compiled as an
encoder and as a decoder, so the model the two sides run is written once; ``model`` 1 is the one of
versions 2 to 4, 2 the one of version 5.

Each pixel's index is coded as binary decisions with a carry-less arithmetic coder: first "is it
the candidate i?" for the distinct indices of its causal neighbours and of the colour a gradient
predicts; then, if none, its rank among the remaining entries ordered by distance from the predicted
colour, as an Elias-gamma code. Every decision's probability mixes several adaptive context models
in the logistic domain. All arithmetic is in integers, so both sides agree bit for bit everywhere.
"""

from __future__ import annotations

import numpy as np
from numba import njit, uint64

MAX_CANDIDATES = 5
FLAG_MODELS = 4
ESCAPE_MODELS = 3
HASH_BITS = 16
NO_HIT = MAX_CANDIDATES  # the hit type of a pixel coded by its rank
COUNT_LIMIT = 255
MIXER_SHIFT = 16
LEARNING_SHIFT = 12
INITIAL_WEIGHT = 19661  # 0.3 in 16.16 fixed point

_TOP = 0xFF000000
_MASK = 0xFFFFFFFF

# The slot h(a, b, c, d, e) of docs/FORMAT.md is (z · G mod 2^64) >> 48 with z the base-1000003
# number of a, b+1, c+1, d+1, e+1; multiplying out, z · G is the sum of each argument times its
# constant below, so the part of a slot that stays the same over a pixel's decisions is summed once.
_H4, _H3, _H2, _H1, _H0 = (np.uint64(0x9E3779B97F4A7C15 * 1000003 ** e % (1 << 64))
                           for e in range(4, -1, -1))


@njit(cache=True, nogil=True, inline="always")
def _term(v, constant):
    """One argument's share of a hashed slot: (v + 1) times its constant, modulo 2^64."""
    return uint64(v + 1) * constant


@njit(cache=True, nogil=True, inline="always")
def _slot(z):
    """The table slot of a summed hash."""
    return np.int64(z >> uint64(64 - HASH_BITS))


@njit(cache=True, nogil=True, inline="always")
def _coder_start(buf, decoding):
    """The coder's state (low, high, code, pos) before the first decision: a decoder has read the
    first 4 bytes (zeros past the end)."""
    low, high, code, pos = np.int64(0), np.int64(_MASK), np.int64(0), np.int64(0)
    if decoding:
        for _ in range(4):
            code = (code << 8) | (np.int64(buf[pos]) if pos < buf.size else 0)
            pos += 1
    return low, high, code, pos


@njit(cache=True, nogil=True, inline="always")
def _flush(buf, pos, low):
    """End an encoding: enough bytes of ``low`` that any continuation decodes inside [low, high];
    returns the bytes written."""
    for _ in range(4):
        buf[pos] = low >> 24
        low = (low << 8) & _MASK
        pos += 1
    return pos


@njit(cache=True, nogil=True, inline="always")
def _out_of_room(pos, limit, decoding):
    """Whether to stop before the next pixel: a decoder past its stream's end (a whole stream is
    read exactly to its end, never past it), an encoder near its buffer's (the caller grows it)."""
    return pos > limit if decoding else pos + 128 > limit


@njit(cache=True, nogil=True, inline="always")
def _code_bit(low, high, code, pos, buf, bit, p12, decoding):
    """Encode ``bit`` (or decode one) with probability ``p12``/4096 that it is 1; return the bit
    and the coder's state (kept in locals, not an array, so it stays in registers)."""
    span = high - low
    mid = low + (span >> 12) * p12 + (((span & 0xFFF) * p12) >> 12)
    if decoding:
        bit = np.int64(code <= mid)
    if bit:
        high = mid
    else:
        low = mid + 1
    while ((low ^ high) & _TOP) == 0:
        if decoding:
            byte = np.int64(buf[pos]) if pos < buf.size else 0  # past the end reads zeros: bounded work
            code = ((code << 8) & _MASK) | byte
        else:
            buf[pos] = high >> 24
        pos += 1
        low = (low << 8) & _MASK
        high = ((high << 8) & _MASK) | 255
    return bit, low, high, code, pos


@njit(cache=True, nogil=True, inline="always")
def _mix(cells, weights, wset, slots, stretch, squash):
    """The probability (in 12 bits) of a decision that mixes the counters at ``slots`` (one per
    model, each a probability in 16 bits over a count in 16) with weight set ``wset``."""
    dot = 0
    for m in range(len(slots)):
        dot += np.int64(weights[wset, m]) * np.int64(stretch[cells[m, slots[m]] >> 20])
    dot = min(max(dot >> MIXER_SHIFT, -2047), 2047)
    return min(max(np.int64(squash[dot + 2048]), 1), 4095)


@njit(cache=True, nogil=True, inline="always")
def _learn(cells, weights, wset, slots, bit, p12, stretch, reciprocal):
    """Update the weights and the counters of a decision once its ``bit`` is coded."""
    err = (bit << 12) - p12
    for m in range(len(slots)):
        cell = np.int64(cells[m, slots[m]])
        weights[wset, m] += (np.int64(stretch[cell >> 20]) * err) >> LEARNING_SHIFT
        p, n = cell >> 16, cell & 0xFFFF
        if bit:
            p += ((65536 - p) * reciprocal[n]) >> 16
        else:
            p -= (p * reciprocal[n]) >> 16
        cells[m, slots[m]] = (min(max(p, 32), 65503) << 16) | min(n + 1, COUNT_LIMIT)


@njit(cache=True, nogil=True, inline="always")
def _cell_keys(palette, w, n, nw, shift, channels, model):
    """The predictor cells of a pixel, each channel's value clamped to a byte with ``shift`` low
    bits dropped, the channels concatenated (the first most significant): model 1's candidate and
    rank origin are both ``W + N - NW``; model 2's candidate is ``(3W + 3N - 2NW + 2) >> 2`` and
    its origin that gradient clamped to the range of ``W`` and ``N`` (MED)."""
    key = 0
    median = 0
    for ch in range(channels):
        a = np.int64(palette[w, ch])
        b = np.int64(palette[n, ch])
        c = np.int64(palette[nw, ch])
        v = a + b - c
        if model == 2:
            median = (median << (8 - shift)) | (min(max(v, min(a, b)), max(a, b)) >> shift)
            v = (3 * a + 3 * b - 2 * c + 2) >> 2
        key = (key << (8 - shift)) | (min(max(v, 0), 255) >> shift)
    return key, median


@njit(cache=True, nogil=True, inline="always")
def _nearest(palette, lut, key, shift):
    """The palette entry nearest to the centre of predictor cell ``key`` (cached in ``lut``)."""
    hit = lut[key]
    if hit:
        return np.int64(hit) - 1
    k, channels = palette.shape
    bits = 8 - shift
    half = 1 << (shift - 1)
    mask = (1 << bits) - 1
    c0 = (((key >> (bits * (channels - 1))) & mask) << shift) + half
    c1 = (((key >> (bits * (channels - 2))) & mask) << shift) + half
    c2 = (((key >> (bits * (channels - 3))) & mask) << shift) + half
    c3 = ((key & mask) << shift) + half if channels == 4 else 0
    best, best_d = 0, np.int64(1) << 62
    for j in range(k):
        t0 = np.int64(palette[j, 0]) - c0
        t1 = np.int64(palette[j, 1]) - c1
        t2 = np.int64(palette[j, 2]) - c2
        d = t0 * t0 + t1 * t1 + t2 * t2
        if channels == 4:
            t3 = np.int64(palette[j, 3]) - c3
            d += t3 * t3
        if d < best_d:
            best, best_d = j, d
    lut[key] = best + 1
    return best


@njit(cache=True, nogil=True, inline="always")
def _code_indices(indices, palette, order, position, activity, buf, decoding, stretch, squash,
                  reciprocal, model):
    """Encode ``indices`` (H, W) into ``buf`` or, with ``decoding``, decode ``buf`` into them.

    ``palette`` (K, C) uint8; ``order[j]``: all entries by distance from entry j (ties by index),
    ``position[j, e]``: the place of entry e in ``order[j]``; ``activity[a, b]``: bit length of the
    integer distance between entries a and b; ``model`` 1 or 2 (docs/FORMAT.md; its counters' rate
    is in ``reciprocal``). Encoding returns the bytes written, or -1 when
    ``buf`` is too small; decoding returns the bytes read, or -1 when the stream is corrupt (it
    names no valid index, or runs out before the image ends).
    """
    height, width = indices.shape
    k, channels = palette.shape
    low, high, code, pos = _coder_start(buf, decoding)
    table = 1 << HASH_BITS
    flag_cells = np.full((FLAG_MODELS, table), 32768 << 16, np.uint32)
    esc_cells = np.full((ESCAPE_MODELS, table), 32768 << 16, np.uint32)
    flag_weights = np.full((MAX_CANDIDATES * MAX_CANDIDATES * 8, FLAG_MODELS), INITIAL_WEIGHT, np.int32)
    esc_weights = np.full((2 * 18 * 18, ESCAPE_MODELS), INITIAL_WEIGHT, np.int32)
    hits = np.empty(width, np.uint8)  # this row's hits left of x, the row above's from x on
    cands = np.zeros(MAX_CANDIDATES, np.int64)
    places = np.zeros(MAX_CANDIDATES, np.int64)
    shift = 2 if channels == 3 else 4  # a key of 18 or 16 bits: the table stays small
    lut = np.zeros(1 << ((8 - shift) * channels), np.int16)
    for y in range(height):
        for x in range(width):
            if _out_of_room(pos, buf.size, decoding):
                return -1
            if x > 0:
                w = np.int64(indices[y, x - 1])
            elif y > 0:
                w = np.int64(indices[y - 1, x])
            else:
                w = np.int64(0)
            n = np.int64(indices[y - 1, x]) if y > 0 else w
            nw = np.int64(indices[y - 1, x - 1]) if y > 0 and x > 0 else n
            ne = np.int64(indices[y - 1, x + 1]) if y > 0 and x + 1 < width else n
            ww = np.int64(indices[y, x - 2]) if x > 1 else w
            nn = np.int64(indices[y - 2, x]) if y > 1 else n
            nne = np.int64(indices[y - 2, x + 1]) if y > 1 and x + 1 < width else ne
            hw = np.int64(hits[x - 1]) if x > 0 else NO_HIT
            hn = np.int64(hits[x]) if y > 0 else NO_HIT
            pattern = ((w == n) | ((w == nw) << 1) | ((n == ne) << 2) | ((n == nw) << 3)
                       | ((w == ww) << 4) | ((n == nn) << 5))
            act = min((np.int64(activity[w, n]) + activity[n, ne] + activity[w, nw]) >> 1, 7)
            key, median = _cell_keys(palette, w, n, nw, shift, channels, model)
            pred = _nearest(palette, lut, key, shift)
            # model 2 walks the ranks from the MED cell, which a fine texture predicts better
            origin = _nearest(palette, lut, median, shift) if model == 2 else pred
            nc = 0
            for v in (w, n, pred, ne, nw, ww, nn):
                if nc == MAX_CANDIDATES:
                    break
                seen = False
                for j in range(nc):
                    if cands[j] == v:
                        seen = True
                if not seen:
                    cands[nc] = v
                    nc += 1
            value = -1 if decoding else np.int64(indices[y, x])
            hit = NO_HIT
            # the hashed slots' parts that do not change with the candidate
            near = _term(w, _H3) + _term(n, _H2)
            around = near + _term(nw, _H1) + _term(ne, _H0)
            busy = _term(act, _H2) + _term(np.int64(ne == nne), _H1)
            for i in range(nc):
                base = i * MAX_CANDIDATES + nc - 1
                cand = cands[i]
                first = uint64(base) * _H4
                direct = (base * 64 + pattern) * 8 + act
                cell = first + _term(cand, _H3) + busy
                if model == 2:  # and how far the candidate is from the rank origin
                    far = np.int64(activity[cand, origin])
                    direct = direct * 4 + min(far >> 1, 3)
                    cell += _term(far, _H0)
                slots = (direct, _slot(first + near), _slot(cell), _slot(first + around))
                wset = base * 8 + act
                p12 = _mix(flag_cells, flag_weights, wset, slots, stretch, squash)
                bit, low, high, code, pos = _code_bit(low, high, code, pos, buf,
                                                      np.int64(value == cand), p12, decoding)
                _learn(flag_cells, flag_weights, wset, slots, bit, p12, stretch, reciprocal)
                if bit:
                    hit = i
                    break
            if hit == NO_HIT:
                # rank among the entries that are not candidates, by distance from the prediction
                others = k - nc
                if others <= 0:
                    return -1  # only a corrupt stream escapes when every entry is a candidate
                rank = 0
                if not decoding:  # its place in the order, less the candidates before it
                    rank = np.int64(position[origin, value])
                    for i in range(nc):
                        if position[origin, cands[i]] < position[origin, value]:
                            rank -= 1
                number = rank + 1
                top = 0
                while (number >> (top + 1)) > 0:
                    top += 1
                most = 0
                while (others >> (most + 1)) > 0:
                    most += 1
                seen_hits = _term(hw, _H3) + _term(hn, _H2) + _term(pattern, _H1)
                predicted = _term(origin, _H3)
                # model 2: the two predictions' disagreement, for the rank's length
                spread = _term(np.int64(activity[pred, origin]), _H2) if model == 2 else uint64(0)
                shape = _term(pattern, _H3)
                length = 0
                while True:  # unary: the bit length of rank + 1, less one
                    if length > most:
                        return -1
                    first = uint64(length) * _H4
                    esc_slots = ((length * 8 + act) * 8 + nc, _slot(first + seen_hits),
                                 _slot(first + predicted + spread))
                    wset = length * 8 + act
                    p12 = _mix(esc_cells, esc_weights, wset, esc_slots, stretch, squash)
                    stop, low, high, code, pos = _code_bit(low, high, code, pos, buf,
                                                           np.int64(length == top), p12, decoding)
                    _learn(esc_cells, esc_weights, wset, esc_slots, stop, p12, stretch, reciprocal)
                    if stop:
                        break
                    length += 1
                prefix = 1
                for j in range(length - 1, -1, -1):
                    place = (length * 18 + (length - 1 - j)) * 8 + min(prefix, 7)
                    first = uint64(4096 + place) * _H4
                    esc_slots = (4096 + place * 8 + act, _slot(first + shape), _slot(first + predicted))
                    wset = 18 * 18 + length * 18 + (length - 1 - j)
                    p12 = _mix(esc_cells, esc_weights, wset, esc_slots, stretch, squash)
                    bit, low, high, code, pos = _code_bit(low, high, code, pos, buf, (number >> j) & 1,
                                                          p12, decoding)
                    _learn(esc_cells, esc_weights, wset, esc_slots, bit, p12, stretch, reciprocal)
                    prefix = prefix * 2 + bit
                if decoding:
                    if prefix > others:
                        return -1
                    # the place of the rank-th entry that is not a candidate: step over the
                    # candidates' places, in increasing order (an insertion sort: at most 5)
                    for i in range(nc):
                        p = np.int64(position[origin, cands[i]])
                        j = i
                        while j > 0 and places[j - 1] > p:
                            places[j] = places[j - 1]
                            j -= 1
                        places[j] = p
                    place = prefix - 1
                    for i in range(nc):
                        if places[i] <= place:
                            place += 1
                    value = np.int64(order[origin, place])
            else:
                value = cands[hit]
            if decoding:
                indices[y, x] = value
            hits[x] = hit
    return pos if decoding else _flush(buf, pos, low)


# An entry point to the one coder for each side and model, each compiled with ``decoding`` and
# ``model`` constants: a loop carries none of the other side's branches, and a process compiles and
# loads only what it codes (a writer model 2's encoder; model 1 is for files of versions 2 to 4).
@njit(cache=True, nogil=True)
def encode_model2(indices, palette, order, position, activity, buf, stretch, squash, reciprocal):
    """:func:`_code_indices` encoding by model 2: the bytes written into ``buf``, or -1 when it
    is too small."""
    return _code_indices(indices, palette, order, position, activity, buf, False, stretch, squash,
                         reciprocal, 2)


@njit(cache=True, nogil=True)
def decode_model2(indices, palette, order, position, activity, buf, stretch, squash, reciprocal):
    """:func:`_code_indices` decoding by model 2 into ``indices``: the bytes read, or -1 for a
    corrupt stream."""
    return _code_indices(indices, palette, order, position, activity, buf, True, stretch, squash,
                         reciprocal, 2)


@njit(cache=True, nogil=True)
def encode_model1(indices, palette, order, position, activity, buf, stretch, squash, reciprocal):
    """:func:`encode_model2` by model 1."""
    return _code_indices(indices, palette, order, position, activity, buf, False, stretch, squash,
                         reciprocal, 1)


@njit(cache=True, nogil=True)
def decode_model1(indices, palette, order, position, activity, buf, stretch, squash, reciprocal):
    """:func:`decode_model2` by model 1."""
    return _code_indices(indices, palette, order, position, activity, buf, True, stretch, squash,
                         reciprocal, 1)
