"""Where independent pieces of work run: one after another, or on a pool of threads (the heavy lifting happens in
engine and ffmpeg subprocesses, so threads give real parallelism without pickling). A course adds a Ray backend
with the same ``map``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import Protocol, TypeVar

from presgen_training import children

T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    workers: int

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        """``[fn(item) for item in items]`` (in that order), possibly in parallel; the first error is raised once
        the work already started has stopped."""
        ...


class Serial:
    workers = 1

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        return [fn(item) for item in items]


class Threads:
    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)

    def map(self, fn: Callable[[T], R], items: Sequence[T]) -> list[R]:
        if self.workers == 1 or len(items) <= 1:
            return [fn(item) for item in items]
        pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="presgen")
        try:
            futures = [pool.submit(fn, item) for item in items]
            done, _ = wait(futures, return_when=FIRST_EXCEPTION)
            error = next((f.exception() for f in done if f.exception() is not None), None)
            if error is not None:
                children.stop_all()  # the other workers' engines and encoders: their results are not wanted
                raise error
            return [f.result() for f in futures]
        except KeyboardInterrupt:
            children.stop_all()  # interrupts reach the main thread only: stop what the workers started
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def split_evenly(items: Sequence[T], parts: int, weight: Callable[[T], float]) -> list[list[T]]:
    """Consecutive runs of ``items`` with about equal total weight, at most ``parts`` of them."""
    if not items:
        return []
    parts = max(1, min(parts, len(items)))
    total = sum(weight(i) for i in items)
    runs: list[list[T]] = [[]]
    acc = 0.0
    for item in items:
        if runs[-1] and acc >= total * len(runs) / parts and len(runs) < parts:
            runs.append([])
        runs[-1].append(item)
        acc += weight(item)
    return runs
