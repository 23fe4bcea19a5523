"""The engine's watch on the orchestrator that started it (the orphaned engine itself: bench/faults.py's
sigkill-presgen case)."""

from __future__ import annotations

import os
import subprocess

from musetalk_wrapper.parent_watch import PARENT_PID_VAR, parent_gone, watch_parent
from presgen_training.envs.locate import PARENT_PID_VAR as ORCHESTRATOR_SETS
from presgen_training.envs.locate import wrapper_environ


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_both_sides_name_the_same_variable() -> None:
    assert ORCHESTRATOR_SETS == PARENT_PID_VAR
    assert wrapper_environ()[PARENT_PID_VAR] == str(os.getpid())


def test_nothing_is_watched_without_the_variable() -> None:
    assert watch_parent({}) is None
    assert watch_parent({PARENT_PID_VAR: "not a pid"}) is None


def test_a_live_parent_is_not_gone() -> None:
    assert not parent_gone(os.getpid(), os.getppid())


def test_a_dead_parent_or_a_new_parent_is_gone() -> None:
    assert parent_gone(_dead_pid(), os.getppid())
    assert parent_gone(os.getpid(), os.getppid() + 1)
