"""The presenter source: a photo (one frame) or a video decoded once to a frame store on disk."""
from __future__ import annotations

import tempfile
from collections.abc import Callable, Generator
from pathlib import Path

import cv2
import numpy as np

from musetalk_wrapper.media import load_image, read_video_frames

MAX_SIDE = 1920  # px: output frames are capped so the longer side is at most this
RAM_BYTES = 1 << 30  # decoded source frames beyond 1 GiB go to a temporary file
# ffmpeg complaints caused by us closing its output pipe early, not by the source
_OUTPUT_SIDE = ("Broken pipe", "muxer", "muxing", "trailer", "closing file", "out#", "vost#", "Conversion failed",
                "Last message repeated")


def output_size(width: int, height: int, max_side: int = MAX_SIDE) -> tuple[int, int]:
    """Even size, scaled down so the longer side is at most ``max_side``."""
    if max(width, height) > max_side:
        scale = max_side / max(width, height)
        width, height = int(width * scale), int(height * scale)
    return width // 2 * 2, height // 2 * 2


def load_photo(path: Path) -> np.ndarray:
    img = load_image(path)
    h, w = img.shape[:2]
    ow, oh = output_size(w, h)
    if max(w, h) > MAX_SIDE:
        img = cv2.resize(img, (ow, oh), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(img[:oh, :ow])


def iter_video(path: Path, fps: int, decode_errors: list[str] | None = None) -> Generator[np.ndarray, None, None]:
    """Frames at ``fps``, capped and cropped to even sizes (the crop drops at most one row and column)."""
    for frame in read_video_frames(path, fps=fps, max_side=MAX_SIDE, decode_errors=decode_errors):
        h, w = frame.shape[:2]
        yield frame[: h // 2 * 2, : w // 2 * 2]


class FrameStore:
    """Up to ``capacity`` decoded frames: in memory when they fit in ``ram_bytes``, else in a temporary raw file
    mapped into memory, so a long 1080p source does not fill RAM."""

    def __init__(self, capacity: int, ram_bytes: int = RAM_BYTES) -> None:
        self.capacity = max(1, capacity)
        self._ram_bytes = ram_bytes
        self._array: np.ndarray | None = None
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self.count = 0

    def append(self, frame: np.ndarray) -> None:
        if self._array is None:
            self._array = self._allocate(frame.shape[0], frame.shape[1])
        if frame.shape != self._array.shape[1:]:
            raise ValueError(f"frame size changed from {self._array.shape[1:]} to {frame.shape}")
        if self.count >= self.capacity:
            raise ValueError(f"more than {self.capacity} frames")
        self._array[self.count] = frame
        self.count += 1

    def _allocate(self, height: int, width: int) -> np.ndarray:
        shape = (self.capacity, height, width, 3)
        if self.capacity * height * width * 3 <= self._ram_bytes:
            return np.empty(shape, dtype=np.uint8)
        self._dir = tempfile.TemporaryDirectory(prefix="presgen-puppet-")
        return np.memmap(Path(self._dir.name) / "frames.rgb", dtype=np.uint8, mode="w+", shape=shape)

    def finish(self) -> np.ndarray:
        """The stored frames as one (N, H, W, 3) array."""
        if self._array is None or self.count == 0:
            raise ValueError("no frames stored")
        return self._array[: self.count]

    def close(self) -> None:
        self._array = None
        if self._dir is not None:
            self._dir.cleanup()


def decode_video(path: Path, fps: int, max_frames: int, store: FrameStore,
                 on_frame: Callable[[int, np.ndarray], bool]) -> list[str]:
    """Decode up to ``max_frames`` frames into ``store``; ``on_frame(i, frame)`` returning False stops early.
    Returns the decoder's error lines (corrupt data it concealed or skipped)."""
    errors: list[str] = []
    frames = iter_video(path, fps, errors)
    try:
        for frame in frames:
            store.append(frame)
            if not on_frame(store.count - 1, frame) or store.count >= max_frames:
                break
    finally:
        frames.close()  # stops ffmpeg now and collects its error lines
    return [ln for ln in errors if not any(k in ln for k in _OUTPUT_SIDE)]
