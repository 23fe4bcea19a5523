"""The orchestrator survives any engine: a misbehaving fake is a recorded failure with a one-line reason; with
--fallback the chain goes on to static, without it an explicitly chosen engine's failure is an error."""

from __future__ import annotations

import stat
import sys
import time
from pathlib import Path

import pytest

from presgen_training.avatar.chain import AvatarError, AvatarSettings, Clip, make_avatar, resolve, start_engine
from presgen_training.ffmpeg import file_arg, probe, run_ffmpeg

AUDIO_S = 2.0
SUCCESS = (
    "{'success': True, 'output_path': out, 'engine': 'puppet', 'message': 'ok', 'duration_s': 2.0, "
    "'fps': 25, 'frames': 50, 'timings_s': {}, 'warnings': [], 'schema_version': 2}"
)
RENDER = (
    "import imageio_ffmpeg\n"
    "subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), '-v', 'error', '-y', '-f', 'lavfi', '-i',"
    " 'color=c=red:s=64x64:r=25:d={d}', '-i', audio, '-shortest', '-pix_fmt', 'yuv420p', out], check=True)\n"
)

# Each fake stands in for an engine env's python: it is called as `FAKE -m musetalk_wrapper ... --output=O`.
PREAMBLE = f"""#!{sys.executable}
import json, os, signal, sys, time, subprocess
opts = dict(a[2:].split("=", 1) for a in sys.argv[1:] if a.startswith("--") and "=" in a)
out, audio = opts.get("output"), opts.get("audio")
"""
FAKES = {
    "hangs": "time.sleep(3600)\n",
    "hangs_with_child": "subprocess.Popen(['sleep', '3600']); time.sleep(3600)\n",
    "crashes": "raise RuntimeError('CUDA out of memory (fake)')\n",
    "prints_junk": "print('Loading model... done'); print('{not json')\n",
    "two_objects": "print(json.dumps({'success': False, 'schema_version': 2, "
    "'error': {'code': 'RUNTIME', 'message': 'a'}}));"
    "print(json.dumps({'success': False}))\n",
    "breaks_schema": "print(json.dumps({'success': True, 'output_path': out}))\n",
    "success_no_file": f"print(json.dumps({SUCCESS}))\n",
    "success_short_file": RENDER.format(d=0.5) + f"print(json.dumps({SUCCESS}))\n",
    "garbage_file": f"open(out, 'wb').write(os.urandom(4096))\nprint(json.dumps({SUCCESS}))\n",
    "lies_about_output": RENDER.format(d=AUDIO_S) + f"out = out + '.elsewhere.mp4'\nprint(json.dumps({SUCCESS}))\n",
    "reports_no_face": "print(json.dumps({'success': False, 'schema_version': 2, 'error': {'code': 'NO_FACE',"
    " 'message': 'no face found in 550 frames'}})); sys.exit(4)\n",
    "killed": "os.kill(os.getpid(), signal.SIGKILL)\n",
    "floods_stdout": "sys.stdout.write('x' * (100 << 20)); sys.stdout.flush()\n",
    "floods_stderr": RENDER.format(d=AUDIO_S)
    + "for _ in range(200000): print('warning: chatty library', file=sys.stderr)\n"
    f"print(json.dumps({SUCCESS}))\n",
}
EXPECTED_CODE = {
    "hangs": "TIMEOUT",
    "hangs_with_child": "TIMEOUT",
    "crashes": "PROTOCOL",
    "prints_junk": "PROTOCOL",
    "two_objects": "PROTOCOL",
    "breaks_schema": "PROTOCOL",
    "success_no_file": "BAD_OUTPUT",
    "success_short_file": "BAD_OUTPUT",
    "garbage_file": "BAD_OUTPUT",
    "lies_about_output": "BAD_OUTPUT",
    "reports_no_face": "NO_FACE",
    "killed": "PROTOCOL",
    "floods_stdout": "PROTOCOL",
    "floods_stderr": None,
}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("inputs")
    audio, image = d / "speech.wav", d / "presenter.png"
    run_ffmpeg(["-f", "lavfi", "-i", f"sine=frequency=220:duration={AUDIO_S}", "-ar", "22050", file_arg(audio)], "tone")
    run_ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=320x240:d=1", "-frames:v", "1", file_arg(image)], "image")
    return audio, image


def fake_python(folder: Path, body: str, name: str = "fake") -> Path:
    path = folder / f"fake-{name}"
    path.write_text(PREAMBLE + body)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def one_clip(audio: Path, work: Path) -> list[Clip]:
    return [Clip(0, audio, work / "avatar.mp4", AUDIO_S)]


@pytest.mark.parametrize("behaviour", sorted(FAKES))
def test_misbehaving_engine_falls_back_to_static(behaviour: str, inputs: tuple[Path, Path], tmp_path: Path) -> None:
    audio, image = inputs
    work = tmp_path / "work"
    work.mkdir()
    settings = AvatarSettings(
        choice="puppet",
        allow_fallback=True,
        python_override=fake_python(tmp_path, FAKES[behaviour], behaviour),
        timeout_s=3.0,
    )
    started = time.monotonic()
    outcome = make_avatar(image, True, one_clip(audio, work), settings)
    assert time.monotonic() - started < 30, "a hanging engine must be stopped by the timeout"
    clip = work / "avatar.mp4"
    if EXPECTED_CODE[behaviour] is None:  # a chatty stderr is no failure
        assert outcome.engine == "puppet"
    else:
        assert outcome.engine == "static"
        first, last = outcome.attempts
        assert (first.engine, first.outcome, first.code) == ("puppet", "failed", EXPECTED_CODE[behaviour])
        assert first.reason and "\n" not in first.reason and len(first.reason) < 400
        assert (last.engine, last.outcome) == ("static", "ok")
    info = probe(clip)
    assert info.duration_s is not None and abs(info.duration_s - AUDIO_S) <= 0.1 and info.fps == 25
    # Only the clip that was used is left: no partial or rejected engine output.
    assert sorted(p.name for p in work.iterdir()) == ["avatar.mp4"]


def test_explicit_engine_failure_is_an_error_not_a_swap(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    audio, image = inputs
    settings = AvatarSettings(choice="puppet", python_override=fake_python(tmp_path, FAKES["reports_no_face"]))
    with pytest.raises(AvatarError) as err:
        make_avatar(image, True, one_clip(audio, tmp_path), settings)
    message = str(err.value)
    assert "no face found" in message and "--fallback" in message and "\n" not in message
    assert not (tmp_path / "avatar.mp4").exists()


def test_no_face_at_the_shown_size_retries_at_full_size(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    """A face the engine finds at full size but not at the smaller size the layout shows: the clip is rendered at
    full size by the same engine, not handed to the next engine of the chain."""
    audio, image = inputs
    calls = tmp_path / "calls.txt"
    body = (
        f"open({str(calls)!r}, 'a').write(opts.get('max-side', 'full') + '\\n')\n"
        "if 'max-side' in opts:\n"
        "    print(json.dumps({'success': False, 'schema_version': 2, 'error': {'code': 'NO_FACE',"
        " 'message': 'face too small'}})); sys.exit(4)\n" + RENDER.format(d=AUDIO_S) + f"print(json.dumps({SUCCESS}))\n"
    )
    settings = AvatarSettings(choice="puppet", python_override=fake_python(tmp_path, body))
    outcome = make_avatar(image, True, one_clip(audio, tmp_path), settings, max_side=640)
    assert outcome.engine == "puppet" and [a.outcome for a in outcome.attempts] == ["ok"]
    assert calls.read_text().split() == ["640", "full"]
    assert (tmp_path / "avatar.mp4").is_file()


STDIN_FAKE = (
    "seen = open({calls!r}, 'a'); seen.write(' '.join(sys.argv[1:]) + '\\n'); seen.flush()\n"
    "clip = json.loads(sys.stdin.read())['segments'][0]\n"
    "out, audio = clip['output'], clip['audio']\n"
    + RENDER.format(d=AUDIO_S)
    + "print(json.dumps({{'success': True, 'engine': 'puppet', 'message': 'ok', 'timings_s': {{}}, 'warnings': [],"
    " 'schema_version': 2, 'segments': [{{k: v for k, v in {success}.items() if k != 'schema_version'}}]}}))\n"
)


def test_an_engine_started_ahead_renders_the_clips_given_later(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    """The engine starts (--segments -) before the clips exist; the run of the same engine and size takes it and
    hands it the list on stdin. A run of another size starts its own."""
    audio, image = inputs
    calls = tmp_path / "calls.txt"
    fake = fake_python(tmp_path, STDIN_FAKE.format(calls=str(calls), success=SUCCESS))
    settings = AvatarSettings(choice="puppet", python_override=fake)
    resolution = resolve(settings)
    warm = start_engine(image, True, settings, resolution, 640)
    assert warm is not None
    time.sleep(1.0)  # it has started and waits for its list
    assert "--segments=-" in calls.read_text() and "--max-side=640" in calls.read_text()
    assert warm.take("puppet", fake, 480) is None  # another size: not this run
    outcome = make_avatar(image, True, one_clip(audio, tmp_path), settings, resolution, max_side=640, warm=warm)
    assert outcome.engine == "puppet" and (tmp_path / "avatar.mp4").is_file()
    assert len(calls.read_text().splitlines()) == 1, "the started engine was not the one used"
    assert warm.take("puppet", fake, 640) is None  # taken once


def test_an_engine_started_ahead_and_not_needed_is_stopped(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    """Every clip was cached: the engine started ahead is stopped, with its whole process group."""
    _, image = inputs
    marker = tmp_path / "pid"
    body = f"p = subprocess.Popen(['sleep', '3600']); open({str(marker)!r}, 'w').write(str(p.pid)); time.sleep(3600)\n"
    settings = AvatarSettings(choice="puppet", python_override=fake_python(tmp_path, body))
    warm = start_engine(image, True, settings, resolve(settings), None)
    assert warm is not None
    deadline = time.monotonic() + 10
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    warm.cancel()
    assert not alive(int(marker.read_text())), "the started engine's child survived"


def test_hanging_engine_children_are_stopped(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    audio, image = inputs
    marker = tmp_path / "child.pid"
    body = f"p = subprocess.Popen(['sleep', '3600']); open({str(marker)!r}, 'w').write(str(p.pid)); time.sleep(3600)\n"
    settings = AvatarSettings(
        choice="puppet", allow_fallback=True, python_override=fake_python(tmp_path, body), timeout_s=3.0
    )
    make_avatar(image, True, one_clip(audio, tmp_path), settings)
    assert not alive(int(marker.read_text())), "the engine's child process survived the timeout"


def test_good_result_is_kept_when_a_grandchild_holds_stdout(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    """The engine exits with a valid answer but leaves a child holding its stdout: the answer is used at once and
    the child is stopped."""
    audio, image = inputs
    marker = tmp_path / "child.pid"
    body = (
        RENDER.format(d=AUDIO_S) + f"print(json.dumps({SUCCESS}), flush=True)\n"
        f"p = subprocess.Popen(['sleep', '3600']); open({str(marker)!r}, 'w').write(str(p.pid))\n"
    )
    settings = AvatarSettings(choice="puppet", python_override=fake_python(tmp_path, body), timeout_s=60.0)
    started = time.monotonic()
    outcome = make_avatar(image, True, one_clip(audio, tmp_path), settings)
    assert outcome.engine == "puppet" and time.monotonic() - started < 15
    assert not alive(int(marker.read_text())), "the engine's leftover child was not stopped"


def alive(pid: int) -> bool:
    """Running and not a zombie (an orphan's zombie may linger where pid 1 does not reap)."""
    time.sleep(0.2)
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def test_missing_env_is_skipped_and_recorded(
    inputs: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    audio, image = inputs
    monkeypatch.setenv("PRESGEN_ENVS_HOME", str(tmp_path / "no-envs"))
    monkeypatch.delenv("PRESGEN_ENV_PUPPET", raising=False)
    monkeypatch.delenv("PRESGEN_ENV_MUSETALK", raising=False)
    outcome = make_avatar(image, True, one_clip(audio, tmp_path), AvatarSettings(choice="auto"))
    assert [(a.engine, a.outcome) for a in outcome.attempts] == [
        ("musetalk", "skipped"),
        ("puppet", "skipped"),
        ("static", "ok"),
    ]
    assert "presgen env create puppet" in (outcome.attempts[1].reason or "")
    assert outcome.attempts[1].fix == ["presgen env create puppet"]


def test_missing_interpreter_for_an_explicit_engine_is_an_error(tmp_path: Path) -> None:
    settings = AvatarSettings(choice="puppet", python_override=tmp_path / "no-python")
    with pytest.raises(AvatarError, match="interpreter not found"):
        make_avatar(tmp_path / "x.png", True, [], settings)
