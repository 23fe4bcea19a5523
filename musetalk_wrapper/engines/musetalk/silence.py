"""Which video frames fall in a pause of the narration (they keep the source mouth), and how strongly each
frame shows the generated mouth.

MuseTalk moves the mouth during silence (upstream #32); a pause of at least 150 ms is detected from the
short-time energy of 10 ms hops. A hop is quiet below min(noise floor + 10 dB, speech level - 20 dB), where
the noise floor is the 10th and the speech level the 95th percentile of the hop energies; near-digital
silence (TTS) is quiet whatever the percentiles say.
"""

from __future__ import annotations

import numpy as np

HOP_S = 0.010
MIN_PAUSE_S = 0.150
FLOOR_MARGIN_DB = 10.0  # above the noise floor
SPEECH_MARGIN_DB = 20.0  # below the speech level
ABSOLUTE_QUIET_DBFS = -70.0  # always quiet below this
PAUSE_FADE_FRAMES = 3  # the generated mouth fades out (and back in) over this many pause frames at each edge
FLOOR_PERCENTILE, LOUD_PERCENTILE = 10.0, 95.0


def silent_hops(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """bool per 10 ms hop: True inside a pause of at least MIN_PAUSE_S."""
    hop = max(1, round(sample_rate * HOP_S))
    n = len(audio) // hop
    if n == 0:
        return np.zeros(0, dtype=bool)
    frames = audio[: n * hop].astype(np.float64).reshape(n, hop)
    db = 10.0 * np.log10(np.mean(frames * frames, axis=1) + 1e-12)
    floor, loud = (float(v) for v in np.percentile(db, [FLOOR_PERCENTILE, LOUD_PERCENTILE]))
    threshold = max(min(floor + FLOOR_MARGIN_DB, loud - SPEECH_MARGIN_DB), ABSOLUTE_QUIET_DBFS)
    quiet = db < threshold
    min_run = round(MIN_PAUSE_S / HOP_S)
    out = np.zeros(n, dtype=bool)
    start = None
    for i, q in enumerate(np.append(quiet, False)):
        if q and start is None:
            start = i
        elif not q and start is not None:
            if i - start >= min_run:
                out[start:i] = True
            start = None
    return out


def silent_frames(audio: np.ndarray, sample_rate: int, n_frames: int, fps: float) -> np.ndarray:
    """bool per video frame: True when the frame's whole interval lies inside a pause."""
    hops = silent_hops(audio, sample_rate)
    out = np.zeros(n_frames, dtype=bool)
    for i in range(n_frames):
        a = int(np.floor(i / fps / HOP_S))
        b = int(np.ceil((i + 1) / fps / HOP_S))
        if a < len(hops):
            span = hops[a : min(b, len(hops))]
            out[i] = bool(span.size) and bool(span.all())
    return out


def mouth_weights(silent: np.ndarray, fade: int = PAUSE_FADE_FRAMES) -> np.ndarray:
    """Per frame, how much of the generated mouth to blend in: 1 while speaking, then (fade + 1 - d) / (fade + 1)
    for a pause frame d frames from the nearest speech, 0 deeper in the pause. Switching between the generated and
    the source lower face in one frame can jump in texture and colour; this spreads it over ``fade`` frames."""
    speaking = np.flatnonzero(~silent)
    weights = np.zeros(len(silent), dtype=np.float64)
    if speaking.size == 0:
        return weights
    weights[speaking] = 1.0
    for i in np.flatnonzero(silent):
        k = int(np.searchsorted(speaking, i))
        d = min(abs(int(speaking[j]) - int(i)) for j in (k - 1, k) if 0 <= j < speaking.size)
        weights[i] = max(0.0, (fade + 1 - d) / (fade + 1))
    return weights
