"""Choose avatar engines and fall back down the chain musetalk -> puppet -> static, recording every attempt."""
from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from presgen_training.avatar.engine_process import EngineFailure, EngineJob, ProgressCallback, run_engine
from presgen_training.avatar.static import render_static
from presgen_training.config import UserConfig, cache_dir
from presgen_training.envs import engine_python
from presgen_training.envs.locate import repo_root, wrapper_environ
from presgen_training.errors import MediaError, PresgenError

AVATAR_CHOICES = ("auto", "musetalk", "musetalk-upstream", "puppet", "static")
CHAINS: dict[str, tuple[str, ...]] = {
    "auto": ("musetalk", "puppet", "static"),
    "musetalk": ("musetalk", "puppet", "static"),
    "musetalk-upstream": ("musetalk-upstream", "puppet", "static"),
    "puppet": ("puppet", "static"),
    "static": ("static",),
}
# Engine timeout = base + factor * narration seconds. MuseTalk on a CPU runs ~8 s per frame (25 frames/s).
TIMEOUT_BASE_S = 120.0
TIMEOUT_PER_AUDIO_S = {"puppet": 10.0, "musetalk": 250.0, "musetalk-upstream": 250.0}
HEALTH_TIMEOUT_S = 120.0


@dataclass
class Attempt:
    engine: str
    outcome: str  # ok | failed | skipped
    reason: str | None = None
    code: str | None = None  # wrapper error code, or TIMEOUT / PROTOCOL / BAD_OUTPUT / UNAVAILABLE
    env: str | None = None
    python: str | None = None
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AvatarSettings:
    choice: str = "auto"
    env_override: str | None = None  # --env NAME: the env that runs the chosen engine
    python_override: Path | None = None  # --engine-python PATH
    models_dir: Path | None = None
    motion: bool = True
    blink: bool = True
    timeout_s: float | None = None  # overrides the scaled default
    config: UserConfig = field(default_factory=UserConfig)


@dataclass
class AvatarOutcome:
    video: Path
    engine: str
    attempts: list[Attempt]
    face_box: tuple[int, int, int, int] | None = None
    engine_result: dict[str, Any] | None = None

    def attempts_as_dicts(self) -> list[dict[str, Any]]:
        return [asdict(a) for a in self.attempts]


def engine_timeout_s(engine: str, audio_s: float, override: float | None) -> float:
    if override is not None:
        return override
    return TIMEOUT_BASE_S + TIMEOUT_PER_AUDIO_S.get(engine, 60.0) * audio_s


def make_avatar(source: Path, source_is_image: bool, audio: Path, audio_s: float, timings: Path | None,
                work_dir: Path, settings: AvatarSettings,
                on_event: ProgressCallback | None = None,
                on_attempt: Callable[[Attempt], None] | None = None) -> AvatarOutcome:
    """Render the presenter video with the first engine of the chain that succeeds."""
    if settings.choice not in CHAINS:
        raise PresgenError(f"unknown avatar engine '{settings.choice}'; choose one of: {', '.join(AVATAR_CHOICES)}")
    attempts: list[Attempt] = []

    def record(attempt: Attempt) -> None:
        attempts.append(attempt)
        if on_attempt is not None:
            on_attempt(attempt)

    for engine in CHAINS[settings.choice]:
        output = work_dir / f"avatar-{engine}.mp4"
        started = time.monotonic()
        if engine == "static":
            try:
                render_static(source, audio, output)
            except MediaError as exc:
                record(Attempt("static", "failed", str(exc), "RUNTIME", seconds=time.monotonic() - started))
                raise PresgenError(f"every avatar engine failed; static: {exc}") from exc
            record(Attempt("static", "ok", seconds=time.monotonic() - started))
            return AvatarOutcome(output, "static", attempts)
        chosen = engine == settings.choice
        if chosen and settings.python_override is not None:
            python, reason, env = settings.python_override, None, "custom"
        else:
            python, reason, env = engine_python(engine, settings.env_override if chosen else None, settings.config)
        if python is None:
            record(Attempt(engine, "skipped", reason, "UNAVAILABLE", env=env))
            continue
        if settings.choice == "auto" and engine == "musetalk":
            reason = _health_reason(python, engine, settings)
            if reason is not None:
                record(Attempt(engine, "skipped", reason, "UNAVAILABLE", env=env, python=str(python),
                               seconds=time.monotonic() - started))
                continue
        job = EngineJob(engine=engine, python=python, audio=audio, source=source, source_is_image=source_is_image,
                        output=output, timeout_s=engine_timeout_s(engine, audio_s, settings.timeout_s),
                        timings=timings, extra_args=_engine_args(engine, settings))
        try:
            run = run_engine(job, audio_s, on_event)
        except EngineFailure as exc:
            output.unlink(missing_ok=True)
            record(Attempt(engine, "failed", exc.reason, exc.code, env=env, python=str(python),
                           seconds=time.monotonic() - started))
            continue
        result = run.result
        record(Attempt(engine, "ok", env=env, python=str(python), seconds=run.seconds,
                       warnings=list(result.get("warnings", []))))
        box = result.get("details", {}).get("face_box")
        face_box = tuple(int(v) for v in box) if isinstance(box, list) and len(box) == 4 else None
        return AvatarOutcome(output, engine, attempts, face_box, result)  # type: ignore[arg-type]
    raise PresgenError("no avatar engine could run")  # unreachable: every chain ends with static


def _engine_args(engine: str, settings: AvatarSettings) -> tuple[str, ...]:
    args: list[str] = []
    if engine == "puppet":
        args += ["--motion", "on" if settings.motion else "off", "--blink", "on" if settings.blink else "off"]
    if engine.startswith("musetalk"):
        models = settings.models_dir or settings.config.models_dir
        if models is not None:
            args += ["--models-dir", str(models)]
        args += ["--cache-dir", str(cache_dir() / "avatars")]
    return tuple(args)


def _health_reason(python: Path, engine: str, settings: AvatarSettings) -> str | None:
    """Ask the engine itself whether it can run (env imports and weights), without rendering."""
    argv = [str(python), "-m", "musetalk_wrapper", "--engine", engine, "--check", "--json-output",
            *_engine_args(engine, settings)]
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=HEALTH_TIMEOUT_S, env=wrapper_environ(),
                              stdin=subprocess.DEVNULL, cwd=repo_root())
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"health check failed: {exc}"
    try:
        obj = json.loads(proc.stdout)
    except json.JSONDecodeError:
        return f"health check printed junk: {proc.stdout.strip()[:80]!r}"
    if not isinstance(obj, dict) or "healthy" not in obj:
        return "health check gave no verdict"
    return None if obj["healthy"] else str(obj.get("reason") or "unhealthy")
