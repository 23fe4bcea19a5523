"""Running ``presgen`` from a benchmark: this interpreter's package, its JSON answer on stdout."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any


def presgen_json(*args: str, env: dict[str, str], what: str) -> Any:
    """``presgen ARGS --json --quiet``'s answer; exits the benchmark, with the end of stderr, when ``what`` fails."""
    proc = subprocess.run(
        [sys.executable, "-m", "presgen_training", *args, "--json", "--quiet"], capture_output=True, text=True, env=env
    )
    if proc.returncode != 0:
        raise SystemExit(f"bench: {what} failed: {proc.stderr.strip()[-400:]}")
    return json.loads(proc.stdout)
