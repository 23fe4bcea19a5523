"""Env specs: ``envs/<name>/env.json`` plus ``envs/<name>/requirements.txt`` describe one engine venv.

env.json::

    {
      "description": "one line for `presgen env list`",
      "python": "3.10",                      # any 3.10.x; or a range such as ">=3.9,<3.13"
      "requires": {"gpu": "nvidia"},          # optional: what the machine needs (else `create --all` skips it)
      "engines": ["musetalk-upstream"],       # wrapper engines this env runs; `check` asks each `--check`
      "imports": {"cv2": "opencv-python"},    # import name -> pip package, for the health check
      "steps": [                              # optional: install steps after `python -m venv`, in order
        {"pip": ["torch==2.0.1", "--index-url", "https://download.pytorch.org/whl/cu118"], "label": "torch"},
        {"pip": ["-r", "requirements.txt"]},
        {"mim": ["mmcv==2.0.1"]},             # `python -m mim install ...` (openmim from an earlier step)
        {"python": ["-m", "something"]}       # any other command, run by the env's python
      ]
    }

Without "steps" the install is ``pip install -r requirements.txt``. With "steps", requirements.txt (when it
exists) is installed *before* them, unless a step names it: then the steps' order is the whole recipe, which
lets a step come first (torch from its own index before packages that depend on torch). Steps run with the
spec folder as working directory, always as ``python -m pip`` / ``python -m mim`` (never a script: a venv's
scripts embed the folder it was built in, and it is built in a temporary folder).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from presgen_training.envs.locate import specs_dir
from presgen_training.envs.pythons import PythonRequirement, parse_requirement
from presgen_training.errors import PresgenError

SPEC_FILE = "env.json"
REQUIREMENTS_FILE = "requirements.txt"
STEP_KINDS = ("pip", "mim", "python")
KNOWN_KEYS = {"description", "python", "requires", "engines", "imports", "steps"}
KNOWN_REQUIRES = {"gpu": ("nvidia",)}


class SpecError(PresgenError):
    """An env.json that cannot be used; the message names the file."""


@dataclass(frozen=True)
class Step:
    kind: str  # pip | mim | python
    args: tuple[str, ...]
    label: str

    def argv(self, python: Path) -> list[str]:
        if self.kind == "pip":
            return [
                str(python),
                "-m",
                "pip",
                "install",
                "--no-input",
                "--disable-pip-version-check",
                "--progress-bar",
                "off",
                *self.args,
            ]
        if self.kind == "mim":
            return [str(python), "-m", "mim", "install", *self.args]
        return [str(python), *self.args]


@dataclass(frozen=True)
class EnvSpec:
    name: str
    folder: Path
    description: str
    python: PythonRequirement
    engines: tuple[str, ...]
    imports: dict[str, str]
    requires: dict[str, str] = field(default_factory=dict)
    steps: tuple[Step, ...] = ()

    @property
    def uses_pip(self) -> bool:
        return any(s.kind in ("pip", "mim") for s in self.steps)


def spec_names() -> list[str]:
    """Every env with an ``envs/<name>/env.json``, sorted."""
    root = specs_dir()
    if not root.is_dir():
        return []
    return sorted(p.parent.name for p in root.glob(f"*/{SPEC_FILE}"))


def load_spec(name: str) -> EnvSpec:
    folder = specs_dir() / name
    path = folder / SPEC_FILE
    if not path.is_file():
        known = ", ".join(spec_names()) or "none"
        raise SpecError(f"unknown env '{name}': no {path}; known envs: {known}")
    try:
        data = json.loads(path.read_text())
    except ValueError as exc:
        raise SpecError(f"{path}: invalid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise SpecError(f"{path}: must hold a JSON object")
    return _parse(name, folder, path, data)


def _parse(name: str, folder: Path, path: Path, data: dict[str, Any]) -> EnvSpec:
    unknown = set(data) - KNOWN_KEYS
    if unknown:
        raise SpecError(f"{path}: unknown key(s) {sorted(unknown)}; known: {', '.join(sorted(KNOWN_KEYS))}")
    if not isinstance(data.get("python"), str):
        raise SpecError(f'{path}: "python" must be a version such as "3.10" or a range such as ">=3.9,<3.13"')
    try:
        python = parse_requirement(data["python"])
    except ValueError as exc:
        raise SpecError(f"{path}: {exc}") from exc
    engines = data.get("engines", [])
    if not isinstance(engines, list) or not all(isinstance(e, str) for e in engines):
        raise SpecError(f'{path}: "engines" must be a list of engine names')
    imports = data.get("imports", {})
    if not isinstance(imports, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in imports.items()):
        raise SpecError(f'{path}: "imports" must map import names to package names')
    requires = data.get("requires", {})
    if not isinstance(requires, dict):
        raise SpecError(f'{path}: "requires" must be an object such as {{"gpu": "nvidia"}}')
    for key, value in requires.items():
        if key not in KNOWN_REQUIRES or value not in KNOWN_REQUIRES[key]:
            raise SpecError(f'{path}: unknown requirement "{key}": {value!r}; known: {KNOWN_REQUIRES}')
    return EnvSpec(
        name=name,
        folder=folder,
        description=str(data.get("description", "")),
        python=python,
        engines=tuple(engines),
        imports=dict(imports),
        requires=dict(requires),
        steps=_steps(folder, path, data.get("steps")),
    )


def _steps(folder: Path, path: Path, raw: Any) -> tuple[Step, ...]:
    requirements = folder / REQUIREMENTS_FILE
    req_step = Step("pip", ("-r", REQUIREMENTS_FILE), f"pip install -r {REQUIREMENTS_FILE}")
    if raw is None:
        return (req_step,) if requirements.is_file() else ()
    if not isinstance(raw, list):
        raise SpecError(f'{path}: "steps" must be a list of steps like {{"pip": ["-r", "requirements.txt"]}}')
    steps: list[Step] = []
    for i, item in enumerate(raw, 1):
        kinds = [k for k in STEP_KINDS if isinstance(item, dict) and k in item]
        extra = set(item) - {*STEP_KINDS, "label"} if isinstance(item, dict) else set()
        if len(kinds) != 1 or extra:
            raise SpecError(f"{path}: step {i} needs exactly one of {', '.join(STEP_KINDS)} (and an optional label)")
        args = item[kinds[0]]
        if not isinstance(args, list) or not args or not all(isinstance(a, str) for a in args):
            raise SpecError(f"{path}: step {i}: {kinds[0]} takes a non-empty list of strings")
        default_label = {"pip": "pip install", "mim": "mim install", "python": "python"}[kinds[0]]
        steps.append(Step(kinds[0], tuple(args), str(item.get("label") or f"{default_label} {' '.join(args)}")))
    names_requirements = any(s.kind == "pip" and REQUIREMENTS_FILE in s.args for s in steps)
    if requirements.is_file() and not names_requirements:
        steps.insert(0, req_step)
    return tuple(steps)
