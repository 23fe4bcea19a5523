"""Bad input to `presgen render` gives one clear line and exit 1: no traceback, no output file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from helpers import REPO
from presgen_training.ffmpeg import file_arg, run_ffmpeg

GOOD_SCRIPT = "title: T\nsections:\n  - title: A\n    narration: Hello there.\n"


@pytest.fixture(scope="module")
def photo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("media") / "face.png"
    run_ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=320x240:d=1", "-frames:v", "1", file_arg(path)], "image")
    return path


def render(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "presgen_training", "render", "--quiet", "--out", str(tmp_path / "out.mp4"), *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )


def assert_clean_failure(proc: subprocess.CompletedProcess[str], tmp_path: Path, *needles: str) -> None:
    assert proc.returncode == 1, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("presgen: error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0]
    assert not list(tmp_path.glob("out*")) and not list(tmp_path.glob(".out*")), "no output may be left behind"


def test_empty_script(tmp_path: Path, photo: Path) -> None:
    script = tmp_path / "empty.yaml"
    script.write_text("")
    assert_clean_failure(
        render(tmp_path, "--script", str(script), "--source-image", str(photo)), tmp_path, "empty.yaml"
    )


def test_script_with_unknown_key_names_the_line(tmp_path: Path, photo: Path) -> None:
    script = tmp_path / "typo.yaml"
    script.write_text(GOOD_SCRIPT + "    bulets: [a]\n")
    assert_clean_failure(
        render(tmp_path, "--script", str(script), "--source-image", str(photo)), tmp_path, "typo.yaml:5", "bulets"
    )


def test_missing_presenter(tmp_path: Path) -> None:
    script = tmp_path / "s.yaml"
    script.write_text(GOOD_SCRIPT)
    assert_clean_failure(
        render(tmp_path, "--script", str(script), "--source-video", str(tmp_path / "nope.mp4")), tmp_path, "nope.mp4"
    )


def test_corrupt_presenter_video(tmp_path: Path) -> None:
    script = tmp_path / "s.yaml"
    script.write_text(GOOD_SCRIPT)
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
    assert_clean_failure(render(tmp_path, "--script", str(script), "--source-video", str(bad)), tmp_path, "broken.mp4")


def test_unknown_voice(tmp_path: Path, photo: Path) -> None:
    script = tmp_path / "s.yaml"
    script.write_text(GOOD_SCRIPT)
    assert_clean_failure(
        render(tmp_path, "--script", str(script), "--source-image", str(photo), "--voice", "nobody"), tmp_path, "nobody"
    )


def test_help_explains_the_command() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "presgen_training", "render", "--help"], capture_output=True, text=True, cwd=REPO
    )
    assert proc.returncode == 0
    for flag in ("--script", "--source-image", "--source-video", "--quality", "--layout", "--avatar", "--captions"):
        assert flag in proc.stdout
