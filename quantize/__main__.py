"""``python -m quantize``."""

from .cli import main

main()
