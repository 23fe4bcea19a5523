"""Settings of the narration stage."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from presgen_training.errors import NarrationError

MAX_SILENCE_S = 30.0  # longest pause, lead-in or tail accepted
MIN_RATE, MAX_RATE = 0.5, 2.0  # speaking rate: half to twice the narration pace
AUTO = "auto"  # the default engine choice: piper, else espeak-ng (each fallback said on the console)


@dataclass(frozen=True)
class NarrationConfig:
    # auto (default: piper, else espeak-ng) | piper (offline neural) | gtts (online) | espeak-ng. An engine chosen
    # by name that cannot speak is an error, unless allow_fallback.
    engine: str = AUTO
    voice: str | None = None  # engine voice name, or a piper .onnx path; None: the script's voice, else the default
    rate: float | None = None  # speaking rate, 1.0 = the narration pace (~155 words/min); None: the script's, else 1
    lexicon: tuple[tuple[str, str], ...] = ()  # (word, respelling or /IPA/); the script's own entries win
    allow_fallback: bool = False  # a named engine or voice that cannot speak falls back instead of failing
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
        if self.rate is not None:
            check_rate(self.rate)


def check_rate(rate: float) -> float:
    if not isinstance(rate, (int, float)) or not math.isfinite(rate) or not MIN_RATE <= rate <= MAX_RATE:
        raise NarrationError(
            f"the speaking rate must be from {MIN_RATE:g} (slow) to {MAX_RATE:g} (fast), 1 being "
            f"the normal pace; not {rate!r}"
        )
    return float(rate)
