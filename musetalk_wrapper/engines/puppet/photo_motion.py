"""Life for a still photo: blinks (eyelid warp) and a slight head sway (whole-frame similarity transform)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from musetalk_wrapper.engines.puppet.landmarks import CHIN, LEFT_EYE, RIGHT_EYE, EyeIndices, FaceFrame
from musetalk_wrapper.engines.puppet.lower_face import feather
from musetalk_wrapper.engines.puppet.mouth_track import smooth
from musetalk_wrapper.engines.puppet.warp import clip_box, delaunay, warp_region

BLINK_PROFILE = (0.35, 0.85, 1.0, 0.8, 0.5, 0.22, 0.06)  # lid closure per frame at 25 fps (~280 ms)
BLINK_GAP_S = (2.2, 5.5)  # seconds between blinks (uniform)
FIRST_BLINK_S = (0.8, 2.0)
LID_TRAVEL = 0.96  # a closed upper lid stops just short of the lower lid
CREASE_FOLLOW = 0.45  # the fold above the lid follows it part-way
LOWER_LID_RISE = 0.1
EYE_MARGIN = 0.09  # anchors around each eye (face units)
SWAY_DEG = 0.7  # head roll amplitude
SWAY_SHIFT = 0.018  # head shift amplitude (face units)
NOD = 0.012  # extra dip of the head with loud speech (face units)
SEED = 7  # blinks and sway are pseudo-random but identical run after run


def blink_track(n_frames: int, fps: float, seed: int = SEED) -> np.ndarray:
    """Lid closure 0..1 per output frame."""
    rng = np.random.default_rng(seed)
    closure = np.zeros(n_frames)
    profile = np.interp(np.arange(0, len(BLINK_PROFILE) * 25.0 / fps) * fps / 25.0,
                        np.arange(len(BLINK_PROFILE)), BLINK_PROFILE)
    t = rng.uniform(*FIRST_BLINK_S)
    while True:
        start = int(round(t * fps))
        if start >= n_frames:
            break
        end = min(n_frames, start + len(profile))
        closure[start:end] = np.maximum(closure[start:end], profile[:end - start])
        t += rng.uniform(*BLINK_GAP_S)
    return closure


@dataclass(frozen=True)
class EyeRig:
    eye: EyeIndices
    ids: np.ndarray  # landmark ids: corners, upper lid, lower lid, crease, fixed
    anchors: np.ndarray  # (A, 2) face units
    triangles: np.ndarray


def build_eye_rigs(points: np.ndarray) -> list[EyeRig]:
    frame = FaceFrame.from_landmarks(points)
    rigs = []
    for eye in (RIGHT_EYE, LEFT_EYE):
        ids = np.array(list(eye.corners) + list(eye.upper_lid) + list(eye.lower_lid) + list(eye.crease)
                       + list(eye.fixed), dtype=np.int32)
        local = frame.to_local(points[ids])
        x0, y0 = local.min(axis=0) - EYE_MARGIN
        x1, y1 = local.max(axis=0) + EYE_MARGIN
        anchors = np.array([[x0, y0], [0.5 * (x0 + x1), y0], [x1, y0], [x1, 0.5 * (y0 + y1)], [x1, y1],
                            [0.5 * (x0 + x1), y1], [x0, y1], [x0, 0.5 * (y0 + y1)]])
        closed = _targets(local, eye, 0.5)
        rigs.append(EyeRig(eye, ids, anchors, delaunay(np.concatenate([closed, anchors]))))
    return rigs


def _targets(local: np.ndarray, eye: EyeIndices, closure: float) -> np.ndarray:
    n = len(eye.upper_lid)
    up, lo, cr = slice(2, 2 + n), slice(2 + n, 2 + 2 * n), slice(2 + 2 * n, 2 + 3 * n)
    out = local.copy()
    travel = local[lo] - local[up]
    out[up] = local[up] + LID_TRAVEL * closure * travel
    out[cr] = local[cr] + CREASE_FOLLOW * closure * travel
    out[lo] = local[lo] - LOWER_LID_RISE * closure * travel
    return out


def apply_blink(image: np.ndarray, points: np.ndarray, closure: float, rigs: list[EyeRig]) -> None:
    if closure <= 0.01:
        return
    h, w = image.shape[:2]
    frame = FaceFrame.from_landmarks(points)
    for rig in rigs:
        local = frame.to_local(points[rig.ids])
        anchors = frame.to_image(rig.anchors)
        src = np.concatenate([points[rig.ids], anchors])
        dst = np.concatenate([frame.to_image(_targets(local, rig.eye, closure)), anchors])
        result = warp_region(image, src, dst, rig.triangles, clip_box(anchors, w, h))
        if result is not None:
            warped, moved, (x0, y0, _, _) = result
            feather(image, warped, moved, (x0, y0))


def sway_track(n_frames: int, fps: float, level: np.ndarray | None, seed: int = SEED) -> np.ndarray:
    """(T, 3): roll in degrees, x and y shift in face units; slow incommensurate sines plus a nod with speech."""
    rng = np.random.default_rng(seed + 1)
    t = np.arange(n_frames) / fps
    ph = rng.uniform(0, 2 * math.pi, 6)

    def wave(hz: tuple[float, float], weights: tuple[float, float], phases: np.ndarray) -> np.ndarray:
        return sum(w * np.sin(2 * math.pi * f * t + p) for f, w, p in zip(hz, weights, phases, strict=True))

    roll = SWAY_DEG * wave((0.11, 0.27), (0.6, 0.4), ph[0:2])
    dx = SWAY_SHIFT * wave((0.07, 0.19), (0.7, 0.3), ph[2:4])
    dy = 0.5 * SWAY_SHIFT * wave((0.09, 0.23), (0.6, 0.4), ph[4:6])
    if level is not None and len(level) == n_frames:
        k = max(3, int(fps * 0.4)) | 1
        dy = dy + NOD * smooth(level, tuple(np.hanning(k + 2)[1:-1]))
    return np.stack([roll, dx, dy], axis=1)


def sway_matrix(points: np.ndarray, pose: np.ndarray) -> np.ndarray:
    """2x3 affine turning the head about the neck (below the chin) by ``pose``."""
    frame = FaceFrame.from_landmarks(points)
    pivot = points[CHIN] + frame.ey * frame.scale * 0.35
    m = cv2.getRotationMatrix2D((float(pivot[0]), float(pivot[1])), float(pose[0]), 1.0)
    m[:, 2] += (pose[1] * frame.ex + pose[2] * frame.ey) * frame.scale
    return m


def apply_sway(image: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    return cv2.warpAffine(image, matrix, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT101)
