"""``quantize batch``: whole folders in parallel, with a manifest, resumable."""

from __future__ import annotations

import logging
import shutil
import sys
import time
from pathlib import Path

import click

from ..io.files import display_name, printable
from . import flag_message
from .interrupts import Interrupted, interruption, raised_as_ctrl_c
from .options import (CODEC_HELP, CODECS, DEFAULT_CODEC, FORMAT_NAMES, PATH, NamedPath,
                      check_dither, check_folder_option, check_format_options,
                      check_panel_layout, dither_options, echo, encoder_options, file_options,
                      fit_options, layout_options, make_fit_options, note, resample_bounds,
                      resample_options, space_option)
from .sweep import target_options


class Progress:
    """A one-line progress bar on stderr (count, rate, ETA, current file); silent when not a TTY."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()
        self.phase = ""
        self.start = self.last = time.perf_counter()

    def __call__(self, phase: str, done: int, total: int, name: str) -> None:
        now = time.perf_counter()
        if phase != self.phase:  # a phase's work began when the previous one's last file ended
            self.phase, self.start = phase, self.last
        self.last = now
        if not self.enabled:
            return
        elapsed = now - self.start
        rate = done / elapsed if elapsed > 0 else 0.0
        eta = (total - done) / rate if rate else 0.0
        line = (f"{phase} [{done}/{total}] {100 * done // max(total, 1)}% {rate:.1f}/s "
                f"ETA {int(eta) // 60}:{int(eta) % 60:02d}  {name}")
        width = shutil.get_terminal_size().columns - 1
        click.echo("\r" + printable(line, line=True)[:width].ljust(width), err=True, nl=False)

    def clear(self) -> None:
        if self.enabled:
            click.echo("\r" + " " * (shutil.get_terminal_size().columns - 1) + "\r", err=True, nl=False)


@click.command()
@click.argument("inputs", nargs=-1, required=True)
@click.option("-o", "--output", "out_dir", type=NamedPath(readable=False), required=True,
              help="Output folder: the input tree is mirrored below it, with manifest.csv/.json.")
@fit_options
@target_options
@space_option
@dither_options
@click.option("--codec", type=click.Choice(CODECS), default=DEFAULT_CODEC, show_default=True,
              help=CODEC_HELP)
@click.option("--preview", is_flag=True, help="Also write a PNG per image (adds png to --format).")
@click.option("--format", "formats", metavar="LIST", default="qnt",
              help=f"Files to write per image, comma-separated, from {FORMAT_NAMES} (see compress).",
              show_default=True)
@click.option("--max-bytes", metavar="N", default=None,
              help="Per image, the largest K (up to -k) whose first --format file fits in N bytes.")
@encoder_options
@layout_options(palette_flag="--palette-from")
@click.option("-j", "--jobs", type=int, default=None,
              help="Processes compressing at once: this one and N-1 workers (not with "
                   "--scheduler).  "
                   "[default: the number of cores]")
@click.option("--no-recursive", is_flag=True, help="Only the files directly in each input folder.")
@click.option("--resume", is_flag=True,
              help="Skip inputs whose outputs match the manifest's checksums; redo the rest "
                   "(in an output folder inside the input folder too, once --force made it).")
@click.option("--shared-palette", is_flag=True,
              help="Fit one palette to all inputs' colours (saved as palette.qnt and palette.json).")
@click.option("--palette-from", type=PATH, default=None,
              help="Map every image to this saved palette (.qnt, .json or any palette file) or "
                   "built-in palette (quantize palette --list); -k and the fit options are ignored.")
@click.option("--scheduler", metavar="ADDRESS", default=None,
              help="Run on a Dask distributed cluster (shared storage; pip install 'dask[distributed]').")
@resample_options(frames="an animated input's frames")
@click.option("-f", "--force", is_flag=True,
              help="Replace existing outputs; allow the output folder inside an input folder.")
@click.option("--allow-huge", is_flag=True, help="Lift the decompression-bomb guard.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar or notes on stderr.")
def batch(inputs, out_dir, k, n_init, max_iter, tol, seed, sample, target_psnr, target_delta_e,
          space, dither, dither_strength, rdo,
          codec, preview, formats, max_bytes, png_effort, webp_method, raw_bit_order, raw_rows,
          rgb565_endian, rotate, jobs,
          no_recursive, resume, shared_palette, palette_from, scheduler, width, height, fps, plays,
          force, allow_huge, quiet):
    """Quantise every image in INPUTS (folders, glob patterns or files) into the output folder.

    An animated GIF, APNG, WebP or AVIF, and a video (mp4, mov, mkv, webm, … with the video extra:
    pip install imageio imageio-ffmpeg), is written as an animation, <stem>.anim.<ext> per --format
    (gif, png, webp, qnt; it fails for c, raw and rgb565, which hold one picture), made smaller
    or slower first by --width, --height and --fps, as quantize animate does.
    With --target-psnr or --target-delta-e, each image's K is the smallest from 1 to -k that
    meets the target, as compress picks it (the manifest's row notes the K and why).
    Exit code 1 when some image failed; run again with --resume after an interruption.
    """
    from ..errors import ParameterError
    from ..jobs.batch import OptionsChanged, Settings, run_batch
    from ..jobs.pipeline import CompressOptions
    from ..jobs.sweep_model import Target

    check_dither(dither)
    check_folder_option(out_dir, "batch mirrors the input tree below it, with manifest.csv and "
                                 "manifest.json")
    out_dir = Path(out_dir)
    target = Target(psnr=target_psnr, delta_e=target_delta_e)
    if target and max_bytes is not None:
        raise click.UsageError("--max-bytes and a quality target each choose K: give one")
    if shared_palette and palette_from:
        raise click.UsageError("--shared-palette and --palette-from exclude each other")
    from ..io.outputs import parse_formats

    formats = parse_formats(formats) + (("png",) if preview else ())
    check_format_options(formats)
    files = file_options(png_effort, webp_method, raw_bit_order, raw_rows, rgb565_endian,
                         rotate)
    palette = None
    if palette_from is not None:  # read once, here: the panel layouts check its size first
        from ..jobs.batch import load_palette

        palette = load_palette(palette_from)
    check_panel_layout(raw_rows, palette, "--palette-from")
    settings = Settings(
        CompressOptions(fit=make_fit_options(k, n_init, max_iter, tol, seed, sample, space),
                        codec=codec, dither=dither, dither_strength=dither_strength, rdo=rdo),
        formats=tuple(dict.fromkeys(formats)), force=force, allow_huge=allow_huge,
        files=files,
        max_bytes=None if max_bytes is None else _size(max_bytes), target=target or None,
        resample=resample_bounds(width, height, fps, plays), wording=flag_message)
    progress = Progress()
    progress.enabled &= not quiet
    if scheduler is not None:
        _quiet_dask_logs()
    try:
        with raised_as_ctrl_c():  # the batch stops its workers itself
            result = run_batch(inputs, out_dir, settings=settings, recursive=not no_recursive,
                               jobs=jobs, resume=resume, shared_palette=shared_palette,
                               palette_from=palette, palette_name=palette_from,
                               scheduler=scheduler, progress=progress,
                               notice=lambda message: (progress.clear(), note(message, quiet)))
    except OptionsChanged as exc:
        raise ParameterError(exc.worded(_changes(exc.before, exc.now)),
                             parameters=exc.parameters) from None
    except KeyboardInterrupt:
        from ..io.manifest import JSON_NAME

        progress.clear()
        text, code = interruption()
        if not (out_dir / JSON_NAME).exists():  # stopped while connecting or counting colours
            raise Interrupted(f"{text} before the batch wrote anything: run it again", code) from None
        raise Interrupted(f"{text}: finished outputs and {out_dir / JSON_NAME} are kept; "
                          "run again with --resume to finish", code) from None
    progress.clear()
    s = result.summary
    if result.duplicates:
        from ..render.report import plural

        note(f"{plural(result.duplicates, 'file')} reached twice (by a link, or named again) "
             f"taken once", quiet)
    for path in result.palette_files:  # in the output folder, named as the user named it
        note(f"shared palette saved to {out_dir / path.name}", quiet)
    psnr = "-" if s.mean_psnr is None else f"{s.mean_psnr:.2f} dB"
    if s.lossless:
        psnr += f" ({s.lossless:,} lossless{' left out' * (s.mean_psnr is not None)})"
    kept = f" ({result.kept} kept from the last run)" if result.kept else ""
    ratio = f" ({s.bytes_in / s.bytes_out:.2f}x)" if s.bytes_out else ""
    echo(f"done {s.done}{kept}, skipped {s.skipped}, failed {s.failed}; "
               f"{s.bytes_in:,} B in -> {s.bytes_out:,} B out{ratio}; mean PSNR {psnr}; "
               f"{result.seconds:.2f} s; manifest in {out_dir}")
    for row in result.manifest.sorted_rows():
        if row["status"] == "failed":
            click.echo(printable(f"quantize: failed: {_failure(row)}", line=True), err=True)
    click.get_current_context().exit(1 if s.failed else 0)  # through main, which shows warnings


def _quiet_dask_logs() -> None:
    """Keep Dask's log off stderr (a lost scheduler is a traceback there): whatever stops a job
    is its row's one-line error, and whatever stops the batch is the command's."""
    try:
        import distributed  # noqa: F401  (sets up Dask's log handler on import)
    except ImportError:
        return  # the executor says what to install
    for name, logger in list(logging.root.manager.loggerDict.items()):
        # the loggers Dask's configuration gave a level; the others take the package's
        if name.split(".")[0] == "distributed" and getattr(logger, "level", 0):
            logger.setLevel(logging.CRITICAL)


# a manifest's options that are not spelt as "--" and their name, and their values in this
# command's words
_OPTION_FLAGS = {"k": "-k", "formats": "--format", "raw_msb_first": "--raw-bit-order",
                 "rgb565_big_endian": "--rgb565-endian"}
_OPTION_WORDS = {"formats": ",".join, "raw_msb_first": lambda v: "msb" if v else "lsb",
                 "rgb565_big_endian": lambda v: "big" if v else "little"}
_RAW_ROWS = ("raw_row_padding", "raw_pages", "raw_planes")


def _changes(before: dict, now: dict) -> str:
    """The options a resume found changed, each as its flag with the two runs' values, as typed
    (``--raw-bit-order lsb, now msb``)."""
    def value(name: str, options: dict) -> str:
        v = options.get(name)
        if v is None:
            return "not given"
        return f"{v:g}" if isinstance(v, float) else _OPTION_WORDS.get(name, str)(v)

    def rows(options: dict) -> str:
        return ("pages" if options["raw_pages"] else "planes" if options["raw_planes"]
                else "padded" if options["raw_row_padding"] else "packed")

    named = before.get("palette_from"), now.get("palette_from")
    said = []
    for name in sorted(k for k in before.keys() | now.keys() if before.get(k) != now.get(k)):
        if name == "palette_from" or name == "k" and any(named):
            continue  # a --palette-from's K is its size, and its name is said with its colours
        if name in _RAW_ROWS:
            if rows(before) != rows(now):
                said.append(f"--raw-rows {rows(before)}, now {rows(now)}")
        elif name == "raw_msb_first" and all(o[name] == (not o["raw_pages"]) for o in (before, now)):
            continue  # each the default of its --raw-rows, said there
        elif name == "palette_sha256" and any(named):
            said.append(f"--palette-from {named[0]}: other colours" if named[0] == named[1] else
                        f"--palette-from {named[0] or 'not given'}, now {named[1] or 'not given'}")
        elif name == "palette_sha256":
            said.append("--palette-from or --shared-palette: another palette" if before[name]
                        and now[name] else f"--palette-from or --shared-palette "
                        f"{'given' if before[name] else 'not given'}, now "
                        f"{'given' if now[name] else 'not given'}")
        elif name == "resample":
            for bound in ("width", "height", "fps", "plays"):
                if before[name].get(bound) != now[name].get(bound):
                    said.append(f"--{bound} {value(bound, before[name])}, now "
                                f"{value(bound, now[name])}")
        else:
            flag = _OPTION_FLAGS.get(name, "--" + name.replace("_", "-"))
            said.append(f"{flag} {value(name, before)}, now {value(name, now)}")
    return "; ".join(dict.fromkeys(said))


def _failure(row: dict) -> str:
    """A failed row's error after its path, its input named once (a reader's message starts with
    the input's name)."""
    error, name = row["error"], display_name(row["path"])
    if error.startswith(name) and error[len(name):len(name) + 1] in (" ", ":"):
        return error
    return f"{row['path']}: {error}"


def _size(text: str) -> int:
    from ..jobs.sweep import parse_size

    return parse_size(text)
