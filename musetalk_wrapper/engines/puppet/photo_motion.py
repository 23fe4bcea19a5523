"""Head sway of a photo: the head turns and shifts about the neck while shoulders and background stay put.

The displacement is a similarity about a pivot below the chin, weighted by a smooth field that is 1 over the
head and falls to 0 at the edges of a box around it, so only that box is resampled (computed on a coarse grid and
interpolated: the field is smooth).
"""

from __future__ import annotations

import cv2
import numpy as np

from musetalk_wrapper.engines.puppet.landmarks import CHIN, FaceFrame

HEAD_CENTRE_V = -0.6  # the head's centre, face units below the mouth (negative: above)
HEAD_AXES = (1.0, 1.35)  # half width and half height of the head ellipse (face units) where the weight is 1
FALLOFF = 1.45  # the weight reaches 0 at this multiple of the ellipse
PIVOT_BELOW_CHIN = 0.35  # face units
GRID_PX = 4  # the displacement is computed every this many pixels


class HeadSway:
    def __init__(self, points: np.ndarray, width: int, height: int) -> None:
        self.frame = FaceFrame.from_landmarks(points)
        f = self.frame
        self.pivot = points[CHIN] + f.ey * f.scale * PIVOT_BELOW_CHIN
        a, b = HEAD_AXES[0] * FALLOFF, HEAD_AXES[1] * FALLOFF
        corners = f.to_image(
            np.array([[-a, HEAD_CENTRE_V - b], [a, HEAD_CENTRE_V - b], [-a, HEAD_CENTRE_V + b], [a, HEAD_CENTRE_V + b]])
        )
        x0, y0 = np.floor(corners.min(axis=0)).astype(int)
        x1, y1 = np.ceil(corners.max(axis=0)).astype(int)
        self.box = (max(0, int(x0)), max(0, int(y0)), min(width, int(x1)), min(height, int(y1)))
        bx0, by0, bx1, by1 = self.box
        # node i stands for pixel (i + 0.5) * GRID_PX - 0.5: what cv2.resize by GRID_PX samples it as
        gx = bx0 + (np.arange(-(-(bx1 - bx0) // GRID_PX)) + 0.5) * GRID_PX - 0.5
        gy = by0 + (np.arange(-(-(by1 - by0) // GRID_PX)) + 0.5) * GRID_PX - 0.5
        grid = np.stack(np.meshgrid(gx, gy), axis=-1)  # (gh, gw, 2) image px
        self._gx, self._gy = grid[..., 0].astype(np.float32), grid[..., 1].astype(np.float32)
        self._gw = self.weight(grid).astype(np.float32)

    def weight(self, xy: np.ndarray) -> np.ndarray:
        local = self.frame.to_local(xy)
        r = np.hypot(local[..., 0] / HEAD_AXES[0], (local[..., 1] - HEAD_CENTRE_V) / HEAD_AXES[1])
        t = np.clip((r - 1.0) / (FALLOFF - 1.0), 0.0, 1.0)
        w = 1.0 - t * t * (3.0 - 2.0 * t)
        bx0, by0, bx1, by1 = self.box  # exactly still on the box's edges, whatever the frame cut off
        edge = np.minimum.reduce([xy[..., 0] - bx0, bx1 - 1 - xy[..., 0], xy[..., 1] - by0, by1 - 1 - xy[..., 1]])
        result: np.ndarray = w * np.clip(edge / (2.0 * GRID_PX), 0.0, 1.0)
        return result

    def _matrix(self, pose: np.ndarray) -> np.ndarray:
        f = self.frame
        m = cv2.getRotationMatrix2D((float(self.pivot[0]), float(self.pivot[1])), float(pose[0]), 1.0)
        m[:, 2] += (pose[1] * f.ex + pose[2] * f.ey) * f.scale
        result: np.ndarray = m
        return result

    def displacement(self, xy: np.ndarray, pose: np.ndarray) -> np.ndarray:
        m = self._matrix(pose)
        moved = xy @ m[:, :2].T + m[:, 2]
        result: np.ndarray = (moved - xy) * self.weight(xy)[..., None]
        return result

    def move_points(self, points: np.ndarray, pose: np.ndarray) -> np.ndarray:
        result: np.ndarray = points + self.displacement(points, pose)
        return result

    def apply(self, crop: np.ndarray, pose: np.ndarray) -> np.ndarray:
        """``crop`` is the image inside ``box``; returns it with the head moved by ``pose`` (roll deg, x, y)."""
        bx0, by0, bx1, by1 = self.box
        gx, gy, wg = self._gx, self._gy, self._gw
        m = self._matrix(pose).astype(np.float32)
        a, b, c, d = m[0, 0] - 1.0, m[0, 1], m[1, 0], m[1, 1] - 1.0
        # Invert the (small, smooth) forward field x -> x + w(x) (M x - x) by one fixed-point step; the weight is
        # taken at the grid node (exact where it is 1, over the whole head). x and y planes apart: numpy is slow
        # on a last axis of 2.
        fx = gx - (a * gx + b * gy + m[0, 2]) * wg
        fy = gy - (c * gx + d * gy + m[1, 2]) * wg
        sx = gx - (a * fx + b * fy + m[0, 2]) * wg - np.float32(bx0)
        sy = gy - (c * fx + d * fy + m[1, 2]) * wg - np.float32(by0)
        h, w = by1 - by0, bx1 - bx0
        gh, gw = sx.shape
        coarse = cv2.merge([sx, sy])
        maps = cv2.resize(coarse, (gw * GRID_PX, gh * GRID_PX), interpolation=cv2.INTER_LINEAR)[:h, :w]
        # remap rounds float maps to 1/32 px fixed point anyway: converting them first gives the same pixels and
        # skips remap's slower per-block conversion (about 15% less CPU on a close-up's head)
        fixed, fraction = cv2.convertMaps(maps, None, cv2.CV_16SC2)
        result: np.ndarray = cv2.remap(crop, fixed, fraction, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return result
