"""Helpers tests import as ``from helpers import ...`` (pytest puts tests/ on sys.path)."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_wrapper(python: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    """Run ``python -m musetalk_wrapper ARGS`` from the repo, the way the orchestrator does."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([str(python), "-m", "musetalk_wrapper", *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=REPO)
