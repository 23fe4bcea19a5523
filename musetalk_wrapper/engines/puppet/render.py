"""The puppet render of one clip: audio -> mouth shapes, the motion clock -> source frame, sway, blinks and
eye-line shifts, then every output frame drawn (two at a time, in threads; each is a pure function of its
index) and encoded."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from musetalk_wrapper.contract import EngineOutput
from musetalk_wrapper.engines.puppet.audio_drive import mouth_from_audio
from musetalk_wrapper.engines.puppet.audio_features import SAMPLE_RATE, AudioFeatures, analyse, frame_count
from musetalk_wrapper.engines.puppet.eyes import apply_blink, apply_gaze
from musetalk_wrapper.engines.puppet.landmarks import FaceFrame, face_box
from musetalk_wrapper.engines.puppet.lower_face import MouthShape, apply_mouth
from musetalk_wrapper.engines.puppet.motion import (
    ClockPoint,
    blend,
    blink_closure,
    clip_clock,
    gaze_shift,
    sway_pose,
)
from musetalk_wrapper.engines.puppet.mouth_track import MouthTrack
from musetalk_wrapper.engines.puppet.photo_motion import HeadSway
from musetalk_wrapper.engines.puppet.prepared import PreparedSource
from musetalk_wrapper.engines.puppet.visemes import mouth_from_timings, timings_match_audio
from musetalk_wrapper.engines.puppet.warp import clip_box
from musetalk_wrapper.media import VideoWriter, load_audio, pingpong_index
from musetalk_wrapper.progress import Progress
from musetalk_wrapper.request import RenderRequest
from musetalk_wrapper.timings import load_timings

WORKERS = 2  # frames drawn at once (OpenCV and numpy release the GIL)
AHEAD = 6  # frames drawn ahead of the encoder


@dataclass
class Clip:
    """Everything about one clip that is not the source: its length, mouth shapes and motion clock."""

    request: RenderRequest
    n_out: int
    audio_s: float
    features: AudioFeatures
    mouth: MouthTrack
    driver: str  # "timings" or "audio"
    clock: list[ClockPoint]
    warnings: list[str] = field(default_factory=list)
    timings_s: dict[str, float] = field(default_factory=dict)


def plan_clip(request: RenderRequest, progress: Progress) -> Clip:
    t = time.monotonic()
    progress.stage("audio")
    audio = load_audio(request.audio, SAMPLE_RATE)
    audio_s = len(audio) / SAMPLE_RATE
    n_out = frame_count(len(audio), request.fps)
    features = analyse(audio, request.fps, n_out)
    warnings: list[str] = []
    mouth, driver = _mouth(request, features, audio_s, warnings)
    clock = clip_clock(n_out, request.fps, request.start_s, request.handoff_s)
    return Clip(request, n_out, audio_s, features, mouth, driver, clock, warnings, {"audio": time.monotonic() - t})


def _mouth(
    request: RenderRequest, features: AudioFeatures, audio_s: float, warnings: list[str]
) -> tuple[MouthTrack, str]:
    if request.timings is not None:
        timings = load_timings(request.timings)
        if timings_match_audio(timings, audio_s):
            return mouth_from_timings(timings, features), "timings"
        warnings.append(
            f"timings last {timings.duration_s:.2f} s but the audio {audio_s:.2f} s; "
            "mouth shapes come from the audio instead"
        )
    return mouth_from_audio(features), "audio"


def source_index(tick: float, source: PreparedSource) -> int:
    return 0 if source.is_photo else pingpong_index(round(tick), source.n_frames)


def shown_frames(clip: Clip, source: PreparedSource) -> np.ndarray:
    """The source frames the clip shows (both ends of every dissolve)."""
    ticks = [p.tick for p in clip.clock] + [p.other for p in clip.clock if p.other is not None]
    return np.unique([source_index(t, source) for t in ticks])


@dataclass(frozen=True)
class Frame:
    image: np.ndarray
    points: np.ndarray  # 478 landmarks where the frame shows them
    real_mouth: bool  # the mouth came from the presenter's own video (the bank)


class FrameDrawer:
    """Draws output frame i of a clip from a prepared source; thread-safe, and a pure function of i."""

    def __init__(self, clip: Clip, source: PreparedSource) -> None:
        self.clip, self.source = clip, source
        req = clip.request
        self.photo_motion = source.is_photo and req.motion and req.image is not None
        self.blinks = self.photo_motion and req.blink
        m = clip.mouth
        assert m.tongue is not None and m.tongue_out is not None and m.speaking is not None
        self._shapes = [
            MouthShape(
                float(m.open[i]),
                float(m.width[i]),
                float(m.upper[i]),
                float(m.tongue[i]),
                float(m.tongue_out[i]),
                1.0 - float(m.speaking[i]) if source.is_photo else 0.0,
            )
            for i in range(clip.n_out)
        ]
        self.sway: HeadSway | None = None
        if source.is_photo:
            pts = source.points(0)
            self.sway = HeadSway(pts, source.width, source.height) if self.photo_motion else None
            self.box = self._edit_box(pts)

    def _edit_box(self, pts: np.ndarray) -> tuple[int, int, int, int]:
        """The part of a photo that changes: the head (sway), or just the mouth's mesh and the eyes."""
        if self.sway is not None:
            return self.sway.box
        rig = self.source.rig
        assert rig is not None
        anchors = FaceFrame.from_landmarks(pts).to_image(rig.anchors)
        eyes = pts[[33, 133, 263, 362, 159, 145, 386, 374]]
        return clip_box(np.concatenate([anchors, eyes]), self.source.width, self.source.height, margin=8)

    def draw(self, i: int) -> Frame:
        return self._draw_photo(i) if self.source.is_photo else self._draw_video(i)

    def _draw_video(self, i: int) -> Frame:
        point = self.clip.clock[i]
        image, pts, real = self._video_frame(point.tick, self._shapes[i])
        if point.other is not None and point.weight > 0:
            other, _, _ = self._video_frame(point.other, self._shapes[i])
            image = np.clip(image * (1.0 - point.weight) + other * point.weight + 0.5, 0, 255).astype(np.uint8)
        return Frame(image, pts, real)

    def _video_frame(self, tick: float, shape: MouthShape) -> tuple[np.ndarray, np.ndarray, bool]:
        k = source_index(tick, self.source)
        image = np.array(self.source.frame(k))
        pts = self.source.points(k)
        assert self.source.rig is not None
        real = apply_mouth(image, pts, shape, self.source.rig, self.source.bank)
        return image, pts, real

    @staticmethod
    def _photo_motion(point: ClockPoint, fps: float) -> tuple[float, tuple[float, float], np.ndarray]:
        """Blink closure, eye-line shift and head pose at the clock (blended across a handoff)."""
        closure, gaze, pose = (
            blink_closure(point.tick, fps),
            np.array(gaze_shift(point.tick, fps)),
            sway_pose(point.tick, fps),
        )
        if point.other is not None:
            closure = float(blend(closure, blink_closure(point.other, fps), point.weight))
            gaze = np.asarray(blend(gaze, np.array(gaze_shift(point.other, fps)), point.weight))
            pose = np.asarray(blend(pose, sway_pose(point.other, fps), point.weight))
        return closure, (float(gaze[0]), float(gaze[1])), pose

    def _draw_photo(self, i: int) -> Frame:
        src, req = self.source, self.clip.request
        base, pts = src.frame(0), src.points(0)
        assert src.rig is not None
        x0, y0, x1, y1 = self.box
        crop = base[y0:y1, x0:x1].copy()
        local_pts = pts - np.array([x0, y0])
        apply_mouth(crop, local_pts, self._shapes[i], src.rig)
        out_pts = pts
        if self.sway is not None:
            closure, gaze, pose = self._photo_motion(self.clip.clock[i], float(req.fps))
            apply_gaze(crop, local_pts, gaze)
            apply_blink(crop, local_pts, closure if self.blinks else 0.0, src.eye_rigs)
            crop = self.sway.apply(crop, pose)
            out_pts = self.sway.move_points(pts, pose)
        image = base.copy()
        image[y0:y1, x0:x1] = crop
        return Frame(image, out_pts, False)


def draw_frames(drawer: FrameDrawer, workers: int = WORKERS) -> Iterator[Frame]:
    """Every frame of the clip, in order, drawn ``workers`` at a time."""
    n = drawer.clip.n_out
    if workers <= 1:
        for i in range(n):
            yield drawer.draw(i)
        return
    with ThreadPoolExecutor(max_workers=workers) as pool:
        queue: deque[Future[Frame]] = deque()
        nxt = 0
        for i in range(n):
            while nxt < n and nxt < i + AHEAD:
                queue.append(pool.submit(drawer.draw, nxt))
                nxt += 1
            yield queue.popleft().result()


def _runs(flags: list[bool]) -> list[list[int]]:
    """[[start, stop), ...] of the frames where ``flags`` is true."""
    runs: list[list[int]] = []
    for i, flag in enumerate(flags):
        if flag:
            if runs and runs[-1][1] == i:
                runs[-1][1] = i + 1
            else:
                runs.append([i, i + 1])
    return runs


def render_clip(request: RenderRequest, source: PreparedSource, progress: Progress) -> EngineOutput:
    clip = plan_clip(request, progress)
    timings = dict(clip.timings_s)
    shown = shown_frames(clip, source)
    timings["track"] = source.need(shown, progress)
    w, h = source.width, source.height
    drawer = FrameDrawer(clip, source)
    boxes = []
    real: list[bool] = []
    encode = 0.0
    progress.stage("render", total=clip.n_out)
    started = time.monotonic()
    with VideoWriter(request.output, w, h, request.audio, fps=request.fps) as writer:
        for i, frame in enumerate(draw_frames(drawer)):
            boxes.append(face_box(frame.points))
            real.append(frame.real_mouth)
            t = time.monotonic()
            writer.write(frame.image)
            encode += time.monotonic() - t
            progress.update("render", i + 1, clip.n_out)
        t = time.monotonic()
    encode += time.monotonic() - t  # closing: the encoder flushes its last frames
    timings.update(render=time.monotonic() - started - encode, encode=encode)
    details: dict[str, object] = {
        "face_box": median_face_box(boxes, w, h),
        "source_frames": len(shown),
        "mouth_driver": clip.driver,
        "source_kind": source.kind,
    }
    if source.bank is not None:
        details["mouth_bank"] = {"entries": len(source.bank), "frames": int(sum(real)), "runs": _runs(real)}
    kind = "photo" if request.image is not None else "video"
    return EngineOutput(
        frames=clip.n_out,
        fps=float(request.fps),
        duration_s=clip.audio_s,
        message=f"rendered {clip.n_out} frames with puppet ({kind} source, mouth from the {clip.driver})",
        timings_s=timings,
        warnings=clip.warnings + source.clip_warnings(shown),
        details=details,
    )


def median_face_box(boxes: list[tuple[float, float, float, float]], width: int, height: int) -> list[int]:
    """Median [x, y, w, h] over the frames, clipped to the frame (a face may extend past its edge)."""
    x, y, w, h = np.median(np.array(boxes), axis=0)
    x0, y0 = min(max(x, 0.0), width), min(max(y, 0.0), height)
    x1, y1 = min(max(x + w, 0.0), width), min(max(y + h, 0.0), height)
    return [round(x0), round(y0), round(x1 - x0), round(y1 - y0)]
