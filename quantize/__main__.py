"""``python -m quantize``."""

from .cli import run

run()
