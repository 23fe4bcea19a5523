"""The mouth shape per output frame, whichever driver (phoneme timings or audio) produced it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class MouthTrack:
    open: np.ndarray  # (T,) 0 = lips closed .. 1 = widest open ("a")
    width: np.ndarray  # (T,) -1 = rounded (o/u/w) .. 0 = rest .. +1 = spread (i/e)
    upper: np.ndarray  # (T,) share of the opening made by lifting the upper lip (shows the upper teeth: f/v, s)
    tongue: np.ndarray | None = None  # (T,) tongue tip raised behind the upper teeth (l n t d)
    tongue_out: np.ndarray | None = None  # (T,) tongue tip between the teeth (th)
    speaking: np.ndarray | None = None  # (T,) 0 in pauses .. 1 in speech, ramped: how far from the resting mouth

    def __len__(self) -> int:
        return len(self.open)

    def clipped(self) -> MouthTrack:
        def unit(a: np.ndarray | None) -> np.ndarray:
            return np.zeros(len(self.open)) if a is None else np.clip(a, 0.0, 1.0)

        return MouthTrack(
            np.clip(self.open, 0.0, 1.0),
            np.clip(self.width, -1.0, 1.0),
            unit(self.upper),
            unit(self.tongue),
            unit(self.tongue_out),
            unit(self.speaking),
        )


SPEAKING_RAMP_S = 0.16  # the mouth leaves its resting shape over this time before speech, and returns after it


def speaking_weight(silent: np.ndarray, fps: float) -> np.ndarray:
    """1 in speech and 0 in pauses, ramped over SPEAKING_RAMP_S on both sides of every pause."""
    talk = np.flatnonzero(~np.asarray(silent, dtype=bool))
    n = len(silent)
    if len(talk) == 0:
        return np.zeros(n)
    frames = np.arange(n)
    pos = np.clip(np.searchsorted(talk, frames), 1, len(talk)) - 1
    nearest = np.minimum(np.abs(frames - talk[pos]), np.abs(frames - talk[np.minimum(pos + 1, len(talk) - 1)]))
    ramp = np.clip(1.0 - nearest / (SPEAKING_RAMP_S * fps + 1.0), 0.0, 1.0)
    result: np.ndarray = ramp * ramp * (3.0 - 2.0 * ramp)
    return result


def smooth(values: np.ndarray, kernel: tuple[float, ...]) -> np.ndarray:
    """Symmetric FIR smoothing with edge padding (the track is known in full, so no lag)."""
    k = np.asarray(kernel, dtype=np.float64)
    k = k / k.sum()
    pad = len(k) // 2
    padded = np.pad(np.asarray(values, dtype=np.float64), pad, mode="edge")
    return np.convolve(padded, k, mode="valid")


OPEN_P95 = 1.0  # in speech, the opening's 95th percentile is the widest shape: loud open vowels open fully
OPEN_GAIN_RANGE = (0.8, 2.2)


def calibrated(open_: np.ndarray, silent: np.ndarray) -> np.ndarray:
    """Scale a clip's opening so its 95th percentile in speech is OPEN_P95, whatever the driver and voice
    (a quiet narrator opens as wide as a loud one; real speakers do)."""
    speech = ~np.asarray(silent, dtype=bool) & (open_ > 0.05)
    if speech.sum() < 10:
        return open_
    gain = OPEN_P95 / max(float(np.percentile(open_[speech], 95)), 1e-6)
    return open_ * float(np.clip(gain, *OPEN_GAIN_RANGE))
