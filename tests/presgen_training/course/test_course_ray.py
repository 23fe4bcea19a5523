"""The course's segment jobs as Ray tasks on a local Ray cluster (2 CPUs) started by the test, with a real course.
A Ray worker is killed (with its engine) while it renders a presenter clip: the job is tried again and the course
completes, into the same folder layout as a local run."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from presgen_training.course.index_page import write_index
from presgen_training.course.ray_backend import Ray
from presgen_training.course.report import course_manifest, write_course_manifest
from presgen_training.course.runner import CourseRun, RunSettings
from presgen_training.course.spec import load_course
from presgen_training.progress import StageReporter

ray = pytest.importorskip("ray", reason="needs ray: make venv (or .venv/bin/pip install 'ray[client]==2.60.0')")

pytestmark = [pytest.mark.slow]

MODULES = {"welcome", "phishing"}
POLL_S = 0.1


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):
    """A local Ray cluster whose workers use this test's cache (passed to them, as a cluster's shared path is)."""
    cache = tmp_path_factory.mktemp("ray-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PRESGEN_CACHE_DIR", str(cache))
        ray.init(
            num_cpus=2,
            include_dashboard=False,
            logging_level=logging.WARNING,
            log_to_driver=False,
            runtime_env={"env_vars": {"PRESGEN_CACHE_DIR": str(cache), "PRESGEN_CONFIG": ""}},
        )
        try:
            yield cache
        finally:
            ray.shutdown()


def parent(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


def kill_a_worker_mid_render(folder: Path, stop: threading.Event, killed: list[int]) -> None:
    """Find an engine rendering for this test, then kill the Ray worker that started it and the engine with it
    (as when the worker's machine dies)."""
    while not stop.is_set():
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                argv = (proc / "cmdline").read_bytes().decode(errors="replace").split("\0")
                if (
                    "musetalk_wrapper" not in argv
                    or not any(a.startswith(("--segments=", "--audio=")) for a in argv)
                    or not any(str(folder) in a for a in argv)
                ):
                    continue
                worker = parent(int(proc.name))
                if "ray" not in Path(f"/proc/{worker}/cmdline").read_bytes().decode(errors="replace"):
                    continue
            except (OSError, ValueError, IndexError):
                continue
            time.sleep(1.0)  # let it get into its frames
            os.kill(worker, signal.SIGKILL)
            os.killpg(int(proc.name), signal.SIGKILL)  # the engine runs in its own process group
            killed.append(worker)
            return
        time.sleep(POLL_S)


@pytest.fixture(scope="module")
def ray_run(
    cluster: Path, make_example_course, tmp_path_factory: pytest.TempPathFactory, puppet_python: Path
) -> tuple[CourseRun, dict, list[int]]:
    folder = tmp_path_factory.mktemp("ray-course")
    course = load_course(make_example_course(folder))
    state = CourseRun(course, StageReporter(enabled=False), RunSettings(backoff_s=0.5), only=MODULES)
    state.resolve_engines()
    stop, killed = threading.Event(), []
    killer = threading.Thread(target=kill_a_worker_mid_render, args=(folder, stop, killed), daemon=True)
    killer.start()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PRESGEN_CACHE_DIR", str(cluster))
        try:
            state.run(Ray("auto"))  # joins the cluster this process already started
        finally:
            stop.set()
            killer.join()
        write_course_manifest(state)
        manifest = course_manifest(state)
        write_index(manifest, course.output)
    return state, manifest, killed


def test_course_completes_on_ray_despite_a_killed_worker(ray_run: tuple[CourseRun, dict, list[int]]) -> None:
    state, manifest, killed = ray_run
    assert killed, "no Ray worker was seen rendering, so none was killed"
    assert {v["module"]: v["status"] for v in manifest["variants"]} == dict.fromkeys(MODULES, "done")
    assert manifest["backend"] == {"name": "ray", "workers": 2}
    retried = [r for r in state.runs if r.retries]
    assert len(retried) == 1 and any(j["try"] == 2 for j in retried[0].jobs), "the lost job was tried again"
    assert all(r.manifest["avatar"]["engine"] == "puppet" for r in state.runs)


def test_jobs_ran_on_ray_workers_into_the_local_layout(ray_run: tuple[CourseRun, dict, list[int]]) -> None:
    state, manifest, killed = ray_run
    for run in state.runs:
        jobs = run.manifest["course"]["jobs"]
        assert {j["kind"] for j in jobs} == {"presenter", "overlay"}
        assert all(j["pid"] != os.getpid() and j["cpu_s"] > 0 for j in jobs), "segment jobs run in Ray workers"
        assert killed[0] not in {j["pid"] for j in jobs}, "the killed worker returned no result"
    root = state.course.output
    for v in manifest["variants"]:
        assert all((root / v[key]).is_file() for key in ("video", "manifest", "thumbnail", "poster", "chapters_file"))
        assert v["folder"] == v["module"]
    assert (root / "index.html").is_file() and (root / "course.manifest.json").is_file()
