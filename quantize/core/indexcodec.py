"""The ``cm`` codec of ``.qnt`` (version 2 on): context-mixing arithmetic coding of an index map;
and ``bilevel`` and ``template`` (version 4), the same coding with a wider view of the neighbours,
for K = 2 and for K = 3 to 256.

This module builds the integer tables both sides share, cuts an image into the stripes its codecs
code independently, and calls the one coder of each (:mod:`quantize.core.kernels.indexcodec`,
:mod:`quantize.core.kernels.templates`). docs/FORMAT.md specifies the streams.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import numpy as np

from ..errors import FormatError

MAX_K = 1024  # beyond this the K x K distance order costs more than it saves; zstd takes over
STRIPE_PIXELS_LOG2 = 20

# 4096 / (1 + e^-x) at x = -8, -7.5, ..., 8: the logistic function sampled every 128 stretch units
_SQUASH_POINTS = np.array([1, 2, 4, 6, 10, 17, 27, 45, 74, 120, 194, 311, 488, 747, 1102, 1546, 2048,
                           2550, 2994, 3349, 3608, 3785, 3902, 3976, 4022, 4051, 4069, 4079, 4086,
                           4090, 4092, 4094, 4095], np.int64)


def _squash_table() -> np.ndarray:
    """squash(d) for d = -2048 ... 2047 (index d + 2048), by linear interpolation in integers."""
    d = np.arange(-2048, 2048, dtype=np.int64) + 2048
    i, frac = d >> 7, d & 127
    lo, hi = _SQUASH_POINTS[i], _SQUASH_POINTS[np.minimum(i + 1, 32)]
    return (lo + (((hi - lo) * frac) >> 7)).astype(np.int16)


def _stretch_table(squash: np.ndarray) -> np.ndarray:
    """stretch(p) for p = 0 ... 4095: the least d whose squash is at least p (clamped to ±2047)."""
    d = np.searchsorted(squash, np.arange(4096), side="left") - 2048
    return np.clip(d, -2047, 2047).astype(np.int16)


SQUASH = _squash_table()
STRETCH = _stretch_table(SQUASH)
RECIPROCAL = (131072 // (2 * np.arange(256, dtype=np.int64) + 3)).astype(np.int32)  # 65536 / (n + 1.5)
#: cm's models: 1 (versions 2 to 4), 2 (version 5; what the writer uses)
CM_MODELS = (1, 2)
# model 2's counters stop slowing down after 30 updates (as a count limit of 30): they follow a
# texture's drift
_RECIPROCAL_2 = RECIPROCAL[np.minimum(np.arange(256), 30)]
_BIT_LENGTH = np.array([int(v).bit_length() for v in range(512)], np.uint8)  # sqrt(4 * 255²) < 512


def _tables(palette: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each entry, every entry by squared distance (ties by index) and the inverse (each
    entry's place in that order), and the bit length of the integer square root of each pair's
    squared distance."""
    d2 = np.zeros((len(palette), len(palette)), np.int64)
    for channel in palette.T.astype(np.int64):  # channel by channel: K x K, never K x K x C
        d2 += (channel[:, None] - channel[None, :]) ** 2
    order = np.argsort(d2, axis=1, kind="stable").astype(np.int32)
    position = np.empty_like(order)
    np.put_along_axis(position, order, np.arange(len(palette), dtype=np.int32)[None, :], axis=1)
    root = np.floor(np.sqrt(d2)).astype(np.int64)
    root -= root * root > d2
    root += (root + 1) * (root + 1) <= d2
    return order, position, _BIT_LENGTH[root]


def stripes(height: int, width: int) -> list[tuple[int, int]]:
    """The row ranges coded independently: one per 2^20 pixels (at least one), rows split evenly.

    They depend on the image size alone, so the stream is the same whatever the number of threads.
    """
    count = max(1, min(height, (height * width) >> STRIPE_PIXELS_LOG2))
    return [(i * height // count, (i + 1) * height // count) for i in range(count)]


def _run(jobs: list, stop=lambda result: False) -> list:
    """Call each job, in threads when there are several (the kernel releases the GIL); the results
    in order, up to the first for which ``stop`` holds (the jobs not begun by then never are)."""
    if len(jobs) == 1:
        return [jobs[0]()]
    stopped = threading.Event()

    def run(job):
        if stopped.is_set():
            return None  # jobs begin in order: this one comes after a result that stops
        result = job()
        if stop(result):
            stopped.set()
        return result

    results = []
    with ThreadPoolExecutor(max_workers=min(len(jobs), os.cpu_count() or 1)) as pool:
        for result in pool.map(run, jobs):
            results.append(result)
            if stop(result):
                break
    return results


def _kernel_palette(palette: np.ndarray) -> np.ndarray:
    """The palette as the kernel is compiled for it: contiguous and writable, as a compress passes
    it, so a read-only one (a file's, straight from its bytes) does not compile a second copy."""
    return np.require(palette, np.uint8, ["C", "W"])


def _encoded(kernel, size: int) -> bytes:
    """``kernel(buf)``'s bytes, ``buf`` grown from ``size`` bytes until they fit."""
    while True:
        buf = np.empty(size, np.uint8)
        used = kernel(buf)
        if used >= 0:
            return buf[:used].tobytes()
        size *= 2


def _striped(indices: np.ndarray, encode_stripe) -> bytes:
    """A payload: each stripe of ``indices`` coded by ``encode_stripe``, after the byte lengths
    of all but the last."""
    parts = _run([partial(encode_stripe, indices[top:bottom])
                  for top, bottom in stripes(*indices.shape)])
    lengths = b"".join(len(part).to_bytes(4, "little") for part in parts[:-1])
    return lengths + b"".join(parts)


def _unstriped(payload: bytes | memoryview, shape: tuple[int, int], dtype: np.dtype,
               decode_stripe, name: str, invalid: str) -> np.ndarray:
    """The indices of ``shape`` and ``dtype``, each stripe of ``payload`` decoded into them by
    ``decode_stripe(stream, rows)``; a payload that is not exactly one image's raises FormatError
    (``invalid``: what a stripe's -1 means). Its stripe table is checked before the image is
    allocated: a few bytes declaring a huge image are refused for what they are, not for memory."""
    bounds = stripes(*shape)
    data = np.frombuffer(payload, np.uint8).copy()  # one kernel reads and writes, so one type
    head = 4 * (len(bounds) - 1)
    if data.size < head:
        raise FormatError(f"{name} payload is truncated: {data.size} bytes, its stripe table "
                          f"needs {head}")
    lengths = [int.from_bytes(data[4 * i:4 * i + 4].tobytes(), "little") for i in range(len(bounds) - 1)]
    if sum(lengths) > data.size - head:
        raise FormatError(f"{name} payload is truncated: its stripes add up to more than it holds")
    starts = np.cumsum([head] + lengths)
    lengths.append(data.size - int(starts[-1]))
    indices = np.zeros(shape, dtype)

    def damage(rows: np.ndarray, start: int, length: int) -> str | None:
        """What is wrong with one stripe's stream, decoded into ``rows`` (None: nothing)."""
        used = decode_stripe(data[start:start + length], rows)
        if used < 0:
            return f"corrupt {name} payload: {invalid}"
        return None if used == length else \
            f"corrupt {name} payload: a stripe of {length} bytes codes {used}"

    # the first damaged stripe stops those after it: a file of many empty stripes is refused at
    # once, not after every stripe's tables are filled
    for message in _run([partial(damage, indices[top:bottom], start, length)
                         for (top, bottom), start, length in zip(bounds, starts, lengths)],
                        stop=bool):
        if message:
            raise FormatError(message)
    return indices


def _model(model: int, side: str):
    """The kernel of cm's ``model`` for ``side`` (encode or decode), and its counters' rates."""
    from .kernels import indexcodec as kernels

    if model not in CM_MODELS:
        raise ValueError(f"no cm model {model}")
    return getattr(kernels, f"{side}_model{model}"), RECIPROCAL if model == 1 else _RECIPROCAL_2


def encode(palette: np.ndarray, indices: np.ndarray, model: int = CM_MODELS[-1]) -> bytes:
    """The cm payload of ``indices`` (H, W) into ``palette`` (K, C) uint8, 2 <= K <= MAX_K, by
    ``model`` (one of :data:`CM_MODELS`)."""
    kernel, reciprocal = _model(model, "encode")
    palette = _kernel_palette(palette)
    indices = np.ascontiguousarray(indices, np.uint8 if len(palette) <= 256 else np.uint16)
    tables = _tables(palette)
    bits = max(1, (len(palette) - 1).bit_length())

    def stripe(rows: np.ndarray) -> bytes:
        return _encoded(lambda buf: kernel(rows, palette, *tables, buf, STRETCH, SQUASH, reciprocal),
                        rows.size * bits // 8 + 4096)

    return _striped(indices, stripe)


def decode(payload: bytes | memoryview, palette: np.ndarray, height: int, width: int,
           dtype: np.dtype, model: int = CM_MODELS[-1]) -> np.ndarray:
    """Inverse of :func:`encode` (by the same ``model``); a payload that is not exactly one image's
    raises FormatError."""
    kernel, reciprocal = _model(model, "decode")
    palette = _kernel_palette(palette)
    tables = _tables(palette)

    def stripe(stream: np.ndarray, rows: np.ndarray) -> int:
        return kernel(rows, palette, *tables, stream, STRETCH, SQUASH, reciprocal)

    return _unstriped(payload, (height, width), dtype, stripe, "cm",
                      "it codes an index outside the palette")


def encode_bilevel(indices: np.ndarray) -> bytes:
    """The bilevel payload of ``indices`` (H, W) of 0 and 1 (K = 2)."""
    from .kernels.templates import encode_bits, padded

    def stripe(rows: np.ndarray) -> bytes:
        return _encoded(lambda buf: encode_bits(rows, buf, padded(rows), STRETCH, SQUASH,
                                                RECIPROCAL), rows.size // 8 + 4096)

    return _striped(np.ascontiguousarray(indices, np.uint8), stripe)


def decode_bilevel(payload: bytes | memoryview, height: int, width: int) -> np.ndarray:
    """Inverse of :func:`encode_bilevel`; a payload that is not exactly one image's raises
    FormatError."""
    from .kernels.templates import decode_bits, padded

    def stripe(stream: np.ndarray, rows: np.ndarray) -> int:
        return decode_bits(rows, stream, padded(rows), STRETCH, SQUASH, RECIPROCAL)

    return _unstriped(payload, (height, width), np.uint8, stripe, "bilevel",
                      "it runs out before the image ends")


#: The template codec's palettes: from 3 colours (2 are bilevel's) to a byte an index.
TEMPLATE_K = (3, 256)


def encode_template(indices: np.ndarray, k: int) -> bytes:
    """The template payload of ``indices`` (H, W) below ``k``, 3 <= k <= 256."""
    from .kernels.templates import encode_indices, padded

    bits = (k - 1).bit_length()

    def stripe(rows: np.ndarray) -> bytes:
        return _encoded(lambda buf: encode_indices(rows, bits, k, buf, padded(rows), STRETCH, SQUASH,
                                                   RECIPROCAL),
                        rows.size * bits // 8 + 4096)

    return _striped(np.ascontiguousarray(indices, np.uint8), stripe)


def decode_template(payload: bytes | memoryview, height: int, width: int, k: int) -> np.ndarray:
    """Inverse of :func:`encode_template`; a payload that is not exactly one image's raises
    FormatError."""
    from .kernels.templates import decode_indices, padded

    bits = (k - 1).bit_length()

    def stripe(stream: np.ndarray, rows: np.ndarray) -> int:
        return decode_indices(rows, bits, k, stream, padded(rows), STRETCH, SQUASH, RECIPROCAL)

    return _unstriped(payload, (height, width), np.uint8, stripe, "template",
                      "it names no palette entry, or runs out before the image ends")
