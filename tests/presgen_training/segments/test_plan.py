"""A segment's own inputs depend only on the segment, never on where it sits in the narration."""

from __future__ import annotations

import pytest

from presgen_training.ffmpeg import AUDIO_SAMPLE_RATE, OUTPUT_FPS
from presgen_training.narration.timings_file import DECIMALS
from presgen_training.segments.plan import Segment, cut_timings

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
