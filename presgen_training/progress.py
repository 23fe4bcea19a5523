"""Per-stage progress bars on stderr (tqdm on a terminal, one summary line per stage otherwise)."""
from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tqdm import tqdm


class StageReporter:
    """Times each stage and shows a bar for the ones that report ``done/total``."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.interactive = enabled and sys.stderr.isatty()
        self.timings_s: dict[str, float] = {}
        self._bar: tqdm | None = None
        self._unit = "step"

    @contextmanager
    def stage(self, name: str, unit: str = "step") -> Iterator[StageReporter]:
        started = time.monotonic()
        self._unit = unit
        try:
            yield self
        finally:
            if self._bar is not None:
                self._bar.close()
                self._bar = None
            self.timings_s[name] = round(time.monotonic() - started, 3)
            if self.enabled and not self.interactive:
                print(f"presgen: {name} done in {self.timings_s[name]:.1f} s", file=sys.stderr, flush=True)

    def update(self, done: int, total: int | None, desc: str | None = None) -> None:
        if not self.interactive:
            return
        if self._bar is None or (total is not None and self._bar.total != total) or (desc and self._bar.desc != desc):
            if self._bar is not None:
                self._bar.close()
            self._bar = tqdm(total=total, desc=desc, unit=self._unit, file=sys.stderr, leave=False,
                             dynamic_ncols=True)
        self._bar.n = done
        self._bar.refresh()

    def note(self, message: str) -> None:
        if self.enabled:
            (tqdm.write if self.interactive else print)(f"presgen: {message}", file=sys.stderr)

    def engine_event(self, event: dict[str, Any]) -> None:
        """Feed the wrapper's stderr JSON events into the bar."""
        kind = event.get("event")
        if kind == "progress":
            self.update(int(event.get("done", 0)), event.get("total"), str(event.get("stage", "")))
        elif kind == "stage":
            self.update(0, event.get("total"), str(event.get("stage", "")))
        elif kind == "log" and event.get("level") == "warning":
            self.note(f"engine warning: {event.get('message')}")
