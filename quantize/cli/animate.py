"""``quantize animate``: an animation (GIF, APNG, WebP, AVIF, video, folder or glob of frames) to
animated GIF, APNG, lossless WebP and multi-frame ``.qnt``, with palettes that stay put."""

from __future__ import annotations

from pathlib import Path

import click

from ..animation.choices import DEFAULT_FORMATS, DITHERS, FORMATS, GIF_TABLE, PALETTE_MODES
from .options import (PATH, NamedPath, echo, fit_options, given, make_fit_options, note,
                      resample_options, space_option)
from .sweep import target_options

#: A byte budget that leaves fewer colours than this says how to leave more.
FEW_COLOURS = 16


def _one_clip(ctx: click.Context, param: click.Parameter, inputs: tuple[Path, ...]) -> Path:
    """The one INPUT: several, a glob the shell expanded (its order is not the frames' natural
    one), are refused as such before a missing -o."""
    if len(inputs) > 1:
        raise click.UsageError(f"one INPUT, got {len(inputs)} ({inputs[0]}, {inputs[1]}, ...): "
                               f"quote a glob, such as {_quoted_glob(inputs)}, for quantize to "
                               f"read its files in natural order (f2 before f10), or give their "
                               f"folder")
    return inputs[0]


@click.command()
@click.argument("input", nargs=-1, required=True, type=PATH, metavar="INPUT", callback=_one_clip)
@click.option("-o", "--output", "out_dir", type=NamedPath(readable=False), required=True,
              help="Output folder; or, named as an animation file is (out.gif, out.apng, "
                   "out.webp, out.qnt), that one file alone.")  # a string: out.gif/ is a folder
@click.option("--format", "formats", default=",".join(DEFAULT_FORMATS), show_default=True,
              metavar="LIST", help=f"Output formats, comma-separated: {', '.join(FORMATS)} "
                                   f"(png is APNG); each written as <stem>.anim.<ext>.")
@fit_options(max_k=GIF_TABLE)
@click.option("--palette-mode", type=click.Choice(PALETTE_MODES), default="auto", show_default=True,
              help="One palette for the clip (global), one per frame, or auto: one per scene where "
                   "the clip's palette does not serve it, and where only part of the picture "
                   "moves a table a frame for what it changes (docs/ANIMATION.md).")
@click.option("--dither", type=click.Choice(DITHERS), default="none", show_default=True,
              help="A dither that does not crawl: Bayer 8x8 (ordered) or blue-noise thresholds, or "
                   "pattern (Knoll's mix of palette colours, slower).")
@click.option("--dither-strength", type=float, default=1.0, show_default=True,
              help="Share of the threshold spread (or of the error a pattern mixes away), 0 to 1.")
@space_option
@click.option("--max-bytes", metavar="N", default=None,
              help="Pick the largest K (up to -k) whose first --format file fits in N bytes "
                   "(150000, 150k, 1.5M).")
@target_options(psnr="clip PSNR (of the mean squared error over the frames)")
@click.option("--duration", type=int, default=None, metavar="MS",
              help="For a folder or glob of stills: each frame's duration, 50 for 20 fps "
                   "(gifski's --fps 20; --fps only drops frames).  [default: 100]")
@resample_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the report.")
@click.option("-f", "--force", is_flag=True, help="Replace existing outputs.")
@click.option("--allow-huge", is_flag=True, help="Lift the decompression-bomb guard.")
@click.option("-q", "--quiet", is_flag=True,
              help="No notes on stderr (the first run's note that it compiles the kernels).")
def animate(input, out_dir, formats, k, n_init, max_iter, tol, seed, sample, palette_mode, dither,
            dither_strength, space, max_bytes, target_psnr, target_delta_e, duration, width,
            height, fps, plays, as_json, force, allow_huge, quiet):
    """Quantise every frame of INPUT to K colours (at most 256) and write it as an animation.

    Pixels whose source does not change keep their colour (no flicker); repeated frames merge.
    --width, --height and --fps make the clip smaller or slower first; PSNR and CIEDE2000 are
    measured against the frames so made.
    With --target-psnr or --target-delta-e, K is the smallest from 1 to -k whose clip PSNR (of the
    mean squared error over the frames) or mean CIEDE2000 meets the target. Outputs are written
    all or nothing; the report gives frames, mean PSNR, CIEDE2000, flicker and bytes per format."""
    import json
    from dataclasses import replace

    from ..animation.run import AnimationOptions, animate_file
    from ..io.images import DEFAULT_MAX_PIXELS
    from ..jobs.sweep import parse_size
    from ..jobs.sweep_model import Target
    from ..render.report import format_clip_report, plural

    if sample is not None:
        raise click.UsageError("--sample does not apply to animations (every colour is counted)")
    if dither == "none" and given("dither_strength"):
        raise click.UsageError("--dither-strength applies to a dither: give --dither too")
    target = Target(psnr=target_psnr, delta_e=target_delta_e)
    if target and max_bytes is not None:
        raise click.UsageError("--max-bytes and a quality target each choose K: give one")
    fit = make_fit_options(k, n_init, max_iter, tol, seed, None)
    fit = replace(fit, space=space) if space else fit
    names = tuple(name.strip().lower() for name in formats.split(",") if name.strip())
    out_dir, out_file, names = _named_file(out_dir, names)
    options = AnimationOptions(fit=fit, palette_mode=palette_mode, dither=dither,
                               dither_strength=dither_strength, formats=names)
    result = animate_file(input, out_dir, options, duration=duration, force=force,
                          max_pixels=None if allow_huge else DEFAULT_MAX_PIXELS,
                          max_bytes=None if max_bytes is None else parse_size(max_bytes),
                          target=target or None, width=width, height=height, fps=fps,
                          plays=plays, out_file=out_file)
    for text in result.notes:
        note(text)
    if result.budget is not None and result.k < FEW_COLOURS:
        note(f"{result.budget.max_bytes:,} B leaves {plural(result.k, 'colour')} to each of "
             f"{plural(result.n_frames, 'frame')} of {result.width}x{result.height} "
             f"({result.mean_psnr:.1f} dB): --width or --fps leaves more colours to each")
    if as_json:
        echo(json.dumps(result.to_dict()))
        return
    echo(format_clip_report(result))


def _quoted_glob(inputs: tuple) -> str:
    """The quoted glob that names ``inputs`` when they share a folder and an extension (as the
    shell expanded it, 'shots/*.png'), else an example."""
    from ..io.files import display_name

    folders, suffixes = {Path(p).parent for p in inputs}, {Path(p).suffix for p in inputs}
    if len(folders) != 1 or len(suffixes) != 1:
        return "'frames/*.png'"
    return f"'{display_name(Path(*folders) / ('*' + suffixes.pop()))}'"


def _named_file(out_dir: str, formats: tuple[str, ...]) -> tuple[str | None, str | None,
                                                                   tuple[str, ...]]:
    """(folder, file, formats) of ``-o``: a path that is no folder and ends as an animation file
    does (out.gif, as gifski and ffmpeg take it; .apng for an APNG) names that one file, and alone
    it asks for that format; ``out.gif/`` says it is a folder."""
    import os
    from pathlib import Path

    from ..animation.choices import named_format
    from ..animation.source import VIDEO_SUFFIXES
    from ..io.files import is_folder
    from .options import check_folder_option, check_named_file

    path = Path(out_dir)
    named = named_format(path.name)
    if named is None or is_folder(path) or str(out_dir).endswith(("/", os.sep)):
        if named is None:
            check_folder_option(out_dir, "animate writes GIF, APNG, WebP and .qnt files",
                                also=tuple(VIDEO_SUFFIXES),
                                takes="a folder or one animation file (out.gif, out.apng, "
                                      "out.webp, out.qnt)")
        return out_dir, None, formats
    check_named_file(out_dir, named, formats)
    return None, out_dir, (named,)