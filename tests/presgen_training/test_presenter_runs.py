"""A video's missing presenter clips split into engine runs (``presgen render`` and every course backend): every
clip in exactly one run, one render size per run, no run over CLIPS_PER_RUN clips, the frames shared over the
workers in runs of at least the minimum length."""

from __future__ import annotations

from typing import Any, cast

import pytest

from presgen_training.course.runner import TARGET_BATCH_FRAMES
from presgen_training.pipeline import CLIPS_PER_RUN, presenter_runs
from presgen_training.segments.avatar_clips import AvatarInputs
from presgen_training.segments.plan import Segment

INPUTS = cast(AvatarInputs, object())  # the batches carry it along untouched


def segments(count: int, frames: int, sides: list[int | None]) -> list[Segment]:
    return [
        Segment(i, count, i * frames / 25, (i + 1) * frames / 25, i * frames, (i + 1) * frames, sides[i % len(sides)])
        for i in range(count)
    ]


@pytest.mark.parametrize(
    ("count", "frames", "sides", "slots"),
    [
        (20, 100, [768], 1),  # a module of 20 short sections: more than one run holds
        (4, 500, [768], 2),  # 2000 frames over two heavy slots
        (5, 100, [768, 1536], 1),  # a section shown full frame renders larger than the panel's
        (1, 50, [None], 4),
    ],
)
def test_every_clip_in_one_run_of_one_size(count: int, frames: int, sides: list[Any], slots: int) -> None:
    todo = segments(count, frames, sides)
    runs = presenter_runs(INPUTS, todo, slots, TARGET_BATCH_FRAMES)
    assert sorted(s.index for run in runs for s in run.segments) == list(range(count))
    for run in runs:
        assert len({s.render_side for s in run.segments}) == 1
        assert len(run.segments) <= CLIPS_PER_RUN and run.inputs is INPUTS
    if len(set(sides)) == 1:
        wanted = max(min(slots, -(-count * frames // TARGET_BATCH_FRAMES)), -(-count // CLIPS_PER_RUN))
        assert len(runs) == min(count, wanted)
