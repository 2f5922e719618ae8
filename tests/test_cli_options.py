"""The same option means the same thing on every command: names, short flags and choices."""

from __future__ import annotations

import json
from pathlib import Path

import click
import numpy as np
from PIL import Image

from conftest import make_photo
from quantize import choices
from quantize.io import container
from quantize.cli import COMMANDS, LazyGroup, cli, main

FITTING = ("compress", "sweep", "batch", "palette")
MAPPING = ("compress", "sweep", "batch")


def commands() -> dict[str, click.Command]:
    ctx = click.Context(cli)
    return {name: LazyGroup.get_command(cli, ctx, name) for name in COMMANDS}


def options(command: click.Command) -> dict[str, click.Option]:
    return {p.name: p for p in command.params if isinstance(p, click.Option)}


def test_one_meaning_per_short_flag_across_commands() -> None:
    meaning: dict[str, set[str]] = {}
    for command in commands().values():
        for option in options(command).values():
            longs = [o for o in option.opts if o.startswith("--")]
            for short in (o for o in option.opts + option.secondary_opts if not o.startswith("--")):
                meaning.setdefault(short, set()).update(longs)
    assert {short: longs for short, longs in meaning.items() if len(longs) != 1} == {}
    assert meaning["-f"] == {"--force"}


def test_every_command_that_fits_or_maps_offers_the_same_options() -> None:
    found = commands()
    for name in FITTING:
        space = options(found[name])["space"]
        assert tuple(space.type.choices) == choices.SPACES, name
    for name in MAPPING:
        opts = options(found[name])
        assert tuple(opts["dither"].type.choices) == choices.DITHERS, name
        assert "dither_strength" in opts, name
    for name in ("compress", "palette"):
        assert "keep_transparent" in options(found[name]), name
    for name in ("compress", "sweep", "batch"):
        assert tuple(options(found[name])["codec"].type.choices) == choices.CODECS, name


def _run(*args: object) -> int:
    try:
        main([str(a) for a in args])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_batch_and_sweep_take_space_and_dither_as_compress_does(tmp_path: Path, capsys) -> None:
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(make_photo(64, 80)).save(src / "a.png")
    same = ("-k", "8", "--space", "oklab", "--dither", "atkinson", "--dither-strength", "0.5")
    assert _run("compress", src / "a.png", *same, "-o", tmp_path / "c", "-q", "--json") == 0
    single = json.loads(capsys.readouterr().out)
    assert _run("batch", src, *same, "-o", tmp_path / "b", "-q", "-j", "1") == 0
    assert ((tmp_path / "b" / "a.qnt").read_bytes() == (tmp_path / "c" / "a.qnt").read_bytes())
    capsys.readouterr()
    assert _run("sweep", src / "a.png", *same[2:], "-k", "8", "--json", "-q") == 0
    (row,) = json.loads(capsys.readouterr().out)["rows"]
    assert (row["space"], row["dither"], row["psnr"]) == ("oklab", "atkinson", single["psnr"])
    code = _run("sweep", src / "a.png", "-k", "8", "--dither-strength", "0.5", "-q")
    assert code == 2 and "--dither-strength applies to a dither" in capsys.readouterr().err


def test_palette_takes_space_and_compress_keeps_the_transparent_entry(tmp_path: Path, capsys) -> None:
    photo = tmp_path / "p.png"
    Image.fromarray(make_photo(64, 80)).save(photo)
    assert _run("compress", photo, "-k", "6", "--space", "rgb", "-o", tmp_path / "c", "-q") == 0
    fitted = {tuple(c) for c in container.load(tmp_path / "c" / "p.qnt").palette}
    capsys.readouterr()
    assert _run("palette", photo, "-k", "6", "--space", "rgb", "--json", "-q") == 0
    listed = {tuple(int(h[i:i + 2], 16) for i in (1, 3, 5))
              for h in (c["hex"] for c in json.loads(capsys.readouterr().out)["colors"])}
    assert listed == fitted

    rgba = np.dstack([make_photo(64, 80), np.full((64, 80), 255, np.uint8)])
    rgba[:20, :20, 3] = 0
    clear = tmp_path / "clear.png"
    Image.fromarray(rgba).save(clear)
    for keep, out in ((False, "drop"), (True, "keep")):
        args = ["compress", clear, "-k", "6", "--export-palette", "json", "-o", tmp_path / out, "-q"]
        assert _run(*args, *(["--keep-transparent"] if keep else [])) == 0
        entries = json.loads((tmp_path / out / "clear.json").read_text())["colors"]
        assert any(c["hex"].lower() == "#00000000" for c in entries) == keep
    code = _run("compress", photo, "-k", "4", "--keep-transparent", "-o", tmp_path / "x")
    assert code == 2 and "--keep-transparent apply to --export-palette" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
