"""The lip-sync measure (``python -m musetalk_wrapper.sync_eval``, run in the puppet env) and ``presgen eval
sync``, which runs it from the orchestrator. The measure must be able to fail: a still mouth scores near 0, a
render measured against shifted or unrelated audio loses its lag or its correlation."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import pytest

from helpers import REPO, run_wrapper, sync_eval
from presgen_training.commands import eval as eval_command
from presgen_training.errors import PresgenError

pytestmark = [pytest.mark.puppet_env, pytest.mark.slow]

STATIC_MAX_ABS_CORRELATION = 0.2


def _ffmpeg(*args: str) -> None:
    proc = subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-v", "error", *args],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr[-400:]


@pytest.fixture(scope="module")
def audio(media_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("audio")
    out = {"speech": d / "speech.wav", "short": d / "short.wav", "delayed": d / "delayed.wav", "other": d / "other.wav"}
    eng = str(media_dir / "eng.wav")
    _ffmpeg("-ss", "2", "-t", "12", "-i", eng, str(out["speech"]))
    _ffmpeg("-ss", "2", "-t", "6", "-i", eng, str(out["short"]))
    _ffmpeg("-i", str(out["short"]), "-af", "adelay=120,atrim=0:6", str(out["delayed"]))  # 3 frames late
    _ffmpeg("-ss", "30", "-t", "6", "-i", eng, str(out["other"]))  # other words, other pauses
    return out


@pytest.fixture(scope="module")
def puppet_render(
    puppet_python: Path, media_dir: Path, audio: dict[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    out = tmp_path_factory.mktemp("render") / "sun.mp4"
    proc = run_wrapper(
        puppet_python,
        "--engine",
        "puppet",
        "--json-output",
        "--quiet",
        "--audio",
        str(audio["short"]),
        "--video",
        str(media_dir / "sun.mp4"),
        "--output",
        str(out),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr[-2000:]
    return out


@pytest.mark.parametrize("source", ["sun.mp4", "man.png"])
def test_a_static_render_scores_near_zero(
    source: str, puppet_python: Path, media_dir: Path, audio: dict[str, Path], tmp_path: Path, artifacts_dir: Path
) -> None:
    """The source looped (or held) with the narration muxed: what a broken lip-sync install produces."""
    static = tmp_path / "static.mp4"
    src = str(media_dir / source)
    if source.endswith(".mp4"):
        loop = ["-stream_loop", "-1", "-i", src]
    else:
        loop = ["-loop", "1", "-framerate", "25", "-i", src]
    _ffmpeg(
        *loop,
        "-i",
        str(audio["speech"]),
        "-map",
        "0:v",
        "-map",
        "1:a",
        "-r",
        "25",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-crf",
        "18",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        "-shortest",
        str(static),
    )
    code, m = sync_eval(puppet_python, static, "--source", src)
    assert code == 0 and m["success"], m
    assert abs(m["correlation"]) < STATIC_MAX_ABS_CORRELATION, m
    assert m["upper_psnr_db"] >= 35.0  # the measure's PSNR sees no change: only the mouth part can tell
    if source.endswith(".png"):  # a still photo: at rest (its own mouth) throughout, never opening, never blinking
        assert m["closed_share"] == 1.0 and m["rest_opening"] is not None and m["blinks_per_min"] == 0.0, m
        assert abs(m["opening_p95"] - m["rest_opening"]) < 0.01, m
    report = artifacts_dir / "sync_static_baseline.json"
    data = json.loads(report.read_text()) if report.exists() else {}
    data[source] = {k: m[k] for k in ("correlation", "lag_frames", "closed_share", "upper_psnr_db")}
    report.write_text(json.dumps(data, indent=2) + "\n")


@pytest.fixture(scope="module")
def own_measure(puppet_python: Path, puppet_render: Path, media_dir: Path) -> dict[str, Any]:
    code, m = sync_eval(puppet_python, puppet_render, "--source", str(media_dir / "sun.mp4"))
    assert code == 0, m
    return m


def test_the_measure_finds_the_lag_and_rejects_other_audio(
    puppet_python: Path, puppet_render: Path, audio: dict[str, Path], own_measure: dict[str, Any]
) -> None:
    own = own_measure
    assert own["correlation"] >= 0.6 and abs(own["lag_frames"]) <= 1, own
    _, late = sync_eval(puppet_python, puppet_render, "--audio", str(audio["delayed"]))
    assert late["lag_frames"] == own["lag_frames"] - 3, late  # the mouth now moves 3 frames before the sound
    assert late["correlation"] >= 0.6, late
    _, other = sync_eval(puppet_python, puppet_render, "--audio", str(audio["other"]))
    assert other["correlation"] < 0.4, other


def test_a_video_without_a_face_is_no_face(puppet_python: Path, audio: dict[str, Path], tmp_path: Path) -> None:
    blank = tmp_path / "blank.mp4"
    _ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "color=c=gray:s=320x240:r=25",
        "-i",
        str(audio["short"]),
        "-t",
        "2",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-pix_fmt",
        "yuv420p",
        "-c:a",
        "aac",
        str(blank),
    )
    code, m = sync_eval(puppet_python, blank)
    assert code == 4 and m["error"]["code"] == "NO_FACE", m
    code, m = sync_eval(puppet_python, tmp_path / "missing.mp4")
    assert code == 3 and m["error"]["code"] == "BAD_INPUT" and "missing.mp4" in m["error"]["message"], m


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="presgen")
    eval_command.register(parser.add_subparsers(dest="command"))
    return parser.parse_args(list(argv))


def test_presgen_eval_sync_prints_the_measure(
    puppet_render: Path, media_dir: Path, own_measure: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    source = str(media_dir / "sun.mp4")
    args = _parse("eval", "sync", str(puppet_render), "--source", source, "--json")
    assert args.func(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report == {**own_measure, "video": str(puppet_render.resolve()), "source": str(Path(source).resolve())}
    text = eval_command.describe(report)
    assert f"correlation {report['correlation']:.3f}" in text and f"{report['closed_share']:.0%}" in text
    assert f"PSNR {report['upper_psnr_db']:.1f} dB" in text
    assert f"{report['correlation_near']:.3f} within 1 frame" in text
    assert f"95th percentile: {report['opening_p95']:.3f}" in text and "blinks: " in text
    assert 0.1 < report["opening_p95"] < 0.3 and report["blinks_per_min"] >= 0.0


def test_presgen_eval_sync_from_the_command_line(puppet_render: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [sys.executable, "-m", "presgen_training", "eval", "sync", str(puppet_render), "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["correlation"] >= 0.6


def test_presgen_eval_sync_without_the_puppet_env_says_so(
    puppet_render: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRESGEN_ENV_PUPPET", str(tmp_path / "no-python"))
    args = _parse("eval", "sync", str(puppet_render))
    with pytest.raises(PresgenError, match=r"puppet env.*PRESGEN_ENV_PUPPET"):
        args.func(args)
    with pytest.raises(PresgenError, match="video file not found"):
        args = _parse("eval", "sync", str(tmp_path / "missing.mp4"))
        args.func(args)
