"""Landmarks and MuseTalk's box rule: the box rule itself, the MediaPipe 478 -> iBUG 68 table, MediaPipe on a
real frame, and the DWPose ONNX backend's pre- and post-processing on tiny graphs with DWPose's signature."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from engine_asserts import expect_unusable

from musetalk_wrapper import media
from musetalk_wrapper.engines.musetalk.landmarks import (
    MEDIAPIPE_TO_IBUG68,
    MediaPipeLandmarks,
    box_from_landmarks,
)


def test_box_rule_mirrors_chin_about_nose() -> None:
    lm = np.zeros((68, 2))
    lm[:, 0] = np.linspace(100, 200, 68)
    lm[:, 1] = 150.0
    lm[8] = (150, 260)  # chin
    lm[29] = (150, 180)  # lowest nose-bridge point
    box = box_from_landmarks(lm, 640, 480)
    assert box is not None and box.as_list() == [100, 100, 200, 270], box  # y1 = 2*180-260, y2 = 260+10
    shifted = box_from_landmarks(lm, 640, 480, bbox_shift=5)
    assert shifted is not None and shifted.y1 == 110
    clipped = box_from_landmarks(lm - [150, 0], 640, 265)
    assert clipped is not None and clipped.x1 == 0 and clipped.y2 == 265
    assert box_from_landmarks(np.full((68, 2), 50.0), 640, 480) is None


def test_mediapipe_mapping_matches_published_table(manifest: Callable[[str], Any]) -> None:
    table = manifest("dwpose_face_keypoints.json")["mediapipe_478_to_ibug68"]["mapping"]
    assert [list(t) for t in MEDIAPIPE_TO_IBUG68] == [table[str(j)] for j in range(68)]


def test_mediapipe_box_on_real_frame(media_dir: Path) -> None:
    frame = next(iter(media.read_video_frames(media_dir / "sun.mp4")))
    backend = MediaPipeLandmarks()
    lm = backend.landmarks68(frame)
    backend.close()
    assert lm is not None and lm.shape == (68, 2)
    box = box_from_landmarks(lm, frame.shape[1], frame.shape[0])
    assert box is not None
    # sun.mp4 frame 0: the face spans about x 215..340, eyes at y ~215, mouth at y ~272, chin at y ~315.
    assert 190 < box.x1 < 250 and 310 < box.x2 < 370, box
    assert 140 < box.y1 < 215 and 300 < box.y2 < 350, box
    assert box.y1 < lm[62, 1] < box.y2  # the mouth is inside
    assert lm[8, 1] > lm[62, 1] > lm[29, 1] > lm[37, 1]  # chin below mouth below nose below eye
    empty = np.full((256, 256, 3), 128, dtype=np.uint8)
    backend = MediaPipeLandmarks()
    assert backend.landmarks68(empty) is None
    backend.close()


def test_dwpose_onnx_pre_and_post_processing(tiny_models: Path, tmp_path: Path) -> None:
    import dwpose_graph

    from musetalk_wrapper.engines.musetalk.dwpose import DWPoseOnnxLandmarks
    from musetalk_wrapper.engines.musetalk.landmarks import landmark_backend_factory
    from musetalk_wrapper.request import RenderRequest

    model = dwpose_graph.build(tmp_path / "dwpose_spot.onnx")
    backend = DWPoseOnnxLandmarks(model)
    for (w, h), (cx, cy) in (((576, 768), (300, 250)), ((1280, 720), (900, 200)), ((450, 675), (60, 600))):
        yy, xx = np.mgrid[:h, :w]
        blob = 255 * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * 6.0**2))  # one peak, at (cx, cy)
        frame = np.repeat(blob[..., None], 3, axis=2).astype(np.uint8)
        pts, scores = backend.keypoints(frame)
        assert pts.shape == (133, 2) and scores.shape == (133,)
        err = np.abs(pts - [cx, cy]).max()
        assert err <= 3.5, (w, h, pts[0], err)
        assert scores.min() > 1.5  # normalised near-white
        lm = backend.landmarks68(frame)
        assert lm is not None and lm.shape == (68, 2)
    assert backend.landmarks68(np.zeros((400, 300, 3), dtype=np.uint8)) is None  # nothing bright: no face
    wrong = dwpose_graph.build(tmp_path / "dwpose_wrong.onnx", kind="wrong_bins")
    expect_unusable(lambda: DWPoseOnnxLandmarks(wrong), "dwpose_wrong.onnx", "SimCC", "yzd-v/DWPose")
    # the engine builds this backend for --landmarks dwpose-onnx --dwpose-model M
    request = RenderRequest(
        audio=tmp_path / "a.wav",
        output=tmp_path / "o.mp4",
        image=tmp_path / "i.png",
        landmarks="dwpose-onnx",
        dwpose_model=model,
    )
    opened: list[Any] = []
    built = landmark_backend_factory(request, tiny_models, torch.device("cpu"), opened)()
    assert isinstance(built, DWPoseOnnxLandmarks) and opened == [built]
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"<html>not a model</html>")
    expect_unusable(lambda: DWPoseOnnxLandmarks(junk), "junk.onnx", "onnxruntime cannot load it")
