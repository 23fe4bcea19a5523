"""espeak-ng: the robotic last resort, run as the ``espeak-ng`` program when it is on PATH.

It gives no phoneme durations (that needs MBROLA), so word times are estimated from the audio.
Voices are espeak-ng's language codes ("en-us", "en-gb", ...), MBROLA voices excluded. espeak-ng's formant voices
are part of the program (GPL-3.0-or-later).
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
import tempfile
import wave
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from presgen_training.narration.voice import Clip, EngineUnavailable, VoiceInfo, pick_for_language
from presgen_training.narration.word_timing import estimate_words
from presgen_training.timeline import Word

ENGINE = "espeak-ng"
NEEDS_NETWORK = False
DEFAULT_VOICE = "en-us"
INSTALL_HINT = "install it with: sudo apt-get install espeak-ng"
TIMEOUT_S = 120.0  # espeak-ng speaks ~250x faster than real time; this only catches a hang
WORDS_PER_MINUTE = 160  # espeak-ng's -s at rate 1 (its own default, 175, is brisk for narration)
LICENCE = "GPL-3.0-or-later (part of espeak-ng)"


def executable() -> str | None:
    return shutil.which("espeak-ng")


def network_reason() -> str | None:
    return None  # offline engine


def unavailable_reason() -> str | None:
    return None if executable() else f"the espeak-ng program is not on PATH; {INSTALL_HINT}"


@functools.lru_cache(maxsize=1)
def _voices(exe: str) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """(code, display name, other languages it speaks) of each voice, MBROLA voices excluded."""
    proc = subprocess.run([exe, "--voices"], capture_output=True, text=True, check=False, timeout=TIMEOUT_S)
    found: dict[str, tuple[str, str, tuple[str, ...]]] = {}
    for line in proc.stdout.splitlines()[1:]:  # header: Pty Language Age/Gender VoiceName File Other Languages
        parts = line.split()
        if len(parts) >= 5 and not parts[4].startswith("mb/"):
            code = parts[1].lower()
            found[code] = (code, parts[3].replace("_", " "), tuple(re.findall(r"\(([\w-]+) \d+\)", line)))
    return tuple(found[code] for code in sorted(found))


def catalog() -> list[VoiceInfo]:
    exe = executable()
    if not exe:
        return []
    return [
        VoiceInfo(ENGINE, code, code, "formant", LICENCE, f"espeak-ng ({name})", None, others)
        for code, name, others in _voices(exe)
    ]


def voices() -> list[str]:
    return [info.name for info in catalog()]


def knows_voice(name: str) -> bool:
    return name.lower() in voices()


def voice_for_language(language: str) -> str | None:
    tag = language.lower().replace("_", "-")
    if knows_voice(tag):
        return tag
    return pick_for_language(catalog(), tag, DEFAULT_VOICE)


def load_voice(name: str | None, deterministic: bool, rate: float = 1.0, cache_dir: Path | None = None) -> EspeakVoice:
    exe = executable()
    if exe is None:
        raise EngineUnavailable(f"the espeak-ng program is not on PATH; {INSTALL_HINT}")
    return EspeakVoice(exe, (name or DEFAULT_VOICE).lower(), rate)


class EspeakVoice:
    engine = ENGINE
    sample_rate = 22050  # Hz, espeak-ng's output rate

    def __init__(self, exe: str, name: str, rate: float = 1.0) -> None:
        self.exe = exe
        self.name = name
        self.language = name
        self.words_per_minute = round(WORDS_PER_MINUTE * rate)

    def identity(self) -> str:
        version = subprocess.run([self.exe, "--version"], capture_output=True, text=True, check=False).stdout
        return f"espeak-ng|{version.strip()}|{self.name}|s={self.words_per_minute}"

    def phoneme_text(self, ipa: str) -> str | None:
        return None  # espeak-ng's own phoneme input is not IPA

    def speak(self, text: str) -> Clip:
        with tempfile.TemporaryDirectory(prefix="presgen-espeak-") as tmp:
            wav_path = Path(tmp) / "speech.wav"
            try:
                proc = subprocess.run(
                    [self.exe, "-v", self.name, "-s", str(self.words_per_minute), "-w", str(wav_path), "--stdin"],
                    input=text.encode("utf-8"),
                    capture_output=True,
                    check=False,
                    timeout=TIMEOUT_S,
                )
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

    def word_timings(self, spoken: Sequence[str], clip: Clip) -> tuple[list[Word], str]:
        return estimate_words(list(spoken), clip.samples, clip.sample_rate), "estimated"
