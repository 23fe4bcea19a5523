"""Piecewise-affine image warp over a fixed triangulation, evaluated only inside a crop box."""
from __future__ import annotations

import cv2
import numpy as np

SUBPIXEL_BITS = 4  # fillConvexPoly's fixed-point precision
MIN_MOVE_PX = 0.02  # vertices moving less than this count as still


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


def warp_region(image: np.ndarray, src: np.ndarray, dst: np.ndarray, triangles: np.ndarray,
                box: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int, int]] | None:
    """Warp ``image`` so that points ``src`` land on ``dst``, inside ``box`` = (x0, y0, x1, y1).

    Returns the warped pixels of the sub-box covered by moving triangles, the mask of those pixels and the
    sub-box, or None when nothing moves. Pixels outside moving triangles keep their exact values.
    """
    moving = np.abs(dst - src).max(axis=1) > MIN_MOVE_PX
    tris = triangles[moving[triangles].any(axis=1)]
    if len(tris) == 0:
        return None
    corners = dst[tris].reshape(-1, 2)
    bx0, by0, bx1, by1 = box
    x0 = max(bx0, int(np.floor(corners[:, 0].min())) - 1)
    y0 = max(by0, int(np.floor(corners[:, 1].min())) - 1)
    x1 = min(bx1, int(np.ceil(corners[:, 0].max())) + 2)
    y1 = min(by1, int(np.ceil(corners[:, 1].max())) + 2)
    h, w = y1 - y0, x1 - x0
    if h <= 0 or w <= 0:
        return None
    dst_c = dst - np.array([x0, y0], dtype=np.float64)
    affines = _affines(src[tris], dst_c[tris])
    label = np.zeros((h, w), dtype=np.int32)
    fixed = np.round(dst_c[tris] * (1 << SUBPIXEL_BITS)).astype(np.int32)
    for k in range(len(tris)):
        cv2.fillConvexPoly(label, fixed[k], k + 1, lineType=cv2.LINE_8, shift=SUBPIXEL_BITS)
    ys, xs = np.nonzero(label)
    if len(ys) == 0:
        return None
    a = affines[label[ys, xs] - 1]
    map_x = np.tile(np.arange(x0, x1, dtype=np.float32), (h, 1))
    map_y = np.tile(np.arange(y0, y1, dtype=np.float32)[:, None], (1, w))
    fx, fy = xs.astype(np.float64), ys.astype(np.float64)
    map_x[ys, xs] = a[:, 0, 0] * fx + a[:, 0, 1] * fy + a[:, 0, 2]
    map_y[ys, xs] = a[:, 1, 0] * fx + a[:, 1, 1] * fy + a[:, 1, 2]
    warped = cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return warped, label > 0, (x0, y0, x1, y1)


def clip_box(points: np.ndarray, width: int, height: int, margin: int = 2) -> tuple[int, int, int, int]:
    x0, y0 = np.floor(points.min(axis=0)).astype(int) - margin
    x1, y1 = np.ceil(points.max(axis=0)).astype(int) + margin
    return max(0, int(x0)), max(0, int(y0)), min(width, int(x1)), min(height, int(y1))
