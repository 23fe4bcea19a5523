"""Whisper features per video frame, the positional encoding, and pause detection."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch

from musetalk_wrapper.engines.musetalk import models as mm
from musetalk_wrapper.engines.musetalk.audio_features import (
    encoder_hidden_states,
    frame_features,
    positional_encoding,
)
from musetalk_wrapper.engines.musetalk.silence import silent_frames


def test_whisper_features_shape_and_windows(tiny_models: Path) -> None:
    cpu = torch.device("cpu")
    extractor = mm.load_feature_extractor(tiny_models)
    encoder = mm.load_whisper_encoder(tiny_models, cpu, torch.float32)
    audio = (0.1 * np.sin(np.arange(3 * 16000) * 2 * np.pi * 220 / 16000)).astype(np.float32)
    states = encoder_hidden_states(audio, extractor, encoder, cpu, torch.float32)
    assert tuple(states.shape) == (150, 5, 384), states.shape
    feats = frame_features(states, 75, 25)
    assert tuple(feats.shape) == (75, 50, 384)
    # 31 s of audio spans two 30 s segments
    long = np.zeros(31 * 16000, dtype=np.float32)
    assert encoder_hidden_states(long, extractor, encoder, cpu, torch.float32).shape[0] == 1550
    # Window of frame i = steps 2i-4 .. 2i+5 (zeros outside), time-major tokens (5 states per step).
    synthetic = torch.arange(1, 21, dtype=torch.float32).view(20, 1, 1).expand(20, 5, 384).clone()
    win = frame_features(synthetic, 10, 25)
    steps = win[:, ::5, 0]  # one token per step
    assert steps[0].tolist() == [0, 0, 0, 0, 1, 2, 3, 4, 5, 6]
    assert steps[3].tolist() == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    assert steps[9].tolist() == [15, 16, 17, 18, 19, 20, 0, 0, 0, 0]
    assert torch.equal(win[3, 5:10, 0], torch.full((5,), 4.0))


def test_positional_encoding_values() -> None:
    pe = positional_encoding(50, 384)
    assert pe.shape == (50, 384)
    for p, i in ((0, 0), (7, 3), (49, 191)):
        w = math.exp(-(2 * i) * math.log(10000.0) / 384)
        assert abs(pe[p, 2 * i].item() - math.sin(p * w)) < 1e-5
        assert abs(pe[p, 2 * i + 1].item() - math.cos(p * w)) < 1e-5


def test_silence_pauses_of_150ms() -> None:
    sr = 16000
    rng = np.random.default_rng(0)

    def tone(s: float) -> np.ndarray:
        return (0.3 * np.sin(np.arange(int(s * sr)) * 2 * np.pi * 180 / sr)).astype(np.float32)

    def hiss(s: float) -> np.ndarray:
        return (0.001 * rng.standard_normal(int(s * sr))).astype(np.float32)

    # 1 s speech, 400 ms pause, 1 s speech, 100 ms pause (too short), 1 s speech
    audio = np.concatenate([tone(1.0), hiss(0.4), tone(1.0), hiss(0.1), tone(1.0)])
    flags = silent_frames(audio, sr, 88, 25)
    assert flags[26:34].all(), np.nonzero(flags)[0]  # 1.04 .. 1.36 s lies inside the pause
    assert not flags[:25].any() and not flags[36:].any(), np.nonzero(flags)[0]
    assert not silent_frames(tone(2.0), sr, 50, 25).any()
    assert silent_frames(np.zeros(sr, dtype=np.float32), sr, 25, 25).all()
