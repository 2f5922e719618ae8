"""Options and output helpers shared by several commands."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..choices import (CODECS, DEFAULT_CODEC, DEFAULT_PNG_EFFORT, DEFAULT_WEBP_METHOD,  # noqa: F401
                       DITHERS, FORMATS, SPACES)  # (the commands read them here)

FORMAT_NAMES = ", ".join(FORMATS)
CODEC_HELP = ("Lossless codec of the indices: cm (ours; bilevel or template where smaller, zstd "
              "at level 19 or lzma where a quick probe finds long repeats, as on pages, "
              "screenshots and dithers) or zstd (level 3), lzma, zlib, none over packed bits, or "
              "lzma-bytes, zstd-bytes over one byte an index (K <= 256), or bilevel (ours, K = 2), "
              "template (ours, K = 3 to 256).")
from ..io.files import is_folder, printable


class NamedPath(click.Path):
    """A path that is not empty: click made "" the current folder, where ``-o "$OUT"`` of an
    unset variable then wrote."""

    def convert(self, value, param, ctx):
        if isinstance(value, str) and not value:
            self.fail("an empty path (an unset shell variable?)", param, ctx)
        return super().convert(value, param, ctx)


# Every path argument: click's own readability check is off, so that an unreadable file gets the
# one opener's "cannot read <file>: Permission denied" (exit 3) like every other input problem.
PATH = NamedPath(path_type=Path, readable=False)
#: The INPUT argument of a command that takes one image (see :func:`one_input`).
ONE_INPUT = dict(type=PATH, nargs=-1, required=True, metavar="INPUT")

if TYPE_CHECKING:
    import numpy as np

    from ..io.outputs import FileOptions


def echo(text: str = "", **kwargs) -> None:
    """Print a result on stdout, file names in it escaped as everywhere else (``caf\\xe9.png``)."""
    click.echo(printable(text), **kwargs)


BATCH_HINT = "quantize batch takes several images (files, folders or glob patterns)"


def one_input(command: str, inputs: tuple[Path, ...], instead: str = BATCH_HINT,
              what: str = "INPUT") -> Path:
    """The one input of a command that takes one (its argument given as :data:`ONE_INPUT`, so that
    several, as a shell's ``*.png`` gives them, are refused saying what to do ``instead``)."""
    if len(inputs) > 1:
        raise click.UsageError(f"{command} takes one {what}, not {len(inputs)}: {instead}")
    return inputs[0]


def palette_endings() -> tuple[str, ...]:
    """The last suffix of every palette export's file (.gpl, .ase, ...): names an ``-o`` that takes
    a folder refuses as a file's, the palette being another command's file."""
    from ..io.palettes import FORMATS as PALETTE_FORMATS

    return tuple(sorted({Path("x" + info.ext).suffix for info in PALETTE_FORMATS.values()}))


# what firmware names a buffer or a source file: -o so named meant a file, not a folder
FIRMWARE_ENDINGS = (".bin", ".c", ".cc", ".cpp", ".hh", ".hpp")


def check_folder_option(out_dir: str | Path | None, writes: str, also: tuple[str, ...] = (),
                        takes: str = "a folder", export_palette: bool = False) -> None:
    """Refuse, before any work, an ``-o`` folder that names standard output (``-``) or that is no
    folder yet and ends as a file's name does (``small.png``, a palette file's ``v.gpl``, a
    firmware file's ``logo.c``, or a suffix in ``also``): the user meant a file, and would find a
    folder of that name; ``writes`` says what goes into it, ``takes`` what ``-o`` takes. A palette
    file's name is answered with the command that writes one (and ``--export-palette``, where the
    command has it). ``-o`` as typed (a str) ending in a slash names a folder, whatever its name
    (``v.gpl/``)."""
    import os

    from ..io.images import SUFFIXES
    from ..io.outputs import OUTPUT_SUFFIXES
    from ..io.palettes.io import format_named_by

    if out_dir is None or str(out_dir).endswith(("/", os.sep)) or is_folder(out_dir):
        return
    out_dir = Path(out_dir)
    if str(out_dir) == "-":
        raise click.UsageError(f"-o takes {takes}, not - (standard output): {writes}")
    if out_dir.suffix.lower() in (SUFFIXES | OUTPUT_SUFFIXES | set(palette_endings())
                                  | set(FIRMWARE_ENDINGS) | set(also)):
        name = printable(str(out_dir), line=True)
        palette = format_named_by(out_dir)
        if palette is not None:  # v.gpl: the user wants a palette file, another command's
            export = f"give --export-palette {palette}, or " if export_palette else ""
            writes += (f"; for a palette file {export}use quantize palette -o "
                       f"{printable(out_dir.name, line=True)}")
        raise click.UsageError(f"-o takes {takes}, not a file name such as {name}: {writes}")


def check_named_file(out: str | Path, named: str, formats: tuple[str, ...]) -> None:
    """Refuse an ``-o`` naming one ``named`` file while ``--format`` was given for others."""
    if given("formats") and formats != (named,):
        many = len(formats) > 1
        raise click.UsageError(f"-o {printable(str(out), line=True)} names one {named} file, but "
                               f"--format {','.join(formats)} writes "
                               f"{len(formats) if many else 'another'} file{'s' * many}: give -o "
                               f"a folder, or --format {named}")


def given(name: str) -> bool:
    """Whether the option ``name`` (its parameter name) was given on the command line."""
    from click.core import ParameterSource

    ctx = click.get_current_context()
    return ctx.get_parameter_source(name) not in (None, ParameterSource.DEFAULT,
                                                 ParameterSource.DEFAULT_MAP)


def note(message: str, quiet: bool = False) -> None:
    """A note for the user on stderr (results go to stdout)."""
    from . import with_flags

    if not quiet:
        click.echo(f"quantize: note: {printable(with_flags(message), line=True)}", err=True)


def fit_options(func=None, *, max_k: int = 65536):
    """The options that decide a palette fit, shared by every command that fits one (``max_k``:
    the largest K the command takes, for its help)."""
    if func is None:
        return lambda f: fit_options(f, max_k=max_k)
    options = [
        click.option("-k", "--colors", "k", type=int, default=256, show_default=True,
                     help=f"Palette size K (1 to {max_k})."),
        click.option("--n-init", type=int, default=None,
                     help="k-means restarts; the best is kept.  [default: tuned per K]"),
        click.option("--max-iter", type=int, default=300, show_default=True,
                     help="Lloyd iterations per run and stage: a photo's fit runs on a "
                          "coarse colour grid, then on every colour, so the report may count "
                          "up to twice this."),
        click.option("--tol", type=float, default=1e-4, show_default=True,
                     help="Relative tolerance on the centre shift."),
        click.option("--seed", type=int, default=0, show_default=True,
                     help="Random seed: same seed, same palette."),
        click.option("--sample", type=int, default=None, metavar="N",
                     help="Fit on N random pixels instead of all colours (the classic recipe: 50000)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def resample_options(func=None, *, frames: str = "the frames"):
    """``--width``, ``--height``, ``--fps`` and ``--plays``, for every command that writes an
    animation (``frames``: what they scale, for the help)."""
    if func is None:
        return lambda f: resample_options(f, frames=frames)
    options = [
        click.option("--width", type=int, default=None, metavar="PX",
                     help=f"Scale {frames} down to at most this width (aspect kept, never "
                          "enlarged)."),
        click.option("--height", type=int, default=None, metavar="PX",
                     help=f"Scale {frames} down to at most this height (aspect kept, never "
                          "enlarged)."),
        click.option("--fps", type=float, default=None, metavar="N",
                     help="Show at most N frames a second: the frames between are dropped, each "
                          "kept frame lasts until the next, the clip's length is kept."),
        click.option("--plays", type=int, default=None, metavar="N",
                     help="How many times the animation plays, 0 for ever.  [default: as the "
                          "input says; a folder, glob or video: for ever]"),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def resample_bounds(width: int | None, height: int | None, fps: float | None,
                    plays: int | None) -> dict:
    """The :func:`resample_options` given, by name, as ``resampled`` takes them."""
    given_bounds = (("width", width), ("height", height), ("fps", fps), ("plays", plays))
    return {name: value for name, value in given_bounds if value is not None}


def space_option(func):
    """``--space``, for every command that fits a palette."""
    return click.option("--space", type=click.Choice(SPACES), default=None,
                        help="Colour space of the fit and the mapping (docs/QUALITY.md).  "
                             "[default: rgb+lab]")(func)


def encoder_options(func):
    """``--png-effort`` and ``--webp-method``, for every command that writes still images."""
    func = click.option("--webp-method", type=click.IntRange(0, 6), default=DEFAULT_WEBP_METHOD,
                        show_default=True, help="WebP size against time: libwebp's method, 0 "
                                                "fastest, 6 smallest (as cwebp -z 9; many times "
                                                "slower).")(func)
    return click.option("--png-effort", type=click.IntRange(0, 3), default=DEFAULT_PNG_EFFORT,
                        show_default=True, help="PNG size against time: 0 fastest, 3 smallest.")(func)


def layout_options(func=None, *, palette_flag: str = "--palette"):
    """``--raw-bit-order``, ``--raw-rows``, ``--rgb565-endian`` and ``--rotate``, for every command
    that writes the firmware exports (``palette_flag``: its option that gives a palette, for the help)."""
    if func is None:
        return lambda f: layout_options(f, palette_flag=palette_flag)
    func = click.option("--rotate", type=click.Choice(["0", "90", "180", "270"]), default="0",
                        show_default=True,
                        help="Turn the picture clockwise by these degrees in every file written "
                             "(a panel whose memory is portrait showing a landscape picture takes "
                             "90, as GUI_Paint's ROTATE_90 draws it); the report measures the "
                             "picture as loaded.")(func)
    func = click.option("--rgb565-endian", type=click.Choice(["little", "big"]), default="little",
                        show_default=True, help="rgb565 format: byte order of each pixel.")(func)
    func = click.option("--raw-rows", type=click.Choice(["padded", "packed", "pages", "planes"]),
                        default="padded", show_default=True,
                        help="raw format: each row starts on a new byte, or none does, or pages: 1 "
                             "bit a pixel, a byte a column of 8 rows, as SSD1306/SH1106 OLEDs hold "
                             f"them (with a 2-colour {palette_flag} such as bw), or planes: the "
                             "black plane then the red, 0 where the ink is, as tri-colour e-paper "
                             f"drivers take them (with {palette_flag} bwr, or bw: no red); pages and planes shape "
                             "the c format's arrays too.")(func)
    return click.option("--raw-bit-order", type=click.Choice(["msb", "lsb"]), default=None,
                        help="raw and c formats: the first pixel (with pages, the top row) in "
                             "each byte's most or least significant bits (lsb: as XBM bitmaps, "
                             "Adafruit GFX's drawXBitmap).  [default: msb; lsb with --raw-rows "
                             "pages]")(func)


def file_options(png_effort: int, webp_method: int, raw_bit_order: str | None = None,
                 raw_rows: str = "padded", rgb565_endian: str = "little",
                 rotate: str = "0") -> FileOptions:
    """FileOptions from the values of :func:`encoder_options` and :func:`layout_options`."""
    from ..io.outputs import FileOptions

    pages = raw_rows == "pages"
    msb_first = (raw_bit_order or ("lsb" if pages else "msb")) == "msb"  # OLEDs: top row in bit 0
    return FileOptions(png_effort, raw_msb_first=msb_first, raw_row_padding=raw_rows == "padded",
                       raw_pages=pages, raw_planes=raw_rows == "planes",
                       rgb565_big_endian=rgb565_endian == "big", webp_method=webp_method,
                       rotate=int(rotate))


def check_panel_layout(raw_rows: str, palette: np.ndarray | None, palette_flag: str) -> None:
    """``--raw-rows pages`` and ``planes`` write the panel's codes: they need a given ``palette``
    (None for a fit) of as many colours as they take, and warn of one lighter first."""
    import warnings

    from ..errors import ParameterError
    from ..io.exports import check_panel_palette, panel_order_warning

    try:
        check_panel_palette(raw_rows, None if palette is None else len(palette), palette_flag)
    except ParameterError as exc:
        raise click.UsageError(str(exc)) from None
    if (warning := panel_order_warning(raw_rows, palette, palette_flag)) is not None:
        warnings.warn(warning, stacklevel=2)


# each format's options: given while no format they shape is written, they would be ignored
# silently (the bit order, and the panel layouts, shape the C header's arrays too; a pixel taking
# its neighbour's index shrinks only the files that code repeats, not those a fixed size a pixel)
FORMAT_OPTIONS = ((("qnt",), ("codec",)), (("png",), ("png_effort",)), (("webp",), ("webp_method",)),
                  (("raw", "c"), ("raw_bit_order", "raw_rows")), (("rgb565",), ("rgb565_endian",)),
                  (("qnt", "png", "webp", "gif"), ("rdo",)))


def check_format_options(formats: tuple[str, ...]) -> None:
    """Refuse an option the command has, given for formats none of which is written."""
    from ..io.exports import PANEL_LAYOUTS

    ctx = click.get_current_context()
    for shaped, names in FORMAT_OPTIONS:
        def applies(name: str) -> tuple[str, ...]:
            # padded and packed rows are the .raw's alone
            packed = name == "raw_rows" and ctx.params.get("raw_rows") not in PANEL_LAYOUTS
            return ("raw",) if packed else shaped

        named = [name for name in names if name in ctx.params and given(name)
                 and not set(applies(name)) & set(formats)]
        if named:
            flags = " and ".join("--" + name.replace("_", "-") for name in named)
            wanted = [fmt for fmt in shaped if all(fmt in applies(name) for name in named)]
            which = ("which is not written" if len(wanted) == 1 else
                     f"{'neither' if len(wanted) == 2 else 'none'} of which is written")
            listed = ", ".join(wanted[:-1]) + " or " * (len(wanted) > 1) + wanted[-1]
            raise click.UsageError(f"{flags} appl{'y' if len(named) > 1 else 'ies'} to --format "
                                   f"{listed}, {which}")


def dither_options(func):
    """``--dither``, ``--dither-strength`` and ``--rdo``, for every command that maps pixels to a
    palette."""
    func = _rdo_option(func)
    func = click.option("--dither-strength", type=float, default=1.0, show_default=True,
                        help="Share of the error diffused, of the threshold spread (ordered, "
                             "blue-noise) or of the error a pattern mixes away, 0 to 1.")(func)
    return click.option("--dither", type=click.Choice(DITHERS), default="none", show_default=True,
                        help="Error diffusion (fs = Floyd–Steinberg; fs-edge not across edges; atkinson, "
                             "sierra, sierra-lite, jjn, stucki, burkes), a threshold mask (ordered = "
                             "Bayer 8x8, blue-noise), or pattern: Knoll's ordered mix of "
                             "palette colours, for few saturated colours (slower).")(func)


def _rdo_option(func):
    """``--rdo``, for every command that maps pixels to a fitted or given palette."""
    return click.option("--rdo", type=RdoParam(), default="0", metavar="L|auto",
                        help="Rate–distortion mapping: a pixel takes its left or upper neighbour's "
                             "colour when that adds at most L to its squared RGB error, so the "
                             ".qnt codes it as a repeat (smaller files, at a PSNR cost the report "
                             "gives). auto: L = 2x the mapping's MSE, the best trade at equal bytes "
                             "(docs/CODEC.md). Not with --dither.  [default: 0, off]")(func)


class RdoParam(click.ParamType):
    """``--rdo``: a number >= 0 or ``auto``."""

    name = "rdo"

    def convert(self, value, param, ctx):
        if isinstance(value, float) or value == "auto":
            return value
        try:
            return float(value)
        except ValueError:
            self.fail(f"{value!r} is neither a number nor 'auto'", param, ctx)


def check_dither(dither: str) -> None:
    """``--dither-strength`` alone is a mistake: it changes nothing without a dither."""
    if dither == "none" and given("dither_strength"):
        raise click.UsageError("--dither-strength applies to a dither: give --dither too")


def make_fit_options(k, n_init, max_iter, tol, seed, sample, space=None):
    """FitOptions from the values of :func:`fit_options`."""
    from ..core.fitting import FitOptions

    kwargs = dict(k=k, max_iter=max_iter, tol=tol, seed=seed, sample=sample)
    if n_init is not None:
        kwargs["n_init"] = n_init
    if space is not None:
        kwargs["space"] = space
    return FitOptions(**kwargs)


