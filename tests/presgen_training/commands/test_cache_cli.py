"""`presgen cache info|prune`: sizes per area, and eviction least-recently-used first that spares entries in use
(locked, or used within the last minute), the engine's avatar folders included."""

from __future__ import annotations

import fcntl
import json
import os
import time
from pathlib import Path

import pytest

from presgen_training import cache_store
from presgen_training.cli import main
from presgen_training.commands.cache import parse_size

ENTRY_BYTES = 1000


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("PRESGEN_CACHE_DIR", str(root))
    return root


def entry(root: Path, area: str, name: str, age_s: float) -> Path:
    """A cache entry last used ``age_s`` ago: a file, or for ``avatars`` an engine folder with two files."""
    used = time.time() - age_s
    if area == "avatars":
        path = root / area / name
        path.mkdir(parents=True)
        for part in ("meta.json", "frame-000000.npz"):
            (path / part).write_bytes(b"x" * (ENTRY_BYTES // 2))
            os.utime(path / part, (used, used))
    else:
        path = root / area / name[:2] / f"{name}.avatar.mp4"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * ENTRY_BYTES)
    os.utime(path, (used, used))
    return path


def cli_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    assert main([*args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_info_counts_every_area(cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    entry(cache, "narration", "aa11", 500)
    entry(cache, "segments", "bb22", 400)
    entry(cache, "segments", "bb33", 300)
    entry(cache, "avatars", "man-0123abcd", 200)
    entry(cache, "voices", "cc44", 100)  # a prepared piper model
    info = cli_json(capsys, "cache", "info")
    areas = info["areas"]
    assert {a: areas[a]["entries"] for a in areas} == {"narration": 1, "segments": 2, "avatars": 1, "voices": 1}
    assert info["total_bytes"] == 5 * ENTRY_BYTES and info["limit_bytes"] == cache_store.max_cache_bytes()
    assert areas["segments"]["oldest_use"] < areas["segments"]["newest_use"] < areas["avatars"]["newest_use"]
    assert main(["cache", "info"]) == 0 and "segments" in capsys.readouterr().out


def test_prune_goes_least_recently_used_first(cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    oldest = entry(cache, "avatars", "man-0123abcd", 900)  # the engine's prepared source, a folder
    middle = entry(cache, "segments", "cc44", 600)
    newer = entry(cache, "narration", "dd55", 300)
    report = cli_json(capsys, "cache", "prune", "--max-size", "1.5k")
    assert report["removed"] == 2 and report["freed_bytes"] == 2 * ENTRY_BYTES
    assert not oldest.exists() and not middle.exists() and newer.exists()


def test_prune_keeps_entries_in_use(cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    locked = entry(cache, "segments", "ee66", 900)
    recent = entry(cache, "segments", "ff77", 5)  # used seconds ago: a render may be reading it
    free = entry(cache, "narration", "ab88", 600)
    lock_path = locked.with_name("ee66" + cache_store.LOCK_SUFFIX)
    with lock_path.open("a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # another render is writing this entry right now
        report = cli_json(capsys, "cache", "prune", "--max-size", "0")
    assert locked.exists() and recent.exists() and not free.exists()
    assert report["removed"] == 1 and report["in_use"] == 2 and report["kept_bytes"] == 2 * ENTRY_BYTES


@pytest.mark.parametrize(
    ("text", "size"), [("0", 0), ("500M", 500 * 2**20), ("1.5GB", 3 * 2**29), ("2g", 2**31), ("10 KiB", 10 * 2**10)]
)
def test_sizes(text: str, size: int) -> None:
    assert parse_size(text) == size


def test_bad_size_is_a_usage_error(cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cache", "prune", "--max-size", "lots"]) == 2
    assert "--max-size 'lots'" in capsys.readouterr().err
