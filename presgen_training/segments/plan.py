"""Segment bounds from the narration, the motion clock, and each segment's own audio and timings files.

Segment k is section k's speech plus the pause after it (the first also holds the lead-in, the last the tail);
the narration stage makes each one a whole number of frames. On the engine's motion clock segment k starts at
k * MOTION_SLOT_S and hands off to k + 1's start, so a segment's pixels never depend on how long the others are.
"""

from __future__ import annotations

import itertools
import json
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from presgen_training.errors import PresgenError
from presgen_training.ffmpeg import AUDIO_SAMPLE_RATE, OUTPUT_FPS
from presgen_training.files import atomic_output
from presgen_training.timeline import Narration

MOTION_SLOT_S = 1000.0  # seconds of motion clock per section: longer than any section may be
FRAME_EPSILON = 1e-6  # frames: a bound this close to a whole frame is that frame


@dataclass(frozen=True)
class Segment:
    index: int
    count: int  # segments in the video
    start_s: float
    end_s: float
    first_frame: int
    end_frame: int  # exclusive
    render_side: int | None = None  # px: the presenter clip's longest side (None: the engine's own limit)

    @property
    def frames(self) -> int:
        return self.end_frame - self.first_frame

    @property
    def duration_s(self) -> float:
        return self.frames / OUTPUT_FPS

    @property
    def motion_start_s(self) -> float:
        return self.index * MOTION_SLOT_S

    @property
    def handoff_s(self) -> float | None:
        return (self.index + 1) * MOTION_SLOT_S if self.index + 1 < self.count else None


def plan_segments(narration: Narration) -> list[Segment]:
    segments = []
    for timing in narration.sections:
        if timing.segment_start_s is None or timing.segment_end_s is None:
            raise PresgenError(f"section {timing.index + 1} has no segment bounds (narration stage bug)")
        first, end = _frame(timing.segment_start_s), _frame(timing.segment_end_s)
        segments.append(
            Segment(timing.index, len(narration.sections), timing.segment_start_s, timing.segment_end_s, first, end)
        )
    for before, after in itertools.pairwise(segments):
        if before.end_frame != after.first_frame:
            raise PresgenError(f"segments {before.index + 1} and {after.index + 1} do not join (narration stage bug)")
    return segments


def _frame(seconds: float) -> int:
    value = seconds * OUTPUT_FPS
    frame = round(value)
    if abs(value - frame) > FRAME_EPSILON:
        raise PresgenError(f"segment bound {seconds:.6f} s is not on a frame (narration stage bug)")
    return frame


def cut_audio(narration_wav: Path, segment: Segment, out: Path) -> Path:
    """The segment's samples of the narration, as a WAV of their own."""
    with wave.open(str(narration_wav), "rb") as src:
        rate, width, channels = src.getframerate(), src.getsampwidth(), src.getnchannels()
        first = round(segment.start_s * rate)
        count = round(segment.end_s * rate) - first
        src.setpos(first)
        data = src.readframes(count)
    if len(data) != count * width * channels:
        raise PresgenError(f"the narration is shorter than segment {segment.index + 1} (narration stage bug)")
    with atomic_output(out) as tmp, wave.open(str(tmp), "wb") as dst:
        dst.setnchannels(channels)
        dst.setsampwidth(width)
        dst.setframerate(rate)
        dst.writeframes(data)
    return out


def cut_timings(document: dict[str, Any], segment: Segment) -> dict[str, Any]:
    """The --timings document of one segment: its phonemes and words, times from the segment's start."""

    def inside(item: dict[str, Any]) -> bool:
        start_s: float = item["start_s"]
        return segment.start_s <= start_s < segment.end_s

    def relative(t: float) -> float:
        # Whole samples first: narration times are sample counts, and rounding their float difference to decimals
        # could fall either way of a tie depending on where the segment sits in the narration (an edit earlier in
        # the script would then change this segment's key).
        return round(round((t - segment.start_s) * AUDIO_SAMPLE_RATE) / AUDIO_SAMPLE_RATE, 9)

    def shifted(item: dict[str, Any]) -> dict[str, Any]:
        return {**item, "start_s": relative(item["start_s"]), "end_s": relative(min(item["end_s"], segment.end_s))}

    cut = {k: v for k, v in document.items() if k not in ("phonemes", "words", "sections")}
    cut["duration_s"] = relative(segment.end_s)
    cut["phonemes"] = [shifted(p) for p in document.get("phonemes", []) if inside(p)]
    cut["words"] = [shifted(w) for w in document.get("words", []) if inside(w)]
    return cut


def write_json(document: dict[str, Any], out: Path) -> Path:
    with atomic_output(out) as tmp:
        tmp.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return out
