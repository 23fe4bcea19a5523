"""Move the lower face to a mouth shape: landmark targets (jaw drop, lip separation, lip width), a
piecewise-affine warp of a crop around mouth and jaw, the mouth interior, and a feathered blend.

The mesh's top edge is a row of fixed anchors through the subnasale, so the nose and everything above it keep
their exact source pixels.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from musetalk_wrapper.engines.puppet.landmarks import (
    CHIN,
    FACE_OVAL,
    LIP_INNER_LOWER,
    LIP_INNER_UPPER,
    LIP_OUTER_LOWER,
    LIP_OUTER_UPPER,
    NUM_LANDMARKS,
    SUBNASALE,
    FaceFrame,
)
from musetalk_wrapper.engines.puppet.mouth_interior import InteriorStyle, draw_seam, paint_interior, sample_style
from musetalk_wrapper.engines.puppet.warp import clip_box, delaunay, warp_region

# Shape scales, in face units (D = outer eye-corner distance).
MAX_GAP = 0.13  # inner-lip opening at open = 1
ROUND_NARROWING = 0.22  # share of mouth width lost when fully rounded
SPREAD_WIDENING = 0.09  # share of mouth width gained when fully spread
POUT = 0.02  # rounded lips push out: each lip grows this much
CLOSING_UPPER_SHARE = 0.45  # when closing a mouth the source shows open, the upper lip does this share
OUTER_UPPER_FOLLOW = 0.7  # the upper lip's outer edge follows its inner edge this much (lip thins when raised)
JAW_CLOSING_FOLLOW = 0.3  # closing an open source mouth moves the jaw only this share of the lower lip
CORNER_DROP = 0.25  # mouth corners drop this share of the jaw drop
# Mesh layout.
TOP_CLEARANCE = 0.03  # moving points sit at least this far below the subnasale line
MIN_POINT_SPACING = 0.045  # thin non-lip landmarks to this spacing (keeps triangles well shaped)
SIDE_MARGIN = 0.12  # fixed anchors beyond the face oval
BELOW_CHIN = 0.3  # fixed anchors below the chin (the neck absorbs the jaw drop)
ANCHOR_STEP = 0.1
FEATHER_SIGMA_PX = 1.5
SEAM_MIN_PX = 1.0  # a source mouth open wider than this gets a drawn lip seam when closed
REFERENCE_OPEN = 0.8  # the mesh is triangulated on an open mouth so no triangle bridges the two lips

LIP_CHAINS = (LIP_INNER_UPPER, LIP_INNER_LOWER, LIP_OUTER_UPPER, LIP_OUTER_LOWER)
CENTRE_COL = len(LIP_INNER_UPPER) // 2


@dataclass(frozen=True)
class MouthShape:
    open: float  # 0..1
    width: float  # -1 rounded .. +1 spread
    upper: float  # 0..1 share of the opening made by the upper lip


def _smoothstep(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


@dataclass(frozen=True)
class MouthRig:
    """One presenter's lower-face mesh, fixed for the whole render (no re-triangulation between frames)."""

    ids: np.ndarray  # (M,) landmark ids in the mesh; the lip chains come first
    anchors: np.ndarray  # (A, 2) fixed points, face units
    triangles: np.ndarray  # (K, 3) into [ids..., anchors...]
    cols: dict[str, np.ndarray]  # chain name -> positions in ids
    nose_line_y: float  # face-local y of the subnasale
    style: InteriorStyle


def build_rig(points: np.ndarray, image: np.ndarray) -> MouthRig:
    """Choose mesh points and anchors on a reference frame and triangulate them."""
    frame = FaceFrame.from_landmarks(points)
    local = frame.to_local(points[:NUM_LANDMARKS])
    nose_y = float(local[SUBNASALE, 1])
    chin_y = float(local[CHIN, 1])
    ids: list[int] = []
    for chain in LIP_CHAINS:
        ids.extend(i for i in chain if i not in ids)
    oval = [i for i in FACE_OVAL if local[i, 1] > nose_y + TOP_CLEARANCE]
    others = [i for i in range(NUM_LANDMARKS - 10) if i not in ids and i not in oval]  # 468.. are irises
    for cand in oval + others:
        if local[cand, 1] <= nose_y + TOP_CLEARANCE:
            continue
        if np.min(np.hypot(*(local[ids] - local[cand]).T)) < MIN_POINT_SPACING:
            continue
        ids.append(cand)
    ids_arr = np.array(ids, dtype=np.int32)
    xs = local[oval, 0] if oval else local[ids_arr, 0]
    x0, x1 = float(xs.min()) - SIDE_MARGIN, float(xs.max()) + SIDE_MARGIN
    y0, y1 = nose_y, chin_y + BELOW_CHIN
    anchors = _rectangle(x0, y0, x1, y1, ANCHOR_STEP)
    cols = {name: np.array([ids.index(i) for i in chain]) for name, chain in
            zip(("inner_upper", "inner_lower", "outer_upper", "outer_lower"), LIP_CHAINS, strict=True)}
    rig = MouthRig(ids_arr, anchors, np.zeros((0, 3), np.int32), cols, nose_y, sample_style(image, points))
    opened = target_local(local[ids_arr], MouthShape(REFERENCE_OPEN, 0.0, 0.3), rig)
    tris = delaunay(np.concatenate([opened, anchors]))
    # Triangles inside the opening go first so the lips, drawn after them, own the pixels where a closed
    # mouth's lips meet (otherwise a line of the source's teeth shows between closed lips).
    inner = set(cols["inner_upper"]) | set(cols["inner_lower"])
    in_mouth = np.array([set(int(v) for v in t) <= inner for t in tris], dtype=bool)
    tris = np.concatenate([tris[in_mouth], tris[~in_mouth]])
    return MouthRig(ids_arr, anchors, tris, cols, nose_y, rig.style)


def _rectangle(x0: float, y0: float, x1: float, y1: float, step: float) -> np.ndarray:
    nx = max(2, int(round((x1 - x0) / step)) + 1)
    ny = max(2, int(round((y1 - y0) / step)) + 1)
    top = np.stack([np.linspace(x0, x1, nx), np.full(nx, y0)], 1)
    bottom = np.stack([np.linspace(x0, x1, nx), np.full(nx, y1)], 1)
    left = np.stack([np.full(ny, x0), np.linspace(y0, y1, ny)], 1)[1:-1]
    right = np.stack([np.full(ny, x1), np.linspace(y0, y1, ny)], 1)[1:-1]
    return np.concatenate([top, bottom, left, right])


def _profile(x: np.ndarray, centre: float, half: float, width: float) -> np.ndarray:
    """How far each column of the opening parts, 1 in the middle and 0 at the corners."""
    p = 2.0 + 1.5 * max(width, 0.0)
    r = np.clip(np.abs(x - centre) / max(half, 1e-6), 0.0, 1.0)
    return np.clip(1.0 - r ** p, 0.0, 1.0) ** 0.65


def target_local(local: np.ndarray, shape: MouthShape, rig: MouthRig) -> np.ndarray:
    """Where the mesh points (face units, in rig.ids order) go for ``shape``."""
    c = rig.cols
    iu, il, ou = local[c["inner_upper"]], local[c["inner_lower"]], local[c["outer_upper"]]
    centre = 0.5 * (iu[0, 0] + iu[-1, 0])
    half = 0.5 * (iu[-1, 0] - iu[0, 0])
    outer_half = 0.5 * (ou[-1, 0] - ou[0, 0])
    gap = np.maximum(il[:, 1] - iu[:, 1], 0.0)
    want = MAX_GAP * shape.open * _profile(0.5 * (iu[:, 0] + il[:, 0]), centre, half, shape.width)
    want[[0, -1]] = gap[[0, -1]]
    delta = want - gap
    opening = delta >= 0
    share = np.where(opening, shape.upper, CLOSING_UPPER_SHARE)
    du = -share * delta  # upper lip: negative = up
    dl = (1.0 - share) * delta
    jaw = float(dl[CENTRE_COL]) if dl[CENTRE_COL] >= 0 else JAW_CLOSING_FOLLOW * float(dl[CENTRE_COL])
    lift = float(-du[CENTRE_COL]) if du[CENTRE_COL] <= 0 else JAW_CLOSING_FOLLOW * float(-du[CENTRE_COL])
    stretch = (ROUND_NARROWING if shape.width < 0 else SPREAD_WIDENING) * shape.width
    pout = POUT * max(-shape.width, 0.0)

    # Every non-lip point follows smooth fields (face units from the mouth centre): the jaw below the mouth,
    # fading towards the jaw angles; the upper lip above it, fading to nothing at the subnasale; the corners
    # to the sides.
    out = local.copy()
    x, y = local[:, 0] - centre, local[:, 1]
    ax = np.abs(x)
    jaw_w = _smoothstep(-0.02, 0.14, y) * (1.0 - 0.7 * _smoothstep(0.15, 0.65, ax)) \
        * (1.0 + 0.12 * np.clip((y - 0.1) / 0.3, 0.0, 1.0))
    top = rig.nose_line_y
    lift_w = np.clip((y - top) / max(-0.02 - top, 1e-6), 0.0, 1.0) ** 1.5 \
        * (1.0 - _smoothstep(0.2, 0.45, ax)) * (1.0 - _smoothstep(-0.02, 0.08, y))
    side = np.sign(x) * np.minimum(ax, outer_half) * np.exp(-(np.maximum(ax - outer_half, 0.0) / 0.18) ** 2) \
        * np.exp(-(y / 0.16) ** 2)
    out[:, 1] += jaw * jaw_w - lift * lift_w
    out[:, 0] += stretch * side

    # The lips themselves, column by column.
    for name, dy in (("inner_upper", du), ("inner_lower", dl), ("outer_upper", du * OUTER_UPPER_FOLLOW),
                     ("outer_lower", dl)):
        pos = c[name]
        out[pos, 0] = local[pos, 0] + stretch * (local[pos, 0] - centre)
        out[pos, 1] = local[pos, 1] + dy
    out[c["outer_upper"][1:-1], 1] -= pout
    out[c["outer_lower"][1:-1], 1] += pout
    for name in c:  # corners: a little drop with the jaw, no separation
        for end in (0, -1):
            out[c[name][end], 1] = local[c[name][end], 1] + CORNER_DROP * max(jaw, 0.0)
    return out


def apply_mouth(image: np.ndarray, points: np.ndarray, shape: MouthShape, rig: MouthRig) -> None:
    """Warp ``image`` (RGB, modified in place) so the mouth takes ``shape``."""
    h, w = image.shape[:2]
    frame = FaceFrame.from_landmarks(points)
    local = frame.to_local(points[rig.ids])
    target = target_local(local, shape, rig)
    anchors = frame.to_image(rig.anchors)
    src = np.concatenate([points[rig.ids], anchors])
    dst = np.concatenate([frame.to_image(target), anchors])
    result = warp_region(image, src, dst, rig.triangles, clip_box(anchors, w, h))
    if result is None:
        return
    warped, moved, (x0, y0, x1, y1) = result
    c = rig.cols
    offset = np.array([x0, y0], dtype=np.float64)
    inner = np.concatenate([dst[c["inner_upper"]], dst[c["inner_lower"][-2:0:-1]]]) - offset
    rest = 0.5 * (local[c["inner_upper"]] + local[c["inner_lower"]])  # where the teeth meet
    teeth_edge = frame.to_image(np.stack([target[c["inner_upper"], 0], rest[:, 1]], 1)) - offset
    jaw_moved = target[c["inner_lower"], 1] - local[c["inner_lower"], 1]
    jaw_edge = frame.to_image(np.stack([target[c["inner_lower"], 0], rest[:, 1] + jaw_moved], 1)) - offset
    source_gap = float(local[c["inner_lower"][CENTRE_COL], 1] - local[c["inner_upper"][CENTRE_COL], 1]) * frame.scale
    if source_gap > SEAM_MIN_PX:  # lips closed over a source's open mouth: draw where they meet
        seam = 0.5 * (dst[c["inner_upper"]] + dst[c["inner_lower"]]) - offset
        draw_seam(warped, seam, min(1.0, (source_gap - SEAM_MIN_PX) / 3.0), frame.scale, rig.style)
    paint_interior(warped, inner, dst[c["inner_upper"]] - offset, teeth_edge, jaw_edge, frame.scale, shape.width,
                   rig.style)
    feather(image, warped, moved, (x0, y0))


def feather(image: np.ndarray, warped: np.ndarray, moved: np.ndarray, origin: tuple[int, int]) -> None:
    """Blend ``warped`` into ``image`` at ``origin`` with a soft-edged mask around the moved pixels."""
    x0, y0 = origin
    h, w = moved.shape
    m = moved.astype(np.float32)
    alpha = np.maximum(cv2.GaussianBlur(m, (0, 0), FEATHER_SIGMA_PX), cv2.erode(m, np.ones((3, 3), np.uint8)))
    region = image[y0:y0 + h, x0:x0 + w]
    image[y0:y0 + h, x0:x0 + w] = cv2.convertScaleAbs(
        region.astype(np.float32) + alpha[..., None] * (warped.astype(np.float32) - region.astype(np.float32)))
