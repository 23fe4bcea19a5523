"""Run one avatar engine as ``<env python> -m musetalk_wrapper ... --json-output`` and judge what it returns.

The engine is trusted for nothing: its stdout must be exactly one JSON object valid against the shared schema,
and the video it names must exist, decode to the end and last as long as the narration (within 0.1 s).
Anything else is an ``EngineFailure`` with a one-line reason, and the caller falls back.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema

from presgen_training.envs.locate import repo_root, wrapper_environ
from presgen_training.errors import MediaError
from presgen_training.ffmpeg import OUTPUT_FPS, decodes_to_end, probe

DURATION_TOLERANCE_S = 0.1  # engine video vs narration audio
FPS_TOLERANCE = 0.01
STDERR_TAIL_LINES = 20
KILL_GRACE_S = 3.0  # between SIGTERM and SIGKILL

ProgressCallback = Callable[[dict[str, Any]], None]


class EngineFailure(Exception):
    """An engine run that cannot be used; ``code`` is the wrapper's error code or one of ours."""

    def __init__(self, code: str, reason: str, exit_code: int | None = None) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.exit_code = exit_code


@dataclass(frozen=True)
class EngineJob:
    engine: str
    python: Path
    audio: Path
    source: Path
    source_is_image: bool
    output: Path
    timeout_s: float
    timings: Path | None = None
    extra_args: tuple[str, ...] = ()


@dataclass
class EngineRun:
    result: dict[str, Any]
    seconds: float
    stderr_tail: list[str] = field(default_factory=list)


@lru_cache(maxsize=1)
def result_schema() -> dict[str, Any]:
    """The wrapper's result schema, read as a file (the orchestrator never imports the wrapper)."""
    return json.loads((repo_root() / "musetalk_wrapper" / "result.schema.json").read_text())


def build_argv(job: EngineJob) -> list[str]:
    argv = [str(job.python), "-m", "musetalk_wrapper", "--engine", job.engine, "--audio", str(job.audio),
            "--image" if job.source_is_image else "--video", str(job.source),
            "--output", str(job.output), "--json-output"]
    if job.timings is not None:
        argv += ["--timings", str(job.timings)]
    return argv + list(job.extra_args)


def run_engine(job: EngineJob, expected_duration_s: float, on_event: ProgressCallback | None = None) -> EngineRun:
    """Run the wrapper and return its validated success object, or raise EngineFailure."""
    env = {**wrapper_environ(), "PYTHONUNBUFFERED": "1"}
    started = time.monotonic()
    try:
        proc = subprocess.Popen(build_argv(job), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env, cwd=repo_root(), start_new_session=True)
    except OSError as exc:
        raise EngineFailure("ENGINE_UNAVAILABLE", f"cannot start {job.python}: {exc.strerror or exc}") from exc
    tail: deque[str] = deque(maxlen=STDERR_TAIL_LINES)
    reader = threading.Thread(target=_read_stderr, args=(proc, tail, on_event), daemon=True)
    reader.start()
    stdout_chunks: list[bytes] = []
    out_reader = threading.Thread(target=lambda: stdout_chunks.append(proc.stdout.read()), daemon=True)  # type: ignore[union-attr]
    out_reader.start()
    try:
        proc.wait(timeout=job.timeout_s)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise EngineFailure("TIMEOUT",
                            f"engine '{job.engine}' gave no result within {job.timeout_s:.0f} s; stopped it") from None
    finally:
        out_reader.join(timeout=5)
        reader.join(timeout=5)
    seconds = time.monotonic() - started
    stdout = b"".join(stdout_chunks).decode(errors="replace")
    result = parse_result(stdout, proc.returncode, list(tail))
    if not result["success"]:
        err = result["error"]
        raise EngineFailure(err["code"], err["message"], proc.returncode)
    if proc.returncode != 0:
        raise EngineFailure("PROTOCOL", f"engine reported success but exited with code {proc.returncode}",
                            proc.returncode)
    check_video(Path(result["output_path"]), job.output, expected_duration_s)
    return EngineRun(result=result, seconds=seconds, stderr_tail=list(tail))


def parse_result(stdout: str, returncode: int | None, stderr_tail: list[str]) -> dict[str, Any]:
    """Exactly one JSON object valid against the schema, or EngineFailure saying what was wrong."""
    text = stdout.strip()
    if not text:
        last = next((ln for ln in reversed(stderr_tail) if ln.strip()), "")
        hint = f"; last stderr line: {last[:200]}" if last else ""
        raise EngineFailure("PROTOCOL", f"engine printed nothing on stdout (exit code {returncode}){hint}", returncode)
    try:
        obj, end = json.JSONDecoder().raw_decode(text)
    except json.JSONDecodeError:
        raise EngineFailure("PROTOCOL", f"engine printed junk instead of JSON: {text[:80]!r}", returncode) from None
    if text[end:].strip():
        raise EngineFailure("PROTOCOL", f"engine printed more than one JSON object: {text[end:end + 60].strip()!r}",
                            returncode)
    try:
        jsonschema.validate(obj, result_schema())
    except jsonschema.ValidationError as exc:
        raise EngineFailure("PROTOCOL", f"engine result breaks the contract: {exc.message[:160]}", returncode) from None
    if "healthy" in obj:
        raise EngineFailure("PROTOCOL", "engine answered a health check instead of rendering", returncode)
    return obj


def check_video(reported: Path, requested: Path, expected_duration_s: float) -> None:
    """The file the engine names must be the one we asked for, decode, and match the narration's length."""
    if reported.resolve() != requested.resolve():
        raise EngineFailure("BAD_OUTPUT", f"engine wrote {reported} instead of the requested {requested}")
    if not requested.is_file() or requested.stat().st_size == 0:
        raise EngineFailure("BAD_OUTPUT", f"engine reported success but {requested.name} does not exist or is empty")
    try:
        info = probe(requested)
    except MediaError as exc:
        raise EngineFailure("BAD_OUTPUT", f"engine video does not decode: {exc}") from None
    if not info.has_video or info.duration_s is None:
        raise EngineFailure("BAD_OUTPUT", f"engine output {requested.name} has no video stream")
    if abs(info.duration_s - expected_duration_s) > DURATION_TOLERANCE_S:
        raise EngineFailure("BAD_OUTPUT", f"engine video lasts {info.duration_s:.2f} s but the narration lasts "
                                          f"{expected_duration_s:.2f} s")
    if info.fps is not None and abs(info.fps - OUTPUT_FPS) > FPS_TOLERANCE:
        raise EngineFailure("BAD_OUTPUT", f"engine video is {info.fps} fps, expected {OUTPUT_FPS}")
    if not decodes_to_end(requested):
        raise EngineFailure("BAD_OUTPUT", f"engine video {requested.name} is truncated or corrupt at the end")


def _read_stderr(proc: subprocess.Popen[bytes], tail: deque[str], on_event: ProgressCallback | None) -> None:
    assert proc.stderr is not None
    for raw in proc.stderr:
        line = raw.decode(errors="replace").rstrip()
        if not line:
            continue
        event = None
        if line.startswith("{"):
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                event = None
        if isinstance(event, dict) and "event" in event:
            if event["event"] == "log":
                tail.append(str(event.get("message", "")))
            if on_event is not None:
                on_event(event)
        else:
            tail.append(line)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Stop the engine and everything it started (it runs in its own session)."""
    for sig, wait_s in ((signal.SIGTERM, KILL_GRACE_S), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait_s)
            return
        except subprocess.TimeoutExpired:
            continue
