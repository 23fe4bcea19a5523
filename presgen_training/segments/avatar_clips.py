"""Presenter clips per segment: reused from the cache when nothing that shapes them changed, else rendered (all the
missing ones in one engine run, so the engine prepares the source once) and stored.

The cache holds ``<key>.mp4`` (the engine's video, with the segment's audio) and ``<key>.json`` (the engine's result
object: face box, warnings, timings). The layout of the whole video uses one face box and size per source and
engine settings ("facts"), computed once from every segment's clip and then kept, so editing one section never
moves the cards of the others.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from presgen_training import engines
from presgen_training.avatar.chain import (
    Attempt,
    AvatarSettings,
    Clip,
    Resolution,
    StartedEngine,
    make_avatar,
)
from presgen_training.cache_store import Store, content_key
from presgen_training.ffmpeg import probe
from presgen_training.overlay.face import detect_face
from presgen_training.segments.keys import base_parts, code_digest, engine_env_identity, file_identity
from presgen_training.segments.plan import Segment, cut_audio, cut_timings, write_json

CLIP_SUFFIX, META_SUFFIX, FACTS_SUFFIX = ".avatar.mp4", ".avatar.json", ".facts.json"
STATIC_CODE = "presgen_training/avatar/static.py"
WRAPPER_CODE = "musetalk_wrapper"


@dataclass
class AvatarClip:
    segment: int
    engine: str
    key: str
    path: Path
    result: dict[str, Any] | None  # the engine's result object (None for static)
    cached: bool


@dataclass
class AvatarInputs:
    """Everything a segment's presenter clip depends on, per render."""

    source: Path
    source_is_image: bool
    settings: AvatarSettings
    resolution: Resolution
    narration_wav: Path
    timings: dict[str, Any] | None  # the whole narration's --timings document
    work: Path  # per-render folder for segment audio, timings and fresh clips
    full_size: tuple[int, int]  # px: the presenter at full size (the layout's coordinates; clips may be smaller)
    store: Store = field(default_factory=lambda: Store("segments"))


def avatar_key(inputs: AvatarInputs, engine: str, segment: Segment, audio: Path, timings: Path | None) -> str:
    candidate = next((c for c in inputs.resolution.candidates if c.engine == engine), None)
    row = engines.row(engine)
    settings = inputs.settings
    parts = {
        **base_parts("avatar"),
        "engine": engine,
        "source": file_identity(inputs.source),
        "source_is_image": inputs.source_is_image,
        "audio": file_identity(audio),
        "timings": file_identity(timings) if timings is not None else None,
        "start_s": segment.motion_start_s,
        "handoff_s": segment.handoff_s,
        "render_side": segment.render_side,
        "motion": settings.motion,
        "blink": settings.blink,
    }
    if row.env is None:
        parts["code"] = code_digest(STATIC_CODE, "presgen_training/ffmpeg.py")
    else:
        parts["code"] = code_digest(WRAPPER_CODE)
        parts["env"] = engine_env_identity(
            candidate.env if candidate else row.env, candidate.python if candidate else None
        )
        models = settings.models_dir or settings.config.models_dir
        parts["models"] = _folder_fingerprint(Path(models)) if engine.startswith("musetalk") and models else None
    return content_key(parts)


def segment_inputs(inputs: AvatarInputs, segment: Segment) -> tuple[Path, Path | None]:
    """The segment's own audio and timings files (cut from the narration once per render)."""
    audio = inputs.work / f"segment-{segment.index:04d}.wav"
    if not audio.exists():
        cut_audio(inputs.narration_wav, segment, audio)
    if inputs.timings is None:
        return audio, None
    timings = inputs.work / f"segment-{segment.index:04d}.timings.json"
    if not timings.exists():
        write_json(cut_timings(inputs.timings, segment), timings)
    return audio, timings


def find_cached(inputs: AvatarInputs, segments: Sequence[Segment]) -> dict[int, AvatarClip]:
    """Cached clips of the first candidate engine (the one a render would use)."""
    engine = inputs.resolution.first
    found: dict[int, AvatarClip] = {}
    for segment in segments:
        audio, timings = segment_inputs(inputs, segment)
        key = avatar_key(inputs, engine, segment, audio, timings)
        path = inputs.store.get(key, CLIP_SUFFIX)
        if path is not None:
            found[segment.index] = AvatarClip(
                segment.index, engine, key, path, inputs.store.get_json(key, META_SUFFIX), True
            )
    return found


def render_missing(
    inputs: AvatarInputs,
    segments: Sequence[Segment],
    on_event: Callable[[dict[str, Any]], None] | None = None,
    on_attempt: Callable[[Attempt], None] | None = None,
    warm: StartedEngine | None = None,
) -> tuple[dict[int, AvatarClip], list[Attempt]]:
    """Render the given segments' clips in one engine run (the chain decides the engine; ``warm``: a run started
    ahead, used if it fits) and cache them. The segments share one render size."""
    if not segments:
        return {}, []
    sides = {s.render_side for s in segments}
    if len(sides) != 1:
        raise ValueError(f"one engine run renders one size, not {sorted(sides, key=str)}")
    clips = []
    for segment in segments:
        audio, timings = segment_inputs(inputs, segment)
        clips.append(
            Clip(
                segment.index,
                audio,
                inputs.work / f"avatar-{segment.index:04d}.mp4",
                segment.duration_s,
                timings,
                segment.motion_start_s,
                segment.handoff_s,
            )
        )
    # the resolution's skipped engines were already reported: only new attempts are recorded here
    resolution = Resolution(inputs.resolution.candidates, [])
    outcome = make_avatar(
        inputs.source,
        inputs.source_is_image,
        clips,
        inputs.settings,
        resolution,
        on_event=on_event,
        on_attempt=on_attempt,
        max_side=segments[0].render_side,
        warm=warm,
    )
    made: dict[int, AvatarClip] = {}
    results: list[dict[str, Any] | None] = list(outcome.results) or [None] * len(clips)
    for segment, clip, result in zip(segments, clips, results):
        key = avatar_key(inputs, outcome.engine, segment, clip.audio, clip.timings)
        with inputs.store.lock(key):
            path = inputs.store.put(key, CLIP_SUFFIX, clip.output)
            if result is not None:
                inputs.store.put_json(key, META_SUFFIX, result)
        clip.output.unlink(missing_ok=True)
        made[segment.index] = AvatarClip(segment.index, outcome.engine, key, path, result, False)
    return made, outcome.attempts


def facts_key(inputs: AvatarInputs, engine: str) -> str:
    s = inputs.settings
    return content_key(
        {
            **base_parts("facts"),
            "engine": engine,
            "source": file_identity(inputs.source),
            "source_is_image": inputs.source_is_image,
            "motion": s.motion,
            "blink": s.blink,
        }
    )


def layout_facts(inputs: AvatarInputs, clips: dict[int, AvatarClip]) -> dict[str, Any]:
    """Face box and frame size for the layout, in the full-size presenter's pixels: kept per source and engine,
    else measured from ``clips`` (which must then hold every segment) and kept."""
    engine = inputs.resolution.first
    key = facts_key(inputs, engine)
    known = inputs.store.get_json(key, FACTS_SUFFIX)
    if known is not None:
        return known
    full_w, full_h = inputs.full_size
    boxes = [
        _to_full(box, c.path, inputs.full_size)
        for c in clips.values()
        if c.result and isinstance(box := c.result.get("details", {}).get("face_box"), list) and len(box) == 4
    ]
    any_clip = next(iter(clips.values()))
    face_box: list[int] | None
    if boxes:
        face_box = [int(sorted(col)[len(col) // 2]) for col in zip(*boxes)]
        source = "engine"
    else:
        info = probe(any_clip.path)
        assert info.width and info.height
        found = detect_face(any_clip.path, info.width, info.height, info.duration_s or 0.0)
        face_box = _to_full(list(found), any_clip.path, inputs.full_size) if found is not None else None
        source = "detected" if found is not None else "none"
    facts = {
        "face_box": face_box,
        "face_source": source,
        "width": full_w,
        "height": full_h,
        "engine": any_clip.engine,
    }
    if all(c.engine == engine for c in clips.values()):  # a fallback's facts are not the intended engine's
        inputs.store.put_json(key, FACTS_SUFFIX, facts)
    return facts


def _to_full(box: list[int], clip: Path, full_size: tuple[int, int]) -> list[int]:
    """A face box in ``clip``'s pixels -> in the full-size presenter's (the clip may be rendered smaller)."""
    info = probe(clip)
    if not info.width or not info.height or (info.width, info.height) == full_size:
        return [int(v) for v in box]
    sx, sy = full_size[0] / info.width, full_size[1] / info.height
    x, y, w, h = box
    return [round(x * sx), round(y * sy), round(w * sx), round(h * sy)]


def _folder_fingerprint(folder: Path) -> str:
    """Names, sizes and mtimes of a weights folder (hashing gigabytes per render would be too slow)."""
    if not folder.is_dir():
        return f"missing:{folder}"
    listing = sorted(
        (str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()
    )
    return content_key({"files": json.dumps(listing)})
