"""The one way presgen talks to the avatar wrapper: ``<env python> -m musetalk_wrapper[.module] ...``.

Every call runs in its own process group with stdin closed (or, when ``start``ed ahead, given its input once),
PYTHONPATH = the repo root only, and a timeout.
The rules, the same for every call:
- stdout must carry exactly one JSON object (at most MAX_STDOUT_BYTES); it is judged once the process has exited,
  never while a grandchild still holds the pipe;
- stderr is read line by line: JSON ``{"event": ...}`` lines go to the caller's ``on_event``, the rest is kept as
  a tail for error messages;
- the process group is always stopped afterwards (an exited wrapper may leave children), and at once on a
  timeout or an interrupt.
The orchestrator never imports the wrapper: this file and the shared schema files are the whole boundary.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

import jsonschema

from presgen_training import children
from presgen_training.envs.locate import repo_root, wrapper_environ

WRAPPER_MODULE = "musetalk_wrapper"
MAX_STDOUT_BYTES = 1 << 20  # a result object is a few kB; more is a misbehaving engine
STDERR_TAIL_LINES = 20
READER_JOIN_S = 5.0  # seconds to wait for the pipe readers once the group is stopped
CHECK_TIMEOUT_S = 300.0  # --check imports torch/mediapipe and loads a graph: well under a minute on a warm disk

EventCallback = Callable[[dict[str, Any]], None]


class WrapperFailure(Exception):
    """A call whose answer cannot be used. ``code``: the wrapper's error code (NO_FACE, BAD_INPUT,
    ENGINE_UNAVAILABLE, RUNTIME) or ours (TIMEOUT, PROTOCOL, UNAVAILABLE)."""

    def __init__(
        self, code: str, reason: str, exit_code: int | None = None, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.exit_code = exit_code
        self.details = details or {}


@dataclass
class Reply:
    """What a finished call printed: its one JSON object, exit code, stderr tail and wall time."""

    obj: dict[str, Any]
    returncode: int
    stderr_tail: list[str]
    seconds: float


@dataclass(frozen=True)
class Health:
    """An engine's answer to ``--check``: healthy, or why not and the commands that fix it."""

    engine: str
    healthy: bool
    reason: str | None = None
    fix: tuple[str, ...] = ()
    python: str | None = None


@dataclass
class _Pipes:
    stdout: bytearray = field(default_factory=bytearray)
    overflow: bool = False
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=STDERR_TAIL_LINES))
    on_event: EventCallback | None = None  # set by whoever waits for the answer


@lru_cache(maxsize=1)
def result_schema() -> dict[str, Any]:
    """The wrapper's result schema, read as a file."""
    schema: dict[str, Any] = json.loads((repo_root() / WRAPPER_MODULE / "result.schema.json").read_text())
    return schema


def call(
    python: Path,
    args: Sequence[str],
    timeout_s: float | None,
    *,
    module: str = WRAPPER_MODULE,
    on_event: EventCallback | None = None,
    what: str = "the wrapper",
    show_stderr: bool = False,
) -> Reply:
    """Run ``python -m module args`` and return its one JSON object; WrapperFailure when there is none.
    ``show_stderr``: the child's stderr goes straight to ours (its own progress bars); ``timeout_s`` None: no limit
    (a download whose progress the user watches)."""
    running = start(python, args, module=module, what=what, show_stderr=show_stderr, with_input=False)
    return running.finish(None, timeout_s, on_event)


def start(
    python: Path,
    args: Sequence[str],
    *,
    module: str = WRAPPER_MODULE,
    what: str = "the wrapper",
    show_stderr: bool = False,
    with_input: bool = True,
) -> Running:
    """Start ``python -m module args`` now and give it its input later (``Running.finish``): the wrapper loads and
    prepares while the caller makes what it needs (``--segments -``). ``with_input`` False: stdin is closed."""
    argv = [str(python), "-m", module, *args]
    env = {**wrapper_environ(), "PYTHONUNBUFFERED": "1"}
    started = time.monotonic()
    pipes = _Pipes()
    try:
        proc = children.start(
            argv,
            own_group=True,
            stdin=subprocess.PIPE if with_input else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=None if show_stderr else subprocess.PIPE,
            env=env,
            cwd=repo_root(),
        )
    except OSError as exc:
        raise WrapperFailure("UNAVAILABLE", f"cannot start {python}: {exc.strerror or exc}") from None
    assert proc.stdout is not None
    readers = [threading.Thread(target=_read_stdout, args=(proc.stdout, pipes), daemon=True)]
    if proc.stderr is not None:
        readers.append(threading.Thread(target=_read_stderr, args=(proc.stderr, pipes), daemon=True))
    for reader in readers:
        reader.start()
    return Running(proc, pipes, readers, what, started)


@dataclass
class Running:
    """A started wrapper call, waiting for ``finish`` (its input, then its answer) or ``cancel``."""

    proc: subprocess.Popen[bytes]
    pipes: _Pipes
    readers: list[threading.Thread]
    what: str
    started: float

    def finish(self, data: bytes | None, timeout_s: float | None, on_event: EventCallback | None = None) -> Reply:
        """Write ``data`` to its stdin (None: nothing) and close it, then wait at most ``timeout_s`` for the answer.
        Events already printed are not replayed to ``on_event``."""
        proc, pipes, what = self.proc, self.pipes, self.what
        pipes.on_event = on_event
        try:
            if proc.stdin is not None:
                with contextlib.suppress(BrokenPipeError, OSError):  # it already exited: its answer says why
                    if data:
                        proc.stdin.write(data)
                    proc.stdin.close()
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise WrapperFailure(
                "TIMEOUT", f"{what} gave no answer within {timeout_s or 0:.0f} s; stopped it"
            ) from None
        finally:
            self.cancel()  # also when it exited: grandchildren may still hold the pipes
        tail = list(pipes.tail)
        if pipes.overflow:
            raise WrapperFailure(
                "PROTOCOL", f"{what} printed more than {MAX_STDOUT_BYTES >> 20} MB on stdout", proc.returncode
            )
        obj = parse_one_object(pipes.stdout.decode(errors="replace"), proc.returncode, tail, what)
        return Reply(obj, proc.returncode, tail, time.monotonic() - self.started)

    def cancel(self) -> None:
        """Stop its process group (at once if it still runs) and its pipe readers."""
        children.stop(self.proc)
        for reader in self.readers:
            reader.join(timeout=READER_JOIN_S)


def parse_one_object(
    stdout: str, returncode: int | None, stderr_tail: Sequence[str], what: str = "the wrapper"
) -> dict[str, Any]:
    """Exactly one JSON object (surrounding whitespace allowed), or WrapperFailure saying what was wrong."""
    text = stdout.strip()
    if not text:
        last = next((ln for ln in reversed(stderr_tail) if ln.strip()), "")
        hint = f"; last stderr line: {last[:200]}" if last else ""
        raise WrapperFailure("PROTOCOL", f"{what} printed nothing on stdout (exit code {returncode}){hint}", returncode)
    try:
        obj, end = json.JSONDecoder().raw_decode(text)
    except json.JSONDecodeError:
        raise WrapperFailure("PROTOCOL", f"{what} printed junk instead of JSON: {text[:80]!r}", returncode) from None
    if text[end:].strip():
        raise WrapperFailure(
            "PROTOCOL", f"{what} printed more than one JSON object: {text[end : end + 60].strip()!r}", returncode
        )
    if not isinstance(obj, dict):
        raise WrapperFailure("PROTOCOL", f"{what} printed a JSON {type(obj).__name__}, not an object", returncode)
    return obj


def render(
    python: Path, args: Sequence[str], timeout_s: float, engine: str, on_event: EventCallback | None = None
) -> Reply:
    """A render call: the reply must be a schema-valid success object and the exit code 0."""
    return finish_render(start_render(python, args, engine, with_input=False), None, timeout_s, on_event)


def start_render(python: Path, args: Sequence[str], engine: str, with_input: bool = True) -> Running:
    """A render call started now, its input (``with_input``) and answer left to ``finish_render``."""
    return start(python, args, what=_engine_label(engine), with_input=with_input)


def finish_render(
    running: Running, data: bytes | None, timeout_s: float, on_event: EventCallback | None = None
) -> Reply:
    """A started render call given its input ``data``: the reply must be a schema-valid success object and the
    exit code 0."""
    reply = running.finish(data, timeout_s, on_event)
    judge_render(reply.obj, reply.returncode, running.what)
    return reply


def _engine_label(engine: str) -> str:
    return f"engine '{engine}'"


def judge_render(obj: dict[str, Any], returncode: int | None, what: str) -> dict[str, Any]:
    """A render's answer, accepted only when it is a schema-valid success and the exit code is 0."""
    try:
        jsonschema.validate(obj, result_schema())
    except jsonschema.ValidationError as exc:
        message = " ".join(exc.message.split())
        raise WrapperFailure("PROTOCOL", f"{what} result breaks the contract: {message[:160]}", returncode) from None
    if "healthy" in obj:
        raise WrapperFailure("PROTOCOL", f"{what} answered a health check instead of rendering", returncode)
    if not obj["success"]:
        err = obj["error"]
        message = " ".join(str(err["message"]).split()) or "(no message)"
        raise WrapperFailure(err["code"], message[:400], returncode, err.get("details"))
    if returncode != 0:
        raise WrapperFailure("PROTOCOL", f"{what} reported success but exited with code {returncode}", returncode)
    return obj


def check(python: Path, engine: str, extra_args: Sequence[str] = (), timeout_s: float = CHECK_TIMEOUT_S) -> Health:
    """``--check``: whether ``engine`` can run under ``python``, without rendering. Never raises: a wrapper that
    does not start or answers junk is an unhealthy engine with that reason."""
    args = ["--engine", engine, "--check", "--json-output", *extra_args]
    try:
        obj = call(python, args, timeout_s, what=f"the {engine} health check").obj
    except WrapperFailure as exc:
        return Health(engine, False, exc.reason, (), str(python))
    if not isinstance(obj.get("healthy"), bool):
        error = obj.get("error")
        error = error if isinstance(error, dict) else {}
        return Health(engine, False, str(error.get("message") or "the health check gave no verdict"), (), str(python))
    fix = obj.get("fix")
    fixes = tuple(str(f) for f in fix) if isinstance(fix, list) else ()
    reason = None if obj["healthy"] else str(obj.get("reason") or "unhealthy")
    return Health(engine, obj["healthy"], reason, fixes, str(obj.get("python") or python))


def _read_stdout(stream: IO[bytes], pipes: _Pipes) -> None:
    while chunk := stream.read(65536):
        if len(pipes.stdout) + len(chunk) > MAX_STDOUT_BYTES:
            pipes.overflow = True
            continue  # keep draining so the writer never blocks
        pipes.stdout += chunk


def _read_stderr(stream: IO[bytes], pipes: _Pipes) -> None:
    for raw in stream:
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
                pipes.tail.append(str(event.get("message", "")))
            if (on_event := pipes.on_event) is not None:
                on_event(event)
        else:
            pipes.tail.append(line)
