"""The TTS voice Protocol and the registry of voice engines (one module each, imported lazily by name).

Each engine module satisfies ``EngineModule``. Engines never import each other; falling back from one to another
is ``synthesize``'s job.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Protocol, cast

import numpy as np

from presgen_training.errors import NarrationError
from presgen_training.timeline import Word

ENGINE_MODULES = {
    "piper": "presgen_training.narration.piper_voice",
    "gtts": "presgen_training.narration.gtts_voice",
    "espeak-ng": "presgen_training.narration.espeak_voice",
}
DEFAULT_ENGINE = "piper"


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


class Voice(Protocol):
    engine: str
    name: str
    sample_rate: int  # Hz of every clip this voice speaks

    def identity(self) -> str:
        """Stable text naming the voice model and every synthesis setting (the cache key's voice part)."""
        ...

    def speak(self, text: str) -> Clip:
        """Synthesize ``text``; EngineUnavailable when the engine cannot."""
        ...

    def word_timings(self, text: str, clip: Clip) -> tuple[list[Word], str]:
        """Times of the words of ``text`` (whitespace tokens as written) in ``clip``, in seconds from its start,
        and how they were found: ``alignment`` or ``estimated``."""
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

    def voices(self) -> list[str]: ...

    def knows_voice(self, name: str) -> bool: ...

    def load_voice(self, name: str | None, deterministic: bool) -> Voice: ...


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
