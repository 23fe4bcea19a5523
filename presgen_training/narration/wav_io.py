"""16-bit mono WAV files, written atomically (temp name, then rename)."""

from __future__ import annotations

import wave
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from presgen_training.files import atomic_output


def write_wav(path: Path, samples: np.ndarray, sample_rate: int) -> None:
    with atomic_output(path) as tmp, wave.open(str(tmp), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(np.asarray(samples, dtype="<i2").tobytes())


class WavWriter:
    """Appends int16 samples to an open WAV, so a long narration never has to be whole in memory."""

    def __init__(self, wav: wave.Wave_write) -> None:
        self._wav = wav
        self.samples = 0  # written so far

    def write(self, samples: np.ndarray) -> None:
        self._wav.writeframes(np.asarray(samples, dtype="<i2").tobytes())
        self.samples += len(samples)

    def silence(self, count: int) -> None:
        self.write(np.zeros(count, dtype=np.int16))


@contextmanager
def streamed_wav(path: Path, sample_rate: int) -> Iterator[WavWriter]:
    """A 16-bit mono WAV written piece by piece under a temp name, renamed into place only when complete."""
    with atomic_output(path) as tmp, wave.open(str(tmp), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        yield WavWriter(wav)


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """(int16 samples, sample rate) of a 16-bit mono WAV."""
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
            raise ValueError(f"{path} is not 16-bit mono")
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(np.int16), wav.getframerate()
