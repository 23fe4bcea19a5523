"""Run upstream's script: stdin closed (never interactive), a time limit, the last output lines kept, tqdm bars
turned into progress events, and the whole process group stopped on timeout, SIGTERM or our own death."""

from __future__ import annotations

import collections
import ctypes
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO

from musetalk_wrapper.progress import Progress

TAIL_LINES = 40
MAX_LOG_CHARS = 300
KILL_GRACE_S = 5.0
_TQDM = re.compile(r"(\d+)/(\d+) \[")
_PR_SET_PDEATHSIG = 1


@dataclass
class UpstreamRun:
    returncode: int
    seconds: float
    timed_out: bool = False
    stdout_tail: list[str] = field(default_factory=list)
    stderr_tail: list[str] = field(default_factory=list)

    def last_error_line(self) -> str:
        return (self.stderr_tail or self.stdout_tail or ["(no output)"])[-1]


def _die_with_parent() -> None:
    """In the child: get SIGKILL when the wrapper dies, so upstream never outlives a killed render."""
    if sys.platform.startswith("linux"):
        with suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _pump(stream: IO[bytes], tail: collections.deque[str], on_line: Callable[[str], None]) -> None:
    buffer = b""
    while chunk := stream.read1(4096):  # type: ignore[attr-defined]
        buffer += chunk
        *lines, buffer = re.split(rb"[\r\n]", buffer)
        for raw in lines:
            line = raw.decode(errors="replace").strip()
            if line:
                tail.append(line)
                on_line(line)
    if line := buffer.decode(errors="replace").strip():
        tail.append(line)
        on_line(line)


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """The orchestrator stops a render with SIGTERM: unwind (and stop upstream) instead of dying on the spot."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=KILL_GRACE_S)
            return
        except subprocess.TimeoutExpired:
            continue


def run_upstream(argv: list[str], cwd: Path, env: dict[str, str], timeout_s: float, progress: Progress) -> UpstreamRun:
    stdout_tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
    stderr_tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)

    def on_stdout(line: str) -> None:
        progress.log(f"upstream: {line[:MAX_LOG_CHARS]}")

    def on_stderr(line: str) -> None:
        if m := _TQDM.search(line):
            progress.update("upstream", int(m[1]), int(m[2]))

    started = time.monotonic()
    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=_die_with_parent,
    )
    assert proc.stdout is not None and proc.stderr is not None
    readers = [
        threading.Thread(target=_pump, args=(proc.stdout, stdout_tail, on_stdout), daemon=True),
        threading.Thread(target=_pump, args=(proc.stderr, stderr_tail, on_stderr), daemon=True),
    ]
    for reader in readers:
        reader.start()
    timed_out = False
    with _sigterm_as_interrupt():
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            _stop_group(proc)
        except BaseException:
            _stop_group(proc)
            raise
        finally:
            for reader in readers:
                reader.join(timeout=KILL_GRACE_S)
    return UpstreamRun(proc.returncode, time.monotonic() - started, timed_out, list(stdout_tail), list(stderr_tail))
