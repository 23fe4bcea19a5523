"""The wrapper's one ffmpeg runner: probing, frame reading, audio decoding and atomic video writing.

Uses the static ffmpeg from ``imageio-ffmpeg`` so no system package is needed.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from musetalk_wrapper.contract import EngineError, ErrorCode, unavailable_missing_package

OUTPUT_FPS = 25  # frames per second of every engine's output
MAX_SIDE_PX = 1920  # longest side of an engine's output: larger sources are scaled down to it
MIN_SIDE_PX = 64  # the smallest --max-side: below it no face can be found
AUDIO_BITRATE = "160k"
# engine clips get a keyframe every second: the orchestrator's check of a clip's last second and a seek into a clip
# decode at most a second of frames (x264's default is a keyframe every 250 frames)
KEYFRAME_INTERVAL_S = 1
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"}


def ffmpeg_exe() -> str:
    try:
        import imageio_ffmpeg
    except ImportError as exc:  # pragma: no cover - env problem, reported by name
        raise unavailable_missing_package("imageio-ffmpeg", "puppet", "imageio_ffmpeg") from exc
    exe: str = imageio_ffmpeg.get_ffmpeg_exe()
    return exe


def _file_arg(path: Path | str) -> str:
    # "file:" keeps names with ':' or a leading '-' from being read as protocols or options.
    return "file:" + str(path)


def run_ffmpeg(args: list[str], what: str, stdin: bytes | None = None) -> bytes:
    """Run ffmpeg with ``args``; raise RUNTIME with ffmpeg's last stderr line on failure."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", *args]
    proc = subprocess.run(cmd, input=stdin, capture_output=True, check=False)
    if proc.returncode != 0:
        last = (proc.stderr.decode(errors="replace").strip().splitlines() or ["(no output)"])[-1]
        raise EngineError(ErrorCode.RUNTIME, f"ffmpeg failed while {what}: {last}")
    return proc.stdout


@dataclass(frozen=True)
class MediaInfo:
    duration_s: float | None
    width: int | None
    height: int | None
    fps: float | None
    has_video: bool
    has_audio: bool
    video_start_s: float = 0.0  # presentation time of the first video frame


_DURATION = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")
# codec, pixel format (maybe with a "(tv, bt709)" note), then the size: "0x31637661" in the codec tag is no size
_VIDEO = re.compile(r"Video: \w+[^,]*, \w+[^,]*(?:\([^)]*\))?, (\d{1,5})x(\d{1,5})")
_FPS = re.compile(r"(\d+(?:\.\d+)?) (?:fps|tbr)")
_START = re.compile(r"start (-?\d+(?:\.\d+)?)")
_ROTATION = re.compile(r"rotation of (-?\d+(?:\.\d+)?) degrees")


def probe(path: Path) -> MediaInfo:
    """Read duration, size and streams from ``ffmpeg -i`` (the static build has no ffprobe)."""
    if not path.is_file():
        raise EngineError(ErrorCode.BAD_INPUT, f"input file not found: {path}")
    proc = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", _file_arg(path)], capture_output=True, check=False)
    text = proc.stderr.decode(errors="replace")
    if "Invalid data found" in text or "Stream #" not in text:
        raise EngineError(ErrorCode.BAD_INPUT, f"cannot read media file (corrupt or unsupported): {path}")
    duration = None
    if m := _DURATION.search(text):
        duration = int(m[1]) * 3600 + int(m[2]) * 60 + float(m[3])
    width = height = None
    fps = None
    start = 0.0
    video_line = next((ln for ln in text.splitlines() if "Video:" in ln), None)
    if video_line and (m := _VIDEO.search(video_line)):
        width, height = int(m[1]), int(m[2])
        if f := _FPS.search(video_line):
            fps = float(f[1])
        if st := _START.search(video_line):
            start = float(st[1])
    if width and height and (m := _ROTATION.search(text)) and round(float(m[1])) % 180 == 90:
        width, height = height, width  # a phone video turned on its side: ffmpeg decodes it upright
    return MediaInfo(duration, width, height, fps, video_line is not None, "Audio:" in text, start)


def video_frame_count(path: Path, fps: int = OUTPUT_FPS) -> int:
    """How many frames ``read_video_frames(path, fps)`` yields, from the packets' timestamps (no decoding)."""
    listing = run_ffmpeg(
        ["-v", "error", "-i", _file_arg(path), "-map", "0:v:0", "-c", "copy", "-f", "framecrc", "-"],
        f"reading the frame list of {path.name}",
    ).decode(errors="replace")
    base = None
    first, end = math.inf, -math.inf
    for line in listing.splitlines():
        if line.startswith("#tb"):
            base = Fraction(line.split(":", 1)[1].strip())
        elif line[:1].isdigit():
            fields = line.split(",")
            pts, duration = int(fields[2]), int(fields[3])
            first, end = min(first, pts), max(end, pts + max(duration, 0))
    if base is None or end <= first:
        raise EngineError(ErrorCode.BAD_INPUT, f"no video frames in {path}")
    return max(1, round(float((end - first) * base) * fps))


def load_audio(path: Path, sample_rate: int = 16000) -> np.ndarray:
    """Decode any audio ffmpeg reads to mono float32 at ``sample_rate``."""
    info = probe(path)
    if not info.has_audio:
        raise EngineError(ErrorCode.BAD_INPUT, f"no audio stream in {path}")
    raw = run_ffmpeg(
        ["-i", _file_arg(path), "-vn", "-ac", "1", "-ar", str(sample_rate), "-f", "f32le", "-"],
        f"decoding audio {path.name}",
    )
    audio = np.frombuffer(raw, dtype="<f4").copy()
    if audio.size == 0:
        raise EngineError(ErrorCode.BAD_INPUT, f"audio file has no samples: {path}")
    return audio


def load_image(path: Path) -> np.ndarray:
    """Decode one still image to an RGB uint8 array (H, W, 3)."""
    info = probe(path)
    if not info.has_video or not info.width or not info.height:
        raise EngineError(ErrorCode.BAD_INPUT, f"not an image: {path}")
    w, h = info.width, info.height
    raw = run_ffmpeg(
        ["-i", _file_arg(path), "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        f"decoding image {path.name}",
    )
    if len(raw) != w * h * 3:
        raise EngineError(ErrorCode.BAD_INPUT, f"cannot decode image: {path}")
    return np.frombuffer(raw, dtype=np.uint8).reshape(h, w, 3).copy()


SEEK_LEAD_S = 2.0  # a range starting later than this seeks to this long before its first frame


def read_video_frames(
    path: Path,
    fps: int = OUTPUT_FPS,
    max_side: int | None = None,
    decode_errors: list[str] | None = None,
    start_frame: int = 0,
    stop_frame: int | None = None,
) -> Iterator[np.ndarray]:
    """Yield RGB frames resampled to a constant ``fps``; optionally downscale so max(w, h) <= max_side.

    ``start_frame``/``stop_frame`` pick a range of those frames: the same pixels as when decoding from the start
    (timestamps are kept and the rate conversion is anchored at the stream's first frame), with a seek so a late
    range is not decoded from the beginning.
    A corrupt frame in the middle is dropped by the decoder (ffmpeg conceals or skips it) rather than aborting;
    pass a list as ``decode_errors`` to receive the decoder's error lines once the generator finishes.
    """
    info = probe(path)
    if not info.has_video or not info.width or not info.height:
        raise EngineError(ErrorCode.BAD_INPUT, f"no video stream in {path}")
    w, h = info.width, info.height
    vf = f"fps={fps}:start_time={info.video_start_s:.6f}"
    if start_frame > 0 or stop_frame is not None:
        vf += f",trim=start_frame={start_frame}" + (f":end_frame={stop_frame}" if stop_frame is not None else "")
    if max_side and max(w, h) > max_side:
        scale = max_side / max(w, h)
        w, h = int(w * scale) // 2 * 2, int(h * scale) // 2 * 2
        vf += f",scale={w}:{h}:flags=area"
    seek = info.video_start_s + start_frame / fps - SEEK_LEAD_S
    seek_args = ["-ss", f"{seek:.6f}"] if start_frame > 0 and seek > 0 else []
    cmd = [
        ffmpeg_exe(),
        "-hide_banner",
        "-nostdin",
        "-v",
        "error",
        "-err_detect",
        "ignore_err",
        *seek_args,
        "-copyts",
        "-i",
        _file_arg(path),
        "-an",
        "-vf",
        vf,
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "-",
    ]
    # closed in the finally below, once the decoder has exited
    err_file = tempfile.TemporaryFile() if decode_errors is not None else None  # noqa: SIM115
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err_file or subprocess.DEVNULL)
    assert proc.stdout is not None
    frame_bytes = w * h * 3
    count = 0
    try:
        while True:
            buf = proc.stdout.read(frame_bytes)
            if len(buf) < frame_bytes:
                break
            count += 1
            yield np.frombuffer(buf, dtype=np.uint8).reshape(h, w, 3)
    finally:
        proc.stdout.close()
        proc.kill() if proc.poll() is None else None
        proc.wait()
        if err_file is not None and decode_errors is not None:
            err_file.seek(0)
            decode_errors.extend(ln for ln in err_file.read().decode(errors="replace").splitlines() if ln.strip())
            err_file.close()
    if count == 0 and start_frame == 0:
        raise EngineError(ErrorCode.BAD_INPUT, f"no decodable frames in {path}")


def pingpong_index(i: int, n: int) -> int:
    """Source frame shown at output frame ``i`` when ``n`` source frames play forwards, backwards, forwards..."""
    if n <= 1:
        return 0
    k = i % (2 * (n - 1))
    return k if k < n else 2 * (n - 1) - k


def is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


class VideoWriter:
    """Pipe RGB frames into x264 and mux ``audio`` (AAC); the output appears only on ``close()``.

    The engines' video is an intermediate that the overlay stage encodes again, so it is written near-lossless
    (crf 10) with x264's fastest preset: no visible generation loss, and ~30% less encoder CPU than crf 18
    veryfast (bench/puppet.py), at the price of a larger file. The temp file lives beside the output so the
    final ``os.replace`` is atomic.
    """

    DEFAULT_SETTINGS = "x264 crf 10 ultrafast"

    def __init__(
        self,
        output: Path,
        width: int,
        height: int,
        audio: Path,
        fps: int = OUTPUT_FPS,
        preset: str = "ultrafast",
        crf: int = 10,
    ) -> None:
        if width % 2 or height % 2:
            raise ValueError("yuv420p needs even frame sizes")
        self.output = output
        self.size = (width, height)
        self.frames = 0
        output.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{output.stem}.", suffix=".partial.mp4", dir=output.parent)
        os.close(fd)
        self._tmp = Path(tmp)
        cmd = [
            ffmpeg_exe(),
            "-hide_banner",
            "-nostdin",
            "-y",
            "-v",
            "error",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-s",
            f"{width}x{height}",
            "-r",
            str(fps),
            "-i",
            "-",
            "-i",
            _file_arg(audio),
            "-map",
            "0:v:0",
            "-map",
            "1:a:0",
            "-c:v",
            "libx264",
            "-preset",
            preset,
            "-crf",
            str(crf),
            "-g",
            str(fps * KEYFRAME_INTERVAL_S),
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-b:a",
            AUDIO_BITRATE,
            "-shortest",
            "-movflags",
            "+faststart",
            "-f",
            "mp4",
            _file_arg(self._tmp),
        ]
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)

    def write(self, frame: np.ndarray) -> None:
        h, w = frame.shape[:2]
        if (w, h) != self.size:
            raise ValueError(f"frame size {w}x{h} != {self.size[0]}x{self.size[1]}")
        assert self._proc.stdin is not None
        try:
            self._proc.stdin.write(np.ascontiguousarray(frame, dtype=np.uint8).tobytes())
        except BrokenPipeError as exc:
            self.abort()
            raise EngineError(ErrorCode.RUNTIME, "ffmpeg stopped accepting frames") from exc
        self.frames += 1

    def close(self) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        err = self._proc.stderr.read().decode(errors="replace") if self._proc.stderr else ""
        if self._proc.wait() != 0:
            self._tmp.unlink(missing_ok=True)
            last = (err.strip().splitlines() or ["(no output)"])[-1]
            raise EngineError(ErrorCode.RUNTIME, f"ffmpeg failed while encoding {self.output.name}: {last}")
        os.replace(self._tmp, self.output)

    def abort(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:  # type: ignore[no-untyped-def]
        if exc_type is None:
            self.close()
        else:
            self.abort()
