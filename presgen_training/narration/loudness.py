"""Loudness normalization to EBU R128 delivery levels: integrated loudness measured per ITU-R BS.1770-4
(``bs1770``), a gain to the target, and a true-peak limiter so the gain never clips.

The limiter works on the 4x-oversampled signal (BS.1770-4 Annex 2's true-peak estimate): the gain each sample
needs is held over HOLD_S either side and smoothed over HOLD_S, which keeps it at or under what every sample
needs (no overshoot) while gain changes stay slow enough not to distort speech. It is a pure function of the
samples, so a section's audio depends on nothing but its own text and voice.
"""

from __future__ import annotations

import math

import numpy as np

from presgen_training.narration import bs1770
from presgen_training.narration.resampling import resample_poly

TARGET_LUFS = -16.0  # integrated loudness of speech for online video and e-learning
DELIVERY_PEAK_DBTP = -1.5  # the highest true peak allowed in the finished video
# the clips are limited lower than the delivery limit: the AAC encoder's own overshoot must fit under it
TRUE_PEAK_CEILING_DBTP = -2.5
OVERSAMPLING = 4  # BS.1770-4 true-peak estimation at 48 kHz
HOLD_S = 0.02  # the limiter's gain is held and smoothed over this, either side of a peak
MIN_MEASURED_S = 1.0  # shorter clips are measured repeated to this length (BS.1770 gates 400 ms blocks)
SILENCE_LUFS = -70.0  # BS.1770's absolute gate: nothing louder to normalize
TOLERANCE_LU = 0.05
MAX_PASSES = 6  # gain, limit, re-measure: the secant method converges in two to four
MAX_GAIN_DB = 60.0  # never amplify more than this (a near-silent clip stays near silent)
MAX_STEP_DB = 12.0  # largest gain change between two passes
SATURATED_LU = 0.02  # a pass that gains less than this is the most the limiter allows


def integrated_loudness(samples: np.ndarray, rate: int) -> float:
    """BS.1770-4 integrated loudness (LUFS) of float samples in [-1, 1]; -inf for silence."""
    x = np.asarray(samples, dtype=np.float64)
    if len(x) == 0 or not np.any(x):
        return -math.inf
    minimum = int(MIN_MEASURED_S * rate)
    if len(x) < minimum:  # a repeated clip has the clip's own loudness
        x = np.tile(x, -(-minimum // len(x)))
    return bs1770.integrated_loudness(x, rate)


def true_peak(samples: np.ndarray) -> float:
    """Largest absolute value of the 4x-oversampled signal (linear; 1.0 = 0 dBTP)."""
    return float(np.abs(_oversampled(samples)).max(initial=0.0))


def normalize(
    samples: np.ndarray, rate: int, target_lufs: float = TARGET_LUFS, ceiling_dbtp: float = TRUE_PEAK_CEILING_DBTP
) -> np.ndarray:
    """``samples`` (float, [-1, 1]) at ``target_lufs`` integrated, true peak at or under ``ceiling_dbtp``."""
    x = np.asarray(samples, dtype=np.float64)
    loudness = integrated_loudness(x, rate)
    if not math.isfinite(loudness) or loudness < SILENCE_LUFS:
        return x.copy()
    ceiling = 10 ** (ceiling_dbtp / 20)
    peaks = _peak_per_sample(x)  # the limiter's input scales with the gain: oversample once

    def error_at(gain_db: float) -> tuple[float, np.ndarray]:
        y = _limited(x, peaks, 10 ** (gain_db / 20), rate, ceiling)
        return target_lufs - integrated_loudness(y, rate), y

    # the limiter takes some loudness away, more the louder it is driven: find the gain by the secant method,
    # never stepping against the error, and stop where more gain no longer makes it louder (all peaks at the
    # ceiling: a short, peaky clip may stay a little under the target)
    gain_db = target_lufs - loudness
    error, y = error_at(gain_db)
    best = (abs(error), y)
    previous: tuple[float, float] | None = None
    for _ in range(MAX_PASSES):
        if abs(error) <= TOLERANCE_LU:
            break
        step = error
        if previous is not None and previous[1] != error:
            step = error * (gain_db - previous[0]) / (previous[1] - error)
        if step * error <= 0:
            step = error
        step = max(-MAX_STEP_DB, min(MAX_STEP_DB, step))
        previous = (gain_db, error)
        gain_db = min(gain_db + step, MAX_GAIN_DB)
        error, y = error_at(gain_db)
        if abs(error) < best[0]:
            best = (abs(error), y)
        if error > 0 and previous[1] - error < SATURATED_LU:
            break
    y = best[1]
    residue = true_peak(y)  # the smoothed gain bends the waveform slightly between samples
    return y * (ceiling / residue) if residue > ceiling else y


def limit(samples: np.ndarray, rate: int, ceiling: float) -> np.ndarray:
    """True-peak limiting to ``ceiling`` (linear)."""
    x = np.asarray(samples, dtype=np.float64)
    if len(x) == 0:
        return x.copy()
    y = _limited(x, _peak_per_sample(x), 1.0, rate, ceiling)
    residue = true_peak(y)
    return y * (ceiling / residue) if residue > ceiling else y


def _limited(x: np.ndarray, peaks: np.ndarray, gain: float, rate: int, ceiling: float) -> np.ndarray:
    """``x * gain`` with the gain lowered around every sample whose (oversampled) peak would pass ``ceiling``."""
    needed = np.minimum(1.0, ceiling / np.maximum(peaks * gain, 1e-12))
    if needed.min() >= 1.0:
        return x * gain
    hold = max(1, int(HOLD_S * rate))
    smooth = moving_mean(moving_min(needed, 2 * hold + 1), hold + 1)
    limited: np.ndarray = x * (gain * np.minimum(smooth, needed))
    return limited


def _oversampled(samples: np.ndarray) -> np.ndarray:
    x = np.asarray(samples, dtype=np.float64)
    if len(x) == 0:
        return x
    return resample_poly(x, OVERSAMPLING, 1)


def _peak_per_sample(x: np.ndarray) -> np.ndarray:
    """For each sample, the largest absolute oversampled value between it and its neighbours."""
    up = np.abs(_oversampled(x))[: len(x) * OVERSAMPLING].reshape(len(x), OVERSAMPLING).max(axis=1)
    both: np.ndarray = np.maximum(up, np.abs(x))
    peaks: np.ndarray = np.maximum(both, np.concatenate([both[1:], both[-1:]]))
    return peaks


def _window_edges(size: int) -> tuple[int, int]:
    """Samples before and after each one in a centred window of ``size`` (an even window reaches one further back)."""
    before = size // 2
    return before, size - 1 - before


def moving_min(x: np.ndarray, size: int) -> np.ndarray:
    """Minimum over a centred window of ``size`` samples, the ends extended with the edge values
    (van Herk/Gil-Werman: prefix and suffix minima of blocks of ``size``, linear in len(x))."""
    before, after = _window_edges(size)
    padded = np.concatenate([np.full(before, x[0]), x, np.full(after, x[-1])])
    blocks = -(-len(padded) // size)
    flat = np.full(blocks * size, np.inf)
    flat[: len(padded)] = padded
    grid = flat.reshape(blocks, size)
    prefix = np.minimum.accumulate(grid, axis=1).reshape(-1)
    suffix = np.minimum.accumulate(grid[:, ::-1], axis=1)[:, ::-1].reshape(-1)
    starts = np.arange(len(x))
    result: np.ndarray = np.minimum(suffix[starts], prefix[starts + size - 1])
    return result


def moving_mean(x: np.ndarray, size: int) -> np.ndarray:
    """Mean over a centred window of ``size`` samples, the ends extended with the edge values."""
    before, after = _window_edges(size)
    padded = np.concatenate([np.full(before, x[0]), x, np.full(after, x[-1])])
    sums = np.concatenate([[0.0], np.cumsum(padded)])
    result: np.ndarray = (sums[size:] - sums[:-size]) / size
    return result
