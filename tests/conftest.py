"""Shared fixtures. Real media comes from $PRESGEN_TEST_MEDIA (CI sets it to ../shared/media);
tests that need it skip with a visible reason when it is unset. Engine venvs are built by `make test`."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "test-artifacts"


@pytest.fixture(scope="session")
def media_dir() -> Path:
    value = os.environ.get("PRESGEN_TEST_MEDIA")
    if not value:
        pytest.skip("PRESGEN_TEST_MEDIA is not set (CI sets it to ../shared/media)")
    path = Path(value).resolve()
    if not path.is_dir():
        pytest.fail(f"PRESGEN_TEST_MEDIA={value} is not a folder")
    return path


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Frames, contact sheets and videos a person can look at after the run."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def _engine_python(env: str) -> Path:
    sys.path.insert(0, str(REPO))
    from presgen_training.envs.locate import env_python

    python, reason = env_python(env)
    if python is None:
        pytest.fail(f"engine env '{env}' unavailable ({reason}); `make test` builds it")
    return python


@pytest.fixture(scope="session")
def puppet_python() -> Path:
    return _engine_python("puppet")


@pytest.fixture(scope="session")
def musetalk_python() -> Path:
    return _engine_python("musetalk")


@pytest.fixture(autouse=True, scope="session")
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No test reads or writes the user's real cache or config (session-wide, so module fixtures are covered)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PRESGEN_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "presgen-cache"))
        patch.setenv("PRESGEN_CONFIG", "")
        yield


ENV_FIXTURE_MARKERS = {"puppet_python": "puppet_env", "musetalk_python": "musetalk_env"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that uses an engine env's fixture carries that env's marker, so `-m "not puppet_env"` is exact."""
    for item in items:
        for fixture, marker in ENV_FIXTURE_MARKERS.items():
            if fixture in getattr(item, "fixturenames", ()):
                item.add_marker(marker)


ENGINE_TESTS_VAR = "PRESGEN_ENGINE_TESTS"  # set by tests/run_engine_tests.py inside an engine venv


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """``tests/**/<engine>/in_env/`` holds tests of engine internals: they import the engine's own packages
    (mediapipe, torch), so they are collected only inside that engine's venv, by tests/run_engine_tests.py."""
    parts = collection_path.parts
    if "in_env" not in parts:
        return None
    engine = parts[parts.index("in_env") - 1]
    return os.environ.get(ENGINE_TESTS_VAR) != engine or None
