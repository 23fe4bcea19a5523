"""Finished-video clips per window of the overlay plan: one per section segment, plus the intro and end cards when
the video has them. A clip is reused from the cache when none of its pictures, their places and frames, the
presenter clip under it or the encoder settings changed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from presgen_training.cache_store import Store, content_key
from presgen_training.ffmpeg import file_arg
from presgen_training.overlay.compose import ProgressFn, compose_window, window_layers
from presgen_training.overlay.config import OverlayConfig
from presgen_training.overlay.layers import Layer
from presgen_training.overlay.plan import OverlayPlan
from presgen_training.segments.keys import base_parts, code_digest, file_identity

CLIP_SUFFIX = ".overlay.mp4"
OVERLAY_CODE = "presgen_training/overlay"
LAST_FRAME = ("-sseof", "-0.04")  # input option: only the last frame of a clip (25 fps), held by the graph


@dataclass(frozen=True)
class Window:
    """Plan frames ``first`` <= n < ``end`` and the presenter under them: a section's own presenter clip (its frame
    0 is ``first``), or for the intro and end cards the clip next to them."""

    name: str  # "section 3", "intro", "end card"
    segment: int | None  # the section's index; None for the cards around the sections
    first: int
    end: int
    presenter: Path
    presenter_key: str
    presenter_options: tuple[str, ...] = ()  # ffmpeg input options for the presenter clip (e.g. LAST_FRAME)

    @property
    def frames(self) -> int:
        return self.end - self.first

    def presenter_input(self) -> list[str]:
        return [*self.presenter_options, "-i", file_arg(self.presenter)]


@dataclass
class OverlayClip:
    window: Window
    key: str
    path: Path
    cached: bool


def _layer_parts(layer: Layer, first: int, end: int) -> dict[str, Any]:
    def identity(path: Path | None) -> str | None:
        return file_identity(path) if path is not None else None

    return {
        "kind": layer.kind,
        "image": identity(layer.image),
        "intro": [identity(p) for p in layer.intro],
        "mask": identity(layer.mask),
        "fit": asdict(layer.fit) if layer.fit else None,
        "rect": list(layer.rect),
        "start": layer.first_frame - first,
        "from": max(layer.first_frame, first) - first,
        "to": min(layer.end_frame, end) - first,
    }


def overlay_key(plan: OverlayPlan, window: Window, config: OverlayConfig) -> str:
    layers = [_layer_parts(layer, window.first, window.end) for layer in window_layers(plan, window.first, window.end)]
    return content_key(
        {
            **base_parts("overlay"),
            "code": code_digest(OVERLAY_CODE),
            "avatar": window.presenter_key,
            "presenter_options": list(window.presenter_options),
            "frames": window.frames,
            "before_content": max(0, plan.content_start - window.first),
            "size": [plan.width, plan.height],
            "background": list(plan.background),
            "layers": layers,
            "preset": config.x264_preset,
            "crf": config.crf,
        }
    )


def cached_overlay(store: Store, key: str, window: Window) -> OverlayClip | None:
    path = store.get(key, CLIP_SUFFIX)
    return OverlayClip(window, key, path, True) if path is not None else None


def render_overlay(
    store: Store, key: str, plan: OverlayPlan, window: Window, config: OverlayConfig, progress: ProgressFn | None = None
) -> OverlayClip:
    with store.lock(key):
        path = store.get(key, CLIP_SUFFIX)  # another render may have made it while we waited
        if path is not None:
            return OverlayClip(window, key, path, True)
        path = store.path(key, CLIP_SUFFIX)  # written to a temp name beside it, then renamed
        compose_window(plan, window.first, window.end, window.presenter_input(), path, config, progress)
    return OverlayClip(window, key, path, False)


def frames_of(windows: Sequence[Window]) -> int:
    return sum(w.frames for w in windows)
