"""Writing files so a failure never leaves a half-written one, and hashing file contents."""

from __future__ import annotations

import errno
import fcntl
import functools
import hashlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HASH_CHUNK_BYTES = 1 << 20


@functools.lru_cache(maxsize=1)
def new_file_mode() -> int:
    """The mode ``open()`` would give a new file under the process umask (mkstemp's files are 0600)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


@contextmanager
def atomic_output(final: Path) -> Iterator[Path]:
    """Yield a temp path beside ``final``; on success rename it into place (with the mode the umask gives new
    files), on any error or interrupt delete it."""
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{final.stem}.", suffix=f".partial{final.suffix}", dir=final.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, new_file_mode())
        os.replace(tmp_path, final)
    finally:
        tmp_path.unlink(missing_ok=True)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


class OutputBusy(Exception):
    """Another process holds the lock of this output."""


@contextmanager
def output_lock(final: Path) -> Iterator[None]:
    """Hold ``.NAME.lock`` beside ``final`` so two renders never write one video, manifest and captions set at once;
    OutputBusy at once when another process holds it. The lock file is removed when released."""
    lock_path = final.with_name(f".{final.name}.lock")
    while True:
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            fh = lock_path.open("a+")
        except OSError as exc:
            raise OSError(exc.errno, f"cannot write to the output folder ({exc.strerror})", str(final.parent)) from None
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            fh.close()
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise OutputBusy(str(lock_path)) from None
            raise
        try:
            same = os.fstat(fh.fileno()).st_ino == lock_path.stat().st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        fh.close()  # the holder before us removed the file between our open and our lock: take the new one
    try:
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        yield
    finally:
        lock_path.unlink(missing_ok=True)
        fh.close()
