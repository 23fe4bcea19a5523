"""Where a course's work runs. Segment jobs (presenter batches, overlay clips) are "heavy": they go to the backend's
workers. Light steps (narration, the overlay plan, joining a video) run in the orchestrator.

``Local``: one pool of threads on this machine for both (the work itself runs in engine and ffmpeg subprocesses, so
threads give real parallelism), sized by ``default_jobs`` unless ``--jobs`` says otherwise. ``ray_backend.Ray``: the
heavy jobs as Ray tasks on a cluster.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol

from presgen_training import children
from presgen_training.segments.jobs import Job, run_job

# Peak resident memory of one job, measured by bench/course.py on this project's 2-core machine (it prints them
# again): a puppet engine run on the 512x512 demo photo at --quality fast peaked at 389 MiB (python + mediapipe +
# its ffmpeg encoder); an overlay clip's ffmpeg (854x480 x264 veryfast, a few card PNGs) at 104 MiB. MuseTalk on a
# CPU holds its UNet, VAE and whisper in fp32: budgeted at 6 GiB, not measured here.
JOB_RSS_BYTES = {"puppet": 400 * 2**20, "static": 200 * 2**20, "musetalk": 6 * 2**30, "overlay": 150 * 2**20}
ORCHESTRATOR_RESERVE_BYTES = 1 * 2**30  # the orchestrator itself (piper voice loaded) and the page cache it needs


class Backend(Protocol):
    name: str
    heavy_slots: int  # segment jobs at once
    light_slots: int  # orchestrator steps at once
    shared: bool  # light and heavy work share one budget of heavy_slots

    def run_heavy(self, job: Job) -> Future[Any]:
        """``run_job(job)`` somewhere; the future's result is (result, stats) or the job's exception."""
        ...

    def run_light(self, fn: Callable[[], Any]) -> Future[Any]: ...

    def close(self, cancel: bool) -> None:
        """Release the workers; ``cancel``: stop the work in flight first (an interrupt)."""
        ...


class Local:
    name = "local"
    shared = True

    def __init__(self, jobs: int) -> None:
        self.heavy_slots = self.light_slots = max(1, jobs)
        self.pool = ThreadPoolExecutor(max_workers=self.heavy_slots, thread_name_prefix="presgen-course")

    def run_heavy(self, job: Job) -> Future[Any]:
        return self.pool.submit(run_job, job)

    def run_light(self, fn: Callable[[], Any]) -> Future[Any]:
        return self.pool.submit(fn)

    def close(self, cancel: bool) -> None:
        if cancel:
            children.stop_all()  # the workers' engines and encoders: their results are not wanted
        self.pool.shutdown(wait=True, cancel_futures=cancel)


def default_jobs(engine: str, cpus: int | None = None, available: int | None = None) -> int:
    """Jobs at once on this machine: one per core, fewer when the memory of that many ``engine`` runs (or overlay
    encoders, whichever is larger) would not fit in the memory available now."""
    cpus = cpus or os.cpu_count() or 1
    available = available if available is not None else _available_bytes()
    per_job = max(
        JOB_RSS_BYTES.get(engine.split("-", maxsplit=1)[0], JOB_RSS_BYTES["puppet"]), JOB_RSS_BYTES["overlay"]
    )
    if available is None:
        return cpus
    return max(1, min(cpus, (available - ORCHESTRATOR_RESERVE_BYTES) // per_job))


def _available_bytes() -> int | None:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None
