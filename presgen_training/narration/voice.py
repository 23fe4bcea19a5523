"""The TTS voice Protocol and the registry of voice engines (one module each, imported lazily by name).

Each engine module satisfies ``EngineModule``. Engines never import each other; falling back from one to another
is ``synthesize``'s job.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, cast

import numpy as np

from presgen_training.errors import NarrationError
from presgen_training.narration.config import AUTO
from presgen_training.timeline import Word

ENGINE_MODULES = {
    "piper": "presgen_training.narration.piper_voice",
    "gtts": "presgen_training.narration.gtts_voice",
    "espeak-ng": "presgen_training.narration.espeak_voice",
}
DEFAULT_ENGINE = "piper"
TTS_CHOICES = (AUTO, *ENGINE_MODULES)  # what --tts and a course's tts: accept


class EngineUnavailable(NarrationError):
    """The engine cannot speak here (not installed, offline, crashed): the caller may fall back to another."""


@dataclass(frozen=True)
class Clip:
    """One stretch of speech: 16-bit mono samples and, when the engine gives them, phoneme alignments."""

    samples: np.ndarray  # int16, mono
    sample_rate: int  # Hz
    # (phoneme as the engine emits it, number of samples); they add up to len(samples). Empty: no alignments.
    alignments: tuple[tuple[str, int], ...] = field(default=())

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate


@dataclass(frozen=True)
class VoiceInfo:
    """One installed voice, as ``presgen voices`` lists it."""

    engine: str
    name: str  # what --voice and the script's voice: take
    language: str  # language tag it speaks ("en-us")
    quality: str  # piper's x_low/low/medium/high, "formant" for espeak-ng, "online" for gtts
    licence: str  # of the voice model (or the engine, where the voice is part of it)
    source: str  # where it was found: a pip package, a folder, the engine
    model: Path | None = None  # piper: the .onnx file
    aliases: tuple[str, ...] = ()  # other names that select it


class Voice(Protocol):
    engine: str
    name: str
    sample_rate: int  # Hz of every clip this voice speaks
    language: str  # language tag of the voice ("en-us")

    def identity(self) -> str:
        """Stable text naming the voice model and every synthesis setting, rate included (the cache key's
        voice part)."""
        ...

    def speak(self, text: str) -> Clip:
        """Synthesize ``text``; EngineUnavailable when the engine cannot."""
        ...

    def phoneme_text(self, ipa: str) -> str | None:
        """How to write IPA phonemes inside the text given to ``speak``; None when this voice cannot take them."""
        ...

    def word_timings(self, spoken: Sequence[str], clip: Clip) -> tuple[list[Word], str]:
        """Times in ``clip`` (seconds from its start) of each token's spoken form (``spoken`` joined by spaces
        is what was synthesized; a token may be empty), and how they were found: ``alignment`` or
        ``estimated``. The returned words carry the spoken forms; the caller puts the written ones back."""
        ...


class EngineModule(Protocol):
    """What each engine module provides (a module satisfies this Protocol)."""

    ENGINE: str
    DEFAULT_VOICE: str
    NEEDS_NETWORK: bool

    def unavailable_reason(self) -> str | None: ...

    def network_reason(self) -> str | None:
        """For an online engine: None when its service can be reached, else why not."""
        ...

    def catalog(self) -> list[VoiceInfo]: ...

    def voices(self) -> list[str]: ...

    def knows_voice(self, name: str) -> bool: ...

    def voice_for_language(self, language: str) -> str | None: ...

    def load_voice(
        self, name: str | None, deterministic: bool, rate: float = 1.0, cache_dir: Path | None = None
    ) -> Voice:
        """``cache_dir``: where the engine may keep what depends only on its input (piper: each sentence's
        samples), so an edited sentence costs a sentence; None: nothing is kept."""
        ...


def engine_names() -> tuple[str, ...]:
    return tuple(ENGINE_MODULES)


def engine_module(engine: str) -> EngineModule:
    if engine not in ENGINE_MODULES:
        raise NarrationError(f"unknown voice engine '{engine}'; choose one of {', '.join(ENGINE_MODULES)}")
    return cast(EngineModule, importlib.import_module(ENGINE_MODULES[engine]))


def engine_status(check_network: bool = False) -> dict[str, str | None]:
    """Engine -> None when it can be used here, else the reason it cannot (with the command that fixes it).

    gtts also needs the network: without ``check_network`` that is only found out when it speaks."""
    status = {engine: engine_module(engine).unavailable_reason() for engine in ENGINE_MODULES}
    for engine, reason in status.items():
        module = engine_module(engine)
        if check_network and reason is None and module.NEEDS_NETWORK:
            status[engine] = module.network_reason()
    return status


def voice_catalog(engines: Sequence[str] = tuple(ENGINE_MODULES)) -> list[VoiceInfo]:
    """Every voice the given engines can speak with here (nothing from an engine that is unavailable)."""
    found: list[VoiceInfo] = []
    for engine in engines:
        module = engine_module(engine)
        if module.unavailable_reason() is None:
            found.extend(module.catalog())
    return found


def same_language(a: str, b: str) -> bool:
    """True when two language tags share their language ("en-us" and "en", not "en" and "de")."""
    return a.lower().replace("_", "-").split("-")[0] == b.lower().replace("_", "-").split("-")[0]


def pick_for_language(catalog: Sequence[VoiceInfo], language: str, default: str) -> str | None:
    """The voice to use for ``language``: the engine's default voice if it speaks it, else an exact tag match,
    else the first voice of that language."""
    tag = language.lower().replace("_", "-")
    matches = [v for v in catalog if same_language(v.language, tag)]
    for voice in matches:
        if voice.name == default and (voice.language == tag or "-" not in tag):
            return voice.name
    exact = [v for v in matches if v.language == tag]
    chosen = exact or matches
    return chosen[0].name if chosen else None


def list_voices() -> dict[str, list[str]]:
    """Engine -> voice names usable on this machine (empty when the engine is unavailable)."""
    result: dict[str, list[str]] = {}
    for engine in ENGINE_MODULES:
        module = engine_module(engine)
        result[engine] = list(module.voices()) if module.unavailable_reason() is None else []
    return result


def unknown_voice_message(engine: str, name: str, origin: str) -> str:
    module = engine_module(engine)
    language = module.DEFAULT_VOICE.split("-")[0]
    # the default voice and its language's variants first: those are what most users want to see
    voices = sorted(module.voices(), key=lambda v: (v != module.DEFAULT_VOICE, not v.startswith(language), v))
    shown = ", ".join(voices[:12]) + (f", ... ({len(voices)} in all)" if len(voices) > 12 else "")
    extra = " or a path to a piper .onnx voice model" if engine == "piper" else ""
    return f"unknown {engine} voice '{name}'{origin}; available: {shown or '(none)'}{extra}"
