"""Every test here builds into a temp PRESGEN_ENVS_HOME, never the repo's .envs, and sees no PRESGEN_ENV_* override
from the developer's shell."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

MakeSpec = Callable[..., Path]


@pytest.fixture(autouse=True)
def envs_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path_factory.mktemp("envs-home")
    monkeypatch.setenv("PRESGEN_ENVS_HOME", str(home))
    for key in list(os.environ):
        if key.startswith("PRESGEN_ENV_") or key in ("PRESGEN_ROOT", "PRESGEN_CONFIG"):
            monkeypatch.delenv(key)
    return home


@pytest.fixture
def make_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MakeSpec:
    """Write ``<tmp>/envs/<name>/env.json`` (+ requirements.txt) and point PRESGEN_ROOT at ``<tmp>``."""
    root = tmp_path / "root"
    monkeypatch.setenv("PRESGEN_ROOT", str(root))

    def make(name: str, env_json: str, requirements: str | None = None) -> Path:
        folder = root / "envs" / name
        folder.mkdir(parents=True)
        (folder / "env.json").write_text(env_json)
        if requirements is not None:
            (folder / "requirements.txt").write_text(requirements)
        return folder

    return make
