"""The boundary rules are import-linter contracts (pyproject.toml), run by `make lint`: they hold on the code, and
each one fails when a module breaks it (checked on a copy of the packages with one violating module added)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import REPO

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
VIOLATIONS = {
    "Nothing imports the CLI layer": ("presgen_training/narration/_breaks_rule.py", "import presgen_training.cli\n"),
    "The orchestrator and the wrapper never import each other": (
        "presgen_training/_breaks_rule.py",
        "import musetalk_wrapper.media\n",
    ),
    "Engines never import each other": (
        "musetalk_wrapper/engines/puppet/_breaks_rule.py",
        "from musetalk_wrapper.engines.musetalk import blending\n",
    ),
    "Stages never import the wrapper client or the avatar stage": (
        "presgen_training/overlay/_breaks_rule.py",
        "from presgen_training import wrapper_client\n",
    ),
}


def lint(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(folder / "pyproject.toml"), "--no-cache"],
        capture_output=True,
        text=True,
        cwd=folder,
        env={"PYTHONPATH": str(folder), "PATH": ""},
        timeout=300,
    )


def test_the_code_keeps_every_contract() -> None:
    result = lint(REPO)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "0 broken" in result.stdout


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("packages")
    for package in ("presgen_training", "musetalk_wrapper"):
        shutil.copytree(REPO / package, folder / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", folder / "pyproject.toml")
    return folder


@pytest.mark.parametrize("contract", sorted(VIOLATIONS))
def test_breaking_a_rule_fails_the_check(contract: str, copy: Path) -> None:
    relative, source = VIOLATIONS[contract]
    module = copy / relative
    module.write_text(source)
    try:
        result = lint(copy)
    finally:
        module.unlink()
    assert result.returncode != 0
    text = " ".join(result.stdout.split())  # rich wraps long contract names
    assert "1 broken" in text and f"{contract}" in text.split("Broken contracts")[1], result.stdout[-2000:]
    assert module.stem in result.stdout
