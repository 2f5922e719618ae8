"""The ``quantize`` command line: parse options, call the library, print. No algorithm here.

Results go to stdout, notes and errors to stderr. Every error is one line and a non-zero exit code
(see README: 2 usage, 3 input, 4 format, 5 output, 130 interrupted).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from . import __version__
from .errors import QuantizeError

_CODECS = ("none", "zlib", "lzma", "zstd")  # as quantize.container.CODECS, without importing numpy


def _fail(message: str, code: int) -> None:
    click.echo(f"quantize: error: {message}", err=True)
    sys.exit(code)


def _note(message: str, quiet: bool = False) -> None:
    if not quiet:
        click.echo(f"quantize: note: {message}", err=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "-V", "--version", prog_name="quantize")
def cli() -> None:
    """Colour-quantise images with a Numba k-means: a K-colour palette, a packed-index file
    (ceil(log2 K) bits per pixel), a preview PNG, and a size/quality report."""


def fit_options(func):
    """The options that decide a palette fit, shared by every command that fits one."""
    options = [
        click.option("-k", "--colors", "k", type=int, default=256, show_default=True,
                     help="Palette size K (1 to 65536)."),
        click.option("--n-init", type=int, default=None,
                     help="k-means restarts; the best is kept.  [default: tuned per K]"),
        click.option("--max-iter", type=int, default=300, show_default=True,
                     help="Lloyd iterations per run."),
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


def _fit_options(k, n_init, max_iter, tol, seed, sample):
    from .fitting import FitOptions

    kwargs = dict(k=k, max_iter=max_iter, tol=tol, seed=seed, sample=sample)
    if n_init is not None:
        kwargs["n_init"] = n_init
    return FitOptions(**kwargs)


@cli.command()
@click.argument("input", type=click.Path(path_type=Path))
@click.option("-o", "--output", "out_dir", type=click.Path(path_type=Path), default=None,
              help="Output folder (default: beside the input).")
@fit_options
@click.option("--codec", type=click.Choice(_CODECS), default="zstd", show_default=True,
              help="Lossless codec over the packed index stream.")
@click.option("--no-preview", is_flag=True, help="Do not write the preview PNG.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the report.")
@click.option("-f", "--force", is_flag=True, help="Replace existing outputs.")
@click.option("--allow-huge", is_flag=True,
              help="Lift the decompression-bomb guard (images over ~89 megapixels).")
@click.option("-q", "--quiet", is_flag=True, help="No notes on stderr.")
def compress(input, out_dir, k, n_init, max_iter, tol, seed, sample, codec, no_preview, as_json,
             force, allow_huge, quiet):
    """Quantise INPUT to K colours; write INPUT.qnt and INPUT.preview.png; print the report."""
    from .pipeline import CompressOptions, compress_file
    from .report import format_json, format_report

    options = CompressOptions(fit=_fit_options(k, n_init, max_iter, tol, seed, sample), codec=codec)
    result = compress_file(input, out_dir, options=options, preview=not no_preview, force=force,
                           allow_huge=allow_huge)
    for note in result.notes:
        _note(note, quiet)
    click.echo(format_json(result) if as_json else format_report(result))


@cli.command()
@click.argument("packed", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="Image to write (PNG, BMP, TIFF or WebP, by its extension).")
@click.option("-f", "--force", is_flag=True, help="Replace an existing output.")
def decode(packed, output, force):
    """Turn a packed-index file back into an image (exactly the quantised pixels)."""
    from .container import load
    from .images import save_pixels

    image = load(packed)
    written = save_pixels(output, image.pixels(), force=force, protect=(packed,))
    click.echo(f"{output}: {image.header.width}x{image.header.height}, "
               f"{image.header.k} colours, {written:,} bytes")


@cli.command()
@click.argument("packed", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the header as JSON.")
def info(packed, as_json):
    """Show a packed-index file's header and palette (the file is fully validated)."""
    import json

    from .container import load

    image = load(packed)
    h = image.header
    data = {"file": str(packed), "bytes": packed.stat().st_size, "version": h.version,
            "width": h.width, "height": h.height, "channels": h.channels, "k": h.k,
            "bits_per_index": h.bits, "codec": h.codec,
            "palette": ["#" + bytes(c).hex() for c in image.palette]}
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    for key, value in data.items():
        if key != "palette":
            click.echo(f"{key:15} {value}")
    click.echo(f"{'palette':15} " + " ".join(data["palette"]))


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning every error into one line on stderr and an exit code."""
    try:
        code = cli.main(args=argv, prog_name="quantize", standalone_mode=False)
    except click.UsageError as exc:
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
        _fail(exc.format_message() + hint, 2)
    except click.ClickException as exc:
        _fail(exc.format_message(), exc.exit_code)
    except click.Abort:
        _fail("interrupted", 130)
    except QuantizeError as exc:
        _fail(str(exc), exc.exit_code)
    except MemoryError:
        _fail("out of memory", 1)
    except Exception as exc:  # a bug: still one line, unless the user asks for the traceback
        if os.environ.get("QUANTIZE_DEBUG"):
            raise
        _fail(f"internal error: {type(exc).__name__}: {exc} (set QUANTIZE_DEBUG=1 for details)", 70)
    sys.exit(code if isinstance(code, int) else 0)
