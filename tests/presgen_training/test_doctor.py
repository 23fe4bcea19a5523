"""presgen doctor: a short list of fixes on a machine with no envs; exit 0 only when all is healthy."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from presgen_training import doctor
from presgen_training.commands import doctor as doctor_command
from presgen_training.config import UserConfig

REPO = Path(__file__).resolve().parents[2]


def run_doctor(envs_home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PRESGEN_ENV_") and k not in ("PRESGEN_ROOT", "PRESGEN_CONFIG")
    }
    env["PRESGEN_ENVS_HOME"] = str(envs_home)
    return subprocess.run(
        [sys.executable, "-m", "presgen_training", "doctor", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
        env=env,
    )


@pytest.fixture(autouse=True)
def _no_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for key in list(os.environ):
        if key.startswith("PRESGEN_ENV_") or key in ("PRESGEN_ROOT", "PRESGEN_CONFIG"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("PRESGEN_ENVS_HOME", str(tmp_path / "no-envs"))


def test_no_envs_gives_a_short_correct_list_of_fixes(tmp_path: Path) -> None:
    proc = run_doctor(tmp_path / "empty")
    assert proc.returncode == 1, proc.stdout
    text = proc.stdout
    assert "PROBLEM" in text and "To fix:" in text
    fixes = text.split("To fix:")[1].strip().splitlines()
    assert "presgen env create puppet" in [f.strip() for f in fixes]
    assert len(fixes) <= 12
    assert "Traceback" not in proc.stdout + proc.stderr

    data = json.loads(run_doctor(tmp_path / "empty", "--json").stdout)
    assert data["healthy"] is False
    assert "presgen env create puppet" in data["fixes"]
    areas = {f["area"]: f for f in data["findings"]}
    assert areas["engine puppet (env puppet)"]["status"] == "problem"
    assert areas["engine puppet (env puppet)"]["fixes"] == ["presgen env create puppet"]
    assert areas["ffmpeg"]["status"] == "ok"
    # an env this machine cannot build is not a problem to fix here
    upstream = areas["engine musetalk-upstream (env musetalk-upstream)"]
    assert upstream["status"] in ("info", "problem")
    if "cannot be built on this machine" in upstream["message"]:
        assert upstream["status"] == "info" and not upstream["fixes"]


def test_exit_0_only_when_all_is_healthy(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Real checks that pass on any dev machine, then the same plus one failing check."""
    healthy = [doctor.check_ffmpeg, doctor.check_disk, doctor.check_gpu]
    monkeypatch.setattr(doctor_command, "default_checks", lambda config: healthy)
    assert doctor_command.run(_args()) == 0
    assert capsys.readouterr().out.strip().endswith("all healthy: the default render works here")

    monkeypatch.setattr(doctor, "MIN_FREE_DISK_GIB", 10.0**9)  # no disk is that big: only the disk check fails
    assert doctor_command.run(_args()) == 1
    out = capsys.readouterr().out
    assert "1 problem. To fix:" in out and "PROBLEM  disk" in out and out.count("PROBLEM") == 1


def test_env_findings_follow_the_env(puppet_python: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRESGEN_ENV_PUPPET", str(puppet_python))
    findings = {f.area: f for f in doctor.check_engine_envs(UserConfig())}
    assert findings["engine puppet (env puppet)"].status == "ok"
    monkeypatch.delenv("PRESGEN_ENV_PUPPET")
    finding = {f.area: f for f in doctor.check_engine_envs(UserConfig())}["engine puppet (env puppet)"]
    assert finding.status == "problem" and finding.fixes == ("presgen env create puppet",)


def test_optional_engine_without_weights_is_a_note(
    musetalk_python: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A fresh install that renders the demo is healthy: musetalk without weights is optional, not a problem."""
    monkeypatch.setenv("PRESGEN_MODELS", str(tmp_path / "no-models"))
    findings = {f.area: f for f in doctor.check_engine_envs(UserConfig())}
    musetalk = findings["engine musetalk (env musetalk)"]
    assert musetalk.status == "info" and "optional" in musetalk.message
    weights = doctor.check_weights(tmp_path / "no-models")
    assert [f.status for f in weights] == ["info"] and weights[0].fixes


@pytest.mark.parametrize(
    ("reason", "fix"),
    [
        ("env 'puppet' is not built; run: presgen env create puppet", "presgen env create puppet"),
        ("package 'numpy' is missing (import numpy failed): run presgen env create mt", "presgen env create mt"),
        ("upstream MuseTalk is not vendored (x not found); run: make vendor", "make vendor"),
        ("no fix named here", None),
    ],
)
def test_fix_of(reason: str, fix: str | None) -> None:
    assert doctor.fix_of(reason) == fix


def _args() -> object:
    import argparse

    return argparse.Namespace(json=False)
