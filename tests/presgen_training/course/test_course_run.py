"""`presgen course` on this machine, as a team uses it: the example course plus a broken module, stopped half way
and started again, with one engine process killed mid-segment in the second run.

What must hold: the stopped run leaves its finished modules; the second run redoes neither those modules nor the
segments already in the cache; the killed engine is retried and its module made by the same engine; the broken
module is marked failed with its reason while the others finish (exit code 1); every video has its manifest,
captions, chapters and thumbnail; index.html lists every module and plays every video in Chromium.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import REPO

pytestmark = [pytest.mark.slow]

MODULES = ("welcome", "passwords", "phishing")
POLL_S = 0.1
RUN_TIMEOUT_S = 900
CHROMIUM = shutil.which("chromium")


def start(course: Path, cache: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "presgen_training", "course", str(course), "--jobs", "2"],
        cwd=REPO,
        env={**os.environ, "PRESGEN_CACHE_DIR": str(cache)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finished(out: Path) -> list[str]:
    return [m for m in MODULES if (out / m / f"{m}.manifest.json").exists()]


def cached_clips(cache: Path) -> set[str]:
    return {p.name.split(".")[0] for p in (cache / "segments").glob("*/*.avatar.mp4")}


def engine_render(folder: Path) -> int | None:
    """The pid of an engine process rendering for this test (not a health check), if one runs now."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if (
            "musetalk_wrapper" in argv
            and any(a.startswith(("--segments=", "--audio=")) for a in argv)
            and any(str(folder) in a for a in argv)
        ):
            return int(proc.name)
    return None


@pytest.fixture(scope="module")
def runs(make_example_course, tmp_path_factory: pytest.TempPathFactory, puppet_python: Path) -> dict:
    folder = tmp_path_factory.mktemp("course-run")
    course = make_example_course(folder)
    (course.parent / "course" / "broken.yaml").write_text("title: Broken\nsections: []\n")
    course.write_text(course.read_text() + "  - name: broken\n    script: course/broken.yaml\n")
    out, cache = folder / "out" / "course", folder / "cache"

    first = start(course, cache)  # stopped (SIGTERM, as Ctrl-C or a batch system would) once a module is done
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while not finished(out) and first.poll() is None and time.monotonic() < deadline:
        time.sleep(POLL_S)
    first.send_signal(signal.SIGTERM)
    first_out, first_err = first.communicate(timeout=120)
    before = {m: (out / m / f"{m}.manifest.json").read_bytes() for m in finished(out)}
    clips_before = cached_clips(cache)

    second = start(course, cache)  # its first engine render is killed mid-segment
    killed = None
    while second.poll() is None and time.monotonic() < deadline:
        if killed is None and (pid := engine_render(folder)) is not None:
            time.sleep(1.0)  # let it get into its frames
            os.kill(pid, signal.SIGKILL)
            killed = pid
        time.sleep(POLL_S)
    second_out, second_err = second.communicate(timeout=RUN_TIMEOUT_S)
    return {
        "folder": folder,
        "out": out,
        "first": (first.returncode, first_out, first_err),
        "before": before,
        "clips_before": clips_before,
        "second": (second.returncode, second_out, second_err),
        "killed": killed,
        "course": json.loads((out / "course.manifest.json").read_text()),
    }


def entry(runs: dict, module: str) -> dict:
    return next(v for v in runs["course"]["variants"] if v["module"] == module)


def module_manifest(runs: dict, module: str) -> dict:
    return json.loads((runs["out"] / module / f"{module}.manifest.json").read_text())


def test_a_stopped_run_keeps_its_finished_modules(runs: dict) -> None:
    code, _, err = runs["first"]
    assert code == 143, err
    assert 1 <= len(runs["before"]) < len(MODULES), "the run should have been stopped half way"


def test_resume_redoes_no_finished_module_or_segment(runs: dict) -> None:
    for module, manifest_bytes in runs["before"].items():
        assert entry(runs, module)["status"] == "unchanged"
        assert (runs["out"] / module / f"{module}.manifest.json").read_bytes() == manifest_bytes
    for module in set(MODULES) - set(runs["before"]):
        assert entry(runs, module)["status"] == "done"
        manifest = module_manifest(runs, module)
        for segment in [s for s in manifest["segments"] if "avatar_key" in s]:
            assert segment["avatar_cached"] == (segment["avatar_key"] in runs["clips_before"]), (
                f"{module} segment {segment['index'] + 1}: cached clips must be reused, and only those"
            )
        if all(s.get("avatar_cached", True) for s in manifest["segments"]):
            assert manifest["stages_s"]["avatar"] == 0, "no presenter work for a module whose clips were cached"


def test_a_killed_engine_is_retried_with_the_same_engine(runs: dict) -> None:
    assert runs["killed"] is not None, "no engine process was seen to kill"
    retried = [v for v in runs["course"]["variants"] if v["retries"]]
    assert len(retried) == 1, runs["course"]["variants"]
    manifest = module_manifest(runs, retried[0]["module"])
    attempts = [(a["engine"], a["outcome"]) for a in manifest["avatar"]["attempts"] if a["outcome"] != "skipped"]
    assert attempts == [("puppet", "failed"), ("puppet", "ok")]
    assert manifest["avatar"]["engine"] == "puppet" and manifest["course"]["retries"] == 1


def test_a_failing_module_does_not_stop_the_course(runs: dict) -> None:
    code, out, err = runs["second"]
    assert code == 1, err
    broken = entry(runs, "broken")
    assert broken["status"] == "failed" and "broken.yaml" in broken["reason"] and "sections" in broken["reason"]
    assert all(entry(runs, m)["status"] in ("done", "unchanged") for m in MODULES)
    assert err.strip().splitlines()[-1].startswith("presgen: error: 1 of 4 videos failed")
    header, *rows = [line for line in out.splitlines() if line.strip()][:5]
    assert re.split(r"\s{2,}", header.strip()) == [
        "video",
        "duration",
        "engine",
        "fallbacks",
        "seconds",
        "cached",
        "status",
    ]
    assert [row.split()[0] for row in rows] == [*MODULES, "broken"]


def test_every_video_has_its_files(runs: dict) -> None:
    for module in MODULES:
        v = entry(runs, module)
        for key in ("video", "manifest", "thumbnail", "poster", "chapters_file"):
            assert (runs["out"] / v[key]).is_file(), f"{module}: {key} missing"
        assert set(v["captions"]) == {"srt", "vtt"}
        assert abs(v["duration_s"] - module_manifest(runs, module)["output"]["duration_s"]) < 1e-6
        assert [c["title"] for c in v["chapters"]] == [
            s["title"] for s in module_manifest(runs, module)["narration"]["sections"]
        ]
    assert not (runs["out"] / ".work").exists(), "the work folder is removed after the run"


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium: apt-get install -y chromium")
def test_index_page_lists_and_plays_every_module_in_chromium(runs: dict) -> None:
    out = runs["out"]
    dom = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-dev-shm-usage",
            f"--user-data-dir={runs['folder'] / 'chromium'}",
            "--virtual-time-budget=10000",
            "--dump-dom",
            (out / "index.html").as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert re.findall(r'data-module="([^"]+)"', dom) == [*MODULES, "broken"]
    assert 'class="failed"' in dom
    videos = re.findall(r"<video[^>]*>.*?</video>", dom, flags=re.S)
    assert len(videos) == len(MODULES)
    for video in videos:
        source = re.search(r'<source src="([^"]+)"', video).group(1)
        assert (out / source).is_file(), f"{source} does not exist"
        expected = float(re.search(r'data-expected-duration="([\d.]+)"', video).group(1))
        loaded = re.search(r'data-loaded-duration="([\d.]+)"', video)
        assert loaded, f"Chromium did not load {source}"
        assert abs(float(loaded.group(1)) - expected) < 0.1
        for track in re.findall(r'<track[^>]*src="([^"]+)"', video):
            assert (out / track).is_file()
