"""Read the narration timings file (timings.schema.json beside this module): any engine may use it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from musetalk_wrapper.contract import EngineError, ErrorCode


@dataclass(frozen=True)
class Phone:
    symbol: str  # one espeak IPA symbol as piper emits it (stress and length marks included)
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Timings:
    duration_s: float
    phones: tuple[Phone, ...]


def _number(obj: dict[str, Any], key: str, where: str) -> float:
    value = obj.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ValueError(f"{where}.{key} must be a number >= 0")
    return float(value)


def load_timings(path: Path) -> Timings:
    """Parse and check ``path``; any problem is a BAD_INPUT naming the file and the field."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("top level must be an object")
        if data.get("schema_version") != 1:
            raise ValueError(f"schema_version must be 1, not {data.get('schema_version')!r}")
        duration = _number(data, "duration_s", "$")
        phonemes = data.get("phonemes")
        if not isinstance(phonemes, list):
            raise ValueError("phonemes must be a list")
        if not isinstance(data.get("words"), list):
            raise ValueError("words must be a list")
        phones = []
        for i, ph in enumerate(phonemes):
            where = f"phonemes[{i}]"
            if not isinstance(ph, dict) or not isinstance(ph.get("phoneme"), str):
                raise ValueError(f"{where} must be an object with a string 'phoneme'")
            start, end = _number(ph, "start_s", where), _number(ph, "end_s", where)
            if end < start:
                raise ValueError(f"{where} ends ({end}) before it starts ({start})")
            phones.append(Phone(ph["phoneme"], start, end))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, ValueError) as exc:
        raise EngineError(ErrorCode.BAD_INPUT, f"timings file {path}: {exc}") from exc
    return Timings(duration, tuple(sorted(phones, key=lambda p: p.start_s)))
