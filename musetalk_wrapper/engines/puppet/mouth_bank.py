"""The presenter's own mouths, for video sources (in the spirit of Video Rewrite, Bregler et al. 1997).

A bank holds mouth patches cut from the source video's first seconds, each with its measured opening and width
and its lip landmarks. An output frame whose mouth must differ from the source frame's takes the nearest real
mouth (two, cross-faded, when they are about as near), warps it so its lips land on the target lips, matches its
colour to the surrounding skin and blends it in. Shapes the bank lacks fall back to the drawn interior.
Every choice depends on that frame alone, so a frame looks the same whichever clip it is rendered in.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from musetalk_wrapper.engines.puppet.landmarks import (
    LIP_CHAINS,
    LIP_INNER_LOWER,
    LIP_INNER_UPPER,
    MOUTH_CORNERS,
    FaceFrame,
)
from musetalk_wrapper.engines.puppet.lower_face import (
    CENTRE_COL,
    REFERENCE_OPEN,
    MouthRig,
    MouthShape,
    Placement,
    target_local,
)
from musetalk_wrapper.engines.puppet.warp import blend_into, delaunay, warp_region

BANK_SPAN_S = 12.0  # the bank comes from the source's first seconds: the same for every clip of one source
GAP_BIN, WIDTH_BIN = 0.01, 0.025  # one entry per bin of opening and width (face units)
MAX_YAW_DEG = 20.0  # frames turned further are left out of the bank
PATCH_BOX = (-0.72, 0.72, -0.4, 0.52)  # u0, u1, v0, v1 around the mouth centre (face units)
PATCH_MAX_PX_PER_D = 260  # patches are cut at the source's resolution, at most this many px per face unit
ANCHORS = (
    (-0.62, -0.3),
    (-0.31, -0.3),
    (0.0, -0.3),
    (0.31, -0.3),
    (0.62, -0.3),
    (-0.62, 0.08),
    (0.62, 0.08),
    (-0.62, 0.44),
    (-0.31, 0.44),
    (0.0, 0.44),
    (0.31, 0.44),
    (0.62, 0.44),
)
NEED_GAP = 0.02  # a frame takes a bank mouth when its own opening must change by more than this (face units)
SIGMA_GAP, SIGMA_WIDTH = 0.012, 0.035  # how far a bank mouth may be from the target, per unit of cost
MAX_COST = 6.0  # beyond this the bank has no mouth for the shape: draw the interior
SECOND_COST = 0.6  # a second mouth within this cost of the best is cross-faded in
LIP_COVER = 0.5  # the bank mouth covers the opening and this share of the lips (the frame keeps its lip outline)...
MASK_SOFT = 0.01  # ... with an edge this soft (face units)
MARGIN = 0.06  # face units of crop kept around the lips while painting
GAIN_RANGE = (0.85, 1.18)


@dataclass(frozen=True)
class BankEntry:
    frame_index: int
    gap: float  # inner-lip opening at the centre (face units)
    width: float  # mouth-corner distance (face units)
    patch: np.ndarray  # (h, w, 3) uint8, face-aligned (u across, v down)
    points: np.ndarray  # (L + A, 2) lip points then anchors, patch px


@dataclass(frozen=True)
class BankUse:
    entries: tuple[tuple[int, float], ...]  # (entry index, weight)


class MouthBank:
    def __init__(
        self, entries: list[BankEntry], lip_positions: np.ndarray, triangles: np.ndarray, px_per_d: float
    ) -> None:
        self.entries = entries
        self.lip_positions = lip_positions  # positions in rig.ids of the lip points
        self.triangles = triangles
        self.px_per_d = px_per_d
        self._gaps = np.array([e.gap for e in entries])
        self._widths = np.array([e.width for e in entries])

    def __len__(self) -> int:
        return len(self.entries)

    def choose(self, placement: Placement, rig: MouthRig) -> BankUse | None:
        """The bank mouths for this frame's target, or None: its own mouth warped is close enough, or the bank
        has nothing near (the caller draws the interior)."""
        if not self.entries:
            return None
        c = rig.cols
        t, s = placement.target, placement.local
        gap_t = float(t[c["inner_lower"][CENTRE_COL], 1] - t[c["inner_upper"][CENTRE_COL], 1])
        gap_s = float(s[c["inner_lower"][CENTRE_COL], 1] - s[c["inner_upper"][CENTRE_COL], 1])
        if abs(gap_t - gap_s) <= NEED_GAP:
            return None
        width_t = float(t[c["outer_upper"][-1], 0] - t[c["outer_upper"][0], 0])
        cost = ((self._gaps - gap_t) / SIGMA_GAP) ** 2 + ((self._widths - width_t) / SIGMA_WIDTH) ** 2
        order = np.argsort(cost, kind="stable")
        best = int(order[0])
        if cost[best] > MAX_COST:
            return None
        if len(order) > 1 and cost[order[1]] - cost[best] < SECOND_COST:
            second = int(order[1])
            w2 = 0.5 * (1.0 - (cost[second] - cost[best]) / SECOND_COST)
            return BankUse(((best, 1.0 - w2), (second, w2)))
        return BankUse(((best, 1.0),))

    def paint(self, use: BankUse, crop: np.ndarray, offset: np.ndarray, placement: Placement, rig: MouthRig) -> None:
        """Blend the chosen real mouth(s) into ``crop`` (the warped frame around the mouth)."""
        frame, c = placement.frame, rig.cols
        scale = frame.scale
        outer = np.concatenate([placement.dst[c["outer_upper"]], placement.dst[c["outer_lower"][-2:0:-1]]]) - offset
        inner = np.concatenate([placement.dst[c["inner_upper"]], placement.dst[c["inner_lower"][-2:0:-1]]]) - offset
        cover = inner + LIP_COVER * (outer - inner)
        # work on the part of the crop around the lips only
        margin = MARGIN * scale + 3
        h, w = crop.shape[:2]
        x0, y0 = np.maximum(np.floor(outer.min(axis=0) - margin).astype(int), 0)
        x1, y1 = np.minimum(np.ceil(outer.max(axis=0) + margin).astype(int), [w, h])
        if x1 <= x0 or y1 <= y0:
            return
        region = crop[y0:y1, x0:x1]
        sub = offset + np.array([x0, y0])
        outer, cover = outer - np.array([x0, y0]), cover - np.array([x0, y0])
        lips_dst = placement.dst[self.lip_positions] - sub
        lips_target = placement.target[self.lip_positions]
        rh, rw = region.shape[:2]
        n_lips = len(self.lip_positions)
        mixed: np.ndarray | None = None
        covered = np.zeros((rh, rw), bool)
        for index, weight in use.entries:
            entry = self.entries[index]
            entry_local = entry.points / self.px_per_d + np.array([PATCH_BOX[0], PATCH_BOX[2]])
            m = _similarity(entry_local[:n_lips], lips_target)
            anchors_local = entry_local[n_lips:] @ m[:, :2].T + m[:, 2]
            dst = np.concatenate([lips_dst, frame.to_image(anchors_local) - sub])
            result = warp_region(region, entry.points, dst, self.triangles, (0, 0, rw, rh), source=entry.patch)
            if result is None:
                continue
            warped, moved, (wx0, wy0, wx1, wy1) = result
            layer = region.astype(np.float32)
            layer[wy0:wy1, wx0:wx1][moved] = warped[moved]
            covered[wy0:wy1, wx0:wx1] |= moved
            mixed = layer * np.float32(weight) if mixed is None else mixed + layer * np.float32(weight)
        if mixed is None:
            return
        alpha = _soft_polygon((rh, rw), cover, 0.0, MASK_SOFT * scale) * covered
        # colour is matched on the outer half of the lips, which the frame keeps as its own
        ring = (_soft_polygon((rh, rw), outer, 0.0, 0.0) > 0.5) & (alpha < 0.05) & covered
        if ring.sum() >= 20:
            gain = region[ring].astype(np.float64).mean(axis=0) / np.maximum(mixed[ring].mean(axis=0), 1.0)
            mixed *= np.clip(gain, *GAIN_RANGE).astype(np.float32)
        blend_into(region, mixed, alpha.astype(np.float32))


def _similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """2x3 least-squares similarity (rotation, uniform scale, shift) taking ``src`` points onto ``dst``."""
    sc, dc = src.mean(axis=0), dst.mean(axis=0)
    a, b = src - sc, dst - dc
    denom = float((a**2).sum()) or 1.0
    p = float((a[:, 0] * b[:, 0] + a[:, 1] * b[:, 1]).sum()) / denom
    q = float((a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]).sum()) / denom
    rot = np.array([[p, -q], [q, p]])
    return np.concatenate([rot, (dc - rot @ sc)[:, None]], axis=1)


def _soft_polygon(shape: tuple[int, int], polygon: np.ndarray, grow_px: float, soft_px: float) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(polygon).astype(np.int32)], 255)
    if grow_px >= 1:
        k = round(grow_px) * 2 + 1
        mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    out = mask.astype(np.float32) / 255.0
    if soft_px >= 0.5:
        out = cv2.GaussianBlur(out, (0, 0), soft_px)
    return out


def _lip_positions(rig: MouthRig) -> np.ndarray:
    return np.unique(np.concatenate([rig.cols[name] for name in LIP_CHAINS]))


def build_bank(
    frames: list[np.ndarray],
    points: list[np.ndarray],
    frame_indices: list[int],
    yaws: list[float],
    rig: MouthRig,
    reference: np.ndarray,
) -> MouthBank:
    """One entry per bin of (opening, width) among the given source frames, the most frontal one of each bin.
    ``reference``: the rig's reference landmarks (for the shared mesh of the patches)."""
    lips = _lip_positions(rig)
    anchors = np.array(ANCHORS)
    ref_frame = FaceFrame.from_landmarks(reference)
    ref_local = ref_frame.to_local(reference[rig.ids])
    opened, _ = target_local(ref_local, MouthShape(REFERENCE_OPEN, 0.0, 0.3), rig)
    tris = delaunay(np.concatenate([opened[lips], anchors]))
    inner_ids = set(LIP_INNER_UPPER) | set(LIP_INNER_LOWER)
    inner = {k for k, pos in enumerate(lips) if int(rig.ids[pos]) in inner_ids}
    in_mouth = np.array([{int(v) for v in t} <= inner for t in tris], dtype=bool)
    tris = np.concatenate([tris[in_mouth], tris[~in_mouth]])
    scales = [FaceFrame.from_landmarks(p).scale for p in points] or [ref_frame.scale]
    px_per_d = float(min(PATCH_MAX_PX_PER_D, np.median(scales)))
    best: dict[tuple[int, int], tuple[float, int]] = {}
    measures = []
    for k, (pts, yaw) in enumerate(zip(points, yaws, strict=True)):
        frame = FaceFrame.from_landmarks(pts)
        local = frame.to_local(pts[rig.ids])
        c = rig.cols
        gap = float(local[c["inner_lower"][CENTRE_COL], 1] - local[c["inner_upper"][CENTRE_COL], 1])
        width = float(np.hypot(*(pts[MOUTH_CORNERS[1]] - pts[MOUTH_CORNERS[0]]))) / frame.scale
        measures.append((gap, width))
        if abs(yaw) > MAX_YAW_DEG or gap < -0.005:
            continue
        key = (round(gap / GAP_BIN), round(width / WIDTH_BIN))
        if key not in best or abs(yaw) < best[key][0]:
            best[key] = (abs(yaw), k)
    entries = []
    for key in sorted(best):
        k = best[key][1]
        patch, pts_px = _cut_patch(frames[k], points[k], rig, lips, anchors, px_per_d)
        entries.append(BankEntry(frame_indices[k], measures[k][0], measures[k][1], patch, pts_px))
    return MouthBank(entries, lips, tris, px_per_d)


def _cut_patch(
    image: np.ndarray, points: np.ndarray, rig: MouthRig, lips: np.ndarray, anchors: np.ndarray, px_per_d: float
) -> tuple[np.ndarray, np.ndarray]:
    frame = FaceFrame.from_landmarks(points)
    u0, u1, v0, v1 = PATCH_BOX
    w, h = round((u1 - u0) * px_per_d), round((v1 - v0) * px_per_d)
    # patch px (j, i) -> local (u0 + j / ppd, v0 + i / ppd) -> image
    s = frame.scale / px_per_d
    m = np.array([[frame.ex[0] * s, frame.ey[0] * s, 0.0], [frame.ex[1] * s, frame.ey[1] * s, 0.0]])
    m[:, 2] = frame.origin + (u0 * frame.ex + v0 * frame.ey) * frame.scale
    patch = cv2.warpAffine(
        image, m, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE
    )
    local = np.concatenate([frame.to_local(points[rig.ids[lips]]), anchors])
    return patch, (local - np.array([u0, v0])) * px_per_d
