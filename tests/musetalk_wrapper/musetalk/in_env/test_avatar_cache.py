"""The on-disk avatar cache: round trip, damaged entries, two writers at once, and the preparation lock."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path
from typing import Any

import numpy as np

from musetalk_wrapper.engines.musetalk.avatar_cache import AvatarCache, PreparedFrame


def _store_many(args: tuple[str, str, int]) -> int:
    root, source, seed = args
    cache = AvatarCache(Path(root), Path(source), "abc", {"p": 1})
    rng = np.random.default_rng(0)  # same content from both writers
    for i in range(30):
        cache.store(
            i,
            PreparedFrame(
                [1, 2, 30, 40],
                [0, 0, 50, 50],
                rng.standard_normal((8, 32, 32)).astype(np.float32),
                rng.integers(0, 255, (50, 50), dtype=np.uint8),
            ),
        )
    return seed


def _lock_and_stamp(root: str, source: str, acquired: Any) -> None:
    with AvatarCache(Path(root), Path(source), "abc", {"p": 1}).preparing():
        acquired.value = time.time()


def test_avatar_cache_roundtrip_and_concurrency(tmp_path: Path) -> None:
    root, source = tmp_path / "cache", tmp_path / "src.mp4"
    source.write_bytes(b"x")
    with multiprocessing.get_context("fork").Pool(2) as pool:
        assert sorted(pool.map(_store_many, [(str(root), str(source), 1), (str(root), str(source), 2)])) == [1, 2]
    cache = AvatarCache(root, source, "abc", {"p": 1})
    first = cache.load(0)
    assert first is not None and first.face_box == [1, 2, 30, 40] and first.latents is not None
    assert first.latents.shape == (8, 32, 32)
    assert all(cache.load(i) is not None for i in range(30)) and cache.load(30) is None
    assert not list(cache.dir.glob("*.tmp"))
    other = AvatarCache(root, source, "abc", {"p": 2})
    assert other.dir != cache.dir and other.load(0) is None
    cache.store(40, PreparedFrame(None, None, None, None))
    faceless = cache.load(40)
    assert faceless is not None and faceless.face_box is None
    (cache.dir / "frame-000041.npz").write_bytes(b"PK\x03\x04 damaged")
    assert cache.load(41) is None
    # A second render waits on the entry's lock until the first has finished preparing.
    fork = multiprocessing.get_context("fork")
    acquired = fork.Value("d", 0.0)
    with cache.preparing():
        child = fork.Process(target=_lock_and_stamp, args=(str(root), str(source), acquired))
        child.start()
        time.sleep(1.0)
        released = time.time()
    child.join(30)
    assert child.exitcode == 0 and acquired.value >= released, (acquired.value, released)


def test_reading_frames_keeps_marking_the_entry_used(tmp_path: Path, monkeypatch: Any) -> None:
    """presgen's prune spares entries used in the last minute: a long render that only reads must keep saying so."""
    import os

    from musetalk_wrapper.engines.musetalk import avatar_cache

    source = tmp_path / "src.mp4"
    source.write_bytes(b"x")
    cache = AvatarCache(tmp_path / "cache", source, "abc", {"p": 1})
    cache.store(0, PreparedFrame(None, None, None, None))
    long_ago = time.time() - 3600
    os.utime(cache.dir, (long_ago, long_ago))
    cache.load(0)
    assert cache.dir.stat().st_mtime == long_ago  # touched at open, not again within TOUCH_EVERY_S
    monkeypatch.setattr(avatar_cache, "TOUCH_EVERY_S", 0.0)
    cache.load(0)
    assert time.time() - cache.dir.stat().st_mtime < 60
