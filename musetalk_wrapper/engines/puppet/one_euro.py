"""One Euro filter (Casiez, Roussel, Vogel 2012) over whole landmark sets, plus a zero-lag variant.

The filter lowers its cutoff when landmarks are still (removing detector shimmer) and raises it when they move
(so lips and head motion are followed without visible lag).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class OneEuroParams:
    min_cutoff_hz: float = 1.2  # cutoff for still landmarks
    beta: float = 6.0  # cutoff increase per (unit / s) of speed; units are face scales when fed normalised points
    d_cutoff_hz: float = 1.0  # cutoff of the speed estimate


def _alpha(cutoff_hz: np.ndarray | float, dt: float) -> np.ndarray | float:
    tau = 1.0 / (2.0 * math.pi * cutoff_hz)
    return 1.0 / (1.0 + tau / dt)


def one_euro(series: np.ndarray, fps: float, params: OneEuroParams = OneEuroParams()) -> np.ndarray:
    """Filter ``series`` (T, ...) causally along axis 0; each element adapts its cutoff to its own speed."""
    x = np.asarray(series, dtype=np.float64)
    out = np.empty_like(x)
    if len(x) == 0:
        return out
    dt = 1.0 / fps
    a_d = _alpha(params.d_cutoff_hz, dt)
    prev = x[0].copy()
    d_prev = np.zeros_like(prev)
    out[0] = prev
    for t in range(1, len(x)):
        d = (x[t] - prev) / dt
        d_hat = a_d * d + (1.0 - a_d) * d_prev
        a = _alpha(params.min_cutoff_hz + params.beta * np.abs(d_hat), dt)
        prev = a * x[t] + (1.0 - a) * prev
        d_prev = d_hat
        out[t] = prev
    return out


def one_euro_zero_lag(series: np.ndarray, fps: float, params: OneEuroParams = OneEuroParams()) -> np.ndarray:
    """Mean of a forward and a backward pass: the whole track is known offline, so no lag is needed."""
    x = np.asarray(series, dtype=np.float64)
    result: np.ndarray = 0.5 * (one_euro(x, fps, params) + one_euro(x[::-1], fps, params)[::-1])
    return result


def one_euro_windowed(
    series: np.ndarray, centres: np.ndarray, window: int, fps: float, params: OneEuroParams = OneEuroParams()
) -> np.ndarray:
    """Zero-lag One Euro value at each index in ``centres``, from the ``window`` samples on each side only
    (indices clamped to the series): each result depends on its neighbourhood alone, so a frame filtered inside
    a short stretch of the series equals the same frame filtered inside a long one."""
    x = np.asarray(series, dtype=np.float64)
    last = len(x) - 1
    centres = np.asarray(centres, dtype=np.int64)
    dt = 1.0 / fps
    a_d = _alpha(params.d_cutoff_hz, dt)
    out = np.zeros((len(centres), *x.shape[1:]))
    for direction in (-1, 1):  # forward pass ends at the centre coming from the past, backward from the future
        idx = np.clip(centres + direction * window, 0, last)
        prev = x[idx].copy()
        d_prev = np.zeros_like(prev)
        for step in range(window - 1, -1, -1):
            idx = np.clip(centres + direction * step, 0, last)
            d = (x[idx] - prev) / dt
            d_hat = a_d * d + (1.0 - a_d) * d_prev
            a = _alpha(params.min_cutoff_hz + params.beta * np.abs(d_hat), dt)
            prev = a * x[idx] + (1.0 - a) * prev
            d_prev = d_hat
        out += 0.5 * prev
    return out
