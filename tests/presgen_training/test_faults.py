"""The fault suite (bench/faults.py) under pytest: one regression case per reliability defect, against the real CLI
in a sandbox with its own TMPDIR. `make faults` runs every case, the engine boundary ones included."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from helpers import REPO

pytestmark = [pytest.mark.slow, pytest.mark.puppet_env]

_spec = importlib.util.spec_from_file_location("fault_suite", REPO / "bench" / "faults.py")
assert _spec is not None and _spec.loader is not None
faults = importlib.util.module_from_spec(_spec)
sys.modules["fault_suite"] = faults
_spec.loader.exec_module(faults)

# Engine misbehaviour is also covered faster at the library level (tests/presgen_training/avatar/test_chain.py).
CASES = [
    "relative-paths",
    "out-is-input",
    "sigint-engine",
    "sigterm-engine",
    "sighup-engine",
    "sigterm-ffmpeg",
    "sigkill-presgen",
    "grandchild-holds-stdout",
    "health-that-lies",
    "read-only-output-folder",
    "full-tmpdir",
    "explicit-puppet-no-face",
    "fallback-flag",
    "tiny-image",
    "video-as-image",
    "two-renders-one-output",
    "output-mode-follows-umask",
    "no-progress-tty",
    "engine-hangs",
    "missing-interpreter",
]


@pytest.fixture(scope="module")
def warm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("warm-narration")


def test_every_listed_case_exists() -> None:
    assert set(CASES) <= set(faults.CASES)


@pytest.mark.parametrize("name", CASES)
def test_fault_case(name: str, tmp_path: Path, warm: Path) -> None:
    outcome = faults.run_case(name, tmp_path, warm)
    if outcome.skipped:
        pytest.skip(outcome.skipped)
    assert outcome.passed, f"{faults.CASES[name][0]}: observed {outcome.observed}; leftovers {outcome.leftovers}"
