"""Rendering a :class:`~quantize.jobs.pipeline.Result` for people (a short table) and machines
(JSON), and an :class:`~quantize.animation.run.AnimationResult` for people."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..animation.run import AnimationResult
    from ..jobs.pipeline import Result


def _bytes(n: int | None) -> str:
    return "-" if n is None else f"{n:,} B"


def _num(x: float, digits: int = 2) -> str:
    return "inf" if not math.isfinite(x) else f"{x:,.{digits}f}"


def plural(n: int, word: str) -> str:
    """``n`` and ``word``, with an s unless ``n`` is 1."""
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def format_report(result: Result, picked_by: str | None = None) -> str:
    """The human report of one compression, a few aligned lines; ``picked_by`` names the search
    that chose K (``"target"``, ``"budget"``), where one did."""
    from ..io.images import used_part

    r = result.to_dict()
    name = r["input"] or "<array>"
    bits = r["bits_per_pixel"]
    idle = int((result.usage() == 0).sum())  # entries kept that no pixel shows
    given = (f"{r['k']:,} fixed colour{'s' * (r['k'] != 1)} given" if r["fixed_palette"]
             else f"K {r['k']:,} picked by the {picked_by}" if picked_by else f"K {r['k']:,} asked")
    asked = f"{given}, {r['k_used'] - idle:,} used"
    if idle:
        asked += f" ({idle:,} more kept: {'stable indices' if r['fixed_palette'] else 'locked'})"
    how = "mapped" if r["fixed_palette"] else "fitted"
    # an image of at most K colours keeps them all: nothing was fitted, whatever the space
    kept = not r["fixed_palette"] and result.mse == 0
    ratio = (f"classic ratio {_num(result.ratio)}x = {8 * result.raw_channels}/{bits}" if bits
             else "no index bits: one colour")
    lines = [
        f"{name}: {r['width']}x{r['height']}, {plural(r['distinct_colors'], 'distinct colour')}"
        + (f", {_bytes(r['input_bytes'])} on disk" if r["input_bytes"] else "")
        + (f" ({part})" if (part := used_part(r["notes"])) else ""),
        f"  palette   {asked} -> {plural(bits, 'bit')} per pixel"
        + (" (every colour kept, none fitted)" if kept else f" ({how} in {r['space']}"
           + (f", {r['dither']} dither)" if r["dither"] != "none" else ")")),
        f"  size      raw {_bytes(r['raw_bytes'])} -> packed {_bytes(r['packed_bytes'])} ({ratio})",
    ]
    for fmt, file in r["files"].items():
        if file["path"] is None:
            continue
        how = f" ({r['codec']})" if fmt == "qnt" else ""
        vs_input = f", {_num(file['ratio_vs_input'])}x vs input" if file["ratio_vs_input"] else ""
        lines.append(f"  file      {file['path']}: {_bytes(file['bytes'])}{how}, "
                     f"{_num(file['bits_per_pixel'], 3)} bits/pixel, "
                     f"{_num(file['ratio_vs_raw'] or math.inf)}x vs raw{vs_input}")
    lines.append(f"  quality   MSE {_num(result.mse)}  PSNR {_num(result.psnr)} dB  "
                 f"dE2000 {_num(result.delta_e)}  WCSS {result.inertia:.4g}  "
                 f"({plural(r['n_iter'], 'iteration')})")
    lines.append("  seconds   " + "  ".join(f"{k} {v:.3f}" for k, v in result.seconds.items()))
    return "\n".join(lines)


def format_json(result: Result | list[Result]) -> str:
    """One JSON object (or a list of them) with the keys of :meth:`Result.to_dict`."""
    data = [r.to_dict() for r in result] if isinstance(result, list) else result.to_dict()
    return json.dumps(data, indent=2, allow_nan=False)


def format_clip_report(result: AnimationResult) -> str:
    """The human report of one animation: frames, K's pick, quality, files, time."""
    plays = "for ever" if result.plays == 0 else plural(result.plays, "time")
    size, frames = f"{result.width}x{result.height}", f"{plural(result.n_frames, 'frame')} read"
    origin = result.origin
    if origin is not None:
        if (origin.width, origin.height) != (result.width, result.height):
            size = f"{origin.width}x{origin.height} scaled to {size}"
        rate = origin.source_fps
        if origin.fps is not None and origin.frames == result.n_frames and rate is not None \
                and rate <= origin.fps:  # none dropped: the clip is slower than asked
            frames = f"{frames} at {rate:g} fps, under the {origin.fps:g} fps asked"
        elif origin.fps is not None:
            frames = (f"{plural(origin.frames, 'frame')} read, {result.n_frames:,} at "
                      f"{origin.fps:g} fps")
        elif origin.paced_fps and origin.frames != result.n_frames:  # too short to be timed
            frames = (f"{plural(origin.frames, 'frame')} read, {result.n_frames:,} at "
                      f"{origin.paced_for} {origin.paced_fps:.3g} fps at most")
    lines = [f"{result.name}: {size}, {frames}, {len(result.durations):,} written "
             f"({sum(result.durations) / 1000:.2f} s, plays {plays}), "
             f"{plural(result.n_palettes, 'palette')}"]
    lines += [f"  K={result.k}: {chosen.pick.reason}"
              for chosen in (result.budget, result.search) if chosen is not None]
    lines.append(f"  quality   mean PSNR {result.mean_psnr:.2f} dB (min {min(result.psnr):.2f}, "
                 f"of the mean error {result.clip_psnr:.2f})  "
                 f"dE2000 {result.mean_delta_e:.2f}  flicker {result.flicker:.3f}")
    lines += [f"  {name:9} {path}: {_bytes(len(result.outputs[name]))}"
              for name, path in result.paths.items()]
    lines.append(f"  seconds   {result.seconds:.2f}")
    return "\n".join(lines)
