"""gtts: Google Translate's online TTS. Needs the network; without it, it raises EngineUnavailable at once
(offline it fails in milliseconds) and ``synthesize`` falls back to an offline engine, recording why.

Voices are gTTS language codes ("en", "de", ...) plus English accents chosen by Google host ("en-gb", ...).
There are no phoneme alignments: word times are estimated from the audio. gTTS has one speed (and a "slow" one
far too slow for narration), so a rate other than 1 is applied by ffmpeg's pitch-keeping ``atempo`` filter.
"""

from __future__ import annotations

import io
import logging
import socket
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from presgen_training.errors import MediaError
from presgen_training.ffmpeg import run_ffmpeg
from presgen_training.narration.voice import Clip, EngineUnavailable, VoiceInfo
from presgen_training.narration.word_timing import estimate_words
from presgen_training.timeline import Word

log = logging.getLogger(__name__)

ENGINE = "gtts"
NEEDS_NETWORK = True
DEFAULT_VOICE = "en"
SAMPLE_RATE = 24000  # Hz, gTTS's own MP3 rate, kept when decoding
REQUEST_TIMEOUT_S = 15.0  # per HTTP request; gTTS waits forever by default
PROBE_HOST = ("translate.google.com", 443)
PROBE_TIMEOUT_S = 3.0
INSTALL_HINT = "run: .venv/bin/pip install gTTS==2.5.4"
LICENCE = "online service (Google Translate's terms)"
# English accents: gTTS picks them by the Google host's top-level domain.
ACCENTS = {
    "en-us": "us",
    "en-gb": "co.uk",
    "en-au": "com.au",
    "en-ca": "ca",
    "en-in": "co.in",
    "en-ie": "ie",
    "en-za": "co.za",
}


def unavailable_reason() -> str | None:
    try:
        import gtts  # noqa: F401
    except ImportError:
        return f"python package 'gTTS' is missing; {INSTALL_HINT}"
    return None


def network_reason(timeout_s: float = PROBE_TIMEOUT_S) -> str | None:
    """None when Google Translate's host accepts a connection, else why not (for ``presgen doctor``)."""
    try:
        with socket.create_connection(PROBE_HOST, timeout=timeout_s):
            return None
    except OSError as exc:
        return f"cannot reach {PROBE_HOST[0]} ({exc.strerror or exc}); gtts needs the internet"


def _languages() -> dict[str, str]:
    from gtts.lang import tts_langs

    return {code.lower(): code for code in tts_langs()}


def voices() -> list[str]:
    if unavailable_reason():
        return []
    return sorted(set(ACCENTS) | set(_languages()))


def catalog() -> list[VoiceInfo]:
    return [
        VoiceInfo(ENGINE, name, name, "online", LICENCE, "Google Translate (needs the internet)") for name in voices()
    ]


def voice_for_language(language: str) -> str | None:
    tag = language.lower().replace("_", "-")
    for candidate in (tag, tag.split("-")[0]):
        if knows_voice(candidate):
            return candidate
    return None


def knows_voice(name: str) -> bool:
    return name.lower() in voices()


def load_voice(name: str | None, deterministic: bool, rate: float = 1.0, cache_dir: Path | None = None) -> GttsVoice:
    reason = unavailable_reason()
    if reason:
        raise EngineUnavailable(reason)
    return GttsVoice((name or DEFAULT_VOICE).lower(), rate)


class GttsVoice:
    engine = ENGINE
    sample_rate = SAMPLE_RATE

    def __init__(self, name: str, rate: float = 1.0) -> None:
        self.name = name
        self.language = name
        self.rate = rate
        if name in ACCENTS:
            self.lang, self.tld = "en", ACCENTS[name]
        else:
            self.lang, self.tld = _languages()[name], "com"

    def identity(self) -> str:
        return f"gtts|{self.lang}|{self.tld}|rate={SAMPLE_RATE}|tempo={self.rate}"

    def phoneme_text(self, ipa: str) -> str | None:
        return None

    def speak(self, text: str) -> Clip:
        from gtts import gTTS, gTTSError

        mp3 = io.BytesIO()
        try:
            gTTS(text, lang=self.lang, tld=self.tld, timeout=REQUEST_TIMEOUT_S).write_to_fp(mp3)
        except gTTSError as exc:
            raise EngineUnavailable(f"Google Translate text-to-speech failed: {exc}") from exc
        if not mp3.getvalue():
            raise EngineUnavailable("Google Translate text-to-speech returned no audio")
        return Clip(decode_mp3(mp3.getvalue(), self.rate), SAMPLE_RATE)

    def word_timings(self, spoken: Sequence[str], clip: Clip) -> tuple[list[Word], str]:
        return estimate_words(list(spoken), clip.samples, clip.sample_rate), "estimated"


def decode_mp3(data: bytes, tempo: float = 1.0) -> np.ndarray:
    """gTTS's MP3 bytes as int16 mono samples at SAMPLE_RATE, sped up or slowed down by ``tempo``;
    EngineUnavailable if they do not decode."""
    tempo_filter = ["-af", f"atempo={tempo:g}"] if tempo != 1.0 else []
    try:
        pcm = run_ffmpeg(
            ["-f", "mp3", "-i", "pipe:0", *tempo_filter, "-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "s16le", "pipe:1"],
            "decoding gTTS audio",
            stdin=data,
        )
    except MediaError as exc:
        raise EngineUnavailable(str(exc)) from exc
    if not pcm:
        raise EngineUnavailable("Google Translate text-to-speech returned audio that decodes to nothing")
    return np.frombuffer(pcm, dtype="<i2").astype(np.int16)
