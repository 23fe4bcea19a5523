"""Find the presenter's face in the avatar video, so overlays can keep clear of it.

Uses the LBP frontal-face cascade that ships inside the scikit-image wheel (no download, no engine venv).
A few frames spread over the video are searched and the boxes merged, so a presenter who moves stays covered.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from presgen_training.ffmpeg import read_frames
from presgen_training.overlay.geometry import Rect

log = logging.getLogger(__name__)

DETECT_MAX_SIDE = 512  # pixels: frames are searched at this size (speed), boxes mapped back
RETRY_MAX_SIDE = 1024  # pixels: one more, finer search of the middle frame when the first finds nothing
SAMPLE_POINTS = (0.1, 0.5, 0.9)  # where in the video frames are taken, as fractions of its length
MIN_FACE_PX = 16  # smallest face searched for, in search-frame pixels
CASCADE_SCALE_STEP = 1.1
CASCADE_MIN_NEIGHBOURS = 4  # 3 finds more small faces but also jewellery, hands and flags
RETRY_MIN_NEIGHBOURS = 3
SAME_FACE_IOU = 0.3  # boxes from different frames overlapping this much are the same face


def detect_face(
    video: Path, width: int, height: int, duration_s: float, samples: tuple[float, ...] = SAMPLE_POINTS
) -> Rect | None:
    """Box (x, y, w, h in video pixels) around the presenter's face over the sampled frames; None if not found.

    Each frame may give several candidates (the cascade also fires on jewellery or patterns); the face is the
    candidate seen in most frames, the larger one on a tie, and its boxes from all frames are merged.
    """
    from skimage import data, feature

    cascade = feature.Cascade(data.lbp_frontal_face_cascade_filename())  # type: ignore[no-untyped-call]  # unannotated
    # a still (or a clip under a second) gives one frame; seeking into it can give none
    times = [max(0.0, min(duration_s - 0.1, duration_s * at)) for at in samples] if duration_s >= 1 else [0.0]
    found = [_faces(cascade, video, width, height, t, DETECT_MAX_SIDE, CASCADE_MIN_NEIGHBOURS) for t in times]
    if not any(found):
        found = [_faces(cascade, video, width, height, times[len(times) // 2], RETRY_MAX_SIDE, RETRY_MIN_NEIGHBOURS)]
    clusters: list[list[tuple[int, Rect]]] = []
    for index, boxes in enumerate(found):
        for box in boxes:
            home = next((c for c in clusters if any(_iou(box, other) >= SAME_FACE_IOU for _, other in c)), None)
            if home is None:
                clusters.append([(index, box)])
            else:
                home.append((index, box))
    if not clusters:
        log.info("no face found in %s", video)
        return None
    best = max(clusters, key=lambda c: (len({i for i, _ in c}), max(b.w * b.h for _, b in c)))
    # one frame's boxes of a face are the same face at neighbouring scales: average them; frames may differ
    # because the presenter moves: take them all
    per_frame = [_mean_box([b for i, b in best if i == index]) for index in sorted({i for i, _ in best})]
    x0, y0 = min(b.x for b in per_frame), min(b.y for b in per_frame)
    x1, y1 = max(b.right for b in per_frame), max(b.bottom for b in per_frame)
    return Rect(x0, y0, x1 - x0, y1 - y0)


def _mean_box(boxes: list[Rect]) -> Rect:
    n = len(boxes)
    return Rect(*(round(sum(b[k] for b in boxes) / n) for k in range(4)))


def _faces(
    cascade: Any, video: Path, width: int, height: int, at_s: float, max_side: int, min_neighbours: int
) -> list[Rect]:
    """Candidate face boxes in the frame at ``at_s``, in video pixels."""
    factor = min(1.0, max_side / max(width, height))
    small_w, small_h = max(2, int(width * factor) // 2 * 2), max(2, int(height * factor) // 2 * 2)
    frame = next(read_frames(video, small_w, small_h, start_s=at_s or None, max_frames=1), None)
    if frame is None:
        return []
    rgb = np.frombuffer(frame, np.uint8).reshape(small_h, small_w, 3)
    gray = (rgb[..., 0] * 0.2125 + rgb[..., 1] * 0.7154 + rgb[..., 2] * 0.0721) / 255.0
    side = min(small_w, small_h)
    hits = cascade.detect_multi_scale(
        img=gray,
        scale_factor=CASCADE_SCALE_STEP,
        step_ratio=1,
        min_size=(MIN_FACE_PX, MIN_FACE_PX),
        max_size=(side, side),
        min_neighbor_number=min_neighbours,
    )
    sx, sy = width / small_w, height / small_h
    return [Rect(round(d["c"] * sx), round(d["r"] * sy), round(d["width"] * sx), round(d["height"] * sy)) for d in hits]


def _iou(a: Rect, b: Rect) -> float:
    inter = a.clip(b)
    overlap = inter.w * inter.h
    return overlap / (a.w * a.h + b.w * b.h - overlap) if overlap else 0.0
