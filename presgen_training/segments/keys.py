"""What each cache key covers: the code that makes the bytes, the inputs, and every setting that changes them."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any

from presgen_training import __version__
from presgen_training.envs.locate import read_marker, repo_root
from presgen_training.ffmpeg import ffmpeg_exe
from presgen_training.files import sha256_file

CODE_SUFFIXES = (".py", ".json")


@functools.lru_cache(maxsize=16)
def code_digest(*folders: str) -> str:
    """sha256 over the source files under ``folders`` (relative to the repo root): a code change is a new key."""
    digest = hashlib.sha256()
    root = repo_root()
    for folder in folders:
        base = root / folder
        files = [base] if base.is_file() else sorted(p for p in base.rglob("*") if p.suffix in CODE_SUFFIXES)
        for path in files:
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:20]


@functools.lru_cache(maxsize=4096)  # every piece's audio and timings: a long course must not re-hash its sources
def _file_sha(path: str, size: int, mtime_ns: int) -> str:
    return sha256_file(Path(path))


def file_identity(path: Path) -> str:
    """The content hash of ``path`` (computed once per process for an unchanged file)."""
    stat = path.stat()
    return _file_sha(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=1)
def ffmpeg_identity() -> str:
    exe = Path(ffmpeg_exe())
    return f"{exe.name}:{exe.stat().st_size}"


def engine_env_identity(env: str | None, python: Path | None) -> str:
    """Which packages run an engine: the env's spec hash (a built env), else the interpreter's path."""
    if env is None:
        return "orchestrator"
    marker = read_marker(env)
    if marker is not None and python is not None and python.parent.parent.name == env:
        return f"{env}:{marker.get('spec_hash')}:{marker.get('python_version')}"
    return f"{env}:{python}"


def base_parts(kind: str) -> dict[str, Any]:
    return {"kind": kind, "presgen": __version__, "ffmpeg": ffmpeg_identity()}
