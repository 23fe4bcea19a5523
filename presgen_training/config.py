"""User configuration: ``presgen.toml`` in the working folder, else ``~/.config/presgen/config.toml``.

Example::

    [engines]
    musetalk_env = "musetalk-cuda"   # which env runs the musetalk engine (default: musetalk)

    [envs.puppet]
    python = "/opt/my-puppet-venv/bin/python"   # an interpreter you already have

    [paths]
    models_dir = "~/models/musetalk"
    voices_dir = "~/voices"          # extra piper voices: .onnx files with their .onnx.json

    [render]
    voice = "joe"
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from presgen_training.engines import DEFAULT_ENGINE_ENVS
from presgen_training.errors import PresgenError


@dataclass(frozen=True)
class UserConfig:
    path: Path | None = None
    engine_envs: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_ENGINE_ENVS))
    env_pythons: dict[str, Path] = field(default_factory=dict)
    models_dir: Path | None = None
    voices_dir: Path | None = None
    render: dict[str, Any] = field(default_factory=dict)


def cache_dir() -> Path:
    """Where renders keep reusable work (narration clips, avatar preparation): $PRESGEN_CACHE_DIR or XDG."""
    override = os.environ.get("PRESGEN_CACHE_DIR")
    if override:
        return Path(override)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "presgen"


def voices_dir() -> Path:
    """Where extra piper voices live: $PRESGEN_VOICES_DIR, else the config's [paths] voices_dir, else XDG data."""
    override = os.environ.get("PRESGEN_VOICES_DIR")
    if override:
        return Path(override).expanduser()
    configured = load_config().voices_dir
    if configured is not None:
        return configured
    return Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share") / "presgen" / "voices"


def config_path() -> Path | None:
    override = os.environ.get("PRESGEN_CONFIG")
    if override is not None:  # set but empty: no config file at all
        return Path(override) if override else None
    for candidate in (Path.cwd() / "presgen.toml", Path.home() / ".config" / "presgen" / "config.toml"):
        if candidate.is_file():
            return candidate
    return None


def load_config(path: Path | None = None) -> UserConfig:
    path = path or config_path()
    if path is None:
        return UserConfig()
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError as exc:
        raise PresgenError(f"config file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise PresgenError(f"{path}: invalid TOML: {exc}") from exc
    unknown = set(data) - {"engines", "envs", "paths", "render"}
    if unknown:
        raise PresgenError(f"{path}: unknown section(s) {sorted(unknown)}; known: engines, envs, paths, render")
    engine_envs = dict(DEFAULT_ENGINE_ENVS)
    for key, value in data.get("engines", {}).items():
        engine = key.removesuffix("_env").replace("_", "-")
        if not key.endswith("_env") or engine not in DEFAULT_ENGINE_ENVS:
            raise PresgenError(f'{path}: unknown key engines.{key}; use e.g. musetalk_env = "musetalk-cuda"')
        engine_envs[engine] = str(value)
    env_pythons = {
        name: Path(str(v["python"])).expanduser()
        for name, v in data.get("envs", {}).items()
        if isinstance(v, dict) and "python" in v
    }
    models = data.get("paths", {}).get("models_dir")
    voices = data.get("paths", {}).get("voices_dir")
    return UserConfig(
        path=path,
        engine_envs=engine_envs,
        env_pythons=env_pythons,
        models_dir=Path(str(models)).expanduser() if models else None,
        voices_dir=Path(str(voices)).expanduser() if voices else None,
        render=dict(data.get("render", {})),
    )
