"""``quantize palette``: an image's colours as swatches on the terminal and as palette files for
design tools; and the palette options ``compress`` shares."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..io.files import display_name, is_folder, printable
from .options import PATH, NamedPath, echo, fit_options, make_fit_options, note, space_option

if TYPE_CHECKING:
    from ..core.fitting import FitOptions
    from ..io.palettes import Palette
    from ..jobs.palette import PaletteExport
    from ..jobs.pipeline import Result

# as quantize.io.palettes.SORT_KEYS, SWATCH_NAMES and FORMATS, without importing numpy for --help (a
# test keeps them equal)
SORT_KEYS = ("share", "hue", "lightness", "none")
SWATCH_NAMES = ("share", "plain")
# each format with the apps that read it and its file's extension where that is not the name
FORMAT_GUIDE = (
    ("gpl", "GIMP, Inkscape, Krita, Aseprite"), ("ase", "Illustrator, InDesign"), ("aco", "Photoshop"),
    ("act", "Photoshop colour table"), ("kpl", "Krita"), ("procreate", ".swatches"),
    ("sketch", ".sketchpalette"), ("paintnet", "Paint.NET .txt"), ("jasc", "Paint Shop Pro, Aseprite .pal"),
    ("riff", "Microsoft .riff.pal"), ("css", ""), ("scss", ""), ("tailwind", "v4 .theme.css"),
    ("tailwind3", ".tailwind.json"), ("json", ""), ("hex", "Lospec"), ("png", "1xN swatch .swatch.png"),
    ("strip", "presentation image .strip.png"))
FORMAT_NAMES = tuple(name for name, _ in FORMAT_GUIDE)
FORMAT_HELP = "comma-separated: " + ", ".join(f"{name} ({hint})" if hint else name
                                              for name, hint in FORMAT_GUIDE)


def palette_options(default_order: str):
    """How a written palette looks: --sort (``default_order`` says what its default is),
    --names, --swatch-names, --truncate, --keep-transparent."""
    return lambda func: _with_palette_options(func, default_order)


def _with_palette_options(func, default_order: str):
    options = [
        click.option("--sort", type=click.Choice(SORT_KEYS), default=None,
                     help=f"Palette order: by share of the pixels, OKLCH hue or lightness, or none "
                          f"(as fitted).  [default: {default_order}]"),
        click.option("--names", is_flag=True,
                     help="Name each colour after its nearest CSS colour (OKLab distance)."),
        click.option("--swatch-names", type=click.Choice(SWATCH_NAMES), default=None,
                     help="What each swatch's name holds in the formats without a share field "
                          "(gpl, ase, aco, kpl, paintnet, css, scss, tailwind): the name and its "
                          "share of the pixels, 'teal (12.3%)', or the name alone (plain, as a "
                          "design system imports it).  [default: share]"),
        click.option("--truncate", is_flag=True,
                     help="Keep the first colours when a format holds fewer (ACT 256, Procreate 30, "
                          "Paint.NET 96, strip 256) instead of failing."),
        click.option("--keep-transparent", is_flag=True,
                     help="Keep one transparent entry for fully transparent pixels (left out by "
                          "default)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def make_export(formats: str | None, sort: str | None, names: bool, swatch_names: str | None,
                truncate: bool, keep_transparent: bool) -> PaletteExport:
    """The :class:`~quantize.jobs.palette.PaletteExport` of the options (format names checked)."""
    from ..jobs.palette import PaletteExport, parse_formats

    if formats is not None and not parse_formats(formats):
        raise click.UsageError(f"--format names no palette format: {formats!r}")
    return PaletteExport(parse_formats(formats) if formats else (), sort or "share", names, truncate,
                         keep_transparent, swatch_names=swatch_names or "share")


@click.command(context_settings={"default_map": {"k": 8}})
@click.argument("input", type=PATH, required=False)
@click.option("--list", "list_builtin", is_flag=True,
              help="List the built-in palettes (for --palette NAME) with their colours, and exit.")
@fit_options
@space_option
@click.option("--format", "formats", metavar="LIST",
              help=f"Write the palette in these formats, {FORMAT_HELP}.")
@click.option("-o", "--output", "out_dir", type=NamedPath(readable=False), default=None,
              help="Folder for the files of --format, named <stem><ext> (default: beside the input); "
                   "a name that is no folder and ends as a format's files do (brand.gpl, "
                   "brand.theme.css) names that one file, and alone asks for that format.")
@palette_options("share")
@click.option("--json", "as_json", is_flag=True,
              help="Print the palette as JSON (as --format json writes it).")
@click.option("-f", "--force", is_flag=True, help="Replace existing palette files.")
@click.option("--allow-huge", is_flag=True,
              help="Lift the decompression-bomb guard (images over ~89 megapixels).")
@click.option("-q", "--quiet", is_flag=True, help="No notes on stderr.")
def palette(input, list_builtin, k, n_init, max_iter, tol, seed, sample, space, formats, out_dir, sort,
            names, swatch_names, truncate, keep_transparent, as_json, force, allow_huge, quiet):
    """Fit a K-colour palette to INPUT; print it (swatches, hex, share of the pixels) and write it
    for design tools with --format.

    Fully transparent pixels are left out (unless --keep-transparent), so all K colours are visible.
    An INPUT named as a palette format's files are (brand.ase, brand.gpl, ...), or starting as a
    GIMP, KDE, JASC, ASE or RIFF palette does (a KDE colour collection), is a palette file: nothing
    is fitted, its colours are shown and, with --format, converted. So is a packed .qnt's
    palette, in its index order (unless --sort), each colour's share counted from its pixels."""
    from ..io.palettes.terminal import wants_color

    if list_builtin:
        from ..io.palettes.builtin import format_builtins

        if input is not None:
            raise click.UsageError("--list lists the built-in palettes: it takes no INPUT")

        click.echo(format_builtins(wants_color(sys.stdout)))
        return
    if input is None:
        raise click.UsageError("Missing argument 'INPUT'.")
    from ..io.palettes import encode_palette, format_swatches
    from ..io.palettes.io import format_named_by, is_signed_palette
    from ..jobs.palette import palette_file
    from ..jobs.pipeline import CompressOptions

    out_dir, out_file, formats = _named_palette_file(out_dir, formats)
    packed = input.suffix.lower() == ".qnt"  # its palette in index order unless --sort says
    export = make_export(formats, sort or ("none" if packed else None), names, swatch_names,
                         truncate, keep_transparent)
    if packed or format_named_by(input) is not None or is_signed_palette(input):  # shown, converted
        from ..jobs.palette import convert_palette_file

        ignored = _given_fit_options()
        if ignored:
            note(f"{display_name(input)} is a {'packed' if packed else 'palette'} file and nothing "
                 f"is fitted: {', '.join(ignored)} ignored", quiet)
        swatches, written = convert_palette_file(input, out_dir, export=export, force=force,
                                                 out_file=out_file)
        result = None
    else:
        fit = make_fit_options(k, n_init, max_iter, tol, seed, sample, space)
        swatches, result, written = palette_file(input, out_dir, export=export,
                                                 options=CompressOptions(fit=fit), force=force,
                                                 allow_huge=allow_huge, out_file=out_file)
        for note_text in result.notes:
            note(note_text, quiet)
    for note_text in written_notes(result, written, export, swatches):
        note(note_text, quiet)
    if as_json:
        echo(encode_palette(swatches, "json").decode(), nl=False)
    else:
        echo(format_swatches(swatches, color=wants_color(sys.stdout)))


def _named_palette_file(output: str | None,
                        formats: str | None) -> tuple[Path | None, Path | None, str | None]:
    """(folder, file, formats) of ``-o``: a path that is no folder and ends as one format's files
    do names that one file (as ``compress -o small.png`` does), and alone asks for that format;
    ``brand.gpl/`` says it is a folder."""
    import os

    from ..io.palettes.io import format_named_by
    from ..jobs.palette import parse_formats
    from .options import check_folder_option, check_named_file

    out_dir = None if output is None else Path(output)
    slash = output is not None and output.endswith(("/", os.sep))  # a folder, whatever its name
    named = None if out_dir is None or slash or is_folder(out_dir) else format_named_by(out_dir)
    if named is None:  # a bare .png too: no palette file's name
        check_folder_option(None if slash else out_dir,
                            "palette names its files after the input, <stem><ext>",
                            takes="a folder or one palette file (brand.gpl, brand.swatch.png)")
        if out_dir is not None and formats is None:  # the folder would get nothing, and no word why
            raise click.UsageError(f"-o {printable(output, line=True)} is a folder for the "
                                   "files of --format, but no --format is given: give --format "
                                   "LIST (gpl, ase, ...), or -o NAME.gpl for one file")
        return out_dir, None, formats
    check_named_file(out_dir, named, parse_formats(formats) if formats else ())
    return None, out_dir, named


def fixed_palette(path: Path, quiet: bool) -> Palette:
    """The palette of ``--palette FILE|NAME``, its colours and names: a file, else a built-in
    palette; fit options given with it are ignored, with a note."""
    from ..io.palettes.builtin import find_palette

    palette = find_palette(path)
    ignored = _given_fit_options()
    if ignored:
        note(f"--palette gives {len(palette)} colours and nothing is fitted: {', '.join(ignored)} "
             "ignored", quiet)
    return palette


_FIT_PARAMS = ("k", "n_init", "max_iter", "tol", "seed", "sample")  # the values of fit_options


def _given_fit_options() -> list[str]:
    """The fit options given on the command line, as their flags."""
    from .options import given

    return [param.opts[0] for param in click.get_current_context().command.params
            if param.name in _FIT_PARAMS and given(param.name)]


def locked_palette(path: Path, quiet: bool = False) -> Palette:
    """The palette of ``--lock FILE``, its colours and names; a colour listed twice is kept once,
    with a note."""
    import numpy as np

    from ..io.palettes import read_palette

    palette = read_palette(path)
    repeats = len(palette) - len(np.unique(palette.colors, axis=0))
    if repeats:
        note(f"--lock {display_name(path)} lists {repeats} colour{'s' * (repeats > 1)} more than "
             "once: each is kept once", quiet)
    return palette


def locked_fit(fit: FitOptions, locked: Palette) -> FitOptions:
    """``fit`` keeping the colours of ``locked`` exactly, the other K - L fitted around them."""
    from dataclasses import replace

    return replace(fit, locked=locked.colors)


def exported_sizes(input: Path, out_dir: Path | None, export: PaletteExport | None,
                   out_file: Path | None = None) -> dict[Path, int]:
    """The palette files ``compress --export-palette`` wrote (beside ``out_file`` and named
    after it, when ``-o`` named the file), with their sizes."""
    if export is None:
        return {}
    from ..io.outputs import output_path

    folder, stem = ((out_file.parent, out_file.stem) if out_file is not None
                    else (output_path(input, out_dir, "qnt").parent, input.stem))
    return {path: path.stat().st_size for path in export.paths(folder, stem).values()}


def written_notes(result: Result | None, sizes: dict[Path, int], export: PaletteExport | None,
                  palette: Palette | None = None) -> list[str]:
    """Notes on the palette files ``export`` wrote from ``result`` (None: from a palette file)
    (``palette``: the palette they hold, when the caller has it)."""
    notes = [f"wrote {display_name(path)} ({size:,} B)" for path, size in sizes.items()]
    if not sizes or export is None:
        return notes
    if result is not None and result.channels == 4 and (result.palette[:, 3] == 0).any() \
            and not export.keep_transparent:
        notes.append("the exported palettes leave out the fully transparent entry")
    written = palette if palette is not None else export.result_palette(result)
    return notes + export.truncated_notes(written) + export.opaque_notes(written)
