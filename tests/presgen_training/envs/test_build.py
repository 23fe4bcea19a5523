"""Build mechanics on tiny specs (no packages to download): atomic create, markers, --if-needed, failures that
leave nothing ready, --all skipping what this machine cannot build, remove."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import run_presgen
from presgen_training.envs.build import EnvBuildError, create_env, env_state, leftovers, remove_env
from presgen_training.envs.locate import READY_MARKER, env_dir, env_python, read_marker

HERE = f"{sys.version_info[0]}.{sys.version_info[1]}"
REPO = Path(__file__).resolve().parents[3]


def presgen(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_presgen(*args, env=env, timeout=300)


def tiny(make_spec, name: str = "tiny", **extra: object) -> Path:
    spec = {"description": "a test env", "python": HERE, "imports": {"json": "json"}, **extra}
    return make_spec(name, json.dumps(spec))


def test_create_writes_a_ready_env_atomically(make_spec, envs_home: Path) -> None:
    tiny(make_spec)
    lines: list[str] = []
    result = create_env("tiny", say=lines.append)
    assert result.status == "built"
    final = env_dir("tiny")
    marker = read_marker("tiny")
    assert marker is not None and marker["name"] == "tiny" and marker["python_version"].startswith(HERE)
    assert set(marker) >= {"spec_hash", "python_version", "created_at", "base_python"}
    python, reason = env_python("tiny")
    assert reason is None and python == final / "bin" / "python"
    prefix = subprocess.run([str(python), "-c", "import sys; print(sys.prefix)"], capture_output=True, text=True)
    assert Path(prefix.stdout.strip()) == final
    # the venv was built elsewhere and moved: its scripts name the final folder, not the temp one
    assert str(final) in (final / "bin" / "activate").read_text()
    assert ".building-" not in (final / "bin" / "activate").read_text()
    assert leftovers("tiny") == [] and not list(envs_home.glob(".tiny.build*"))
    assert lines[0].startswith("[tiny] 1/2 python -m venv") and lines[1] == "[tiny] 2/2 health check"
    assert lines[-1].startswith(f"[tiny] ready: {final}")
    assert env_state("tiny").status == "ready"


def test_if_needed_skips_until_the_spec_changes(make_spec) -> None:
    folder = tiny(make_spec)
    create_env("tiny")
    created = read_marker("tiny")["created_at"]  # type: ignore[index]
    assert create_env("tiny", if_needed=True).status == "skipped"
    (folder / "env.json").write_text(json.dumps({"python": HERE, "imports": {"json": "json", "csv": "csv"}}))
    assert env_state("tiny").status == "outdated"
    python, reason = env_python("tiny")
    assert python is None and "older spec" in (reason or "")
    assert create_env("tiny", if_needed=True).status == "built"
    assert env_state("tiny").status == "ready"
    assert read_marker("tiny")["created_at"] >= created  # type: ignore[index]


def test_failing_step_leaves_no_env_and_names_the_step(make_spec, envs_home: Path) -> None:
    tiny(
        make_spec,
        steps=[
            {"python": ["-c", "import sys; print('compiler exploded'); sys.exit(3)"], "label": "build the extension"}
        ],
    )
    with pytest.raises(EnvBuildError) as err:
        create_env("tiny")
    message = str(err.value)
    assert "step 2/3 (build the extension) failed (exit 3): compiler exploded" in message
    log = envs_home / ".tiny.build.log"
    assert f"log: {log}" in message and "compiler exploded" in log.read_text()
    assert not env_dir("tiny").exists() and leftovers("tiny") == []
    assert env_python("tiny")[0] is None


def test_failing_health_check_names_the_package(make_spec) -> None:
    tiny(make_spec, imports={"json": "json", "surely_not_installed_xyz": "surely-not-installed"})
    with pytest.raises(
        EnvBuildError,
        match=r"package 'surely-not-installed' is missing "
        r"\(import surely_not_installed_xyz failed\): run presgen env create tiny",
    ):
        create_env("tiny")
    assert not env_dir("tiny").exists() and env_state("tiny").status == "not built"


def test_failed_rebuild_keeps_the_working_env(make_spec) -> None:
    folder = tiny(make_spec)
    create_env("tiny")
    (folder / "env.json").write_text(json.dumps({"python": HERE, "steps": [{"python": ["-c", "raise SystemExit(1)"]}]}))
    with pytest.raises(EnvBuildError):
        create_env("tiny")
    assert (env_dir("tiny") / READY_MARKER).is_file()  # the old env is still there, reported as outdated
    assert env_state("tiny").status == "outdated"


def test_all_builds_what_it_can_and_says_what_it_skipped(make_spec, envs_home: Path) -> None:
    tiny(make_spec, name="a-tiny")
    make_spec("b-ancient", json.dumps({"python": "2.6"}))
    proc = presgen("env", "create", "--all", "--if-needed")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout
    assert "[a-tiny] ready:" in out
    assert "[b-ancient] skipped: cannot be built on this machine: env 'b-ancient' needs Python 2.6" in out
    assert "ready: a-tiny (built); skipped (cannot be built here): b-ancient" in out.splitlines()[-1]
    again = presgen("env", "create", "--all", "--if-needed")
    assert again.returncode == 0 and "a-tiny (up to date)" in again.stdout


def test_all_exits_1_when_a_buildable_env_fails(make_spec) -> None:
    tiny(make_spec, name="broken", steps=[{"python": ["-c", "raise SystemExit('no wheel for this platform')"]}])
    proc = presgen("env", "create", "--all")
    assert proc.returncode == 1
    assert "no wheel for this platform" in proc.stderr and "FAILED: broken" in proc.stdout


def test_gpu_env_is_skipped_by_all_without_a_gpu(make_spec, tmp_path: Path) -> None:
    make_spec("cuda-thing", json.dumps({"python": HERE, "requires": {"gpu": "nvidia"}}))
    proc = presgen("env", "create", "--all", env={"PATH": str(tmp_path / "empty-bin")})  # no nvidia-smi
    assert proc.returncode == 0, proc.stderr
    assert (
        "[cuda-thing] skipped: cannot be built on this machine: env 'cuda-thing' needs an NVIDIA GPU "
        "(nvidia-smi not found)" in proc.stdout
    )


def test_create_by_name_reports_an_unmet_python(make_spec) -> None:
    make_spec("ancient", json.dumps({"python": "2.6"}))
    proc = presgen("env", "create", "ancient")
    assert proc.returncode == 1
    assert proc.stderr.startswith("presgen: error: env 'ancient' needs Python 2.6, which was not found")
    assert len(proc.stderr.strip().splitlines()) == 1


def test_remove_and_list(make_spec, envs_home: Path) -> None:
    tiny(make_spec)
    create_env("tiny")
    listing = presgen("env", "list")
    assert listing.returncode == 0
    assert listing.stdout.splitlines()[1].split()[:2] == ["tiny", "ready"]
    assert remove_env("tiny") is True
    assert not env_dir("tiny").exists() and env_state("tiny").status == "not built"
    assert remove_env("tiny") is False
    listing = presgen("env", "list")
    assert listing.stdout.splitlines()[1].split()[:3] == ["tiny", "not", "built"]


def test_unknown_env_is_one_line(make_spec) -> None:
    tiny(make_spec)
    proc = presgen("env", "check", "nope")
    assert proc.returncode == 1
    assert len(proc.stderr.strip().splitlines()) == 1
    assert proc.stderr.startswith("presgen: error: unknown env 'nope'")
    assert proc.stderr.strip().endswith("known envs: tiny")


def test_sigterm_during_a_step_cleans_up(make_spec, envs_home: Path) -> None:
    tiny(make_spec, steps=[{"python": ["-c", "import time; time.sleep(120)"], "label": "slow step"}])
    proc = subprocess.Popen(
        [sys.executable, "-m", "presgen_training", "env", "create", "tiny"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=dict(os.environ),
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if "slow step" in line:
            break
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=30) == 130
    assert "interrupted" in (proc.stderr.read() if proc.stderr else "")
    assert not env_dir("tiny").exists() and leftovers("tiny") == []


def test_a_foreign_folder_is_never_replaced(make_spec) -> None:
    tiny(make_spec)
    folder = env_dir("tiny")
    folder.mkdir(parents=True)
    (folder / "notes.txt").write_text("mine\n")
    with pytest.raises(EnvBuildError, match="is not a presgen env"):
        create_env("tiny")
    with pytest.raises(EnvBuildError, match="is not a presgen env"):
        remove_env("tiny")
    assert (folder / "notes.txt").read_text() == "mine\n"


def test_an_invalid_spec_does_not_hide_the_others(make_spec) -> None:
    tiny(make_spec, name="good")
    make_spec("typo", json.dumps({"python": HERE, "import": {}}))
    listing = presgen("env", "list")
    assert listing.returncode == 1
    assert "good" in listing.stdout and "typo  invalid" in listing.stdout
    assert "unknown key(s) ['import']" in listing.stdout
    proc = presgen("env", "create", "--all")
    assert proc.returncode == 1 and "[good] ready:" in proc.stdout and "FAILED: typo" in proc.stdout


def test_check_reports_a_wrong_python(make_spec, monkeypatch: pytest.MonkeyPatch) -> None:
    make_spec("old", json.dumps({"python": "3.6", "imports": {"json": "json"}}))
    monkeypatch.setenv("PRESGEN_ENV_OLD", sys.executable)
    proc = presgen("env", "check", "old")
    assert proc.returncode == 1
    version = ".".join(map(str, sys.version_info[:3]))
    assert f"wrong Python: {sys.executable} is Python {version}, but env 'old' needs Python 3.6" in proc.stdout


def test_import_error_text_is_reported(make_spec) -> None:
    plant = (
        "import pathlib, sysconfig; pathlib.Path(sysconfig.get_paths()['purelib'], 'brokenmod.py')"
        ".write_text('raise ImportError(\"libfoo.so.1: cannot open shared object file\")')"
    )
    tiny(make_spec, imports={"brokenmod": "broken-package"}, steps=[{"python": ["-c", plant]}])
    with pytest.raises(EnvBuildError) as err:
        create_env("tiny")
    assert (
        "package 'broken-package' does not import (import brokenmod failed: ImportError: libfoo.so.1: cannot "
        "open shared object file): run presgen env create tiny"
    ) in str(err.value)
