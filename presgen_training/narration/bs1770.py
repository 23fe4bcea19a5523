"""ITU-R BS.1770-4 integrated loudness of a mono signal, as pyloudnorm 0.2 measures it (its K-weighting biquads,
400 ms blocks overlapping by 75%, absolute and relative gates), in numpy alone: pyloudnorm filters with
scipy.signal, which takes ~2.5 s to import.

The two K-weighting biquads are applied as one FIR: their impulse response, which has decayed below 1e-20 of its
peak after IMPULSE_S, convolved with the signal by FFT (in blocks).
"""

from __future__ import annotations

import functools
import math

import numpy as np

BLOCK_S = 0.4  # gating block
BLOCK_STEP = 0.25  # of a block: blocks overlap by 75%
ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0
LOUDNESS_OFFSET_DB = -0.691  # BS.1770's constant, so a 997 Hz sine at 0 dBFS reads -3.01 LUFS
IMPULSE_S = 0.25  # the K-weighting's impulse response is kept this long (by then it is below 1e-20)
FFT_SIZE = 1 << 16  # the block convolution's transform length (at most)
SHELF_GAIN_DB, SHELF_Q, SHELF_HZ = 4.0, 1 / math.sqrt(2), 1500.0  # stage 1: the head's acoustic effect
HIGHPASS_Q, HIGHPASS_HZ = 0.5, 38.0  # stage 2: the RLB high-pass


def _high_shelf(rate: int) -> tuple[np.ndarray, np.ndarray]:
    a_gain = 10 ** (SHELF_GAIN_DB / 40)
    w0 = 2 * math.pi * SHELF_HZ / rate
    alpha = math.sin(w0) / (2 * SHELF_Q)
    cos, root = math.cos(w0), 2 * math.sqrt(a_gain) * alpha
    b = [
        a_gain * ((a_gain + 1) + (a_gain - 1) * cos + root),
        -2 * a_gain * ((a_gain - 1) + (a_gain + 1) * cos),
        a_gain * ((a_gain + 1) + (a_gain - 1) * cos - root),
    ]
    a = [
        (a_gain + 1) - (a_gain - 1) * cos + root,
        2 * ((a_gain - 1) - (a_gain + 1) * cos),
        (a_gain + 1) - (a_gain - 1) * cos - root,
    ]
    return np.array(b) / a[0], np.array(a) / a[0]


def _high_pass(rate: int) -> tuple[np.ndarray, np.ndarray]:
    w0 = 2 * math.pi * HIGHPASS_HZ / rate
    alpha = math.sin(w0) / (2 * HIGHPASS_Q)
    cos = math.cos(w0)
    b = [(1 + cos) / 2, -(1 + cos), (1 + cos) / 2]
    a = [1 + alpha, -2 * cos, 1 - alpha]
    return np.array(b) / a[0], np.array(a) / a[0]


def _biquad(b: list[float], a: list[float], x: list[float]) -> list[float]:
    """Direct form I filtering (a[0] == 1); a plain loop, run only on the one-second impulse response."""
    out: list[float] = []
    x1 = x2 = y1 = y2 = 0.0
    for x0 in x:
        y0 = b[0] * x0 + b[1] * x1 + b[2] * x2 - a[1] * y1 - a[2] * y2
        out.append(y0)
        x2, x1, y2, y1 = x1, x0, y1, y0
    return out


@functools.lru_cache(maxsize=4)
def k_weighting_impulse(rate: int) -> np.ndarray:
    impulse = [1.0] + [0.0] * (int(IMPULSE_S * rate) - 1)
    b1, a1 = _high_shelf(rate)
    b2, a2 = _high_pass(rate)
    return np.array(_biquad(b2.tolist(), a2.tolist(), _biquad(b1.tolist(), a1.tolist(), impulse)))


def k_weighted(samples: np.ndarray, rate: int) -> np.ndarray:
    """The signal through the K-weighting filters (overlap-add FFT convolution, blocks of BLOCK_SAMPLES)."""
    x = np.asarray(samples, dtype=np.float64)
    taps = int(IMPULSE_S * rate)
    size = min(FFT_SIZE, 1 << (len(x) + taps - 2).bit_length())
    block = size - taps + 1  # each block's convolution fills the FFT exactly
    spectrum = _impulse_spectrum(rate, size)
    out = np.zeros(len(x) + size)
    for start in range(0, len(x), block):
        out[start : start + size] += np.fft.irfft(np.fft.rfft(x[start : start + block], size) * spectrum, size)
    return out[: len(x)]


@functools.lru_cache(maxsize=8)
def _impulse_spectrum(rate: int, size: int) -> np.ndarray:
    return np.fft.rfft(k_weighting_impulse(rate), size)


def integrated_loudness(samples: np.ndarray, rate: int) -> float:
    """Gated loudness (LUFS) of mono float samples at least one block long; -inf when every block is gated."""
    weighted = k_weighted(samples, rate)
    n = len(weighted)
    blocks = int(np.round((n / rate - BLOCK_S) / (BLOCK_S * BLOCK_STEP))) + 1
    j = np.arange(blocks)
    lo = (BLOCK_S * (j * BLOCK_STEP) * rate).astype(np.int64)
    hi = (BLOCK_S * (j * BLOCK_STEP + 1) * rate).astype(np.int64)
    energy = np.concatenate([[0.0], np.cumsum(weighted * weighted)])
    z = (energy[np.minimum(hi, n)] - energy[np.minimum(lo, n)]) / (BLOCK_S * rate)
    with np.errstate(divide="ignore"):
        block_lufs = LOUDNESS_OFFSET_DB + 10 * np.log10(z)
    above = block_lufs >= ABSOLUTE_GATE_LUFS
    if not above.any():
        return -math.inf
    relative = LOUDNESS_OFFSET_DB + 10 * math.log10(float(z[above].mean())) + RELATIVE_GATE_LU
    kept = (block_lufs > relative) & (block_lufs > ABSOLUTE_GATE_LUFS)
    if not kept.any():
        return -math.inf
    return LOUDNESS_OFFSET_DB + 10 * math.log10(float(z[kept].mean()))
