"""Chapters, one per section: (title, start, end) from the plan, written as ffmpeg metadata (muxed into the MP4,
shown by VLC and QuickTime) and as a WebVTT chapters file beside the video."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from presgen_training.files import atomic_output
from presgen_training.overlay.layers import OverlayPlan

TIMEBASE = 1000  # ffmetadata chapter times in milliseconds


@dataclass(frozen=True)
class Chapter:
    title: str
    start_s: float
    end_s: float


def chapter_list(plan: OverlayPlan) -> list[Chapter]:
    """One chapter per section; the first starts at 0 (over an intro card), the last ends with the video (under
    an end card), so the chapters cover the whole video without gaps."""
    fps = plan.fps
    windows = plan.sections
    chapters = []
    for i, w in enumerate(windows):
        start = 0 if i == 0 else w.first_frame
        end = plan.frames if i == len(windows) - 1 else windows[i + 1].first_frame
        chapters.append(Chapter(w.title, round(start / fps, 3), round(end / fps, 3)))
    return chapters


def _escape_meta(text: str) -> str:
    """ffmetadata escapes '=', ';', '#', '\\' and newlines with a backslash."""
    for ch in "\\=;#":
        text = text.replace(ch, "\\" + ch)
    return text.replace("\n", "\\\n")


def write_ffmetadata(chapters: list[Chapter], title: str, path: Path) -> None:
    lines = [";FFMETADATA1"]
    if title:
        lines.append(f"title={_escape_meta(title)}")
    for c in chapters:
        lines += [
            "[CHAPTER]",
            f"TIMEBASE=1/{TIMEBASE}",
            f"START={round(c.start_s * TIMEBASE)}",
            f"END={round(c.end_s * TIMEBASE)}",
            f"title={_escape_meta(c.title)}",
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def vtt_time(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


def write_webvtt_chapters(chapters: list[Chapter], path: Path) -> None:
    lines = ["WEBVTT", ""]
    for i, c in enumerate(chapters, start=1):
        lines += [
            f"Chapter {i}",
            f"{vtt_time(c.start_s)} --> {vtt_time(c.end_s)}",
            " ".join(c.title.split()).replace("-->", "->"),
            "",
        ]
    with atomic_output(path) as tmp:
        tmp.write_text("\n".join(lines), encoding="utf-8")
