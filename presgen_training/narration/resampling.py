"""Polyphase resampling in numpy, the same samples (to rounding) as ``scipy.signal.resample_poly`` with its default
Kaiser window and zero padding: importing scipy.signal takes ~2.5 s, longer than speaking an edited sentence."""

from __future__ import annotations

import math

import numpy as np

KAISER_BETA = 5.0
HALF_LEN_PER_RATE = 10  # the filter's half-length in taps, per unit of the larger of the two rates
CHUNK_OUTPUTS = 1 << 15  # outputs gathered at once (bounds the temporary arrays)


def lowpass_taps(up: int, down: int) -> np.ndarray:
    """The anti-alias filter of a resampling by up/down: a Kaiser-windowed sinc cut at 1/max(up, down) of Nyquist,
    with unit gain at DC, times ``up`` (upsampling inserts up - 1 zeros between samples)."""
    max_rate = max(up, down)
    half_len = HALF_LEN_PER_RATE * max_rate
    m = np.arange(-half_len, half_len + 1)
    cutoff = 1.0 / max_rate
    h = cutoff * np.sinc(cutoff * m) * np.kaiser(2 * half_len + 1, KAISER_BETA)
    result: np.ndarray = h / h.sum() * up
    return result


def resample_poly(x: np.ndarray, up: int, down: int) -> np.ndarray:
    """1-D ``x`` resampled by ``up``/``down``: ceil(len(x) * up / down) samples, the first at x's first."""
    x = np.asarray(x, dtype=np.float64)
    g = math.gcd(up, down)
    up, down = up // g, down // g
    if up == down == 1:
        return x.copy()
    n_in, n_out = len(x), -(-len(x) * up // down)
    half_len = HALF_LEN_PER_RATE * max(up, down)
    pre_pad = down - half_len % down  # zeros before the filter, so that output 0 falls on input 0
    h = np.concatenate([np.zeros(pre_pad), lowpass_taps(up, down)])
    first = (half_len + pre_pad) // down  # the first output kept, counted in the full filtered stream
    taps = -(-len(h) // up)
    # phases[p, t] = h[p + t * up]: output k is sum over t of phases[(k * down) % up, t] * x[(k * down) // up - t]
    flat = np.zeros(up * taps)
    flat[: len(h)] = h
    phases = flat.reshape(taps, up).T
    # output k = first + j uses phase (k * down) % up on the inputs ending at (k * down) // up; the outputs of one
    # phase are every up-th, and their inputs move by ``down`` from one to the next: windows at a stride
    last_base = ((first + n_out - 1) * down) // up
    padded = np.concatenate([np.zeros(taps - 1), x, np.zeros(max(0, last_base + 1 - n_in) + 1)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, taps)  # windows[b] ends at input b
    inverse = pow(down, -1, up)
    y = np.empty(n_out)
    for p in range(up):
        j0 = (p * inverse - first) % up
        count = len(range(j0, n_out, up))
        b0 = ((first + j0) * down) // up
        rows = windows[b0 : b0 + down * (count - 1) + 1 : down]
        kernel = phases[p][::-1]
        out = np.empty(count)
        for c in range(0, count, CHUNK_OUTPUTS):
            out[c : c + CHUNK_OUTPUTS] = rows[c : c + CHUNK_OUTPUTS] @ kernel
        y[j0::up] = out
    return y
