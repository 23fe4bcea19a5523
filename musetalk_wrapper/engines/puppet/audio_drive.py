"""Mouth shapes from the audio alone (any audio file, no timings): loudness opens the jaw, the spectrum
decides between open vowels, spread or rounded lips and the near-closed teeth of fricatives."""

from __future__ import annotations

import numpy as np

from musetalk_wrapper.engines.puppet.audio_features import AudioFeatures
from musetalk_wrapper.engines.puppet.mouth_track import MouthTrack, calibrated, smooth, speaking_weight

LEVEL_GAMMA = 1.2  # >1 keeps quiet consonant frames nearly closed while vowels open fully
SPEECH_LEVEL = 0.2  # frames louder than this (0..1) set the spectral normalisation ranges


def _normalise(values: np.ndarray, speech: np.ndarray) -> np.ndarray:
    ref = values[speech] if speech.sum() >= 5 else values
    lo, hi = np.percentile(ref, [10, 90])
    result: np.ndarray = np.clip((values - lo) / max(hi - lo, 1e-9), 0.0, 1.0)
    return result


def mouth_from_audio(feat: AudioFeatures) -> MouthTrack:
    speech = feat.level > SPEECH_LEVEL
    f1 = _normalise(feat.f1_share, speech)
    hiss = _normalise(feat.hiss_share, speech)
    f2 = _normalise(feat.f2_centroid_hz, speech)
    level = feat.level**LEVEL_GAMMA
    open_ = level * (0.55 + 0.6 * f1) * (1.0 - 0.45 * hiss)
    width = (f2 - 0.5) * 1.4 * np.minimum(feat.level * 3.0, 1.0)
    upper = 0.15 + 0.45 * hiss
    open_ = calibrated(smooth(open_, (1, 2, 1)), feat.silent)
    width = smooth(width, (1, 2, 3, 2, 1))
    upper = smooth(upper, (1, 2, 1))
    open_[feat.silent] = 0.0
    width[feat.silent] *= 0.3
    return MouthTrack(open_, width, upper, speaking=speaking_weight(feat.silent, feat.fps)).clipped()
