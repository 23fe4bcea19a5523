"""Presenter clips per segment: reused from the cache when nothing that shapes them changed, else rendered (all the
missing pieces in one engine run, so the engine prepares the source once) and stored.

A segment's clip is its pieces (``plan.Piece``: the stretches between the silences of its sentences) joined by
stream copy. Each piece is cached on its own, keyed by its share of the driver audio (the speech before the
section's loudness gain, so another sentence's edit does not change it), its timings and its place on the motion
clock: an edit re-renders the pieces it touches and joins them with the kept ones.

The cache holds ``<key>.mp4`` (the engine's video) and ``<key>.json`` (the engine's result object: face box,
warnings, timings) per piece, and the joined clip under a key of its pieces' keys (a one-piece segment's clip is
its piece). The layout of the whole video uses one face box and size per source and engine settings ("facts"),
computed once from every segment's clip and then kept, so editing one section never moves the cards of the others.
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
from presgen_training.errors import MediaError
from presgen_training.ffmpeg import probe
from presgen_training.overlay.face import detect_face
from presgen_training.segments.concat import join_video
from presgen_training.segments.keys import base_parts, code_digest, engine_env_identity, file_identity
from presgen_training.segments.plan import Piece, Segment, cut_audio, cut_timings, write_json

CLIP_SUFFIX, META_SUFFIX, FACTS_SUFFIX = ".avatar.mp4", ".avatar.json", ".facts.json"
STATIC_CODE = "presgen_training/avatar/static.py"
JOIN_CODE = "presgen_training/segments/concat.py"
WRAPPER_CODE = "musetalk_wrapper"


@dataclass
class AvatarClip:
    segment: int
    engine: str
    key: str
    path: Path
    result: dict[str, Any] | None  # the engine's result object (None for static)
    cached: bool
    pieces: int = 1
    pieces_rendered: int = 0  # of them, rendered by this run (the rest came from the cache)


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
    driver_wav: Path | None = None  # the narration before the sections' loudness gain (None: narration_wav)


def avatar_key(inputs: AvatarInputs, engine: str, segment: Segment | Piece, audio: Path, timings: Path | None) -> str:
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


def segment_audio(inputs: AvatarInputs, segment: Segment) -> Path:
    """The segment's own narration, as a WAV (cut once per render): the sound of a --section preview."""
    audio = inputs.work / f"segment-{segment.index:04d}.wav"
    if not audio.exists():
        cut_audio(inputs.narration_wav, segment, audio)
    return audio


@dataclass(frozen=True)
class _PieceJob:
    piece: Piece
    audio: Path
    timings: Path | None

    def key(self, inputs: AvatarInputs, engine: str) -> str:
        return avatar_key(inputs, engine, self.piece, self.audio, self.timings)


def piece_inputs(inputs: AvatarInputs, piece: Piece) -> _PieceJob:
    """The piece's own driver audio and timings files (cut once per render)."""
    name = f"piece-{piece.index:04d}-{piece.number:03d}"
    audio = inputs.work / f"{name}.wav"
    if not audio.exists():
        cut_audio(inputs.driver_wav or inputs.narration_wav, piece, audio)
    if inputs.timings is None:
        return _PieceJob(piece, audio, None)
    timings = inputs.work / f"{name}.timings.json"
    if not timings.exists():
        write_json(cut_timings(inputs.timings, piece), timings)
    return _PieceJob(piece, audio, timings)


def joined_key(piece_keys: Sequence[str]) -> str:
    if len(piece_keys) == 1:
        return piece_keys[0]
    return content_key({**base_parts("avatar-joined"), "pieces": list(piece_keys), "code": code_digest(JOIN_CODE)})


def find_cached(inputs: AvatarInputs, segments: Sequence[Segment]) -> dict[int, AvatarClip]:
    """Cached clips of the first candidate engine (the one a render would use)."""
    engine = inputs.resolution.first
    found: dict[int, AvatarClip] = {}
    for segment in segments:
        pieces = [piece_inputs(inputs, p) for p in segment.pieces()]
        key = joined_key([p.key(inputs, engine) for p in pieces])
        path = inputs.store.get(key, CLIP_SUFFIX)
        if path is not None:
            found[segment.index] = AvatarClip(
                segment.index, engine, key, path, inputs.store.get_json(key, META_SUFFIX), True, len(pieces)
            )
    return found


def pieces_to_render(inputs: AvatarInputs, segments: Sequence[Segment]) -> list[Piece]:
    """The pieces of ``segments`` the first candidate engine has not cached, in the order an engine run renders
    them."""
    jobs = [piece_inputs(inputs, p) for s in segments for p in s.pieces()]
    return [j.piece for j in _uncached(inputs, inputs.resolution.first, jobs)]


def render_missing(
    inputs: AvatarInputs,
    segments: Sequence[Segment],
    on_event: Callable[[dict[str, Any]], None] | None = None,
    on_attempt: Callable[[Attempt], None] | None = None,
    warm: StartedEngine | None = None,
) -> tuple[dict[int, AvatarClip], list[Attempt]]:
    """Render the given segments' missing pieces in one engine run (the chain decides the engine; ``warm``: a run
    started ahead, used if it fits), cache them and join each segment's pieces. The segments share one render
    size. If the chain fell back, the segments' cached pieces are rendered again by the engine that answered, so a
    clip never mixes engines."""
    if not segments:
        return {}, []
    sides = {s.render_side for s in segments}
    if len(sides) != 1:
        raise ValueError(f"one engine run renders one size, not {sorted(sides, key=str)}")
    pieces = {s.index: [piece_inputs(inputs, p) for p in s.pieces()] for s in segments}
    engine = inputs.resolution.first
    todo = _uncached(inputs, engine, [j for jobs in pieces.values() for j in jobs])
    # the resolution's skipped engines were already reported: only new attempts are recorded here
    attempts: list[Attempt] = []
    rendered: set[Piece] = set()
    if todo:
        engine, made = _render_pieces(inputs, todo, inputs.resolution, on_event, on_attempt, warm)
        attempts += made
        rendered.update(j.piece for j in todo)
        if engine != inputs.resolution.first:
            kept = _uncached(inputs, engine, [j for jobs in pieces.values() for j in jobs])
            if kept:
                alone = Resolution([c for c in inputs.resolution.candidates if c.engine == engine], [])
                engine, made = _render_pieces(inputs, kept, alone, on_event, on_attempt, None)
                attempts += made
                rendered.update(j.piece for j in kept)
    clips = {}
    for segment in segments:
        jobs = pieces[segment.index]
        clips[segment.index] = _joined(inputs, engine, segment, jobs, sum(j.piece in rendered for j in jobs))
    return clips, attempts


def _render_pieces(
    inputs: AvatarInputs,
    jobs: Sequence[_PieceJob],
    resolution: Resolution,
    on_event: Callable[[dict[str, Any]], None] | None,
    on_attempt: Callable[[Attempt], None] | None,
    warm: StartedEngine | None,
) -> tuple[str, list[Attempt]]:
    """One engine run for ``jobs``: (the engine that rendered them, its attempts); each piece stored."""
    clips = [
        Clip(
            number,
            j.audio,
            inputs.work / f"avatar-{j.piece.index:04d}-{j.piece.number:03d}.mp4",
            j.piece.duration_s,
            j.timings,
            j.piece.motion_start_s,
            j.piece.handoff_s,
        )
        for number, j in enumerate(jobs)
    ]
    outcome = make_avatar(
        inputs.source,
        inputs.source_is_image,
        clips,
        inputs.settings,
        Resolution(resolution.candidates, []),
        on_event=on_event,
        on_attempt=on_attempt,
        max_side=jobs[0].piece.render_side,
        warm=warm,
    )
    results: list[dict[str, Any] | None] = list(outcome.results) or [None] * len(clips)
    for job, clip, result in zip(jobs, clips, results):
        key = job.key(inputs, outcome.engine)
        with inputs.store.lock(key):
            inputs.store.put(key, CLIP_SUFFIX, clip.output)
            if result is not None:
                inputs.store.put_json(key, META_SUFFIX, result)
        clip.output.unlink(missing_ok=True)
    return outcome.engine, outcome.attempts


def _uncached(inputs: AvatarInputs, engine: str, jobs: Sequence[_PieceJob]) -> list[_PieceJob]:
    return [j for j in jobs if inputs.store.get(j.key(inputs, engine), CLIP_SUFFIX) is None]


def _joined(
    inputs: AvatarInputs, engine: str, segment: Segment, jobs: Sequence[_PieceJob], rendered: int
) -> AvatarClip:
    """The segment's clip: its pieces (all cached by now) joined, stored under the key of their keys."""
    keys = [j.key(inputs, engine) for j in jobs]
    key = joined_key(keys)
    store = inputs.store
    paths = [store.get(k, CLIP_SUFFIX) for k in keys]
    if any(p is None for p in paths):  # evicted between the render and now: a cache far too small
        raise MediaError(f"presenter pieces of section {segment.index + 1} left the cache while it rendered")
    results = [store.get_json(k, META_SUFFIX) for k in keys]
    result = results[0] if len(keys) == 1 else _joined_result(results)
    if len(keys) > 1:
        with store.lock(key):
            if store.get(key, CLIP_SUFFIX) is None:
                out = inputs.work / f"avatar-{segment.index:04d}.joined.mp4"
                join_video([p for p in paths if p is not None], out, segment.frames)
                store.put(key, CLIP_SUFFIX, out)
                out.unlink(missing_ok=True)
            if result is not None:
                store.put_json(key, META_SUFFIX, result)
    path = store.get(key, CLIP_SUFFIX)
    assert path is not None
    return AvatarClip(segment.index, engine, key, path, result, False, len(keys), rendered)


def _joined_result(results: Sequence[dict[str, Any] | None]) -> dict[str, Any] | None:
    """The first piece's result object, with the median face box of all the pieces and every piece's warnings."""
    known = [r for r in results if r is not None]
    if not known:
        return None
    boxes = [b for r in known if isinstance(b := r.get("details", {}).get("face_box"), list) and len(b) == 4]
    details = dict(known[0].get("details", {}))
    if boxes:
        details["face_box"] = [int(sorted(col)[len(col) // 2]) for col in zip(*boxes)]
    warnings = list(dict.fromkeys(w for r in known for w in r.get("warnings", []) if isinstance(w, str)))
    return {**known[0], "details": details, "warnings": warnings, "pieces": len(results)}


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
