"""An engine the orchestrator started stops when the orchestrator dies, however it dies. A Ray worker or a course
job killed with SIGKILL (or by the OOM killer) gets no chance to stop its children, and an orphaned engine would
keep a GPU or both cores busy for minutes. The orchestrator names itself in PRESGEN_PARENT_PID; a thread here
notices when this process is orphaned or that process is gone, and sends this process SIGTERM, which unwinds like
Ctrl-C (partial files removed, ffmpeg stopped). Without the variable (a person or another tool running the
wrapper) nothing is watched.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Mapping

PARENT_PID_VAR = "PRESGEN_PARENT_PID"
POLL_S = 0.5  # seconds between checks of the parent
GRACE_S = 10.0  # seconds the engine gets to unwind after SIGTERM before its process group is killed


def watch_parent(environ: Mapping[str, str] = os.environ) -> threading.Thread | None:
    """Start the watch when ``environ`` names a parent; the thread (a daemon), or None when nothing is watched."""
    value = environ.get(PARENT_PID_VAR, "").strip()
    if not value.isdigit():
        return None
    thread = threading.Thread(target=_watch, args=(int(value), os.getppid()), name="presgen-parent-watch", daemon=True)
    thread.start()
    return thread


def parent_gone(parent: int, first_ppid: int) -> bool:
    """True when this process was re-parented (its parent died) or ``parent`` no longer exists. ``parent`` may be
    a grandparent when something sits between (an interpreter shim), so both are checked."""
    if os.getppid() != first_ppid:
        return True
    try:
        os.kill(parent, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _watch(parent: int, first_ppid: int) -> None:
    while not parent_gone(parent, first_ppid):
        time.sleep(POLL_S)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(GRACE_S)
    # still here: the unwinding is stuck (a C call that never returns); take the engine's own children with it
    if os.getpgrp() == os.getpid():
        os.killpg(os.getpid(), signal.SIGKILL)
    os._exit(128 + signal.SIGKILL)
