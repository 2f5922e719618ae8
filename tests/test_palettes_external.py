"""Our ASE and ACO files read by code we did not write: the PyPI packages `swatch` (ASE) and
`adobe-color-swatch` (ACO). Both install a module named ``swatch``, so each runs in its own process
with its own install folder (a global install is used when it is the right package). The packages
are installed on first use into pytest's cache; the tests skip when that is not possible."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from quantize.io.palettes import Palette, write_palette

READER = Path(__file__).parent / "palette_tools" / "read_external.py"
RGB = np.array([[30, 144, 255], [255, 0, 0], [0, 0, 0], [255, 255, 255], [1, 2, 3]], dtype=np.uint8)
NAMES = ("Café crème", "Rouge ☕", "Émoji 🎨🖌️", "日本の白", "plain")
PALETTE = Palette(RGB, np.array([0.4, 0.3, 0.2, 0.075, 0.025]), NAMES, "Marque ✨")
LABELS = ["Café crème (40.0%)", "Rouge ☕ (30.0%)", "Émoji 🎨🖌️ (20.0%)", "日本の白 (7.5%)", "plain (2.5%)"]


def _run(folder: str, kind: str, path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-I", str(READER), folder, kind, str(path)],
                          capture_output=True, text=True, timeout=120)


def _checker(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
             package: str, kind: str) -> str:
    """A folder to put first on the path for ``package`` ("" when installed globally), or skip."""
    probe = tmp_path_factory.mktemp("probe") / f"empty.{kind}"
    probe.write_bytes(b"ASEF\x00\x01\x00\x00\x00\x00\x00\x00" if kind == "ase" else b"\x00\x01\x00\x00")
    if _run("", kind, probe).returncode == 0:
        return ""
    cache = getattr(request.config, "cache", None)
    root = cache.mkdir("palette-checkers") if cache else tmp_path_factory.mktemp("palette-checkers")
    folder = root / package
    if not (folder / ".installed").exists():
        try:
            done = subprocess.run(
                [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                 "--no-deps", "--retries", "0", "--timeout", "20", "--target", str(folder), package],
                capture_output=True, text=True, timeout=180)
        except (OSError, subprocess.TimeoutExpired) as exc:
            pytest.skip(f"cannot install {package}: {exc}")
        if done.returncode != 0:
            pytest.skip(f"cannot install {package}: {done.stderr.strip()[-300:]}")
        (folder / ".installed").touch()
    if _run(str(folder), kind, probe).returncode != 0:
        pytest.skip(f"{package} installed in {folder} cannot be imported")
    return str(folder)


@pytest.fixture(scope="module")
def ase_checker(request, tmp_path_factory) -> str:
    return _checker(request, tmp_path_factory, "swatch", "ase")


@pytest.fixture(scope="module")
def aco_checker(request, tmp_path_factory) -> str:
    return _checker(request, tmp_path_factory, "adobe-color-swatch", "aco")


def _read(folder: str, kind: str, path: Path) -> list[dict]:
    done = _run(folder, kind, path)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["swatches"]


def test_ase_read_by_swatch_package(ase_checker, tmp_path):
    path = write_palette(PALETTE, tmp_path / "brand.ase")
    swatches = _read(ase_checker, "ase", path)
    assert [s["group"] for s in swatches] == ["Marque ✨"] * 5  # all wrapped in one group
    assert [s["name"] for s in swatches] == LABELS
    assert {(s["type"], s["mode"]) for s in swatches} == {("Process", "RGB")}
    values = np.rint(np.array([s["values"] for s in swatches]) * 255)
    np.testing.assert_array_equal(values, RGB)


def test_aco_read_by_adobe_color_swatch_package(aco_checker, tmp_path):
    path = write_palette(PALETTE, tmp_path / "brand.aco")
    swatches = _read(aco_checker, "aco", path)
    assert [s["name"] for s in swatches] == LABELS
    assert {s["space"] for s in swatches} == {0}
    rgb16 = (RGB.astype(int) * 257).tolist()
    assert [s["hex"] for s in swatches] == ["#{:04X}{:04X}{:04X}".format(*c) for c in rgb16]
