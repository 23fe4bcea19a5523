"""presgen env vendor against a local git repository standing in for upstream (no network in tests)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from helpers import run_presgen

GIT = ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid", "-c", "init.defaultBranch=main"]


def presgen(*args: str) -> subprocess.CompletedProcess[str]:
    return run_presgen(*args, env={"GIT_CONFIG_NOSYSTEM": "1"}, timeout=120)


def head(repo: Path) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()


@pytest.fixture
def upstream(tmp_path: Path) -> tuple[Path, str, str]:
    """A two-commit repo: the first has scripts/inference.py v1, the second changes it."""
    repo = tmp_path / "upstream"
    (repo / "scripts").mkdir(parents=True)
    subprocess.run([*GIT, "init", "-q", str(repo)], check=True)
    (repo / "README.md").write_text("upstream readme\n")
    (repo / "scripts" / "inference.py").write_text("VERSION = 1\n")
    subprocess.run([*GIT, "-C", str(repo), "add", "-A"], check=True)
    subprocess.run([*GIT, "-C", str(repo), "commit", "-qm", "one"], check=True)
    first = head(repo)
    (repo / "scripts" / "inference.py").write_text("VERSION = 2\n")
    subprocess.run([*GIT, "-C", str(repo), "commit", "-qam", "two"], check=True)
    second = head(repo)
    return repo, first, second


def test_vendor_places_the_pinned_commit_and_keeps_our_files(upstream, tmp_path: Path) -> None:
    repo, first, second = upstream
    dest = tmp_path / "vendor" / "MuseTalk"
    dest.mkdir(parents=True)
    (dest / "README.md").write_text("ours\n")
    (dest / "models").mkdir()
    (dest / "models" / "unet.pth").write_bytes(b"weights")

    proc = presgen("env", "vendor", "--commit", first[:7], "--url", str(repo), "--dest", str(dest))
    assert proc.returncode == 0, proc.stderr
    assert (dest / "scripts" / "inference.py").read_text() == "VERSION = 1\n"
    assert (dest / "README.md").read_text() == "ours\n"
    assert (dest / "README.upstream.md").read_text() == "upstream readme\n"
    assert not (dest / ".git").exists()
    marker = json.loads((dest / ".presgen-vendor.json").read_text())
    assert marker["commit"] == first and marker["url"] == str(repo)
    assert not [p for p in dest.parent.iterdir() if p.name.startswith(".MuseTalk.clone-")]

    again = presgen("env", "vendor", "--commit", first[:7], "--url", str(repo), "--dest", str(dest))
    assert again.returncode == 0 and "already in" in again.stdout

    newer = presgen("env", "vendor", "--commit", second[:10], "--url", str(repo), "--dest", str(dest))
    assert newer.returncode == 0, newer.stderr
    assert (dest / "scripts" / "inference.py").read_text() == "VERSION = 2\n"
    assert (dest / "models" / "unet.pth").read_bytes() == b"weights"  # the user's weights survive
    assert json.loads((dest / ".presgen-vendor.json").read_text())["commit"] == second


def test_unreachable_repository_is_one_line(tmp_path: Path) -> None:
    proc = presgen("env", "vendor", "--url", str(tmp_path / "no-such-repo"), "--dest", str(tmp_path / "MuseTalk"))
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        f"presgen: error: cannot clone {tmp_path / 'no-such-repo'} (this needs network access to it): "
    )
    assert not (tmp_path / "MuseTalk").exists()


def test_unknown_commit(upstream, tmp_path: Path) -> None:
    repo, _, _ = upstream
    proc = presgen("env", "vendor", "--commit", "deadbee", "--url", str(repo), "--dest", str(tmp_path / "MuseTalk"))
    assert proc.returncode == 1 and "commit deadbee not found in" in proc.stderr


def test_foreign_files_are_never_overwritten(upstream, tmp_path: Path) -> None:
    repo, first, _ = upstream
    dest = tmp_path / "MuseTalk"
    (dest / "scripts").mkdir(parents=True)
    (dest / "scripts" / "mine.py").write_text("my work\n")
    proc = presgen("env", "vendor", "--commit", first, "--url", str(repo), "--dest", str(dest))
    assert proc.returncode == 1 and "scripts that presgen did not put there" in proc.stderr
    assert (dest / "scripts" / "mine.py").read_text() == "my work\n"
