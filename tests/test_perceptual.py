"""The default space (rgb+lab) against rgb: lower CIEDE2000 for little PSNR; --space in the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from quantize.core.fitting import DEFAULT_SPACE, FitOptions
from quantize.io.images import image_from_array
from quantize.jobs.pipeline import CompressOptions, quantize_image

PARROTS = Path(__file__).resolve().parents[1] / "test_images" / "parrots.png"


def test_default_space_wins_delta_e_within_a_third_of_a_db() -> None:
    assert DEFAULT_SPACE == "rgb+lab"
    image = image_from_array(np.asarray(Image.open(PARROTS).convert("RGB")))
    results = {space: quantize_image(image, CompressOptions(fit=FitOptions(k=32, space=space)))
               for space in ("rgb", DEFAULT_SPACE)}
    rgb, default = results["rgb"], results[DEFAULT_SPACE]
    assert default.delta_e < 0.98 * rgb.delta_e
    assert default.psnr > rgb.psnr - 0.3
    assert default.space == "rgb+lab" and rgb.to_dict()["space"] == "rgb"


def test_cli_space_option_and_json(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "quantize", "compress", str(PARROTS), "-k", "16",
                           "--space", "oklab", "--dither", "ordered", "--dither-strength", "0.5",
                           "-o", str(tmp_path), "--json"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["space"] == "oklab" and report["dither"] == "ordered" and report["k_used"] == 16
    bad = subprocess.run([sys.executable, "-m", "quantize", "compress", str(PARROTS),
                          "--dither-strength", "2", "-o", str(tmp_path / "x")],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode != 0 and "--dither-strength" in bad.stderr
