"""The blue-noise threshold mask of ``--dither blue-noise``: Ulichney's void-and-cluster method.

R. Ulichney, "The void-and-cluster method for dither array generation", Proc. SPIE 1913,
Human Vision, Visual Processing, and Digital Display IV (1993), pp. 332-343.

The mask is made once by :func:`void_and_cluster` and shipped as ``data/blue_noise_64.npy``
(``python -m quantize.core.bluenoise`` writes it again; a test checks the two agree), so a run only
loads 8 KB. The energy is kept in integers and ties go to the first position, so the same mask
comes out on every machine.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np

MASK_FILE = Path(__file__).with_name("data") / "blue_noise_64.npy"
SIZE = 64
SIGMA = 1.5  # Ulichney's choice: wide enough to see clusters, narrow enough to keep detail
_SCALE = 1 << 24  # energy kernel in integer units, so sums are exact


def _kernel(size: int, sigma: float) -> np.ndarray:
    """The Gaussian energy kernel on a ``size`` torus, centred on (0, 0), in integer units."""
    d = np.minimum(np.arange(size), size - np.arange(size)).astype(np.float64)
    g = np.exp(-(d[:, None] ** 2 + d[None, :] ** 2) / (2 * sigma * sigma))
    return np.rint(g * _SCALE).astype(np.int64)


def _initial_pattern(size: int, share: float = 0.1) -> np.ndarray:
    """A fixed pseudo-random binary pattern with ``share`` of the cells set (a 64-bit LCG: no
    dependence on NumPy's generators), spread by void-and-cluster swaps."""
    n = size * size
    order, state = [], 0x2545F4914F6CDD1D
    for _ in range(n):
        state = (state * 6364136223846793005 + 1442695040888963407) % (1 << 64)
        order.append(state >> 11)
    pattern = np.zeros(n, bool)
    pattern[np.argsort(np.array(order, np.uint64), kind="stable")[:max(1, int(n * share))]] = True
    return pattern


class _Field:
    """A binary pattern on the torus and its energy (the kernel summed over the set cells)."""

    def __init__(self, pattern: np.ndarray, kernel: np.ndarray) -> None:
        self.size = kernel.shape[0]
        self.kernel = kernel
        self.on = pattern.copy()
        self.energy = np.zeros(self.size * self.size, np.int64)
        for p in np.flatnonzero(pattern):
            self.energy += self._shifted(p)

    def _shifted(self, p: int) -> np.ndarray:
        y, x = divmod(int(p), self.size)
        return np.roll(self.kernel, (y, x), axis=(0, 1)).ravel()

    def toggle(self, p: int) -> None:
        self.on[p] = not self.on[p]
        self.energy += self._shifted(p) if self.on[p] else -self._shifted(p)

    def tightest_cluster(self) -> int:
        return int(np.argmax(np.where(self.on, self.energy, np.iinfo(np.int64).min)))

    def largest_void(self) -> int:
        return int(np.argmin(np.where(self.on, np.iinfo(np.int64).max, self.energy)))


def void_and_cluster(size: int = SIZE, sigma: float = SIGMA) -> np.ndarray:
    """A (size, size) uint16 threshold mask holding each of 0 .. size² - 1 once, blue noise."""
    kernel = _kernel(size, sigma)
    field = _Field(_initial_pattern(size), kernel)
    while True:  # spread the initial pattern: move its tightest cluster into its largest void
        cluster = field.tightest_cluster()
        field.toggle(cluster)
        void = field.largest_void()
        if void == cluster:
            field.toggle(cluster)
            break
        field.toggle(void)
    prototype = field.on.copy()
    rank = np.zeros(size * size, np.int64)
    ones = int(prototype.sum())
    for r in range(ones - 1, -1, -1):  # phase 1: remove clusters, the tightest ranked last
        p = field.tightest_cluster()
        field.toggle(p)
        rank[p] = r
    field = _Field(prototype, kernel)
    # phases 2 and 3: fill voids; on the torus the zeros' tightest cluster is the ones' largest
    # void, so the same step serves past half
    for r in range(ones, size * size):
        p = field.largest_void()
        field.toggle(p)
        rank[p] = r
    return rank.reshape(size, size).astype(np.uint16)


@lru_cache(maxsize=1)
def blue_noise_mask() -> np.ndarray:
    """The shipped 64 x 64 void-and-cluster mask (read-only)."""
    mask = np.load(MASK_FILE)
    mask.flags.writeable = False
    return mask


if __name__ == "__main__":
    MASK_FILE.parent.mkdir(exist_ok=True)
    np.save(MASK_FILE, void_and_cluster())
    print(f"wrote {MASK_FILE}")
