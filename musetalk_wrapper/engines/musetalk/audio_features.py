"""Whisper-tiny encoder features per video frame: what the MuseTalk UNet attends to.

Audio at 16 kHz is cut into 30 s segments; each becomes an 80x3000 log-mel (transformers'
WhisperFeatureExtractor) and runs through the encoder. All hidden states (the embedding plus every layer,
the last after the final layer norm) are stacked at 50 Hz, trimmed to the audio length and zero-padded.
Video frame i takes 10 consecutive steps starting at floor(i*50/fps) of the padded sequence (t_i - 80 ms ...
t_i + 120 ms at 25 fps), flattened time-major to [10 * n_states, d_model] ([50, 384] for whisper-tiny),
plus a sinusoidal positional encoding.
"""

from __future__ import annotations

import math

import numpy as np
import torch

SAMPLE_RATE = 16000
STEPS_PER_S = 50  # whisper encoder output rate
SEGMENT_S = 30  # the encoder's fixed input span (3000 mel frames)
PAD_LEFT = 2  # audio_padding_length_left / right of upstream, in units of ceil(50/fps) steps
PAD_RIGHT = 2
WINDOW_STEPS = 2 * (PAD_LEFT + PAD_RIGHT + 1)  # 10 steps = 200 ms
PE_MAX_LEN = 5000


@torch.inference_mode()
def encoder_hidden_states(
    audio: np.ndarray, extractor: object, encoder: torch.nn.Module, device: torch.device, dtype: torch.dtype
) -> torch.Tensor:
    """float32 CPU tensor [floor(seconds * 50), n_states, d_model] for mono 16 kHz ``audio``."""
    seg = SEGMENT_S * SAMPLE_RATE
    pieces = [audio[i : i + seg] for i in range(0, max(len(audio), 1), seg)]
    mel = extractor(pieces, sampling_rate=SAMPLE_RATE, return_tensors="pt").input_features  # type: ignore[operator]
    out = encoder(mel.to(device=device, dtype=dtype), output_hidden_states=True)
    states = torch.stack(out.hidden_states, dim=2)  # [segments, 1500, n_states, d_model]
    states = states.reshape(-1, *states.shape[2:]).float().cpu()
    steps = math.floor(len(audio) / SAMPLE_RATE * STEPS_PER_S)
    return states[:steps]


def frame_features(states: torch.Tensor, n_frames: int, fps: float) -> torch.Tensor:
    """[n_frames, WINDOW_STEPS * n_states, d_model]: the audio window of every video frame."""
    per_frame = STEPS_PER_S / fps
    unit = math.ceil(per_frame)
    left, right = unit * PAD_LEFT, unit * 3 * PAD_RIGHT
    _, n_states, d_model = states.shape
    padded = torch.cat([states.new_zeros(left, n_states, d_model), states, states.new_zeros(right, n_states, d_model)])
    starts = [math.floor(i * per_frame) for i in range(n_frames)]
    need = max(starts, default=0) + WINDOW_STEPS
    if need > len(padded):  # frames past the audio's last step (rounding) see silence
        padded = torch.cat([padded, padded.new_zeros(need - len(padded), n_states, d_model)])
    windows = (
        torch.stack([padded[s : s + WINDOW_STEPS] for s in starts])
        if starts
        else padded.new_zeros(0, WINDOW_STEPS, n_states, d_model)
    )
    return windows.reshape(n_frames, WINDOW_STEPS * n_states, d_model)


def positional_encoding(n_tokens: int, d_model: int) -> torch.Tensor:
    """PE[p, 2i] = sin(p * w_i), PE[p, 2i+1] = cos(p * w_i), w_i = 10000^(-2i/d_model); [n_tokens, d_model]."""
    if n_tokens > PE_MAX_LEN:
        raise ValueError(f"{n_tokens} audio tokens exceed the positional encoding's {PE_MAX_LEN}")
    position = torch.arange(n_tokens, dtype=torch.float32).unsqueeze(1)
    freq = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10000.0) / d_model))
    pe = torch.zeros(n_tokens, d_model)
    pe[:, 0::2] = torch.sin(position * freq)
    pe[:, 1::2] = torch.cos(position * freq)
    return pe
