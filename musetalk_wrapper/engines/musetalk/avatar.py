"""A prepared source ("avatar") kept in memory by one engine instance: its decoded frames, its landmark
backend and its prepared frames (face box, latents, blend mask), backed by the on-disk avatar cache.

Keyed by the source file (path, size, mtime) and every option that changes preparation, so the second and
later renders of a batch (several sections on one engine instance) reuse all of it.
"""

from __future__ import annotations

import importlib.metadata
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from musetalk_wrapper.engines.musetalk import models as model_files
from musetalk_wrapper.engines.musetalk.avatar_cache import (
    DEFAULT_CACHE_DIR,
    AvatarCache,
    PreparedFrame,
    file_fingerprint,
    file_sha256,
)
from musetalk_wrapper.engines.musetalk.blending import BLUR_FRACTION, CHEEK_WIDTH_PX
from musetalk_wrapper.engines.musetalk.landmarks import EXTRA_MARGIN_PX, LandmarkBackend, dwpose_model_path
from musetalk_wrapper.engines.musetalk.prepare import CROP_SIZE
from musetalk_wrapper.engines.musetalk.source_frames import SourceFrames
from musetalk_wrapper.request import RenderRequest

PARSE_RESIZE = "pillow-bilinear/bicubic"  # how the parsing input and mask are resized (part of the cache key)


def preparation_params(request: RenderRequest, models_dir: Path, dtype: torch.dtype) -> dict[str, Any]:
    """Everything that changes a prepared frame (a change means a new cache entry)."""
    if request.landmarks == "dwpose-onnx":
        path = dwpose_model_path(request, models_dir)
        landmark_id: Any = file_fingerprint(path) if path.is_file() else str(path)
    else:
        landmark_id = importlib.metadata.version("mediapipe")
    files = [
        model_files.weights_path(models_dir, rel)
        for rel in (model_files.VAE_CONFIG, model_files.VAE_WEIGHTS, model_files.BISENET_WEIGHTS)
    ]
    return {
        "landmarks": request.landmarks,
        "landmarks_model": landmark_id,
        "bbox_shift": request.bbox_shift,
        "extra_margin": EXTRA_MARGIN_PX,
        "fps": request.fps,
        "max_side": request.max_side,
        "image": request.image is not None,
        "crop": CROP_SIZE,
        "parsing": "jaw",
        "cheek": CHEEK_WIDTH_PX,
        "blur": BLUR_FRACTION,
        "parse_resize": PARSE_RESIZE,
        "weights": [file_fingerprint(p) for p in files],
        "dtype": str(dtype),
    }


@dataclass
class Avatar:
    frames: SourceFrames
    cache: AvatarCache | None
    prepared: dict[int, PreparedFrame] = field(default_factory=dict)
    backends: list[LandmarkBackend] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # said once per render that uses it

    def close(self) -> None:
        for backend in self.backends:
            backend.close()
        self.backends.clear()
        self.frames.close()


def memo_key(request: RenderRequest, params: dict[str, Any]) -> str:
    st = request.source.stat()
    return json.dumps([str(request.source.resolve()), st.st_size, st.st_mtime_ns, params], sort_keys=True)


def open_avatar(request: RenderRequest, params: dict[str, Any], timings: dict[str, float]) -> Avatar:
    started = time.monotonic()
    frames = SourceFrames(request.source, request.image is not None, request.fps, request.max_side)
    timings["decode_source"] = time.monotonic() - started
    root = (request.cache_dir or DEFAULT_CACHE_DIR).expanduser()
    started = time.monotonic()
    warnings = []
    try:
        cache: AvatarCache | None = AvatarCache(root, request.source, file_sha256(request.source), params)
    except OSError as exc:
        warnings.append(f"avatar cache disabled: cannot write {root} ({exc.strerror or exc})")
        cache = None
    timings["source_hash"] = time.monotonic() - started
    return Avatar(frames, cache, warnings=warnings)
