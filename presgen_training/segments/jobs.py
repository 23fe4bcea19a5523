"""The two kinds of segment work, as module-level functions of picklable jobs, so the same job runs in a thread of
``presgen render`` or as a task on another machine (``presgen course --ray-address``).

A presenter job renders a batch of segments' presenter clips in one engine run; an overlay job composes one
segment's finished clip. Both read and write only the shared cache and the render's work folder.
"""

from __future__ import annotations

import os
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from presgen_training.avatar.chain import Attempt, AvatarError, StartedEngine
from presgen_training.cache_store import Store
from presgen_training.overlay.compose import ProgressFn
from presgen_training.overlay.config import OverlayConfig
from presgen_training.overlay.plan import OverlayPlan
from presgen_training.segments import avatar_clips, overlay_clips
from presgen_training.segments.avatar_clips import AvatarClip, AvatarInputs
from presgen_training.segments.plan import Segment

# Engine failures that say nothing about the input: a killed or crashed engine, a hang, a broken reply. Worth
# another try before falling back. NO_FACE, BAD_INPUT and an unavailable engine would fail the same way again.
RETRYABLE_CODES = frozenset({"RUNTIME", "TIMEOUT", "PROTOCOL", "BAD_OUTPUT"})


@dataclass(frozen=True)
class PresenterJob:
    inputs: AvatarInputs
    segments: tuple[Segment, ...]

    @property
    def frames(self) -> int:
        return sum(s.frames for s in self.segments)


@dataclass
class PresenterResult:
    clips: dict[int, AvatarClip]
    attempts: list[Attempt]
    error: str | None = None  # no engine of the job's chain could make the clips

    @property
    def retryable(self) -> bool:
        """The first engine failed in a way another try may not repeat."""
        failed = [a for a in self.attempts if a.outcome == "failed"]
        return bool(failed) and failed[0].code in RETRYABLE_CODES


def run_presenter_job(
    job: PresenterJob,
    on_event: Callable[[dict[str, Any]], None] | None = None,
    on_attempt: Callable[[Attempt], None] | None = None,
    warm: StartedEngine | None = None,
) -> PresenterResult:
    """Render the job's clips (the job's chain decides the engine) into the cache. An engine failure is returned,
    not raised, so a scheduler can retry it or fall back. ``warm``: an engine run started ahead, if it fits."""
    attempts: list[Attempt] = []

    def record(attempt: Attempt) -> None:
        attempts.append(attempt)
        if on_attempt is not None:
            on_attempt(attempt)

    try:
        clips, _ = avatar_clips.render_missing(job.inputs, job.segments, on_event, record, warm)
    except AvatarError as exc:
        return PresenterResult({}, attempts, str(exc))
    return PresenterResult(clips, attempts)


@dataclass(frozen=True)
class OverlayJob:
    store: Store
    key: str
    plan: OverlayPlan
    window: overlay_clips.Window
    config: OverlayConfig

    @property
    def frames(self) -> int:
        return self.window.frames


def run_overlay_job(job: OverlayJob, progress: ProgressFn | None = None) -> overlay_clips.OverlayClip:
    return overlay_clips.render_overlay(job.store, job.key, job.plan, job.window, job.config, progress=progress)


Job = PresenterJob | OverlayJob


def run_job(job: Job) -> tuple[PresenterResult | overlay_clips.OverlayClip, dict[str, Any]]:
    """Either kind of job, with where it ran, its wall time and its CPU time (this process and the children it
    waited for: exact when one job runs per process at a time, as on a Ray worker)."""
    started, cpu = time.monotonic(), cpu_seconds()
    result = run_presenter_job(job) if isinstance(job, PresenterJob) else run_overlay_job(job)
    return result, {
        "host": os.uname().nodename,
        "pid": os.getpid(),
        "wall_s": round(time.monotonic() - started, 3),
        "cpu_s": round(cpu_seconds() - cpu, 3),
    }


def cpu_seconds() -> float:
    """CPU seconds of this process and of the children it has waited for."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
