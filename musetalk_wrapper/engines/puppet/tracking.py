"""Face tracking: MediaPipe face mesh on every source frame, face checks and gap filling."""

from __future__ import annotations

import contextlib
import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from musetalk_wrapper.contract import EngineError, ErrorCode, rebuild_env_command
from musetalk_wrapper.engines.puppet import ENV
from musetalk_wrapper.engines.puppet.landmarks import (
    EYE_OUTER_CORNERS,
    FACE_OVAL,
    MOUTH_POINTS,
    NUM_LANDMARKS,
    FaceFrame,
    face_box,
)
from musetalk_wrapper.face_mesh_solution import new_face_mesh

MIN_FACE_PX = 48  # narrower faces (eye-line extent of the mesh) have too few pixels to animate
PROFILE_YAW_DEG = 50.0  # beyond this the lower-face warp would smear a cheek across the mouth
TURNED_YAW_DEG = 30.0  # beyond this a warning is recorded
PARTLY_OUTSIDE = 0.9  # a warning when fewer face-oval points than this share are inside the frame
MIN_DETECTION_CONFIDENCE = 0.5
SEARCH_WINDOWS = (0.5, 0.3, 0.18)  # window sizes (share of the longer side) tried when a whole frame shows no face
ROI_FACE_MARGIN = 1.5  # a window found by search is the face box grown by this much on each side

# Reasons a frame's face is not used; the most common one becomes the NO_FACE message.
NO_FACE = "no face found"
TOO_SMALL = "face too small"
PROFILE = "face in profile"
CUT_OFF = "mouth outside the frame"


@dataclass(frozen=True)
class Detection:
    points: np.ndarray  # (478, 2) float64 px
    depth: np.ndarray  # (478,) px, MediaPipe's relative z (smaller = nearer the camera)


@dataclass(frozen=True)
class FaceCheck:
    usable: bool
    reason: str | None  # one of the reason constants above when not usable
    width_px: float = 0.0
    yaw_deg: float = 0.0
    partly_outside: bool = False


def estimate_yaw_deg(det: Detection) -> float:
    """Head yaw from the mesh's depth: the slope of the line between the outer eye corners in 3D."""
    p, z = det.points, det.depth
    a, b = EYE_OUTER_CORNERS
    flat = float(np.hypot(*(p[b] - p[a])))
    return math.degrees(math.atan2(float(z[b] - z[a]), max(flat, 1e-6)))


def _inside(points: np.ndarray, width: int, height: int) -> np.ndarray:
    return (points[:, 0] >= 0) & (points[:, 0] < width) & (points[:, 1] >= 0) & (points[:, 1] < height)


def check_face(det: Detection | None, width: int, height: int) -> FaceCheck:
    """Whether a detected face can be animated, and if not why (the reason constants above)."""
    if det is None:
        return FaceCheck(False, NO_FACE)
    frame = FaceFrame.from_landmarks(det.points)
    local_x = frame.to_local(det.points[:NUM_LANDMARKS])[:, 0]
    face_w = float(local_x.max() - local_x.min()) * frame.scale
    yaw = estimate_yaw_deg(det)
    mouth_inside = bool(np.all(_inside(det.points[list(MOUTH_POINTS)], width, height)))
    oval_inside = float(np.mean(_inside(det.points[list(FACE_OVAL)], width, height)))
    if face_w < MIN_FACE_PX:
        return FaceCheck(False, TOO_SMALL, face_w, yaw)
    if abs(yaw) > PROFILE_YAW_DEG:
        return FaceCheck(False, PROFILE, face_w, yaw)
    if not mouth_inside:
        return FaceCheck(False, CUT_OFF, face_w, yaw)
    return FaceCheck(True, None, face_w, yaw, partly_outside=oval_inside < PARTLY_OUTSIDE)


def graph_error(exc: RuntimeError) -> EngineError:
    """MediaPipe's multi-line graph failure as one line naming the broken part and the fix."""
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    cause = next(
        (ln[ln.index("Failed to load") :] for ln in lines if "Failed to load" in ln),
        lines[-1] if lines else "unknown error",
    )
    fix = rebuild_env_command(ENV)
    return EngineError(
        ErrorCode.ENGINE_UNAVAILABLE, f"MediaPipe's face mesh cannot start ({cause[:200]}); run: {fix}", {"fix": [fix]}
    )


class FaceMesh:
    """MediaPipe face mesh (478 points). ``video=True`` tracks from frame to frame (faster, steadier).

    When a whole frame shows no face, smaller windows are searched (MediaPipe's detector works on a
    downscaled frame and misses small faces in large frames); a video then keeps tracking in that window.
    """

    def __init__(self, video: bool) -> None:
        self._video = video
        self._mesh = self._new(static=not video)
        self._roi: tuple[int, int, int, int] | None = None  # x0, y0, x1, y1 once a search found the face
        self._searched = False

    def _new(self, static: bool) -> Any:
        return new_face_mesh(
            static_image_mode=static,
            max_num_faces=1,
            refine_landmarks=True,
            min_detection_confidence=MIN_DETECTION_CONFIDENCE,
            min_tracking_confidence=0.5,
        )

    def close(self) -> None:
        # a graph that failed to start fails again on close; its error was already raised
        with contextlib.suppress(RuntimeError):
            self._mesh.close()

    def reset(self) -> None:
        """Forget everything seen so far (tracking state and search window): the next frame starts afresh."""
        self._mesh.reset()
        self._roi = None
        self._searched = False

    @staticmethod
    def _run(mesh: Any, rgb: np.ndarray, x0: int = 0, y0: int = 0) -> Detection | None:
        h, w = rgb.shape[:2]
        try:
            result = mesh.process(np.ascontiguousarray(rgb))
        except RuntimeError as exc:  # the graph could not start: a model file is missing or broken
            raise graph_error(exc) from None
        if not result.multi_face_landmarks:
            return None
        lms = result.multi_face_landmarks[0].landmark
        arr = np.array([(lm.x, lm.y, lm.z) for lm in lms], dtype=np.float64)
        points = np.stack([arr[:, 0] * w + x0, arr[:, 1] * h + y0], axis=1)
        return Detection(points=points, depth=arr[:, 2] * w)

    def detect(self, rgb: np.ndarray) -> Detection | None:
        if self._roi is not None:
            x0, y0, x1, y1 = self._roi
            return self._run(self._mesh, rgb[y0:y1, x0:x1], x0, y0)
        det = self._run(self._mesh, rgb)
        if det is None and not self._searched:
            self._searched = True  # search once: a face that is missing for a while should stay missing
            det = self._search(rgb)
        return det

    def _search(self, rgb: np.ndarray) -> Detection | None:
        h, w = rgb.shape[:2]
        side = max(h, w)
        searcher = self._new(static=True)
        try:
            for share in SEARCH_WINDOWS:
                win = int(side * share)
                if win < 96 or win >= min(h, w):
                    continue
                step = win // 2
                for y0 in range(0, max(h - win, 0) + 1, step):
                    for x0 in range(0, max(w - win, 0) + 1, step):
                        det = self._run(searcher, rgb[y0 : y0 + win, x0 : x0 + win], x0, y0)
                        if det is not None:
                            self._roi = _grow_box(det.points, w, h)
                            if self._video:
                                x0r, y0r, x1r, y1r = self._roi
                                return self._run(self._mesh, rgb[y0r:y1r, x0r:x1r], x0r, y0r) or det
                            return det
        finally:
            searcher.close()
        return None


def _grow_box(points: np.ndarray, width: int, height: int) -> tuple[int, int, int, int]:
    x, y, bw, bh = face_box(points)
    mx, my = bw * ROI_FACE_MARGIN, bh * ROI_FACE_MARGIN
    return (max(0, int(x - mx)), max(0, int(y - my)), min(width, int(x + bw + mx)), min(height, int(y + bh + my)))


class NoUsableFace(Exception):
    def __init__(self, reason: str, check: FaceCheck, frame_index: int, frames: int) -> None:
        super().__init__(reason)
        self.reason, self.check, self.frame_index, self.frames = reason, check, frame_index, frames


def nearest_good(good: np.ndarray) -> np.ndarray:
    """For every frame, the index of the nearest frame whose face is usable (ties go to the earlier one)."""
    idx = np.flatnonzero(good)
    frames = np.arange(len(good))
    pos = np.searchsorted(idx, frames)
    before = idx[np.clip(pos - 1, 0, len(idx) - 1)]
    after = idx[np.clip(pos, 0, len(idx) - 1)]
    return np.where(np.abs(frames - before) <= np.abs(after - frames), before, after)


@dataclass
class RawTrack:
    """Landmarks of a run of frames as detected (not smoothed); frames without a usable face borrow the
    nearest good one of the run. ``points`` is None when no frame of the run has a usable face."""

    points: np.ndarray | None  # (n, 478, 2) float64 px
    good: np.ndarray  # (n,) bool
    checks: list[FaceCheck]


def raw_track(detections: list[Detection | None], width: int, height: int) -> RawTrack:
    checks = [check_face(d, width, height) for d in detections]
    good = np.array([c.usable for c in checks], dtype=bool)
    if not good.any():
        return RawTrack(None, good, checks)
    nearest = nearest_good(good)
    points = np.empty((len(detections), NUM_LANDMARKS, 2), dtype=np.float64)
    for i in range(len(detections)):
        src = detections[i] if good[i] else detections[int(nearest[i])]
        assert src is not None
        points[i] = src.points[:NUM_LANDMARKS]
    return RawTrack(points, good, checks)


def no_usable_face(checks: list[FaceCheck]) -> NoUsableFace:
    """The error for frames none of which has a usable face: the most common reason, and a frame showing it."""
    seen = [c for c in checks if c.reason != NO_FACE]
    reason = Counter(c.reason for c in seen).most_common(1)[0][0] if seen else NO_FACE
    idx = next((i for i, c in enumerate(checks) if c.reason == reason), 0)
    return NoUsableFace(str(reason), checks[idx], idx, len(checks))


def track_warnings(checks: list[FaceCheck]) -> list[str]:
    """What a user should know about the face in these frames (missing, turned, partly outside)."""
    warnings: list[str] = []
    n = len(checks)
    good = [c for c in checks if c.usable]
    bad = n - len(good)
    if bad:
        why = Counter(c.reason for c in checks if not c.usable).most_common()
        detail = ", ".join(f"{k}: {v}" for k, v in why)
        warnings.append(f"{bad} of {n} source frames had no usable face ({detail}); reused the nearest tracked face")
    if good:
        yaw = float(np.median([abs(c.yaw_deg) for c in good]))
        if yaw > TURNED_YAW_DEG:
            warnings.append(
                f"the face is turned about {yaw:.0f} deg from the camera; "
                "the mouth may look distorted (a frontal face works best)"
            )
    if any(c.partly_outside for c in good):
        warnings.append("part of the face is outside the frame")
    return warnings
