"""Paint the inside of the mouth: a dark cavity shaded from the lips inwards, the upper teeth hanging from
the (fixed) upper jaw, and a hint of the lower teeth when the jaw is well open."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from musetalk_wrapper.engines.puppet.landmarks import (
    LIP_INNER_LOWER,
    LIP_INNER_UPPER,
    LIP_OUTER_LOWER,
    LIP_OUTER_UPPER,
    face_box,
)

TEETH_TINT = np.array([1.0, 0.96, 0.88])  # teeth are a warm white
SKIN_TINT = 0.3  # teeth take on some of the light's colour, as seen on the skin
TEETH_BRIGHTNESS = 0.86  # teeth luma as a share of the face's highlights (90th percentile), in mouth shade
TEETH_LUMA_RANGE = (130.0, 228.0)
INCISOR_GAPS = (0.0, 0.085)  # face units from the midline: between the central incisors, and beside them
TEETH_BELOW_REST = 0.012  # upper incisors reach this far (face units) below where the lips meet at rest
ARCH_RISE = 0.02  # the teeth's edge rises this much (face units) from the middle to the mouth corners
LOWER_TEETH_HEIGHT = 0.014  # visible lower incisors when the jaw is wide open (face units)
LOWER_TEETH_MIN_GAP = 0.07  # ... only once the opening exceeds this (face units)
CAVITY_EDGE = 0.55  # cavity colour near the lips, as a share of the lip colour
CAVITY_DEEP = 0.12  # deep in the mouth
SEAM_WIDTH = 0.008  # face units
MIN_GAP_PX = 0.6  # openings thinner than this are not painted
SUBPIXEL_BITS = 4


@dataclass(frozen=True)
class InteriorStyle:
    lip_rgb: np.ndarray  # (3,) float
    teeth_rgb: np.ndarray  # (3,) float
    cavity_edge_rgb: np.ndarray
    cavity_deep_rgb: np.ndarray


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


def sample_style(image: np.ndarray, points: np.ndarray) -> InteriorStyle:
    """Colours from the presenter: the lips tint the cavity, the face's highlights set the teeth's brightness."""
    h, w = image.shape[:2]
    lips = np.zeros((h, w), np.uint8)
    outer = np.concatenate([points[list(LIP_OUTER_UPPER)], points[list(LIP_OUTER_LOWER[-2:0:-1])]])
    inner = np.concatenate([points[list(LIP_INNER_UPPER)], points[list(LIP_INNER_LOWER[-2:0:-1])]])
    cv2.fillPoly(lips, [np.round(outer).astype(np.int32)], 1)
    cv2.fillPoly(lips, [np.round(inner).astype(np.int32)], 0)
    sel = image[lips > 0].astype(np.float64)
    lip_rgb = sel.mean(axis=0) if len(sel) >= 4 else np.array([150.0, 80.0, 80.0])
    x, y, bw, bh = face_box(points)
    x0, y0 = max(0, int(x)), max(0, int(y))
    face = image[y0:min(h, int(y + bh)), x0:min(w, int(x + bw))].reshape(-1, 3).astype(np.float64)
    bright = float(np.percentile(_luma(face), 90)) if len(face) else 200.0
    teeth_luma = float(np.clip(TEETH_BRIGHTNESS * bright, *TEETH_LUMA_RANGE))
    skin = np.median(face, axis=0) if len(face) else np.array([200.0, 170.0, 150.0])
    tint = (1.0 - SKIN_TINT) * TEETH_TINT / _luma(TEETH_TINT) + SKIN_TINT * skin / max(float(_luma(skin)), 1.0)
    teeth = tint * teeth_luma
    return InteriorStyle(lip_rgb=lip_rgb, teeth_rgb=np.clip(teeth, 0, 255),
                         cavity_edge_rgb=lip_rgb * CAVITY_EDGE, cavity_deep_rgb=lip_rgb * CAVITY_DEEP + 3.0)


def _fill(shape: tuple[int, int], poly: np.ndarray) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(poly * (1 << SUBPIXEL_BITS)).astype(np.int32)], 255, cv2.LINE_AA, SUBPIXEL_BITS)
    return mask.astype(np.float32) / 255.0


def _smoothstep(e0: float, e1: float, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - e0) / max(e1 - e0, 1e-6), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def draw_seam(crop: np.ndarray, line: np.ndarray, strength: float, scale: float, style: InteriorStyle) -> None:
    """A soft dark line where closed lips meet (crop px, left to right), covering whatever the warp squeezed
    there from an open source mouth."""
    lo = np.floor(line.min(axis=0)).astype(int) - 3
    hi = np.ceil(line.max(axis=0)).astype(int) + 4
    h, w = crop.shape[:2]
    bx0, by0, bx1, by1 = max(0, lo[0]), max(0, lo[1]), min(w, hi[0]), min(h, hi[1])
    if bx1 <= bx0 or by1 <= by0:
        return
    mask = np.zeros((by1 - by0, bx1 - bx0), np.uint8)
    pts = np.round((line - np.array([bx0, by0])) * (1 << SUBPIXEL_BITS)).astype(np.int32)
    thickness = max(1, int(round(SEAM_WIDTH * scale)))
    cv2.polylines(mask, [pts], False, 255, thickness, cv2.LINE_AA, SUBPIXEL_BITS)
    a = cv2.GaussianBlur(mask.astype(np.float32) / 255.0, (0, 0), 0.6)[..., None] * strength
    across = np.abs(np.arange(bx0, bx1) - 0.5 * (line[0, 0] + line[-1, 0])) / max(0.5 * (line[-1, 0] - line[0, 0]), 1.0)
    a = a * (1.0 - 0.5 * np.clip(across, 0.0, 1.0) ** 2)[None, :, None]
    sub = crop[by0:by1, bx0:bx1].astype(np.float32)
    crop[by0:by1, bx0:bx1] = np.clip(sub * (1.0 - a) + style.cavity_edge_rgb * a + 0.5, 0, 255).astype(np.uint8)


def paint_interior(crop: np.ndarray, inner: np.ndarray, upper_lip: np.ndarray, teeth_rest: np.ndarray,
                   lower_lip_rest: np.ndarray, scale: float, width: float, style: InteriorStyle) -> None:
    """Paint inside the inner-lip polygon ``inner`` (crop px: the 11 upper inner-lip points left to right, then
    the lower ones back). ``upper_lip``: those 11 upper points; ``teeth_rest``: where the lips met at rest under
    each (the upper teeth hang from the fixed upper jaw down to there); ``lower_lip_rest``: the same line moved
    with the jaw (the lower teeth's edge). ``scale``: px per face unit; ``width``: -1 rounded .. +1 spread."""
    h, w = crop.shape[:2]
    lo = np.floor(inner.min(axis=0)).astype(int) - 2
    hi = np.ceil(inner.max(axis=0)).astype(int) + 3
    bx0, by0 = max(0, lo[0]), max(0, lo[1])
    bx1, by1 = min(w, hi[0]), min(h, hi[1])
    n = len(upper_lip)
    lower = np.concatenate([inner[:1], inner[n:][::-1], inner[n - 1:n]])  # lower lip, left to right
    gap_px = float(np.max(np.interp(upper_lip[:, 0], lower[:, 0], lower[:, 1]) - upper_lip[:, 1]))
    if bx1 <= bx0 or by1 <= by0 or gap_px < MIN_GAP_PX:
        return
    off = np.array([bx0, by0], dtype=np.float64)
    shape = (by1 - by0, bx1 - bx0)
    soft = 0.35 + scale / 1200.0  # edge softness in px: the real inner lip edge is not a hard line
    mouth = cv2.GaussianBlur(_fill(shape, inner - off), (0, 0), soft)
    yy, xx = np.mgrid[by0:by1, bx0:bx1].astype(np.float64)
    centre = 0.5 * (upper_lip[0, 0] + upper_lip[-1, 0])
    half = max(0.5 * (upper_lip[-1, 0] - upper_lip[0, 0]), 1.0)
    across = np.clip(np.abs(xx - centre) / half, 0.0, 1.0)
    side_shade = (1.0 - 0.5 * across ** 2)[..., None]

    # Cavity: lip-tinted near the lips, dark inside, a tongue-tinted floor.
    depth = cv2.GaussianBlur(mouth, (0, 0), max(0.7, 0.25 * gap_px))
    deep = _smoothstep(0.3, 0.95, depth)[..., None]
    colour = style.cavity_edge_rgb * (1.0 - deep) + style.cavity_deep_rgb * deep
    lower_y = np.interp(xx, lower[:, 0], lower[:, 1])
    floor = (_smoothstep(-0.45 * gap_px, -0.05 * gap_px, yy - lower_y) * (1.0 - across ** 2))[..., None]
    colour = colour * (1.0 - 0.5 * floor) + style.lip_rgb * 0.5 * 0.5 * floor

    # Upper teeth: from under the upper lip down to just below where the lips met at rest.
    rounded = max(-width, 0.0)
    cols = np.clip(np.abs(teeth_rest[1:-1, 0] - centre) / half, 0.0, 1.0)
    edge = teeth_rest[1:-1].copy()
    edge[:, 1] += (TEETH_BELOW_REST - ARCH_RISE * cols ** 2) * scale  # the arch curves back and up at the sides
    top = upper_lip[1:-1] - np.array([0.0, 3.0])
    upper_teeth = cv2.GaussianBlur(_fill(shape, np.concatenate([top, edge[::-1]]) - off), (0, 0), soft)
    lip_y = np.interp(xx, upper_lip[:, 0], upper_lip[:, 1])
    under_lip = (0.68 + 0.32 * _smoothstep(0.0, 0.03 * scale, yy - lip_y))[..., None]
    gaps = np.zeros_like(xx)
    for k in INCISOR_GAPS:  # faint lines between the front teeth
        for sign in ((1.0,) if k == 0 else (1.0, -1.0)):
            gaps = np.maximum(gaps, np.exp(-((xx - centre - sign * k * scale) / (0.6 + scale / 900.0)) ** 2))
    teeth_colour = style.teeth_rgb * side_shade * under_lip * (1.0 - 0.12 * gaps)[..., None]
    visible = (1.0 - _smoothstep(0.5, 0.95, across)) * (1.0 - 0.85 * rounded)
    a = (upper_teeth * visible)[..., None]
    colour = colour * (1.0 - a) + teeth_colour * a

    if gap_px > LOWER_TEETH_MIN_GAP * scale:  # a hint of the lower teeth when the jaw is wide open
        show = min(1.0, (gap_px / scale - LOWER_TEETH_MIN_GAP) / 0.04) * (1.0 - rounded)
        ledge = lower_lip_rest[2:-2]
        ltop = ledge - np.array([0.0, LOWER_TEETH_HEIGHT * scale])
        lower_teeth = cv2.GaussianBlur(_fill(shape, np.concatenate([ltop, ledge[::-1] + np.array([0.0, 3.0])]) - off),
                                       (0, 0), soft)
        la = (lower_teeth * show * 0.5 * (1.0 - _smoothstep(0.25, 0.65, across)))[..., None]
        colour = colour * (1.0 - la) + style.teeth_rgb * 0.6 * side_shade * la

    m = mouth[..., None]
    sub = crop[by0:by1, bx0:bx1].astype(np.float32)
    crop[by0:by1, bx0:bx1] = np.clip(sub * (1.0 - m) + colour * m + 0.5, 0, 255).astype(np.uint8)
