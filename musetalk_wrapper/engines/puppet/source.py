"""The presenter source: a photo (one frame) or a video decoded in fixed chunks of frames, kept in memory up to a
budget and in temporary files beyond it."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Generator
from pathlib import Path

import cv2
import numpy as np

from musetalk_wrapper.media import MAX_SIDE_PX, load_image, read_video_frames

RAM_BYTES = 1 << 30  # decoded source frames beyond 1 GiB go to temporary files
# ffmpeg complaints caused by us closing its output pipe early, not by the source
_OUTPUT_SIDE = (
    "Broken pipe",
    "muxer",
    "muxing",
    "trailer",
    "closing file",
    "out#",
    "vost#",
    "Conversion failed",
    "Last message repeated",
)


def output_size(width: int, height: int, max_side: int = MAX_SIDE_PX) -> tuple[int, int]:
    """Even size, scaled down so the longer side is at most ``max_side``."""
    if max(width, height) > max_side:
        scale = max_side / max(width, height)
        width, height = int(width * scale), int(height * scale)
    return width // 2 * 2, height // 2 * 2


def load_photo(path: Path, max_side: int = MAX_SIDE_PX) -> np.ndarray:
    img = load_image(path)
    h, w = img.shape[:2]
    ow, oh = output_size(w, h, max_side)
    if max(w, h) > max_side:
        img = cv2.resize(img, (ow, oh), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(img[:oh, :ow])


def iter_video(
    path: Path,
    fps: int,
    decode_errors: list[str] | None = None,
    start: int = 0,
    stop: int | None = None,
    max_side: int = MAX_SIDE_PX,
) -> Generator[np.ndarray, None, None]:
    """Frames ``start`` .. ``stop`` - 1 at ``fps``, capped and cropped to even sizes (the crop drops at most one
    row and column)."""
    for frame in read_video_frames(
        path, fps=fps, max_side=max_side, decode_errors=decode_errors, start_frame=start, stop_frame=stop
    ):
        h, w = frame.shape[:2]
        yield frame[: h // 2 * 2, : w // 2 * 2]


def source_errors(lines: list[str]) -> list[str]:
    """The decoder's error lines that are about the source (not about us closing its pipe early)."""
    return [ln for ln in lines if not any(k in ln for k in _OUTPUT_SIDE)]


def decode_until(
    path: Path, fps: int, max_frames: int, on_frame: Callable[[int, np.ndarray], bool], max_side: int = MAX_SIDE_PX
) -> list[str]:
    """Decode up to ``max_frames`` frames from the start; ``on_frame(i, frame)`` returning False stops early.
    Returns the decoder's error lines (corrupt data it concealed or skipped)."""
    errors: list[str] = []
    frames = iter_video(path, fps, errors, max_side=max_side)
    try:
        for i, frame in enumerate(frames):
            if not on_frame(i, frame) or i + 1 >= max_frames:
                break
    finally:
        frames.close()  # stops ffmpeg now and collects its error lines
    return source_errors(errors)


class ChunkStore:
    """Decoded frames by chunk: numpy arrays while they fit in ``ram_bytes``, then files mapped into memory."""

    def __init__(self, ram_bytes: int = RAM_BYTES) -> None:
        self._ram_bytes = ram_bytes
        self._used = 0
        self._chunks: dict[int, np.ndarray] = {}
        self._dir: tempfile.TemporaryDirectory[str] | None = None

    def __contains__(self, index: int) -> bool:
        return index in self._chunks

    def allocate(self, index: int, count: int, height: int, width: int) -> np.ndarray:
        """An array for ``count`` frames of chunk ``index``, to be filled by the caller."""
        shape = (count, height, width, 3)
        nbytes = count * height * width * 3
        if self._used + nbytes > self._ram_bytes:
            if self._dir is None:
                self._dir = tempfile.TemporaryDirectory(prefix="presgen-puppet-")
            arr: np.ndarray = np.memmap(
                Path(self._dir.name) / f"chunk-{index}.rgb", dtype=np.uint8, mode="w+", shape=shape
            )
        else:
            arr = np.empty(shape, dtype=np.uint8)
            self._used += nbytes
        self._chunks[index] = arr
        return arr

    def get(self, index: int) -> np.ndarray:
        return self._chunks[index]

    def close(self) -> None:
        self._chunks.clear()
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None
