"""Eyes of a photo: blinks (the upper lid slides down to meet the slightly raised lower lid, leaving no eye white)
and small eye-line shifts (the iris moves inside the eye opening)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from musetalk_wrapper.engines.puppet.landmarks import EYES, EyeIndices, FaceFrame
from musetalk_wrapper.engines.puppet.warp import clip_box, delaunay, feather, warp_region

LOWER_LID_RISE = -0.06  # the lids meet this share of the opening above the lower lid (below: the lid covers its rim)
CREASE_FOLLOW = 0.5  # the fold above the lid follows it part-way
LID_SAMPLE_UP = 0.7  # the closed lid is the skin below the crease stretched down, sampled clear of the lid margin
LASH_WIDTH = 0.009  # face units: the dark line of lid margin and lashes along a closed eye
LASH_FROM = 0.55  # closure where that line starts to show
LASH_STRENGTH = 0.75  # it is soft: lashes, not a drawn line
EYE_MARGIN = 0.09  # anchors around each eye (face units)
GAZE_MAX = (0.028, 0.01)  # largest iris shift (x, y) in face units
GAZE_FADE = 0.35  # the shift fades to nothing over this share of the eye's height next to the lids


@dataclass(frozen=True)
class EyeRig:
    eye: EyeIndices
    ids: np.ndarray  # landmark ids: corners, upper lid, lower lid, crease, fixed
    anchors: np.ndarray  # (A, 2) face units
    triangles: np.ndarray  # opening triangles first, so the lid drawn after them owns the line where they meet
    lash_rgb: np.ndarray  # colour of the lid margin and lashes


def _slices(eye: EyeIndices) -> tuple[slice, slice, slice]:
    n = len(eye.upper_lid)
    return slice(2, 2 + n), slice(2 + n, 2 + 2 * n), slice(2 + 2 * n, 2 + 3 * n)


def _lash_colour(image: np.ndarray, points: np.ndarray, eye: EyeIndices) -> np.ndarray:
    """The darkest pixels along the upper lid margin: lashes and liner."""
    h, w = image.shape[:2]
    line = np.round(points[list(eye.upper_lid)]).astype(np.int32)
    mask = np.zeros((h, w), np.uint8)
    cv2.polylines(mask, [line], False, 1, max(2, int(0.01 * np.hypot(*(line[-1] - line[0])) * 3)))
    px = image[mask > 0].astype(np.float64)
    if len(px) < 4:
        return np.array([40.0, 30.0, 28.0])
    luma = px @ np.array([0.299, 0.587, 0.114])
    result: np.ndarray = px[luma <= np.percentile(luma, 20)].mean(axis=0)
    return result


def build_eye_rigs(points: np.ndarray, image: np.ndarray) -> list[EyeRig]:
    frame = FaceFrame.from_landmarks(points)
    rigs = []
    for eye in EYES:
        ids = np.array(
            list(eye.corners) + list(eye.upper_lid) + list(eye.lower_lid) + list(eye.crease) + list(eye.fixed),
            dtype=np.int32,
        )
        local = frame.to_local(points[ids])
        x0, y0 = local.min(axis=0) - EYE_MARGIN
        x1, y1 = local.max(axis=0) + EYE_MARGIN
        anchors = np.array(
            [
                [x0, y0],
                [0.5 * (x0 + x1), y0],
                [x1, y0],
                [x1, 0.5 * (y0 + y1)],
                [x1, y1],
                [0.5 * (x0 + x1), y1],
                [x0, y1],
                [x0, 0.5 * (y0 + y1)],
            ]
        )
        tris = delaunay(np.concatenate([_targets(local, eye, 0.5)[0], anchors]))
        up, lo, _ = _slices(eye)
        opening = {0, 1} | set(range(up.start, lo.stop))
        inside = np.array([{int(v) for v in t} <= opening for t in tris], dtype=bool)
        tris = np.concatenate([tris[inside], tris[~inside]])
        rigs.append(EyeRig(eye, ids, anchors, tris, _lash_colour(image, points, eye)))
    return rigs


def _targets(local: np.ndarray, eye: EyeIndices, closure: float) -> tuple[np.ndarray, np.ndarray]:
    """(where the points go, where they are sampled) for lid closure 0..1."""
    up, lo, cr = _slices(eye)
    dst = local.copy()
    src = local.copy()
    opening = local[lo] - local[up]
    meet = local[lo] - LOWER_LID_RISE * opening
    dst[up] = local[up] + closure * (meet - local[up])
    dst[lo] = local[lo] + closure * (meet - local[lo])
    dst[cr] = local[cr] + CREASE_FOLLOW * closure * (meet - local[up])
    src[up] = local[up] + LID_SAMPLE_UP * closure * (local[cr] - local[up])
    return dst, src


def apply_blink(image: np.ndarray, points: np.ndarray, closure: float, rigs: list[EyeRig]) -> None:
    """Close both eyes by ``closure`` (0..1), in place."""
    if closure <= 0.01:
        return
    h, w = image.shape[:2]
    frame = FaceFrame.from_landmarks(points)
    for rig in rigs:
        local = frame.to_local(points[rig.ids])
        dst_local, src_local = _targets(local, rig.eye, closure)
        anchors = frame.to_image(rig.anchors)
        src = np.concatenate([frame.to_image(src_local), anchors])
        dst = np.concatenate([frame.to_image(dst_local), anchors])
        result = warp_region(image, src, dst, rig.triangles, clip_box(anchors, w, h))
        if result is None:
            continue
        warped, moved, (x0, y0, _, _) = result
        if closure > LASH_FROM:
            up, _, _ = _slices(rig.eye)
            line = np.concatenate([dst[:1], dst[up], dst[1:2]]) - np.array([x0, y0])
            strength = LASH_STRENGTH * min(1.0, (closure - LASH_FROM) / (1.0 - LASH_FROM))
            _draw_lash(warped, line, max(1.0, LASH_WIDTH * frame.scale), strength, rig.lash_rgb)
        feather(image, warped, moved, (x0, y0))


def _draw_lash(crop: np.ndarray, line: np.ndarray, width_px: float, strength: float, rgb: np.ndarray) -> None:
    bits = 4
    mask = np.zeros(crop.shape[:2], np.uint8)
    cv2.polylines(
        mask, [np.round(line * (1 << bits)).astype(np.int32)], False, 255, max(1, round(width_px)), cv2.LINE_AA, bits
    )
    a = cv2.GaussianBlur(mask.astype(np.float32) / 255.0, (0, 0), 0.5 + 0.15 * width_px)[..., None] * strength
    # thinner towards the corners, as lashes are
    crop[:] = np.clip(crop * (1.0 - a) + rgb * a + 0.5, 0, 255).astype(np.uint8)


def apply_gaze(image: np.ndarray, points: np.ndarray, shift: tuple[float, float]) -> None:
    """Move both irises by ``shift`` (x, y: -1..1 of GAZE_MAX) inside the eye openings, in place."""
    if abs(shift[0]) < 1e-3 and abs(shift[1]) < 1e-3:
        return
    h, w = image.shape[:2]
    frame = FaceFrame.from_landmarks(points)
    d = (shift[0] * GAZE_MAX[0] * frame.ex + shift[1] * GAZE_MAX[1] * frame.ey) * frame.scale
    for eye in EYES:
        outline = np.concatenate(
            [
                points[[eye.corners[0]]],
                points[list(eye.upper_lid)],
                points[[eye.corners[1]]],
                points[list(eye.lower_lid)][::-1],
            ]
        )
        x0, y0, x1, y1 = clip_box(outline, w, h, margin=3)
        if x1 - x0 < 4 or y1 - y0 < 4:
            continue
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillPoly(mask, [np.round(outline - [x0, y0]).astype(np.int32)], 255)
        eye_h = float(np.max(points[list(eye.lower_lid), 1] - points[list(eye.upper_lid), 1]))
        dist = cv2.distanceTransform(mask, cv2.DIST_L2, 3)
        weight = np.clip(dist / max(GAZE_FADE * eye_h, 1.0), 0.0, 1.0)
        weight = weight * weight * (3.0 - 2.0 * weight)
        gx, gy = np.meshgrid(np.arange(x0, x1, dtype=np.float32), np.arange(y0, y1, dtype=np.float32))
        map_x = gx - np.float32(d[0]) * weight
        map_y = gy - np.float32(d[1]) * weight
        warped = cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        feather(image, warped, mask > 0, (x0, y0))
