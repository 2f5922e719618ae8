"""Coverage-guided fuzzing of the packed-file reader with atheris; not collected by pytest.

Run: pip install atheris && python tests/fuzz/fuzz_container.py -max_total_time=600 [corpus_dir]
"""

from __future__ import annotations

import sys
import zlib

from quantize.io.container import MAGIC, decode
from quantize.errors import FormatError


def fuzz_one_input(data: bytes) -> None:
    """Decode the input as is and with the magic and CRC made valid, so the fuzzer gets past both."""
    body = MAGIC + data[len(MAGIC):]
    for candidate in (data, body + zlib.crc32(body).to_bytes(4, "little")):
        try:
            decode(candidate, max_pixels=1 << 22)
        except FormatError:
            pass


def main() -> None:
    import atheris

    atheris.instrument_all()
    atheris.Setup(sys.argv, fuzz_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
