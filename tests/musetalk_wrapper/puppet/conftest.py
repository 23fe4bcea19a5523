"""Fixtures for the puppet engine tests: speech and narration clips, and renders shared by the session.

Renders run the wrapper in the puppet env as a subprocess (``helpers.run_wrapper``) and the measure as
``<puppet python> -m musetalk_wrapper.sync_eval``, the way the orchestrator runs them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import pytest

from helpers import REPO, run_wrapper

SPEECH_START_S = 2.0  # eng.wav opens with 3 s of silence: keep 1 s of it, then speech with a 0.6 s pause
SPEECH_S = 12.0  # longer than yongen.mp4 (10.72 s), so its render plays back and forth
NARRATION_TEXT = (
    "Welcome to the quarterly review. Today, we look at three things: the budget, "
    "the new office in Boston, and how we keep moving forward."
)


def ffmpeg(*args: str) -> None:
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-v", "error", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, f"ffmpeg {' '.join(args)}: {proc.stderr.strip()[-400:]}"


# name -> (source flag, source file, extra args, audio kind). "talking" is a presenter video whose mouth moves: the
# "man" render itself, so its frames fill the engine's bank of the presenter's own mouths.
RENDER_CASES: dict[str, tuple[str, str, tuple[str, ...], str]] = {
    "sun": ("--video", "sun.mp4", (), "speech"),
    "yongen": ("--video", "yongen.mp4", (), "speech"),
    "man": ("--image", "man.png", ("--motion", "off"), "speech"),
    "sit": ("--image", "sit.jpeg", (), "speech"),
    "talking": ("--video", "<man render>", (), "other speech"),
    "sun-timings": ("--video", "sun.mp4", (), "narration"),
    "man-timings-motion": ("--image", "man.png", (), "narration"),
}
OTHER_SPEECH_START_S = 20.0  # other words for the "talking" render


@dataclass(frozen=True)
class MediaFacts:
    duration_s: float
    width: int
    height: int
    fps: float
    video_frames: int
    has_audio: bool


def media_facts(path: Path) -> MediaFacts:
    exe = imageio_ffmpeg.get_ffmpeg_exe()
    info = subprocess.run([exe, "-hide_banner", "-i", str(path)], capture_output=True, text=True).stderr
    count = subprocess.run(
        [exe, "-hide_banner", "-i", str(path), "-map", "0:v:0", "-c", "copy", "-f", "null", "-"],
        capture_output=True,
        text=True,
    ).stderr
    h, m, s = re.search(r"Duration: (\d+):(\d+):([\d.]+)", info).groups()  # type: ignore[union-attr]
    size = re.search(r"Video: .*?(\d{2,5})x(\d{2,5})", info)
    fps = re.search(r"([\d.]+) fps", info)
    frames = re.findall(r"frame=\s*(\d+)", count)
    return MediaFacts(
        int(h) * 3600 + int(m) * 60 + float(s),
        int(size.group(1)) if size else 0,
        int(size.group(2)) if size else 0,
        float(fps.group(1)) if fps else 0.0,
        int(frames[-1]) if frames and size else 0,
        "Audio:" in info,
    )


@dataclass(frozen=True)
class Render:
    output: Path
    returncode: int
    result: dict[str, Any]
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and bool(self.result.get("success"))


def render(python: Path, output: Path, *args: str) -> Render:
    proc = run_wrapper(python, "--engine", "puppet", "--json-output", "--quiet", "--output", str(output), *args)
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    assert len(lines) == 1, f"expected one JSON line on stdout, got {proc.stdout!r}; stderr: {proc.stderr[-2000:]}"
    return Render(output, proc.returncode, json.loads(lines[0]), proc.stderr)


def sync_eval(python: Path, video: Path, *args: str) -> tuple[int, dict[str, Any]]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run(
        [str(python), "-m", "musetalk_wrapper.sync_eval", str(video), "--json", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=600,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.strip()]
    assert len(lines) == 1, f"sync_eval stdout {proc.stdout!r}; stderr: {proc.stderr[-2000:]}"
    return proc.returncode, json.loads(lines[0])


@pytest.fixture(scope="session")
def tools() -> Tools:
    """ffmpeg, media facts, a puppet render and the sync measure, for the tests to call."""
    return Tools()


class Tools:
    ffmpeg = staticmethod(ffmpeg)
    media_facts = staticmethod(media_facts)
    render = staticmethod(render)
    sync_eval = staticmethod(sync_eval)
    render_cases = RENDER_CASES


@pytest.fixture(scope="session")
def speech(media_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("speech") / "speech.wav"
    ffmpeg("-ss", str(SPEECH_START_S), "-t", str(SPEECH_S), "-i", str(media_dir / "eng.wav"), str(out))
    return out


@pytest.fixture(scope="session")
def other_speech(media_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("speech") / "other.wav"
    ffmpeg("-ss", str(OTHER_SPEECH_START_S), "-t", str(SPEECH_S), "-i", str(media_dir / "eng.wav"), str(out))
    return out


@pytest.fixture(scope="session")
def narration(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A piper narration and its timings file, made by presgen's own narration stage."""
    from presgen_training.narration import NarrationConfig, synthesize, write_timings_json
    from presgen_training.timeline import Script, Section

    out = tmp_path_factory.mktemp("narration")
    script = Script(title="review", sections=(Section(title="intro", narration=NARRATION_TEXT),))
    spoken = synthesize(script, NarrationConfig(engine="piper"), out)
    assert spoken.engine == "piper" and spoken.phonemes, "piper with alignments is needed for the timings test"
    timings = out / "timings.json"
    write_timings_json(spoken, timings)
    return out / "narration.wav", timings


class Renders:
    """Renders made once per session and shared by the tests that look at them; ``source(name)`` is the file a
    render was made from."""

    def __init__(self, make: dict[str, Callable[[], Render]], source: Callable[[str], Path]) -> None:
        self._make = make
        self._done: dict[str, Render] = {}
        self.source = source

    def __getitem__(self, key: str) -> Render:
        if key not in self._done:
            self._done[key] = self._make[key]()
        return self._done[key]


@pytest.fixture(scope="session")
def renders(
    puppet_python: Path,
    media_dir: Path,
    speech: Path,
    other_speech: Path,
    narration: tuple[Path, Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> Renders:
    out_dir = tmp_path_factory.mktemp("renders")
    made: Renders

    def maker(name: str) -> Callable[[], Render]:
        flag, _source, extra, audio_kind = RENDER_CASES[name]

        def make() -> Render:
            if audio_kind == "narration":
                audio_args: tuple[str, ...] = ("--audio", str(narration[0]), "--timings", str(narration[1]))
            else:
                audio_args = ("--audio", str(speech if audio_kind == "speech" else other_speech))
            return render(puppet_python, out_dir / f"{name}.mp4", *audio_args, flag, str(source_path(name)), *extra)

        return make

    def source_path(name: str) -> Path:
        if name == "talking":
            man = made["man"]
            assert man.ok, man.result
            return man.output
        return media_dir / RENDER_CASES[name][1]

    made = Renders({name: maker(name) for name in RENDER_CASES}, source_path)
    return made


@pytest.fixture(scope="session")
def sync_report() -> dict[str, dict[str, Any]]:
    """Figures measured by the tests, written to test-artifacts/puppet_sync.json at the end of the session."""
    return {}


@pytest.fixture(scope="session", autouse=True)
def _write_sync_report(sync_report: dict[str, dict[str, Any]], artifacts_dir: Path):  # type: ignore[no-untyped-def]
    yield
    if sync_report:
        (artifacts_dir / "puppet_sync.json").write_text(json.dumps(sync_report, indent=2) + "\n")
