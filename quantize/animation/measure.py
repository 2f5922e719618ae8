"""Quality of an animation: per-frame PSNR and mean CIEDE2000, and flicker.

Flicker is the mean absolute change of the output's RGB values between consecutive frames, over
the pixels whose source did not change (0 when still areas stay still). The meter takes frames as
(H, W, C) uint8 arrays, so it measures any encoder's decoded output, not only ours.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..core.metrics import delta_e_pairs, psnr, sample_positions
from .canvas import differs

#: CIEDE2000 is measured per frame on this many fixed random pixels (all of a smaller frame).
DELTA_E_SAMPLES = 20_000
#: A frame without error counts as this PSNR in the mean (the mean of infinities says nothing).
PSNR_CAP = 100.0


@dataclass
class ClipMeter:
    """Add (source, output) frame pairs in order; read the per-frame and mean figures."""

    psnr: list[float] = field(default_factory=list)
    delta_e: list[float] = field(default_factory=list)
    _flicker_sum: float = 0.0
    _flicker_count: int = 0
    _source: np.ndarray | None = None
    _output: np.ndarray | None = None
    _positions: np.ndarray | None = None  # the ΔE sample, drawn once for the frames' size
    _sampled: np.ndarray | None = None  # the last frame's CIEDE2000 at each sampled position

    def add(self, source: np.ndarray, output: np.ndarray) -> None:
        """Measure one frame: ``output`` is what a viewer sees for ``source`` (same shape)."""
        if source.shape != output.shape:
            raise ValueError(f"frame shapes differ: {source.shape} and {output.shape}")
        diff = source.astype(np.int32) - output
        mse = float(np.einsum("ijk,ijk->", diff, diff, dtype=np.int64)) / diff[..., 0].size
        self.psnr.append(min(PSNR_CAP, psnr(mse, source.shape[2])))
        moved = None  # the pixels whose source or output changed since the frame before
        if self._source is not None:
            still = ~differs(source, self._source)
            shown = differs(output, self._output)
            flickered = still & shown  # elsewhere in still areas it is 0
            change = np.abs(output[flickered][:, :3].astype(np.int16)
                            - self._output[flickered][:, :3])
            self._flicker_sum += float(change.sum())
            self._flicker_count += int(still.sum()) * 3
            moved = ~still | shown
        self.delta_e.append(self._delta_e(source, output, moved))
        self._source, self._output = source, output

    def _delta_e(self, source: np.ndarray, output: np.ndarray, moved: np.ndarray | None) -> float:
        """Mean CIEDE2000 on the frame's fixed sample of pixels, measured again only where the
        source or the output changed (``moved``; None: everywhere)."""
        n, channels = source.shape[0] * source.shape[1], source.shape[2]
        if moved is None:
            self._positions = sample_positions(n, DELTA_E_SAMPLES)
            self._sampled = np.empty(len(self._positions))
            again = np.arange(len(self._positions))
        else:
            again = np.flatnonzero(moved.reshape(n)[self._positions])
        at = self._positions[again]
        self._sampled[again] = delta_e_pairs(source.reshape(n, channels)[at],
                                             output.reshape(n, channels)[at])
        return float(self._sampled.mean())

    @property
    def mean_psnr(self) -> float:
        return float(np.mean(self.psnr)) if self.psnr else math.nan

    @property
    def mean_delta_e(self) -> float:
        return float(np.mean(self.delta_e)) if self.delta_e else math.nan

    @property
    def flicker(self) -> float:
        return self._flicker_sum / self._flicker_count if self._flicker_count else 0.0
