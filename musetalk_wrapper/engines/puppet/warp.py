"""Piecewise-affine image warp over a fixed triangulation, evaluated only inside a crop box."""

from __future__ import annotations

import cv2
import numpy as np

SUBPIXEL_BITS = 4  # fillConvexPoly's fixed-point precision
MIN_MOVE_PX = 0.02  # vertices moving less than this count as still
COARSE_ABOVE_PX = 60_000  # maps of larger regions are computed on every other pixel and interpolated
FEATHER_SIGMA_PX = 1.5


def delaunay(points: np.ndarray) -> np.ndarray:
    """Triangles (K, 3) as indices into ``points`` (N, 2); points should be distinct."""
    pts = np.asarray(points, dtype=np.float64)
    lo = pts.min(axis=0) - 1.0
    size = pts.max(axis=0) - lo + 2.0
    scale = 1000.0 / float(size.max())  # Subdiv2D works in float32: give it a comfortable range
    scaled = (pts - lo) * scale
    subdiv = cv2.Subdiv2D((0, 0, int(size[0] * scale) + 2, int(size[1] * scale) + 2))
    for x, y in scaled:
        subdiv.insert((float(x), float(y)))
    tris = []
    for t in subdiv.getTriangleList():
        corners = t.reshape(3, 2)
        idx = [int(np.argmin(((scaled - c) ** 2).sum(axis=1))) for c in corners]
        if max(((scaled[i] - c) ** 2).sum() for i, c in zip(idx, corners, strict=True)) > 1e-3:
            continue  # a triangle touching Subdiv2D's virtual outer vertices
        if len(set(idx)) == 3:
            tris.append(idx)
    return np.array(tris, dtype=np.int32).reshape(-1, 3)


def _affines(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """(K, 2, 3) maps from dst triangle coordinates to src coordinates (degenerate ones collapse to a point)."""
    d0, d1, d2 = dst[:, 0], dst[:, 1], dst[:, 2]
    e1, e2 = d1 - d0, d2 - d0
    det = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
    ok = np.abs(det) > 1e-6
    inv_det = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
    # Barycentric (u, v) of a point p: u = (e2.y*(p-d0).x - e2.x*(p-d0).y)/det, v = (-e1.y*(p-d0).x + e1.x*(p-d0).y)/det
    bu = np.stack([e2[:, 1], -e2[:, 0]], 1) * inv_det[:, None]
    bv = np.stack([-e1[:, 1], e1[:, 0]], 1) * inv_det[:, None]
    s0 = src[:, 0]
    f1, f2 = src[:, 1] - s0, src[:, 2] - s0  # src = s0 + u*f1 + v*f2
    lin = f1[:, :, None] * bu[:, None, :] + f2[:, :, None] * bv[:, None, :]  # (K, 2, 2)
    trans = s0 - np.einsum("kij,kj->ki", lin, d0)
    out = np.concatenate([lin, trans[:, :, None]], axis=2)
    if (~ok).any():
        out[~ok] = 0.0
        out[~ok, :, 2] = src[~ok].mean(axis=1)
    return out


def moving_triangles(src: np.ndarray, dst: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    moving = np.abs(dst - src).max(axis=1) > MIN_MOVE_PX
    result: np.ndarray = triangles[moving[triangles].any(axis=1)]
    return result


def triangle_maps(
    src: np.ndarray,
    dst: np.ndarray,
    tris: np.ndarray,
    box: tuple[int, int, int, int],
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """For every pixel of ``box`` (x0, y0, x1, y1 in dst coordinates): where to sample the source (map_x, map_y,
    float32) and whether a triangle covers it; pixels no triangle covers map to themselves."""
    x0, y0, x1, y1 = box
    h, w = y1 - y0, x1 - x0
    if h <= 0 or w <= 0 or len(tris) == 0:
        return None
    dst_c = dst - np.array([x0, y0], dtype=np.float64)
    affines = _affines(src[tris], dst_c[tris])
    label = np.zeros((h, w), dtype=np.int32)
    fixed = np.round(dst_c[tris] * (1 << SUBPIXEL_BITS)).astype(np.int32)
    for k in range(len(tris)):
        cv2.fillConvexPoly(label, fixed[k], k + 1, lineType=cv2.LINE_8, shift=SUBPIXEL_BITS)
    # Per-triangle coefficients looked up by label (label 0 = identity, i.e. the pixel's own position).
    table = np.zeros((len(tris) + 1, 2, 3), dtype=np.float32)
    table[0] = [[1.0, 0.0, x0], [0.0, 1.0, y0]]
    table[1:] = affines
    xs = np.arange(w, dtype=np.float32)[None, :]
    ys = np.arange(h, dtype=np.float32)[:, None]
    c = table.reshape(len(tris) + 1, 6).T.copy()  # (6, K + 1): one gather per coefficient keeps arrays contiguous
    # np.take gathers about twice as fast as fancy indexing (no broadcasting or bounds machinery)
    map_x = np.take(c[0], label) * xs + np.take(c[1], label) * ys + np.take(c[2], label)
    map_y = np.take(c[3], label) * xs + np.take(c[4], label) * ys + np.take(c[5], label)
    return map_x, map_y, label > 0


def _maps(
    src: np.ndarray, dst: np.ndarray, tris: np.ndarray, box: tuple[int, int, int, int], step: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """triangle_maps, on every ``step``-th pixel and interpolated when step > 1 (the map is continuous and
    piecewise linear: the error is a fraction of a pixel where two triangles meet)."""
    if step == 1:
        return triangle_maps(src, dst, tris, box)
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    # coarse node j stands for pixel x0 + (j + 0.5) * step - 0.5, which is what cv2.resize by ``step`` assumes
    offset = 0.5 * step - 0.5
    cw, ch = -(-w // step), -(-h // step)
    scale = np.array([1.0 / step, 1.0 / step])
    shift = np.array([x0 + offset, y0 + offset])
    coarse = triangle_maps(src, (dst - shift) * scale, tris, (0, 0, cw, ch))
    if coarse is None:
        return None
    cx, cy, cov = coarse
    # the coarse maps hold source positions for the coarse nodes' own positions; identity nodes map to themselves
    # in coarse units there, so rebuild them in image pixels
    gx = np.arange(cw, dtype=np.float32)[None, :] * step + np.float32(x0 + offset)
    gy = np.arange(ch, dtype=np.float32)[:, None] * step + np.float32(y0 + offset)
    cx = np.where(cov, cx, gx)
    cy = np.where(cov, cy, gy)
    map_x = cv2.resize(cx, (cw * step, ch * step), interpolation=cv2.INTER_LINEAR)[:h, :w]
    map_y = cv2.resize(cy, (cw * step, ch * step), interpolation=cv2.INTER_LINEAR)[:h, :w]
    covered = cv2.resize(cov.astype(np.uint8), (cw * step, ch * step), interpolation=cv2.INTER_NEAREST)[:h, :w] > 0
    return map_x, map_y, covered


def warp_region(
    image: np.ndarray,
    src: np.ndarray,
    dst: np.ndarray,
    triangles: np.ndarray,
    box: tuple[int, int, int, int],
    source: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int, int]] | None:
    """Warp so that points ``src`` land on ``dst``, inside ``box`` = (x0, y0, x1, y1) of ``image``.

    ``source`` (default: ``image``) is the picture sampled at ``src`` coordinates. Returns the warped pixels of the
    sub-box covered by moving triangles, the mask of those pixels and the sub-box, or None when nothing moves.
    Pixels outside moving triangles keep their exact values.
    """
    tris = moving_triangles(src, dst, triangles)
    if len(tris) == 0:
        return None
    corners = dst[tris].reshape(-1, 2)
    bx0, by0, bx1, by1 = box
    x0 = max(bx0, int(np.floor(corners[:, 0].min())) - 1)
    y0 = max(by0, int(np.floor(corners[:, 1].min())) - 1)
    x1 = min(bx1, int(np.ceil(corners[:, 0].max())) + 2)
    y1 = min(by1, int(np.ceil(corners[:, 1].max())) + 2)
    step = 2 if (x1 - x0) * (y1 - y0) > COARSE_ABOVE_PX else 1
    maps = _maps(src, dst, tris, (x0, y0, x1, y1), step)
    if maps is None:
        return None
    map_x, map_y, covered = maps
    if not covered.any():
        return None
    warped = cv2.remap(
        image if source is None else source, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    return warped, covered, (x0, y0, x1, y1)


def clip_box(points: np.ndarray, width: int, height: int, margin: int = 2) -> tuple[int, int, int, int]:
    x0, y0 = np.floor(points.min(axis=0)).astype(int) - margin
    x1, y1 = np.ceil(points.max(axis=0)).astype(int) + margin
    return max(0, int(x0)), max(0, int(y0)), min(width, int(x1)), min(height, int(y1))


def feather(image: np.ndarray, warped: np.ndarray, moved: np.ndarray, origin: tuple[int, int]) -> None:
    """Blend ``warped`` into ``image`` at ``origin`` with a soft-edged mask around the ``moved`` pixels."""
    x0, y0 = origin
    h, w = moved.shape
    m = moved.astype(np.float32)
    alpha = np.maximum(cv2.GaussianBlur(m, (0, 0), FEATHER_SIGMA_PX), cv2.erode(m, np.ones((3, 3), np.uint8)))
    blend_into(image[y0 : y0 + h, x0 : x0 + w], warped, alpha)


def blend_into(region: np.ndarray, top: np.ndarray, alpha: np.ndarray) -> None:
    """region = region + alpha * (top - region), in place (alpha: float32 0..1, one value per pixel)."""
    alpha = np.ascontiguousarray(alpha, dtype=np.float32)
    if top.dtype != np.uint8:
        top = np.clip(top + 0.5, 0, 255).astype(np.uint8)
    region[:] = cv2.blendLinear(np.ascontiguousarray(top), np.ascontiguousarray(region), alpha, 1.0 - alpha)
