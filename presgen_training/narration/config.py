"""Settings of the narration stage."""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from presgen_training.errors import NarrationError

MAX_SILENCE_S = 30.0  # longest pause, lead-in or tail accepted


@dataclass(frozen=True)
class NarrationConfig:
    engine: str = "piper"  # piper (offline, default) | gtts (online) | espeak-ng
    voice: str | None = None  # engine voice name, or a piper .onnx path; None: the script's voice, else the default
    pause_s: float = 0.8  # silence between sections
    lead_in_s: float = 0.3  # silence before the first word
    tail_s: float = 0.6  # silence after the last word
    # piper without sampling noise: byte-identical audio every run (slightly flatter prosody), and cacheable
    deterministic: bool = True
    cache_dir: Path | None = None  # where synthesized sections are kept when deterministic; None: no cache

    def __post_init__(self) -> None:
        for name in ("pause_s", "lead_in_s", "tail_s"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value) or not 0 <= value <= MAX_SILENCE_S:
                raise NarrationError(f"{name} must be between 0 and {MAX_SILENCE_S:g} seconds, not {value!r}")
