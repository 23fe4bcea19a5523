"""The static avatar engine: a still (or the video played forward and backward) for exactly the audio's length."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from presgen_training.avatar import static
from presgen_training.avatar.static import render_static
from presgen_training.errors import MediaError
from presgen_training.ffmpeg import count_frames, file_arg, probe, read_frames, run_ffmpeg

pytestmark = pytest.mark.slow
FPS = 25
SAME = 6.0  # mean absolute difference (0-255) below which two decoded frames show the same picture


@pytest.fixture(scope="module")
def speech(media_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """7.3 s of real speech (not a whole number of frames on purpose)."""
    out = tmp_path_factory.mktemp("speech") / "speech.wav"
    run_ffmpeg(["-i", file_arg(media_dir / "eng.wav"), "-t", "7.3", "-c:a", "pcm_s16le", file_arg(out)], "cut")
    return out


@pytest.fixture(scope="module")
def short_clip(media_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 2 s (50 frames) of sun.mp4: far shorter than the speech, so it must ping-pong."""
    out = tmp_path_factory.mktemp("clip") / "clip.mp4"
    run_ffmpeg(
        [
            "-i",
            file_arg(media_dir / "sun.mp4"),
            "-frames:v",
            "50",
            "-an",
            "-c:v",
            "libx264",
            "-crf",
            "12",
            "-pix_fmt",
            "yuv420p",
            file_arg(out),
        ],
        "cut",
    )
    return out


def frames(video: Path, width: int, height: int) -> list[np.ndarray]:
    return [
        np.frombuffer(f, np.uint8).reshape(height, width, 3).astype(np.int16) for f in read_frames(video, width, height)
    ]


def diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).mean())


def assert_avatar_video(path: Path, audio_s: float) -> None:
    info = probe(path)
    assert info.video_codec == "h264" and info.pix_fmt == "yuv420p" and info.audio_codec == "aac"
    assert info.fps == FPS
    assert info.width is not None and info.height is not None and info.width % 2 == 0 and info.height % 2 == 0
    assert info.duration_s is not None and abs(info.duration_s - audio_s) <= 0.04
    assert abs(count_frames(path) - round(audio_s * FPS)) <= 1


def test_still_photo_lasts_as_long_as_the_audio(
    media_dir: Path, speech: Path, tmp_path: Path, artifacts_dir: Path
) -> None:
    out = tmp_path / "photo.mp4"
    result = render_static(media_dir / "man.png", speech, out, max_side=768)
    assert result.source_kind == "image"
    assert (result.width, result.height) == (512, 768)  # 1024x1536 shrunk to fit 768, aspect kept
    assert result.frames == round(7.3 * FPS)
    assert_avatar_video(out, 7.3)
    video = frames(out, 256, 384)
    assert max(diff(video[0], f) for f in video) < 2.0  # the same picture all along
    Image.fromarray(video[len(video) // 2].astype(np.uint8)).save(artifacts_dir / "static-photo.png")


def test_odd_sized_photo_gets_even_dimensions(media_dir: Path, speech: Path, tmp_path: Path) -> None:
    result = render_static(media_dir / "sit.jpeg", speech, tmp_path / "sit.mp4")  # 450x675
    assert (result.width % 2, result.height % 2) == (0, 0)
    assert_avatar_video(tmp_path / "sit.mp4", 7.3)


def test_short_video_ping_pongs_without_jumps(
    short_clip: Path, speech: Path, tmp_path: Path, artifacts_dir: Path
) -> None:
    out = tmp_path / "pingpong.mp4"
    result = render_static(short_clip, speech, out)
    assert result.source_kind == "video" and result.frames == round(7.3 * FPS)
    assert_avatar_video(out, 7.3)
    got = frames(out, 144, 192)
    source = frames(short_clip, 144, 192)
    cycle = 2 * len(source) - 2  # 0..49 forward, 48..1 backward
    for n in range(len(got)):
        k = n % cycle
        expected = source[k] if k < len(source) else source[cycle - k]
        assert diff(got[n], expected) < SAME, f"frame {n} is not source frame {k if k < len(source) else cycle - k}"
    steps = [diff(got[n], got[n + 1]) for n in range(len(got) - 1)]
    typical = float(np.median(steps))
    for turn in (len(source) - 1, cycle - 1, cycle + len(source) - 1):  # both turn-arounds, and the second cycle
        assert steps[turn] <= 3 * typical + 1.0, f"jump at the turn-around after frame {turn}"
    strip = np.concatenate([got[n] for n in range(44, 56, 2)], axis=1).astype(np.uint8)
    Image.fromarray(strip).save(artifacts_dir / "static-pingpong-turn.png")


def test_ping_pong_memory_is_bounded(
    short_clip: Path, speech: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With room for only 20 frames in the reverse buffer, the cycle uses the clip's first 20 frames."""
    info = probe(short_clip)
    assert info.width and info.height
    monkeypatch.setattr(static, "PINGPONG_MAX_BYTES", 20 * info.width * info.height * 3 // 2)
    out = tmp_path / "bounded.mp4"
    render_static(short_clip, speech, out)
    assert_avatar_video(out, 7.3)
    got = frames(out, 144, 192)
    source = frames(short_clip, 144, 192)[:20]
    cycle = 2 * 20 - 2
    for n in range(0, len(got), 7):
        k = n % cycle
        assert diff(got[n], source[k] if k < 20 else source[cycle - k]) < SAME


def test_long_video_plays_forward(media_dir: Path, speech: Path, tmp_path: Path) -> None:
    out = tmp_path / "forward.mp4"
    render_static(media_dir / "sun.mp4", speech, out, max_side=384)  # 22 s of video for 7.3 s of audio
    assert_avatar_video(out, 7.3)
    got = frames(out, 144, 192)
    source = [f for f, _ in zip(_frames_iter(media_dir / "sun.mp4", 144, 192), range(len(got)))]
    assert all(diff(g, s) < SAME for g, s in zip(got[::10], source[::10]))


def _frames_iter(video: Path, width: int, height: int) -> Iterator[np.ndarray]:
    for f in read_frames(video, width, height):
        yield np.frombuffer(f, np.uint8).reshape(height, width, 3).astype(np.int16)


@pytest.mark.parametrize(
    "case", ["missing-source", "corrupt-source", "audio-is-silent-video", "missing-audio", "source-is-audio"]
)
def test_bad_input_is_one_line_and_leaves_no_file(case: str, media_dir: Path, speech: Path, tmp_path: Path) -> None:
    source, audio = media_dir / "man.png", speech
    if case == "missing-source":
        source = tmp_path / "nobody.png"
    elif case == "corrupt-source":
        source = tmp_path / "broken.mp4"
        source.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x13\x37" * 4000)
    elif case == "audio-is-silent-video":
        audio = media_dir / "sun.mp4"
    elif case == "missing-audio":
        audio = tmp_path / "gone.wav"
    else:
        source = media_dir / "eng.wav"
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(MediaError) as err:
        render_static(source, audio, out_dir / "avatar.mp4")
    message = str(err.value)
    assert message and "\n" not in message
    assert list(out_dir.iterdir()) == []
