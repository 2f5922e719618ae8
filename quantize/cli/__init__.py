"""The ``quantize`` command line: parse options, call the library, print. No algorithm here.

Results go to stdout, notes and errors to stderr. Every error is one line and a non-zero exit code:
2 usage or parameter, 3 input, 4 packed or palette file format, 5 output, 130 interrupted (by
SIGHUP or SIGTERM: 129, 143), leaving no temporary file.
Commands live in their own modules and are imported only when used, so ``--help`` stays fast.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import threading
import warnings

import click
from click.exceptions import NoArgsIsHelpError

from .. import __version__
from ..errors import QuantizeError
from ..io.files import printable
from .interrupts import Interrupted, handle_signals, interruption

# command name -> "module:function" below quantize.cli
COMMANDS = {
    "compress": "compress:compress",
    "decode": "compress:decode",
    "info": "compress:info",
    "sweep": "sweep:sweep",
    "batch": "batch:batch",
    "palette": "palette:palette",
    "animate": "animate:animate",
}


class LazyGroup(click.Group):
    """A group whose commands are imported on first use (the pattern from Click's documentation)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module, attr = COMMANDS[name].split(":")
        return getattr(importlib.import_module(f".{module}", __name__), attr)

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:  # a write rolled back: one line (click's Abort adds a blank one)
            raise Interrupted(*interruption()) from None


@click.group(cls=LazyGroup,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "-V", "--version", prog_name="quantize")
def cli() -> None:
    """Colour-quantise images and animations with a Numba k-means: a K-colour palette, a packed-index
    file (on photos smaller in total than lossless WebP and JPEG XL), standard images (PNG, WebP,
    GIF), firmware exports, and a size/quality report."""


# The library's parameters as this command line's flags, for error messages (QuantizeError.parameters).
FLAGS = {
    "n_init": "--n-init", "max_iter": "--max-iter", "tol": "--tol", "sample": "--sample",
    "seed": "--seed", "bits": "--bits", "palette": "--palette", "locked": "--lock",
    "panel": "--panel-colors", "drop_unused": "--drop-unused", "dither_strength": "--dither-strength",
    "rdo": "--rdo", "dither": "--dither", "rotate": "--rotate",
    "ks": "-k", "psnr": "--target-psnr", "delta_e": "--target-delta-e", "jobs": "--jobs",
    "scheduler": "--scheduler", "shared_palette": "--shared-palette", "palette_from": "--palette-from",
    "max_pixels=None": "--allow-huge", "force=True": "--force", "resume=True": "--resume",
    "resume": "--resume", "truncate=True": "--truncate", "keep_transparent=True": "--keep-transparent",
    "csv_path": "--csv", "max_bytes": "--max-bytes", "formats": "--format",
}


def flag_message(exc: QuantizeError) -> str:
    """The error's message with each parameter it cites written as this command line's flag."""
    return with_flags(str(exc), exc.parameters)


def with_flags(text: str, parameters: tuple[str, ...] | None = None) -> str:
    """``text`` with the library parameters it cites (by default those given a value, such as
    ``force=True``) written as this command line's flags."""
    names = parameters if parameters is not None else tuple(n for n in FLAGS if "=" in n)
    for name in names:
        if name in FLAGS:
            text = re.sub(rf"(?<![\w-]){re.escape(name)}(?![\w=])", FLAGS[name], text)
    return text


def _fail(message: str, code: int) -> None:
    click.echo(f"quantize: error: {printable(message, line=True)}", err=True)
    sys.exit(code)


class _HeldWarnings(list):
    """Library warnings (e.g. Pillow on damaged metadata), each as one line, held until the run
    ends: printed after a run that succeeds, dropped before an error, whose one line says what
    went wrong (a truncated TIFF's EXIF warning then stood above it)."""

    def __call__(self, message, category, filename, lineno, file=None, line=None) -> None:
        text = printable(" ".join(str(message).split()))
        if text not in self:
            self.append(text)

    def show(self) -> None:
        for text in self:
            click.echo(f"quantize: warning: {text}", err=True)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, turning every error into one line on stderr and an exit code."""
    held = warnings.showwarning = _HeldWarnings()
    if threading.current_thread() is threading.main_thread():
        handle_signals()
    try:
        code = cli.main(args=argv, prog_name="quantize", standalone_mode=False)
    except NoArgsIsHelpError as exc:  # bare "quantize": asking what it does, not an error
        click.echo(exc.ctx.get_help() if exc.ctx else exc.format_message())
        code = 0
    except click.UsageError as exc:
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
        _fail(exc.format_message() + hint, 2)
    except click.ClickException as exc:
        _fail(exc.format_message(), exc.exit_code)
    except click.Abort:
        _fail("interrupted", 130)
    except QuantizeError as exc:
        _fail(flag_message(exc), exc.exit_code)
    except MemoryError:
        _fail("out of memory", 1)
    except Exception as exc:  # a bug: still one line, unless the user asks for the traceback
        if os.environ.get("QUANTIZE_DEBUG"):
            raise
        _fail(f"internal error: {type(exc).__name__}: {exc} (set QUANTIZE_DEBUG=1 for details)", 70)
    held.show()
    sys.exit(code if isinstance(code, int) else 0)


def run() -> None:
    """The console script and ``python -m quantize``: :func:`main` in a process that runs nothing
    but quantize, so it switches on quantize's process settings (:mod:`quantize.runtime`) and
    leaves without the interpreter's teardown once its streams are flushed."""
    from .. import runtime

    quiet = any(arg in ("-q", "--quiet") for arg in sys.argv[1:])  # before click has parsed them
    runtime.enable(notify=None if quiet else lambda text: click.echo(f"quantize: note: {text}", err=True))
    try:
        main()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
        if isinstance(exc.code, str):
            click.echo(exc.code, err=True)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: what could be said is said
            code = code or 1
    runtime.quick_exit(code)
