"""The chart: PSNR and dE2000 against a file's real bits per pixel, and an error (WCSS, or a clip's
mean MSE) against K with the elbow marked.

Drawn with Pillow at twice the size and scaled down, which smooths the lines (Pillow does not
antialias them). Values come from a :class:`RateCurve`; :func:`chart` makes one from a still's sweep.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Sequence

from PIL import Image as PILImage
from PIL import ImageDraw

from ..io.files import display_name
from ..jobs.sweep_model import SweepRun, codecs_used
from .style import BLUE, GREEN, GRID, INK, MUTED, ORANGE, RED, font

WIDTH, HEIGHT, S = 1200, 480, 2  # final size; drawing scale
PLOT_TOP, PLOT_BOTTOM = 50, 390  # the panels' frames; tick labels and the axis label go below
CAPTION_BASELINE = PLOT_BOTTOM + 76  # clear of the axis label's descenders (it ends near +45)


def ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    """About ``n`` round tick values (steps of 1, 2 or 5 x 10^e) covering [lo, hi]."""
    if hi <= lo:
        lo, hi = lo - max(1.0, abs(lo) * 0.1), hi + max(1.0, abs(hi) * 0.1)
    raw = (hi - lo) / n
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    first, last = math.floor(lo / step), math.ceil(hi / step)
    return [i * step for i in range(first, last + 1)]


def short(v: float) -> str:
    """A compact number: 0.5, 12, 3.4k, 120M."""
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= limit:
            return f"{v / limit:.3g}{suffix}"
    return f"{v:.3g}"


@dataclass
class Panel:
    """A plotting box (final pixel units) with data ranges; draws on a canvas S times larger."""

    draw: ImageDraw.ImageDraw
    box: tuple[int, int, int, int]
    x_range: tuple[float, float]
    x_ticks: list[float]
    y_ticks: list[float]  # their ends are the y range

    def at(self, x: float, y: float, y_ticks: Sequence[float] | None = None) -> tuple[float, float]:
        left, top, right, bottom = self.box
        ys = y_ticks or self.y_ticks
        fx = (x - self.x_range[0]) / (self.x_range[1] - self.x_range[0])
        fy = (y - ys[0]) / (ys[-1] - ys[0])
        return S * (left + fx * (right - left)), S * (bottom - fy * (bottom - top))

    def frame(self, title: str, x_label: str, x_names: Sequence[str] | None = None) -> None:
        left, top, right, bottom = self.box
        for y in self.y_ticks:
            _, py = self.at(self.x_range[0], y)
            self.draw.line([(S * left, py), (S * right, py)], fill=GRID, width=S)
        self.draw.rectangle([S * left, S * top, S * right, S * bottom], outline=MUTED, width=S)
        for x, name in zip(self.x_ticks, x_names or [short(x) for x in self.x_ticks]):
            px, _ = self.at(x, self.y_ticks[0])
            self.draw.line([(px, S * bottom), (px, S * (bottom + 5))], fill=MUTED, width=S)
            self.draw.text((px, S * (bottom + 8)), name, font=font(12 * S), fill=INK, anchor="mt")
        self.draw.text((S * (left + right) / 2, S * (bottom + 30)), x_label, font=font(13 * S),
                       fill=INK, anchor="mt")
        self.draw.text((S * left, S * (top - 12)), title, font=font(15 * S), fill=INK, anchor="ls")

    def y_axis(self, label: str, colour: tuple[int, int, int], ticks_: Sequence[float],
               right: bool = False) -> None:
        left, top, right_edge, bottom = self.box
        edge = right_edge if right else left
        for y in ticks_:
            _, py = self.at(self.x_range[0], y, ticks_)
            self.draw.text((S * (edge + (6 if right else -6)), py), short(y), font=font(12 * S),
                           fill=colour, anchor="lm" if right else "rm")
        self.draw.text((S * (edge + (6 if right else -6)), S * (top - 12)), label,
                       font=font(12 * S), fill=colour, anchor="ls" if right else "rs")

    def series(self, xs: Sequence[float], ys: Sequence[float], colour: tuple[int, int, int],
               ticks_: Sequence[float] | None = None, square: bool = False) -> None:
        points = [self.at(x, y, ticks_) for x, y in zip(xs, ys)]
        if len(points) > 1:
            self.draw.line(points, fill=colour, width=2 * S, joint="curve")
        r = 4 * S
        for px, py in points:
            shape = self.draw.rectangle if square else self.draw.ellipse
            shape([px - r, py - r, px + r, py + r], fill=colour)


def _span(values: Sequence[float]) -> list[float]:
    return ticks(min(values), max(values)) if values else ticks(0, 1)


def _padded(values: Sequence[float]) -> tuple[float, float]:
    """The range of ``values`` with half a unit of room on each side (markers clear the frame)."""
    return min(values) - 0.5, max(values) + 0.5


@dataclass(frozen=True)
class RateCurve:
    """What the chart draws, one value per K (in increasing K): the file's bits per pixel, PSNR
    (None: lossless) and dE2000 on the left; an error that falls with K, and its elbow, on the
    right."""

    ks: Sequence[int]
    bits: Sequence[float]
    psnr: Sequence[float | None]
    delta_e: Sequence[float]
    error: Sequence[float]
    elbow: int | None
    bits_label: str  # the left panel's x axis: which file's bits
    error_label: str  # the right panel's y axis
    caption: str


def chart(run: SweepRun) -> bytes:
    """The two-panel chart of a still's sweep as a PNG: the .qnt file's rate and WCSS."""
    data = [p.to_dict() for p in run.points]
    name = display_name(run.image.source.name) if run.image.source else "image"
    return draw_chart(RateCurve(
        ks=[d["k"] for d in data], bits=[d["packed_file_bits_per_pixel"] for d in data],
        psnr=[d["psnr"] for d in data], delta_e=[d["delta_e"] for d in data],
        error=[d["inertia"] for d in data], elbow=run.elbow.k,
        bits_label="bits per pixel of the .qnt file (8 x bytes / pixels)", error_label="WCSS",
        caption=f"{name}: {run.image.width}x{run.image.height}, packed with {codecs_used(data)}"))


def draw_chart(curve: RateCurve) -> bytes:
    """Quality against rate (left) and the error against K with the elbow marked (right), as a
    PNG."""
    canvas = PILImage.new("RGB", (WIDTH * S, HEIGHT * S), "white")
    draw = ImageDraw.Draw(canvas)

    bits = list(curve.bits)
    rated = [(b, q) for b, q in zip(bits, curve.psnr) if q is not None]
    room = 0.05 * (max(bits) - min(bits) or 1)
    x_range = min(bits) - room, max(bits) + room
    left = Panel(draw, (70, PLOT_TOP, 540, PLOT_BOTTOM), x_range,
                 [x for x in _span(bits) if x_range[0] <= x <= x_range[1]],  # none past the frame
                 _span([q for _, q in rated]))
    de_ticks = _span(curve.delta_e)
    left.frame("Quality against rate", curve.bits_label)
    left.y_axis("PSNR (dB)", BLUE, left.y_ticks)
    left.y_axis("dE2000", ORANGE, de_ticks, right=True)
    left.series([b for b, _ in rated], [q for _, q in rated], BLUE)
    left.series(bits, curve.delta_e, ORANGE, de_ticks, square=True)

    logs = [math.log2(k) for k in curve.ks]
    shown = logs[::-(-len(logs) // 10)]  # at most 10 labelled K
    right = Panel(draw, (690, PLOT_TOP, 1160, PLOT_BOTTOM), _padded(logs), shown,
                  _span(curve.error))
    right.frame(f"{curve.error_label} against K (log scale)", "K (palette size)",
                [f"{2 ** x:.0f}" for x in right.x_ticks])
    right.y_axis(curve.error_label, GREEN, right.y_ticks)
    right.series(logs, curve.error, GREEN)
    if curve.elbow is not None:
        at = list(curve.ks).index(curve.elbow)
        px, py = right.at(logs[at], curve.error[at])
        r = 9 * S
        draw.ellipse([px - r, py - r, px + r, py + r], outline=RED, width=2 * S)
        draw.text((px + r + 4 * S, py - r), f"elbow K={curve.elbow}", font=font(13 * S), fill=RED,
                  anchor="lb")
    draw.text((S * 70, S * CAPTION_BASELINE), curve.caption, font=font(12 * S), fill=MUTED,
              anchor="ls")

    buf = io.BytesIO()
    canvas.resize((WIDTH, HEIGHT), PILImage.Resampling.LANCZOS).save(buf, "PNG", compress_level=6)
    return buf.getvalue()
