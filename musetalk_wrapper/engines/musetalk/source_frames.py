"""The presenter's frames, decoded once per render into a disk-backed array.

Only as many frames as the narration needs are decoded; a video shorter than the audio is played back and
forth (frames 0..N-1, N-1..0, ...), as upstream does. Sizes are made even (yuv420p) and the longest side is
capped so a 4K source does not need gigabytes per second of output.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

import cv2
import numpy as np

from musetalk_wrapper import media
from musetalk_wrapper.contract import EngineError, ErrorCode

MAX_SIDE_PX = 1920


def _even(frame: np.ndarray) -> np.ndarray:
    h, w = frame.shape[:2]
    return frame[: h - h % 2, : w - w % 2]


def _cap(frame: np.ndarray, max_side: int) -> np.ndarray:
    h, w = frame.shape[:2]
    if max(h, w) <= max_side:
        return frame
    scale = max_side / max(h, w)
    return cv2.resize(frame, (int(w * scale), int(h * scale)), interpolation=cv2.INTER_AREA)


class SourceFrames:
    """Random access to the first ``count`` frames (RGB uint8) of an image or video."""

    def __init__(self, source: Path, is_image: bool, needed: int, fps: int, max_side: int = MAX_SIDE_PX) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="presgen-musetalk-frames-")
        self._frames: np.ndarray | None = None
        self.count = 0
        if is_image:
            self._append(_even(_cap(media.load_image(source), max_side)), 1)
        else:
            for frame in media.read_video_frames(source, fps=fps, max_side=max_side):
                self._append(_even(frame), needed)
                if self.count >= needed:
                    break
        if self.count == 0 or self._frames is None:
            raise EngineError(ErrorCode.BAD_INPUT, f"no decodable frames in {source}")
        self.height, self.width = self._frames.shape[1:3]

    def _append(self, frame: np.ndarray, capacity: int) -> None:
        if self._frames is None:
            path = Path(self._tmp.name) / "frames.u8"
            self._frames = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8,
                                                     shape=(max(capacity, 1), *frame.shape))
        self._frames[self.count] = frame
        self.count += 1

    def __getitem__(self, index: int) -> np.ndarray:
        assert self._frames is not None and 0 <= index < self.count
        return np.asarray(self._frames[index])

    def source_index(self, output_index: int) -> int:
        """Ping-pong mapping of an output frame to a source frame."""
        n = self.count
        k = output_index % (2 * n)
        return k if k < n else 2 * n - 1 - k

    def close(self) -> None:
        self._frames = None
        self._tmp.cleanup()
