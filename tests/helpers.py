"""Helpers tests import as ``from helpers import ...`` (pytest puts tests/ on sys.path)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from presgen_training.envs.locate import repo_root, wrapper_environ

REPO = Path(__file__).resolve().parents[1]


def run_wrapper(python: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run ``python -m musetalk_wrapper ARGS`` with the environment and folder the orchestrator's wrapper client
    uses (presgen_training/wrapper_client.py), keeping the raw exit code, stdout and stderr for contract tests."""
    return subprocess.run(
        [str(python), "-m", "musetalk_wrapper", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=wrapper_environ(),
        cwd=repo_root(),
    )
