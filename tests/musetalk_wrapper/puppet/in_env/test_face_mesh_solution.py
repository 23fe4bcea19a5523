"""The face mesh is imported without the rest of mediapipe: an engine's start (and its --check) loads no drawing
helpers and no matplotlib, and the face mesh it gets finds a face."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from musetalk_wrapper.face_mesh_solution import new_face_mesh
from musetalk_wrapper.media import load_image

REPO = Path(__file__).resolve().parents[4]


def imported_modules(*args: str) -> set[str]:
    """The modules a wrapper command imports (python -X importtime lists each one on stderr)."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "musetalk_wrapper", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return {line.rsplit("|", 1)[1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}


def test_the_engine_check_imports_no_matplotlib_and_no_other_solutions() -> None:
    modules = imported_modules("--engine", "puppet", "--check", "--json-output")
    # the check does start the face mesh (its own line may be garbled by the graph's log on stderr; its imports not)
    assert {"mediapipe.python.solution_base", "mediapipe.python.solutions.face_mesh_connections"} <= modules
    assert not {m for m in modules if m.startswith(("matplotlib", "mediapipe.tasks"))}
    assert "mediapipe.python.solutions.hands" not in modules


def test_the_lean_face_mesh_finds_the_presenters_face(media_dir: Path) -> None:
    image = load_image(media_dir / "man.png")
    with new_face_mesh(static_image_mode=True, max_num_faces=1, refine_landmarks=True) as mesh:
        found = mesh.process(np.ascontiguousarray(image))
    assert found.multi_face_landmarks and len(found.multi_face_landmarks[0].landmark) == 478
