"""What this machine has that an env may require (env.json "requires")."""

from __future__ import annotations

import shutil

from presgen_training.envs.proc import run_cmd
from presgen_training.envs.spec import EnvSpec

NVIDIA_SMI_TIMEOUT_S = 20.0


def nvidia_gpus() -> tuple[list[str], str | None]:
    """GPU names from ``nvidia-smi -L``, or [] and why there are none."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return [], "nvidia-smi not found"
    result = run_cmd([exe, "-L"], timeout_s=NVIDIA_SMI_TIMEOUT_S)
    if not result.ok:
        return [], f"nvidia-smi failed: {result.last_line()}"
    gpus = [ln.strip() for ln in result.stdout.splitlines() if ln.strip().startswith("GPU")]
    return gpus, None if gpus else "nvidia-smi lists no GPU"


def unmet_requirements(spec: EnvSpec) -> str | None:
    """Why this machine cannot use ``spec`` (a missing GPU), or None."""
    if spec.requires.get("gpu") == "nvidia":
        gpus, why = nvidia_gpus()
        if not gpus:
            return f"env '{spec.name}' needs an NVIDIA GPU ({why})"
    return None
