"""Segment jobs as Ray tasks: ``presgen course --ray-address auto|ray://HOST:10001|HOST:6379|local``.

Each presenter batch and each overlay clip is one task: one CPU, and one GPU for a MuseTalk batch when the cluster
has GPUs. Tasks read and write files only: the cache ($PRESGEN_CACHE_DIR) and the course's output folder (its
``.work/``) must be paths every worker sees (a shared file system mounted at the same path), and every worker must
run this same checkout at the same path with its engine envs built (``make venv env-puppet`` there), because the
tasks start the engines by path. Retries are the course scheduler's (with backoff), not Ray's.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any
from urllib.parse import urlparse

from presgen_training.config import cache_dir
from presgen_training.errors import PresgenError
from presgen_training.segments.jobs import Job, PresenterJob, run_job

CONNECT_TIMEOUT_S = 5.0  # seconds to reach the cluster's port before calling it unreachable
LIGHT_SLOTS = 2  # orchestrator steps at once beside the cluster's work
CANCEL_GRACE_S = 15.0  # seconds cancelled tasks get to stop their engines before the cluster is left
INSTALL = "make venv (or .venv/bin/pip install 'ray[client]==2.60.0')"
ENV_VARS = ("PRESGEN_CONFIG", "PRESGEN_ENVS_HOME", "PRESGEN_MODELS", "PRESGEN_CACHE_MAX_GB")


class WorkerLost(PresgenError):
    """A task's worker or node died (Ray reported it); the job may be tried again."""


class Ray:
    name = "ray"
    shared = False

    def __init__(self, address: str) -> None:
        try:
            import ray
        except ImportError:
            raise PresgenError(f"--ray-address needs the ray package; install it with: {INSTALL}") from None
        self.ray = ray
        self.started = connect(ray, address)
        # ray leaves cluster_resources unannotated (where ray is not installed, it is Any and the ignore unused)
        resources = ray.cluster_resources()  # type: ignore[no-untyped-call, unused-ignore]
        self.cpus = int(resources.get("CPU", 1))
        self.gpus = int(resources.get("GPU", 0))
        self.heavy_slots = max(1, self.cpus + self.gpus)
        self.light_slots = LIGHT_SLOTS
        self.remote = ray.remote(run_job)
        self.light = ThreadPoolExecutor(max_workers=LIGHT_SLOTS, thread_name_prefix="presgen-course")
        self.refs: dict[Future[Any], Any] = {}

    @property
    def where(self) -> str:
        return f"{self.cpus} CPUs, {self.gpus} GPUs"

    def run_heavy(self, job: Job) -> Future[Any]:
        options: dict[str, Any] = {"num_cpus": 1, "max_retries": 0}
        if isinstance(job, PresenterJob) and job.inputs.resolution.first.startswith("musetalk") and self.gpus:
            options["num_gpus"] = 1
        ref = self.remote.options(**options).remote(job)
        outer: Future[Any] = Future()
        self.refs[outer] = ref
        ref.future().add_done_callback(lambda inner: self._settle(outer, inner))
        return outer

    def _settle(self, outer: Future[Any], inner: Future[Any]) -> None:
        self.refs.pop(outer, None)
        try:
            outer.set_result(inner.result())
        except BaseException as exc:  # every failure is handed to the scheduler
            outer.set_exception(self._plain(exc))

    def _plain(self, exc: BaseException) -> BaseException:
        """The job's own exception out of Ray's wrapper; a lost worker or node as WorkerLost."""
        exceptions = self.ray.exceptions
        if isinstance(exc, exceptions.RayTaskError):
            cause = getattr(exc, "cause", None)
            return cause if isinstance(cause, BaseException) else PresgenError(str(exc).splitlines()[0])
        if isinstance(
            exc,
            (
                exceptions.WorkerCrashedError,
                exceptions.NodeDiedError,
                exceptions.OwnerDiedError,
                exceptions.RaySystemError,
                exceptions.ObjectLostError,
            ),
        ):
            return WorkerLost(f"the Ray worker running it was lost ({type(exc).__name__})")
        return exc

    def run_light(self, fn: Callable[[], Any]) -> Future[Any]:
        return self.light.submit(fn)

    def close(self, cancel: bool) -> None:
        if cancel:
            refs = list(self.refs.values())
            for ref in refs:
                # not force: the task sees KeyboardInterrupt and stops its engine (a killed worker would not);
                # an error means it already finished or its worker is gone
                with contextlib.suppress(Exception):
                    self.ray.cancel(ref, force=False)
            if refs:
                self.ray.wait(refs, num_returns=len(refs), timeout=CANCEL_GRACE_S)
        self.light.shutdown(wait=True, cancel_futures=cancel)
        if self.started:
            self.ray.shutdown()


def connect(ray: Any, address: str) -> bool:
    """Join the cluster at ``address`` (or start one on this machine for ``local``); True when we started it.
    An address that does not answer is a PresgenError within CONNECT_TIMEOUT_S, never a hang."""
    if ray.is_initialized():  # a caller (a test, a notebook) already joined a cluster: use it
        return False
    env_vars = {
        "PRESGEN_CACHE_DIR": str(cache_dir().absolute()),
        **{name: os.environ[name] for name in ENV_VARS if name in os.environ},
    }
    kwargs: dict[str, Any] = {
        "runtime_env": {"env_vars": env_vars},
        "logging_level": logging.WARNING,
        "log_to_driver": False,
    }
    if address == "local":
        ray.init(num_cpus=os.cpu_count() or 1, include_dashboard=False, **kwargs)
        return True
    if address != "auto":
        _reachable(address)
    try:
        ray.init(address=address, **kwargs)
    except (ConnectionError, TimeoutError, ValueError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        hint = " (start one with: .venv/bin/ray start --head)" if address == "auto" else ""
        raise PresgenError(f"cannot join the Ray cluster at {address}: {first}{hint}") from None
    return False


def _reachable(address: str) -> None:
    parsed = urlparse(address if "://" in address else f"tcp://{address}")
    try:
        host, port = parsed.hostname, parsed.port
    except ValueError:
        host, port = None, None
    if not host or not port:
        raise PresgenError(f"--ray-address {address}: expected auto, local, ray://HOST:PORT or HOST:PORT")
    try:
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        reason = "no answer" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        raise PresgenError(
            f"cannot reach the Ray cluster at {address}: {reason} within {CONNECT_TIMEOUT_S:.0f} s "
            "(is `ray start --head` running there, and the port open?)"
        ) from None
