"""Progress events as JSON lines on stderr (stdout is reserved for the one result object)."""

from __future__ import annotations

import json
import sys
import time
from typing import IO, Any


class Progress:
    """Emits ``{"event": ..., ...}`` lines; throttles frame updates to a few per second."""

    MIN_INTERVAL_S = 0.25

    def __init__(self, stream: IO[str] | None = None, enabled: bool = True) -> None:
        self._stream = stream or sys.stderr
        self._enabled = enabled
        self._last_emit = 0.0

    def _emit(self, event: str, **fields: Any) -> None:
        if not self._enabled:
            return
        self._stream.write(json.dumps({"event": event, **fields}) + "\n")
        self._stream.flush()

    def stage(self, name: str, total: int | None = None) -> None:
        self._last_emit = 0.0
        self._emit("stage", stage=name, total=total)

    def update(self, stage: str, done: int, total: int | None = None) -> None:
        now = time.monotonic()
        if (total is not None and done >= total) or now - self._last_emit >= self.MIN_INTERVAL_S:
            self._last_emit = now
            self._emit("progress", stage=stage, done=done, total=total)

    def segment(self, index: int, total: int) -> None:
        """A --segments run starts clip ``index`` (0-based) of ``total``."""
        self._last_emit = 0.0
        self._emit("segment", index=index, total=total)

    def log(self, message: str, level: str = "info") -> None:
        self._emit("log", level=level, message=message)

    def warn(self, message: str) -> None:
        self.log(message, level="warning")
