"""engine_python: --env, the config's [engines] / [envs.X] keys and PRESGEN_ENV_<NAME> choose the interpreter."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from presgen_training.config import UserConfig, load_config
from presgen_training.envs import engine_python
from presgen_training.envs.build import create_env

HERE = f"{sys.version_info[0]}.{sys.version_info[1]}"


@pytest.fixture
def specs(make_spec) -> None:
    # Built in these tests, so no "engines" (a bare venv cannot run the wrapper's --check); puppet is never built.
    make_spec("musetalk", json.dumps({"python": HERE}))
    make_spec("musetalk-cuda", json.dumps({"python": HERE}))
    make_spec("puppet", json.dumps({"python": HERE, "engines": ["puppet"]}))


def test_unbuilt_env_says_how_to_build_it(specs) -> None:
    python, reason, env = engine_python("musetalk", None, UserConfig())
    assert (python, env) == (None, "musetalk")
    assert reason == "env 'musetalk' is not built; run: presgen env create musetalk"


def test_built_env_is_used(specs) -> None:
    create_env("musetalk")
    python, reason, env = engine_python("musetalk", None, UserConfig())
    assert reason is None and env == "musetalk" and python is not None and python.exists()


def test_env_override_and_config_key_choose_the_env(specs, tmp_path: Path) -> None:
    create_env("musetalk-cuda")
    python, reason, env = engine_python("musetalk", "musetalk-cuda", UserConfig())
    assert reason is None and env == "musetalk-cuda"
    config_file = tmp_path / "presgen.toml"
    config_file.write_text('[engines]\nmusetalk_env = "musetalk-cuda"\n')
    python2, reason2, env2 = engine_python("musetalk", None, load_config(config_file))
    assert (python2, reason2, env2) == (python, None, "musetalk-cuda")


def test_env_that_does_not_carry_the_engine_is_refused(specs) -> None:
    python, reason, env = engine_python("musetalk", "puppet", UserConfig())
    assert python is None and env == "puppet"
    assert reason == "env 'puppet' does not carry engine 'musetalk' (envs/puppet/env.json lists: puppet)"


def test_environment_variable_wins(specs, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PRESGEN_ENV_MUSETALK_CUDA", sys.executable)
    config = UserConfig(engine_envs={"musetalk": "musetalk-cuda"}, env_pythons={"musetalk-cuda": tmp_path / "nope"})
    assert engine_python("musetalk", None, config) == (Path(sys.executable), None, "musetalk-cuda")
    monkeypatch.setenv("PRESGEN_ENV_MUSETALK_CUDA", str(tmp_path / "missing-python"))
    python, reason, _ = engine_python("musetalk", None, config)
    assert python is None
    assert reason == f"PRESGEN_ENV_MUSETALK_CUDA points to a missing file: {tmp_path / 'missing-python'}"


def test_config_python_is_used_and_named_when_missing(specs, tmp_path: Path) -> None:
    config_file = tmp_path / "presgen.toml"
    config_file.write_text(f'[envs.puppet]\npython = "{sys.executable}"\n')
    assert engine_python("puppet", None, load_config(config_file)) == (Path(sys.executable), None, "puppet")
    config_file.write_text(f'[envs.puppet]\npython = "{tmp_path / "gone"}"\n')
    python, reason, _ = engine_python("puppet", None, load_config(config_file))
    assert python is None and reason is not None and f"in {config_file}" in reason and "gone" in reason


def test_unknown_env_name(specs) -> None:
    python, reason, env = engine_python("musetalk", "musetalk-rocm", UserConfig())
    assert python is None and env == "musetalk-rocm"
    assert reason is not None and "no env spec envs/musetalk-rocm/" in reason
