"""The one table of avatar engines. The fallback chains, ``--avatar`` choices, the engine -> env defaults, doctor's
required/optional split and the render timeouts are all derived from it.

Adding an engine: a row here, a line in the wrapper's registry (``musetalk_wrapper/engines/__init__.py``) and an env
spec in ``envs/<env>/``.
"""

from __future__ import annotations

from dataclasses import dataclass

AUTO = "auto"
TIMEOUT_BASE_S = 120.0  # seconds every engine run may take on top of its per-audio-second allowance


@dataclass(frozen=True)
class EngineRow:
    name: str
    env: str | None  # the venv that carries its dependencies; None: runs inside the orchestrator
    timeout_per_audio_s: float  # seconds of engine time allowed per second of narration
    required: bool  # doctor: not being able to run it is a problem (else a note: an optional engine)
    falls_back_to: str | None  # the next engine of the chain when this one fails
    in_auto: bool  # tried by --avatar auto (only if its --check says it is ready, for the first one)
    summary: str


ENGINES: tuple[EngineRow, ...] = (
    # MuseTalk on a CPU runs ~8 s per frame (25 frames per second of audio)
    EngineRow(
        "musetalk",
        "musetalk",
        250.0,
        False,
        "puppet",
        True,
        "MuseTalk V1.5 lip sync (needs its weights; a GPU makes it fast)",
    ),
    EngineRow(
        "musetalk-upstream",
        "musetalk-upstream",
        250.0,
        False,
        "puppet",
        False,
        "upstream MuseTalk's own code (needs `make vendor`, weights, its Python 3.10 env)",
    ),
    EngineRow(
        "puppet",
        "puppet",
        10.0,
        True,
        "static",
        True,
        "animates the presenter's own face from the narration (no weights needed)",
    ),
    EngineRow("static", None, 0.0, True, None, True, "the photo, or the video played back and forth"),
)
BY_NAME = {row.name: row for row in ENGINES}
CHOICES = (AUTO, *BY_NAME)
ENV_ENGINES = tuple(row.name for row in ENGINES if row.env is not None)
DEFAULT_ENGINE_ENVS = {row.name: row.env for row in ENGINES if row.env is not None}


def row(name: str) -> EngineRow:
    return BY_NAME[name]


def chain(choice: str, allow_fallback: bool) -> tuple[str, ...]:
    """Engines to try, in order. ``auto`` always falls back; an explicit choice only with ``allow_fallback``."""
    if choice == AUTO:
        return tuple(r.name for r in ENGINES if r.in_auto)
    if not allow_fallback:
        return (choice,)
    names = [choice]
    while (following := BY_NAME[names[-1]].falls_back_to) is not None:
        names.append(following)
    return tuple(names)


def timeout_s(engine: str, audio_s: float) -> float:
    return TIMEOUT_BASE_S + BY_NAME[engine].timeout_per_audio_s * audio_s
