"""Narration stage: speak the script (piper offline by default, gtts online, espeak-ng as last resort) into one
WAV with section, word and phoneme times; captions and the avatar engine's timings file from those times."""

from __future__ import annotations

from presgen_training.narration.captions import caption_cues, get_writer, write_captions
from presgen_training.narration.config import NarrationConfig
from presgen_training.narration.synthesize import FALLBACK_CHAIN, NARRATION_FILE, synthesize
from presgen_training.narration.timings_file import write_timings_json
from presgen_training.narration.voice import (
    DEFAULT_ENGINE,
    Clip,
    EngineUnavailable,
    Voice,
    engine_names,
    engine_status,
    list_voices,
)
from presgen_training.timeline import Cue

__all__ = [
    "DEFAULT_ENGINE",
    "FALLBACK_CHAIN",
    "NARRATION_FILE",
    "Clip",
    "Cue",
    "EngineUnavailable",
    "NarrationConfig",
    "Voice",
    "caption_cues",
    "engine_names",
    "engine_status",
    "get_writer",
    "list_voices",
    "synthesize",
    "write_captions",
    "write_timings_json",
]
