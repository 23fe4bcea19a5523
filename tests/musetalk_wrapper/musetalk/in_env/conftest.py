"""Fixtures for the musetalk engine's internals, run inside the musetalk venv (tests/run_engine_tests.py):
the tiny-configuration models folder built in this interpreter and the official checkpoint manifests."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

SUPPORT = Path(__file__).resolve().parents[1] / "support"
sys.path.insert(0, str(SUPPORT))  # tiny_models, dwpose_graph, engine_asserts


@pytest.fixture(scope="session")
def tiny_models(manifests_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-weight models folder in the official layout and file formats, tiny UNet/VAE/whisper."""
    import tiny_models as tiny

    out = tmp_path_factory.mktemp("tiny-models")
    tiny.write_all(out, manifests_dir)
    return out


@pytest.fixture(scope="session")
def manifest(manifests_dir: Path) -> Callable[[str], Any]:
    """manifest(name): one of shared/musetalk's JSON files about the official checkpoints."""
    return lambda name: json.loads((manifests_dir / name).read_text())
