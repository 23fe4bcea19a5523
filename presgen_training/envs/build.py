"""Build and remove engine venvs atomically, and say what state each one is in.

A build happens in ``$PRESGEN_ENVS_HOME/.<name>.building-XXXX`` beside the final folder: venv, install steps,
health check, then the ready marker is written (temp file + ``os.replace``) and the folder is renamed into
place. An interrupted build leaves at most that temp folder, which nothing mistakes for an env and the next
build removes. One build per env at a time (a file lock).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from presgen_training import __version__
from presgen_training.envs.health import EnvHealth, health_check, rebuild_command
from presgen_training.envs.locate import (
    READY_MARKER,
    env_dir,
    env_python,
    env_var_name,
    envs_home,
    read_marker,
    spec_hash,
)
from presgen_training.envs.machine import unmet_requirements
from presgen_training.envs.proc import run_cmd
from presgen_training.envs.pythons import PythonInfo, find_python
from presgen_training.envs.spec import EnvSpec, SpecError, load_spec, spec_names
from presgen_training.errors import PresgenError

Say = Callable[[str], None]
VENV_TIMEOUT_S = 300.0
STEP_TIMEOUT_S = 3 * 3600.0  # a CUDA torch download or an mmcv source build can take long
BUILDING = ".building-"
OLD = ".old-"
LOG_SUFFIX = ".build.log"


class EnvBuildError(PresgenError):
    pass


def bin_python(folder: Path) -> Path:
    return folder / "bin" / "python"


def leftovers(name: str) -> list[Path]:
    """Temp folders of interrupted builds or swaps of env ``name``."""
    home = envs_home()
    if not home.is_dir():
        return []
    return sorted(
        p for p in home.iterdir() if p.name.startswith(f".{name}{BUILDING}") or p.name.startswith(f".{name}{OLD}")
    )


def is_ready(name: str) -> bool:
    marker = read_marker(name)
    return marker is not None and marker.get("spec_hash") == spec_hash(name) and bin_python(env_dir(name)).exists()


@contextmanager
def _env_lock(name: str, say: Say) -> Iterator[None]:
    home = envs_home()
    home.mkdir(parents=True, exist_ok=True)
    with (home / f".{name}.lock").open("w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(f"[{name}] waiting for another build of this env to finish")
            fcntl.flock(fh, fcntl.LOCK_EX)
        yield


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Let `kill` (SIGTERM) unwind like Ctrl-C so the temp folder is removed and pip is stopped."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@dataclass
class BuildResult:
    name: str
    status: str  # built | skipped
    detail: str
    notes: list[str]


def create_env(name: str, *, python: Path | None = None, if_needed: bool = False, say: Say = print) -> BuildResult:
    spec = load_spec(name)
    with _sigterm_as_interrupt(), _env_lock(name, say):
        if if_needed and is_ready(name):
            say(f"[{name}] ready, spec unchanged: nothing to do ({env_dir(name)})")
            return BuildResult(name, "skipped", "up to date", [])
        _refuse_foreign(env_dir(name))
        unmet = unmet_requirements(spec)
        if unmet is not None:
            say(f"[{name}] note: {unmet}; building anyway because it was asked for by name")
        info, reason = find_python(spec.python, name, python)
        if info is None:
            raise EnvBuildError(reason or f"no Python for env '{name}'")
        return _build(spec, info, say)


def _refuse_foreign(folder: Path) -> None:
    """Never replace or delete a folder that is not a venv we built (PRESGEN_ENVS_HOME may be a shared place)."""
    if folder.exists() and not (folder / "pyvenv.cfg").is_file() and not (folder / READY_MARKER).is_file():
        raise EnvBuildError(f"{folder} exists and is not a presgen env (no pyvenv.cfg); move it away and retry")


def _build(spec: EnvSpec, info: PythonInfo, say: Say) -> BuildResult:
    name, home, final = spec.name, envs_home(), env_dir(spec.name)
    for old in leftovers(name):
        shutil.rmtree(old, ignore_errors=True)
    log = home / f".{name}{LOG_SUFFIX}"
    log.write_text(f"presgen {__version__}: building env '{name}' with Python {info.version_text} ({info.path})\n")
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}{BUILDING}", dir=home))
    total = 2 + len(spec.steps)
    try:
        say(f"[{name}] 1/{total} python -m venv (Python {info.version_text}, {info.path})")
        venv_args = ["--prompt", name] + ([] if spec.uses_pip else ["--without-pip"])
        result = run_cmd([str(info.path), "-m", "venv", *venv_args, str(tmp)], timeout_s=VENV_TIMEOUT_S, log=log)
        if not result.ok:
            raise EnvBuildError(
                f"[{name}] python -m venv failed (exit {result.returncode}): {result.last_line()}; log: {log}"
            )
        python = bin_python(tmp)
        for i, step in enumerate(spec.steps, 2):
            say(f"[{name}] {i}/{total} {step.label}")
            result = run_cmd(step.argv(python), cwd=spec.folder, env=_step_env(), timeout_s=STEP_TIMEOUT_S, log=log)
            if not result.ok:
                raise EnvBuildError(
                    f"[{name}] step {i}/{total} ({step.label}) failed (exit {result.returncode}): "
                    f"{result.last_line(prefer='ERROR:')}; log: {log}"
                )
        say(f"[{name}] {total}/{total} health check")
        health = health_check(spec, python)
        # an engine whose fix is rebuilding this env failed on the env itself (a package); any other reason
        # (weights, an upstream checkout) is about what the env does not install
        env_problems = [
            h.reason for h in health.engines.values() if not h.healthy and rebuild_command(spec.name) in h.fix
        ]
        problem = health.problem or (env_problems[0] if env_problems else None)
        if problem is not None:
            raise EnvBuildError(f"[{name}] the new env failed its health check: {problem}; log: {log}")
        _relocate_scripts(tmp, final)
        _write_marker(tmp, spec, info, health)
        _swap_into_place(tmp, final, name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    check = run_cmd([str(bin_python(final)), "-c", "import sys; print(sys.prefix)"], timeout_s=60)
    if not check.ok or Path(check.stdout.strip()).resolve() != final.resolve():
        shutil.rmtree(final, ignore_errors=True)
        raise EnvBuildError(f"[{name}] the env does not work after moving it into place: {check.last_line()}")
    shutil.move(str(log), str(final / "presgen-build.log"))
    notes = [f"engine '{e}' is not ready yet: {h.reason}" for e, h in health.engines.items() if not h.healthy]
    for note in notes:
        say(f"[{name}] note: {note}")
    say(f"[{name}] ready: {final} (Python {info.version_text}, {time.monotonic() - started:.0f} s)")
    return BuildResult(name, "built", str(final), notes)


def _step_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)  # install into the env only, never read packages from elsewhere
    env.update({"PIP_NO_INPUT": "1", "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONUNBUFFERED": "1"})
    return env


def _relocate_scripts(tmp: Path, final: Path) -> None:
    """Point console scripts and activate files at the final folder (we only use ``python -m``; users may not)."""
    old, new = str(tmp).encode(), str(final).encode()
    for path in (tmp / "bin").iterdir():
        if path.is_symlink() or not path.is_file():
            continue
        data = path.read_bytes()
        if old in data and (data.startswith(b"#!") or path.name.lower().startswith("activate")):
            mode = path.stat().st_mode
            path.write_bytes(data.replace(old, new))
            path.chmod(mode)


def _write_marker(folder: Path, spec: EnvSpec, info: PythonInfo, health: EnvHealth) -> None:
    marker = {
        "name": spec.name,
        "spec_hash": spec_hash(spec.name),
        "python_version": info.version_text,
        "base_python": str(info.base or info.path),
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "presgen_version": __version__,
        "engines": {e: h.reason for e, h in health.engines.items()},
    }
    tmp_marker = folder / (READY_MARKER + ".tmp")
    tmp_marker.write_text(json.dumps(marker, indent=2) + "\n")
    os.replace(tmp_marker, folder / READY_MARKER)


def _swap_into_place(tmp: Path, final: Path, name: str) -> None:
    if final.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{name}{OLD}", dir=final.parent))
        os.rename(final, old / name)
        os.rename(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.rename(tmp, final)


def remove_env(name: str, say: Say = print) -> bool:
    """Delete the built env and leftovers of interrupted builds; False when there was nothing to remove."""
    folder = env_dir(name)
    with _env_lock(name, say):
        stale = leftovers(name)
        _refuse_foreign(folder)
        for path in stale:
            shutil.rmtree(path, ignore_errors=True)
        if folder.exists():
            shutil.rmtree(folder)
            say(f"[{name}] removed {folder}")
            return True
    if stale:
        say(f"[{name}] removed {len(stale)} leftover(s) of interrupted builds")
        return True
    say(f"[{name}] not built: nothing to remove")
    return False


@dataclass(frozen=True)
class EnvState:
    name: str
    status: str  # ready | outdated | not built | override
    detail: str
    spec: EnvSpec


def env_state(name: str) -> EnvState:
    spec = load_spec(name)
    var = env_var_name(name)
    if os.environ.get(var):
        _python, reason = env_python(name)
        return EnvState(name, "override", f"{var}={os.environ[var]}" + (f" ({reason})" if reason else ""), spec)
    marker = read_marker(name)
    stale = leftovers(name)
    interrupted = f"an interrupted build left {stale[0].name} (removed by the next create); " if stale else ""
    if marker is None:
        folder = env_dir(name)
        what = f"{folder} has no ready marker; " if folder.exists() else ""
        return EnvState(name, "not built", f"{what}{interrupted}run: presgen env create {name}", spec)
    if not bin_python(env_dir(name)).exists():
        return EnvState(name, "not built", f"{env_dir(name)} has no bin/python; run: presgen env create {name}", spec)
    if marker.get("spec_hash") != spec_hash(name):
        return EnvState(
            name, "outdated", f"envs/{name}/ changed since it was built; run: presgen env create {name}", spec
        )
    return EnvState(
        name,
        "ready",
        f"{env_dir(name)} (Python {marker.get('python_version')}, built {marker.get('created_at')})",
        spec,
    )


def all_states() -> tuple[list[EnvState], dict[str, str]]:
    """States of every env whose spec loads, and name -> error for those whose spec does not."""
    states: list[EnvState] = []
    invalid: dict[str, str] = {}
    for name in spec_names():
        try:
            states.append(env_state(name))
        except SpecError as exc:
            invalid[name] = str(exc)
    return states, invalid


def buildable_here(spec: EnvSpec) -> tuple[PythonInfo | None, str | None]:
    """The Python a build would use, or None and why this machine cannot build ``spec``."""
    unmet = unmet_requirements(spec)
    if unmet is not None:
        return None, unmet
    return find_python(spec.python, spec.name)
