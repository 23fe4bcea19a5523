"""The musetalk engine in-process on the tiny models, with the frames caught before encoding (bit-exact):
the motion clock (a clip alone equals the same frames in a longer render; the handoff dissolve), reuse of the
prepared source across renders on one engine instance, and the generated mouth fading at pause edges."""

from __future__ import annotations

import wave
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from musetalk_wrapper import media
from musetalk_wrapper.engines.musetalk.blending import dissolve
from musetalk_wrapper.engines.musetalk.clock import HANDOFF_FRAMES, plan
from musetalk_wrapper.engines.musetalk.engine import MuseTalkEngine
from musetalk_wrapper.engines.musetalk.render import DEBUG_DIR_ENV
from musetalk_wrapper.engines.musetalk.silence import mouth_weights
from musetalk_wrapper.engines.musetalk.source_frames import SourceFrames, pingpong
from musetalk_wrapper.progress import Progress
from musetalk_wrapper.request import RenderRequest

FPS = 25
SR = 16000
# (seconds, start in eng.wav or None for digital silence): pauses as TTS narration has them
LAYOUT = ((0.4, None), (1.0, 4.0), (0.9, None), (0.8, 10.0), (0.6, None))
CLIP_START = 42  # frame 1.68 s: inside the 0.9 s pause
SECTION_END = 47  # 1.88 s: a section ending in that pause, with room for the handoff and the mouth's fade


@dataclass
class Rendered:
    frames: np.ndarray  # [n, h, w, 3] uint8, as sent to the encoder
    alpha: np.ndarray  # [n, h, w] uint8: where (and how strongly) a generated mouth was blended in
    mouth: np.ndarray  # per-frame mouth weight
    details: dict[str, Any]


class _CaptureWriter:
    """Stands in for media.VideoWriter: keeps the frames, encodes nothing."""

    captured: ClassVar[list[np.ndarray]] = []

    def __init__(self, output: Path, width: int, height: int, audio: Path, fps: int = FPS, **_: Any) -> None:
        self.output = output
        _CaptureWriter.captured = []

    def write(self, frame: np.ndarray) -> None:
        _CaptureWriter.captured.append(np.array(frame, dtype=np.uint8))

    def __enter__(self) -> _CaptureWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.output.write_bytes(b"")


def write_wav(path: Path, audio: np.ndarray) -> Path:
    with wave.open(str(path), "wb") as fh:
        fh.setnchannels(1)
        fh.setsampwidth(2)
        fh.setframerate(SR)
        fh.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())
    return path


@pytest.fixture(scope="module")
def narration(media_dir: Path) -> np.ndarray:
    speech = media.load_audio(media_dir / "eng.wav", SR)
    parts = [
        np.zeros(int(s * SR), np.float32) if at is None else speech[int(at * SR) : int((at + s) * SR)]
        for s, at in LAYOUT
    ]
    return np.concatenate(parts)


@pytest.fixture
def render(tiny_models: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Rendered]]:
    monkeypatch.setattr(media, "VideoWriter", _CaptureWriter)
    count = [0]

    def run(engine: MuseTalkEngine, audio: np.ndarray, source: Path, **options: Any) -> Rendered:
        count[0] += 1
        debug = tmp_path / f"debug{count[0]}"
        monkeypatch.setenv(DEBUG_DIR_ENV, str(debug))
        wav = write_wav(tmp_path / f"a{count[0]}.wav", audio)
        flag = "image" if source.suffix == ".png" else "video"
        request = RenderRequest(
            audio=wav,
            output=tmp_path / f"o{count[0]}.mp4",
            models_dir=tiny_models,
            cache_dir=tmp_path.parent / "avatar-cache",
            device="cpu",
            **{flag: source},
            **options,
        )
        out = engine.render(request, Progress(enabled=False))
        dbg = np.load(debug / "blend_masks.npz")
        return Rendered(np.stack(_CaptureWriter.captured), dbg["masks"], dbg["mouth"], out.details)

    yield run


def test_clock_plan_and_handoff_weights() -> None:
    frames = plan(40, FPS, 30, start_s=2.0, handoff_s=1000.0)
    assert [f.primary for f in frames[:3]] == [9, 8, 7]  # position 50 of 30 frames: on the way back
    assert [f.primary for f in frames[:12]] == [pingpong(50 + i, 30) for i in range(12)]
    window = [f for f in frames if f.weight > 0]
    assert len(window) == HANDOFF_FRAMES and frames[-1].weight == 1.0
    assert [f.weight for f in window] == [k / HANDOFF_FRAMES for k in range(1, HANDOFF_FRAMES + 1)]
    assert frames[-1].secondary == pingpong(25000 - 1, 30)  # the motion at H - 1/fps
    assert frames[-1].sources == (frames[-1].secondary,)
    assert all(f.secondary == f.primary for f in frames[:-HANDOFF_FRAMES])
    assert len([f for f in plan(6, FPS, 30, 0.0, 10.0) if f.weight > 0]) == 3  # at most half a short clip
    assert plan(5, FPS, 30) == plan(5, FPS, 30, 0.0, None)


def test_mouth_fades_over_three_pause_frames_at_each_edge() -> None:
    silent = np.array([1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0], dtype=bool)
    w = mouth_weights(silent)
    assert w[5] == w[6] == w[16] == 1.0
    assert w[4] == 0.75 and w[3] == 0.5 and w[2] == 0.25 and w[1] == 0.0
    assert w[7] == 0.75 and w[8] == 0.5 and w[9] == 0.25 and w[10] == w[11] == 0.0
    assert w[13] == 0.25 and w[14] == 0.5 and w[15] == 0.75
    assert not mouth_weights(np.ones(5, dtype=bool)).any()


def test_source_frames_count_the_whole_video_and_decode_on_demand(media_dir: Path) -> None:
    frames = SourceFrames(media_dir / "sun.mp4", False, FPS)
    try:
        assert frames.count > 100 and (frames.height, frames.width) == (768, 576)
        frames.ensure([frames.count - 1, 3])
        last = frames[frames.count - 1]
        assert last.shape == (768, 576, 3) and last.any()
        with pytest.raises(AssertionError):
            frames[5]  # never decoded
    finally:
        frames.close()


def test_clip_alone_equals_the_same_frames_in_a_longer_render(
    render: Callable[..., Rendered], narration: np.ndarray, media_dir: Path
) -> None:
    engine = MuseTalkEngine()
    whole = render(engine, narration, media_dir / "sun.mp4")
    n = len(whole.frames)
    assert n == round(len(narration) / SR * FPS) and whole.details["avatar_in_memory"] is False
    clip = render(engine, narration[CLIP_START * SR // FPS :], media_dir / "sun.mp4", start_s=CLIP_START / FPS)
    assert len(clip.frames) == n - CLIP_START
    # the second render on the same engine prepared nothing: decoded frames and preparation came from memory
    assert clip.details["avatar_in_memory"] is True and clip.details["prepared_frames"] == 0
    part = whole.frames[CLIP_START:]
    no_mouth = (whole.alpha[CLIP_START:] == 0) & (clip.alpha == 0)
    assert no_mouth.mean() > 0.97
    assert np.array_equal(part[no_mouth], clip.frames[no_mouth]), "motion outside the mouth is bit-identical"
    quiet = (whole.mouth[CLIP_START:] == 0) & (clip.mouth == 0)
    assert quiet.sum() >= 10 and np.array_equal(part[quiet], clip.frames[quiet]), "pause frames are identical"


def test_handoff_dissolves_into_where_the_next_clip_starts(
    render: Callable[..., Rendered], narration: np.ndarray, media_dir: Path
) -> None:
    source = SourceFrames(media_dir / "sun.mp4", False, FPS)
    count = source.count
    handoff = 2 * count / FPS  # one whole back-and-forth later: the same source frames as the other tests use
    engine = MuseTalkEngine()
    first = render(engine, narration[: SECTION_END * SR // FPS], media_dir / "sun.mp4", handoff_s=handoff)
    second = render(engine, narration[SECTION_END * SR // FPS :], media_dir / "sun.mp4", start_s=handoff)
    try:
        n, at = len(first.frames), 2 * count
        positions = [pingpong(at - 1, count), pingpong(n - HANDOFF_FRAMES - 1, count), pingpong(at, count)]
        source.ensure(positions)
        assert first.details["handoff_frames"] == HANDOFF_FRAMES and first.mouth[-HANDOFF_FRAMES:].max() == 0
        assert np.array_equal(first.frames[-1], source[positions[0]]), "the last frame shows H - 1/fps"
        assert np.array_equal(first.frames[n - HANDOFF_FRAMES - 1], source[positions[1]]), "before: the own clock"
        assert second.mouth[0] == 0 and np.array_equal(second.frames[0], source[positions[2]])
        # across the join the picture moves by one source frame, no more
        join = np.abs(first.frames[-1].astype(int) - second.frames[0].astype(int)).mean()
        step = np.abs(source[positions[0]].astype(int) - source[positions[2]].astype(int)).mean()
        assert join == step
        i = n - HANDOFF_FRAMES // 2 - 1  # inside the window: the two clocks' frames, cross-dissolved
        step_plan = plan(n, FPS, count, 0.0, handoff)[i]
        source.ensure([step_plan.primary, step_plan.secondary])
        assert 0 < step_plan.weight < 1 and step_plan.primary != step_plan.secondary
        assert np.array_equal(
            first.frames[i], dissolve(source[step_plan.primary], source[step_plan.secondary], step_plan.weight)
        )
    finally:
        source.close()


def test_pause_edges_fade_instead_of_jumping(
    render: Callable[..., Rendered], narration: np.ndarray, media_dir: Path, artifacts_dir: Path
) -> None:
    """A still photo: consecutive frames differ only by the mouth. Measure the mean absolute difference of the
    lower face between consecutive frames at the pause edges against inside speech."""
    out = render(MuseTalkEngine(), narration, media_dir / "man.png")
    region = out.alpha.max(axis=0) > 0
    lower = out.frames[:, region].astype(np.float32)
    jumps = np.abs(np.diff(lower, axis=0)).mean(axis=(1, 2))  # jumps[i]: frame i -> i + 1
    speaking = out.mouth == 1.0
    inside = [jumps[i] for i in range(len(jumps)) if speaking[i] and speaking[i + 1]]
    edges = [jumps[i] for i in range(len(jumps)) if (0 < out.mouth[i] < 1) or (0 < out.mouth[i + 1] < 1)]
    full_switch = np.abs(lower[speaking] - lower[out.mouth == 0][0]).mean()  # what a one-frame switch would cost
    figures = {
        "edge_max": float(np.max(edges)),
        "inside_median": float(np.median(inside)),
        "full_switch": float(full_switch),
    }
    (artifacts_dir / "musetalk_pause_fade.txt").write_text(repr(figures) + "\n")
    assert len(edges) >= 8
    assert np.max(edges) <= 0.4 * full_switch, figures
    assert np.max(edges) <= max(2.0 * np.median(inside), 0.4 * full_switch), figures
