"""The join: the finished video's sound encoded ahead of the join (while overlays render) is what the join would
have encoded itself, and it still waits past an intro card."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from presgen_training.ffmpeg import OUTPUT_FPS, count_frames, file_arg, probe, run_ffmpeg
from presgen_training.segments.concat import write_final, write_final_audio

CLIP_FRAMES = 25  # frames per test clip
DELAY_FRAMES = 12  # an intro card's frames before the narration starts
RATE_HZ = 48000


@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], Path]:
    folder = tmp_path_factory.mktemp("concat")
    clips = []
    for index in range(2):
        clip = folder / f"clip{index}.mp4"
        source = f"testsrc2=size=160x120:rate={OUTPUT_FPS}:duration={CLIP_FRAMES / OUTPUT_FPS}"
        run_ffmpeg(["-f", "lavfi", "-i", source, "-c:v", "libx264", "-pix_fmt", "yuv420p", file_arg(clip)], "clip")
        clips.append(clip)
    narration = folder / "narration.wav"
    run_ffmpeg(["-f", "lavfi", "-i", "sine=frequency=440:duration=1.2:sample_rate=24000", file_arg(narration)], "wav")
    return clips, narration


def _samples(path: Path) -> np.ndarray:
    raw = run_ffmpeg(
        ["-i", file_arg(path), "-map", "0:a:0", "-f", "s16le", "-ac", "1", "-ar", str(RATE_HZ), "-"], "pcm"
    )
    return np.frombuffer(raw, dtype=np.int16)


def _video_md5(path: Path) -> bytes:
    return run_ffmpeg(["-i", file_arg(path), "-map", "0:v:0", "-f", "framemd5", "-"], "framemd5")


def test_sound_encoded_ahead_equals_the_joins_own(parts: tuple[list[Path], Path], tmp_path: Path) -> None:
    clips, narration = parts
    frames = 2 * CLIP_FRAMES
    joined = tmp_path / "joined.mp4"
    write_final(clips, narration, joined, frames, audio_delay_frames=DELAY_FRAMES)
    track = write_final_audio(narration, tmp_path / "sound.m4a", frames, DELAY_FRAMES)
    copied = tmp_path / "copied.mp4"
    write_final(clips, narration, copied, frames, audio_delay_frames=DELAY_FRAMES, audio_track=track)

    assert np.array_equal(_samples(joined), _samples(copied))
    assert _video_md5(joined) == _video_md5(copied)
    assert count_frames(copied) == frames
    duration_s = probe(copied).duration_s
    assert duration_s is not None and abs(duration_s - frames / OUTPUT_FPS) < 0.05
    assert not list(tmp_path.glob("*.partial*")), "no half-written file is left"

    samples = _samples(copied).astype(np.float64)
    delay = DELAY_FRAMES * RATE_HZ // OUTPUT_FPS
    window = RATE_HZ // 50  # 20 ms
    assert np.abs(samples[: delay - window]).max() < 300, "silent under the intro card"
    assert np.abs(samples[delay + window : delay + 5 * window]).max() > 2000, "the narration starts after it"
