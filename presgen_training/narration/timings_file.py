"""The ``--timings`` file handed to the avatar engine (musetalk_wrapper/timings.schema.json, schema_version 1).

Besides the required phonemes and words it carries the section times and where the timings came from; the
schema allows extra keys.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from presgen_training.files import atomic_output
from presgen_training.timeline import Narration

SCHEMA_VERSION = 1
# Sample times at 48 kHz (k / 48000 s) never sit on a rounding tie at 9 decimals; at 4 or 6 some do, and a tie
# rounds either way depending on where the sample sits in the narration.
DECIMALS = 9


def timings_document(narration: Narration) -> dict[str, Any]:
    def t(seconds: float) -> float:
        return round(float(seconds), DECIMALS)

    return {
        "schema_version": SCHEMA_VERSION,
        "duration_s": t(narration.duration_s),
        "sample_rate": narration.sample_rate,
        "engine": narration.engine,
        "voice": narration.voice,
        "timing_source": narration.timing_source,
        "phonemes": [{"phoneme": p.phoneme, "start_s": t(p.start_s), "end_s": t(p.end_s)} for p in narration.phonemes],
        "words": [{"text": w.text, "start_s": t(w.start_s), "end_s": t(w.end_s)} for w in narration.words],
        "sections": [
            {"title": s.section.title, "start_s": t(s.start_s), "end_s": t(s.end_s)} for s in narration.sections
        ],
    }


def write_timings_json(narration: Narration, path: Path) -> None:
    document = timings_document(narration)
    with atomic_output(Path(path)) as tmp:
        tmp.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
