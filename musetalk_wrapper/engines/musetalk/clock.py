"""The motion clock: which source frame each output frame shows, as a pure function of clock time.

Output frame i shows the source at clock time c_i = start_s + i / fps, i.e. source position round(start_s * fps)
+ i, played back and forth (ping-pong) over the whole source: nothing depends on how many frames were rendered
before, so a clip rendered alone equals the same frames inside a longer render. With ``handoff_s`` H the last
HANDOFF_FRAMES frames (at most half the clip) dissolve into the motion at c'_i = H - (n - i) / fps, the weight
rising linearly to exactly 1 on the last frame, which then shows H - 1 / fps: the next clip (start_s = H)
continues without a jump.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from musetalk_wrapper.engines.musetalk.source_frames import pingpong

HANDOFF_FRAMES = 8


@dataclass(frozen=True)
class FramePlan:
    primary: int  # source frame at c_i
    secondary: int  # source frame at c'_i (the primary outside the dissolve)
    weight: float  # of the secondary: 0 outside the dissolve, 1 on the clip's last frame

    @property
    def sources(self) -> tuple[int, ...]:
        return (
            (self.primary,)
            if self.weight == 0.0
            else (self.secondary,)
            if self.weight == 1.0
            else (self.primary, self.secondary)
        )


def clock_position(seconds: float, fps: int) -> int:
    """The source position (in frames) at clock time ``seconds``."""
    return math.floor(seconds * fps + 0.5)


def plan(n_frames: int, fps: int, count: int, start_s: float = 0.0, handoff_s: float | None = None) -> list[FramePlan]:
    base = clock_position(start_s, fps)
    frames = [FramePlan(pingpong(base + i, count), pingpong(base + i, count), 0.0) for i in range(n_frames)]
    window = min(HANDOFF_FRAMES, n_frames // 2) if handoff_s is not None else 0
    if window:
        assert handoff_s is not None
        end = clock_position(handoff_s, fps)  # c'_i = H - (n - i) / fps  ->  position end - (n - i)
        for j in range(1, window + 1):
            i = n_frames - window + j - 1
            frames[i] = FramePlan(frames[i].primary, pingpong(end - (n_frames - i), count), j / window)
    return frames
