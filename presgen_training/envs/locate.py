"""Where env specs and built envs live, and which interpreter runs an engine.

An interpreter for env NAME is, first found wins:
1. an explicit path given on the command line (``--engine-python``),
2. ``PRESGEN_ENV_<NAME>`` (upper case, '-' -> '_'), a python the user already has,
3. the built venv ``$PRESGEN_ENVS_HOME/<name>/bin/python`` (default ``<repo>/.envs``), if its ready marker
   exists and matches the current spec.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

READY_MARKER = ".presgen-env.json"  # written last, atomically, by `presgen env create`
PARENT_PID_VAR = "PRESGEN_PARENT_PID"  # the orchestrator's pid, for musetalk_wrapper/parent_watch.py


def repo_root() -> Path:
    """The checkout holding ``presgen_training/``, ``musetalk_wrapper/`` and ``envs/``."""
    override = os.environ.get("PRESGEN_ROOT")
    return Path(override).resolve() if override else Path(__file__).resolve().parents[2]


def wrapper_environ() -> dict[str, str]:
    """The environment for ``<python> -m musetalk_wrapper...``: ours, with PYTHONPATH set to the repo root only,
    so an engine venv imports the wrapper from this checkout and nothing from the user's PYTHONPATH; and this
    process named as the engine's parent, so the engine stops if we die without stopping it (a SIGKILLed Ray
    worker: musetalk_wrapper/parent_watch.py)."""
    return {**os.environ, "PYTHONPATH": str(repo_root()), PARENT_PID_VAR: str(os.getpid())}


def specs_dir() -> Path:
    return repo_root() / "envs"


def envs_home() -> Path:
    override = os.environ.get("PRESGEN_ENVS_HOME")
    return Path(override).resolve() if override else repo_root() / ".envs"


def env_dir(name: str) -> Path:
    return envs_home() / name


def env_var_name(name: str) -> str:
    return "PRESGEN_ENV_" + name.upper().replace("-", "_")


def spec_hash(name: str) -> str:
    """Hash of everything in ``envs/<name>/`` that decides what gets installed."""
    digest = hashlib.sha256()
    spec = specs_dir() / name
    for path in sorted(p for p in spec.rglob("*") if p.is_file() and p.name != "README.md"):
        digest.update(path.relative_to(spec).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def read_marker(name: str) -> dict[str, Any] | None:
    try:
        data = json.loads((env_dir(name) / READY_MARKER).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def env_python(name: str, override: Path | None = None) -> tuple[Path | None, str | None]:
    """The interpreter for env ``name`` and None, or None and the reason there is none."""
    if override is not None:
        return (override, None) if override.exists() else (None, f"interpreter not found: {override}")
    from_var = os.environ.get(env_var_name(name))
    if from_var:
        path = Path(from_var)
        return (path, None) if path.exists() else (None, f"{env_var_name(name)} points to a missing file: {path}")
    if not (specs_dir() / name).is_dir():
        return None, f"no env spec envs/{name}/ in {repo_root()}"
    marker = read_marker(name)
    python = env_dir(name) / "bin" / "python"
    if marker is None or not python.exists():
        return None, f"env '{name}' is not built; run: presgen env create {name}"
    if marker.get("spec_hash") != spec_hash(name):
        return None, f"env '{name}' was built from an older spec; run: presgen env create {name}"
    return python, None
