"""Move the lower face to a mouth shape: landmark targets (the jaw drops the chin and lower lip together, the
upper lip moves little, lips spread or round), a piecewise-affine warp of a crop around mouth, jaw and neck, then
the inside of the mouth (drawn, or a real mouth from the presenter's own video) and a feathered blend.

The mesh's top edge is a row of fixed anchors through the subnasale, so the nose and everything above it keep
their exact source pixels; its bottom edge lies well below the chin, where the neck takes up the jaw's drop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from musetalk_wrapper.engines.puppet.landmarks import (
    CHIN,
    FACE_OVAL,
    LIP_CHAINS,
    LIP_INNER_LOWER,
    LIP_INNER_UPPER,
    NUM_LANDMARKS,
    SUBNASALE,
    FaceFrame,
)
from musetalk_wrapper.engines.puppet.mouth_interior import InteriorStyle, MouthGeometry, draw_seam, paint_interior
from musetalk_wrapper.engines.puppet.warp import clip_box, delaunay, feather, warp_region

# Shape scales, in face units (D = outer eye-corner distance).
MAX_GAP = 0.18  # inner-lip opening at open = 1 (an "ah"): p95 of speech lands near 0.2 D, as in real speech
ROUND_NARROWING = 0.22  # share of mouth width lost when fully rounded
SPREAD_WIDENING = 0.09  # share of mouth width gained when fully spread
POUT = 0.02  # rounded lips push out: each lip grows this much
CLOSING_UPPER_SHARE = 0.45  # when closing a mouth the source shows open, the upper lip does this share
OUTER_UPPER_FOLLOW = 0.7  # the upper lip's outer edge follows its inner edge this much (lip thins when raised)
JAW_CLOSING_FOLLOW = 0.3  # closing an open source mouth moves the jaw only this share of the lower lip
CORNER_DROP = 0.25  # mouth corners drop this share of the jaw drop
# Mesh layout.
TOP_CLEARANCE = 0.03  # moving points sit at least this far below the subnasale line
MIN_POINT_SPACING = 0.05  # thin non-lip landmarks to this spacing (keeps triangles well shaped and few)
SIDE_MARGIN = 0.1  # fixed anchors beyond the face oval
BELOW_CHIN = 0.45  # fixed anchors this far below the chin: the neck there is squeezed as the chin covers it
ANCHOR_STEP = 0.12
SEAM_MIN_PX = 1.0  # a source mouth open wider than this gets a drawn lip seam when closed
REFERENCE_OPEN = 0.8  # the mesh is triangulated on an open mouth so no triangle bridges the two lips

CENTRE_COL = len(LIP_INNER_UPPER) // 2


@dataclass(frozen=True)
class MouthShape:
    open: float  # 0..1
    width: float  # -1 rounded .. +1 spread
    upper: float  # 0..1 share of the opening made by the upper lip
    tongue: float = 0.0  # 0..1 tongue tip raised behind the upper teeth (/l/ /n/ /t/ /d/)
    tongue_out: float = 0.0  # 0..1 tongue tip between the teeth (/th/)
    rest: float = 0.0  # 0..1 weight of the presenter's own resting mouth (photos in silence: 1)


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
    teeth_rest: np.ndarray  # (11,) where the lips meet at rest, face units below the subnasale, per column
    style: InteriorStyle


def build_rig(points: np.ndarray, style: InteriorStyle) -> MouthRig:
    """Choose mesh points and anchors on a reference frame (a closed mouth at best) and triangulate them."""
    frame = FaceFrame.from_landmarks(points)
    local = frame.to_local(points[:NUM_LANDMARKS])
    nose_y = float(local[SUBNASALE, 1])
    chin_y = float(local[CHIN, 1])
    ids: list[int] = []
    for chain in LIP_CHAINS.values():
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
    cols = {name: np.array([ids.index(i) for i in chain]) for name, chain in LIP_CHAINS.items()}
    rest = 0.5 * (local[list(LIP_INNER_UPPER), 1] + local[list(LIP_INNER_LOWER), 1]) - nose_y
    rig = MouthRig(ids_arr, anchors, np.zeros((0, 3), np.int32), cols, nose_y, rest, style)
    opened, _ = target_local(local[ids_arr], MouthShape(REFERENCE_OPEN, 0.0, 0.3), rig)
    tris = delaunay(np.concatenate([opened, anchors]))
    # Triangles inside the opening go first so the lips, drawn after them, own the pixels where a closed
    # mouth's lips meet (otherwise a line of the source's teeth shows between closed lips).
    inner = set(cols["inner_upper"]) | set(cols["inner_lower"])
    in_mouth = np.array([{int(v) for v in t} <= inner for t in tris], dtype=bool)
    tris = np.concatenate([tris[in_mouth], tris[~in_mouth]])
    return MouthRig(ids_arr, anchors, tris, cols, nose_y, rest, style)


def _rectangle(x0: float, y0: float, x1: float, y1: float, step: float) -> np.ndarray:
    nx = max(2, round((x1 - x0) / step) + 1)
    ny = max(2, round((y1 - y0) / step) + 1)
    top = np.stack([np.linspace(x0, x1, nx), np.full(nx, y0)], 1)
    bottom = np.stack([np.linspace(x0, x1, nx), np.full(nx, y1)], 1)
    left = np.stack([np.full(ny, x0), np.linspace(y0, y1, ny)], 1)[1:-1]
    right = np.stack([np.full(ny, x1), np.linspace(y0, y1, ny)], 1)[1:-1]
    return np.concatenate([top, bottom, left, right])


def _profile(x: np.ndarray, centre: float, half: float, width: float) -> np.ndarray:
    """How far each column of the opening parts, 1 in the middle and 0 at the corners."""
    p = 2.0 + 1.5 * max(width, 0.0)
    r = np.clip(np.abs(x - centre) / max(half, 1e-6), 0.0, 1.0)
    return np.clip(1.0 - r**p, 0.0, 1.0) ** 0.65


def target_local(local: np.ndarray, shape: MouthShape, rig: MouthRig) -> tuple[np.ndarray, float]:
    """Where the mesh points (face units, in rig.ids order) go for ``shape``, and how far the jaw dropped."""
    c = rig.cols
    iu, il, ou = local[c["inner_upper"]], local[c["inner_lower"]], local[c["outer_upper"]]
    centre = 0.5 * (iu[0, 0] + iu[-1, 0])
    half = 0.5 * (iu[-1, 0] - iu[0, 0])
    outer_half = 0.5 * (ou[-1, 0] - ou[0, 0])
    speaking = 1.0 - shape.rest
    gap = np.maximum(il[:, 1] - iu[:, 1], 0.0)
    speech = MAX_GAP * shape.open * _profile(0.5 * (iu[:, 0] + il[:, 0]), centre, half, shape.width)
    want = speaking * speech + shape.rest * gap  # speech shapes are blended from the resting mouth and back
    want[[0, -1]] = gap[[0, -1]]
    delta = want - gap
    opening = delta >= 0
    share = np.where(opening, shape.upper, CLOSING_UPPER_SHARE)
    du = -share * delta  # upper lip: negative = up
    dl = (1.0 - share) * delta
    jaw = float(dl[CENTRE_COL]) if dl[CENTRE_COL] >= 0 else JAW_CLOSING_FOLLOW * float(dl[CENTRE_COL])
    lift = float(-du[CENTRE_COL]) if du[CENTRE_COL] <= 0 else JAW_CLOSING_FOLLOW * float(-du[CENTRE_COL])
    stretch = (ROUND_NARROWING if shape.width < 0 else SPREAD_WIDENING) * shape.width * speaking
    pout = POUT * max(-shape.width, 0.0) * speaking

    # Every non-lip point follows smooth fields (face units from the mouth centre): the jaw below the mouth,
    # fading towards the jaw angles (it turns about the ears); the upper lip above it, fading to nothing at the
    # subnasale; the corners to the sides.
    out = local.copy()
    x, y = local[:, 0] - centre, local[:, 1]
    ax = np.abs(x)
    jaw_w = (
        _smoothstep(-0.02, 0.14, y)
        * (1.0 - 0.65 * _smoothstep(0.15, 0.7, ax))
        * (1.0 + 0.12 * np.clip((y - 0.1) / 0.3, 0.0, 1.0))
    )
    top = rig.nose_line_y
    lift_w = (
        np.clip((y - top) / max(-0.02 - top, 1e-6), 0.0, 1.0) ** 1.5
        * (1.0 - _smoothstep(0.2, 0.45, ax))
        * (1.0 - _smoothstep(-0.02, 0.08, y))
    )
    side = (
        np.sign(x)
        * np.minimum(ax, outer_half)
        * np.exp(-((np.maximum(ax - outer_half, 0.0) / 0.18) ** 2))
        * np.exp(-((y / 0.16) ** 2))
    )
    out[:, 1] += jaw * jaw_w - lift * lift_w
    out[:, 0] += stretch * side

    # The lips themselves, column by column.
    for name, dy in (
        ("inner_upper", du),
        ("inner_lower", dl),
        ("outer_upper", du * OUTER_UPPER_FOLLOW),
        ("outer_lower", dl),
    ):
        pos = c[name]
        out[pos, 0] = local[pos, 0] + stretch * (local[pos, 0] - centre)
        out[pos, 1] = local[pos, 1] + dy
    out[c["outer_upper"][1:-1], 1] -= pout
    out[c["outer_lower"][1:-1], 1] += pout
    for name in c:  # corners: a little drop with the jaw, no separation
        for end in (0, -1):
            out[c[name][end], 1] = local[c[name][end], 1] + CORNER_DROP * max(jaw, 0.0)
    return out, jaw


@dataclass(frozen=True)
class Placement:
    """A frame's mesh moved to a mouth shape: image-space source and destination points, and the geometry."""

    src: np.ndarray  # (M + A, 2) px
    dst: np.ndarray
    frame: FaceFrame
    local: np.ndarray  # (M, 2) the mesh points where the source has them, face units
    target: np.ndarray  # (M, 2) where they go
    geometry: MouthGeometry
    source_gap_px: float  # the source's own inner-lip opening at the centre


def place(points: np.ndarray, shape: MouthShape, rig: MouthRig) -> Placement:
    frame = FaceFrame.from_landmarks(points)
    local = frame.to_local(points[rig.ids])
    target, jaw = target_local(local, shape, rig)
    anchors = frame.to_image(rig.anchors)
    c = rig.cols
    nose_y = float(frame.to_local(points[SUBNASALE : SUBNASALE + 1])[0, 1])
    geo = MouthGeometry(
        origin=frame.origin,
        ex=frame.ex,
        ey=frame.ey,
        scale=frame.scale,
        inner_upper=target[c["inner_upper"]],
        inner_lower=target[c["inner_lower"]],
        teeth_rest=nose_y + rig.teeth_rest,
        jaw=max(jaw, 0.0),
        width=shape.width,
        tongue=shape.tongue,
        tongue_out=shape.tongue_out,
    )
    gap = float(local[c["inner_lower"][CENTRE_COL], 1] - local[c["inner_upper"][CENTRE_COL], 1]) * frame.scale
    return Placement(
        np.concatenate([points[rig.ids], anchors]),
        np.concatenate([frame.to_image(target), anchors]),
        frame,
        local,
        target,
        geo,
        gap,
    )


class RealMouths(Protocol):
    """Real mouths to paint instead of the drawn interior (see mouth_bank)."""

    def choose(self, placement: Placement, rig: MouthRig) -> Any | None: ...

    def paint(self, use: Any, crop: np.ndarray, offset: np.ndarray, placement: Placement, rig: MouthRig) -> None: ...


def apply_mouth(
    image: np.ndarray, points: np.ndarray, shape: MouthShape, rig: MouthRig, real: RealMouths | None = None
) -> bool:
    """Warp ``image`` (RGB, modified in place) so the mouth takes ``shape``. Returns whether one of the ``real``
    mouths was painted (else the interior is drawn)."""
    h, w = image.shape[:2]
    p = place(points, shape, rig)
    n_ids = len(rig.ids)
    result = warp_region(image, p.src, p.dst, rig.triangles, clip_box(p.dst[n_ids:], w, h))
    if result is None:
        return False
    warped, moved, (x0, y0, _x1, _y1) = result
    c = rig.cols
    offset = np.array([x0, y0], dtype=np.float64)
    use = real.choose(p, rig) if real is not None else None
    if use is not None:
        assert real is not None
        real.paint(use, warped, offset, p, rig)
    else:
        if p.source_gap_px > SEAM_MIN_PX:  # lips closed over a source's open mouth: draw where they meet
            seam = 0.5 * (p.dst[c["inner_upper"]] + p.dst[c["inner_lower"]]) - offset
            draw_seam(warped, seam, min(1.0, (p.source_gap_px - SEAM_MIN_PX) / 3.0), p.geometry.scale, rig.style)
        paint_interior(warped, offset, p.geometry, rig.style)
    feather(image, warped, moved, (x0, y0))
    return use is not None
