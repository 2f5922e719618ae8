"""GIF's LZW: the code stream of a row of palette indices.

The encoder is the usual greedy one (the longest string in the dictionary, a clear code when the
dictionary is full).
"""

from __future__ import annotations

import numpy as np
from numba import njit

_MAX_CODES = 4096


@njit(cache=True, inline="always")
def _put(out, state, code, width):
    """Append ``code`` of ``width`` bits, least significant first; ``state`` is (bits, count, pos)."""
    state[0] |= code << state[1]
    state[1] += width
    while state[1] >= 8:
        out[state[2]] = state[0] & 255
        state[2] += 1
        state[0] >>= 8
        state[1] -= 8


@njit(cache=True)
def lzw_codes(symbols, min_size, out):
    """Write the LZW code stream of ``symbols`` (int32, each below 2**min_size) into ``out`` (at
    least 2 bytes a symbol plus 8); returns the number of bytes written."""
    n = symbols.shape[0]
    roots = 1 << min_size
    clear, end = roots, roots + 1
    first_child = np.full(_MAX_CODES, -1, np.int32)
    sibling = np.full(_MAX_CODES, -1, np.int32)
    last = np.zeros(_MAX_CODES, np.int32)  # each code's last symbol
    state = np.zeros(3, np.int64)
    width = min_size + 1
    next_code = end + 1
    _put(out, state, clear, width)
    if n == 0:
        _put(out, state, end, width)
    else:
        current = symbols[0]
        for i in range(1, n):
            symbol = symbols[i]
            child = first_child[current]
            while child != -1 and last[child] != symbol:
                child = sibling[child]
            if child != -1:
                current = child
                continue
            _put(out, state, current, width)
            if next_code < _MAX_CODES:
                last[next_code] = symbol
                first_child[next_code] = -1
                sibling[next_code] = first_child[current]
                first_child[current] = next_code
                next_code += 1
                if next_code > (1 << width) and width < 12:
                    width += 1
            else:
                _put(out, state, clear, width)
                first_child[:roots] = -1
                width = min_size + 1
                next_code = end + 1
            current = symbol
        _put(out, state, current, width)
        if next_code < _MAX_CODES:  # the decoder widens as it adds the entry after this code
            next_code += 1
            if next_code > (1 << width) and width < 12:
                width += 1
        _put(out, state, end, width)
    if state[1] > 0:
        out[state[2]] = state[0] & 255
        state[2] += 1
    return state[2]
