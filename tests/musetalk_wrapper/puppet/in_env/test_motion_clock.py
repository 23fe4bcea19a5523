"""The motion clock (SEGMENTS.md): frame clocks, the handoff dissolve, and blinks, eye-line shifts and head sway
as pure functions of clock time."""

from __future__ import annotations

import numpy as np

from musetalk_wrapper.engines.puppet.motion import (
    HANDOFF_FRAMES,
    blink_closure,
    clip_clock,
    gaze_shift,
    sway_pose,
    to_tick,
    unit_hash,
)

FPS = 25


def test_a_clip_shows_the_clock_from_its_start() -> None:
    clock = clip_clock(100, FPS, start_s=3.0)
    assert [p.tick for p in clock[:3]] == [75.0, 76.0, 77.0] and clock[-1].tick == 174.0
    assert all(p.other is None and p.weight == 0.0 for p in clock)
    assert to_tick(1000.0 * 7, FPS) == 175000.0  # section k starts at k * 1000 s: a whole frame


def test_the_handoff_dissolves_into_the_next_clip_s_clock() -> None:
    n = 50
    clock = clip_clock(n, FPS, start_s=2000.0, handoff_s=3000.0)
    tail = clock[-HANDOFF_FRAMES:]
    assert all(p.other is None for p in clock[:-HANDOFF_FRAMES])
    assert [p.weight for p in tail] == [(j + 1) / HANDOFF_FRAMES for j in range(HANDOFF_FRAMES)]
    assert tail[-1].weight == 1.0 and tail[-1].other == 3000.0 * FPS - 1  # the frame before the next clip's first
    assert [p.other for p in tail] == [3000.0 * FPS - (n - i) for i in range(n - HANDOFF_FRAMES, n)]
    short = clip_clock(6, FPS, start_s=0.0, handoff_s=10.0)  # at most half the clip dissolves
    assert [p.weight for p in short] == [0.0, 0.0, 0.0, 1 / 3, 2 / 3, 1.0]
    contiguous = clip_clock(75, FPS, start_s=0.0, handoff_s=3.0)  # the next clip starts right after: nothing to do
    assert all(p.other is None for p in contiguous)


def test_blinks_are_irregular_10_to_20_a_minute_and_close_fully_for_2_to_4_frames() -> None:
    minutes = 10
    closure = np.array([blink_closure(t, FPS) for t in range(minutes * 60 * FPS)])
    closed = closure >= 1.0
    starts = np.flatnonzero(closed[1:] & ~closed[:-1]) + 1
    assert 10 * minutes <= len(starts) <= 20 * minutes
    lengths = [int(np.argmin(closed[s:])) for s in starts]
    assert set(lengths) <= {2, 3, 4} and len(set(lengths)) == 3
    gaps = np.diff(starts) / FPS
    assert gaps.min() > 0.5 and gaps.max() < 8.0 and gaps.std() > 0.8  # irregular, never a double-take
    # a pure function of the clock: the same values whatever was computed before, in any order
    again = [blink_closure(t, FPS) for t in range(minutes * 60 * FPS - 1, -1, -97)]
    assert again == closure[::-1][::97].tolist()
    late = 1000.0 * FPS * 9  # section 9 of a course
    assert max(blink_closure(late + t, FPS) for t in range(10 * FPS)) == 1.0


def test_eye_line_shifts_now_and_then_and_the_head_sways_smoothly() -> None:
    gaze = np.array([gaze_shift(t, FPS) for t in range(5 * 60 * FPS)])
    shifted = np.hypot(gaze[:, 0], gaze[:, 1]) > 0.3
    events = np.count_nonzero(shifted[1:] & ~shifted[:-1])
    assert 20 <= events <= 60 and 0.1 < shifted.mean() < 0.5  # now and then, not all the time
    assert np.abs(gaze).max() <= 1.0
    pose = np.array([sway_pose(t, FPS) for t in range(60 * FPS)])
    assert np.abs(np.diff(pose, axis=0)).max() < 0.05  # smooth from frame to frame (degrees, face units)
    assert pose[:, 0].std() > 0.2  # but it does move (degrees of roll)
    assert unit_hash("blink", 3) == unit_hash("blink", 3) != unit_hash("blink", 4)
