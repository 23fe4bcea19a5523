"""Ctrl-C, SIGTERM (``timeout``, systemd, Kubernetes, CI) and SIGHUP (a closed terminal) all unwind the command
like Ctrl-C does: every ``finally`` runs, so children are stopped, partial files and work folders are removed, and a
previous good output stays as it was. The CLI then exits 128 + the signal number (130, 143, 129).
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(KeyboardInterrupt):
    """Raised in the main thread when one of HANDLED arrives."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


def exit_code(exc: KeyboardInterrupt) -> int:
    return exc.exit_code if isinstance(exc, Interrupted) else 128 + signal.SIGINT


@contextmanager
def signals_interrupt() -> Iterator[None]:
    """Within the block, HANDLED signals raise Interrupted; a second signal while unwinding is ignored, so the
    cleanup that the first one started is not cut short."""
    state = {"raised": False}

    def handler(signum: int, frame: FrameType | None) -> None:
        if state["raised"]:
            return
        state["raised"] = True
        raise Interrupted(signum)

    try:
        previous = {sig: signal.signal(sig, handler) for sig in HANDLED}
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
