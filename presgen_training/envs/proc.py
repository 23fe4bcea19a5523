"""Run a command and get ``(returncode, stdout, stderr)`` back: a missing executable or a timeout is a result,
not an exception, so callers turn every outcome into a reason."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

EXIT_NOT_FOUND = 127  # the shell's code for "command not found"
EXIT_TIMEOUT = 124  # coreutils timeout(1)'s code


@dataclass(frozen=True)
class ProcResult:
    cmd: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def last_line(self, prefer: str | None = None) -> str:
        """The last non-empty line of stderr (of stdout when stderr is empty), preferring lines starting with
        ``prefer``."""
        return last_line(self.stderr if self.stderr.strip() else self.stdout, prefer)


def last_line(text: str, prefer: str | None = None) -> str:
    lines = [ln.strip() for ln in text.replace("\r", "\n").splitlines() if ln.strip()]
    if prefer:
        preferred = [ln for ln in lines if ln.startswith(prefer)]
        if preferred:
            return preferred[-1]
    return lines[-1] if lines else "(no output)"


def run_cmd(
    cmd: list[str],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout_s: float | None = None,
    log: Path | None = None,
) -> ProcResult:
    """Run ``cmd`` with stdin closed. With ``log`` both streams are appended to that file instead of captured."""
    try:
        if log is not None:
            with log.open("ab") as fh:
                fh.write(("$ " + " ".join(cmd) + "\n").encode())
                fh.flush()
                proc = subprocess.run(
                    cmd,
                    cwd=cwd,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=fh,
                    stderr=subprocess.STDOUT,
                    timeout=timeout_s,
                    check=False,
                )
            tail = _tail(log)
            return ProcResult(tuple(cmd), proc.returncode, tail, "")
        proc = subprocess.run(
            cmd, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout_s, check=False
        )
    except FileNotFoundError:
        return ProcResult(tuple(cmd), EXIT_NOT_FOUND, "", f"executable not found: {cmd[0]}")
    except PermissionError:
        return ProcResult(tuple(cmd), EXIT_NOT_FOUND, "", f"not executable: {cmd[0]}")
    except subprocess.TimeoutExpired:
        return ProcResult(tuple(cmd), EXIT_TIMEOUT, "", f"timed out after {timeout_s:.0f} s: {' '.join(cmd)}")
    return ProcResult(
        tuple(cmd), proc.returncode, proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")
    )


def _tail(path: Path, max_bytes: int = 64 * 1024) -> str:
    with path.open("rb") as fh:
        fh.seek(0, os.SEEK_END)
        size = fh.tell()
        fh.seek(max(0, size - max_bytes))
        return fh.read().decode(errors="replace")
