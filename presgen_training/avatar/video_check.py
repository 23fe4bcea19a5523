"""An engine's video is trusted for nothing: it must be the file we asked for, decode to its end, run at the output
frame rate and last as long as its audio."""

from __future__ import annotations

from pathlib import Path

from presgen_training.errors import MediaError
from presgen_training.ffmpeg import DURATION_TOLERANCE_S, OUTPUT_FPS, decodes_to_end, probe

FPS_TOLERANCE = 0.01  # frames per second


class VideoCheckFailure(Exception):
    code = "BAD_OUTPUT"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_video(reported: Path, requested: Path, expected_duration_s: float) -> None:
    """VideoCheckFailure with a one-line reason when the engine's video cannot be used."""
    if reported.resolve() != requested.resolve():
        raise VideoCheckFailure(f"engine wrote {reported} instead of the requested {requested}")
    if not requested.is_file() or requested.stat().st_size == 0:
        raise VideoCheckFailure(f"engine reported success but {requested.name} does not exist or is empty")
    try:
        info = probe(requested)
    except MediaError as exc:
        raise VideoCheckFailure(f"engine video does not decode: {exc}") from None
    if not info.has_video or info.duration_s is None:
        raise VideoCheckFailure(f"engine output {requested.name} has no video stream")
    if abs(info.duration_s - expected_duration_s) > DURATION_TOLERANCE_S:
        raise VideoCheckFailure(
            f"engine video lasts {info.duration_s:.2f} s but its audio lasts {expected_duration_s:.2f} s"
        )
    if info.fps is not None and abs(info.fps - OUTPUT_FPS) > FPS_TOLERANCE:
        raise VideoCheckFailure(f"engine video is {info.fps} fps, expected {OUTPUT_FPS}")
    if not decodes_to_end(requested):
        raise VideoCheckFailure(f"engine video {requested.name} is truncated or corrupt at the end")
