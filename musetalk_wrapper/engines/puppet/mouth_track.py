"""The mouth shape per output frame, whichever driver (phoneme timings or audio) produced it."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class MouthTrack:
    open: np.ndarray  # (T,) 0 = lips closed .. 1 = widest open ("a")
    width: np.ndarray  # (T,) -1 = rounded (o/u/w) .. 0 = rest .. +1 = spread (i/e)
    upper: np.ndarray  # (T,) share of the opening made by lifting the upper lip (shows the upper teeth: f/v, s)

    def __len__(self) -> int:
        return len(self.open)

    def clipped(self) -> MouthTrack:
        return MouthTrack(np.clip(self.open, 0.0, 1.0), np.clip(self.width, -1.0, 1.0), np.clip(self.upper, 0.0, 1.0))


def smooth(values: np.ndarray, kernel: tuple[float, ...]) -> np.ndarray:
    """Symmetric FIR smoothing with edge padding (the track is known in full, so no lag)."""
    k = np.asarray(kernel, dtype=np.float64)
    k = k / k.sum()
    pad = len(k) // 2
    padded = np.pad(np.asarray(values, dtype=np.float64), pad, mode="edge")
    return np.convolve(padded, k, mode="valid")
