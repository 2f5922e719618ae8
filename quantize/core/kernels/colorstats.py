"""The colour index of RGB pixels: which of the 2^24 colours occur (a bitmap, one bit a colour:
2 MB) and, per 64-bit word, how many occur before it (1 MB). A colour's row among the image's
distinct colours, in ascending order, is its word's rank plus the bits set below it in the word.
Small enough to stay in cache, where a table of 2^24 counts (64 MB) would not."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

WORDS = 1 << 18  # 64-bit words of the bitmap


@njit(cache=True, inline="always")
def _popcount(x):
    x = x - ((x >> np.uint64(1)) & np.uint64(0x5555555555555555))
    x = (x & np.uint64(0x3333333333333333)) + ((x >> np.uint64(2)) & np.uint64(0x3333333333333333))
    x = (x + (x >> np.uint64(4))) & np.uint64(0x0F0F0F0F0F0F0F0F)
    return np.int64((x * np.uint64(0x0101010101010101)) >> np.uint64(56))


@njit(cache=True, inline="always")
def _key(pixels, i):
    return (np.int64(pixels[i, 0]) << 16) | (np.int64(pixels[i, 1]) << 8) | np.int64(pixels[i, 2])


@njit(cache=True, inline="always")
def _row(bitmap, ranks, key):
    word = key >> 6
    below = (np.uint64(1) << np.uint64(key & 63)) - np.uint64(1)
    return ranks[word] + _popcount(bitmap[word] & below)


@njit(cache=True, nogil=True)
def distinct_rgb(pixels, bitmap, ranks, keys, counts):
    """Count the distinct colours of ``pixels`` (N, 3) uint8: write their keys ``r << 16 | g << 8
    | b`` in ascending order to ``keys[:m]`` (int32) and their pixel counts to ``counts[:m]``
    (float64), and return m. Both must hold min(N, 2^24) values; nothing past m is touched.
    Fills the index: ``bitmap`` (WORDS,) uint64, zero on entry, and ``ranks`` (WORDS,) int32.
    It allocates nothing: a compress loads it first, and loading it then needs none of Numba's
    array module (whose import moves to a later kernel's load, beside the counting)."""
    for i in range(pixels.shape[0]):
        key = _key(pixels, i)
        bitmap[key >> 6] |= np.uint64(1) << np.uint64(key & 63)
    m = 0
    for w in range(WORDS):
        ranks[w] = m
        m += _popcount(bitmap[w])
    j = 0
    for w in range(WORDS):
        bits = bitmap[w]
        while bits:
            low = bits & (~bits + np.uint64(1))  # the lowest bit set
            keys[j] = (w << 6) + _popcount(low - np.uint64(1))
            j += 1
            bits ^= low
    for j in range(m):
        counts[j] = 0.0
    for i in range(pixels.shape[0]):
        counts[_row(bitmap, ranks, _key(pixels, i))] += 1.0
    return m


@njit(cache=True, parallel=True)
def gather_rows(pixels, bitmap, ranks, values, out):
    """``out[i] = values[row of pixel i]`` for ``pixels`` (N, 3) uint8 and their colour index
    (e.g. each colour's palette label, or ``arange`` for the rows themselves)."""
    for i in prange(pixels.shape[0]):
        out[i] = values[_row(bitmap, ranks, _key(pixels, i))]
    return out
