"""Paint the inside of an open mouth, in the face's own coordinates (u across, v down, in face units D):
a dark cavity shaded from the lips inwards and from the top, the tongue lying behind the lower teeth (its tip
raised for /l/ /n/ /t/ /d/, between the teeth for /th/), the lower teeth on wide opens and the upper teeth hanging
from the fixed upper jaw, each tooth with its own edge, gaps and shading along the dental arch."""

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
    inner_lip_gap,
)

# Teeth, in face units (D = outer eye-corner distance, ~9.5 cm): widths along the arch from the midline
# (central incisor, lateral, canine, premolars), the arch radius that foreshortens them towards the corners.
UPPER_TEETH = (0.092, 0.07, 0.08, 0.074, 0.07)
LOWER_TEETH = (0.056, 0.062, 0.072, 0.074, 0.07)
UPPER_ARCH_R = 0.25
LOWER_ARCH_R = 0.2
UPPER_LENGTH = (0.0, 0.008, -0.004, 0.004, 0.006)  # how much higher each tooth's edge is than the centrals'
CORNER_ROUND = 0.012  # the incisal corners curve up this much over the outer share of a tooth
CORNER_SHARE = 0.3
CANINE_CUSP = 0.008  # a canine's edge comes to a point this far below its corners
TEETH_BELOW_REST = 0.022  # upper incisors reach this far below where the lips meet at rest
ARCH_RISE = 0.025  # the upper teeth's edge rises this much from the middle to the mouth corners
LOWER_SHOW = 0.014  # the lower incisors' edges show at most this far above the lower lip (wide opens)
LOWER_SHOW_JAW = (0.06, 0.18)  # ... starting at the first jaw drop, fully at the second (face units)
GAP_PX = 0.7  # width of the dark line between two teeth, px (at least)
GAP_WIDTH = 0.0035  # ... or this share of D
GAP_DARK = 0.32
TONGUE_RISE = 0.38  # the tongue's back rises this share of the opening above the lower teeth's edge
TONGUE_HALF = 0.2  # half width of the visible tongue
TIP_HALF = 0.065  # half width of a raised tongue tip
TIP_OUT = 0.016  # a /th/ tongue tip shows this far below the upper teeth's edge
TEETH_TINT = np.array([1.0, 0.96, 0.88])  # teeth are a warm white
SKIN_TINT = 0.3  # teeth take on some of the light's colour, as seen on the skin
TEETH_BRIGHTNESS = 0.86  # teeth luma as a share of the face's highlights (90th percentile), in mouth shade
TEETH_LUMA_RANGE = (130.0, 228.0)
MIN_TEETH_PX = 40  # pixels needed to take the teeth colour from the source
SEAM_WIDTH = 0.008  # face units
MIN_GAP_PX = 0.6  # openings thinner than this are not painted
SUBPIXEL_BITS = 4


@dataclass(frozen=True)
class InteriorStyle:
    lip_rgb: np.ndarray  # (3,) float
    teeth_rgb: np.ndarray
    cavity_rgb: np.ndarray  # deep in the mouth
    tongue_rgb: np.ndarray
    teeth_from_source: bool  # the teeth colour was seen in the source


@dataclass(frozen=True)
class MouthGeometry:
    """One frame's mouth in face-local coordinates (see FaceFrame), after the warp."""

    origin: np.ndarray  # FaceFrame of the frame
    ex: np.ndarray
    ey: np.ndarray
    scale: float  # px per face unit
    inner_upper: np.ndarray  # (11, 2) upper inner lip, corner to corner
    inner_lower: np.ndarray  # (11, 2)
    teeth_rest: np.ndarray  # (11,) v of where the lips meet at rest, under each inner-lip column
    jaw: float  # how far the jaw (lower lip centre) moved down
    width: float  # -1 rounded .. +1 spread
    tongue: float  # tongue tip raised to the upper teeth 0..1
    tongue_out: float  # tongue tip between the teeth 0..1


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


def _polygon_mask(shape: tuple[int, int], polygon: np.ndarray) -> np.ndarray:
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(polygon).astype(np.int32)], 1)
    return mask


def _seen_teeth(images: list[np.ndarray], points: list[np.ndarray]) -> np.ndarray:
    """Pixels inside open mouths that look like teeth: bright for the mouth and unsaturated."""
    found = []
    for image, pts in zip(images, points, strict=True):
        if inner_lip_gap(pts) < 0.035:
            continue
        _x, _y, _w, _h = face_box(pts)
        inner = np.concatenate([pts[list(LIP_INNER_UPPER)], pts[list(LIP_INNER_LOWER[-2:0:-1])]])
        x0, y0 = np.floor(inner.min(axis=0)).astype(int)
        x1, y1 = np.ceil(inner.max(axis=0)).astype(int) + 1
        if x0 < 0 or y0 < 0 or x1 > image.shape[1] or y1 > image.shape[0]:
            continue
        mask = cv2.erode(_polygon_mask((y1 - y0, x1 - x0), inner - [x0, y0]), np.ones((3, 3), np.uint8))
        px = image[y0:y1, x0:x1][mask > 0].astype(np.float64)
        if len(px) < 8:
            continue
        luma = _luma(px)
        sat = (px.max(axis=1) - px.min(axis=1)) / np.maximum(px.max(axis=1), 1.0)
        keep = (luma > max(90.0, np.percentile(luma, 60))) & (sat < 0.35)
        found.append(px[keep])
    return np.concatenate(found) if found else np.zeros((0, 3))


def sample_style(
    image: np.ndarray,
    points: np.ndarray,
    more_images: list[np.ndarray] | None = None,
    more_points: list[np.ndarray] | None = None,
) -> InteriorStyle:
    """Colours from the presenter: the lips tint the cavity and tongue; the teeth take the colour of teeth seen in
    the source (``image`` and ``more_images``) or else a warm white as bright as the face's highlights."""
    h, w = image.shape[:2]
    outer = np.concatenate([points[list(LIP_OUTER_UPPER)], points[list(LIP_OUTER_LOWER[-2:0:-1])]])
    inner = np.concatenate([points[list(LIP_INNER_UPPER)], points[list(LIP_INNER_LOWER[-2:0:-1])]])
    lips = _polygon_mask((h, w), outer)
    cv2.fillPoly(lips, [np.round(inner).astype(np.int32)], 0)
    sel = image[lips > 0].astype(np.float64)
    lip_rgb = np.median(sel, axis=0) if len(sel) >= 4 else np.array([150.0, 80.0, 80.0])
    teeth_px = _seen_teeth([image, *(more_images or [])], [points, *(more_points or [])])
    from_source = len(teeth_px) >= MIN_TEETH_PX
    if from_source:
        teeth = np.median(teeth_px, axis=0)
    else:
        x, y, bw, bh = face_box(points)
        x0, y0 = max(0, int(x)), max(0, int(y))
        face = image[y0 : min(h, int(y + bh)), x0 : min(w, int(x + bw))].reshape(-1, 3).astype(np.float64)
        bright = float(np.percentile(_luma(face), 90)) if len(face) else 200.0
        teeth_luma = float(np.clip(TEETH_BRIGHTNESS * bright, *TEETH_LUMA_RANGE))
        skin = np.median(face, axis=0) if len(face) else np.array([200.0, 170.0, 150.0])
        tint = (1.0 - SKIN_TINT) * TEETH_TINT / _luma(TEETH_TINT) + SKIN_TINT * skin / max(float(_luma(skin)), 1.0)
        teeth = tint * teeth_luma
    tongue = 0.5 * lip_rgb + 0.5 * np.array([215.0, 118.0, 122.0])
    return InteriorStyle(
        lip_rgb=lip_rgb,
        teeth_rgb=np.clip(teeth, 0, 255),
        cavity_rgb=lip_rgb * 0.2 + 4.0,
        tongue_rgb=tongue,
        teeth_from_source=from_source,
    )


def _smoothstep(e0: float | np.ndarray, e1: float | np.ndarray, x: np.ndarray) -> np.ndarray:
    t = np.clip((x - e0) / np.maximum(np.asarray(e1) - e0, 1e-9), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _fill(shape: tuple[int, int], poly: np.ndarray) -> np.ndarray:
    """Anti-aliased mask (float32 0..1) of a polygon given in pixel coordinates."""
    mask = np.zeros(shape, np.uint8)
    cv2.fillPoly(mask, [np.round(poly * (1 << SUBPIXEL_BITS)).astype(np.int32)], 255, cv2.LINE_AA, SUBPIXEL_BITS)
    return mask.astype(np.float32) / 255.0


def _teeth_row(u: np.ndarray, widths: tuple[float, ...], radius: float) -> tuple[np.ndarray, ...]:
    """For each pixel column u (face units from the midline): which tooth (0 = central), where across it (0..1),
    the projected tooth width (face units) and how far round the arch it faces (0 = front, 1 = side)."""
    s_max = float(np.sum(widths))
    s = radius * np.arcsin(np.clip(np.abs(u) / radius, 0.0, 0.999))
    bounds = np.concatenate([[0.0], np.cumsum(widths)])
    tooth = np.clip(np.searchsorted(bounds, s, side="right") - 1, 0, len(widths) - 1)
    w = np.asarray(widths)[tooth]
    across = np.clip((s - bounds[tooth]) / w, 0.0, 1.0)
    turn = np.clip(s / s_max, 0.0, 1.0)
    projected = w * np.cos(s / radius)
    return tooth, across, projected, turn


def _tooth_edges(
    v_edge: np.ndarray, tooth: np.ndarray, across: np.ndarray, lengths: tuple[float, ...] | None, lower: bool
) -> np.ndarray:
    """Incisal edge of each tooth: rounded corners, a pointed canine, laterals a little shorter."""
    sign = -1.0 if lower else 1.0  # upper teeth edges curve up (smaller v) at the corners, lower ones down
    edge = v_edge.copy()
    if lengths is not None:
        edge -= sign * np.asarray(lengths)[tooth]
    side = np.abs(2.0 * across - 1.0)  # 0 mid-tooth, 1 at its sides
    corner = np.clip((side - (1.0 - 2.0 * CORNER_SHARE)) / (2.0 * CORNER_SHARE), 0.0, 1.0)
    edge -= sign * CORNER_ROUND * (1.0 - np.sqrt(1.0 - corner**2))
    canine = tooth == 2
    edge[canine] += sign * CANINE_CUSP * (1.0 - side[canine]) ** 1.5
    return edge


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
    thickness = max(1, round(SEAM_WIDTH * scale))
    cv2.polylines(mask, [pts], False, 255, thickness, cv2.LINE_AA, SUBPIXEL_BITS)
    a = cv2.GaussianBlur(mask.astype(np.float32) / 255.0, (0, 0), 0.6)[..., None] * strength
    across = np.abs(np.arange(bx0, bx1) - 0.5 * (line[0, 0] + line[-1, 0])) / max(0.5 * (line[-1, 0] - line[0, 0]), 1.0)
    a = a * (1.0 - 0.5 * np.clip(across, 0.0, 1.0) ** 2)[None, :, None]
    sub = crop[by0:by1, bx0:bx1].astype(np.float32)
    edge_rgb = style.lip_rgb * 0.45
    crop[by0:by1, bx0:bx1] = np.clip(sub * (1.0 - a) + edge_rgb * a + 0.5, 0, 255).astype(np.uint8)


def paint_interior(crop: np.ndarray, offset: np.ndarray, geo: MouthGeometry, style: InteriorStyle) -> None:
    """Paint the mouth opening of ``geo`` into ``crop`` (whose top-left pixel is ``offset`` in the image).

    The interior is drawn upright (rows along v, columns along u, one pixel per image pixel), where everything
    that depends on the column alone is a 1-D array, then turned into place with one affine warp."""
    scale = geo.scale
    px = 1.0 / scale  # one pixel in face units
    iu, il = geo.inner_upper, geo.inner_lower
    gap = float(np.max(il[:, 1] - iu[:, 1])) * scale
    if gap < MIN_GAP_PX:
        return
    pad = 3 * px
    u0, u1 = float(min(iu[:, 0].min(), il[:, 0].min())) - pad, float(max(iu[:, 0].max(), il[:, 0].max())) + pad
    v0, v1 = float(min(iu[:, 1].min(), il[:, 1].min())) - pad, float(max(iu[:, 1].max(), il[:, 1].max())) + pad
    w, h = int(np.ceil((u1 - u0) * scale)) + 1, int(np.ceil((v1 - v0) * scale)) + 1
    u = (u0 + np.arange(w, dtype=np.float32) * np.float32(px))[None, :]  # (1, w)
    v = (v0 + np.arange(h, dtype=np.float32) * np.float32(px))[:, None]  # (h, 1)

    # Columns: lips, where the teeth meet at rest, the arch.
    centre = 0.5 * (iu[0, 0] + iu[-1, 0])
    half = max(0.5 * (iu[-1, 0] - iu[0, 0]), 4 * px)
    du = u - np.float32(centre)
    across = np.clip(np.abs(du) / np.float32(half), 0.0, 1.0)
    lip_up = np.interp(u, iu[:, 0], iu[:, 1]).astype(np.float32)
    lip_lo = np.interp(u, il[:, 0], il[:, 1]).astype(np.float32)
    rest = np.interp(u, iu[:, 0], geo.teeth_rest).astype(np.float32)
    rounded = max(-geo.width, 0.0)
    opening = max(float(np.max(il[:, 1] - iu[:, 1])), px)

    # Cavity: darkest high up under the teeth and towards the cheeks; the inside of the lips near their edge.
    depth = np.clip((v - lip_up) / np.float32(opening), 0.0, 1.0)
    shade = (0.75 + 0.45 * depth) * (1.0 - 0.45 * across**2)
    near_lip = np.exp(-np.minimum(np.abs(v - lip_up), np.abs(lip_lo - v)) / np.float32(0.01 + 2 * px))
    colour = _rgb(style.cavity_rgb, shade)
    _over(colour, _rgb(style.lip_rgb * 0.4, np.ones_like(near_lip)), 0.6 * near_lip)

    # Tongue: behind the lower teeth, its back rising in the middle; lit at the front (low in the opening), in
    # shadow at the back and the sides, a faint groove down the middle.
    show = LOWER_SHOW * float(_smoothstep(LOWER_SHOW_JAW[0], LOWER_SHOW_JAW[1], np.array(geo.jaw)))
    lower_edge = lip_lo - np.float32(show + 0.25 * px)
    tongue_top = lower_edge - TONGUE_RISE * opening * np.clip(1.0 - (du / TONGUE_HALF) ** 2, 0.0, 1.0) ** 0.7
    tip = max(geo.tongue, geo.tongue_out)
    teeth_edge = rest + np.float32(TEETH_BELOW_REST) - ARCH_RISE * across**2
    tip_zone = np.clip(1.0 - (du / TIP_HALF) ** 2, 0.0, 1.0)
    if tip > 0.0:
        tip_top = teeth_edge - 0.006 + (TIP_OUT + 0.006) * geo.tongue_out
        raised = tongue_top + (tip_top - tongue_top) * tip * np.sqrt(tip_zone)
        tongue_top = np.minimum(tongue_top, raised)
    tongue_a = _step_down(v, tongue_top, px)
    front = _smoothstep(tongue_top, lip_lo, v)
    groove = 1.0 - 0.12 * np.exp(-((du / np.float32(0.012 + px)) ** 2))
    tongue_shade = (0.42 + 0.5 * front) * ((1.0 - 0.45 * across**2) * (1.0 - 0.45 * rounded))
    tongue_shade *= groove + (1.0 - groove) * front
    _over(colour, _rgb(style.tongue_rgb, tongue_shade), tongue_a)

    # Lower teeth: their edges just above the lower lip on wide opens (the lip hides them otherwise).
    tooth, t_across, t_width, turn = _teeth_row(du, LOWER_TEETH, LOWER_ARCH_R)
    ledge = _tooth_edges(lower_edge + 0.008 * turn**2, tooth, t_across, None, lower=True)
    lower_a = _step_down(v, ledge, 0.5 * px) * (1.0 - _smoothstep(0.3, 0.55, turn))
    lower_shade = 0.8 * (1.0 - 0.35 * turn**2) * (1.0 - 0.5 * rounded) * _gaps(t_across, t_width, scale, 1.0)
    _over(colour, _rgb(style.teeth_rgb, np.broadcast_to(lower_shade, lower_a.shape)), lower_a)

    # Upper teeth: hanging from the upper jaw down to just below where the lips met at rest.
    tooth, t_across, t_width, turn = _teeth_row(du, UPPER_TEETH, UPPER_ARCH_R)
    uedge = _tooth_edges(teeth_edge, tooth, t_across, UPPER_LENGTH, lower=False)
    upper_a = (1.0 - _step_down(v, uedge, 0.5 * px)) * (1.0 - _smoothstep(0.6, 0.9, turn))
    if geo.tongue_out > 0.0:  # a /th/ tongue tip lies in front of the upper teeth's edge
        in_front = (tip_zone > 0) & (v > uedge - 0.006)
        upper_a = np.where(in_front, upper_a * (1.0 - geo.tongue_out), upper_a)
    under_lip = 0.7 + 0.3 * _smoothstep(lip_up, lip_up + 0.025, v)  # shadow of the upper lip
    convex = 0.92 + 0.08 * np.sin(np.pi * t_across)  # each tooth catches the light in its middle
    recessed = 1.0 - 0.55 * rounded  # rounded lips push forward: the teeth behind them are in shadow
    to_edge = np.clip((uedge - v) / 0.03, 0.0, 1.0)  # the gaps between teeth open up towards their edges
    upper_shade = (
        under_lip * (convex * recessed * (1.0 - 0.4 * turn**2)) * _gaps(t_across, t_width, scale, 1.0 - 0.6 * to_edge)
    )
    upper_rgb = _rgb(style.teeth_rgb, upper_shade)
    translucent = _smoothstep(uedge - 0.014, uedge, v)  # incisal edges are greyer and a little blue
    upper_rgb *= 1.0 - 0.12 * translucent[None] * np.array([1.0, 0.95, 0.8], np.float32)[:, None, None]
    _over(colour, upper_rgb, upper_a)

    # The opening itself, with a soft edge (the real inner lip edge is not a hard line).
    inner = np.concatenate([iu, il[-2:0:-1]])
    mask = _fill((h, w), (inner - np.array([u0, v0])) * scale)
    mask = cv2.GaussianBlur(mask, (0, 0), 0.35 + scale / 1200.0)

    # Upright pixel (j, i) sits at local (u0 + j px, v0 + i px): map it into the crop.
    o = geo.origin + (u0 * geo.ex + v0 * geo.ey) * scale - offset
    m = np.array([[geo.ex[0], geo.ey[0], o[0]], [geo.ex[1], geo.ey[1], o[1]]])
    corners = np.array([[0, 0], [w, 0], [0, h], [w, h]], dtype=np.float64) @ m[:, :2].T + m[:, 2]
    ch, cw = crop.shape[:2]
    bx0, by0 = np.maximum(np.floor(corners.min(axis=0)).astype(int) - 1, 0)
    bx1, by1 = np.minimum(np.ceil(corners.max(axis=0)).astype(int) + 2, [cw, ch])
    if bx1 <= bx0 or by1 <= by0:
        return
    m[:, 2] -= [bx0, by0]
    size = (int(bx1 - bx0), int(by1 - by0))
    rgba = cv2.merge([colour[0], colour[1], colour[2], mask * np.float32(255.0)])
    placed = cv2.warpAffine(rgba, m, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    alpha = placed[..., 3] / 255.0
    region = crop[by0:by1, bx0:bx1]
    top = np.clip(placed[..., :3] + 0.5, 0, 255).astype(np.uint8)
    region[:] = cv2.blendLinear(top, np.ascontiguousarray(region), alpha, 1.0 - alpha)


def _rgb(rgb: np.ndarray, shade: np.ndarray) -> np.ndarray:
    """(3, h, w) float32 colour ``rgb`` scaled by ``shade`` (channels first: numpy is slow on a last axis of 3)."""
    return np.asarray(shade, dtype=np.float32)[None] * np.asarray(rgb, dtype=np.float32)[:, None, None]


def _over(colour: np.ndarray, top: np.ndarray, alpha: np.ndarray) -> None:
    colour += (top - colour) * np.asarray(alpha, dtype=np.float32)[None]


def _step_down(v: np.ndarray, edge: np.ndarray, soft: float) -> np.ndarray:
    """0 above ``edge`` (smaller v), 1 below it, with a ramp ``soft`` (face units) on either side."""
    result: np.ndarray = np.clip((v - edge) / np.float32(2.0 * soft) + 0.5, 0.0, 1.0)
    return result


def _gaps(across: np.ndarray, width: np.ndarray, scale: float, strength: np.ndarray | float) -> np.ndarray:
    """Darkening of the thin lines between teeth (1 = none)."""
    to_side_px = np.minimum(across, 1.0 - across) * width * scale
    line_px = max(GAP_PX, GAP_WIDTH * scale)
    return 1.0 - GAP_DARK * strength * (1.0 - _smoothstep(0.25 * line_px, 0.75 * line_px + 0.5, to_side_px))
