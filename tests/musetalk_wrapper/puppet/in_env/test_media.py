"""musetalk_wrapper.media inside the puppet env: ping-pong indexing and the ffmpeg probe of generated clips."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from musetalk_wrapper.media import VideoWriter, pingpong_index, probe, read_video_frames, run_ffmpeg


def test_pingpong_turns_without_repeating_an_end_frame() -> None:
    shown = [pingpong_index(i, 4) for i in range(13)]
    assert shown == [0, 1, 2, 3, 2, 1, 0, 1, 2, 3, 2, 1, 0]


def test_video_writer_output_probes_as_written(tmp_path: Path) -> None:
    audio = tmp_path / "tone.wav"
    run_ffmpeg(["-f", "lavfi", "-i", "sine=frequency=440:duration=1", "-ar", "16000", str(audio)], "tone")
    out = tmp_path / "clip.mp4"
    with VideoWriter(out, 64, 48, audio) as writer:
        for i in range(25):
            writer.write(np.full((48, 64, 3), i * 10, np.uint8))
    info = probe(out)
    assert (info.width, info.height, info.has_audio) == (64, 48, True)
    assert abs(info.duration_s - 1.0) < 0.05
    frames = list(read_video_frames(out))
    assert len(frames) == 25
    assert abs(int(frames[12].mean()) - 120) <= 3
    assert not list(tmp_path.glob(".*partial*"))
