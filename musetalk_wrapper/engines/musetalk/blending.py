"""The blend mask (BiSeNet ``jaw`` mode) and pasting a generated face back into its frame.

Geometry per frame (upstream V1.5 offline blending):
- face box [x1, y1, x2, y2] from the landmarks (with the jaw margin);
- crop box: a square centred on the face box, half side int(max(w, h) // 2 * 1.5), which may leave the frame
  (outside counts as black, as PIL's crop pads);
- the crop of the *original* frame is parsed at 512x512; ``jaw`` mode: skin dilated with a downward cone,
  eroded in the cheek bands, nose removed, mouth and lips added; the mask is resized back to the crop,
  limited to the face box, its upper half (of the crop) cleared, then Gaussian-blurred (kernel ~5 % of
  the crop width). Only pixels where the mask is non-zero can change.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

from musetalk_wrapper.engines.musetalk.landmarks import Box, FaceBox

PARSE_SIZE = 512
CROP_EXPAND = 1.5
CHEEK_WIDTH_PX = 90  # in the 512 canvas, both sides (upstream CLI default)
UPPER_BOUNDARY_RATIO = 0.5
BLUR_FRACTION = 0.05
SKIN, NOSE, MOUTH, UPPER_LIP, LOWER_LIP = 1, 10, 11, 12, 13
JAW_ERODE_ITERATIONS = 2


class CropBox(Box):
    """The square around the face that the blend mask covers (crop_box_for)."""

    @property
    def size(self) -> int:
        return self.width


def crop_box_for(face: FaceBox, expand: float = CROP_EXPAND) -> CropBox:
    xc, yc = (face.x1 + face.x2) // 2, (face.y1 + face.y2) // 2
    s = int(max(face.width, face.height) // 2 * expand)
    return CropBox(xc - s, yc - s, xc + s, yc + s)


def crop_padded(frame: np.ndarray, box: CropBox) -> np.ndarray:
    """``frame[y1:y2, x1:x2]`` with black where the box leaves the frame."""
    h, w = frame.shape[:2]
    out = np.zeros((box.y2 - box.y1, box.x2 - box.x1, frame.shape[2]), dtype=frame.dtype)
    fx1, fy1, fx2, fy2 = max(box.x1, 0), max(box.y1, 0), min(box.x2, w), min(box.y2, h)
    if fx2 > fx1 and fy2 > fy1:
        out[fy1 - box.y1 : fy2 - box.y1, fx1 - box.x1 : fx2 - box.x1] = frame[fy1:fy2, fx1:fx2]
    return out


def jaw_kernel() -> np.ndarray:
    """33x33 cone: rows 0-9 empty, rows 10-20 centred runs of width 1, 3, ..., 21, rows 21-32 width 21."""
    k = np.zeros((33, 33), dtype=np.uint8)
    for row in range(10, 33):
        half = min(row - 10, 10)
        k[row, 16 - half : 16 + half + 1] = 1
    return k


def jaw_mask(labels: np.ndarray, cheek_width: int = CHEEK_WIDTH_PX) -> np.ndarray:
    """uint8 0/255 mask on the 512x512 parsing canvas from a class map (upstream ``jaw`` mode)."""
    skin = np.where(labels == SKIN, 255, 0).astype(np.uint8)
    dilated = cv2.dilate(skin, jaw_kernel(), iterations=1)
    ellipse = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (35, 3))
    eroded = cv2.erode(dilated, ellipse, iterations=JAW_ERODE_ITERATIONS)
    size = labels.shape[1]
    cheeks = np.zeros(labels.shape, dtype=bool)
    cheeks[:, : size // 2 - cheek_width + 1] = True
    cheeks[:, size // 2 + cheek_width :] = True
    region = np.where(cheeks, eroded, dilated) > 0
    keep = (region & (labels != NOSE)) | np.isin(labels, (MOUTH, UPPER_LIP, LOWER_LIP))
    return np.where(keep, 255, 0).astype(np.uint8)


def blend_mask(labels: np.ndarray, face: FaceBox, crop: CropBox) -> np.ndarray:
    """Final uint8 alpha (0..255) over the crop box."""
    size = crop.size
    # upstream: the PIL mask resized back with Pillow's default filter for mode L (bicubic)
    parsed = np.asarray(Image.fromarray(jaw_mask(labels)).resize((size, size), Image.Resampling.BICUBIC))
    mask = np.zeros((size, size), dtype=np.uint8)
    fx1, fy1 = face.x1 - crop.x1, face.y1 - crop.y1
    fx2, fy2 = face.x2 - crop.x1, face.y2 - crop.y1
    mask[fy1:fy2, fx1:fx2] = parsed[fy1:fy2, fx1:fx2]
    mask[: int(size * UPPER_BOUNDARY_RATIO)] = 0
    k = 2 * (int(BLUR_FRACTION * size) // 2) + 1
    result: np.ndarray = cv2.GaussianBlur(mask, (k, k), 0)
    return result


def paste_face(
    frame: np.ndarray, face_rgb: np.ndarray, face: FaceBox, crop: CropBox, mask: np.ndarray, strength: float = 1.0
) -> np.ndarray:
    """The frame with the generated 256x256 face resized into the face box, alpha-blended through ``mask``
    (scaled by ``strength`` < 1 where the mouth fades at a pause edge)."""
    if strength < 1.0:
        mask = np.round(mask.astype(np.float32) * strength).astype(np.uint8)
    out = frame.copy()
    generated = cv2.resize(face_rgb, (face.width, face.height), interpolation=cv2.INTER_LINEAR)
    h, w = frame.shape[:2]
    # Only the part of the crop box inside the frame is blended; the mask is in crop coordinates.
    x1, y1, x2, y2 = max(crop.x1, 0), max(crop.y1, 0), min(crop.x2, w), min(crop.y2, h)
    if x2 <= x1 or y2 <= y1:
        return out
    layer = frame[y1:y2, x1:x2].copy()
    layer[face.y1 - y1 : face.y2 - y1, face.x1 - x1 : face.x2 - x1] = generated
    alpha = mask[y1 - crop.y1 : y2 - crop.y1, x1 - crop.x1 : x2 - crop.x1].astype(np.uint16)[..., None]
    base = frame[y1:y2, x1:x2].astype(np.uint16)
    blended = (layer.astype(np.uint16) * alpha + base * (255 - alpha) + 127) // 255
    out[y1:y2, x1:x2] = blended.astype(np.uint8)
    return out


def full_frame_mask(mask: np.ndarray, crop: CropBox, width: int, height: int) -> np.ndarray:
    """The crop-box mask placed on a frame-sized canvas (for debugging and tests)."""
    canvas = np.zeros((height, width), dtype=np.uint8)
    x1, y1, x2, y2 = max(crop.x1, 0), max(crop.y1, 0), min(crop.x2, width), min(crop.y2, height)
    if x2 > x1 and y2 > y1:
        canvas[y1:y2, x1:x2] = mask[y1 - crop.y1 : y2 - crop.y1, x1 - crop.x1 : x2 - crop.x1]
    return canvas


def dissolve(a: np.ndarray, b: np.ndarray, weight: float) -> np.ndarray:
    """``a`` cross-dissolved into ``b`` (``weight`` of ``b``); exactly ``a`` at 0 and exactly ``b`` at 1."""
    if weight <= 0.0:
        return a
    if weight >= 1.0:
        return b
    mixed = a.astype(np.float32) * (1.0 - weight) + b.astype(np.float32) * weight
    return np.round(mixed).astype(np.uint8)
