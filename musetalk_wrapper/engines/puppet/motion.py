"""The motion clock (see the wrapper's --start-s/--handoff-s): everything that is not the mouth (video position,
head sway, blinks, eye-line shifts) is a pure function of clock time, so a clip rendered alone equals the same
frames inside a longer render. Pseudo-random events come from a hash of whole clock buckets, never from state.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import numpy as np

HANDOFF_FRAMES = 8  # the last frames of a clip dissolve into the motion at the handoff clock (at most half the clip)
TICK_SNAP = 1e-6  # a clock within this many frames of a whole frame is that frame (start_s = k * 1000 is exact)

BLINK_PERIOD_S = 4.0  # one blink per bucket of this length, at a hashed position: 15 a minute, irregular
BLINK_SPREAD = (0.1, 0.9)  # where in its bucket a blink may start (share of the bucket)
BLINK_CLOSING = (0.4, 0.85)  # lid closure on the frames before full closure (at 25 fps)
BLINK_OPENING = (0.8, 0.5, 0.22, 0.06)  # ... and after it
BLINK_HOLD_FRAMES = (2, 3, 4)  # frames fully closed (at 25 fps), picked per blink

GAZE_PERIOD_S = 6.0  # at most one eye-line shift per bucket of this length
GAZE_CHANCE = 0.7
GAZE_HOLD_S = (0.7, 2.2)
GAZE_RAMP_S = 0.08  # eyes move quickly (a saccade), then hold
GAZE_SHIFT = (0.45, 0.8)  # iris shift, share of the largest shift the eye allows (set in eyes.py)

SWAY_DEG = 0.7  # head roll amplitude
SWAY_SHIFT = 0.018  # head shift amplitude (face units)
SWAY_WAVES = (  # (parameter, frequency Hz, weight): slow incommensurate sines
    (0, 0.11, 0.6),
    (0, 0.27, 0.4),
    (1, 0.07, 0.7),
    (1, 0.19, 0.3),
    (2, 0.09, 0.3),
    (2, 0.23, 0.2),
)


def unit_hash(name: str, index: int) -> float:
    """A number in [0, 1) fixed by (name, index): the same in every process and on every machine."""
    digest = hashlib.blake2b(f"{name}:{index}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


def to_tick(seconds: float, fps: float) -> float:
    tick = seconds * fps
    return float(round(tick)) if abs(tick - round(tick)) < TICK_SNAP else tick


@dataclass(frozen=True)
class ClockPoint:
    """The motion shown by one output frame: clock ``tick`` (frames), dissolving with ``weight`` into ``other``."""

    tick: float
    other: float | None = None
    weight: float = 0.0


def clip_clock(n_frames: int, fps: float, start_s: float = 0.0, handoff_s: float | None = None) -> list[ClockPoint]:
    """Frame i shows clock start_s + i / fps; with a handoff, the last frames dissolve towards the clock
    handoff_s - (n - i) / fps with a weight reaching exactly 1 on the last frame."""
    start = to_tick(start_s, fps)
    points = [ClockPoint(start + i) for i in range(n_frames)]
    if handoff_s is None or n_frames == 0:
        return points
    handoff = to_tick(handoff_s, fps)
    k = min(HANDOFF_FRAMES, n_frames // 2) or 1
    for j in range(k):
        i = n_frames - k + j
        other = handoff - (n_frames - i)
        points[i] = ClockPoint(start + i, None if other == start + i else other, (j + 1) / k)
    return points


def blend(a: np.ndarray | float, b: np.ndarray | float, weight: float) -> np.ndarray | float:
    return a if weight <= 0 else b if weight >= 1 else (1.0 - weight) * a + weight * b


def _profile(fps: float, hold: int) -> np.ndarray:
    """Lid closure per frame of one blink at ``fps`` (defined at 25 fps, resampled in time)."""
    at25 = np.array([*BLINK_CLOSING, *([1.0] * hold), *BLINK_OPENING])
    if fps == 25:
        return at25
    t = np.arange(math.ceil(len(at25) * fps / 25.0)) * 25.0 / fps
    out = np.interp(t, np.arange(len(at25)), at25)
    closed = (t >= len(BLINK_CLOSING)) & (t <= len(BLINK_CLOSING) + hold - 1)
    out[closed] = 1.0
    result: np.ndarray = out
    return result


def _blink_start(bucket: int, fps: float) -> tuple[int, np.ndarray]:
    u = unit_hash("blink", bucket)
    start_s = (bucket + BLINK_SPREAD[0] + (BLINK_SPREAD[1] - BLINK_SPREAD[0]) * u) * BLINK_PERIOD_S
    hold = BLINK_HOLD_FRAMES[int(unit_hash("blink-hold", bucket) * len(BLINK_HOLD_FRAMES))]
    return math.ceil(start_s * fps - TICK_SNAP), _profile(fps, hold)


def blink_closure(tick: float, fps: float) -> float:
    """Lid closure 0..1 at clock ``tick`` (frames)."""
    frame = math.floor(tick + TICK_SNAP)
    bucket = math.floor(frame / (BLINK_PERIOD_S * fps))
    closure = 0.0
    for b in (bucket - 1, bucket):
        start, profile = _blink_start(b, fps)
        if 0 <= frame - start < len(profile):
            closure = max(closure, float(profile[frame - start]))
    return closure


def gaze_shift(tick: float, fps: float) -> tuple[float, float]:
    """Eye-line shift (x, y), each -1..1 of the largest shift the eye allows, at clock ``tick``."""
    t = tick / fps
    bucket = math.floor(t / GAZE_PERIOD_S)
    if unit_hash("gaze", bucket) >= GAZE_CHANCE:
        return 0.0, 0.0
    hold = GAZE_HOLD_S[0] + (GAZE_HOLD_S[1] - GAZE_HOLD_S[0]) * unit_hash("gaze-hold", bucket)
    start = bucket * GAZE_PERIOD_S + (GAZE_PERIOD_S - hold - 2 * GAZE_RAMP_S) * unit_hash("gaze-start", bucket)
    x = t - start
    if x <= 0 or x >= hold + 2 * GAZE_RAMP_S:
        return 0.0, 0.0
    ramp = min(1.0, x / GAZE_RAMP_S, (hold + 2 * GAZE_RAMP_S - x) / GAZE_RAMP_S)
    ramp = ramp * ramp * (3.0 - 2.0 * ramp)
    angle = 2.0 * math.pi * unit_hash("gaze-angle", bucket)
    size = GAZE_SHIFT[0] + (GAZE_SHIFT[1] - GAZE_SHIFT[0]) * unit_hash("gaze-size", bucket)
    # mostly sideways: people glance left and right more than up and down
    return ramp * size * math.cos(angle), ramp * size * 0.35 * math.sin(angle)


def sway_pose(tick: float, fps: float) -> np.ndarray:
    """(roll degrees, x shift, y shift in face units) of the head at clock ``tick``."""
    t = tick / fps
    pose = np.zeros(3)
    for k, (param, hz, weight) in enumerate(SWAY_WAVES):
        phase = 2.0 * math.pi * unit_hash("sway", k)
        pose[param] += weight * math.sin(2.0 * math.pi * hz * t + phase)
    result: np.ndarray = pose * np.array([SWAY_DEG, SWAY_SHIFT, 0.5 * SWAY_SHIFT])
    return result
