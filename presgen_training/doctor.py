"""``presgen doctor``'s checks: what works on this machine, and the command that fixes what does not.

Each check returns Findings: ``ok``, ``problem`` (counts against health; carries its fix) or ``info``
(worth knowing: no GPU, an optional engine that is not set up, with the commands that would set it up).
Only what stops the default render (``--avatar auto`` with the default voice) is a problem.
"""

from __future__ import annotations

import re
import shutil
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from presgen_training import engines, wrapper_client
from presgen_training.config import UserConfig
from presgen_training.engines import DEFAULT_ENGINE_ENVS
from presgen_training.envs.build import buildable_here, env_state, is_ready
from presgen_training.envs.health import health_check
from presgen_training.envs.locate import envs_home, repo_root
from presgen_training.envs.machine import nvidia_gpus
from presgen_training.envs.proc import run_cmd
from presgen_training.envs.selection import engine_python
from presgen_training.envs.spec import SpecError, load_spec, spec_names

OK, PROBLEM, INFO = "ok", "problem", "info"
MIN_FREE_DISK_GIB = 5.0  # a CPU torch env is ~1.5 GiB, a CUDA one ~6 GiB; renders need a few hundred MiB
FFMPEG_TIMEOUT_S = 30.0
WEIGHTS_TIMEOUT_S = 120.0
_FIX = re.compile(r"(?:^|[;:(,]\s*)(?:run:?|fix:?)\s+(.+?)\)?\s*$")


@dataclass(frozen=True)
class Finding:
    area: str
    status: str  # ok | problem | info
    message: str
    fixes: tuple[str, ...] = ()  # commands that fix a problem, in order


def problem(area: str, message: str, *fixes: str | None) -> Finding:
    return Finding(area, PROBLEM, message, tuple(f for f in fixes if f))


def note(area: str, message: str, *fixes: str | None) -> Finding:
    return Finding(area, INFO, message, tuple(f for f in fixes if f))


def fix_of(reason: str) -> str | None:
    """The command at the end of a voice engine's reason ("...; run: .venv/bin/pip install ...")."""
    m = _FIX.search(reason)
    return m[1].strip() if m else None


def orchestrator_reinstall() -> str:
    return f"{sys.executable} -m pip install -e {repo_root()}"


def check_ffmpeg() -> list[Finding]:
    try:
        import imageio_ffmpeg

        exe = imageio_ffmpeg.get_ffmpeg_exe()
    except Exception as exc:  # ImportError, or RuntimeError when the bundled binary is gone
        return [problem("ffmpeg", f"no ffmpeg: {exc}", orchestrator_reinstall())]
    result = run_cmd([exe, "-hide_banner", "-encoders"], timeout_s=FFMPEG_TIMEOUT_S)
    if not result.ok:
        return [problem("ffmpeg", f"{exe} does not run: {result.last_line()}", orchestrator_reinstall())]
    missing = [enc for enc in ("libx264", "aac") if not re.search(rf"^\s*\S+\s+{enc}\s", result.stdout, re.M)]
    if missing:
        return [problem("ffmpeg", f"{exe} lacks encoder(s) {', '.join(missing)}", orchestrator_reinstall())]
    return [Finding("ffmpeg", OK, f"{exe} (libx264, aac)")]


def check_engine_envs(config: UserConfig) -> list[Finding]:
    findings: list[Finding] = []
    used: set[str] = set()
    for row in engines.ENGINES:
        if row.env is None:
            continue
        python, reason, env = engine_python(row.name, None, config)
        used.add(env)
        area = f"engine {row.name} (env {env})"
        report = problem if row.required else note
        chosen_by_user = config.engine_envs.get(row.name) != DEFAULT_ENGINE_ENVS.get(row.name)
        if python is None:
            findings.append(_unavailable(row, env, area, reason or "unavailable", chosen_by_user))
            continue
        try:
            spec = load_spec(env)
        except SpecError as exc:
            findings.append(report(area, str(exc)))
            continue
        health = health_check(spec, python)
        if health.problem is not None:
            findings.append(report(area, health.problem, *health.fix))
            continue
        verdict = health.engines.get(row.name)
        if verdict is None or verdict.healthy:
            findings.append(Finding(area, OK, f"{python} (Python {health.python_version})"))
        else:
            prefix = "" if row.required else "optional, not set up: "
            findings.append(report(area, f"{prefix}{verdict.reason}", *verdict.fix))
    for name in spec_names():
        try:
            load_spec(name)
        except SpecError as exc:
            findings.append(problem(f"env {name}", str(exc)))
            continue
        if name not in used and is_ready(name):
            findings.append(
                Finding(
                    f"env {name}",
                    INFO,
                    f"built but no engine uses it ({env_state(name).detail}); "
                    f"choose it with --env {name} or the config's [engines] section",
                )
            )
    return findings


def _unavailable(row: engines.EngineRow, env: str, area: str, reason: str, chosen_by_user: bool) -> Finding:
    try:
        spec = load_spec(env)
    except SpecError:
        return problem(area, reason) if row.required else note(area, reason)
    _, cannot = buildable_here(spec)
    if cannot is not None:
        if chosen_by_user:
            return problem(area, f"{cannot}; choose an env this machine can build in the config's [engines] section")
        return Finding(area, INFO, f"cannot be built on this machine: {cannot}")
    if not row.required:
        return note(area, f"optional, not set up: {reason}", f"presgen env create {env}")
    return problem(area, reason, f"presgen env create {env}")


def check_voices() -> list[Finding]:
    try:
        from presgen_training.narration import DEFAULT_ENGINE, engine_status, list_voices

        voices = list_voices()
        status = engine_status()
    except Exception as exc:  # ImportError while narration is missing, or a voice engine crashing
        return [problem("voices", f"cannot list voices: {type(exc).__name__}: {exc}", orchestrator_reinstall())]
    findings: list[Finding] = []
    for engine, names in voices.items():
        if names:
            shown = ", ".join(names[:3]) + (f", ... ({len(names)})" if len(names) > 3 else "")
            findings.append(Finding(f"voices {engine}", OK, shown))
            continue
        why = status.get(engine) or "no voices installed"
        if engine == DEFAULT_ENGINE:
            findings.append(problem(f"voices {engine}", why, fix_of(why)))
        else:
            findings.append(Finding(f"voices {engine}", INFO, why))
    if not any(voices.values()):
        findings.append(problem("voices", "no voice engine can speak on this machine", orchestrator_reinstall()))
    return findings


def check_weights(models_dir: Path | None = None) -> list[Finding]:
    """The wrapper's weights report: {"models_dir", "complete", "files", "commands"}. The weights only serve the
    optional musetalk engines, so missing ones are a note with the commands that fetch them."""
    extra = ["--models-dir", str(models_dir.resolve())] if models_dir is not None else []
    try:
        data = wrapper_client.call(
            Path(sys.executable),
            ["check", "--json", *extra],
            WEIGHTS_TIMEOUT_S,
            module="musetalk_wrapper.weights",
            what="the weights check",
        ).obj
        complete, files = bool(data["complete"]), list(data.get("files", []))
    except (wrapper_client.WrapperFailure, KeyError, TypeError) as exc:
        return [note("weights", f"the weights check does not run: {exc}")]
    where = data.get("models_dir", "")
    if complete:
        return [Finding("weights", OK, f"MuseTalk weights complete in {where}")]
    bad = [f for f in files if f.get("required") and f.get("status") != "ok"]
    names = ", ".join(f"{f.get('path')} ({f.get('problem') or f.get('status')})" for f in bad[:3])
    more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
    return [
        note(
            "weights",
            f"optional: MuseTalk weights in {where}: {names}{more} (only the musetalk engine needs them)",
            *[str(c) for c in data.get("commands", [])],
        )
    ]


def check_deck_tools() -> list[Finding]:
    """LibreOffice and poppler draw slide decks; optional (only ``--deck`` and scripts with ``deck:`` need them)."""
    from presgen_training.deck.tools import ALL_TOOLS, INSTALL_COMMAND, find

    lacking = [t for t in ALL_TOOLS if find(t) is None]
    if lacking:
        names = ", ".join(dict.fromkeys(f"{t.name} ({t.package})" for t in lacking))
        return [Finding("slide decks", INFO, f"not available: {names} missing; install with: {INSTALL_COMMAND}")]
    return [Finding("slide decks", OK, ", ".join(f"{t.name} {find(t)}" for t in ALL_TOOLS[:2]))]


def check_disk() -> list[Finding]:
    path = envs_home()
    while not path.exists() and path != path.parent:
        path = path.parent
    free_gib = shutil.disk_usage(path).free / 2**30
    if free_gib < MIN_FREE_DISK_GIB:
        return [
            problem(
                "disk",
                f"{free_gib:.1f} GiB free at {path}; engine envs and renders need "
                f"{MIN_FREE_DISK_GIB:.0f} GiB: free some space there",
            )
        ]
    return [Finding("disk", OK, f"{free_gib:.0f} GiB free at {path}")]


def check_gpu() -> list[Finding]:
    gpus, why = nvidia_gpus()
    if gpus:
        return [Finding("gpu", INFO, "; ".join(gpus))]
    needing = []
    for name in spec_names():
        try:
            if load_spec(name).requires.get("gpu"):
                needing.append(name)
        except SpecError:
            continue
    also = f"; {', '.join(needing)} need{'s' if len(needing) == 1 else ''} one" if needing else ""
    return [Finding("gpu", INFO, f"none ({why}): engines run on the CPU{also}")]


Check = Callable[[], list[Finding]]


def default_checks(config: UserConfig) -> list[Check]:
    return [
        check_ffmpeg,
        lambda: check_engine_envs(config),
        check_voices,
        lambda: check_weights(config.models_dir),
        check_deck_tools,
        check_disk,
        check_gpu,
    ]


@dataclass
class Report:
    findings: list[Finding]

    @property
    def problems(self) -> list[Finding]:
        return [f for f in self.findings if f.status == PROBLEM]

    @property
    def healthy(self) -> bool:
        return not self.problems

    def fixes(self) -> list[str]:
        seen: list[str] = []
        for f in self.problems:
            seen += [fix for fix in f.fixes if fix not in seen]
        return seen

    def as_dict(self) -> dict[str, object]:
        return {"healthy": self.healthy, "findings": [asdict(f) for f in self.findings], "fixes": self.fixes()}


def diagnose(checks: list[Check]) -> Report:
    findings: list[Finding] = []
    for check in checks:
        findings += check()
    return Report(findings)
