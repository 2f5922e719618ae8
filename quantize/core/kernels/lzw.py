"""GIF's LZW: the code stream of a row of palette indices, and a lossy choice of the indices.

The encoder is the usual greedy one (the longest string in the dictionary, a clear code when the
dictionary is full), so it writes the bytes giflib and Pillow write. The lossy choice walks the
same dictionary but lets each pixel take any index whose colour is within a tolerance of its
own index's error, and keeps the longest string those choices allow (a depth-first search of the
dictionary from every allowed first index); coding the chosen indices again gives the same codes.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_MAX_CODES = 4096
_MAX_DEPTH = 62  # the longest string the lossy search follows
_SEARCH_NODES = 64  # dictionary entries the lossy search visits from one first index
_GREY = 1.0 / np.sqrt(3.0)  # the unit grey axis, along which the table is sorted


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


@njit(cache=True, inline="always")
def _cost(i, s, targets, table, clear_index, kept):
    """Squared distance from pixel i's wanted colour to what index s shows there."""
    acc = 0.0
    for c in range(3):
        shown = kept[i, c] if s == clear_index else table[s, c]
        d = shown - targets[i, c]
        acc += d * d
    return acc


@njit(cache=True)
def _longest(start, pos, n, first_child, sibling, last, preferred, own, targets, table,
             clear_index, kept, tolerance, stack, extra, best):
    """The longest allowed string from pixel ``pos`` whose first index is ``start``: its length,
    its code and its summed extra error, in ``best`` (``own``: each pixel's error with its
    preferred index; ``stack`` and ``extra``: room for the search)."""
    best[0], best[1], best[2] = 1.0, start, 0.0
    extra[0] = 0.0
    depth = 0
    stack[0] = first_child[start]
    left = _SEARCH_NODES
    while depth >= 0 and left > 0:
        child = stack[depth]
        if child == -1 or depth >= _MAX_DEPTH:
            depth -= 1
            continue
        stack[depth] = sibling[child]
        i = pos + depth + 1
        if i >= n:
            continue
        symbol = last[child]
        more = 0.0
        if symbol != preferred[i]:
            if tolerance[i] < 0.0:  # only its own index
                continue
            more = _cost(i, symbol, targets, table, clear_index, kept) - own[i]
        if symbol == preferred[i] or more <= tolerance[i]:
            left -= 1
            depth += 1
            stack[depth] = first_child[child]
            extra[depth] = extra[depth - 1] + more
            if depth + 1 > best[0] or (depth + 1 == best[0] and extra[depth] < best[2]):
                best[0], best[1], best[2] = depth + 1, child, extra[depth]


@njit(cache=True)
def _first_indices(pos, preferred, targets, clear_index, tolerance, base, order, grey, found):
    """The indices pixel ``pos`` may start a string with, into ``found`` (in no set order); their
    count. Those within the tolerance lie within a window of the grey axis around the pixel's
    colour (``grey``: the table's positions on it, sorted; ``order``: their indices)."""
    wanted = preferred[pos]
    if tolerance[pos] < 0.0:
        found[0] = wanted
        return 1
    reach = np.sqrt(max(base + tolerance[pos], 0.0)) + 1e-9
    centre = (targets[pos, 0] + targets[pos, 1] + targets[pos, 2]) * _GREY
    m = 0
    for j in range(np.searchsorted(grey, centre - reach), np.searchsorted(grey, centre + reach,
                                                                         side="right")):
        found[m] = order[j]
        m += 1
    m = _add_once(found, m, wanted)
    return _add_once(found, m, clear_index)


@njit(cache=True, inline="always")
def _add_once(found, m, s):
    """``found[:m]`` with index ``s`` added unless there or negative; the new count."""
    if s < 0:
        return m
    for j in range(m):
        if found[j] == s:
            return m
    found[m] = s
    return m + 1


@njit(cache=True)
def lzw_choose(preferred, targets, table, n_colors, clear_index, kept, tolerance, min_size):
    """Indices for ``preferred`` (int32) that LZW codes in fewer codes: pixel i may take any index
    whose squared distance to ``targets[i]`` is at most ``tolerance[i]`` above its preferred
    index's (a negative tolerance: only its own). ``table`` (float64, 3 columns) holds the
    colours of indices below ``n_colors``; ``clear_index`` (or -1) shows ``kept[i]``, the colour
    already on screen. ``min_size`` is the LZW minimum code size the indices will be coded with."""
    n = preferred.shape[0]
    roots = 1 << min_size
    first_child = np.full(_MAX_CODES, -1, np.int32)
    sibling = np.full(_MAX_CODES, -1, np.int32)
    last = np.zeros(_MAX_CODES, np.int32)
    parent = np.full(_MAX_CODES, -1, np.int32)
    for s in range(roots):
        last[s] = s
    chosen = np.empty(n, np.int32)
    own = np.empty(n, np.float64)
    for i in range(n):
        own[i] = _cost(i, preferred[i], targets, table, clear_index, kept)
    grey = (table[:n_colors, 0] + table[:n_colors, 1] + table[:n_colors, 2]) * _GREY
    order = np.argsort(grey).astype(np.int32)
    grey = grey[order]
    found = np.empty(n_colors + 2, np.int32)
    stack = np.empty(_MAX_DEPTH + 2, np.int32)
    extra = np.empty(_MAX_DEPTH + 2, np.float64)
    best = np.empty(3, np.float64)
    next_code = roots + 2
    previous = -1
    pos = 0
    while pos < n:
        if previous != -1 and next_code >= _MAX_CODES:  # the encoder clears here
            first_child[:roots] = -1
            next_code = roots + 2
            previous = -1
        base = own[pos]
        start, start_length, start_extra = preferred[pos], 0.0, 0.0
        for j in range(_first_indices(pos, preferred, targets, clear_index, tolerance, base, order,
                                      grey, found)):
            s = found[j]
            more = _cost(pos, s, targets, table, clear_index, kept) - base
            if s != preferred[pos] and more > tolerance[pos]:
                continue
            _longest(s, pos, n, first_child, sibling, last, preferred, own, targets, table,
                     clear_index, kept, tolerance, stack, extra, best)
            length, total = best[0], best[2] + more  # ties go to the lowest index
            if length > start_length or (length == start_length and (
                    total < start_extra or (total == start_extra and s < start))):
                start, start_length, start_extra = s, length, total
        if previous != -1:  # the entry the encoder adds before it codes this string
            last[next_code] = start
            parent[next_code] = previous
            first_child[next_code] = -1
            sibling[next_code] = first_child[previous]
            first_child[previous] = next_code
            next_code += 1
        _longest(start, pos, n, first_child, sibling, last, preferred, own, targets, table,
                 clear_index, kept, tolerance, stack, extra, best)
        length, code = int(best[0]), int(best[1])
        for j in range(length - 1, -1, -1):
            chosen[pos + j] = last[code]
            code = parent[code]
        previous = int(best[1])
        pos += length
    return chosen
