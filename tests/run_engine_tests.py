"""Run the tests of engine internals inside each engine's own venv (``make test`` calls this).

``tests/musetalk_wrapper/<engine>/in_env/`` imports the engine's packages (mediapipe, torch), which the
orchestrator's venv does not have. For each engine env this installs the orchestrator's pytest version into
that env when it is missing, then runs ``<env python> -m pytest tests/musetalk_wrapper/<engine>/in_env`` with
``PRESGEN_ENGINE_TESTS=<engine>`` (tests/conftest.py collects in_env folders only then).

usage: python tests/run_engine_tests.py [ENGINE ...] [-- PYTEST ARGS]
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from presgen_training.envs.locate import env_python  # noqa: E402

ENGINE_ENVS = {"puppet": "puppet", "musetalk": "musetalk"}  # engine -> env whose python runs its tests
PIP_TIMEOUT_S = 600


def ensure_pytest(python: Path) -> None:
    has = subprocess.run(
        [str(python), "-c", f"import pytest; assert pytest.__version__ == '{pytest.__version__}'"],
        capture_output=True,
        check=False,
    )
    if has.returncode != 0:
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", f"pytest=={pytest.__version__}"],
            check=True,
            timeout=PIP_TIMEOUT_S,
        )


def main(argv: list[str]) -> int:
    engines, extra = (argv[: argv.index("--")], argv[argv.index("--") + 1 :]) if "--" in argv else (argv, [])
    status = 0
    for engine in engines or list(ENGINE_ENVS):
        folder = REPO / "tests" / "musetalk_wrapper" / engine / "in_env"
        if not folder.is_dir():
            continue
        python, reason = env_python(ENGINE_ENVS[engine])
        if python is None:
            print(
                f"run_engine_tests: env for '{engine}' unavailable ({reason}); `make test` builds it", file=sys.stderr
            )
            return 1
        ensure_pytest(python)
        env = {**os.environ, "PRESGEN_ENGINE_TESTS": engine, "PYTHONPATH": str(REPO)}
        print(f"== {engine} engine internals, in {python}", flush=True)
        proc = subprocess.run(
            [str(python), "-m", "pytest", "-q", str(folder.relative_to(REPO)), *extra], cwd=REPO, env=env, check=False
        )
        status = status or proc.returncode
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
