"""Every long-running child process presgen starts, so an interrupt can stop them all and leave nothing behind.

Children that start children of their own (an engine: python -> ffmpeg) run in their own process group and are
stopped as a group: SIGTERM, a grace period, then SIGKILL. ``stop_all`` is the CLI's safety net when Ctrl-C,
SIGTERM or SIGHUP ends a command.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

KILL_GRACE_S = 3.0  # seconds between SIGTERM and SIGKILL
REAP_TIMEOUT_S = 10.0  # seconds to wait for a SIGKILLed process to be reaped
POLL_S = 0.02  # seconds between checks that a stopped group is gone

_lock = threading.Lock()
_live: dict[int, tuple[subprocess.Popen[bytes], bool]] = {}  # pid -> (process, runs in its own group)


def start(cmd: Sequence[str], *, own_group: bool = False, **popen_kwargs: Any) -> subprocess.Popen[bytes]:
    """``subprocess.Popen`` that is remembered until ``stop``/``forget``; ``own_group`` puts it in a new session."""
    proc: subprocess.Popen[bytes] = subprocess.Popen(list(cmd), start_new_session=own_group, **popen_kwargs)
    with _lock:
        _live[proc.pid] = (proc, own_group)
    return proc


def forget(proc: subprocess.Popen[bytes]) -> None:
    with _lock:
        _live.pop(proc.pid, None)


def stop(proc: subprocess.Popen[bytes], grace_s: float = KILL_GRACE_S) -> None:
    """Stop ``proc`` (and its whole group when it has one), even if it already exited: an exited engine may
    leave grandchildren behind in its group."""
    with _lock:
        own_group = _live.get(proc.pid, (proc, False))[1]
    try:
        if own_group:
            _signal_group(proc.pid, signal.SIGTERM)
            if not _wait_group(proc, grace_s):
                _signal_group(proc.pid, signal.SIGKILL)
                _wait_group(proc, REAP_TIMEOUT_S)
        elif proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=REAP_TIMEOUT_S)
    finally:
        forget(proc)


def stop_all() -> None:
    with _lock:
        procs = [proc for proc, _ in _live.values()]
    for proc in procs:
        stop(proc, grace_s=1.0)


@contextmanager
def running(cmd: Sequence[str], *, own_group: bool = False, **popen_kwargs: Any) -> Iterator[subprocess.Popen[bytes]]:
    """A child that is stopped when the block is left in any way (an exception, Ctrl-C, a timeout)."""
    proc = start(cmd, own_group=own_group, **popen_kwargs)
    try:
        yield proc
    finally:
        if own_group or proc.poll() is None:
            stop(proc)
        forget(proc)


def _signal_group(pgid: int, sig: int) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _wait_group(proc: subprocess.Popen[bytes], timeout_s: float) -> bool:
    """Wait until the leader is reaped and no process of its group is left; False on timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        proc.poll()  # reap the leader: a zombie still counts as a member of the group
        if proc.returncode is not None and not _group_alive(proc.pid):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(POLL_S)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True
