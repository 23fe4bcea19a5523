"""68 face landmarks (iBUG-300W order) per frame, and MuseTalk's crop-box rule on them.

Backends: MediaPipe FaceMesh (default, models inside the wheel) mapped 478 -> 68, or DWPose as an ONNX
model (``dwpose.py``). No OpenMMLab.

Box rule (upstream ``get_landmark_and_bbox`` for DWPose): x1/x2 = min/max x and y2 = max y over the 68 points;
y1 = 2 * (y[29] + bbox_shift) - y2, i.e. the box's upper edge mirrors the chin about the lowest nose-bridge
point, shifted by ``bbox_shift``; V1.5 then adds a 10 px jaw margin to y2.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from musetalk_wrapper.contract import EngineError, ErrorCode
from musetalk_wrapper.face_mesh_solution import new_face_mesh
from musetalk_wrapper.request import RenderRequest

EXTRA_MARGIN_PX = 10  # V1.5's y2 += extra_margin
NOSE_ANCHOR = 29  # iBUG index of the lowest nose-bridge point
MIN_BOX_PX = 8
DWPOSE_DEFAULT = "dwpose/dw-ll_ucoco_384.onnx"  # in the models folder, unless --dwpose-model names another

# MediaPipe FaceMesh index(es) averaged into iBUG point j (PeizhiYan/Mediapipe_2_Dlib_Landmarks, as listed in
# the MuseTalk facts): approximate, since MediaPipe has no true jaw contour.
MEDIAPIPE_TO_IBUG68: tuple[tuple[int, ...], ...] = (
    (127,),
    (234,),
    (93,),
    (132, 58),
    (58, 172),
    (136,),
    (150,),
    (176,),
    (152,),
    (400,),
    (379,),
    (365,),
    (397, 288),
    (361,),
    (323,),
    (454,),
    (356,),
    (70,),
    (63,),
    (105,),
    (66,),
    (107,),
    (336,),
    (296,),
    (334,),
    (293,),
    (300,),
    (168, 6),
    (197, 195),
    (5,),
    (4,),
    (75,),
    (97,),
    (2,),
    (326,),
    (305,),
    (33,),
    (160,),
    (158,),
    (133,),
    (153,),
    (144,),
    (362,),
    (385,),
    (387,),
    (263,),
    (373,),
    (380,),
    (61,),
    (39,),
    (37,),
    (0,),
    (267,),
    (269,),
    (291,),
    (321,),
    (314,),
    (17,),
    (84,),
    (91,),
    (78,),
    (82,),
    (13,),
    (312,),
    (308,),
    (317,),
    (14,),
    (87,),
)


@dataclass(frozen=True)
class Box:
    """Pixel corners: (x1, y1) top left, (x2, y2) bottom right."""

    x1: int
    y1: int
    x2: int
    y2: int

    @property
    def width(self) -> int:
        return self.x2 - self.x1

    @property
    def height(self) -> int:
        return self.y2 - self.y1

    def as_list(self) -> list[int]:
        return [self.x1, self.y1, self.x2, self.y2]


class FaceBox(Box):
    """The face as the landmarks bound it (what MuseTalk generates)."""


class LandmarkBackend(Protocol):
    name: str

    def landmarks68(self, frame_rgb: np.ndarray) -> np.ndarray | None:
        """(68, 2) float pixel coordinates of the most prominent face, or None when there is no face."""

    def close(self) -> None: ...


def box_from_landmarks(
    lm68: np.ndarray, frame_w: int, frame_h: int, bbox_shift: int = 0, extra_margin: int = EXTRA_MARGIN_PX
) -> FaceBox | None:
    """The face crop box of one frame, clipped to the frame, or None if it is degenerate."""
    pts = lm68.astype(np.int32)  # upstream truncates the keypoints to int before the rule
    x1, x2 = int(pts[:, 0].min()), int(pts[:, 0].max())
    y2 = int(pts[:, 1].max())
    anchor = int(pts[NOSE_ANCHOR, 1]) + bbox_shift
    y1 = max(0, 2 * anchor - y2)
    x1, x2 = max(0, x1), min(frame_w, x2)
    y2 = min(frame_h, y2 + extra_margin)
    if x2 - x1 < MIN_BOX_PX or y2 - y1 < MIN_BOX_PX:
        return None
    return FaceBox(x1, y1, x2, y2)


def mediapipe_to_ibug68(points: np.ndarray) -> np.ndarray:
    """(>=468, 2) FaceMesh points -> (68, 2) iBUG points (averaging where the mapping lists two)."""
    return np.stack([points[list(idx)].mean(axis=0) for idx in MEDIAPIPE_TO_IBUG68])


class MediaPipeLandmarks:
    """FaceMesh in still-image mode: every frame is detected on its own, so cached frames never depend on
    which frames were prepared before them."""

    name = "mediapipe"

    def __init__(self, min_confidence: float = 0.5) -> None:
        self._mesh = new_face_mesh(
            static_image_mode=True, max_num_faces=1, refine_landmarks=True, min_detection_confidence=min_confidence
        )

    def landmarks68(self, frame_rgb: np.ndarray) -> np.ndarray | None:
        h, w = frame_rgb.shape[:2]
        result = self._mesh.process(np.ascontiguousarray(frame_rgb))
        if not result.multi_face_landmarks:
            return None
        lms = result.multi_face_landmarks[0].landmark
        pts = np.array([(p.x * w, p.y * h) for p in lms], dtype=np.float64)
        return mediapipe_to_ibug68(pts)

    def close(self) -> None:
        self._mesh.close()


def dwpose_model_path(request: RenderRequest, models_dir: Path) -> Path:
    return request.dwpose_model or models_dir / DWPOSE_DEFAULT


def landmark_backend_factory(
    request: RenderRequest, models_dir: Path, device: Any, opened: list[LandmarkBackend]
) -> Callable[[], LandmarkBackend]:
    """A builder of the requested backend (built on first use: a full cache hit never needs one); each one
    built is appended to ``opened`` for the caller to close."""

    def build() -> LandmarkBackend:
        if request.landmarks == "dwpose-onnx":
            from musetalk_wrapper.engines.musetalk.dwpose import DWPoseOnnxLandmarks

            backend: LandmarkBackend = DWPoseOnnxLandmarks(
                dwpose_model_path(request, models_dir), use_cuda=device.type == "cuda"
            )
        elif request.landmarks == "mediapipe":
            backend = MediaPipeLandmarks()
        else:
            raise EngineError(ErrorCode.BAD_INPUT, f"unknown landmark backend '{request.landmarks}'")
        opened.append(backend)
        return backend

    return build
