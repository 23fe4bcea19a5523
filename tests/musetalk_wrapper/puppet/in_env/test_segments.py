"""The motion clock of SEGMENTS.md in the puppet engine, on raw frames (before encoding): a clip rendered alone
equals the same frames inside a longer render, the handoff joins clips without a jump, a clip late in a long
source decodes only what it shows, and one engine instance prepares a source once for several clips."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from musetalk_wrapper.engines.puppet import prepared
from musetalk_wrapper.engines.puppet.engine import PuppetEngine
from musetalk_wrapper.engines.puppet.landmarks import MOUTH_POINTS, SUBNASALE, FaceFrame
from musetalk_wrapper.engines.puppet.motion import HANDOFF_FRAMES
from musetalk_wrapper.engines.puppet.mouth_bank import BANK_SPAN_S
from musetalk_wrapper.engines.puppet.prepared import (
    CHUNK_FRAMES,
    SMOOTH_WINDOW,
    PreparedSource,
    interpolate_between,
    measured_positions,
)
from musetalk_wrapper.engines.puppet.render import source_index
from musetalk_wrapper.engines.puppet.tracking import Detection
from musetalk_wrapper.media import probe, read_video_frames, run_ffmpeg
from musetalk_wrapper.progress import Progress

FPS = 25
QUIET = Progress(enabled=False)


@pytest.fixture(scope="module")
def sources(media_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """A 4 s cut of sun.mp4 (preparing it is quick) and man.png."""
    short = tmp_path_factory.mktemp("short") / "sun4.mp4"
    run_ffmpeg(
        [
            "-i",
            str(media_dir / "sun.mp4"),
            "-t",
            "4",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-crf",
            "12",
            str(short),
        ],
        "cutting sun.mp4",
    )
    return {"video": {"video": short}, "photo": {"image": media_dir / "man.png"}}


@pytest.mark.parametrize("kind", ["video", "photo"])
def test_a_clip_alone_equals_the_same_frames_inside_a_longer_render(
    kind: str, sources: dict[str, dict[str, Any]], clips: Callable[..., Path], raw: Any
) -> None:
    """6 s in one clip, or 3 s + 3 s with start_s/handoff_s, each clip from a freshly prepared source (as two
    processes would): the same frames bit for bit, in silence (the mouth at rest) and, with speech, everywhere
    above the mouth's warp (the mouth follows each clip's own audio)."""
    source = sources[kind]
    prepared: list[Any] = [None, None, None]
    for audio in ("silence", "speech"):
        whole, _, prepared[0] = raw.render(raw.request(clips(audio, 2.0, 6.0), **source), prepared[0])
        first, _, prepared[1] = raw.render(raw.request(clips(audio, 2.0, 3.0), handoff_s=3.0, **source), prepared[1])
        second, _, prepared[2] = raw.render(raw.request(clips(audio, 5.0, 3.0), start_s=3.0, **source), prepared[2])
        assert len(whole) == len(first) + len(second) == 6 * FPS
        split = first + second
        if audio == "silence":
            assert all(np.array_equal(a, b) for a, b in zip(whole, split, strict=True))
        else:
            pts = prepared[2].points(0)
            f = FaceFrame.from_landmarks(pts)
            top = int(pts[SUBNASALE, 1] - 0.1 * f.scale)  # above the mesh, with room for the head's sway
            assert all(np.array_equal(a[:top], b[:top]) for a, b in zip(whole, split, strict=True))
            assert sum(not np.array_equal(a, b) for a, b in zip(whole, split, strict=True)) > 0  # speech differs


@pytest.mark.parametrize("kind", ["video", "photo"])
def test_the_handoff_ends_on_the_frame_before_the_next_clip(
    kind: str, sources: dict[str, dict[str, Any]], clips: Callable[..., Path], raw: Any
) -> None:
    """Section 1 of a course ends by dissolving into the motion just before 2000 s, where section 2 starts."""
    source = sources[kind]
    ending, _clip, prepared = raw.render(
        raw.request(clips("silence", 0, 2.0), start_s=1000.0, handoff_s=2000.0, **source)
    )
    just_before, _, _ = raw.render(raw.request(clips("silence", 0, 1.0), start_s=2000.0 - 1 / FPS, **source), prepared)
    assert np.array_equal(ending[-1], just_before[0])
    # the same clip without a handoff (its own clock) and the one it hands off to (the next clip's clock)
    own, _, _ = raw.render(raw.request(clips("silence", 0, 2.0), start_s=1000.0, **source), prepared)
    nxt, _, _ = raw.render(raw.request(clips("silence", 0, 2.0), start_s=2000.0 - 2.0, **source), prepared)
    n, k = len(ending), HANDOFF_FRAMES
    assert all(np.array_equal(ending[i], own[i]) for i in range(n - k))
    for j in range(k):
        i, w = n - k + j, (j + 1) / k
        if kind == "video":  # both source frames drawn with the same mouth, cross-dissolved
            mix = own[i] * (1.0 - w) + nxt[i] * w
            assert np.abs(ending[i].astype(float) - mix).max() <= 1.0
        elif j < k - 1:  # a photo blends the motion (sway, blink, eye line) instead: in between the two
            assert not np.array_equal(ending[i], own[i]) and not np.array_equal(ending[i], nxt[i])


def test_a_late_clip_decodes_only_its_own_chunks(media_dir: Path, clips: Callable[..., Path], raw: Any) -> None:
    """start_s = 1029.36 s shows sun.mp4's frames from 480 on: the clip tracks their chunks and the first seconds
    (rig and mouth bank), not the middle; and each frame equals the one a render from the start shows there."""
    late, clip, prepared = raw.render(
        raw.request(clips("silence", 0, 2.0), start_s=1029.36, video=media_dir / "sun.mp4")
    )
    shown = [source_index(p.tick, prepared) for p in clip.clock]
    assert shown[0] == 480
    span = int(BANK_SPAN_S * FPS) + SMOOTH_WINDOW
    expected = set(range((span - 1) // CHUNK_FRAMES + 1)) | {k // CHUNK_FRAMES for k in range(470, 550)}
    assert set(prepared._chunks) == expected
    assert not {7, 8} & set(prepared._chunks)
    early, _, _ = raw.render(raw.request(clips("silence", 0, 1.0), start_s=480 / FPS, video=media_dir / "sun.mp4"))
    assert np.array_equal(late[0], early[0]) and np.array_equal(late[10], early[10])


def test_one_engine_prepares_a_source_once_for_many_clips(
    media_dir: Path, clips: Callable[..., Path], tmp_path: Path
) -> None:
    engine = PuppetEngine()
    quiet = Progress(enabled=False)
    try:
        outputs = []
        for k in range(3):
            req = raw_request(
                clips("speech", 2.0 + k, 2.0),
                tmp_path / f"section{k}.mp4",
                media_dir / "sun.mp4",
                start_s=1000.0 * k,
                handoff_s=1000.0 * (k + 1) if k < 2 else None,
            )
            outputs.append(engine.render(req, quiet))
        assert [o.details["source_reused"] for o in outputs] == [False, True, True]
        assert outputs[1].timings_s["track"] < 0.5 * outputs[0].timings_s["track"] + 0.5
        for k, out in enumerate(outputs):
            path = tmp_path / f"section{k}.mp4"
            assert out.frames == 2 * FPS and probe(path).has_audio
            assert sum(1 for _ in read_video_frames(path)) == 2 * FPS
    finally:
        engine.close()


def raw_request(audio: Path, output: Path, video: Path, **fields: Any) -> Any:
    from musetalk_wrapper.request import RenderRequest

    return RenderRequest(audio=audio, output=output, video=video, **fields)


def test_frames_between_measured_ones_are_their_neighbours_mean() -> None:
    a = Detection(np.zeros((478, 2)), np.zeros(478))
    b = Detection(np.full((478, 2), 4.0), np.full(478, 2.0))
    measured = measured_positions(5)
    assert measured == [0, 2, 4]
    filled = interpolate_between([a, None, b, None, None], measured)
    assert filled[1] is not None and np.allclose(filled[1].points, 2.0) and np.allclose(filled[1].depth, 1.0)
    assert filled[3] is None  # a neighbour without a face: no face, to be judged like any missed frame
    assert measured_positions(50)[-2:] == [48, 49]  # a chunk's last frame is measured: no chunk needs the next


def test_tracking_every_other_frame_stays_within_a_pixel_of_tracking_every_frame(
    sun_video: PreparedSource, media_dir: Path, clips: Callable[..., Path], raw: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(prepared, "TRACK_STRIDE", 1)
    every = raw.prepare(raw.request(clips("silence", 0, 1), video=media_dir / "sun.mp4"))
    try:
        every.need(np.arange(100), QUIET)
        moved = np.stack([np.hypot(*(every.points(k) - sun_video.points(k)).T) for k in range(100)])
    finally:
        every.close()
    lips = moved[:, list(MOUTH_POINTS)]
    assert lips.max() < 1.0 and np.percentile(moved, 99) < 1.0, (lips.max(), np.percentile(moved, 99))
