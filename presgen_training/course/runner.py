"""Render every variant of a course with one scheduler: the segment jobs of ALL modules (presenter batches, overlay
clips) share the backend's workers, so one long module never serialises the course.

Each variant goes prepare (narration; or "unchanged" when its video is up to date) -> presenter jobs -> plan ->
overlay jobs -> finish (join, captions, manifest, thumbnail, chapters). Ready steps run by priority: narration first
(it sizes the rest), then whatever finishes a module soonest, presenter batches largest first. A failed engine job is
retried with backoff, then falls down the engine chain; a module that cannot be made is marked failed with its
reason and the others go on. Finished segments live in the cache, so a run that is stopped and started again redoes
neither finished modules nor finished segments.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import heapq
import itertools
import json
import shutil
import time
import traceback
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from presgen_training import __version__, cache_store
from presgen_training.avatar.chain import Resolution, resolve
from presgen_training.cache_store import content_key
from presgen_training.config import UserConfig, cache_dir, load_config
from presgen_training.course import outputs
from presgen_training.course.backends import Backend
from presgen_training.course.settings import render_options
from presgen_training.course.spec import Course, Variant
from presgen_training.errors import PresgenError
from presgen_training.manifest import manifest_path_for
from presgen_training.pipeline import (
    Prepared,
    RenderOptions,
    finish,
    overlay_jobs,
    overlay_plan,
    prepare,
    presenter_jobs,
)
from presgen_training.progress import StageReporter
from presgen_training.segments import avatar_clips
from presgen_training.segments.jobs import Job, OverlayJob, PresenterJob, PresenterResult
from presgen_training.segments.keys import code_digest, engine_env_identity, file_identity

MAX_RETRIES = 2  # extra tries of a failed engine or overlay job before giving up on that engine
BACKOFF_S = 2.0  # seconds before the first retry; doubled for each further one
TARGET_BATCH_FRAMES = 750  # frames (30 s) per presenter job: a longer module is split over several workers
PRIORITY = {"prepare": 0, "finish": 1, "plan": 2, "overlay": 3, "presenter": 4}
NEXT_STEP = {"presenter": ("avatar", "plan"), "overlay": ("overlay", "finish")}  # jobs -> (stage, next step)
WORK_FOLDER = ".work"  # in the course output folder: per-variant narration, segment audio, cards
CODE_FOLDERS = ("presgen_training", "musetalk_wrapper")


@dataclass
class Task:
    kind: str  # prepare | presenter | plan | overlay | finish
    run: VariantRun
    job: Job | None = None  # a segment job (heavy) ...
    fn: Callable[[], Any] | None = None  # ... or an orchestrator step (light)
    tries: int = 0
    engine_at: int = 0  # presenter jobs: which engine of the chain this task runs
    not_before: float = 0.0

    @property
    def heavy(self) -> bool:
        return self.job is not None

    @property
    def frames(self) -> int:
        return self.job.frames if self.job is not None else 0


class _Notes(StageReporter):
    """A variant's stage timer: no console of its own; notes are kept for the course's console."""

    def __init__(self) -> None:
        super().__init__(enabled=False)
        self.notes: list[str] = []

    def note(self, message: str) -> None:
        self.notes.append(message)


@dataclass
class VariantRun:
    variant: Variant
    opts: RenderOptions
    resolution: Resolution | None
    status: str = "queued"  # queued | running | done | unchanged | failed | interrupted
    reason: str | None = None
    key: str = ""
    prep: Prepared | None = None
    clips: dict[int, Any] = field(default_factory=dict)
    pieces: list[Any] = field(default_factory=list)  # the video's windows: finished clips, or the jobs making them
    plan: Any = None
    pending: int = 0  # heavy jobs of the current stage not yet done
    reporter: _Notes = field(default_factory=_Notes)
    started: float | None = None
    ended: float | None = None
    jobs: list[dict[str, Any]] = field(default_factory=list)
    retries: int = 0
    manifest: dict[str, Any] | None = None

    @property
    def name(self) -> str:
        return self.variant.name

    @property
    def out(self) -> Path:
        return self.opts.out


@dataclass(frozen=True)
class RunSettings:
    retries: int = MAX_RETRIES
    backoff_s: float = BACKOFF_S
    force: bool = False  # re-render modules whose video is up to date
    keep_work: bool = False


class CourseRun:
    """``resolve_engines()``, then ``run(backend)``; ``on_change`` is called whenever a video is finished or failed."""

    backend: Backend

    def __init__(
        self,
        course: Course,
        console: StageReporter,
        settings: RunSettings = RunSettings(),
        only: set[str] | None = None,
        on_change: Callable[[CourseRun], None] | None = None,
        config: UserConfig | None = None,
    ) -> None:
        self.course, self.console, self.settings = course, console, settings
        self.on_change = on_change
        self.config = config or load_config()
        self.work = course.output / WORK_FOLDER
        self.runs = [self._variant_run(v) for v in course.variants() if only is None or v.module.name in only]
        self.ready: list[tuple[tuple[Any, ...], int, Task]] = []
        self.order = itertools.count()
        self.in_flight: dict[Future[Any], Task] = {}
        self.frames_total = self.frames_done = 0
        self.started = time.monotonic()
        self.ended: float | None = None

    @property
    def wall_s(self) -> float:
        return (self.ended or time.monotonic()) - self.started

    def _variant_run(self, variant: Variant) -> VariantRun:
        folder = self.course.output / variant.name
        opts = render_options(
            variant.settings(self.course.render), folder / f"{variant.name}.mp4", self.work / variant.name, self.config
        )
        return VariantRun(variant, opts, None)

    # -- the loop ---------------------------------------------------------------------------------------------

    def run(self, backend: Backend) -> list[VariantRun]:
        self.backend = backend
        self.started = time.monotonic()
        for run in self.runs:
            if run.status == "queued":
                self._push(Task("prepare", run, fn=functools.partial(self._prepare, run)))
        try:
            while self.ready or self.in_flight:
                self._dispatch()
                timeout = self._next_wake()
                if not self.in_flight:
                    time.sleep(timeout or 0.0)
                    continue
                done, _ = wait(list(self.in_flight), timeout=timeout, return_when=FIRST_COMPLETED)
                for future in done:
                    self._settle(self.in_flight.pop(future), future)
        except BaseException:
            self.backend.close(cancel=True)
            for run in self.runs:
                if run.status in ("queued", "running"):
                    run.status, run.reason = "interrupted", "the course run was stopped"
            raise
        else:
            self.backend.close(cancel=False)
        finally:
            self.ended = time.monotonic()
        if not self.settings.keep_work:
            shutil.rmtree(self.work, ignore_errors=True)
        cache_store.prune(cache_store.max_cache_bytes())  # once for the course, not after every video
        return self.runs

    def resolve_engines(self) -> set[str]:
        """The engine chain once per distinct presenter settings (auto's health check runs once per course);
        returns the engines the videos will be made with (the first of each chain)."""
        resolved: dict[str, Resolution | PresgenError] = {}
        for run in self.runs:
            key = repr(run.opts.avatar)
            if key not in resolved:
                try:
                    resolved[key] = resolve(run.opts.avatar)
                except PresgenError as exc:
                    resolved[key] = exc
            outcome = resolved[key]
            if isinstance(outcome, PresgenError):
                run.status, run.reason = "failed", str(outcome)
            else:
                run.resolution = outcome
        return {r.resolution.first for r in self.runs if r.resolution is not None}

    def _push(self, task: Task) -> None:
        rank = (PRIORITY[task.kind], -task.frames)
        heapq.heappush(self.ready, (rank, next(self.order), task))

    def _dispatch(self) -> None:
        now = time.monotonic()
        waiting = []
        while self.ready:
            rank, order, task = heapq.heappop(self.ready)
            if task.run.status not in ("queued", "running"):
                continue  # its module failed meanwhile
            if task.not_before > now or not self._has_room(task):
                waiting.append((rank, order, task))
                continue
            if task.run.started is None:
                task.run.started, task.run.status = now, "running"
            future = (
                self.backend.run_heavy(task.job) if task.job is not None else self.backend.run_light(_timed(task.fn))
            )
            self.in_flight[future] = task
        for item in waiting:
            heapq.heappush(self.ready, item)

    def _has_room(self, task: Task) -> bool:
        backend = self.backend
        if backend.shared:
            return len(self.in_flight) < backend.heavy_slots
        busy = sum(1 for t in self.in_flight.values() if t.heavy == task.heavy)
        return busy < (backend.heavy_slots if task.heavy else backend.light_slots)

    def _next_wake(self) -> float | None:
        """Seconds until a delayed retry may start (None: only finished work can change anything)."""
        delays = [t.not_before - time.monotonic() for _, _, t in self.ready if t.not_before]
        return max(0.05, min(delays)) if delays else None

    def _settle(self, task: Task, future: Future[Any]) -> None:
        run = task.run
        if run.status != "running":
            return  # its module failed while this was in flight
        try:
            value, stats = future.result()
        except PresgenError as exc:
            self._failed_task(task, str(exc))
            return
        except Exception as exc:  # a bug or a lost worker fails its module, not the course
            self._failed_task(task, f"{type(exc).__name__}: {exc}", traceback.format_exc())
            return
        if task.heavy:
            if self.backend.shared:
                stats.pop("cpu_s", None)  # threads of one process: a job's CPU time cannot be told apart
            stats = {"kind": task.kind, "segments": _segment_numbers(task.job), "try": task.tries + 1, **stats}
            run.jobs.append(stats)
        getattr(self, f"_after_{task.kind}")(task, value)

    def _failed_task(self, task: Task, reason: str, trace: str | None = None) -> None:
        """A heavy job that raised is tried again (with backoff) a few times; a light step's failure is final."""
        if task.heavy and task.tries < self.settings.retries:
            self._retry(task, reason)
            return
        self._fail(task.run, reason if not task.heavy else f"{task.kind} job failed: {reason}", trace)

    def _retry(self, task: Task, reason: str) -> None:
        delay = self.settings.backoff_s * 2**task.tries
        task.run.retries += 1
        self.console.note(f"{task.run.name}: {task.kind} job failed ({reason}); trying again in {delay:.0f} s")
        self._push(replace(task, tries=task.tries + 1, not_before=time.monotonic() + delay))

    # -- the steps of one variant ----------------------------------------------------------------------------

    def _prepare(self, run: VariantRun) -> tuple[str, Any]:
        """Light step: "unchanged" with the existing manifest, or the narration and the presenter jobs."""
        assert run.resolution is not None
        run.key = variant_key(run.opts, run.resolution)
        existing = _up_to_date(run.out, run.key) if not self.settings.force else None
        if existing is not None:
            _course_extras(run.out, existing, refresh=False)
            return "unchanged", existing
        assert run.opts.work_dir is not None
        shutil.rmtree(run.opts.work_dir, ignore_errors=True)  # never reuse a stale segment cut
        prep = prepare(run.opts, run.opts.work_dir, run.reporter, run.resolution)
        first = replace(prep.inputs, resolution=Resolution(prep.inputs.resolution.candidates[:1], []))
        clips, jobs = presenter_jobs(prep, self.backend.heavy_slots, TARGET_BATCH_FRAMES, first)
        return "prepared", (prep, clips, jobs)

    def _after_prepare(self, task: Task, value: tuple[str, Any]) -> None:
        run = task.run
        outcome, data = value
        if outcome == "unchanged":
            run.manifest = data
            self._end(run, "unchanged")
            return
        run.prep, run.clips, jobs = data
        self._start_jobs(run, "presenter", jobs)

    def _after_presenter(self, task: Task, result: PresenterResult) -> None:
        run = task.run
        assert run.prep is not None and task.job is not None and isinstance(task.job, PresenterJob)
        run.prep.attempts += [dataclasses.asdict(a) for a in result.attempts]
        if result.error is not None:
            self._presenter_failed(task, result)
            return
        run.clips.update(result.clips)
        self._job_done(task)

    def _presenter_failed(self, task: Task, result: PresenterResult) -> None:
        """Retry the same engine (a killed or crashed engine may work next time), then the next of the chain."""
        run, job = task.run, task.job
        assert run.prep is not None and isinstance(job, PresenterJob)
        if result.retryable and task.tries < self.settings.retries:
            self._retry(task, result.error or "engine failed")
            return
        chain = run.prep.inputs.resolution.candidates
        following = task.engine_at + 1
        if following < len(chain):
            failed = job.inputs.resolution.first
            self.console.note(
                f"{run.name}: presenter {failed} failed ({result.error}); trying {chain[following].engine}"
            )
            inputs = replace(job.inputs, resolution=Resolution([chain[following]], []))
            self._push(Task("presenter", run, job=PresenterJob(inputs, job.segments), engine_at=following))
            return
        reasons = [f"{a['engine']}: {a['reason']}" for a in run.prep.attempts if a["outcome"] == "failed"]
        self._fail(run, "no presenter engine could make it (" + "; ".join(reasons) + ")")

    def _plan(self, run: VariantRun) -> tuple[Any, list[Any], list[OverlayJob]]:
        """Light step: layout facts, the overlay plan and its pictures, and the overlay jobs still to do."""
        assert run.prep is not None
        facts = avatar_clips.layout_facts(run.prep.inputs, run.clips)
        plan = overlay_plan(run.prep, facts, run.reporter)
        pieces, todo = overlay_jobs(run.prep, plan, run.clips)
        return plan, pieces, todo

    def _after_plan(self, task: Task, value: tuple[Any, list[Any], list[OverlayJob]]) -> None:
        run = task.run
        run.plan, run.pieces, todo = value
        self._start_jobs(run, "overlay", todo)

    def _after_overlay(self, task: Task, clip: Any) -> None:
        run = task.run
        run.pieces = [clip if piece is task.job else piece for piece in run.pieces]
        self._job_done(task)

    def _start_jobs(self, run: VariantRun, kind: str, jobs: list[Any]) -> None:
        run.pending = len(jobs)
        for job in jobs:
            self._push(Task(kind, run, job=job))
            self.frames_total += job.frames
        if not jobs:
            self._stage_done(run, kind)
        self._progress()

    def _job_done(self, task: Task) -> None:
        self.frames_done += task.frames
        self._progress()
        task.run.pending -= 1
        if task.run.pending == 0:
            self._stage_done(task.run, task.kind)

    def _stage_done(self, run: VariantRun, kind: str) -> None:
        """All of a variant's jobs of one kind are done: record the stage's time (the sum of its jobs' times, as
        they ran among other modules' jobs) and queue the next step."""
        stage, following = NEXT_STEP[kind]
        run.reporter.timings_s[stage] = _job_seconds(run, kind)
        step = self._plan if following == "plan" else self._finish
        self._push(Task(following, run, fn=lambda: step(run)))

    def _finish(self, run: VariantRun) -> dict[str, Any]:
        """Light step: the MP4, captions and manifest (as `presgen render` writes them), thumbnail and chapters."""
        prep = run.prep
        assert prep is not None
        prep.manifest["course"] = self._course_section(run)
        with run.reporter.stage("finish"):
            report = finish(prep, run.plan, run.clips, run.pieces, run.reporter, prune=False)
        _course_extras(run.out, report.manifest, refresh=True)
        return report.manifest

    def _after_finish(self, task: Task, manifest: dict[str, Any]) -> None:
        task.run.manifest = manifest
        if not self.settings.keep_work and task.run.opts.work_dir is not None:
            shutil.rmtree(task.run.opts.work_dir, ignore_errors=True)
        self._end(task.run, "done")

    def _course_section(self, run: VariantRun) -> dict[str, Any]:
        assert run.prep is not None
        return {
            "file": str(self.course.path),
            "title": self.course.title,
            "variant": run.name,
            "module": run.variant.module.name,
            "choices": {c.axis: c.name for c in run.variant.choices},
            "variant_key": run.key,
            "inputs": _inputs_read(run.prep, self.course.output),
            "backend": self.backend.name,
            "retries": run.retries,
            "jobs": run.jobs,
            "notes": run.reporter.notes,
        }

    # -- bookkeeping -------------------------------------------------------------------------------------------

    def _fail(self, run: VariantRun, reason: str, trace: str | None = None) -> None:
        with contextlib.suppress(OSError):
            run.out.parent.rmdir()  # the folder the input checks made, if nothing else is in it
        run.reason = reason
        if trace:
            run.reason += " [internal error; traceback in the course manifest]"
            run.jobs.append({"traceback": trace})
        self._end(run, "failed")

    def _end(self, run: VariantRun, status: str) -> None:
        run.status, run.ended = status, time.monotonic()
        run.started = run.started or run.ended
        finished = sum(1 for r in self.runs if r.status in ("done", "unchanged", "failed"))
        detail = f"failed: {run.reason}" if status == "failed" else status
        self.console.note(f"[{finished}/{len(self.runs)}] {run.name}: {detail}")
        if self.on_change is not None:
            self.on_change(self)

    def _progress(self) -> None:
        if self.frames_total:
            self.console.update(self.frames_done, self.frames_total, "segments")


def _timed(fn: Callable[[], Any] | None) -> Callable[[], tuple[Any, dict[str, Any]]]:
    assert fn is not None

    def call() -> tuple[Any, dict[str, Any]]:
        started = time.monotonic()
        value = fn()
        return value, {"wall_s": round(time.monotonic() - started, 3)}

    return call


def _segment_numbers(job: Job | None) -> list[int]:
    if isinstance(job, PresenterJob):
        return [s.index + 1 for s in job.segments]
    if isinstance(job, OverlayJob) and job.window.segment is not None:
        return [job.window.segment + 1]
    return []


def _job_seconds(run: VariantRun, kind: str) -> float:
    total: float = sum(j.get("wall_s", 0.0) for j in run.jobs if j.get("kind") == kind)
    return round(total, 3)


def variant_key(opts: RenderOptions, resolution: Resolution) -> str:
    """Everything a finished video depends on: inputs by content, settings, code, and the engine that would
    render it (a newly ready MuseTalk makes every module out of date)."""
    first = resolution.candidates[0]
    options = {k: v for k, v in dataclasses.asdict(opts).items() if k not in ("script", "source", "work_dir")}
    content = opts.script or opts.look.deck
    assert content is not None
    return content_key(
        {
            "presgen": __version__,
            "code": code_digest(*CODE_FOLDERS),
            "content": file_identity(content),
            "source": file_identity(opts.source),
            "options": options,
            "engine": first.engine,
            "env": engine_env_identity(first.env, first.python),
        }
    )


def _inputs_read(prep: Prepared, output: Path) -> dict[str, str]:
    """Every user file the render read (script, presenter, deck, theme, section pictures) by content, so that an
    edit of any of them (a deck the script names, a chart) makes the video out of date."""
    opts = prep.opts
    theme = Path(opts.look.theme) if opts.look.theme and opts.look.theme.endswith((".yaml", ".yml")) else None
    files = [
        opts.script,
        opts.source,
        opts.look.deck,
        prep.script.deck,
        theme,
        *(s.image for s in prep.script.sections),
    ]
    ours = (output, cache_dir())  # slide pictures made from a deck live here: the deck stands for them
    return {
        str(f): file_identity(f)
        for f in files
        if f is not None and f.is_file() and not any(f.is_relative_to(folder) for folder in ours)
    }


def _up_to_date(out: Path, key: str) -> dict[str, Any] | None:
    """The manifest of a finished video made from exactly these inputs, or None."""
    try:
        manifest = json.loads(manifest_path_for(out).read_text())
        course = manifest["course"]
        same = (
            course["variant_key"] == key
            and out.stat().st_size == manifest["output"]["bytes"]
            and all(Path(f).is_file() and file_identity(Path(f)) == digest for f, digest in course["inputs"].items())
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    return manifest if same else None


def _course_extras(out: Path, manifest: dict[str, Any], refresh: bool) -> None:
    """A frame of the video as the index's thumbnail, and a chapters track when the render wrote none (for an
    unchanged video: only what is missing)."""
    frame, chapters_file = out.with_suffix(".frame.png"), out.with_suffix(".chapters.vtt")
    if refresh or not frame.exists():
        outputs.write_thumbnail(out, outputs.thumbnail_time(manifest), frame)
    if not chapters_file.exists():
        outputs.write_chapters_vtt(outputs.chapters(manifest), chapters_file)
