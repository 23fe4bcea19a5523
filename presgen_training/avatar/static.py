"""The ``static`` avatar engine: a still photo, or the source video played forward and backward, under the audio.

It runs inside the orchestrator (no engine venv) and is the last link of the fallback chain, so it must always work
and stay cheap. One short clip is encoded once (a couple of seconds of the still, or one ping-pong cycle of the
video) and then repeated with ``-stream_loop`` and stream copy until it covers the audio: the encoder never sees
more frames than one cycle, however long the narration.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from presgen_training.errors import MediaError
from presgen_training.ffmpeg import AUDIO_BITRATE, IMAGE_SUFFIXES, OUTPUT_FPS, MediaInfo, file_arg, probe, run_ffmpeg
from presgen_training.files import atomic_output

IMAGE_CODECS = frozenset({"png", "mjpeg", "bmp", "tiff", "webp", "jpeg2000", "jpegls", "qoi"})
STILL_CLIP_FRAMES = 50  # frames of the still that are encoded, then repeated by stream copy
PINGPONG_MAX_BYTES = 512 * 1024 * 1024  # bytes: cap on the frames ffmpeg's `reverse` filter buffers (yuv420p)
KEYFRAME_INTERVAL = 50  # frames
CLIP_CRF = 18  # near-transparent, since the overlay stage encodes the video again
X264_PRESET = "ultrafast"  # an intermediate, encoded again by the overlay stage: speed over size
FRAME_COUNT_MARGIN = 2  # frames: how far a container's duration may be trusted for a frame count
DURATION_TOLERANCE_S = 0.04  # the video must last as long as the audio, within this


@dataclass(frozen=True)
class StaticResult:
    frames: int
    duration_s: float
    width: int
    height: int
    source_kind: str  # image | video


def render_static(source: Path, audio: Path, output: Path, fps: int = OUTPUT_FPS,
                  max_side: int = 1920) -> StaticResult:
    """Write ``output``: the still ``source`` (or ``source`` video ping-ponged) for the whole of ``audio``."""
    src = _probe_source(source)
    audio_s = _audio_duration(audio)
    frames = max(1, round(audio_s * fps))
    scale = _scale_filter(max_side)
    kind = "image" if _is_still(source, src) else "video"
    if kind == "image":
        clip_filter, clip_frames = _still_clip(scale, frames, fps)
    else:
        clip_filter, clip_frames = _video_clip(source, src, scale, frames, fps, max_side)
    with tempfile.TemporaryDirectory(prefix="presgen-static-") as tmp:
        clip = Path(tmp) / "clip.mp4"
        run_ffmpeg(["-i", file_arg(source), "-filter_complex", clip_filter, "-map", "[v]", "-an",
                    "-c:v", "libx264", "-preset", X264_PRESET, "-crf", str(CLIP_CRF),
                    # no B-frames: decode order == display order, so the stream-copied loop can stop on any frame
                    "-bf", "0", "-g", str(KEYFRAME_INTERVAL), "-pix_fmt", "yuv420p",
                    "-frames:v", str(clip_frames), "-f", "mp4", file_arg(clip)],
                   f"preparing the static {kind} clip from {source.name}")
        with atomic_output(output) as tmp_out:
            run_ffmpeg(["-stream_loop", "-1", "-i", file_arg(clip), "-i", file_arg(audio),
                        "-map", "0:v:0", "-map", "1:a:0", "-c:v", "copy",
                        "-c:a", "aac", "-b:a", AUDIO_BITRATE,
                        "-frames:v", str(frames), "-t", f"{audio_s:.3f}",
                        "-movflags", "+faststart", "-f", "mp4", file_arg(tmp_out)],
                       f"writing the static avatar video {output.name}")
            out = probe(tmp_out)
            if not out.width or not out.height or out.duration_s is None \
                    or abs(out.duration_s - audio_s) > DURATION_TOLERANCE_S:
                raise MediaError(f"static engine wrote a broken video for {source.name} "
                                 f"({out.duration_s} s instead of {audio_s:.2f} s)")
    return StaticResult(frames=frames, duration_s=out.duration_s, width=out.width, height=out.height,
                        source_kind=kind)


def _probe_source(source: Path) -> MediaInfo:
    if not source.is_file():
        raise MediaError(f"presenter source not found: {source}")
    info = probe(source)
    if not info.has_video:
        raise MediaError(f"no picture in the presenter source: {source}")
    return info


def _audio_duration(audio: Path) -> float:
    if not audio.is_file():
        raise MediaError(f"audio not found: {audio}")
    info = probe(audio)
    if not info.has_audio:
        raise MediaError(f"no audio stream in {audio}")
    if not info.duration_s or info.duration_s <= 0:
        raise MediaError(f"cannot tell how long the audio lasts: {audio}")
    return info.duration_s


def _is_still(source: Path, info: MediaInfo) -> bool:
    if source.suffix.lower() in IMAGE_SUFFIXES:
        return True
    one_frame_s = 1.5 / (info.fps or OUTPUT_FPS)
    return info.video_codec in IMAGE_CODECS and (info.duration_s is None or info.duration_s <= one_frame_s)


def _scale_filter(max_side: int) -> str:
    """Shrink (never enlarge) so the longer side fits ``max_side``; even sizes for yuv420p."""
    factor = f"min(1,{max_side}/max(iw,ih))"
    return (f"scale='max(2,trunc(iw*{factor}/2)*2)':'max(2,trunc(ih*{factor}/2)*2)':flags=lanczos:out_range=tv,"
            "format=yuv420p,setsar=1")


def _still_clip(scale: str, frames: int, fps: int) -> tuple[str, int]:
    clip_frames = min(frames, STILL_CLIP_FRAMES)
    # the `loop` filter repeats the one decoded frame in memory (a looped image input would decode it every frame)
    return (f"[0:v]{scale},loop=loop={clip_frames - 1}:size=1:start=0,setpts=N/{fps}/TB[v]", clip_frames)


def _video_clip(source: Path, info: MediaInfo, scale: str, frames: int, fps: int,
                max_side: int) -> tuple[str, int]:
    """Filter for one ping-pong cycle (or a plain forward cut when the video outlasts the audio)."""
    head = f"[0:v]fps={fps},{scale}"
    estimated = (info.duration_s or 0.0) * fps
    if estimated >= frames + FRAME_COUNT_MARGIN:
        return f"{head}[v]", frames
    budget = max(2, PINGPONG_MAX_BYTES // _frame_bytes(info, max_side))
    usable = budget if estimated > budget + FRAME_COUNT_MARGIN else min(budget, _count_frames(source, fps))
    if usable >= frames:
        return f"{head}[v]", frames
    if usable < 2:  # a one-frame video: nothing to ping-pong
        return _still_clip(scale, frames, fps)
    # forward 0..K-1, then backward K-2..1: looping it never repeats or skips a frame at either turn
    cycle = 2 * usable - 2
    graph = (f"{head},trim=end_frame={usable},split[f][r];"
             f"[r]reverse,trim=start_frame=1:end_frame={usable - 1},setpts=PTS-STARTPTS[b];"
             f"[f][b]concat=n=2:v=1:a=0[v]")
    return graph, min(cycle, frames)


def _frame_bytes(info: MediaInfo, max_side: int) -> int:
    width, height = info.width or max_side, info.height or max_side
    factor = min(1.0, max_side / max(width, height))
    return max(1, int(width * factor) * int(height * factor) * 3 // 2)


def _count_frames(source: Path, fps: int) -> int:
    """Frames of ``source`` once resampled to ``fps`` (decodes it: only called for short clips)."""
    listing = run_ffmpeg(["-i", file_arg(source), "-map", "0:v:0", "-vf", f"fps={fps}", "-f", "framecrc", "-"],
                         f"counting the frames of {source.name}")
    return sum(1 for line in listing.splitlines() if line and not line.startswith(b"#"))
