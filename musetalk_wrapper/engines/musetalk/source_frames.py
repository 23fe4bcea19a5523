"""The presenter's frames at 25 fps, decoded on demand into a disk-backed array.

A video is resampled to the output rate (``fps``) as it is read, so source frame k is the picture at k / fps
seconds whatever the file's own rate; the motion clock then maps output frames to source frames 1:1 (upstream
builds its audio windows at the source's rate instead; see the README). Opening counts the frames (one decode,
nothing kept); ``ensure`` decodes only the frames a render needs, into a sparse memory-mapped file, so a long
source costs disk only for the frames shown. Sizes are made even (yuv420p) and the longest side is capped, so
a 4K source does not need gigabytes per second of output.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path

import cv2
import numpy as np

from musetalk_wrapper import media
from musetalk_wrapper.contract import EngineError, ErrorCode


def _even(frame: np.ndarray) -> np.ndarray:
    h, w = frame.shape[:2]
    return frame[: h - h % 2, : w - w % 2]


def _cap(frame: np.ndarray, max_side: int) -> np.ndarray:
    h, w = frame.shape[:2]
    if max(h, w) <= max_side:
        return frame
    scale = max_side / max(h, w)
    result: np.ndarray = cv2.resize(frame, (int(w * scale), int(h * scale)), interpolation=cv2.INTER_AREA)
    return result


def pingpong(position: int, count: int) -> int:
    """Source frame at ``position`` of frames 0..N-1, N-1..0, 0..N-1, ... (upstream's ``frames + frames[::-1]``)."""
    k = position % (2 * count)
    return k if k < count else 2 * count - 1 - k


class SourceFrames:
    """Random access to the frames (RGB uint8) of an image or a video, decoded when first needed."""

    def __init__(self, source: Path, is_image: bool, fps: int, max_side: int = media.MAX_SIDE_PX) -> None:
        self.source, self.is_image, self.fps, self.max_side = source, is_image, fps, max_side
        self._tmp = tempfile.TemporaryDirectory(prefix="presgen-musetalk-frames-")
        self._frames: np.ndarray | None = None
        if is_image:
            first = _even(_cap(media.load_image(source), max_side))
            self.count = 1
        else:
            first, self.count = None, 0
            for frame in self._read():
                first = first if first is not None else _even(frame).copy()
                self.count += 1
        if self.count == 0 or first is None:
            raise EngineError(ErrorCode.BAD_INPUT, f"no decodable frames in {source}")
        self.height, self.width = first.shape[:2]
        path = Path(self._tmp.name) / "frames.u8"  # sparse: only written frames take disk space
        self._frames = np.lib.format.open_memmap(
            path, mode="w+", dtype=np.uint8, shape=(self.count, self.height, self.width, 3)
        )
        self._have = np.zeros(self.count, dtype=bool)
        self._frames[0] = first
        self._have[0] = True

    def _read(self) -> Iterable[np.ndarray]:
        return media.read_video_frames(self.source, fps=self.fps, max_side=self.max_side)

    def ensure(self, indices: Iterable[int]) -> None:
        """Decode the frames among ``indices`` not decoded yet (one pass over the video, stopping early)."""
        assert self._frames is not None
        missing = {i for i in indices if not self._have[i]}
        if not missing:
            return
        last = max(missing)
        for k, frame in enumerate(self._read()):
            if k in missing:
                self._frames[k] = _even(frame)
                self._have[k] = True
            if k >= last:
                break
        if not self._have[list(missing)].all():
            raise EngineError(ErrorCode.BAD_INPUT, f"{self.source} changed while it was being read")

    def __getitem__(self, index: int) -> np.ndarray:
        assert self._frames is not None and self._have[index], index
        return np.asarray(self._frames[index])

    def close(self) -> None:
        self._frames = None
        self._tmp.cleanup()
