"""MediaPipe face-mesh landmark indices (478 points with refine_landmarks=True) and the face's own frame.

"Right"/"left" are the subject's; the subject's right eye appears on the image's left. Lip chains run from
the image-left corner to the image-right corner, so index ``i`` of an upper chain sits above index ``i`` of the
matching lower chain.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NUM_LANDMARKS = 478

LIP_OUTER_UPPER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291)
LIP_OUTER_LOWER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291)
LIP_INNER_UPPER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
LIP_INNER_LOWER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
# The four lip chains by name, in the order the mouth rig lists them.
LIP_CHAINS = {
    "inner_upper": LIP_INNER_UPPER,
    "inner_lower": LIP_INNER_LOWER,
    "outer_upper": LIP_OUTER_UPPER,
    "outer_lower": LIP_OUTER_LOWER,
}
LIP_CENTRE_PAIRS = ((82, 87), (13, 14), (312, 317))  # inner-lip points whose distance is "the opening"
MOUTH_CORNERS = (61, 291)

EYE_OUTER_CORNERS = (33, 263)  # their distance is the face scale D
NOSE_TIP = 1
SUBNASALE = 2  # where the nose meets the upper lip: nothing above this line is warped by the mouth
CHIN = 152
MOUTH_POINTS = tuple(sorted({i for chain in LIP_CHAINS.values() for i in chain} | {CHIN}))  # lips and chin

# fmt: off
FACE_OVAL = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
    152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)
# fmt: on


@dataclass(frozen=True)
class EyeIndices:
    corners: tuple[int, ...]  # outer, inner
    upper_lid: tuple[int, ...]  # paired index-by-index with lower_lid
    lower_lid: tuple[int, ...]
    crease: tuple[int, ...]  # skin fold above the upper lid, follows the lid part-way
    fixed: tuple[int, ...]  # brow and cheek points that stay put during a blink
    iris: tuple[int, ...]  # centre, then four points on the iris edge (refine_landmarks=True)


# Each field of EyeIndices for the subject's (right eye, left eye): the mesh is symmetric, so both eyes are built
# by one rule from one table.
_EYE_TABLE = {
    "corners": ((33, 133), (263, 362)),
    "upper_lid": ((246, 161, 160, 159, 158, 157, 173), (466, 388, 387, 386, 385, 384, 398)),
    "lower_lid": ((7, 163, 144, 145, 153, 154, 155), (249, 390, 373, 374, 380, 381, 382)),
    "crease": ((247, 30, 29, 27, 28, 56, 190), (467, 260, 259, 257, 258, 286, 414)),
    "fixed": (
        (113, 225, 224, 223, 222, 221, 189, 25, 110, 24, 23, 22, 26, 112, 243),
        (342, 445, 444, 443, 442, 441, 413, 255, 339, 254, 253, 252, 256, 341, 463),
    ),
    "iris": ((468, 469, 470, 471, 472), (473, 474, 475, 476, 477)),
}
EYES = tuple(EyeIndices(**{field: sides[side] for field, sides in _EYE_TABLE.items()}) for side in (0, 1))
RIGHT_EYE, LEFT_EYE = EYES


@dataclass(frozen=True)
class FaceFrame:
    """Face-local coordinates: origin between the mouth corners, x along the eye line, y down the face,
    unit = D (outer eye-corner distance). Shapes are defined here so they follow head roll and scale."""

    origin: np.ndarray  # (2,) px
    ex: np.ndarray  # (2,) unit vector, image-left eye corner -> image-right eye corner
    ey: np.ndarray  # (2,) unit vector, perpendicular, pointing down the face
    scale: float  # px per face unit

    @staticmethod
    def from_landmarks(points: np.ndarray) -> FaceFrame:
        a, b = points[EYE_OUTER_CORNERS[0]], points[EYE_OUTER_CORNERS[1]]
        v = b - a
        scale = float(np.hypot(v[0], v[1]))
        ex = v / max(scale, 1e-6)
        ey = np.array([-ex[1], ex[0]])
        origin = 0.5 * (points[MOUTH_CORNERS[0]] + points[MOUTH_CORNERS[1]])
        return FaceFrame(origin=origin.astype(np.float64), ex=ex, ey=ey, scale=max(scale, 1e-6))

    def to_local(self, pts: np.ndarray) -> np.ndarray:
        rel = np.asarray(pts, dtype=np.float64) - self.origin
        return np.stack([rel @ self.ex, rel @ self.ey], axis=-1) / self.scale

    def to_image(self, local: np.ndarray) -> np.ndarray:
        loc = np.asarray(local, dtype=np.float64) * self.scale
        result: np.ndarray = self.origin + loc[..., :1] * self.ex + loc[..., 1:2] * self.ey
        return result


def face_scale(points: np.ndarray) -> float:
    a, b = points[EYE_OUTER_CORNERS[0]], points[EYE_OUTER_CORNERS[1]]
    return float(np.hypot(*(b - a)))


def inner_lip_gap(points: np.ndarray) -> float:
    """Opening between the inner lips at the centre, in face units (D)."""
    gaps = [np.hypot(*(points[lo] - points[up])) for up, lo in LIP_CENTRE_PAIRS]
    return float(np.mean(gaps)) / max(face_scale(points), 1e-6)


def face_box(points: np.ndarray) -> tuple[float, float, float, float]:
    """x, y, w, h of all landmarks in px."""
    x0, y0 = points[:NUM_LANDMARKS].min(axis=0)
    x1, y1 = points[:NUM_LANDMARKS].max(axis=0)
    return float(x0), float(y0), float(x1 - x0), float(y1 - y0)
