"""DWPose (RTMPose-l whole-body, SimCC head) as a user-supplied ONNX model, run with onnxruntime.

Upstream MuseTalk runs this network through mmpose on the whole frame (no person box). Here: the frame box
[0, 0, w, h] padded by 1.25, widened to the model's 288:384 aspect, warped to 288x384 (bilinear), RGB
normalised with the ImageNet mean/std in 0..255 units; the SimCC outputs (x: 2 bins per pixel over 576,
y: over 768) are decoded by argmax and mapped back through the same affine. The 68 face points are
whole-body keypoints 23..90. Not identical to mmpose (no flip test), so expect pixel-level differences.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from musetalk_wrapper.contract import EngineError, ErrorCode

INPUT_W, INPUT_H = 288, 384
SIMCC_SPLIT = 2.0
N_KEYPOINTS = 133
FACE_FIRST, FACE_COUNT = 23, 68
BOX_PADDING = 1.25
MEAN_RGB = np.array([123.675, 116.28, 103.53], dtype=np.float32)
STD_RGB = np.array([58.395, 57.12, 57.375], dtype=np.float32)
MIN_FACE_SCORE = 0.3  # mean SimCC confidence of the 68 face points below which there is no face


def whole_image_affine(width: int, height: int) -> tuple[np.ndarray, float, tuple[float, float]]:
    """2x3 matrix mapping frame pixels into the 288x384 model input, its scale and the box centre."""
    cx, cy = width / 2.0, height / 2.0
    box_w, box_h = width * BOX_PADDING, height * BOX_PADDING
    aspect = INPUT_W / INPUT_H
    if box_w > box_h * aspect:
        box_h = box_w / aspect
    else:
        box_w = box_h * aspect
    s = INPUT_W / box_w
    matrix = np.array([[s, 0.0, INPUT_W / 2.0 - s * cx], [0.0, s, INPUT_H / 2.0 - s * cy]], dtype=np.float64)
    return matrix, s, (cx, cy)


def preprocess(frame_rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Model input [1, 3, 384, 288] float32 and the affine used."""
    h, w = frame_rgb.shape[:2]
    matrix, _, _ = whole_image_affine(w, h)
    warped = cv2.warpAffine(
        frame_rgb,
        matrix,
        (INPUT_W, INPUT_H),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(0, 0, 0),
    )
    x = (warped.astype(np.float32) - MEAN_RGB) / STD_RGB
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None]), matrix


def decode_simcc(simcc_x: np.ndarray, simcc_y: np.ndarray, matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(K, 2) keypoints in frame pixels and (K,) confidences from [1, K, 576] / [1, K, 768] SimCC logits."""
    sx, sy = simcc_x[0], simcc_y[0]
    x_in = sx.argmax(axis=1) / SIMCC_SPLIT
    y_in = sy.argmax(axis=1) / SIMCC_SPLIT
    scores = np.minimum(sx.max(axis=1), sy.max(axis=1))
    s = matrix[0, 0]
    pts = np.stack([(x_in - matrix[0, 2]) / s, (y_in - matrix[1, 2]) / s], axis=1)
    return pts, scores


class DWPoseOnnxLandmarks:
    name = "dwpose-onnx"

    def __init__(self, model_path: Path, use_cuda: bool = False) -> None:
        import onnxruntime as ort

        providers = ["CPUExecutionProvider"]
        if use_cuda and "CUDAExecutionProvider" in ort.get_available_providers():
            providers.insert(0, "CUDAExecutionProvider")
        try:
            self._session = ort.InferenceSession(str(model_path), providers=providers)
        except Exception as exc:  # onnxruntime raises its own exception types for unreadable models
            raise _unusable(model_path, f"onnxruntime cannot load it ({str(exc).splitlines()[0][:200]})") from exc
        inputs = self._session.get_inputs()
        outputs = self._session.get_outputs()
        if len(inputs) != 1 or len(outputs) != 2:
            raise _unusable(model_path, "expected one input and two outputs (simcc_x, simcc_y)")
        shape = list(inputs[0].shape)
        if len(shape) != 4 or shape[1:] != [3, INPUT_H, INPUT_W]:
            raise _unusable(model_path, f"input shape {shape}, expected [1, 3, {INPUT_H}, {INPUT_W}]")
        by_bins = {o.shape[-1]: o.name for o in outputs}
        x_bins, y_bins = int(INPUT_W * SIMCC_SPLIT), int(INPUT_H * SIMCC_SPLIT)
        if set(by_bins) != {x_bins, y_bins}:
            raise _unusable(
                model_path,
                f"outputs {[o.shape for o in outputs]}, expected SimCC"
                f" [1, {N_KEYPOINTS}, {x_bins}] and [1, {N_KEYPOINTS}, {y_bins}]",
            )
        self._input = inputs[0].name
        self._out_x, self._out_y = by_bins[x_bins], by_bins[y_bins]

    def keypoints(self, frame_rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """All 133 whole-body keypoints (frame pixels) and their confidences."""
        x, matrix = preprocess(frame_rgb)
        simcc_x, simcc_y = self._session.run([self._out_x, self._out_y], {self._input: x})
        return decode_simcc(np.asarray(simcc_x), np.asarray(simcc_y), matrix)

    def landmarks68(self, frame_rgb: np.ndarray) -> np.ndarray | None:
        pts, scores = self.keypoints(frame_rgb)
        face = slice(FACE_FIRST, FACE_FIRST + FACE_COUNT)
        if pts.shape[0] < FACE_FIRST + FACE_COUNT or float(scores[face].mean()) < MIN_FACE_SCORE:
            return None
        return pts[face]

    def close(self) -> None:
        pass


def _unusable(path: Path, problem: str) -> EngineError:
    return EngineError(
        ErrorCode.ENGINE_UNAVAILABLE,
        f"unusable DWPose model {path}: {problem}; fetch dw-ll_ucoco_384.onnx with: huggingface-cli download"
        f" yzd-v/DWPose dw-ll_ucoco_384.onnx --local-dir models/dwpose",
        {"file": str(path)},
    )
