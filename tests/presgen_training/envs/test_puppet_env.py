"""The one real env build of the suite: envs/puppet into a temp PRESGEN_ENVS_HOME (about half a minute).

First a create is killed (the whole process group, SIGKILL: no cleanup runs) while pip installs, and nothing may
look ready; then the real build, check, a deliberately broken install, and remove."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.env_build]

REPO = Path(__file__).resolve().parents[3]
BUILD_TIMEOUT_S = 600
PIP_HEAD_START_S = 4.0  # let pip get going before the kill


def presgen_argv(*args: str) -> list[str]:
    return [sys.executable, "-m", "presgen_training", *args]


def presgen(env: dict[str, str], *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(presgen_argv(*args), capture_output=True, text=True, timeout=timeout, cwd=REPO, env=env)


def listed_status(listing: str, name: str) -> str:
    m = re.search(rf"^{re.escape(name)}\s+(ready|outdated|not built|override)\s", listing, re.M)
    assert m, listing
    return m[1]


def env_python_in(env: dict[str, str]) -> str:
    code = "from presgen_training.envs.locate import env_python; p, r = env_python('puppet'); print(p, '|', r)"
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=REPO, check=True
    ).stdout.strip()


@dataclass
class Built:
    home: Path
    env: dict[str, str]
    killed_at: str
    after_kill_dirs: list[str]
    after_kill_env_python: str
    after_kill_list: str
    create: subprocess.CompletedProcess[str]
    seconds: float


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    home = tmp_path_factory.mktemp("real-envs")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PRESGEN_ENV_") and k not in ("PRESGEN_ROOT", "PRESGEN_CONFIG")
    }
    env["PRESGEN_ENVS_HOME"] = str(home)

    proc = subprocess.Popen(
        presgen_argv("env", "create", "puppet"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=REPO,
        start_new_session=True,
    )
    assert proc.stdout is not None
    killed_at = ""
    for line in proc.stdout:
        if "pip install" in line:
            killed_at = line.strip()
            break
    time.sleep(PIP_HEAD_START_S)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    after_kill_dirs = sorted(p.name for p in home.iterdir())
    after_kill_env_python = env_python_in(env)
    after_kill_list = presgen(env, "env", "list").stdout

    started = time.monotonic()
    create = presgen(env, "env", "create", "puppet", timeout=BUILD_TIMEOUT_S)
    return Built(
        home,
        env,
        killed_at,
        after_kill_dirs,
        after_kill_env_python,
        after_kill_list,
        create,
        time.monotonic() - started,
    )


def test_killed_create_leaves_nothing_that_looks_ready(built: Built) -> None:
    assert built.killed_at == "[puppet] 2/3 pip install -r requirements.txt"
    assert "puppet" not in built.after_kill_dirs  # only the temp build folder, never the final name
    assert any(name.startswith(".puppet.building-") for name in built.after_kill_dirs)
    assert built.after_kill_env_python.startswith("None | env 'puppet' is not built; run: presgen env create puppet")
    listing = built.after_kill_list
    assert listed_status(listing, "puppet") == "not built"
    assert "an interrupted build left .puppet.building-" in listing


def test_create_builds_a_ready_env(built: Built) -> None:
    assert built.create.returncode == 0, built.create.stdout + built.create.stderr
    lines = built.create.stdout.splitlines()
    assert lines[0].startswith("[puppet] 1/3 python -m venv (Python ")
    assert lines[1] == "[puppet] 2/3 pip install -r requirements.txt"
    assert lines[2] == "[puppet] 3/3 health check"
    assert lines[-1].startswith(f"[puppet] ready: {built.home / 'puppet'}")
    # the leftover of the killed build is gone; the log moved into the env
    assert sorted(p.name for p in built.home.iterdir() if not p.name.endswith(".lock")) == ["puppet"]
    assert (built.home / "puppet" / "presgen-build.log").is_file()
    assert env_python_in(built.env) == f"{built.home / 'puppet' / 'bin' / 'python'} | None"
    assert listed_status(presgen(built.env, "env", "list").stdout, "puppet") == "ready"


def test_if_needed_does_nothing_when_ready(built: Built) -> None:
    started = time.monotonic()
    proc = presgen(built.env, "env", "create", "puppet", "--if-needed")
    assert proc.returncode == 0 and "nothing to do" in proc.stdout
    assert time.monotonic() - started < 30


def test_check_passes_on_the_fresh_env(built: Built) -> None:
    proc = presgen(built.env, "env", "check", "puppet")
    assert proc.returncode == 0, proc.stdout
    assert "imports: mediapipe, numpy, cv2, imageio_ffmpeg" in proc.stdout
    assert "engine puppet: healthy" in proc.stdout and proc.stdout.strip().endswith("puppet: healthy")


def test_check_names_a_package_removed_from_the_env(built: Built) -> None:
    python = built.home / "puppet" / "bin" / "python"
    subprocess.run([str(python), "-m", "pip", "uninstall", "-y", "imageio-ffmpeg"], check=True, capture_output=True)
    proc = presgen(built.env, "env", "check", "puppet")
    assert proc.returncode == 1
    assert (
        "package 'imageio-ffmpeg' is missing (import imageio_ffmpeg failed): run presgen env create puppet"
        in proc.stdout
    )


def test_remove(built: Built) -> None:
    proc = presgen(built.env, "env", "remove", "puppet")
    assert proc.returncode == 0 and not (built.home / "puppet").exists()
    assert env_python_in(built.env).startswith("None | env 'puppet' is not built")
