"""On-disk cache of a prepared source ("avatar"): per source frame its face box, crop box, VAE latents and
blend mask, so a new narration for the same source skips landmarks, face parsing and VAE encoding.

Keyed by the source file's content hash and every parameter that changes the prepared data (landmark
backend, bbox_shift, fps, weights files, dtype, cache format). Each frame is its own ``.npz`` written to a
temp name and renamed, so a reader never sees half a file and two renders can share an entry; an advisory
lock around preparation makes the second of two concurrent renders reuse the first one's work.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

CACHE_FORMAT = 1
DEFAULT_CACHE_DIR = Path("~/.cache/presgen/avatars")
HASH_BLOCK_BYTES = 1 << 20
# a render reading the entry marks it used at least this often: presgen's prune spares entries used in the last 60 s
TOUCH_EVERY_S = 20.0


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(HASH_BLOCK_BYTES), b""):
            digest.update(block)
    return digest.hexdigest()


def file_fingerprint(path: Path) -> list[Any]:
    """Cheap identity of a (large) weights file: a changed file gets a new size or mtime."""
    st = path.stat()
    return [str(path.resolve()), st.st_size, st.st_mtime_ns]


@dataclass(frozen=True)
class PreparedFrame:
    face_box: list[int] | None  # [x1, y1, x2, y2]; None: no face in this frame (it is passed through)
    crop_box: list[int] | None
    latents: np.ndarray | None  # float32 [2 * latent_channels, h/8, w/8]: masked half first, then reference
    mask: np.ndarray | None  # uint8 alpha over the crop box


def entry_key(source_sha256: str, params: dict[str, Any]) -> str:
    blob = json.dumps({"format": CACHE_FORMAT, "source": source_sha256, "params": params}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


class AvatarCache:
    """One entry (source x parameters) of the cache."""

    def __init__(self, root: Path, source: Path, source_sha256: str, params: dict[str, Any]) -> None:
        self.key = entry_key(source_sha256, params)
        stem = "".join(c if c.isalnum() or c in "-_" else "_" for c in source.stem)[:40]
        self.dir = root / f"{stem}-{self.key}"
        self.dir.mkdir(parents=True, exist_ok=True)
        self._touched = -math.inf
        self.touch()
        meta = self.dir / "meta.json"
        if not meta.is_file():
            _atomic_write(
                meta,
                json.dumps(
                    {"format": CACHE_FORMAT, "source": str(source), "source_sha256": source_sha256, "params": params},
                    indent=2,
                    sort_keys=True,
                ).encode(),
            )

    def touch(self) -> None:
        """Record a use of the entry (presgen's cache eviction removes the least recently used entries first)."""
        now = time.monotonic()
        if now - self._touched >= TOUCH_EVERY_S:
            with contextlib.suppress(OSError):  # a read-only cache still serves its entries
                os.utime(self.dir)
            self._touched = now

    def _frame_path(self, index: int) -> Path:
        return self.dir / f"frame-{index:06d}.npz"

    def load(self, index: int) -> PreparedFrame | None:
        path = self._frame_path(index)
        self.touch()
        try:
            with np.load(path) as data:
                if not bool(data["has_face"]):
                    return PreparedFrame(None, None, None, None)
                return PreparedFrame(
                    data["face_box"].tolist(),
                    data["crop_box"].tolist(),
                    data["latents"].astype(np.float32),
                    data["mask"].copy(),
                )
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError):
            return None  # damaged entry (disk full, manual edits): prepare it again

    def store(self, index: int, frame: PreparedFrame) -> None:
        fields: dict[str, np.ndarray] = {"has_face": np.array(frame.face_box is not None)}
        if frame.face_box is not None:
            assert frame.crop_box is not None and frame.latents is not None and frame.mask is not None
            fields |= {
                "face_box": np.array(frame.face_box, dtype=np.int32),
                "crop_box": np.array(frame.crop_box, dtype=np.int32),
                "latents": frame.latents.astype(np.float32),
                "mask": frame.mask,
            }
        fd, tmp = tempfile.mkstemp(prefix=".frame-", suffix=".tmp", dir=self.dir)
        try:
            with os.fdopen(fd, "wb") as fh:
                # numpy's stub reads a ``**dict`` as possibly its allow_pickle: bool keyword
                np.savez_compressed(fh, **fields)  # type: ignore[arg-type]
            os.replace(tmp, self._frame_path(index))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @contextlib.contextmanager
    def preparing(self) -> Iterator[None]:
        """Hold the entry's lock while preparing frames (a no-op where fcntl does not exist)."""
        try:
            import fcntl
        except ImportError:  # Windows: atomic renames alone keep the entry consistent
            yield
            return
        with (self.dir / ".lock").open("a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
