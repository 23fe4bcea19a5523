"""Per-stage progress on stderr: tqdm bars on a terminal; otherwise (CI, log files) one line when a stage starts,
a percentage at most every LOG_INTERVAL_S, and one line when it ends (done, or failed)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from tqdm import tqdm

LOG_INTERVAL_S = 10.0  # seconds between percentage lines when stderr is not a terminal


class StageReporter:
    """Times each stage and shows a bar (or log lines) for the ones that report ``done/total``."""

    def __init__(self, enabled: bool = True, interactive: bool | None = None) -> None:
        self.enabled = enabled
        self.interactive = enabled and (sys.stderr.isatty() if interactive is None else interactive)
        self.timings_s: dict[str, float] = {}
        self._bar: tqdm | None = None
        self._unit = "step"
        self._stage = ""
        self._last_log = 0.0

    @contextmanager
    def stage(self, name: str, unit: str = "step") -> Iterator[StageReporter]:
        started = time.monotonic()
        self._unit, self._stage, self._last_log = unit, name, started
        self._log(f"{name} ...")
        outcome = "done"
        try:
            yield self
        except BaseException:
            outcome = "failed"
            raise
        finally:
            if self._bar is not None:
                self._bar.close()
                self._bar = None
            self.timings_s[name] = round(time.monotonic() - started, 3)
            self._log(f"{name} {outcome} in {self.timings_s[name]:.1f} s")

    def update(self, done: int, total: int | None, desc: str | None = None) -> None:
        if not self.enabled:
            return
        if not self.interactive:
            now = time.monotonic()
            if total and now - self._last_log >= LOG_INTERVAL_S:
                self._last_log = now
                self._log(f"{desc or self._stage} {100 * done / total:.0f}% ({done}/{total} {self._unit}s)")
            return
        if self._bar is None or (total is not None and self._bar.total != total) or (desc and self._bar.desc != desc):
            if self._bar is not None:
                self._bar.close()
            self._bar = tqdm(total=total, desc=desc, unit=self._unit, file=sys.stderr, leave=False, dynamic_ncols=True)
        self._bar.n = done
        self._bar.refresh()

    def note(self, message: str) -> None:
        if not self.enabled:
            return
        if self.interactive:
            tqdm.write(f"presgen: {message}", file=sys.stderr)
        else:
            print(f"presgen: {message}", file=sys.stderr, flush=True)

    def _log(self, message: str) -> None:
        if self.enabled and not self.interactive:
            print(f"presgen: {message}", file=sys.stderr, flush=True)
