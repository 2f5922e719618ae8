"""The index-map coder of ``.qnt`` version 2 (docs/FORMAT.md, "The cm codec"): one kernel that
encodes or decodes, so the model the two sides run is written once.

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

# coder state slots
_LOW, _HIGH, _CODE, _POS = 0, 1, 2, 3
_TOP = 0xFF000000
_MASK = 0xFFFFFFFF


@njit(cache=True, nogil=True, inline="always")
def _hash(a, b, c, d, e):
    """A table slot for a context of five small integers."""
    z = uint64(a)
    for v in (b, c, d, e):
        z = z * uint64(1000003) + uint64(v + 1)
    return np.int64((z * uint64(0x9E3779B97F4A7C15)) >> uint64(64 - HASH_BITS))


@njit(cache=True, nogil=True, inline="always")
def _code_bit(state, buf, bit, p12, decoding):
    """Encode ``bit`` (or decode one) with probability ``p12``/4096 that it is 1; return the bit."""
    low, high = state[_LOW], state[_HIGH]
    span = high - low
    mid = low + (span >> 12) * p12 + (((span & 0xFFF) * p12) >> 12)
    if decoding:
        bit = 1 if state[_CODE] <= mid else 0
    if bit:
        high = mid
    else:
        low = mid + 1
    while ((low ^ high) & _TOP) == 0:
        pos = state[_POS]
        if decoding:
            byte = buf[pos] if pos < buf.size else 0  # past the end reads zeros: bounded work
            state[_CODE] = ((state[_CODE] << 8) & _MASK) | byte
        else:
            buf[pos] = high >> 24
        state[_POS] = pos + 1
        low = (low << 8) & _MASK
        high = ((high << 8) & _MASK) | 255
    state[_LOW], state[_HIGH] = low, high
    return bit


@njit(cache=True, nogil=True, inline="always")
def _mixed_bit(state, buf, bit, decoding, slots, n_models, cells, weights, wset, stretch, squash,
               reciprocal, inputs):
    """Code one decision whose probability mixes ``n_models`` counters (``slots`` into ``cells``,
    one row per model, each a probability in 16 bits over a count in 16) with the weight set
    ``wset``; update them all."""
    dot = 0
    for m in range(n_models):
        s = stretch[cells[m, slots[m]] >> 20]
        inputs[m] = s
        dot += np.int64(weights[wset, m]) * s
    dot >>= MIXER_SHIFT
    dot = min(max(dot, -2047), 2047)
    p12 = min(max(np.int64(squash[dot + 2048]), 1), 4095)
    bit = _code_bit(state, buf, bit, p12, decoding)
    err = ((bit << 12) - p12)
    for m in range(n_models):
        weights[wset, m] += (inputs[m] * err) >> LEARNING_SHIFT
        cell = np.int64(cells[m, slots[m]])
        p, n = cell >> 16, cell & 0xFFFF
        if bit:
            p += ((65536 - p) * reciprocal[n]) >> 16
        else:
            p -= (p * reciprocal[n]) >> 16
        cells[m, slots[m]] = (min(max(p, 32), 65503) << 16) | min(n + 1, COUNT_LIMIT)
    return bit


@njit(cache=True, nogil=True, inline="always")
def _nearest(palette, lut, key, shift):
    """The palette entry nearest to the centre of predictor cell ``key`` (cached in ``lut``)."""
    hit = lut[key]
    if hit:
        return hit - 1
    k, channels = palette.shape
    bits = 8 - shift
    centre = np.empty(channels, np.int64)
    for ch in range(channels):
        q = (key >> (bits * (channels - 1 - ch))) & ((1 << bits) - 1)
        centre[ch] = (q << shift) + (1 << (shift - 1))
    best, best_d = 0, np.int64(1) << 62
    for j in range(k):
        d = 0
        for ch in range(channels):
            t = np.int64(palette[j, ch]) - centre[ch]
            d += t * t
        if d < best_d:
            best, best_d = j, d
    lut[key] = best + 1
    return best


@njit(cache=True, nogil=True)
def code_indices(indices, palette, order, position, activity, buf, decoding, stretch, squash,
                 reciprocal):
    """Encode ``indices`` (H, W) into ``buf`` or, with ``decoding``, decode ``buf`` into them.

    ``palette`` (K, C) uint8; ``order[j]``: all entries by distance from entry j (ties by index),
    ``position[j, e]``: the place of entry e in ``order[j]``; ``activity[a, b]``: bit length of the integer distance between entries a and b. Encoding
    returns the bytes written, or -1 when ``buf`` is too small; decoding returns the bytes read, or
    -1 when the stream is corrupt (it names no valid index, or runs out before the image ends).
    """
    height, width = indices.shape
    k, channels = palette.shape
    state = np.zeros(4, np.int64)
    state[_HIGH] = _MASK
    if decoding:
        for _ in range(4):
            pos = state[_POS]
            state[_CODE] = (state[_CODE] << 8) | (buf[pos] if pos < buf.size else 0)
            state[_POS] = pos + 1
    table = 1 << HASH_BITS
    flag_cells = np.full((FLAG_MODELS, table), 32768 << 16, np.uint32)
    esc_cells = np.full((ESCAPE_MODELS, table), 32768 << 16, np.uint32)
    flag_weights = np.full((MAX_CANDIDATES * MAX_CANDIDATES * 8, FLAG_MODELS), INITIAL_WEIGHT, np.int32)
    esc_weights = np.full((2 * 18 * 18, ESCAPE_MODELS), INITIAL_WEIGHT, np.int32)
    slots = np.zeros(FLAG_MODELS, np.int64)
    inputs = np.zeros(FLAG_MODELS, np.int64)  # FLAG_MODELS >= ESCAPE_MODELS
    hits = np.empty((2, width), np.uint8)  # each hit is read only after it is written
    cands = np.zeros(MAX_CANDIDATES, np.int64)
    places = np.zeros(MAX_CANDIDATES, np.int64)
    shift = 2 if channels == 3 else 4  # a key of 18 or 16 bits: the table stays small
    lut = np.zeros(1 << ((8 - shift) * channels), np.int16)
    limit = buf.size
    for y in range(height):
        row, above = hits[y & 1], hits[(y - 1) & 1]
        for x in range(width):
            if decoding and state[_POS] > limit:
                return -1  # a whole stream is read exactly to its end, never past it
            if not decoding and state[_POS] + 128 > limit:
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
            hw = np.int64(row[x - 1]) if x > 0 else NO_HIT
            hn = np.int64(above[x]) if y > 0 else NO_HIT
            pattern = ((w == n) | ((w == nw) << 1) | ((n == ne) << 2) | ((n == nw) << 3)
                       | ((w == ww) << 4) | ((n == nn) << 5))
            act = min((np.int64(activity[w, n]) + activity[n, ne] + activity[w, nw]) >> 1, 7)
            key = 0
            for ch in range(channels):
                v = np.int64(palette[w, ch]) + np.int64(palette[n, ch]) - np.int64(palette[nw, ch])
                key = (key << (8 - shift)) | (min(max(v, 0), 255) >> shift)
            pred = _nearest(palette, lut, key, shift)
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
            for i in range(nc):
                base = i * MAX_CANDIDATES + nc - 1
                cand = cands[i]
                slots[0] = (base * 64 + pattern) * 8 + act
                slots[1] = _hash(base, w, n, -1, -1)
                slots[2] = _hash(base, cand, act, np.int64(ne == nne), -1)
                slots[3] = _hash(base, w, n, nw, ne)
                bit = _mixed_bit(state, buf, np.int64(value == cand), decoding, slots, FLAG_MODELS, flag_cells,
                                 flag_weights, base * 8 + act, stretch, squash,
                                 reciprocal, inputs)
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
                    rank = np.int64(position[pred, value])
                    for i in range(nc):
                        if position[pred, cands[i]] < position[pred, value]:
                            rank -= 1
                number = rank + 1
                top = 0
                while (number >> (top + 1)) > 0:
                    top += 1
                most = 0
                while (others >> (most + 1)) > 0:
                    most += 1
                length = 0
                while True:  # unary: the bit length of rank + 1, less one
                    if length > most:
                        return -1
                    slots[0] = (length * 8 + act) * 8 + nc
                    slots[1] = _hash(length, hw, hn, pattern, -1)
                    slots[2] = _hash(length, pred, -1, -1, -1)
                    stop = _mixed_bit(state, buf, np.int64(length == top), decoding, slots, ESCAPE_MODELS,
                                      esc_cells, esc_weights, length * 8 + act,
                                      stretch, squash, reciprocal, inputs)
                    if stop:
                        break
                    length += 1
                prefix = 1
                for j in range(length - 1, -1, -1):
                    place = (length * 18 + (length - 1 - j)) * 8 + min(prefix, 7)
                    slots[0] = 4096 + place * 8 + act
                    slots[1] = _hash(4096 + place, pattern, -1, -1, -1)
                    slots[2] = _hash(4096 + place, pred, -1, -1, -1)
                    bit = _mixed_bit(state, buf, (number >> j) & 1, decoding, slots, ESCAPE_MODELS,
                                     esc_cells, esc_weights,
                                     18 * 18 + length * 18 + (length - 1 - j), stretch, squash,
                                     reciprocal, inputs)
                    prefix = prefix * 2 + bit
                if decoding:
                    if prefix > others:
                        return -1
                    # the place of the rank-th entry that is not a candidate: step over the
                    # candidates' places, in increasing order
                    for i in range(nc):
                        places[i] = position[pred, cands[i]]
                    places[:nc].sort()
                    place = prefix - 1
                    for i in range(nc):
                        if places[i] <= place:
                            place += 1
                    value = np.int64(order[pred, place])
            else:
                value = cands[hit]
            if decoding:
                indices[y, x] = value
            row[x] = hit
    if not decoding:
        # flush: enough bytes of ``low`` that any continuation decodes inside [low, high]
        for _ in range(4):
            buf[state[_POS]] = state[_LOW] >> 24
            state[_LOW] = (state[_LOW] << 8) & _MASK
            state[_POS] += 1
    return state[_POS]
