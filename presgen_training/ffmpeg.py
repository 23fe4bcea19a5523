"""The orchestrator's one ffmpeg runner: every ffmpeg call in presgen_training goes through here.

The binary is the static build shipped in ``imageio-ffmpeg`` (libx264, aac, overlay, subtitles), so no
system package is needed. There is no ffprobe in that build: probing parses ``ffmpeg -i``.
"""

from __future__ import annotations

import errno
import logging
import math
import os
import re
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from presgen_training.errors import MediaError

log = logging.getLogger(__name__)

OUTPUT_FPS = 25  # frames per second of every PresGen video
DURATION_TOLERANCE_S = 0.1  # seconds a video may differ from its audio (AAC priming, container rounding)
AUDIO_BITRATE = "160k"
AUDIO_SAMPLE_RATE = 48000  # Hz of the finished video's AAC track
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff"})  # still-image files


def ffmpeg_exe() -> str:
    try:
        import imageio_ffmpeg
    except ImportError as exc:
        raise MediaError("python package 'imageio-ffmpeg' is missing; run: make venv") from exc
    exe: str = imageio_ffmpeg.get_ffmpeg_exe()
    return exe


def file_arg(path: Path | str) -> str:
    """Prefix paths with ``file:`` so names with ':' or a leading '-' are never read as options."""
    return "file:" + str(path)


def run_ffmpeg(args: list[str], what: str, *, stdin: bytes | None = None, timeout_s: float | None = None) -> bytes:
    """Run ``ffmpeg -y args``; raise MediaError naming ``what`` and ffmpeg's last stderr line."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-y", "-v", "error", *args]
    log.debug("ffmpeg: %s", " ".join(cmd))
    try:
        proc = subprocess.run(cmd, input=stdin, capture_output=True, check=False, timeout=timeout_s)
    except subprocess.TimeoutExpired as exc:
        raise MediaError(f"ffmpeg timed out after {timeout_s:.0f} s while {what}") from exc
    if proc.returncode != 0:
        raise _failure(proc.stderr.decode(errors="replace"), what)
    return proc.stdout


def _failure(stderr: str, what: str) -> Exception:
    """ffmpeg's last stderr line as a MediaError; a full disk or a read-only folder as the OSError it is."""
    last = (stderr.strip().splitlines() or ["(no output)"])[-1]
    for errno_code, text in (
        (errno.ENOSPC, "No space left on device"),
        (errno.EROFS, "Read-only file system"),
        (errno.EACCES, "Permission denied"),
        (errno.EDQUOT, "Disk quota exceeded"),
    ):
        if text in stderr:
            return OSError(errno_code, f"{os.strerror(errno_code)} (ffmpeg, while {what})")
    return MediaError(f"ffmpeg failed while {what}: {last}")


def run_ffmpeg_progress(
    args: list[str], what: str, on_frames: Callable[[int], None] | None = None, *, timeout_s: float | None = None
) -> None:
    """Like :func:`run_ffmpeg`, but stream ``-progress`` output and call ``on_frames(frames_written)``."""
    cmd = [
        ffmpeg_exe(),
        "-hide_banner",
        "-nostdin",
        "-y",
        "-v",
        "error",
        "-progress",
        "pipe:1",
        "-stats_period",
        "0.5",
        *args,
    ]
    log.debug("ffmpeg: %s", " ".join(cmd))
    with tempfile.TemporaryFile() as errors:  # a file, so a chatty stderr can never block the pipe we read
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=errors)
        assert proc.stdout is not None
        timed_out = threading.Event()

        def kill_on_timeout() -> None:
            timed_out.set()
            proc.kill()

        watchdog = threading.Timer(timeout_s, kill_on_timeout) if timeout_s is not None else None
        if watchdog is not None:
            watchdog.start()
        try:
            for raw in proc.stdout:
                if on_frames is not None and raw.startswith(b"frame="):
                    value = raw[6:].strip()
                    if value.isdigit():
                        on_frames(int(value))
            proc.wait()
        finally:
            if watchdog is not None:
                watchdog.cancel()
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            proc.stdout.close()
        if timed_out.is_set():
            raise MediaError(f"ffmpeg timed out after {timeout_s:.0f} s while {what}")
        if proc.returncode != 0:
            errors.seek(0)
            raise _failure(errors.read().decode(errors="replace"), what)


@dataclass(frozen=True)
class MediaInfo:
    path: Path
    duration_s: float | None
    width: int | None
    height: int | None
    fps: float | None
    video_codec: str | None
    pix_fmt: str | None
    audio_codec: str | None
    sample_rate: int | None

    @property
    def has_video(self) -> bool:
        return self.video_codec is not None

    @property
    def has_audio(self) -> bool:
        return self.audio_codec is not None


_DURATION = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")
_VIDEO = re.compile(r"Video: (\w+)[^,]*, (\w+)[^,]*(?:\([^)]*\))?, (\d{1,5})x(\d{1,5})")
_FPS = re.compile(r"(\d+(?:\.\d+)?) (?:fps|tbr)")  # a still has no fps, only its tbr
_ROTATION = re.compile(r"rotation of (-?\d+(?:\.\d+)?) degrees")
_AUDIO = re.compile(r"Audio: (\w+).*?(\d+) Hz")


def probe(path: Path) -> MediaInfo:
    """Streams, size, frame rate and duration of a media file; MediaError if it cannot be read."""
    if not path.is_file():
        raise MediaError(f"file not found: {path}")
    proc = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", file_arg(path)], capture_output=True, check=False
    )
    text = proc.stderr.decode(errors="replace")
    if "Stream #" not in text:
        raise MediaError(f"cannot read media file (corrupt or unsupported format): {path}")
    duration = None
    if m := _DURATION.search(text):
        duration = int(m[1]) * 3600 + int(m[2]) * 60 + float(m[3])
    vcodec = pix = None
    width = height = None
    fps = None
    acodec = None
    rate = None
    for line in text.splitlines():
        if "Video:" in line and vcodec is None:
            if m := _VIDEO.search(line):
                vcodec, pix, width, height = m[1], m[2], int(m[3]), int(m[4])
            else:
                vcodec = line.split("Video:", 1)[1].split()[0].strip(",")
            if f := _FPS.search(line):
                fps = float(f[1])
        elif "Audio:" in line and acodec is None:
            if m := _AUDIO.search(line):
                acodec, rate = m[1], int(m[2])
            else:
                acodec = line.split("Audio:", 1)[1].split()[0].strip(",")
    if width and height and (m := _ROTATION.search(text)) and round(float(m[1])) % 180 == 90:
        width, height = height, width  # a phone video turned on its side: ffmpeg decodes it upright
    return MediaInfo(path, duration, width, height, fps, vcodec, pix, acodec, rate)


_R128 = re.compile(r"lavfi\.r128\.(I|true_peak)=(-?[\d.]+|-?inf)")


def aac_args(sample_rate: int | None = AUDIO_SAMPLE_RATE) -> list[str]:
    """Output options of every AAC track PresGen writes (``sample_rate`` None: the input's own). ffmpeg's fast AAC
    coder: at this bitrate speech sounds the same as with the default (two-loop) coder, which takes ~2.5x the time."""
    rate = [] if sample_rate is None else ["-ar", str(sample_rate)]
    return ["-c:a", "aac", "-aac_coder", "fast", "-b:a", AUDIO_BITRATE, *rate]


def finished_mp4_args(frames: int, duration_s: float) -> list[str]:
    """Output options of a finished video: exactly ``frames`` frames and ``duration_s`` seconds, playable while it
    downloads (moov first)."""
    return ["-frames:v", str(frames), "-t", f"{duration_s:.3f}", "-movflags", "+faststart", "-f", "mp4"]


def loudness_r128(path: Path) -> tuple[float, float]:
    """(integrated loudness in LUFS, true peak in dBTP) of a file's first audio stream, by ffmpeg's EBU R128 meter."""
    out = run_ffmpeg(
        [
            "-i",
            file_arg(path),
            "-map",
            "0:a:0",
            "-af",
            "ebur128=peak=true:metadata=1,ametadata=mode=print:file=-",
            "-f",
            "null",
            "-",
        ],
        f"measuring the loudness of {path.name}",
    ).decode()
    found = _R128.findall(out)
    integrated = [float(v) for k, v in found if k == "I"]
    peak = max((float(v) for k, v in found if k == "true_peak"), default=0.0)
    return (integrated[-1] if integrated else math.nan), (20 * math.log10(peak) if peak > 0 else -math.inf)


def decodes_to_end(path: Path, tail_s: float = 1.0) -> bool:
    """True when the last ``tail_s`` seconds of every stream decode without error (cheap integrity check)."""
    cmd = [
        ffmpeg_exe(),
        "-hide_banner",
        "-nostdin",
        "-v",
        "error",
        "-sseof",
        f"-{tail_s}",
        "-i",
        file_arg(path),
        "-f",
        "null",
        "-",
    ]
    proc = subprocess.run(cmd, capture_output=True, check=False)
    return proc.returncode == 0 and not proc.stderr.strip()


def count_frames(path: Path) -> int:
    """Exact number of decoded video frames (decodes the whole stream)."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-i", file_arg(path), "-map", "0:v:0", "-f", "null", "-"]
    proc = subprocess.run(cmd, capture_output=True, check=False)
    found = re.findall(r"frame=\s*(\d+)", proc.stderr.decode(errors="replace"))
    if proc.returncode != 0 or not found:
        raise MediaError(f"cannot decode video frames of {path}")
    return int(found[-1])


def read_frames(
    path: Path,
    width: int,
    height: int,
    fps: int = OUTPUT_FPS,
    start_s: float | None = None,
    max_frames: int | None = None,
) -> Iterator[bytes]:
    """Yield raw rgb24 frames scaled to width x height at a constant ``fps``."""
    cmd = [ffmpeg_exe(), "-hide_banner", "-nostdin", "-v", "error"]
    if start_s is not None:
        cmd += ["-ss", f"{start_s:.3f}"]
    cmd += [
        "-i",
        file_arg(path),
        "-an",
        "-vf",
        f"fps={fps},scale={width}:{height}",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
    ]
    if max_frames is not None:
        cmd += ["-frames:v", str(max_frames)]
    cmd.append("-")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    size = width * height * 3
    try:
        while len(buf := proc.stdout.read(size)) == size:
            yield buf
    finally:
        proc.stdout.close()
        if proc.poll() is None:
            proc.kill()
        proc.wait()
