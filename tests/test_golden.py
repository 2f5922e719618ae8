"""Outputs stay byte-identical across refactors: SHA-256 of every file a fixed set of runs writes
from the bundled images (packed files, every image and firmware format, palette files, sweep JSON
without timings), against ``tests/golden.json``.

A change that is meant to alter outputs (a new coder, a better fit) regenerates the digests with
``QUANTIZE_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py`` and says why in its commit.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from quantize.cli import main

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).with_name("golden.json")
IMAGES = ("parrots.png", "motocross.jpg", "logo.png")  # the logo has transparency
OPAQUE_ONLY = {"bits"}

RUNS = {
    "default": ["-k", "64"],
    "rgb-k16": ["-k", "16", "--space", "rgb"],
    "fs": ["-k", "32", "--dither", "fs"],
    "blue-noise": ["-k", "8", "--dither", "blue-noise"],
    "pattern": ["-k", "8", "--dither", "pattern"],
    "zstd": ["-k", "200", "--codec", "zstd", "--format", "qnt"],
    "bits": ["-k", "16", "--bits", "5,6,5", "--format", "qnt,webp,gif,c,raw,rgb565"],
    "export": ["-k", "12", "--export-palette", "gpl,ase,json", "--format", "qnt"],
}


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.iterdir()) if p.is_file()}


def _untimed(value: object) -> object:
    """``value`` without its ``seconds`` entries, at any depth."""
    if isinstance(value, dict):
        return {k: _untimed(v) for k, v in value.items() if k != "seconds"}
    if isinstance(value, list):
        return [_untimed(v) for v in value]
    return value


def _run(args: list) -> None:
    with pytest.raises(SystemExit) as done:
        main([str(a) for a in args])
    assert done.value.code == 0


def test_outputs_match_the_golden_digests(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)  # the sweep's JSON names its input as given
    found: dict[str, dict[str, str]] = {}
    for image in IMAGES:
        for name, args in RUNS.items():
            if image == "logo.png" and name in OPAQUE_ONLY:
                continue
            out = tmp_path / f"{Path(image).stem}-{name}"
            _run(["compress", Path("test_images", image), "-o", out, "-q", *args])
            found[out.name] = _digests(out)
    sweep = tmp_path / "sweep.json"
    capsys.readouterr()
    _run(["sweep", "test_images/parrots.png", "-k", "4,16,64", "--json", "-q"])
    sweep.write_text(json.dumps(_untimed(json.loads(capsys.readouterr().out)), sort_keys=True))
    found["sweep"] = {"sweep.json": hashlib.sha256(sweep.read_bytes()).hexdigest()}
    palette = tmp_path / "palette"
    _run(["palette", "test_images/motocross.jpg", "-k", "10", "-o", palette,
          "--format", "gpl,aco,css", "-q"])
    found["palette"] = _digests(palette)
    if os.environ.get("QUANTIZE_UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n")
    golden = json.loads(GOLDEN.read_text())
    changed = sorted(f"{run}/{name}" for run in golden | found for name in
                     set(golden.get(run, {})) | set(found.get(run, {}))
                     if golden.get(run, {}).get(name) != found.get(run, {}).get(name))
    assert not changed, "outputs differ from tests/golden.json: " + ", ".join(changed)
