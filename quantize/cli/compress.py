"""``quantize compress``, ``decode`` and ``info``: one image to a packed-index file and back."""

from __future__ import annotations

import os
from pathlib import Path

import click

from .options import (CODEC_HELP, CODECS, DEFAULT_CODEC, FIRMWARE_ENDINGS, FORMAT_NAMES,
                      ONE_INPUT, PATH, NamedPath, check_dither, check_folder_option,
                      check_format_options, check_panel_layout, dither_options, echo,
                      encoder_options, file_options, fit_options, layout_options,
                      make_fit_options, note, one_input, space_option)
from .palette import (FORMAT_HELP, exported_sizes, fixed_palette, locked_fit, locked_palette,
                      make_export, palette_options, written_notes)
from .sweep import progress_bar, target_options

# decode and info print no note of their own: -q silences the first run's compile note (cli.main)
QUIET_HELP = "No notes on stderr (the first run's note that it compiles the kernels)."
INFO_COLORS = 64  # palette entries info prints on its line; --json has them all


@click.command()
@click.argument("input", **ONE_INPUT)
@click.option("-o", "--output", "out_dir", type=NamedPath(readable=False), default=None,
              help="Output folder (default: beside the input); or, named as one format's files "
                   "end (small.png, logo.h), that one file: -o small.png writes the PNG alone.")
@fit_options
@target_options
@space_option
@click.option("--bits", "bits_text", metavar="R,G,B|N", default=None,
              help="Fit the palette on a display's lattice: bits of red, green, blue (5,6,5; 4,4,4; "
                   "3,3,2) or N for N-bit grey; entries widened to 8 bits by bit replication. Fits in rgb "
                   "unless --space is given; without -k, K is at most the lattice's colours.")
@dither_options
@click.option("--codec", type=click.Choice(CODECS), default=DEFAULT_CODEC, show_default=True,
              help=CODEC_HELP)
@click.option("--palette", "palette_file", type=PATH, default=None,
              help="Map to the colours of this palette file (gpl, ase, aco, act, json, hex, css, "
                   "image, .qnt, ...) or built-in palette (quantize palette --list) instead of "
                   "fitting; -k and the fit options are ignored. Every entry is kept, in order.")
@click.option("--panel-colors", "panel_file", type=PATH, default=None,
              help="With --palette: the colours the display really shows for its entries (a palette "
                   "file, same count and order); pixels are mapped to these, the --palette is written.")
@click.option("--drop-unused", is_flag=True,
              help="With --palette: leave out the entries no pixel uses (indices are renumbered; "
                   "not with --raw-rows pages or planes).")
@click.option("--lock", "lock_file", type=PATH, default=None,
              help="Keep the L colours of this palette file exactly; fit the other K - L around them.")
@click.option("--export-palette", metavar="LIST",
              help=f"Also write the palette, beside the packed file, in these formats, {FORMAT_HELP}.")
@palette_options("none, the order of the indices written")
@click.option("--format", "formats", metavar="LIST", default=None,
              help=f"Files to write, comma-separated, from {FORMAT_NAMES} [default: qnt,png]: the "
                   "packed file, PNG/WebP/GIF images (<stem>.preview.*), a C header, raw packed "
                   "indices, RGB565 pixels. All hold the same pixels (RGB565 to 5-6-5 bits).")
@click.option("--max-bytes", metavar="N", default=None,
              help="Pick the largest K (up to -k) whose first --format file fits in N bytes "
                   "(150000, 150k, 1.5M).")
@encoder_options
@layout_options
@click.option("--no-preview", is_flag=True, help="Do not write the PNG (the same as leaving png out "
                                                  "of --format).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the report.")
@click.option("-f", "--force", is_flag=True, help="Replace existing outputs.")
@click.option("--allow-huge", is_flag=True,
              help="Lift the decompression-bomb guard (images over ~89 megapixels).")
@click.option("-q", "--quiet", is_flag=True, help="No notes on stderr.")
def compress(input, out_dir, k, n_init, max_iter, tol, seed, sample, target_psnr, target_delta_e,
             space, bits_text, dither, dither_strength, rdo, codec, palette_file, panel_file, drop_unused,
             lock_file, export_palette, sort, names, swatch_names, truncate, keep_transparent, formats,
             max_bytes, png_effort, webp_method, raw_bit_order, raw_rows, rgb565_endian, rotate, no_preview,
             as_json, force, allow_huge, quiet):
    """Quantise INPUT to K colours; write <stem>.qnt and <stem>.preview.png (or the one file -o
    names, such as small.png); print the report.

    With --target-psnr or --target-delta-e, K is the smallest from 1 to -k that meets the target.
    With --palette FILE the pixels are mapped to that palette, nothing is fitted; --export-palette also
    writes the palette for design tools, all or nothing with the packed file."""
    from dataclasses import replace

    from ..jobs.pipeline import CompressOptions, compress_file
    from ..render.report import format_json, format_report

    from ..choices import FORMATS
    from ..io.files import printable
    from ..io.outputs import output_path, output_paths, parse_formats

    input = one_input("compress", input)
    formats = parse_formats(formats)
    slash = out_dir is not None and out_dir.endswith(("/", os.sep))  # a folder, whatever its name
    out_dir, out_file, formats = _named_file(None if out_dir is None else Path(out_dir), formats,
                                             slash)
    files = file_options(png_effort, webp_method, raw_bit_order, raw_rows, rgb565_endian,
                         rotate)
    if no_preview:
        formats = tuple(f for f in formats if f != "png")
        if not formats:
            raise click.UsageError("--no-preview leaves nothing to write of --format png")
    planned = ", ".join(path.name for path in output_paths(input, None, formats).values())
    endings = [output_path(Path("x"), None, fmt).suffix for fmt in FORMATS]
    writes = f"compress names its files after the input ({planned})"
    if out_dir is not None and out_dir.suffix.lower() in FIRMWARE_ENDINGS:
        stem = printable(out_dir.stem, line=True)
        writes += f"; for firmware, -o {stem}.h writes the C header, -o {stem}.raw the raw buffer"
    check_folder_option(None if slash else out_dir, writes,
                        takes=f"a folder or one file ending {', '.join(endings[:-1])} or "
                              f"{endings[-1]}",
                        export_palette=True)
    check_format_options(formats)
    target = None
    if target_psnr is not None or target_delta_e is not None:  # (a plain compress skips sweep)
        from ..jobs.sweep import Target

        target = Target(psnr=target_psnr, delta_e=target_delta_e)
    if max_bytes is not None:
        from ..jobs.sweep import parse_size

        if target:
            raise click.UsageError("--max-bytes and a quality target each choose K: give one")
        target = parse_size(max_bytes)
    # palette formats are loaded only when asked for (a plain compress is spared their imports)
    # the export keeps the order of the indices written, which the .h, .raw and .qnt hold
    export = (make_export(export_palette, sort or "none", names, swatch_names, truncate,
                          keep_transparent) if export_palette else None)
    if export is None and (sort or names or swatch_names or truncate or keep_transparent):
        raise click.UsageError("--sort, --names, --swatch-names, --truncate and --keep-transparent "
                               "apply to --export-palette")
    if target and (palette_file or lock_file or export):
        raise click.UsageError("--palette, --lock and --export-palette cannot be combined with a "
                               "target or --max-bytes")
    if palette_file and lock_file:
        raise click.UsageError("--palette fixes every colour: it cannot be combined with --lock")
    check_dither(dither)
    if (panel_file or drop_unused) and not palette_file:
        raise click.UsageError("--panel-colors and --drop-unused apply to --palette")
    given = fixed_palette(palette_file, quiet) if palette_file else None
    fixed = None if given is None else given.colors
    locked = locked_palette(lock_file, quiet) if lock_file else None
    named = given if given is not None else locked
    if export is not None and named is not None:  # its entries keep the file's names
        export = replace(export, named=named)
    bits = None
    if bits_text is not None:
        from ..core.lattice import lattice_size, parse_bits

        bits = parse_bits(bits_text)
        # a grey N (one entry) is N bits in each channel: zip keeps the first three
        if "rgb565" in formats and any(b > most for b, most in zip(bits * 3, (5, 6, 5))):
            raise click.UsageError(f"--bits {bits_text} is finer than --format rgb565 holds (5,6,5 "
                                   "bits): give at most 5,6,5 (5 for grey), or leave rgb565 out")
        if click.get_current_context().get_parameter_source("k").name == "DEFAULT":
            k = min(k, lattice_size(bits))  # --bits 4 alone: its 16 greys, not the default 256
    check_panel_layout(raw_rows, fixed, "--palette")
    from ..io.exports import PANEL_LAYOUTS

    if raw_rows in PANEL_LAYOUTS and drop_unused:  # one colour left would take index 0, black
        raise click.UsageError(f"--drop-unused renumbers the palette's codes: it cannot be "
                               f"combined with --raw-rows {raw_rows}, which writes the panel's")
    panel = None
    if panel_file:
        from ..io.palettes import read_palette

        panel = read_palette(panel_file).colors
    fit = make_fit_options(k if fixed is None else len(fixed), n_init, max_iter, tol, seed, sample)
    fit = locked_fit(fit, locked) if locked is not None else fit
    fit = replace(fit, space=space) if space else fit
    if bits is not None:
        # in rgb every step of the constrained fit lowers the error PSNR measures (docs/QUALITY.md)
        fit = replace(fit, bits=bits, space=space or "rgb")
    options = CompressOptions(fit=fit, palette=fixed, panel=panel, drop_unused=drop_unused,
                              codec=codec, dither=dither, dither_strength=dither_strength,
                              rdo=rdo).validated()
    if target:
        from ..jobs.sweep import compress_searched, probe_budget

        with progress_bar(probe_budget(k), quiet) as progress:
            result, search = compress_searched(input, out_dir, target, options=options,
                                               formats=formats, files=files, force=force,
                                               allow_huge=allow_huge, progress=progress,
                                               out_file=out_file)
            if progress:
                progress.end(search.k)
        picked_by = "target" if max_bytes is None else "budget"
        note(search.pick.line(picked_by), quiet)
    else:
        picked_by = None
        result = compress_file(input, out_dir, options=options, formats=formats,
                               files=files, force=force, allow_huge=allow_huge, export=export,
                               out_file=out_file)
    written = exported_sizes(input, out_dir, export if not target else None, out_file)
    for note_text in (*result.notes, *written_notes(result, written, export)):
        note(note_text, quiet)
    if bits is not None:
        from ..io.exports import lattice_code_note

        for note_text in lattice_code_note(formats, result.palette, bits):
            note(note_text, quiet)
    if result.notes:  # a file of many frames has its note "used frame 1 of N"; a still mostly none
        from ..animation.source import is_animation, refusal
        from ..io.images import DEFAULT_MAX_PIXELS

        if is_animation(input):
            # the file's structure, walked without decoding, says whether animate will read it
            refused = refusal(input, None if allow_huge else DEFAULT_MAX_PIXELS)
            note(f"{refused}: quantize animate refuses the file; its first frame is written"
                 if refused else
                 "quantize animate writes every frame (GIF, APNG, WebP, multi-frame .qnt)", quiet)
    echo(format_json(result) if as_json else format_report(result, picked_by))


def _named_file(out_dir: Path | None, formats: tuple[str, ...],
                slash: bool = False) -> tuple[Path | None, Path | None, tuple[str, ...]]:
    """(folder, file, formats) of ``-o``: a path that is no folder, was not given ending in a
    ``slash``, and ends as one format's files do names that one file (as pngquant's and cwebp's
    -o do), and alone it asks for that format."""
    from ..io.files import is_folder
    from ..io.outputs import format_named_by
    from .options import check_named_file

    named = None if out_dir is None or slash or is_folder(out_dir) else format_named_by(out_dir)
    if named is None:
        return out_dir, None, formats
    check_named_file(out_dir, named, formats)
    return None, out_dir, (named,)


def _one_packed(ctx: click.Context, param: click.Parameter, packed: tuple[Path, ...]) -> Path:
    """The one PACKED file: several (a shell's ``*.qnt``) are refused as such before a missing -o."""
    return one_input("decode", packed, "decode each with its own -o", what="PACKED file")


@click.command()
@click.argument("packed", **dict(ONE_INPUT, metavar="PACKED", callback=_one_packed))
@click.option("-o", "--output", type=PATH, required=True,
              help="Image to write, lossless: PNG, GIF (K up to 256), TIFF, WebP or BMP, by its "
                   "extension (JPEG is refused: it would not keep the quantised pixels); a "
                   "multi-frame .qnt's: GIF, PNG (APNG) or WebP. Missing folders are created.")
@click.option("-f", "--force", is_flag=True, help="Replace an existing output.")
@click.option("-q", "--quiet", is_flag=True, help=QUIET_HELP)
def decode(packed, output, force, quiet):
    """Turn a packed-index file back into an image (exactly the quantised pixels); a multi-frame
    .qnt (from animate) into an animated GIF, PNG (APNG) or WebP, by the output's extension."""
    from ..animation.qntanim import is_animation_file
    from ..io.container import load
    from ..io.files import (check_target, check_writable, display_name, is_folder, output_folder,
                            write_bytes)
    from ..io.formats import encode_gif, encode_png, encode_webp
    from ..io.images import check_lossless, save_indexed

    if is_folder(output):  # compress's -o is a folder; decode's names the image
        raise click.UsageError(f"-o {display_name(output)} is a folder: decode writes one image, "
                               f"name it, such as {display_name(output / packed.stem)}.png")
    if is_animation_file(packed):
        _unpack(packed, output, force)
        return
    gif = output.suffix.lower() == ".gif"
    check_lossless(output, also=(".gif",))
    check_writable(output.parent, file=output)
    check_target(output, force=force, protect=(packed,))
    image = load(packed)
    with output_folder(output.parent):
        if output.suffix.lower() == ".png":  # the PNG compress writes of these pixels
            written = write_bytes(output, encode_png(image.palette, image.indices), force=force,
                                  protect=(packed,))
        elif gif:  # refused past 256 colours or with partial alpha, before anything is written
            written = write_bytes(output, encode_gif(image.palette, image.indices), force=force,
                                  protect=(packed,))
        elif output.suffix.lower() == ".webp":  # as --format webp writes it, its limits checked
            written = write_bytes(output, encode_webp(image.palette, image.indices), force=force,
                                  protect=(packed,))
        else:
            written = save_indexed(output, image.palette, image.indices, force=force,
                                   protect=(packed,))
    k = image.header.k
    echo(f"{output}: {image.header.width}x{image.header.height}, "
         f"{k} colour{'' if k == 1 else 's'}, {written:,} bytes")


def _unpack(packed: Path, output: Path, force: bool) -> None:
    """``decode`` of a multi-frame .qnt: every frame, exactly, as an animation."""
    from ..animation.choices import UNPACKED
    from ..animation.qntanim import load_animation
    from ..animation.run import unpack
    from ..io.files import check_target, check_writable, output_folder, write_bytes

    fmt = UNPACKED.get(output.suffix.lower())
    if fmt is None:
        raise click.UsageError(f"a multi-frame .qnt decodes to an animation: "
                               f"{', '.join(UNPACKED)}, not '{output.suffix or output.name}'")
    check_writable(output.parent, file=output)
    check_target(output, force=force, protect=(packed,))
    animation = load_animation(packed)
    data = unpack(animation, fmt)
    with output_folder(output.parent):
        written = write_bytes(output, data, force=force, protect=(packed,))
    echo(f"{output}: {animation.width}x{animation.height}, {len(animation.durations)} frames "
         f"({sum(animation.durations) / 1000:.2f} s), {written:,} bytes")


@click.command()
@click.argument("packed", type=PATH, nargs=-1, required=True, metavar="PACKED...")
@click.option("--json", "as_json", is_flag=True,
              help="Print the header as JSON (several files: a list of them).")
@click.option("-q", "--quiet", is_flag=True, help=QUIET_HELP)
def info(packed, as_json, quiet):
    """Show each packed-index file's header and palette (every file is fully validated first); a
    multi-frame .qnt's size, frames, durations and codecs."""
    import json

    headers = [_header(path) for path in packed]
    if as_json:
        echo(json.dumps(headers[0] if len(headers) == 1 else headers, indent=2))
        return
    for number, data in enumerate(headers):
        if number:
            echo()
        for key, value in data.items():
            if key == "palette":
                shown = value[:INFO_COLORS]
                rest = len(value) - len(shown)
                echo(f"{key:15} " + " ".join(shown)
                     + (f" ... and {rest:,} more (--json lists them all)" if rest else ""))
            elif key != "durations_ms":
                echo(f"{key:15} " + (", ".join(value) if key == "codecs" else
                                     "for ever" if key == "plays" and not value else str(value)))


def _header(packed: Path) -> dict:
    """What ``info`` shows of a packed file (a still's or a multi-frame one's), checked whole:
    every frame decoded once."""
    from ..animation.qntanim import is_animation_file, load_animation
    from ..io.container import load
    from ..io.files import display_name

    if not is_animation_file(packed):
        image = load(packed)
        h = image.header
        return {"file": display_name(packed), "bytes": packed.stat().st_size, "version": h.version,
                "width": h.width, "height": h.height, "channels": h.channels, "k": h.k,
                "bits_per_index": h.bits, "codec": h.codec,
                "palette": ["#" + bytes(c).hex() for c in image.palette]}
    animation = load_animation(packed)
    animation.check()  # every frame's payload checked, as info checks a still's
    return {"file": display_name(packed), "bytes": packed.stat().st_size,
            "kind": "multi-frame", "version": animation.version, "width": animation.width,
            "height": animation.height, "channels": animation.channels,
            "frames": len(animation.durations), "duration_ms": sum(animation.durations),
            "plays": animation.plays, "codecs": sorted(set(animation.codecs)),
            "frame_table": animation.table_codec, "durations_ms": list(animation.durations)}
