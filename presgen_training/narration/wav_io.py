"""16-bit mono WAV files, written atomically (temp name, then rename)."""
from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from presgen_training.files import atomic_output


def write_wav(path: Path, samples: np.ndarray, sample_rate: int) -> None:
    with atomic_output(path) as tmp, wave.open(str(tmp), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(np.asarray(samples, dtype="<i2").tobytes())


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """(int16 samples, sample rate) of a 16-bit mono WAV."""
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
            raise ValueError(f"{path} is not 16-bit mono")
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(np.int16), wav.getframerate()
