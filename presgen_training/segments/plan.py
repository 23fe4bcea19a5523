"""Segment bounds from the narration, the motion clock, and each segment's own audio and timings files.

Segment k is section k's speech plus the pause after it (the first also holds the lead-in, the last the tail);
the narration stage makes each one a whole number of frames. On the engine's motion clock segment k starts at
k * MOTION_SLOT_S and hands off to k + 1's start, so a segment's pixels never depend on how long the others are.

A segment's presenter is rendered in pieces cut at the silences between its sentences, each an engine clip at its
own place on the segment's clock: an edit re-renders the pieces it touches, not the whole section. Cuts are found
from the segment's start in its driver audio (the speech before the section's loudness gain), so an edit never
moves the cuts before it.
"""

from __future__ import annotations

import itertools
import json
import wave
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from presgen_training.errors import PresgenError
from presgen_training.ffmpeg import AUDIO_SAMPLE_RATE, OUTPUT_FPS
from presgen_training.files import atomic_output
from presgen_training.timeline import Narration

MOTION_SLOT_S = 1000.0  # seconds of motion clock per section: longer than any section may be
FRAME_EPSILON = 1e-6  # frames: a bound this close to a whole frame is that frame
SILENCE_S = 0.12  # a silence this long may end a presenter piece (between sentences, at commas, written pauses)
BLOCK_S = 0.01  # silence is measured in blocks this long
SILENCE_RMS = 16.0  # int16 units (-66 dBFS): the driver is quieter than this only where nothing is said
PIECE_CLEAR_S = 0.03  # a cut keeps at least this far from the sound either side of it
MIN_PIECE_S = 4.0  # no presenter piece is shorter: each is an engine clip, at ~0.3 s of fixed cost (puppet)
# the last piece may be shorter: a cut that waited for MIN_PIECE_S after it would move when a sentence is added
MIN_LAST_PIECE_S = 1.0


class _FrameSpan:
    """Frames ``first_frame`` <= n < ``end_frame`` of the video."""

    first_frame: int
    end_frame: int  # exclusive

    @property
    def frames(self) -> int:
        return self.end_frame - self.first_frame

    @property
    def duration_s(self) -> float:
        return self.frames / OUTPUT_FPS


@dataclass(frozen=True)
class Segment(_FrameSpan):
    index: int
    count: int  # segments in the video
    start_s: float
    end_s: float
    first_frame: int
    end_frame: int  # exclusive
    render_side: int | None = None  # px: the presenter clip's longest side (None: the engine's own limit)
    cuts: tuple[int, ...] = ()  # frames (first_frame < cut < end_frame) where one presenter piece ends, the next starts

    @property
    def motion_start_s(self) -> float:
        return self.index * MOTION_SLOT_S

    @property
    def handoff_s(self) -> float | None:
        return (self.index + 1) * MOTION_SLOT_S if self.index + 1 < self.count else None

    def pieces(self) -> list[Piece]:
        bounds = [self.first_frame, *self.cuts, self.end_frame]
        return [Piece(self, number, a, b) for number, (a, b) in enumerate(itertools.pairwise(bounds))]


@dataclass(frozen=True)
class Piece(_FrameSpan):
    """Frames ``first_frame`` <= n < ``end_frame`` of a segment's presenter: one engine clip. Its motion clock runs
    on from the segment's, so the pieces of a segment join into the motion of one clip; the last one hands off."""

    segment: Segment
    number: int  # 0-based, within the segment
    first_frame: int
    end_frame: int  # exclusive

    @property
    def index(self) -> int:
        return self.segment.index

    @property
    def start_s(self) -> float:
        return self.first_frame / OUTPUT_FPS

    @property
    def end_s(self) -> float:
        return self.end_frame / OUTPUT_FPS

    @property
    def motion_start_s(self) -> float:
        return self.segment.motion_start_s + (self.first_frame - self.segment.first_frame) / OUTPUT_FPS

    @property
    def handoff_s(self) -> float | None:
        return self.segment.handoff_s if self.end_frame == self.segment.end_frame else None

    @property
    def render_side(self) -> int | None:
        return self.segment.render_side


def plan_segments(narration: Narration) -> list[Segment]:
    segments = []
    for timing in narration.sections:
        if timing.segment_start_s is None or timing.segment_end_s is None:
            raise PresgenError(f"section {timing.index + 1} has no segment bounds (narration stage bug)")
        first, end = _frame(timing.segment_start_s), _frame(timing.segment_end_s)
        segment = Segment(
            timing.index, len(narration.sections), timing.segment_start_s, timing.segment_end_s, first, end
        )
        driver = narration.driver_path or narration.wav_path
        if driver.is_file():
            samples, rate = _read_span(driver, segment)
            segment = replace(segment, cuts=piece_cuts(samples, rate, first))
        segments.append(segment)
    for before, after in itertools.pairwise(segments):
        if before.end_frame != after.first_frame:
            raise PresgenError(f"segments {before.index + 1} and {after.index + 1} do not join (narration stage bug)")
    return segments


def piece_cuts(samples: np.ndarray, rate: int, first_frame: int) -> tuple[int, ...]:
    """Where a segment is cut into presenter pieces (absolute frames), from its driver ``samples`` (int16 at
    ``rate``, starting at frame ``first_frame``): greedily from its start, at the frame boundary in the middle of
    each silence of at least SILENCE_S (blocks of BLOCK_S under SILENCE_RMS, an absolute level, so another
    sentence's loudness never moves a cut) that keeps PIECE_CLEAR_S from the sound either side, at least
    MIN_PIECE_S after the last cut and MIN_LAST_PIECE_S before the segment's end."""
    block = round(BLOCK_S * rate)
    per_frame = rate // OUTPUT_FPS
    count = len(samples) // block
    if count == 0:
        return ()
    x = samples[: count * block].astype(np.float64).reshape(count, block)
    silent = np.sqrt(np.mean(x * x, axis=1)) < SILENCE_RMS
    frames = len(samples) // per_frame
    shortest, clear = round(MIN_PIECE_S * OUTPUT_FPS), round(PIECE_CLEAR_S * rate)
    last_shortest = round(MIN_LAST_PIECE_S * OUTPUT_FPS)
    cuts: list[int] = []
    last = 0
    edges = np.flatnonzero(np.diff(np.concatenate([[0], silent.astype(np.int8), [0]])))
    for run_start, run_end in zip(edges[::2], edges[1::2], strict=True):
        a, b = run_start * block, run_end * block  # samples from the segment's start
        if a == 0 or run_end == count or b - a < SILENCE_S * rate:
            continue  # the lead-in and the pause after the section are not between two sentences
        frame = round((a + b) / 2 / per_frame)
        if frame * per_frame - a < clear or b - frame * per_frame < clear:
            continue
        if frame - last >= shortest and frames - frame >= last_shortest:
            cuts.append(first_frame + frame)
            last = frame
    return tuple(cuts)


def _frame(seconds: float) -> int:
    value = seconds * OUTPUT_FPS
    frame = round(value)
    if abs(value - frame) > FRAME_EPSILON:
        raise PresgenError(f"segment bound {seconds:.6f} s is not on a frame (narration stage bug)")
    return frame


def _span_frames(wav_path: Path, span: Segment | Piece) -> tuple[bytes, wave._wave_params]:
    """The raw frames of a segment's or piece's stretch of the narration WAV, and the WAV's parameters; the
    narration must hold all of it."""
    with wave.open(str(wav_path), "rb") as src:
        params = src.getparams()
        first = round(span.start_s * params.framerate)
        count = round(span.end_s * params.framerate) - first
        src.setpos(first)
        data = src.readframes(count)
    if len(data) != count * params.sampwidth * params.nchannels:
        raise PresgenError(f"the narration is shorter than segment {span.index + 1} (narration stage bug)")
    return data, params


def _read_span(wav_path: Path, span: Segment | Piece) -> tuple[np.ndarray, int]:
    """(int16 samples, rate) of a segment's or piece's stretch of a 16-bit mono narration WAV."""
    data, params = _span_frames(wav_path, span)
    return np.frombuffer(data, dtype="<i2").astype(np.int16), params.framerate


def cut_audio(narration_wav: Path, segment: Segment | Piece, out: Path) -> Path:
    """The segment's (or piece's) samples of the narration, as a WAV of their own."""
    data, params = _span_frames(narration_wav, segment)
    with atomic_output(out) as tmp, wave.open(str(tmp), "wb") as dst:
        dst.setnchannels(params.nchannels)
        dst.setsampwidth(params.sampwidth)
        dst.setframerate(params.framerate)
        dst.writeframes(data)
    return out


def cut_timings(document: dict[str, Any], segment: Segment | Piece) -> dict[str, Any]:
    """The --timings document of one segment (or piece): its phonemes and words, times from its start."""

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
