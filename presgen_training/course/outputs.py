"""What a course adds beside each module's video: a thumbnail (one PNG frame) and its chapters (a WebVTT chapters
track players and the index page use), both taken from the video and its run manifest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from presgen_training.ffmpeg import file_arg, run_ffmpeg
from presgen_training.files import atomic_output
from presgen_training.narration.captions import VttWriter
from presgen_training.timeline import Cue

THUMB_WIDTH_PX = 480
FRAME_S = 0.04  # one frame at 25 fps


def chapters(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """[{title, start_s, end_s}]: the render's own chapters, else one per section (starting where its segment
    starts, so they tile the video)."""
    given = manifest.get("overlay", {}).get("chapters")
    if isinstance(given, list) and given and all(isinstance(c, dict) and "start_s" in c for c in given):
        return [
            {"title": str(c.get("title", "")), "start_s": float(c["start_s"]), "end_s": float(c["end_s"])}
            for c in given
        ]
    duration = float(manifest["output"]["duration_s"])
    titles = [s["title"] for s in manifest["narration"]["sections"]]
    starts = [float(s["start_s"]) for s in manifest.get("segments", []) if s.get("index") is not None] or [
        float(s["start_s"]) for s in manifest["narration"]["sections"]
    ]
    marks = list(zip(titles, starts))
    marks[0] = (marks[0][0], 0.0)
    ends = [start for _, start in marks[1:]] + [duration]
    return [
        {"title": title, "start_s": round(start, 3), "end_s": round(end, 3)} for (title, start), end in zip(marks, ends)
    ]


def write_chapters_vtt(items: list[dict[str, Any]], path: Path) -> Path:
    VttWriter().write([Cue(item["start_s"], item["end_s"], item["title"]) for item in items], path)
    return path


def thumbnail_time(manifest: dict[str, Any]) -> float:
    """When the first section has been spoken: its title and bullets are all on screen."""
    duration = float(manifest["output"]["duration_s"])
    sections = manifest["narration"]["sections"]
    at = float(sections[0]["end_s"]) if sections else duration / 2
    return max(0.0, min(at, duration - 2 * FRAME_S))


def write_thumbnail(video: Path, at_s: float, path: Path) -> Path:
    with atomic_output(path) as tmp:
        run_ffmpeg(
            [
                "-ss",
                f"{at_s:.3f}",
                "-i",
                file_arg(video),
                "-frames:v",
                "1",
                "-vf",
                f"scale={THUMB_WIDTH_PX}:-2:flags=bicubic",
                "-f",
                "image2",
                "-c:v",
                "png",
                file_arg(tmp),
            ],
            f"taking a thumbnail of {video.name}",
        )
    return path
