"""Per-output-frame audio features: loudness, band energies and the pauses where the mouth must be closed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SAMPLE_RATE = 16000  # Hz, analysis rate
MIN_PAUSE_S = 0.150  # silences at least this long close the mouth
SILENCE_BELOW_PEAK_DB = 30.0  # a frame this far below the speech level (95th percentile) is silent
NOISE_MARGIN_DB = 8.0  # ... or within this margin of the noise floor, when the recording has one
DB_FLOOR = -100.0  # dBFS given to digital silence

# Bands (Hz): F1 region (open vowels are strong here), F2 region (front/spread vs back/rounded vowels),
# and the hiss of fricatives.
BAND_F1 = (250.0, 1000.0)
BAND_F2 = (900.0, 2800.0)
BAND_HISS = (3500.0, 8000.0)
BAND_ALL = (80.0, 8000.0)


@dataclass
class AudioFeatures:
    fps: float
    db: np.ndarray  # (T,) frame RMS level, dBFS
    level: np.ndarray  # (T,) 0..1 loudness between the silence threshold and the speech level
    f1_share: np.ndarray  # (T,) energy share of the F1 band
    hiss_share: np.ndarray  # (T,) energy share of the fricative band
    f2_centroid_hz: np.ndarray  # (T,) spectral centroid inside the F2 band
    silent: np.ndarray  # (T,) bool: inside a pause of at least MIN_PAUSE_S

    def __len__(self) -> int:
        return len(self.db)


def frame_count(samples: int, fps: float, sample_rate: int = SAMPLE_RATE) -> int:
    """Output frames for the audio, to the nearest frame: the muxer ends the file with the shorter stream, so
    every frame written stays and the audio loses at most half a frame."""
    return max(1, round(samples * fps / sample_rate))


def _frames(audio: np.ndarray, n: int, fps: float, win: int) -> np.ndarray:
    hop = SAMPLE_RATE / fps
    centres = ((np.arange(n) + 0.5) * hop).astype(np.int64)
    padded = np.pad(audio.astype(np.float64), (win, win))
    idx = centres[:, None] + win + np.arange(-win // 2, win - win // 2)[None, :]
    result: np.ndarray = padded[idx]
    return result


def pause_mask(silent_frames: np.ndarray, fps: float, min_pause_s: float = MIN_PAUSE_S) -> np.ndarray:
    """Keep only runs of silent frames lasting at least ``min_pause_s``."""
    min_run = int(np.ceil(min_pause_s * fps - 1e-9))
    out = np.zeros_like(silent_frames, dtype=bool)
    i, n = 0, len(silent_frames)
    while i < n:
        if silent_frames[i]:
            j = i
            while j < n and silent_frames[j]:
                j += 1
            if j - i >= min_run:
                out[i:j] = True
            i = j
        else:
            i += 1
    return out


def analyse(audio: np.ndarray, fps: float, n_frames: int | None = None) -> AudioFeatures:
    """Features for each output frame, from a window of two frame lengths centred on the frame."""
    n = n_frames if n_frames is not None else frame_count(len(audio), fps)
    win = int(2 * SAMPLE_RATE / fps)
    frames = _frames(audio, n, fps, win)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    db = np.where(rms > 1e-5, 20.0 * np.log10(np.maximum(rms, 1e-12)), DB_FLOOR)
    speech = float(np.percentile(db, 95))
    floor = float(np.percentile(db, 5))
    threshold = speech - SILENCE_BELOW_PEAK_DB
    if floor > DB_FLOOR + 1 and floor < speech - 20.0:  # a noisy recording: stay clear of its noise floor
        threshold = max(threshold, floor + NOISE_MARGIN_DB)
    level = np.clip((db - threshold) / max(speech - threshold, 1e-6), 0.0, 1.0)

    spec = np.abs(np.fft.rfft(frames * np.hanning(win)[None, :], axis=1)) ** 2
    freqs = np.fft.rfftfreq(win, 1.0 / SAMPLE_RATE)

    def band(lo_hi: tuple[float, float]) -> np.ndarray:
        sel = (freqs >= lo_hi[0]) & (freqs < lo_hi[1])
        result: np.ndarray = spec[:, sel].sum(axis=1)
        return result

    total = band(BAND_ALL) + 1e-12
    f2_sel = (freqs >= BAND_F2[0]) & (freqs < BAND_F2[1])
    f2_energy = spec[:, f2_sel].sum(axis=1) + 1e-12
    f2_centroid = (spec[:, f2_sel] * freqs[f2_sel][None, :]).sum(axis=1) / f2_energy
    # Pauses are judged on each frame's own span: a frame is silent when nothing is heard while it shows.
    hop = SAMPLE_RATE / fps
    edges = np.round(np.arange(n + 1) * hop).astype(np.int64)
    sq = np.concatenate([[0.0], np.cumsum(audio.astype(np.float64) ** 2)])
    ends = np.minimum(edges[1:], len(audio))
    starts = np.minimum(edges[:-1], ends)
    own_rms = np.sqrt((sq[ends] - sq[starts]) / np.maximum(ends - starts, 1))
    own_db = np.where(own_rms > 1e-5, 20.0 * np.log10(np.maximum(own_rms, 1e-12)), DB_FLOOR)
    silent = pause_mask(own_db < threshold, fps)
    return AudioFeatures(
        fps=fps,
        db=db,
        level=level,
        f1_share=band(BAND_F1) / total,
        hiss_share=band(BAND_HISS) / total,
        f2_centroid_hz=f2_centroid,
        silent=silent,
    )
