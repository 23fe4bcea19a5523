"""The example course (examples/course.yaml and its scripts), copied with its presenter photo into a temp folder so
its relative paths resolve there and its output stays out of the repository."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import REPO


def copy_example_course(folder: Path) -> Path:
    """``folder/examples/course.yaml`` (+ scripts) and ``folder/out/presenter.png`` made as `make demo` makes it."""
    examples = folder / "examples"
    examples.mkdir(parents=True)
    shutil.copy(REPO / "examples" / "course.yaml", examples / "course.yaml")
    shutil.copytree(REPO / "examples" / "course", examples / "course")
    subprocess.run(
        [sys.executable, str(REPO / "examples" / "presenter_photo.py"), str(folder / "out" / "presenter.png")],
        check=True,
        capture_output=True,
    )
    return examples / "course.yaml"


@pytest.fixture(scope="module")
def example_course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_example_course(tmp_path_factory.mktemp("course"))


def _presgen(*args: str, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "presgen_training", *args], capture_output=True, text=True, cwd=REPO, timeout=timeout
    )


@pytest.fixture(scope="session")
def presgen():
    """``presgen(*args)``: the CLI in a subprocess (its exit code, stdout and stderr)."""
    return _presgen


@pytest.fixture(scope="session")
def make_example_course():
    return copy_example_course
