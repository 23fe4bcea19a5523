"""The orchestrator must survive any engine: each misbehaving fake ends in a recorded fallback and a valid video."""
from __future__ import annotations

import json
import stat
import sys
import time
from pathlib import Path

import pytest

from presgen_training.avatar.chain import AvatarSettings, make_avatar
from presgen_training.avatar.engine_process import EngineFailure, parse_result
from presgen_training.ffmpeg import file_arg, probe, run_ffmpeg

AUDIO_S = 2.0

# Each fake stands in for an engine env's python: it is called as `FAKE -m musetalk_wrapper ... --output O`.
PREAMBLE = f"""#!{sys.executable}
import json, os, sys, time, subprocess
args = sys.argv[1:]
out = args[args.index("--output") + 1]
audio = args[args.index("--audio") + 1]
"""
FAKES = {
    "hangs": "time.sleep(3600)\n",
    "hangs_with_child": "subprocess.Popen(['sleep', '3600']); time.sleep(3600)\n",
    "crashes": "raise RuntimeError('CUDA out of memory (fake)')\n",
    "prints_junk": "print('Loading model... done'); print('{not json')\n",
    "two_objects": "print(json.dumps({'success': False, 'schema_version': 1, 'error': {'code': 'RUNTIME', 'message': 'a'}}));"
                   "print(json.dumps({'success': False}))\n",
    "breaks_schema": "print(json.dumps({'success': True, 'output_path': out}))\n",
    "success_no_file": "print(json.dumps({'success': True, 'output_path': out, 'engine': 'puppet', 'message': 'ok',"
                       " 'duration_s': 2.0, 'fps': 25, 'frames': 50, 'timings_s': {}, 'warnings': [],"
                       " 'schema_version': 1}))\n",
    "success_short_file": "import imageio_ffmpeg\n"
                          "subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), '-v', 'error', '-y', '-f', 'lavfi', '-i',"
                          " 'color=c=red:s=64x64:r=25:d=0.5', '-i', audio, '-shortest', '-pix_fmt', 'yuv420p', out],"
                          " check=True)\n"
                          "print(json.dumps({'success': True, 'output_path': out, 'engine': 'puppet', 'message': 'ok',"
                          " 'duration_s': 2.0, 'fps': 25, 'frames': 50, 'timings_s': {}, 'warnings': [],"
                          " 'schema_version': 1}))\n",
    "garbage_file": "open(out, 'wb').write(os.urandom(4096))\n"
                    "print(json.dumps({'success': True, 'output_path': out, 'engine': 'puppet', 'message': 'ok',"
                    " 'duration_s': 2.0, 'fps': 25, 'frames': 50, 'timings_s': {}, 'warnings': [],"
                    " 'schema_version': 1}))\n",
    "reports_no_face": "print(json.dumps({'success': False, 'schema_version': 1, 'error': {'code': 'NO_FACE',"
                       " 'message': 'no face found in 550 frames'}})); sys.exit(4)\n",
}
EXPECTED_CODE = {
    "hangs": "TIMEOUT", "hangs_with_child": "TIMEOUT", "crashes": "PROTOCOL", "prints_junk": "PROTOCOL",
    "two_objects": "PROTOCOL", "breaks_schema": "PROTOCOL", "success_no_file": "BAD_OUTPUT",
    "success_short_file": "BAD_OUTPUT", "garbage_file": "BAD_OUTPUT", "reports_no_face": "NO_FACE",
}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("inputs")
    audio, image = d / "speech.wav", d / "presenter.png"
    run_ffmpeg(["-f", "lavfi", "-i", f"sine=frequency=220:duration={AUDIO_S}", "-ar", "22050", file_arg(audio)], "tone")
    run_ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=320x240:d=1", "-frames:v", "1", file_arg(image)], "image")
    return audio, image


def _fake(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"fake-{name}"
    path.write_text(PREAMBLE + FAKES[name])
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


@pytest.mark.parametrize("behaviour", sorted(FAKES))
def test_misbehaving_engine_falls_back_to_static(behaviour: str, inputs: tuple[Path, Path], tmp_path: Path) -> None:
    audio, image = inputs
    work = tmp_path / "work"
    work.mkdir()
    settings = AvatarSettings(choice="puppet", python_override=_fake(tmp_path, behaviour), timeout_s=3.0)
    started = time.monotonic()
    outcome = make_avatar(image, True, audio, AUDIO_S, None, work, settings)
    assert time.monotonic() - started < 30, "a hanging engine must be stopped by the timeout"

    assert outcome.engine == "static"
    first, last = outcome.attempts
    assert (first.engine, first.outcome, first.code) == ("puppet", "failed", EXPECTED_CODE[behaviour])
    assert first.reason and "\n" not in first.reason
    assert (last.engine, last.outcome) == ("static", "ok")
    info = probe(outcome.video)
    assert abs(info.duration_s - AUDIO_S) <= 0.1 and info.fps == 25 and info.has_audio
    # Only the video that was used is left: no partial or rejected engine output.
    assert sorted(p.name for p in work.iterdir()) == [outcome.video.name]


def test_hanging_engine_children_are_stopped(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    audio, image = inputs
    marker = tmp_path / "child.pid"
    fake = tmp_path / "fake-child"
    fake.write_text(PREAMBLE + f"p = subprocess.Popen(['sleep', '3600']); open({str(marker)!r}, 'w').write(str(p.pid));"
                               " time.sleep(3600)\n")
    fake.chmod(0o755)
    make_avatar(image, True, audio, AUDIO_S, None, tmp_path, AvatarSettings(choice="puppet", python_override=fake,
                                                                            timeout_s=3.0))
    child = int(marker.read_text())
    time.sleep(0.2)
    assert not _alive(child), "the engine's child process survived the timeout"


def _alive(pid: int) -> bool:
    """Running and not a zombie (an orphan's zombie may linger where pid 1 does not reap)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def test_missing_env_is_skipped_and_recorded(inputs: tuple[Path, Path], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    audio, image = inputs
    monkeypatch.setenv("PRESGEN_ENVS_HOME", str(tmp_path / "no-envs"))
    monkeypatch.delenv("PRESGEN_ENV_PUPPET", raising=False)
    monkeypatch.delenv("PRESGEN_ENV_MUSETALK", raising=False)
    outcome = make_avatar(image, True, audio, AUDIO_S, None, tmp_path, AvatarSettings(choice="auto"))
    assert [(a.engine, a.outcome) for a in outcome.attempts] == [
        ("musetalk", "skipped"), ("puppet", "skipped"), ("static", "ok")]
    assert "presgen env create puppet" in (outcome.attempts[1].reason or "")


def test_parse_result_accepts_exactly_one_valid_object() -> None:
    ok = {"success": True, "output_path": "/x.mp4", "engine": "puppet", "message": "", "duration_s": 1.0, "fps": 25,
          "frames": 25, "timings_s": {"total": 1.0}, "warnings": [], "schema_version": 1}
    assert parse_result(json.dumps(ok) + "\n", 0, []) == ok
    for bad in ("", "null", json.dumps(ok) + json.dumps(ok), json.dumps({**ok, "fps": "25"})):
        with pytest.raises(EngineFailure):
            parse_result(bad, 0, [])
