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


def run_musetalk(
    python: Path, audio: Path, out: Path, models: Path, *options: str, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """The musetalk engine (run_wrapper) from ``audio`` into ``out`` with these models, its cache beside ``out``;
    ``options`` name the source (``--video V`` or ``--image I``) and anything else."""
    return run_wrapper(
        python,
        "--engine",
        "musetalk",
        "--audio",
        str(audio),
        "--output",
        str(out),
        "--models-dir",
        str(models),
        "--cache-dir",
        str(out.parent / "cache"),
        "--json-output",
        *options,
        timeout=timeout,
    )


# A valid success object (musetalk_wrapper/result.schema.json): a one-second puppet clip.
SUCCESS_RESULT = {
    "success": True,
    "output_path": "/x.mp4",
    "engine": "puppet",
    "message": "",
    "duration_s": 1.0,
    "fps": 25,
    "frames": 25,
    "timings_s": {"total": 1.0},
    "warnings": [],
    "schema_version": 2,
}
