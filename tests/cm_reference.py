"""Decoders of the cm, bilevel and template codecs written from docs/FORMAT.md alone, in plain Python (slow,
small images only): they prove the document is enough to read the files, and check the Numba
decoders."""

from __future__ import annotations

import math

T = [1, 2, 4, 6, 10, 17, 27, 45, 74, 120, 194, 311, 488, 747, 1102, 1546, 2048, 2550, 2994, 3349,
     3608, 3785, 3902, 3976, 4022, 4051, 4069, 4079, 4086, 4090, 4092, 4094, 4095]
M64 = (1 << 64) - 1
M32 = (1 << 32) - 1


def squash(d: int) -> int:
    u = d + 2048
    i, f = u >> 7, u & 127
    return T[i] + (((T[min(i + 1, 32)] - T[i]) * f) >> 7)


SQUASH = [squash(d) for d in range(-2048, 2048)]
STRETCH = []
for p in range(4096):
    d = next((d for d in range(-2048, 2048) if SQUASH[d + 2048] >= p), 2048)
    STRETCH.append(min(max(d, -2047), 2047))
RECIPROCAL = [131072 // (2 * n + 3) for n in range(256)]


def h(a: int, *rest: int) -> int:
    z = a
    for v in rest:
        z = (z * 1000003 + v + 1) & M64
    return ((z * 0x9E3779B97F4A7C15) & M64) >> 48


def wrap32(v: int) -> int:
    v &= M32
    return v - (1 << 32) if v >> 31 else v


class Decoder:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 4
        self.low, self.high = 0, M32
        self.code = int.from_bytes(data[:4].ljust(4, b"\0"), "big")

    def bit(self, p: int) -> int:
        span = self.high - self.low
        mid = self.low + (span >> 12) * p + (((span & 0xFFF) * p) >> 12)
        bit = 1 if self.code <= mid else 0
        if bit:
            self.high = mid
        else:
            self.low = mid + 1
        while (self.low ^ self.high) & 0xFF000000 == 0:
            byte = self.data[self.pos] if self.pos < len(self.data) else 0
            self.pos += 1
            self.code = ((self.code << 8) | byte) & M32
            self.low = (self.low << 8) & M32
            self.high = ((self.high << 8) & M32) | 255
        return bit


class Mixer:
    """Counters (one table per model, counts up to ``limit``) and weight sets."""

    def __init__(self, models: int, limit: int = 255) -> None:
        self.counters = [dict() for _ in range(models)]
        self.weights: dict[int, list[int]] = {}
        self.limit = limit

    def decide(self, coder: Decoder, slots: list[int], wset: int) -> int:
        weights = self.weights.setdefault(wset, [19661] * len(slots))
        cells = [self.counters[m].get(s, (32768, 0)) for m, s in enumerate(slots)]
        st = [STRETCH[q >> 4] for q, _ in cells]
        dot = min(max(sum(w * s for w, s in zip(weights, st)) >> 16, -2047), 2047)
        p = min(max(SQUASH[dot + 2048], 1), 4095)
        bit = coder.bit(p)
        err = 4096 * bit - p
        for m in range(len(slots)):
            weights[m] = wrap32(weights[m] + ((st[m] * err) >> 12))
            q, n = cells[m]
            q = q + (((65536 - q) * RECIPROCAL[n]) >> 16) if bit else q - ((q * RECIPROCAL[n]) >> 16)
            self.counters[m][slots[m]] = (min(max(q, 32), 65503), min(n + 1, self.limit))
        return bit


def nearest(palette: list[list[int]], v: list[int], s: int) -> int:
    """The entry nearest the centre of the predictor cell of ``v`` (ties to the lower index)."""
    centre = [((vc >> s) << s) + (1 << (s - 1)) for vc in v]
    return min(range(len(palette)), key=lambda j: (sum((palette[j][c] - centre[c]) ** 2
                                                      for c in range(len(v))), j))


def decode_stripe(data: bytes, palette: list[list[int]], height: int, width: int,
                  model: int) -> list[list[int]]:
    k, channels = len(palette), len(palette[0])
    d2 = [[sum((a[c] - b[c]) ** 2 for c in range(channels)) for b in palette] for a in palette]
    order = [sorted(range(k), key=lambda e, a=a: (d2[a][e], e)) for a in range(k)]
    activity = [[math.isqrt(v).bit_length() for v in row] for row in d2]
    s = 2 if channels == 3 else 4
    limit = 255 if model == 1 else 30
    coder, flags, escapes = Decoder(data), Mixer(4, limit), Mixer(3, limit)
    out = [[0] * width for _ in range(height)]
    hits = [[5] * width for _ in range(height)]
    for y in range(height):
        for x in range(width):
            W = out[y][x - 1] if x > 0 else (out[y - 1][x] if y > 0 else 0)
            N = out[y - 1][x] if y > 0 else W
            NW = out[y - 1][x - 1] if y > 0 and x > 0 else N
            NE = out[y - 1][x + 1] if y > 0 and x + 1 < width else N
            WW = out[y][x - 2] if x > 1 else W
            NN = out[y - 2][x] if y > 1 else N
            NNE = out[y - 2][x + 1] if y > 1 and x + 1 < width else NE
            hW = hits[y][x - 1] if x > 0 else 5
            hN = hits[y - 1][x] if y > 0 else 5
            pattern = ((W == N) | (W == NW) << 1 | (N == NE) << 2 | (N == NW) << 3 | (W == WW) << 4
                       | (N == NN) << 5)
            act = min((activity[W][N] + activity[N][NE] + activity[W][NW]) >> 1, 7)
            w, n, nw = palette[W], palette[N], palette[NW]
            if model == 1:
                pred = nearest(palette, [min(max(w[c] + n[c] - nw[c], 0), 255)
                                         for c in range(channels)], s)
                origin = pred
            else:
                pred = nearest(palette, [min(max((3 * w[c] + 3 * n[c] - 2 * nw[c] + 2) >> 2, 0), 255)
                                         for c in range(channels)], s)
                origin = nearest(palette, [min(max(w[c] + n[c] - nw[c], min(w[c], n[c])),
                                               max(w[c], n[c])) for c in range(channels)], s)
            cands: list[int] = []
            for c in (W, N, pred, NE, NW, WW, NN):
                if c not in cands and len(cands) < 5:
                    cands.append(c)
            nc, value, hit = len(cands), None, 5
            for i, cand in enumerate(cands):
                base = 5 * i + nc - 1
                if model == 1:
                    slots = [(64 * base + pattern) * 8 + act, h(base, W, N, -1, -1),
                             h(base, cand, act, int(NE == NNE), -1), h(base, W, N, NW, NE)]
                else:
                    far = activity[cand][origin]
                    slots = [((64 * base + pattern) * 8 + act) * 4 + min(far >> 1, 3),
                             h(base, W, N, -1, -1), h(base, cand, act, int(NE == NNE), far),
                             h(base, W, N, NW, NE)]
                if flags.decide(coder, slots, 8 * base + act):
                    value, hit = cand, i
                    break
            if value is None:
                others = k - nc
                length = 0
                while True:
                    assert length <= others.bit_length() - 1, "corrupt"
                    spread = -1 if model == 1 else activity[pred][origin]
                    slots = [(8 * length + act) * 8 + nc, h(length, hW, hN, pattern, -1),
                             h(length, origin, spread, -1, -1)]
                    if escapes.decide(coder, slots, 8 * length + act):
                        break
                    length += 1
                number = 1
                for t in range(length - 1, -1, -1):
                    place = (18 * length + (length - 1 - t)) * 8 + min(number, 7)
                    slots = [4096 + 8 * place + act, h(4096 + place, pattern, -1, -1, -1),
                             h(4096 + place, origin, -1, -1, -1)]
                    number = 2 * number + escapes.decide(coder, slots, 324 + 18 * length
                                                         + (length - 1 - t))
                assert number <= others, "corrupt"
                value = [e for e in order[origin] if e not in cands][number - 1]
            out[y][x], hits[y][x] = value, hit
    assert coder.pos == len(data), "corrupt"
    return out


def striped(payload: bytes, height: int, width: int, stripe) -> list[list[int]]:
    """The rows of every stripe of ``payload``, each decoded by ``stripe(data, rows, width)``."""
    count = max(1, min(height, (width * height) >> 20))
    bounds = [(i * height // count, (i + 1) * height // count) for i in range(count)]
    lengths = [int.from_bytes(payload[4 * i:4 * i + 4], "little") for i in range(count - 1)]
    start, rows = 4 * (count - 1), []
    lengths.append(len(payload) - start - sum(lengths))
    for (top, bottom), length in zip(bounds, lengths):
        rows += stripe(payload[start:start + length], bottom - top, width)
        start += length
    return rows


def decode(payload: bytes, palette: list[list[int]], height: int, width: int,
           model: int = 2) -> list[list[int]]:
    return striped(payload, height, width,
                   lambda data, rows, cols: decode_stripe(data, palette, rows, cols, model))


# The bilevel codec (docs/FORMAT.md, "The bilevel codec"), also from the document alone.
TEMPLATE = [(-2, -2), (-1, -2), (0, -2), (1, -2), (2, -2), (-3, -1), (-2, -1), (-1, -1), (0, -1),
            (1, -1), (2, -1), (3, -1), (-4, 0), (-3, 0), (-2, 0), (-1, 0)]
CORE = [(-1, -2), (0, -2), (1, -2), (-2, -1), (-1, -1), (0, -1), (1, -1), (2, -1), (-2, 0), (-1, 0)]
OUTER = [(-1, -3), (0, -3), (1, -3), (-5, -1), (-4, -1), (4, -1), (5, -1), (-6, 0), (-5, 0),
         (-3, -2), (3, -2)]
WEIGHT_SET = [(-2, 0), (0, -2), (-3, 0), (-2, -1), (-1, -1), (0, -1), (1, -1), (-1, 0)]
LINE = ([(dx, -1) for dx in range(-12, 13)] + [(dx, 0) for dx in range(-14, 0)]
        + [(dx, -2) for dx in range(-6, 7)])
INDEX_LINE = ([(dx, -1) for dx in range(-6, 7)] + [(dx, 0) for dx in range(-9, 0)]
              + [(dx, -2) for dx in range(-6, 7)])
G, H = 0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F


def fold(v: int, value: int, scale: int) -> int:
    return (v * scale + value) & M64


def decode_bilevel_stripe(data: bytes, height: int, width: int) -> list[list[int]]:
    coder, mixer = Decoder(data), Mixer(4)
    out = [[0] * width for _ in range(height)]

    def number(x: int, y: int, places: list[tuple[int, int]]) -> int:
        v = 0
        for dx, dy in places:
            inside = 0 <= y + dy and 0 <= x + dx < width
            v = fold(v, out[y + dy][x + dx] if inside else 0, 2)
        return v

    for y in range(height):
        for x in range(width):
            template, outer = number(x, y, TEMPLATE), number(x, y, OUTER)
            wide = (((template + (outer << 16)) * G) & M64) >> 44
            line = (((number(x, y, LINE) * H) & M64) * G & M64) >> 44
            out[y][x] = mixer.decide(coder, [template, number(x, y, CORE), wide, line],
                                     number(x, y, WEIGHT_SET))
    assert coder.pos == len(data), "corrupt"
    return out


def decode_bilevel(payload: bytes, height: int, width: int) -> list[list[int]]:
    return striped(payload, height, width, decode_bilevel_stripe)


def decode_template_stripe(data: bytes, height: int, width: int, k: int) -> list[list[int]]:
    bits = (k - 1).bit_length()
    coder, mixer = Decoder(data), Mixer(4)
    out = [[0] * width for _ in range(height)]

    def b(x: int, y: int, dx: int, dy: int) -> int:
        return out[y + dy][x + dx] if 0 <= y + dy and 0 <= x + dx < width else 0

    def folded(x: int, y: int, places: list[tuple[int, int]], scale: int = 8) -> int:
        v = 0
        for dx, dy in places:
            v = fold(v, b(x, y, dx, dy), scale)
        return v

    for y in range(height):
        for x in range(width):
            t, c = folded(x, y, TEMPLATE), folded(x, y, CORE)
            line = folded(x, y, INDEX_LINE, 1000003)
            a = ((b(x, y, -1, 0) * 256 + b(x, y, 0, -1)) * 256 + b(x, y, -1, -1)) * 256 + b(x, y, 1, -1)
            prefix = 1
            for _ in range(bits):
                slots = [((((v * G) & M64) ^ ((prefix * H) & M64)) * G & M64) >> 44
                         for v in (t, c, a, line)]
                prefix = 2 * prefix + mixer.decide(coder, slots, prefix * 8 + min(b(x, y, -1, 0), 7))
            out[y][x] = prefix - (1 << bits)
            assert out[y][x] < k, "corrupt"
    assert coder.pos == len(data), "corrupt"
    return out


def decode_template(payload: bytes, height: int, width: int, k: int) -> list[list[int]]:
    return striped(payload, height, width,
                   lambda data, rows, cols: decode_template_stripe(data, rows, cols, k))
