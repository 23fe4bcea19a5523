"""Which Python an env wants ("3.10", ">=3.9,<3.13") and where to find one on this machine.

Every candidate is run before it is trusted: a name on PATH may be a pyenv shim that only prints
"command not found", and Debian's pythons may lack the venv module.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from presgen_training.envs.proc import run_cmd

PROBE_TIMEOUT_S = 30.0
_CLAUSE = re.compile(r"^\s*(>=|<=|==|!=|~=|>|<)?\s*(\d+(?:\.\d+){0,2})(\.\*)?\s*$")
_MINORS = [(3, m) for m in range(20, 5, -1)]  # newest first: the order in which candidates are tried
# Prints version, whether venv+ensurepip work, and the interpreter a venv would be based on.
_PROBE = (
    "import json, sys\n"
    "try:\n import venv, ensurepip; ok = True\n"
    "except ImportError:\n ok = False\n"
    "base = getattr(sys, '_base_executable', None) or sys.executable\n"
    "print(json.dumps({'version': list(sys.version_info[:3]), 'venv': ok, 'base': base}))"
)


@dataclass(frozen=True)
class PythonRequirement:
    text: str
    clauses: tuple[tuple[str, tuple[int, ...]], ...]

    def allows(self, version: tuple[int, ...]) -> bool:
        return all(_holds(op, version, want) for op, want in self.clauses)

    def allows_minor(self, major: int, minor: int) -> bool:
        """True when some x.y.z release of this minor version is allowed."""
        return any(self.allows((major, minor, micro)) for micro in (0, 99))

    def describe(self) -> str:
        return f"Python {self.text}"

    def pinned_minor(self) -> tuple[int, int] | None:
        allowed = [m for m in _MINORS if self.allows_minor(*m)]
        return allowed[0] if len(allowed) == 1 else None


def parse_requirement(text: str) -> PythonRequirement:
    """ "3.10" is any 3.10.x; otherwise comma-separated clauses such as ">=3.9,<3.13" or "~=3.10"."""
    clauses: list[tuple[str, tuple[int, ...]]] = []
    for part in text.split(","):
        m = _CLAUSE.match(part)
        if not m:
            raise ValueError(f'cannot read python requirement {text!r}; write e.g. "3.10" or ">=3.9,<3.13"')
        op = m[1] or "=="
        version = tuple(int(x) for x in m[2].split("."))
        if op == "~=":
            if len(version) < 2:
                raise ValueError(f"~= needs at least major.minor in {text!r}")
            clauses += [(">=", version), ("==", version[:-1])]
        else:
            clauses.append((op, version))
    return PythonRequirement(text.strip(), tuple(clauses))


def _holds(op: str, version: tuple[int, ...], want: tuple[int, ...]) -> bool:
    have = tuple(version[: len(want)])  # compare only as many parts as the clause names: "3.10" == 3.10.13
    padded = tuple(version) + (0,) * (3 - len(version))
    if op == "==":
        return have == want
    if op == "!=":
        return have != want
    if op == "<=":
        return have <= want
    if op == ">":
        return have > want
    full_want = want + (0,) * (3 - len(want))
    return padded >= full_want if op == ">=" else padded < full_want


@dataclass(frozen=True)
class PythonInfo:
    path: Path
    version: tuple[int, int, int]
    has_venv: bool
    base: Path | None = None  # the interpreter a venv made by ``path`` links to

    @property
    def version_text(self) -> str:
        return ".".join(str(p) for p in self.version)


def probe_python(path: Path) -> tuple[PythonInfo | None, str | None]:
    """Run ``path`` and read its version; None and the reason when it does not run."""
    result = run_cmd([str(path), "-c", _PROBE], timeout_s=PROBE_TIMEOUT_S)
    if not result.ok:
        # The first line says why (a pyenv shim prints "pyenv: python3.10: command not found" then hints).
        lines = [ln.strip() for ln in (result.stderr or result.stdout).splitlines() if ln.strip()]
        return None, f"{path} does not run ({lines[0] if lines else f'exit {result.returncode}'})"
    try:
        data = json.loads(result.stdout.strip().splitlines()[-1])
        version = tuple(int(v) for v in data["version"])
    except (ValueError, KeyError, IndexError, TypeError):
        return None, f"{path} is not a Python 3 interpreter"
    base = Path(data["base"]) if data.get("base") else None
    return PythonInfo(path, (version[0], version[1], version[2]), bool(data.get("venv")), base), None


def _pyenv_candidates(major: int, minor: int) -> list[Path]:
    roots = [Path(os.environ["PYENV_ROOT"])] if os.environ.get("PYENV_ROOT") else []
    roots.append(Path.home() / ".pyenv")
    found: list[Path] = []
    for root in roots:
        found += sorted((root / "versions").glob(f"{major}.{minor}.*/bin/python{major}.{minor}"), reverse=True)
    uv_root = Path(os.environ.get("UV_PYTHON_INSTALL_DIR", Path.home() / ".local/share/uv/python"))
    found += sorted(uv_root.glob(f"cpython-{major}.{minor}.*/bin/python{major}.{minor}"), reverse=True)
    return found


def candidates(requirement: PythonRequirement) -> list[Path]:
    """Interpreters worth probing, best first: this one, pythonX.Y on PATH, pyenv/uv installs, python3."""
    found: list[Path] = [Path(sys.executable)]
    for major, minor in _MINORS:
        if not requirement.allows_minor(major, minor):
            continue
        on_path = shutil.which(f"python{major}.{minor}")
        if on_path:
            found.append(Path(on_path))
        found += _pyenv_candidates(major, minor)
    on_path = shutil.which("python3")
    if on_path:
        found.append(Path(on_path))
    unique: list[Path] = []
    for path in found:
        if path not in unique:
            unique.append(path)
    return unique


def how_to_get(requirement: PythonRequirement, env: str) -> str:
    minor = requirement.pinned_minor()
    want = f"{minor[0]}.{minor[1]}" if minor else None
    exe = f"python{want}" if want else "python3"
    installs = (
        f"`pyenv install {want}`, `uv python install {want}`, or your system's {exe} and {exe}-venv packages"
        if want
        else "pyenv, uv or your system's packages"
    )
    return f"install one ({installs}), then run: presgen env create {env} --python /path/to/{exe}"


def find_python(
    requirement: PythonRequirement, env: str, explicit: Path | None = None
) -> tuple[PythonInfo | None, str | None]:
    """An interpreter that meets ``requirement`` and can make venvs, or None and a reason naming how to get one."""
    if explicit is not None:
        info, reason = probe_python(explicit)
        if info is None:
            return None, f"--python {reason}"
        if not requirement.allows(info.version):
            return None, (
                f"--python {explicit} is Python {info.version_text}, but env '{env}' needs {requirement.describe()}"
            )
        if not info.has_venv:
            return None, f"{explicit} has no venv/ensurepip module (on Debian/Ubuntu: apt install python3-venv)"
        return info, None
    rejected: list[str] = []
    for path in candidates(requirement):
        info, reason = probe_python(path)
        if info is None:
            rejected.append(reason or str(path))
            continue
        if not requirement.allows(info.version):
            continue
        if not info.has_venv:
            rejected.append(f"{path} has no venv module")
            continue
        return info, None
    why = f" (tried: {'; '.join(rejected[:3])})" if rejected else ""
    return None, f"env '{env}' needs {requirement.describe()}, which was not found{why}; {how_to_get(requirement, env)}"
