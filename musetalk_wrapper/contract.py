"""The wrapper's side of the JSON contract: error codes, exit codes and result objects."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from musetalk_wrapper import SCHEMA_VERSION


class ErrorCode(enum.StrEnum):
    NO_FACE = "NO_FACE"
    BAD_INPUT = "BAD_INPUT"
    ENGINE_UNAVAILABLE = "ENGINE_UNAVAILABLE"
    RUNTIME = "RUNTIME"


# Distinct exit codes so shell callers need not parse JSON.
EXIT_OK = 0
EXIT_USAGE = 2  # argparse's own code for a bad command line
EXIT_BY_CODE: dict[ErrorCode, int] = {
    ErrorCode.BAD_INPUT: 3,
    ErrorCode.NO_FACE: 4,
    ErrorCode.ENGINE_UNAVAILABLE: 5,
    ErrorCode.RUNTIME: 6,
}
EXIT_INTERRUPTED = 130


class EngineError(Exception):
    """A known failure, reported as ``{"success": false, "error": {...}}``."""

    def __init__(self, code: ErrorCode, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}


def rebuild_env_command(env: str) -> str:
    return f"presgen env create {env} --force"


def unavailable_missing_package(package: str, env: str, import_name: str | None = None) -> EngineError:
    """The error for a dependency that is not installed, naming the command that installs it."""
    return EngineError(
        ErrorCode.ENGINE_UNAVAILABLE,
        f"python package '{package}' is not installed in this interpreter"
        f" (import {import_name or package} failed); run: {rebuild_env_command(env)}",
        {"missing_package": package, "env": env, "fix": [rebuild_env_command(env)]},
    )


@dataclass(frozen=True)
class Unhealthy:
    """Why an engine cannot run here, and the commands that fix it (what ``--check`` reports as ``fix``)."""

    reason: str
    fix: tuple[str, ...] = ()


@dataclass
class EngineOutput:
    """What an engine reports after writing its video."""

    frames: int
    fps: float
    duration_s: float
    message: str = ""
    timings_s: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)


def success_object(engine: str, output_path: str, out: EngineOutput) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "success": True,
        "output_path": output_path,
        "engine": engine,
        "message": out.message or f"rendered {out.frames} frames with {engine}",
        "duration_s": round(out.duration_s, 4),
        "fps": out.fps,
        "frames": out.frames,
        "timings_s": {k: round(v, 4) for k, v in out.timings_s.items()},
        "warnings": list(out.warnings),
        "schema_version": SCHEMA_VERSION,
    }
    if out.details:
        obj["details"] = out.details
    return obj


def batch_object(engine: str, results: list[dict[str, Any]], seconds: float) -> dict[str, Any]:
    """The result of a --segments run: each clip's success object (without its schema_version)."""
    segments = [{k: v for k, v in r.items() if k != "schema_version"} for r in results]
    frames = sum(r["frames"] for r in results)
    return {
        "success": True,
        "engine": engine,
        "message": f"rendered {len(results)} clips ({frames} frames) with {engine}",
        "segments": segments,
        "timings_s": {"total": round(seconds, 4)},
        "warnings": sorted({w for r in results for w in r["warnings"]}),
        "schema_version": SCHEMA_VERSION,
    }


def failure_object(engine: str | None, err: EngineError, warnings: list[str] | None = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": err.code.value, "message": err.message}
    if err.details:
        error["details"] = err.details
    obj: dict[str, Any] = {"success": False, "error": error, "schema_version": SCHEMA_VERSION}
    if engine:
        obj["engine"] = engine
    if warnings:
        obj["warnings"] = list(warnings)
    return obj
