"""An env's health check: the reason it cannot serve its engines, not a bool.

Two parts, both run by the env's own interpreter:
1. import every module of env.json's "imports" map; the first failure names its pip package;
2. each engine's own ``--check`` through the wrapper client: the engine runs what a render runs first (imports,
   model files, loading its graph) and answers healthy, or a reason and the commands that fix it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from presgen_training import wrapper_client
from presgen_training.envs.proc import last_line, run_cmd
from presgen_training.envs.pythons import probe_python
from presgen_training.envs.spec import EnvSpec

IMPORT_TIMEOUT_S = 300.0  # torch + mmcv import in well under a minute; a cold disk can be slow

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
    fix: tuple[str, ...] = ()  # commands that fix ``problem``
    engines: dict[str, wrapper_client.Health] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        return self.problem is None and all(h.healthy for h in self.engines.values())

    @property
    def reason(self) -> str | None:
        """The first reason anything is wrong, or None."""
        if self.problem is not None:
            return self.problem
        return next((f"engine '{e}': {h.reason}" for e, h in self.engines.items() if not h.healthy), None)

    @property
    def fixes(self) -> tuple[str, ...]:
        if self.problem is not None:
            return self.fix
        return next((h.fix for h in self.engines.values() if not h.healthy), ())


def rebuild_command(env: str) -> str:
    return f"presgen env create {env} --force"


def check_imports(spec: EnvSpec, python: Path) -> str | None:
    if not spec.imports:
        return None
    result = run_cmd(
        [str(python), "-I", "-c", _IMPORT_PROBE, json.dumps(list(spec.imports))], timeout_s=IMPORT_TIMEOUT_S
    )
    fix = f"run {rebuild_command(spec.name)}"
    try:
        verdict = json.loads(result.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        module = last_line(result.stderr, "importing ").removeprefix("importing ")
        return (
            f"the import check failed in {python} (exit {result.returncode}, while importing {module}): "
            f"{result.last_line()}; {fix}"
        )
    if verdict.get("ok"):
        return None
    module = str(verdict["module"])
    package = spec.imports.get(module, module)
    if verdict.get("missing"):
        return f"package '{package}' is missing (import {module} failed): {fix}"
    return f"package '{package}' does not import (import {module} failed: {verdict['error']}): {fix}"


def health_check(spec: EnvSpec, python: Path, engines: bool = True) -> EnvHealth:
    """Check ``python`` against ``spec``: Python version, imports, then each engine's own check."""
    health = EnvHealth(python=python)
    health.fix = (rebuild_command(spec.name),)
    info, reason = probe_python(python)
    if info is None:
        health.problem = f"{reason}: run {rebuild_command(spec.name)}"
        return health
    health.python_version = info.version_text
    if not spec.python.allows(info.version):
        health.problem = (
            f"wrong Python: {python} is Python {info.version_text}, but env '{spec.name}' needs "
            f"{spec.python.describe()}: run {rebuild_command(spec.name)}"
        )
        return health
    health.problem = check_imports(spec, python)
    if health.problem is not None or not engines:
        return health
    for engine in spec.engines:
        health.engines[engine] = wrapper_client.check(python, engine)
    return health
