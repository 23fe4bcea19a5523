"""Unit checks of the engine's modules (strict loading against the official manifests, whisper windows,
positional encoding, silence, landmarks and box rule, DWPose ONNX pre/post-processing, jaw mask, blending,
avatar cache, checkpoint errors), run in the musetalk env in one interpreter by support/unit_checks.py."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

SUPPORT = Path(__file__).resolve().parent / "support"
CHECK_NAMES = re.findall(r"^@check\ndef (\w+)\(", (SUPPORT / "unit_checks.py").read_text(), flags=re.M)

pytestmark = pytest.mark.musetalk_env


@pytest.fixture(scope="module")
def unit_results(musetalk_python: Path, manifests_dir: Path, media_dir: Path, tiny_models: Path,
                 tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    work = tmp_path_factory.mktemp("unit-checks")
    out = work / "results.json"
    proc = subprocess.run([str(musetalk_python), str(SUPPORT / "unit_checks.py"), str(out), str(manifests_dir),
                           str(media_dir), str(tiny_models), str(work / "scratch")],
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0 and out.is_file(), proc.stderr[-3000:]
    return json.loads(out.read_text())


def test_every_check_is_collected() -> None:
    assert len(CHECK_NAMES) >= 15 and "strict_unet_full_size" in CHECK_NAMES


@pytest.mark.parametrize("name", CHECK_NAMES)
def test_unit(unit_results: dict[str, dict[str, object]], name: str) -> None:
    result = unit_results[name]
    assert result["ok"], result["error"]
