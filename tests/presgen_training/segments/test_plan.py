"""A segment's own inputs, and where its presenter is cut into pieces, depend only on the segment, never on where
it sits in the narration or on what follows a cut."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from presgen_training.ffmpeg import AUDIO_SAMPLE_RATE, OUTPUT_FPS
from presgen_training.narration.timings_file import DECIMALS
from presgen_training.segments.plan import (
    MIN_LAST_PIECE_S,
    MIN_PIECE_S,
    PIECE_CLEAR_S,
    Segment,
    cut_timings,
    piece_cuts,
)

FRAME_SAMPLES = AUDIO_SAMPLE_RATE // OUTPUT_FPS
# sample offsets inside a segment whose times sit on a rounding tie at 4 or 6 decimals (12/48000 s = 0.25 ms)
TIE_OFFSETS = (3, 12, 36, 4812, 96_012)


def timings_at(first_frame: int, frames: int) -> tuple[dict[str, object], Segment]:
    """A timings document of a narration whose segment starts at ``first_frame``, as the narration stage writes it."""
    start = first_frame * FRAME_SAMPLES
    end = (first_frame + frames) * FRAME_SAMPLES

    def t(samples: int) -> float:
        return round(samples / AUDIO_SAMPLE_RATE, DECIMALS)

    phonemes = [{"phoneme": "a", "start_s": t(start + k), "end_s": t(start + k + 7)} for k in TIE_OFFSETS]
    document = {"schema_version": 1, "duration_s": t(end), "phonemes": phonemes, "words": []}
    segment = Segment(1, 3, start / AUDIO_SAMPLE_RATE, end / AUDIO_SAMPLE_RATE, first_frame, first_frame + frames)
    return document, segment


@pytest.mark.parametrize("first_frame", [1, 77, 1_333, 12_345, 89_999])
def test_a_segments_timings_do_not_depend_on_where_it_starts(first_frame: int) -> None:
    reference = cut_timings(*timings_at(50, 2_500))
    moved = cut_timings(*timings_at(first_frame, 2_500))
    assert moved == reference
    assert [p["start_s"] for p in reference["phonemes"]] == [round(k / AUDIO_SAMPLE_RATE, 9) for k in TIE_OFFSETS]


def speech(spans_s: list[tuple[float, float]], length_s: float, seed: int = 0) -> np.ndarray:
    """int16 samples at 48 kHz: loud noise over ``spans_s`` (seconds), a faint floor (-80 dBFS) elsewhere."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 3.0, round(length_s * AUDIO_SAMPLE_RATE))
    for a, b in spans_s:
        first, end = round(a * AUDIO_SAMPLE_RATE), round(b * AUDIO_SAMPLE_RATE)
        x[first:end] = rng.normal(0.0, 3000.0, end - first)
    return np.clip(np.round(x), -32768, 32767).astype(np.int16)


# three sentences of about 4 s with 0.15 s silences between them (piper's own), and short 40 ms closures inside
SENTENCES = [(0.5, 2.7), (2.74, 4.4), (4.55, 6.0), (6.04, 8.6), (8.75, 12.6)]
LENGTH_S = 13.4  # the pause after the section ends it


def test_pieces_are_cut_in_the_silences_between_sentences() -> None:
    cuts = piece_cuts(speech(SENTENCES, LENGTH_S), AUDIO_SAMPLE_RATE, 100)
    assert len(cuts) == 2
    for cut, (end_of_one, start_of_next) in zip(cuts, [(4.4, 4.55), (8.6, 8.75)], strict=True):
        t = (cut - 100) / OUTPUT_FPS
        assert end_of_one + PIECE_CLEAR_S <= t + 1e-9 and t <= start_of_next - PIECE_CLEAR_S + 1e-9, "a cut in speech"
    frames = round(LENGTH_S * OUTPUT_FPS)
    segment = Segment(0, 2, 4.0, 4.0 + LENGTH_S, 100, 100 + frames, cuts=cuts)
    pieces = segment.pieces()
    assert sum(p.frames for p in pieces) == segment.frames
    assert all(a.end_frame == b.first_frame for a, b in itertools.pairwise(pieces))
    assert [p.handoff_s for p in pieces] == [None, None, segment.handoff_s]
    assert pieces[0].motion_start_s == segment.motion_start_s
    assert all(
        abs(b.motion_start_s - (a.motion_start_s + a.duration_s)) < 1e-9 for a, b in itertools.pairwise(pieces)
    ), "the pieces' motion clock runs on from one to the next"


@pytest.mark.parametrize("first_frame", [0, 77, 12_345])
def test_cuts_do_not_depend_on_where_the_segment_starts(first_frame: int) -> None:
    samples = speech(SENTENCES, LENGTH_S)
    reference = [c - 100 for c in piece_cuts(samples, AUDIO_SAMPLE_RATE, 100)]
    assert [c - first_frame for c in piece_cuts(samples, AUDIO_SAMPLE_RATE, first_frame)] == reference


def test_an_added_sentence_keeps_the_cuts_before_it() -> None:
    """Appending a sentence (or editing the last) never moves a cut before it: their pieces stay cached; and the
    level is absolute, so the same speech louder elsewhere in the section changes nothing before it."""
    before = piece_cuts(speech(SENTENCES, LENGTH_S), AUDIO_SAMPLE_RATE, 0)
    added = speech([*SENTENCES, (12.9, 15.5)], 16.3)
    added[round(12.9 * AUDIO_SAMPLE_RATE) :] *= 3
    after = piece_cuts(added, AUDIO_SAMPLE_RATE, 0)
    assert after[: len(before)] == before and len(after) == len(before) + 1


def test_no_piece_is_shorter_than_the_minimum_and_pauses_at_the_ends_are_not_cut() -> None:
    short = [(0.6, 1.0), (1.3, 1.7), (2.0, 2.4), (2.7, 3.1), (3.4, 3.8), (4.1, 4.2)]  # silences 0.7 s apart
    samples = speech(short, 4.4)
    cuts = piece_cuts(samples, AUDIO_SAMPLE_RATE, 10)
    bounds = [10, *cuts, 10 + 110]
    assert all(b - a >= MIN_PIECE_S * OUTPUT_FPS for a, b in itertools.pairwise(bounds[:-1]))
    assert bounds[-1] - bounds[-2] >= MIN_LAST_PIECE_S * OUTPUT_FPS
    assert piece_cuts(np.zeros(0, np.int16), AUDIO_SAMPLE_RATE, 0) == ()
    assert piece_cuts(np.zeros(5 * AUDIO_SAMPLE_RATE, np.int16), AUDIO_SAMPLE_RATE, 0) == (), "silence: one piece"
