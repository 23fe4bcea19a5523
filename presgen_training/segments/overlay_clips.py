"""Finished-video clips per segment: the overlay plan's frames of one segment over its presenter clip, reused from
the cache when none of its pictures, their places and times, the presenter clip or the encoder settings changed."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from presgen_training.cache_store import Store, content_key
from presgen_training.overlay.compose import ProgressFn, compose_window, window_layers
from presgen_training.overlay.config import OverlayConfig
from presgen_training.overlay.plan import OverlayPlan
from presgen_training.segments.keys import base_parts, code_digest, file_identity
from presgen_training.segments.plan import Segment

CLIP_SUFFIX = ".overlay.mp4"
OVERLAY_CODE = "presgen_training/overlay"


@dataclass
class OverlayClip:
    segment: int
    key: str
    path: Path
    cached: bool


def overlay_key(plan: OverlayPlan, segment: Segment, avatar_key: str, config: OverlayConfig) -> str:
    first, end = segment.first_frame, segment.end_frame
    layers = [{"kind": layer.kind, "image": file_identity(layer.image), "rect": list(layer.rect),
               "from": max(layer.first_frame, first) - first, "to": min(layer.end_frame, end) - first}
              for layer in window_layers(plan, first, end)]
    return content_key({**base_parts("overlay"), "code": code_digest(OVERLAY_CODE), "avatar": avatar_key,
                        "frames": segment.frames, "size": [plan.width, plan.height],
                        "presenter": asdict(plan.presenter), "background": list(plan.background),
                        "layers": layers, "preset": config.x264_preset, "crf": config.crf})


def cached_overlay(store: Store, key: str, segment: Segment) -> OverlayClip | None:
    path = store.get(key, CLIP_SUFFIX)
    return OverlayClip(segment.index, key, path, True) if path is not None else None


def render_overlay(store: Store, key: str, plan: OverlayPlan, segment: Segment, avatar_clip: Path,
                   config: OverlayConfig, progress: ProgressFn | None = None) -> OverlayClip:
    with store.lock(key):
        path = store.get(key, CLIP_SUFFIX)  # another render may have made it while we waited
        if path is not None:
            return OverlayClip(segment.index, key, path, True)
        path = store.path(key, CLIP_SUFFIX)  # written to a temp name beside it, then renamed
        compose_window(plan, segment.first_frame, segment.end_frame, avatar_clip, path, config, progress)
    return OverlayClip(segment.index, key, path, False)
