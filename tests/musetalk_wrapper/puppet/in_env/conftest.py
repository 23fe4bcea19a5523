"""Fixtures for the puppet engine's internals (run inside the puppet venv): audio clips cut from the shared speech,
sources prepared once per session, and the engine's own render loop without the encoder (``raw``), so tests
compare raw frames."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from musetalk_wrapper.engines.puppet.prepared import PreparedSource, prepare_source
from musetalk_wrapper.engines.puppet.render import Clip, FrameDrawer, draw_frames, plan_clip, shown_frames
from musetalk_wrapper.media import run_ffmpeg
from musetalk_wrapper.progress import Progress
from musetalk_wrapper.request import RenderRequest

QUIET = Progress(enabled=False)


class Raw:
    """Requests for a clip and the clip's frames as the engine draws them (before encoding)."""

    @staticmethod
    def request(audio: Path, **fields: object) -> RenderRequest:
        return RenderRequest(audio=audio, output=audio.with_suffix(".mp4"), **fields)  # type: ignore[arg-type]

    @staticmethod
    def prepare(req: RenderRequest) -> PreparedSource:
        return prepare_source(req, QUIET)

    @staticmethod
    def render(
        req: RenderRequest,
        source: PreparedSource | None = None,
    ) -> tuple[list[np.ndarray], Clip, PreparedSource]:
        source = source or prepare_source(req, QUIET)
        clip = plan_clip(req, QUIET)
        source.need(shown_frames(clip, source), QUIET)
        return [f.image for f in draw_frames(FrameDrawer(clip, source))], clip, source


@pytest.fixture(scope="session")
def raw() -> Raw:
    return Raw()


@pytest.fixture(scope="session")
def clips(media_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, float, float], Path]:
    """clips(kind, start_s, seconds): a WAV of eng.wav ('speech') or of digital silence ('silence')."""
    folder = tmp_path_factory.mktemp("clips")
    made: dict[tuple[str, float, float], Path] = {}

    def clip(kind: str, start_s: float, seconds: float) -> Path:
        key = (kind, start_s, seconds)
        if key not in made:
            out = folder / f"{kind}-{start_s:g}-{seconds:g}.wav"
            if kind == "speech":
                run_ffmpeg(
                    ["-ss", f"{start_s}", "-t", f"{seconds}", "-i", str(media_dir / "eng.wav"), str(out)],
                    "cutting speech",
                )
            else:
                run_ffmpeg(
                    ["-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", f"{seconds}", str(out)], "making silence"
                )
            made[key] = out
        return made[key]

    return clip


@pytest.fixture(scope="session")
def man_photo(media_dir: Path, clips: Callable[[str, float, float], Path], raw: Raw) -> PreparedSource:
    return raw.prepare(raw.request(clips("silence", 0, 1), image=media_dir / "man.png"))


@pytest.fixture(scope="session")
def sun_video(media_dir: Path, clips: Callable[[str, float, float], Path], raw: Raw) -> PreparedSource:
    """sun.mp4 prepared over its first seconds (rig, bank) and frames 0..99."""
    source = raw.prepare(raw.request(clips("silence", 0, 1), video=media_dir / "sun.mp4"))
    source.need(np.arange(100), QUIET)
    return source
