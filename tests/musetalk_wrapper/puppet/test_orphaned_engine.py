"""An engine never outlives the orchestrator that started it: a Ray worker or course job killed with SIGKILL cannot
stop its children, so the engine notices it was orphaned, stops, and leaves no half-written video behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from helpers import REPO

pytestmark = pytest.mark.puppet_env

LOOPS = 4  # the speech clip played this many times: a render that lasts well past the kill
STOP_WITHIN_S = 8.0  # the watch polls every 0.5 s; unwinding stops ffmpeg and removes the partial file


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for a reaper counts as gone: the container's init may never reap it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def _group_alive(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(int(entry.name))
    return members


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc to find the engine process")
def test_engine_stops_when_its_orchestrator_is_killed(
    speech: Path, media_dir: Path, tools: Any, puppet_python: Path, tmp_path: Path
) -> None:
    audio = tmp_path / "long.wav"
    tools.ffmpeg("-stream_loop", str(LOOPS - 1), "-i", str(speech), str(audio))
    output = tmp_path / "out.mp4"
    args = ["--engine", "puppet", "--image", str(media_dir / "man.png"), "--audio", str(audio)]
    args += ["--output", str(output), "--json-output", "--quiet"]
    # the orchestrator's own client starts the engine, from a process that is then killed like a Ray worker
    orchestrator = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys\nfrom pathlib import Path\nfrom presgen_training.wrapper_client import call\n"
            "call(Path(sys.argv[1]), sys.argv[2:], None)\n",
            str(puppet_python),
            *args,
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    engine = 0
    try:
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob(".out.*.partial.mp4")):  # the engine is rendering
            assert orchestrator.poll() is None and time.monotonic() < deadline, "the engine never started rendering"
            time.sleep(0.1)
        (engine,) = _children(orchestrator.pid)
        assert _group_alive(engine), "the engine runs in its own process group"
        orchestrator.send_signal(signal.SIGKILL)
        orchestrator.wait()
        deadline = time.monotonic() + STOP_WITHIN_S
        while (_alive(engine) or _group_alive(engine)) and time.monotonic() < deadline:
            time.sleep(0.1)
        left = _group_alive(engine)
        assert not _alive(engine) and not left, f"the orphaned engine still runs: pids {left}"
        assert not output.exists() and not list(tmp_path.glob("*.partial.mp4")), "a half-written video is left"
    finally:
        if orchestrator.poll() is None:
            orchestrator.kill()
        for pid in _group_alive(engine) if engine else []:  # the engine of a failed test
            os.kill(pid, signal.SIGKILL)
