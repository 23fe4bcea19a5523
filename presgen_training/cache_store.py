"""The render cache in ``$PRESGEN_CACHE_DIR``: content-addressed entries, safe with concurrent writers, evicted
least-recently-used first when the cache outgrows its limit.

Areas (one folder each): ``narration/`` (spoken section clips and piper sentences), ``segments/`` (presenter and
overlay clips of one section), ``avatars/`` (the musetalk engine's source preparation, written by the engine),
``voices/`` (piper models prepared for fast loading). An entry is a file (or,
in ``avatars/``, a folder) named by the sha256 of everything that can change its bytes. Writers produce a temp file
beside it and rename it into place, holding the entry's lock (``<name>.lock``) so that two renders of the same
entry do the work once. Using an entry refreshes its mtime: that is its place in the eviction order.
On a cluster the cache folder must be a path every worker shares (NFS with working ``flock``).
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from presgen_training.config import cache_dir
from presgen_training.files import atomic_output

AREAS = ("narration", "segments", "avatars", "voices")
DEFAULT_MAX_BYTES = 20 * 2**30  # 20 GiB unless $PRESGEN_CACHE_MAX_GB says otherwise
LOCK_SUFFIX = ".lock"
MIN_AGE_TO_EVICT_S = 60.0  # an entry used this recently is never evicted (a render may be reading it)


def max_cache_bytes() -> int:
    value = os.environ.get("PRESGEN_CACHE_MAX_GB")
    if not value:
        return DEFAULT_MAX_BYTES
    try:
        return max(0, int(float(value) * 2**30))
    except ValueError:
        return DEFAULT_MAX_BYTES


def content_key(parts: dict[str, Any]) -> str:
    """sha256 of a canonical JSON of everything an entry depends on."""
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Store:
    """One area of the cache: ``<root>/<area>/<key[:2]>/<key><suffix>``."""

    def __init__(self, area: str, root: Path | None = None) -> None:
        self.root = (root or cache_dir()) / area

    def path(self, key: str, suffix: str) -> Path:
        return self.root / key[:2] / f"{key}{suffix}"

    def get(self, key: str, suffix: str) -> Path | None:
        """The entry's path if it exists (its use recorded), else None."""
        path = self.path(key, suffix)
        try:
            os.utime(path)
        except FileNotFoundError:
            return None
        except OSError:
            if not path.exists():  # e.g. a cache path below a file
                return None  # (a read-only cache still serves the entries it has)
        return path

    @contextmanager
    def lock(self, key: str) -> Iterator[None]:
        """Hold the entry's lock while producing it (another process producing it waits, then finds it)."""
        lock_path = self.root / key[:2] / f"{key}{LOCK_SUFFIX}"
        lock_path.parent.mkdir(parents=True, exist_ok=True)
        with lock_path.open("a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def put(self, key: str, suffix: str, source: Path) -> Path:
        """Copy ``source`` in as the entry (atomically) and return the entry's path."""
        final = self.path(key, suffix)
        with atomic_output(final) as tmp:
            shutil.copyfile(source, tmp)
        return final

    def put_json(self, key: str, suffix: str, data: dict[str, Any]) -> Path:
        final = self.path(key, suffix)
        with atomic_output(final) as tmp:
            tmp.write_text(json.dumps(data, indent=1, default=str) + "\n")
        return final

    def get_json(self, key: str, suffix: str) -> dict[str, Any] | None:
        path = self.get(key, suffix)
        if path is None:
            return None
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None


@dataclass(frozen=True)
class Entry:
    area: str
    path: Path
    bytes: int
    used: float  # seconds since the epoch: last use (mtime)


def entries(root: Path | None = None) -> list[Entry]:
    """Every entry of every area (a file, or a folder of the avatars area), lock files excluded."""
    base = root or cache_dir()
    found: list[Entry] = []
    for area in AREAS:
        folder = base / area
        if not folder.is_dir():
            continue
        for shard in folder.iterdir():
            if not shard.is_dir():
                continue
            if area == "avatars":  # the engine's entries are folders <key>/ directly under avatars/
                found.append(_folder_entry(area, shard))
                continue
            for path in shard.iterdir():
                if path.name.endswith(LOCK_SUFFIX) or ".partial" in path.name:
                    continue
                try:
                    stat = path.stat()
                except FileNotFoundError:
                    continue
                found.append(Entry(area, path, stat.st_size, stat.st_mtime))
    return found


def _folder_entry(area: str, folder: Path) -> Entry:
    size = 0
    used = 0.0
    for path in [folder, *folder.rglob("*")]:
        try:
            stat = path.stat()
        except FileNotFoundError:
            continue
        used = max(used, stat.st_mtime)
        if path.is_file():
            size += stat.st_size
    return Entry(area, folder, size, used)


@dataclass(frozen=True)
class PruneReport:
    removed: int
    freed_bytes: int
    kept_bytes: int
    in_use: int = 0  # entries that would have gone but were locked or used too recently


def prune(max_bytes: int, root: Path | None = None, now: float | None = None) -> PruneReport:
    """Remove least-recently-used entries until the cache holds at most ``max_bytes``. An entry in use (locked,
    or used within MIN_AGE_TO_EVICT_S) is kept."""
    now = time.time() if now is None else now
    found = sorted(entries(root), key=lambda e: e.used)
    total = sum(e.bytes for e in found)
    removed = freed = in_use = 0
    for entry in found:
        if total <= max_bytes:
            break
        if now - entry.used < MIN_AGE_TO_EVICT_S or not _remove_unlocked(entry):
            in_use += 1
            continue
        total -= entry.bytes
        removed += 1
        freed += entry.bytes
    return PruneReport(removed, freed, total, in_use)


def _remove_unlocked(entry: Entry) -> bool:
    lock_path = (
        entry.path / ".lock"
        if entry.path.is_dir()
        else entry.path.with_name(entry.path.name.split(".")[0] + LOCK_SUFFIX)
    )
    try:
        fh = lock_path.open("a+") if lock_path.parent.exists() else None
    except OSError:
        return False
    try:
        if fh is not None:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno in (errno.EAGAIN, errno.EACCES):
                    return False  # being written or read under its lock right now
                raise
        if entry.path.is_dir():
            shutil.rmtree(entry.path, ignore_errors=True)
        else:
            entry.path.unlink(missing_ok=True)
        return True
    finally:
        if fh is not None:
            fh.close()
            if not entry.path.is_dir() and lock_path.exists():
                lock_path.unlink(missing_ok=True)
