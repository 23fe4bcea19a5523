"""Render the presenter clips with the first engine of the chain that can, recording every attempt.

``--avatar auto`` walks the chain of the engine table (musetalk if its --check says it is ready, then puppet, then
static) and says on the console when it falls back. An explicit ``--avatar NAME`` is honoured or fails with the
cause and its fix, unless the caller accepts fallbacks (``--fallback``).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from presgen_training import engines, wrapper_client
from presgen_training.avatar.render_size import ENGINE_MAX_SIDE_PX
from presgen_training.avatar.static import render_static
from presgen_training.avatar.video_check import VideoCheckFailure, check_video
from presgen_training.config import UserConfig, cache_dir
from presgen_training.envs import engine_python
from presgen_training.errors import MediaError, PresgenError
from presgen_training.files import atomic_output


@dataclass(frozen=True)
class Clip:
    """One presenter clip to render: a segment's audio, where it goes and where it sits on the motion clock."""

    index: int
    audio: Path
    output: Path
    duration_s: float
    timings: Path | None = None
    start_s: float = 0.0
    handoff_s: float | None = None


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
    fix: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AvatarSettings:
    choice: str = engines.AUTO
    allow_fallback: bool = False  # --fallback: an explicit engine that fails may fall back down its chain
    env_override: str | None = None  # --env NAME: the env that runs the chosen engine
    python_override: Path | None = None  # --engine-python PATH
    models_dir: Path | None = None
    motion: bool = True
    blink: bool = True
    timeout_s: float | None = None  # overrides the scaled default
    config: UserConfig = field(default_factory=UserConfig)


@dataclass
class AvatarOutcome:
    engine: str
    attempts: list[Attempt]
    face_box: tuple[int, int, int, int] | None = None
    results: list[dict[str, Any]] = field(default_factory=list)  # the engine's result object per clip

    def attempts_as_dicts(self) -> list[dict[str, Any]]:
        return [asdict(a) for a in self.attempts]


class StartedEngine:
    """An engine run started before its clips are known (``--segments -``): it loads and prepares the source while
    the narration is made. The first run of the same engine, interpreter and size takes it; ``cancel`` stops it
    if none did."""

    def __init__(self, engine: str, python: Path, max_side: int | None, running: wrapper_client.Running) -> None:
        self.engine, self.python, self.max_side = engine, python, max_side
        self._running: wrapper_client.Running | None = running
        self._lock = threading.Lock()

    def take(self, engine: str, python: Path, max_side: int | None) -> wrapper_client.Running | None:
        with self._lock:
            if self._running is None or (engine, python, max_side) != (self.engine, self.python, self.max_side):
                return None
            running, self._running = self._running, None
            return running

    def cancel(self) -> None:
        with self._lock:
            running, self._running = self._running, None
        if running is not None:
            running.cancel()


def start_engine(
    source: Path, source_is_image: bool, settings: AvatarSettings, resolution: Resolution, max_side: int | None
) -> StartedEngine | None:
    """Start the chain's first engine on ``source`` ahead of its clips (None for static, which needs no start)."""
    first = resolution.candidates[0]
    if first.python is None:
        return None
    try:
        args = [*_base_args(first.engine, source, source_is_image, settings, max_side), "--segments=-"]
        running = wrapper_client.start_render(first.python, args, first.engine)
    except wrapper_client.WrapperFailure:
        return None  # the run itself starts it again and records why it cannot
    return StartedEngine(first.engine, first.python, max_side, running)


class AvatarError(PresgenError):
    """No engine of the chain could make the presenter (an explicit choice failed, or even static did)."""


@dataclass(frozen=True)
class Candidate:
    """An engine of the chain that may run: its interpreter (None for static) and env."""

    engine: str
    python: Path | None
    env: str | None


@dataclass
class Resolution:
    """The engines left to try, in order, and the attempts already decided (skipped engines)."""

    candidates: list[Candidate]
    attempts: list[Attempt]

    @property
    def first(self) -> str:
        return self.candidates[0].engine


def resolve(settings: AvatarSettings, on_attempt: Callable[[Attempt], None] | None = None) -> Resolution:
    """Walk the chain up to the engines that can start here. Fails at once (before any slow work) when an
    explicitly chosen engine cannot run and fallbacks are not accepted."""
    if settings.choice not in engines.CHOICES:
        raise PresgenError(f"unknown avatar engine '{settings.choice}'; choose one of: {', '.join(engines.CHOICES)}")
    attempts: list[Attempt] = []
    candidates: list[Candidate] = []
    for position, engine in enumerate(engines.chain(settings.choice, settings.allow_fallback)):
        row = engines.row(engine)
        if row.env is None:
            candidates.append(Candidate(engine, None, None))
            continue
        started = time.monotonic()
        chosen = engine == settings.choice
        if chosen and settings.python_override is not None:
            python: Path | None = settings.python_override
            reason, env = None, "custom"
            if not settings.python_override.exists():
                python, reason = None, f"interpreter not found: {settings.python_override}"
        else:
            python, reason, env = engine_python(engine, settings.env_override if chosen else None, settings.config)
        if python is None:
            fix = [f"presgen env create {row.env}"] if env == row.env else []
            _record(attempts, Attempt(engine, "skipped", reason, "UNAVAILABLE", env=env, fix=fix), on_attempt)
            continue
        if settings.choice == engines.AUTO and position == 0:
            # auto tries its first engine only when that engine says it is ready (weights present)
            health = wrapper_client.check(python, engine, _engine_args(engine, settings))
            if not health.healthy:
                _record(
                    attempts,
                    Attempt(
                        engine,
                        "skipped",
                        health.reason,
                        "UNAVAILABLE",
                        env=env,
                        python=str(python),
                        seconds=time.monotonic() - started,
                        fix=list(health.fix),
                    ),
                    on_attempt,
                )
                continue
        candidates.append(Candidate(engine, python, env))
    if not candidates:
        raise AvatarError(_failed_message(attempts))
    return Resolution(candidates, attempts)


def _record(attempts: list[Attempt], attempt: Attempt, on_attempt: Callable[[Attempt], None] | None) -> None:
    attempts.append(attempt)
    if on_attempt is not None:
        on_attempt(attempt)


def make_avatar(
    source: Path,
    source_is_image: bool,
    clips: Sequence[Clip],
    settings: AvatarSettings,
    resolution: Resolution | None = None,
    on_event: wrapper_client.EventCallback | None = None,
    on_attempt: Callable[[Attempt], None] | None = None,
    max_side: int | None = None,
    warm: StartedEngine | None = None,
) -> AvatarOutcome:
    """Render every clip with one engine: the first candidate that renders them all, with its longest side at most
    ``max_side`` px (None: the engine's own limit). ``warm``: an engine run that may already be loading."""
    resolution = resolution or resolve(settings, on_attempt)
    attempts = list(resolution.attempts)
    for candidate in resolution.candidates:
        engine, python = candidate.engine, candidate.python
        started = time.monotonic()
        if python is None:  # static, inside the orchestrator
            try:
                for clip in clips:
                    render_static(
                        source,
                        clip.audio,
                        clip.output,
                        start_s=clip.start_s,
                        handoff_s=clip.handoff_s,
                        max_side=max_side or ENGINE_MAX_SIDE_PX,
                    )
            except MediaError as exc:
                _record(
                    attempts,
                    Attempt(engine, "failed", str(exc), "RUNTIME", seconds=time.monotonic() - started),
                    on_attempt,
                )
                raise AvatarError(_failed_message(attempts)) from None
            _record(attempts, Attempt(engine, "ok", seconds=time.monotonic() - started), on_attempt)
            return AvatarOutcome(engine, attempts)
        try:
            try:
                early = warm.take(engine, python, max_side) if warm is not None else None
                results = _run(engine, python, source, source_is_image, clips, settings, on_event, max_side, early)
            except wrapper_client.WrapperFailure as exc:
                if exc.code != "NO_FACE" or max_side is None:
                    raise
                # a face big enough at full size may be too small for the face mesh at the size shown
                results = _run(engine, python, source, source_is_image, clips, settings, on_event)
        except (wrapper_client.WrapperFailure, VideoCheckFailure) as exc:
            for clip in clips:
                clip.output.unlink(missing_ok=True)
            fix = [str(f) for f in getattr(exc, "details", {}).get("fix", [])]
            _record(
                attempts,
                Attempt(
                    engine,
                    "failed",
                    exc.reason,
                    exc.code,
                    env=candidate.env,
                    python=str(python),
                    seconds=time.monotonic() - started,
                    fix=fix,
                ),
                on_attempt,
            )
            continue
        warnings = sorted({w for r in results for w in r.get("warnings", [])})
        _record(
            attempts,
            Attempt(
                engine,
                "ok",
                env=candidate.env,
                python=str(python),
                seconds=time.monotonic() - started,
                warnings=warnings,
            ),
            on_attempt,
        )
        return AvatarOutcome(engine, attempts, _median_box(results), results)
    raise AvatarError(_failed_message(attempts))


def _failed_message(attempts: list[Attempt]) -> str:
    """Why the presenter could not be made, with the fix of the last failure and the way to accept fallbacks."""
    last = attempts[-1]
    text = f"the {last.engine} presenter could not be made: {last.reason}"
    if len(attempts) > 1:
        text = "; ".join(f"{a.engine}: {a.reason}" for a in attempts)
        text = f"no presenter engine could run ({text})"
    if last.fix:
        text += f"; fix: {' && '.join(last.fix)}"
    if engines.row(last.engine).falls_back_to is not None:
        text += "; or add --fallback to accept the next engine of the chain"
    return text


def _run(
    engine: str,
    python: Path,
    source: Path,
    source_is_image: bool,
    clips: Sequence[Clip],
    settings: AvatarSettings,
    on_event: wrapper_client.EventCallback | None,
    max_side: int | None = None,
    started: wrapper_client.Running | None = None,
) -> list[dict[str, Any]]:
    """One wrapper run for all clips (a single clip at clock 0 uses the plain form; a ``started`` run reads the
    list on its stdin); every video is checked."""
    audio_s = sum(clip.duration_s for clip in clips)
    timeout = settings.timeout_s if settings.timeout_s is not None else engines.timeout_s(engine, audio_s)
    args = _base_args(engine, source, source_is_image, settings, max_side)
    single = len(clips) == 1 and clips[0].start_s == 0.0 and clips[0].handoff_s is None
    if started is not None:
        data = json.dumps({"segments": [_segment_entry(c) for c in clips]}).encode()
        reply = wrapper_client.finish_render(started, data, timeout, on_event)
        results = _segment_results(reply, engine, clips)
    elif single:
        clip = clips[0]
        args += [f"--audio={clip.audio}", f"--output={clip.output}"]
        if clip.timings is not None:
            args.append(f"--timings={clip.timings}")
        results = [wrapper_client.render(python, args, timeout, engine, on_event).obj]
    else:
        listing = clips[0].output.parent / f".segments-{engine}.json"
        with atomic_output(listing) as tmp:
            tmp.write_text(json.dumps({"segments": [_segment_entry(c) for c in clips]}, indent=1))
        try:
            reply = wrapper_client.render(python, [*args, f"--segments={listing}"], timeout, engine, on_event)
        finally:
            listing.unlink(missing_ok=True)
        results = _segment_results(reply, engine, clips)
    for clip, result in zip(clips, results):
        check_video(Path(result["output_path"]), clip.output, clip.duration_s)
    return results


def _base_args(
    engine: str, source: Path, source_is_image: bool, settings: AvatarSettings, max_side: int | None
) -> list[str]:
    source_arg = f"--image={source}" if source_is_image else f"--video={source}"
    args = ["--engine", engine, source_arg, "--json-output", *_engine_args(engine, settings)]
    return [*args, f"--max-side={max_side}"] if max_side is not None else args


def _segment_results(reply: wrapper_client.Reply, engine: str, clips: Sequence[Clip]) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = reply.obj.get("segments", [])
    if len(results) != len(clips):
        raise wrapper_client.WrapperFailure(
            "PROTOCOL", f"engine '{engine}' returned {len(results)} clips for {len(clips)} segments"
        )
    return results


def _segment_entry(clip: Clip) -> dict[str, Any]:
    entry: dict[str, Any] = {"audio": str(clip.audio), "output": str(clip.output), "start_s": clip.start_s}
    if clip.timings is not None:
        entry["timings"] = str(clip.timings)
    if clip.handoff_s is not None:
        entry["handoff_s"] = clip.handoff_s
    return entry


def _engine_args(engine: str, settings: AvatarSettings) -> list[str]:
    args: list[str] = []
    if engine == "puppet":
        args += ["--motion", "on" if settings.motion else "off", "--blink", "on" if settings.blink else "off"]
    if engine.startswith("musetalk"):
        models = settings.models_dir or settings.config.models_dir
        if models is not None:
            args.append(f"--models-dir={Path(models).resolve()}")
    args.append(f"--cache-dir={(cache_dir() / 'avatars').resolve()}")
    return args


def _median_box(results: list[dict[str, Any]]) -> tuple[int, int, int, int] | None:
    boxes = [r.get("details", {}).get("face_box") for r in results]
    valid = [b for b in boxes if isinstance(b, list) and len(b) == 4]
    if not valid:
        return None
    x, y, w, h = (sorted(column)[len(column) // 2] for column in zip(*valid))
    return int(x), int(y), int(w), int(h)
