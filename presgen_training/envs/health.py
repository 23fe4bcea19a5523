"""An env's health check: the reason it cannot serve its engines, not a bool.

Two parts, both run by the env's own interpreter:
1. import every module of env.json's "imports" map; the first failure names its pip package;
2. ``python -m musetalk_wrapper --check --engine E --json-output`` (PYTHONPATH=repo root) for each engine.
An engine's reason that ends in ``presgen env create`` is about the env itself (a missing package); any other
(missing weights, no vendored upstream code) is about resources the env does not install.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from presgen_training.envs.locate import repo_root, wrapper_environ
from presgen_training.envs.proc import last_line, run_cmd
from presgen_training.envs.pythons import probe_python
from presgen_training.envs.spec import EnvSpec

IMPORT_TIMEOUT_S = 300.0  # torch + mmcv import in well under a minute; a cold disk can be slow
ENGINE_CHECK_TIMEOUT_S = 300.0
ENV_FIX_MARK = "presgen env create"

# Imports each module in order and prints one JSON line; stderr names the module being imported so a crash
# (a segfault in a compiled extension) still says which one.
_IMPORT_PROBE = r"""
import importlib, json, sys
result = {"ok": True}
for module in json.loads(sys.argv[1]):
    print("importing " + module, file=sys.stderr, flush=True)
    try:
        importlib.import_module(module)
    except BaseException as exc:
        name = getattr(exc, "name", None) if isinstance(exc, ModuleNotFoundError) else None
        missing = name is not None and (module == name or module.startswith(name + "."))
        result = {"ok": False, "module": module, "missing": missing,
                  "error": (type(exc).__name__ + ": " + str(exc)).strip()}
        break
print(json.dumps(result), flush=True)
"""


@dataclass
class EnvHealth:
    python: Path
    python_version: str | None = None
    problem: str | None = None  # why the env itself is unusable (None: its packages import)
    engines: dict[str, str | None] = field(default_factory=dict)  # engine -> reason it cannot run, or None

    @property
    def healthy(self) -> bool:
        return self.problem is None and all(r is None for r in self.engines.values())

    @property
    def reason(self) -> str | None:
        """The first reason anything is wrong, or None."""
        if self.problem is not None:
            return self.problem
        return next((f"engine '{e}': {r}" for e, r in self.engines.items() if r is not None), None)


def is_env_problem(reason: str) -> bool:
    return ENV_FIX_MARK in reason


def check_imports(spec: EnvSpec, python: Path) -> str | None:
    if not spec.imports:
        return None
    result = run_cmd([str(python), "-I", "-c", _IMPORT_PROBE, json.dumps(list(spec.imports))],
                     timeout_s=IMPORT_TIMEOUT_S)
    fix = f"run presgen env create {spec.name}"
    try:
        verdict = json.loads(result.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        module = last_line(result.stderr, "importing ").removeprefix("importing ")
        return (f"the import check failed in {python} (exit {result.returncode}, while importing {module}): "
                f"{result.last_line()}; {fix}")
    if verdict.get("ok"):
        return None
    module = str(verdict["module"])
    package = spec.imports.get(module, module)
    if verdict.get("missing"):
        return f"package '{package}' is missing (import {module} failed): {fix}"
    return f"package '{package}' does not import (import {module} failed: {verdict['error']}): {fix}"


def check_engine(engine: str, python: Path, env_name: str) -> str | None:
    """The engine's own answer to ``--check`` under ``python``: None when healthy, else its reason."""
    result = run_cmd([str(python), "-m", "musetalk_wrapper", "--check", "--engine", engine, "--json-output"],
                     cwd=repo_root(), env=wrapper_environ(), timeout_s=ENGINE_CHECK_TIMEOUT_S)
    lines = result.stdout.strip().splitlines()
    try:
        verdict = json.loads(lines[-1])
    except (ValueError, IndexError):
        return f"the wrapper does not start under {python}: {result.last_line()}; run {ENV_FIX_MARK} {env_name}"
    if not isinstance(verdict, dict) or "healthy" not in verdict:
        error = verdict.get("error", {}) if isinstance(verdict, dict) else {}
        return str(error.get("message") or "the wrapper's --check gave no verdict")
    return None if verdict["healthy"] else str(verdict.get("reason") or "unhealthy")


def health_check(spec: EnvSpec, python: Path, engines: bool = True) -> EnvHealth:
    """Check ``python`` against ``spec``: Python version, imports, then each engine's own check."""
    health = EnvHealth(python=python)
    info, reason = probe_python(python)
    if info is None:
        health.problem = f"{reason}: run presgen env create {spec.name}"
        return health
    health.python_version = info.version_text
    if not spec.python.allows(info.version):
        health.problem = (f"wrong Python: {python} is Python {info.version_text}, but env '{spec.name}' needs "
                          f"{spec.python.describe()}: run presgen env create {spec.name}")
        return health
    health.problem = check_imports(spec, python)
    if health.problem is not None or not engines:
        return health
    for engine in spec.engines:
        health.engines[engine] = check_engine(engine, python, spec.name)
    return health
