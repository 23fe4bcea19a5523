"""The finished MP4: the segments' video streams joined by stream copy (frame-exact: every segment is a whole number of
frames and starts on a keyframe) under the whole narration, encoded once as one continuous AAC track, so no joint
can click or drop a sample."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from presgen_training.errors import MediaError
from presgen_training.ffmpeg import (
    DURATION_TOLERANCE_S,
    OUTPUT_FPS,
    aac_args,
    file_arg,
    finished_mp4_args,
    probe,
    run_ffmpeg,
    run_ffmpeg_progress,
)
from presgen_training.files import atomic_output

# the engines' own intermediate encoding (musetalk_wrapper.media.VideoWriter): no visible generation loss
JOIN_ENCODER = ("-c:v", "libx264", "-preset", "ultrafast", "-crf", "10", "-pix_fmt", "yuv420p")


def concat_list(clips: Sequence[Path]) -> str:
    """An ffmpeg concat-demuxer listing (single quotes in paths escaped as the demuxer wants)."""
    lines = ["ffconcat version 1.0"]
    for clip in clips:
        quoted = str(Path(clip).resolve()).replace("'", "'\\''")
        lines.append(f"file '{quoted}'")
    return "\n".join(lines) + "\n"


def write_final(
    clips: Sequence[Path],
    narration_wav: Path,
    output: Path,
    frames: int,
    metadata: Path | None = None,
    audio_delay_frames: int = 0,
    progress: Callable[[int, int], None] | None = None,
    audio_track: Path | None = None,
) -> None:
    """Write ``output`` (atomically): ``clips`` one after another with ``narration_wav`` as the sound, starting
    ``audio_delay_frames`` in (after an intro card) and padded with silence to the end (under an end card).
    ``metadata``: an ffmetadata file (title, chapters) to carry into the MP4. ``audio_track``: that sound already
    encoded by ``write_final_audio`` for these frames (copied, not encoded again)."""
    duration_s = frames / OUTPUT_FPS
    with tempfile.TemporaryDirectory(prefix="presgen-concat-") as tmp:
        listing = Path(tmp) / "clips.ffconcat"
        listing.write_text(concat_list(clips), encoding="utf-8")
        sound = audio_track or narration_wav
        args = ["-f", "concat", "-safe", "0", "-i", file_arg(listing), "-i", file_arg(sound)]
        if metadata is not None:
            args += ["-f", "ffmetadata", "-i", file_arg(metadata), "-map_metadata", "2", "-map_chapters", "2"]
        if audio_track is None:
            args += [*_final_audio_filter(audio_delay_frames, 1), "-map", "0:v:0", "-map", "[aout]", *aac_args()]
        else:
            args += ["-map", "0:v:0", "-map", "1:a:0", "-c:a", "copy"]
        args += ["-c:v", "copy", *finished_mp4_args(frames, duration_s)]
        on_frames = (lambda done: progress(min(done, frames), frames)) if progress else None
        with atomic_output(output) as partial:
            run_ffmpeg_progress(
                [*args, file_arg(partial)], f"joining {len(clips)} segments into {output.name}", on_frames
            )
            written = probe(partial)
            if written.duration_s is None or abs(written.duration_s - duration_s) > DURATION_TOLERANCE_S:
                raise MediaError(f"the joined video lasts {written.duration_s} s instead of {duration_s:.2f} s")


def _final_audio_filter(audio_delay_frames: int, narration_input: int) -> list[str]:
    """The narration (ffmpeg input ``narration_input``) delayed past the intro card and padded with silence: [aout]."""
    delay_ms = round(audio_delay_frames * 1000 / OUTPUT_FPS)
    return ["-filter_complex", f"[{narration_input}:a:0]adelay=delays={delay_ms}:all=1,apad[aout]"]


def write_final_audio(narration_wav: Path, output: Path, frames: int, audio_delay_frames: int = 0) -> Path:
    """The finished video's sound on its own (AAC in MP4, atomically): what ``write_final`` would encode for these
    frames. Made while the overlay clips render, so the join only copies it."""
    duration_s = frames / OUTPUT_FPS
    args = ["-i", file_arg(narration_wav), *_final_audio_filter(audio_delay_frames, 0)]
    args += ["-map", "[aout]", *aac_args(), "-t", f"{duration_s:.3f}", "-f", "mp4"]
    with atomic_output(output) as partial:
        run_ffmpeg([*args, file_arg(partial)], f"encoding the sound of {output.stem}")
    return output


def join_video(clips: Sequence[Path], output: Path, frames: int) -> Path:
    """One video-only clip of ``clips`` played one after another (atomically): by stream copy when they share a
    size, as every piece of one engine run does; else each scaled to the largest and encoded near-lossless (a
    piece the engine had to render at full size after a smaller size found no face)."""
    sizes = {(info.width, info.height) for info in (probe(c) for c in clips)}
    duration_s = frames / OUTPUT_FPS
    with tempfile.TemporaryDirectory(prefix="presgen-join-") as tmp:
        listing = Path(tmp) / "pieces.ffconcat"
        listing.write_text(concat_list(clips), encoding="utf-8")
        args = ["-f", "concat", "-safe", "0", "-i", file_arg(listing), "-map", "0:v:0"]
        if len(sizes) == 1:
            args += ["-c:v", "copy"]
        else:
            width, height = max(sizes, key=lambda size: (size[0] or 0) * (size[1] or 0))
            args += ["-vf", f"scale={width}:{height}:flags=lanczos,setsar=1", *JOIN_ENCODER]
        with atomic_output(output) as partial:
            run_ffmpeg([*args, "-f", "mp4", file_arg(partial)], f"joining {len(clips)} presenter pieces")
            written = probe(partial)
            if written.duration_s is None or abs(written.duration_s - duration_s) > DURATION_TOLERANCE_S:
                raise MediaError(f"the joined presenter lasts {written.duration_s} s instead of {duration_s:.2f} s")
    return output
