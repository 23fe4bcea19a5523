"""The overlay stage: presenter video + narration timings -> the finished training video, in one ffmpeg run.

Cards are drawn once as PNGs (plan.py); filtergraph.py turns the plan into ffmpeg inputs and one filtergraph. So
every card is decoded once, disabled overlays cost next to nothing, and the per-frame work is the presenter's
scale/crop, the visible blends and x264. Chapters (one per section) go into the MP4's metadata in the same run.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict, Unpack

from PIL import Image

from presgen_training.errors import MediaError
from presgen_training.ffmpeg import (
    OUTPUT_FPS,
    MediaInfo,
    aac_args,
    file_arg,
    finished_mp4_args,
    probe,
    read_frames,
    run_ffmpeg_progress,
)
from presgen_training.files import atomic_output
from presgen_training.overlay.chapters import Chapter, chapter_list, write_ffmetadata, write_webvtt_chapters
from presgen_training.overlay.config import OverlayConfig
from presgen_training.overlay.face import detect_face
from presgen_training.overlay.filtergraph import avatar_input, build_graph
from presgen_training.overlay.geometry import PresenterFit, Rect
from presgen_training.overlay.plan import BulletRegion, Layer, OverlayPlan, SectionWindow, SlidePictures, build_plan
from presgen_training.overlay.thumbnail import write_thumbnail
from presgen_training.timeline import Cue, Narration

log = logging.getLogger(__name__)

DURATION_TOLERANCE_S = 0.1  # the video must last as long as the narration, within this
ProgressFn = Callable[[int, int], None]


@dataclass(frozen=True)
class CardRegion:
    kind: str  # panel | title | bullets | caption
    rect: Rect  # output pixels
    start_s: float
    end_s: float
    section_index: int | None


@dataclass
class ComposeResult:
    output: Path
    width: int
    height: int
    fps: int
    frames: int
    duration_s: float
    layout: str
    quality: str
    captions_burned: int  # caption cues drawn into the video
    presenter_rect: Rect
    presenter: PresenterFit  # how the avatar video was scaled and cropped into presenter_rect
    panel_rect: Rect | None
    face_rect: Rect | None  # the protected face region, output pixels
    face_source: str  # given | detected | assumed | none
    caption_rect: Rect | None
    cards: list[CardRegion]
    bullets: list[BulletRegion]
    audio: str  # where the soundtrack came from and whether it was copied
    seconds: float
    aspect: str = "16:9"
    content_start_s: float = 0.0  # where the narration starts (after an intro card in "after" mode)
    sections: list[SectionWindow] = field(default_factory=list)
    chapters: list[Chapter] = field(default_factory=list)
    sidecars: dict[str, str] = field(default_factory=dict)  # chapters / thumbnail -> path written beside the video
    warnings: list[str] = field(default_factory=list)


def _x264_args(config: OverlayConfig) -> list[str]:
    """The overlay's video encoding: H.264 yuv420p at a constant frame rate."""
    return [
        "-c:v",
        "libx264",
        "-preset",
        config.x264_preset,
        "-crf",
        str(config.crf),
        "-pix_fmt",
        "yuv420p",
        "-fps_mode",
        "cfr",
    ]


class Extras(TypedDict, total=False):
    """What compose passes on to plan_overlay as it is."""

    captions: Sequence[Cue] | None
    face_box: tuple[int, int, int, int] | None
    slides: SlidePictures | None


def compose(
    avatar_video: Path,
    narration: Narration,
    output: Path,
    config: OverlayConfig,
    progress: ProgressFn | None = None,
    **extras: Unpack[Extras],
) -> ComposeResult:
    """Write ``output``: the avatar video framed by section titles, timed bullets, slides and (optionally)
    captions, intro and end cards; with ``config.chapters``, also NAME.chapters.vtt and NAME.thumbnail.png.
    ``extras`` as for plan_overlay."""
    started = time.monotonic()
    info = _probe_avatar(avatar_video)
    with tempfile.TemporaryDirectory(prefix="presgen-overlay-") as tmp:
        plan = plan_overlay(avatar_video, narration, config, Path(tmp), info=info, **extras)
        duration_s = plan.frames / plan.fps
        chapters = chapter_list(plan)
        audio_args, audio_map, audio_note, audio_chain = _audio(info, narration, plan)
        graph = build_graph(plan, [*avatar_input(avatar_video, plan), *audio_args], 1 + len(audio_args) // 2)
        metadata = Path(tmp) / "chapters.txt"
        write_ffmetadata(chapters, config.title, metadata)
        meta_input = 1 + len(audio_args) // 2 + len(graph.picture_inputs)
        args = [
            *graph.inputs,
            "-i",
            file_arg(metadata),
            "-filter_complex",
            graph.filtergraph + (";" + audio_chain if audio_chain else ""),
            "-map",
            "[vout]",
            "-map",
            audio_map,
            *chapter_args(meta_input),
            *_x264_args(config),
            *(["-c:a", "copy"] if audio_note.endswith("copied") else aac_args(narration.sample_rate)),
            *finished_mp4_args(plan.frames, duration_s),
        ]
        on_frames = (lambda done: progress(min(done, plan.frames), plan.frames)) if progress else None
        with atomic_output(output) as partial:
            run_ffmpeg_progress([*args, file_arg(partial)], f"compositing the overlay into {output.name}", on_frames)
            written = probe(partial)
            if written.duration_s is None or abs(written.duration_s - duration_s) > DURATION_TOLERANCE_S:
                raise MediaError(f"overlay output lasts {written.duration_s} s instead of {duration_s:.2f} s")
            sidecars = _sidecars(output, plan, chapters, config, avatar_video, info) if config.chapters else {}
    if progress:
        progress(plan.frames, plan.frames)
    return _result(output, plan, config, audio_note, time.monotonic() - started, chapters, sidecars)


def chapter_args(metadata_input: int) -> list[str]:
    """Output options that take the chapters (and the title) from an ffmetadata input."""
    return ["-map_metadata", str(metadata_input), "-map_chapters", str(metadata_input)]


def _sidecars(
    output: Path, plan: OverlayPlan, chapters: list[Chapter], config: OverlayConfig, avatar: Path, info: MediaInfo
) -> dict[str, str]:
    vtt = output.with_name(output.stem + ".chapters.vtt")
    thumb = output.with_name(output.stem + ".thumbnail.png")
    write_webvtt_chapters(chapters, vtt)
    assert info.width and info.height
    write_thumbnail(
        thumb, config, plan.width, plan.height, _still(avatar, info, info.width, info.height), plan.source_face
    )
    return {"chapters": str(vtt), "thumbnail": str(thumb)}


def plan_overlay(
    avatar_video: Path,
    narration: Narration,
    config: OverlayConfig,
    folder: Path,
    captions: Sequence[Cue] | None = None,
    face_box: tuple[int, int, int, int] | None = None,
    info: MediaInfo | None = None,
    slides: SlidePictures | None = None,
    size: tuple[int, int] | None = None,
) -> OverlayPlan:
    """Find the face, lay the overlay out and draw its pictures into ``folder`` (compose's first half; the
    moviepy benchmark composites the same plan). With ``size`` (the presenter clips' size) the face is not searched
    for: ``face_box`` is the caller's, and ``avatar_video`` (e.g. the source photo) only gives the stills."""
    if narration.duration_s <= 0:
        raise MediaError("the narration is empty (0 s): nothing to compose")
    folder.mkdir(parents=True, exist_ok=True)
    info = info or _probe_avatar(avatar_video)
    assert info.width and info.height
    if size is None:
        size = (info.width, info.height)
        face, face_source = _face(avatar_video, info, face_box)
    else:
        face = Rect(*face_box).clip(Rect(0, 0, *size)) if face_box is not None else None
        face_source = "given" if face is not None else "none"
    return build_plan(
        size,
        narration,
        config,
        captions,
        face,
        face_source,
        folder,
        still=lambda w, h: _still(avatar_video, info, w, h),
        slides=slides,
    )


def window_layers(plan: OverlayPlan, first: int, end: int) -> list[Layer]:
    """The layers shown in plan frames ``first`` <= n < ``end``, in drawing order."""
    return [layer for layer in plan.layers if layer.first_frame < end and layer.end_frame > first]


def compose_window(
    plan: OverlayPlan,
    first: int,
    end: int,
    presenter_input: Sequence[str],
    output: Path,
    config: OverlayConfig,
    progress: ProgressFn | None = None,
) -> None:
    """Write plan frames ``first`` <= n < ``end`` as a video-only MP4 of exactly ``end - first`` frames: one
    segment of the finished video. ``presenter_input``: ffmpeg input arguments whose first frame is the presenter at
    frame ``first`` (a segment's own presenter clip)."""
    frames = end - first
    graph = build_graph(plan, list(presenter_input), 1, window=(first, end))
    args = [
        *graph.inputs,
        "-filter_complex",
        graph.filtergraph,
        "-map",
        "[vout]",
        "-an",
        *_x264_args(config),
        "-frames:v",
        str(frames),
        "-f",
        "mp4",
    ]
    on_frames = (lambda done: progress(min(done, frames), frames)) if progress else None
    with atomic_output(output) as partial:
        run_ffmpeg_progress([*args, file_arg(partial)], f"compositing frames {first}-{end - 1}", on_frames)
        written = probe(partial).duration_s
        if written is None or round(written * plan.fps) != frames:
            raise MediaError(f"the overlay of frames {first}-{end - 1} lasts {written} s instead of {frames} frames")


def write_sidecars(
    output: Path,
    plan: OverlayPlan,
    config: OverlayConfig,
    picture: Path,
    size: tuple[int, int],
    chapters: list[Chapter],
) -> dict[str, str]:
    """NAME.chapters.vtt and NAME.thumbnail.png beside ``output``. ``picture``: the presenter source, whose still
    is scaled to ``size`` (the full-size presenter, in which ``plan.source_face`` is given)."""
    vtt = output.with_name(output.stem + ".chapters.vtt")
    thumb = output.with_name(output.stem + ".thumbnail.png")
    write_webvtt_chapters(chapters, vtt)
    write_thumbnail(
        thumb, config, plan.width, plan.height, _still(picture, _probe_avatar(picture), *size), plan.source_face
    )
    return {"chapters": str(vtt), "thumbnail": str(thumb)}


def _probe_avatar(path: Path) -> MediaInfo:
    if not path.is_file():
        raise MediaError(f"avatar video not found: {path}")
    info = probe(path)
    if not info.has_video or not info.width or not info.height:
        raise MediaError(f"no picture in the avatar video: {path}")
    return info


def _audio(info: MediaInfo, narration: Narration, plan: OverlayPlan) -> tuple[list[str], str, str, str]:
    """Input args, -map spec, a note and an audio filter chain (or ""): the avatar's own soundtrack when it has
    one, else the narration WAV; delayed past an intro card and padded with silence under an end card."""
    if info.has_audio:
        copy = info.audio_codec == "aac" and info.sample_rate == narration.sample_rate  # else re-encoded at its rate
        args, stream, note = [], "0:a:0", "avatar audio " + ("copied" if copy else "encoded")
    elif narration.wav_path.is_file():
        args, stream, note = ["-i", file_arg(narration.wav_path)], "1:a:0", "narration audio encoded"
    else:
        raise MediaError(f"no narration audio: the avatar video has no sound and {narration.wav_path} is missing")
    if plan.frames == plan.content_frames:
        return args, stream, note, ""
    delay_ms = round(plan.content_start * 1000 / plan.fps)
    chain = f"[{stream}]adelay=delays={delay_ms}:all=1,apad[aout]"
    return args, "[aout]", note.replace("copied", "encoded"), chain


def _face(video: Path, info: MediaInfo, given: tuple[int, int, int, int] | None) -> tuple[Rect | None, str]:
    assert info.width and info.height
    if given is not None:
        x, y, w, h = (int(v) for v in given)
        box = Rect(x, y, w, h).clip(Rect(0, 0, info.width, info.height))
        if box.empty:
            raise MediaError(f"face box {tuple(given)} lies outside the {info.width}x{info.height} avatar video")
        return box, "given"
    found = detect_face(video, info.width, info.height, info.duration_s or 0.0)
    return (found, "detected") if found is not None else (None, "none")


def _still(video: Path, info: MediaInfo, width: int, height: int) -> Image.Image:
    """One frame from the middle of the video, scaled to width x height."""
    middle = (info.duration_s or 0.0) / 2
    frame = next(read_frames(video, width, height, start_s=middle if middle >= 0.5 else None, max_frames=1), None)
    if frame is None:
        raise MediaError(f"cannot decode a frame of the avatar video: {video}")
    return Image.frombytes("RGB", (width, height), frame)


def _result(
    output: Path,
    plan: OverlayPlan,
    config: OverlayConfig,
    audio: str,
    seconds: float,
    chapters: list[Chapter],
    sidecars: dict[str, str],
) -> ComposeResult:
    fps = plan.fps
    cards: list[CardRegion] = []
    for layer in plan.layers:
        if layer.is_presenter:
            continue
        last = cards[-1] if cards else None
        if (
            last is not None
            and (last.kind, last.rect, last.section_index) == (layer.kind, layer.rect, layer.section_index)
            and round(last.end_s * fps) == layer.first_frame
        ):  # a card and its fade-out: one card
            cards[-1] = CardRegion(last.kind, last.rect, last.start_s, layer.end_frame / fps, last.section_index)
        else:
            cards.append(
                CardRegion(layer.kind, layer.rect, layer.first_frame / fps, layer.end_frame / fps, layer.section_index)
            )
    return ComposeResult(
        output=output,
        width=plan.width,
        height=plan.height,
        fps=OUTPUT_FPS,
        frames=plan.frames,
        duration_s=plan.frames / fps,
        layout=plan.layout,
        quality=config.quality,
        captions_burned=sum(1 for layer in plan.layers if layer.kind == "caption"),
        presenter_rect=plan.presenter.rect,
        presenter=plan.presenter,
        panel_rect=plan.panel_rect,
        face_rect=plan.face_rect,
        face_source=plan.face_source,
        caption_rect=plan.caption_rect,
        cards=cards,
        bullets=plan.bullets,
        audio=audio,
        seconds=round(seconds, 3),
        aspect=plan.aspect,
        content_start_s=plan.content_start / fps,
        sections=plan.sections,
        chapters=chapters,
        sidecars=sidecars,
        warnings=plan.warnings,
    )
