"""espeak-ng: the robotic last resort, run as the ``espeak-ng`` program when it is on PATH.

It gives no phoneme durations (that needs MBROLA), so word times are estimated from the audio.
Voices are espeak-ng's language codes ("en-us", "en-gb", ...), MBROLA voices excluded.
"""
from __future__ import annotations

import functools
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np

from presgen_training.narration.voice import Clip, EngineUnavailable
from presgen_training.narration.word_timing import estimate_words, tokenize
from presgen_training.timeline import Word

ENGINE = "espeak-ng"
NEEDS_NETWORK = False
DEFAULT_VOICE = "en-us"
INSTALL_HINT = "install it with: sudo apt-get install espeak-ng"
TIMEOUT_S = 120.0  # espeak-ng speaks ~250x faster than real time; this only catches a hang


def executable() -> str | None:
    return shutil.which("espeak-ng")


def network_reason() -> str | None:
    return None  # offline engine


def unavailable_reason() -> str | None:
    return None if executable() else f"the espeak-ng program is not on PATH; {INSTALL_HINT}"


@functools.lru_cache(maxsize=1)
def _voices(exe: str) -> tuple[str, ...]:
    proc = subprocess.run([exe, "--voices"], capture_output=True, text=True, check=False, timeout=TIMEOUT_S)
    names: set[str] = set()
    for line in proc.stdout.splitlines()[1:]:  # header: Pty Language Age/Gender VoiceName File Other Languages
        parts = line.split()
        if len(parts) >= 5 and not parts[4].startswith("mb/"):
            names.add(parts[1].lower())
    return tuple(sorted(names))


def voices() -> list[str]:
    exe = executable()
    return list(_voices(exe)) if exe else []


def knows_voice(name: str) -> bool:
    return name.lower() in voices()


def load_voice(name: str | None, deterministic: bool) -> EspeakVoice:
    exe = executable()
    if exe is None:
        raise EngineUnavailable(f"the espeak-ng program is not on PATH; {INSTALL_HINT}")
    return EspeakVoice(exe, (name or DEFAULT_VOICE).lower())


class EspeakVoice:
    engine = ENGINE
    sample_rate = 22050  # Hz, espeak-ng's output rate

    def __init__(self, exe: str, name: str) -> None:
        self.exe = exe
        self.name = name

    def identity(self) -> str:
        version = subprocess.run([self.exe, "--version"], capture_output=True, text=True, check=False).stdout
        return f"espeak-ng|{version.strip()}|{self.name}"

    def speak(self, text: str) -> Clip:
        with tempfile.TemporaryDirectory(prefix="presgen-espeak-") as tmp:
            wav_path = Path(tmp) / "speech.wav"
            try:
                proc = subprocess.run([self.exe, "-v", self.name, "-w", str(wav_path), "--stdin"],
                                      input=text.encode("utf-8"), capture_output=True, check=False,
                                      timeout=TIMEOUT_S)
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise EngineUnavailable(f"espeak-ng could not run: {exc}") from exc
            if proc.returncode != 0 or not wav_path.is_file():
                last = (proc.stderr.decode(errors="replace").strip().splitlines() or ["no output"])[-1]
                raise EngineUnavailable(f"espeak-ng failed (exit {proc.returncode}): {last}")
            with wave.open(str(wav_path), "rb") as wav:
                if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
                    raise EngineUnavailable("espeak-ng wrote audio that is not 16-bit mono")
                rate = wav.getframerate()
                samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(np.int16)
        if rate != self.sample_rate:
            raise EngineUnavailable(f"espeak-ng wrote {rate} Hz audio, expected {self.sample_rate} Hz")
        return Clip(samples, rate)

    def word_timings(self, text: str, clip: Clip) -> tuple[list[Word], str]:
        return estimate_words(tokenize(text), clip.samples, clip.sample_rate), "estimated"
