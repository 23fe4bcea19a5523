"""The ``static`` avatar engine: a still photo, or the source video played forward and backward, under the audio.

It runs inside the orchestrator (no engine venv) and is the last link of the fallback chain, so it must always work
and stay cheap. A still is encoded once for a couple of seconds and repeated by stream copy. A video follows the
motion clock of the engine contract (see musetalk_wrapper's ``--start-s`` / ``--handoff-s``): output frame i shows
ping-pong position round(start_s * fps) + i, and with a handoff the last HANDOFF_FRAMES dissolve into the positions
just before ``handoff_s``, where the next clip starts. Frames are taken straight from the source while the needed
positions lie in its forward run; otherwise one ping-pong cycle is encoded first and looped.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from presgen_training.avatar.render_size import ENGINE_MAX_SIDE_PX
from presgen_training.errors import MediaError
from presgen_training.ffmpeg import (
    IMAGE_SUFFIXES,
    OUTPUT_FPS,
    MediaInfo,
    aac_args,
    file_arg,
    probe,
    run_ffmpeg,
)
from presgen_training.files import atomic_output

IMAGE_CODECS = frozenset({"png", "mjpeg", "bmp", "tiff", "webp", "jpeg2000", "jpegls", "qoi"})
STILL_CLIP_FRAMES = 50  # frames of the still that are encoded, then repeated by stream copy
PINGPONG_MAX_BYTES = 512 * 1024 * 1024  # bytes: cap on the frames ffmpeg's `reverse` filter buffers (yuv420p)
KEYFRAME_INTERVAL = 50  # frames
CLIP_CRF = 18  # near-transparent, since the overlay stage encodes the video again
X264_PRESET = "ultrafast"  # an intermediate, encoded again by the overlay stage: speed over size
FRAME_COUNT_MARGIN = 2  # frames: how far a container's duration may be trusted for a frame count
HANDOFF_FRAMES = 8  # frames of the dissolve into the next clip's motion (the same in every engine)


@dataclass(frozen=True)
class StaticResult:
    frames: int
    duration_s: float
    width: int
    height: int
    source_kind: str  # image | video


def render_static(
    source: Path,
    audio: Path,
    output: Path,
    fps: int = OUTPUT_FPS,
    max_side: int = ENGINE_MAX_SIDE_PX,
    start_s: float = 0.0,
    handoff_s: float | None = None,
) -> StaticResult:
    """Write ``output``: the still ``source`` (or ``source`` video ping-ponged on the motion clock) for the whole
    of ``audio``."""
    src = _probe_source(source)
    audio_s = _audio_duration(audio)
    frames = max(1, round(audio_s * fps))
    scale = _scale_filter(max_side)
    kind = "image" if _is_still(source, src) else "video"
    with tempfile.TemporaryDirectory(prefix="presgen-static-") as tmp:
        if kind == "image":
            video_input = _still_clip(source, scale, frames, fps, Path(tmp))
        else:
            video_input = _video_input(source, src, scale, frames, fps, max_side, start_s, handoff_s, Path(tmp))
        with atomic_output(output) as tmp_out:
            run_ffmpeg(
                [
                    *video_input.args,
                    "-i",
                    file_arg(audio),
                    "-map",
                    video_input.map,
                    "-map",
                    f"{video_input.audio_index}:a:0",
                    *video_input.codec,
                    *aac_args(None),
                    "-frames:v",
                    str(frames),
                    "-t",
                    f"{audio_s:.3f}",
                    "-movflags",
                    "+faststart",
                    "-f",
                    "mp4",
                    file_arg(tmp_out),
                ],
                f"writing the static avatar video {output.name}",
            )
            out = probe(tmp_out)
            if not out.width or not out.height or out.duration_s is None or abs(out.duration_s - audio_s) > 1.0 / fps:
                raise MediaError(
                    f"static engine wrote a broken video for {source.name} "
                    f"({out.duration_s} s instead of {audio_s:.2f} s)"
                )
    return StaticResult(frames=frames, duration_s=out.duration_s, width=out.width, height=out.height, source_kind=kind)


@dataclass(frozen=True)
class _VideoInput:
    args: list[str]  # ffmpeg input and filter arguments
    map: str  # the video stream to write
    audio_index: int  # input index the audio file will get
    codec: list[str]


def _encode_args() -> list[str]:
    # no B-frames: decode order == display order, so a stream-copied loop can stop on any frame
    return [
        "-c:v",
        "libx264",
        "-preset",
        X264_PRESET,
        "-crf",
        str(CLIP_CRF),
        "-bf",
        "0",
        "-g",
        str(KEYFRAME_INTERVAL),
        "-pix_fmt",
        "yuv420p",
    ]


def _still_clip(source: Path, scale: str, frames: int, fps: int, tmp: Path) -> _VideoInput:
    """A couple of seconds of the still, encoded once; the output repeats it by stream copy."""
    clip_frames = min(frames, STILL_CLIP_FRAMES)
    clip = tmp / "still.mp4"
    # the `loop` filter repeats the one decoded frame in memory (a looped image input would decode it every frame)
    graph = f"[0:v]{scale},loop=loop={clip_frames - 1}:size=1:start=0,setpts=N/{fps}/TB[v]"
    _encode_graph(source, graph, clip, ["-frames:v", str(clip_frames)], f"preparing the still of {source.name}")
    return _VideoInput(["-stream_loop", "-1", "-i", file_arg(clip)], "0:v:0", 1, ["-c:v", "copy"])


def _video_input(
    source: Path,
    info: MediaInfo,
    scale: str,
    frames: int,
    fps: int,
    max_side: int,
    start_s: float,
    handoff_s: float | None,
    tmp: Path,
) -> _VideoInput:
    """The clip's frames: ping-pong positions from the clock, dissolving into the handoff's positions."""
    head = f"fps={fps},{scale}"
    budget = max(2, PINGPONG_MAX_BYTES // _frame_bytes(info, max_side))
    estimated = (info.duration_s or 0.0) * fps
    usable = budget if estimated > budget + FRAME_COUNT_MARGIN else min(budget, _count_frames(source, fps))
    if usable < 2:  # a one-frame video: nothing to play
        return _still_clip(source, scale, frames, fps, tmp)
    cycle = 2 * usable - 2
    first = round(start_s * fps) % cycle
    handoff = min(HANDOFF_FRAMES, frames // 2) if handoff_s is not None else 0
    target = (round(handoff_s * fps) - handoff) % cycle if handoff_s is not None and handoff >= 2 else None
    runs = [(first, frames)] + ([(target, handoff)] if target is not None else [])
    if all(start + length <= usable for start, length in runs):
        inputs = ["-i", file_arg(source)]
        labels = [f"[s{i}]" for i in range(len(runs))]
        chains = [f"[0:v]{head},split={len(runs)}{''.join(labels)}"]
    else:
        loop = _cycle_clip(source, head, usable, tmp)
        inputs = [arg for _ in runs for arg in ("-stream_loop", "-1", "-i", file_arg(loop))]
        labels = [f"[{i}:v]" for i in range(len(runs))]
        chains = []
    for label, feed, (start, length) in zip("ab", labels, runs):
        chains.append(f"{feed}trim=start_frame={start}:end_frame={start + length},setpts=PTS-STARTPTS[{label}]")
    out = "[a]"
    if target is not None:
        # the weight reaches 1 on the last frame: that frame is the next clip's motion one frame before it starts
        chains.append(
            f"[a][b]xfade=transition=fade:duration={(handoff - 1) / fps:.6f}:offset={(frames - handoff) / fps:.6f}[v]"
        )
        out = "[v]"
    return _VideoInput([*inputs, "-filter_complex", ";".join(chains)], out, inputs.count("-i"), _encode_args())


def _cycle_clip(source: Path, head: str, usable: int, tmp: Path) -> Path:
    """Forward 0..K-1, then backward K-2..1: looping it never repeats or skips a frame at either turn."""
    clip = tmp / "cycle.mp4"
    graph = (
        f"[0:v]{head},trim=end_frame={usable},split[f][r];"
        f"[r]reverse,trim=start_frame=1:end_frame={usable - 1},setpts=PTS-STARTPTS[b];"
        f"[f][b]concat=n=2:v=1:a=0[v]"
    )
    _encode_graph(source, graph, clip, [], f"preparing the back-and-forth cycle of {source.name}")
    return clip


def _encode_graph(source: Path, graph: str, clip: Path, limits: list[str], what: str) -> None:
    """Encode the video ``[v]`` of a filter graph over ``source`` (no audio) into the MP4 ``clip``."""
    run_ffmpeg(
        [
            "-i",
            file_arg(source),
            "-filter_complex",
            graph,
            "-map",
            "[v]",
            "-an",
            *_encode_args(),
            *limits,
            "-f",
            "mp4",
            file_arg(clip),
        ],
        what,
    )


def _probe_source(source: Path) -> MediaInfo:
    info = _probe_existing(source, "presenter source")
    if not info.has_video:
        raise MediaError(f"no picture in the presenter source: {source}")
    return info


def _audio_duration(audio: Path) -> float:
    info = _probe_existing(audio, "audio")
    if not info.has_audio:
        raise MediaError(f"no audio stream in {audio}")
    if not info.duration_s or info.duration_s <= 0:
        raise MediaError(f"cannot tell how long the audio lasts: {audio}")
    return info.duration_s


def _probe_existing(path: Path, what: str) -> MediaInfo:
    if not path.is_file():
        raise MediaError(f"{what} not found: {path}")
    return probe(path)


def _is_still(source: Path, info: MediaInfo) -> bool:
    if source.suffix.lower() in IMAGE_SUFFIXES:
        return True
    one_frame_s = 1.5 / (info.fps or OUTPUT_FPS)
    return info.video_codec in IMAGE_CODECS and (info.duration_s is None or info.duration_s <= one_frame_s)


def _scale_filter(max_side: int) -> str:
    """Shrink (never enlarge) so the longer side fits ``max_side``; even sizes for yuv420p."""
    factor = f"min(1,{max_side}/max(iw,ih))"
    return (
        f"scale='max(2,trunc(iw*{factor}/2)*2)':'max(2,trunc(ih*{factor}/2)*2)':flags=lanczos:out_range=tv,"
        "format=yuv420p,setsar=1"
    )


def _frame_bytes(info: MediaInfo, max_side: int) -> int:
    width, height = info.width or max_side, info.height or max_side
    factor = min(1.0, max_side / max(width, height))
    return max(1, int(width * factor) * int(height * factor) * 3 // 2)


def _count_frames(source: Path, fps: int) -> int:
    """Frames of ``source`` once resampled to ``fps`` (decodes it: only called for short clips)."""
    listing = run_ffmpeg(
        ["-i", file_arg(source), "-map", "0:v:0", "-vf", f"fps={fps}", "-f", "framecrc", "-"],
        f"counting the frames of {source.name}",
    )
    return sum(1 for line in listing.splitlines() if line and not line.startswith(b"#"))
