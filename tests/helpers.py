"""Helpers tests import as ``from helpers import ...`` (pytest puts tests/ on sys.path)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from presgen_training.envs.locate import repo_root, wrapper_environ

REPO = Path(__file__).resolve().parents[1]


def run_presgen(
    *args: str, env: dict[str, str] | None = None, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    """``presgen ARGS`` (this interpreter's presgen_training) in the repository folder, ``env`` added to ours."""
    return subprocess.run(
        [sys.executable, "-m", "presgen_training", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env={**os.environ, **(env or {})},
    )


def presgen_json(*args: str, timeout: float = 900) -> Any:
    """The JSON answer of a ``presgen ARGS --json --quiet`` that succeeded."""
    proc = run_presgen(*args, "--json", "--quiet", timeout=timeout)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


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


def sync_eval(python: Path, video: Path, *args: str) -> tuple[int, dict[str, Any]]:
    """``python -m musetalk_wrapper.sync_eval VIDEO --json ARGS``: its exit code and its one JSON line."""
    proc = subprocess.run(
        [str(python), "-m", "musetalk_wrapper.sync_eval", str(video), "--json", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        cwd=REPO,
        timeout=600,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    assert len(lines) == 1, f"sync_eval stdout {proc.stdout!r}; stderr: {proc.stderr[-2000:]}"
    return proc.returncode, json.loads(lines[0])


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


def section_clips(cache: Path) -> list[Path]:
    """The narration cache's section clips (not the piper sentences kept beside them)."""
    from presgen_training.narration.piper_model import SENTENCE_SUFFIX

    return [p for p in cache.rglob("*.npz") if not p.name.endswith(SENTENCE_SUFFIX)]
