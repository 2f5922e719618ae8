"""The packed-index file format (see docs/FORMAT.md)."""

from __future__ import annotations


def bits_per_index(k: int) -> int:
    """Bits needed to store one index into a palette of ``k`` colours: ceil(log2 k); 0 when k == 1."""
    if k < 1:
        raise ValueError("k must be at least 1")
    return (k - 1).bit_length()
