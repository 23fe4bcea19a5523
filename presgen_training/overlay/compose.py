"""The overlay stage: presenter video + narration timings -> the finished training video, in one ffmpeg run.

Cards are drawn once as PNGs (plan.py); each is a one-frame ffmpeg input that the ``overlay`` filter repeats,
switched on with ``enable='between(t,a,b)'``. So every card is decoded once, disabled overlays cost next to
nothing, and the only per-frame work is one scale/crop of the presenter, the visible blends and x264.
"""
from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image

from presgen_training.errors import MediaError
from presgen_training.ffmpeg import (
    AUDIO_BITRATE,
    OUTPUT_FPS,
    MediaInfo,
    file_arg,
    probe,
    read_frames,
    run_ffmpeg_progress,
)
from presgen_training.files import atomic_output
from presgen_training.overlay.config import OverlayConfig
from presgen_training.overlay.face import detect_face
from presgen_training.overlay.geometry import PresenterFit, Rect
from presgen_training.overlay.plan import BulletRegion, OverlayPlan, build_plan
from presgen_training.timeline import Narration

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
    warnings: list[str] = field(default_factory=list)


def compose(avatar_video: Path, narration: Narration, output: Path, config: OverlayConfig,
            captions: Sequence[Any] | None = None, face_box: tuple[int, int, int, int] | None = None,
            progress: ProgressFn | None = None) -> ComposeResult:
    """Write ``output``: the avatar video framed by section titles, timed bullets and (optionally) captions."""
    started = time.monotonic()
    info = _probe_avatar(avatar_video)
    audio_args, audio_map, audio_note = _audio(info, narration)
    with tempfile.TemporaryDirectory(prefix="presgen-overlay-") as tmp:
        plan = plan_overlay(avatar_video, narration, config, Path(tmp), captions, face_box, info)
        args = [*_inputs(avatar_video, audio_args, plan), "-filter_complex", _filtergraph(plan, info),
                "-map", "[vout]", "-map", audio_map,
                "-c:v", "libx264", "-preset", config.x264_preset, "-crf", str(config.crf),
                "-pix_fmt", "yuv420p", "-fps_mode", "cfr",
                *(["-c:a", "copy"] if audio_note.endswith("copied") else
                  ["-c:a", "aac", "-b:a", AUDIO_BITRATE, "-ar", str(narration.sample_rate)]),
                "-frames:v", str(plan.frames), "-t", f"{narration.duration_s:.3f}",
                "-movflags", "+faststart", "-f", "mp4"]
        on_frames = (lambda done: progress(min(done, plan.frames), plan.frames)) if progress else None
        with atomic_output(output) as partial:
            run_ffmpeg_progress([*args, file_arg(partial)], f"compositing the overlay into {output.name}", on_frames)
            written = probe(partial)
            if written.duration_s is None or abs(written.duration_s - narration.duration_s) > DURATION_TOLERANCE_S:
                raise MediaError(f"overlay output lasts {written.duration_s} s instead of the narration's "
                                 f"{narration.duration_s:.2f} s")
    if progress:
        progress(plan.frames, plan.frames)
    return _result(output, plan, config, audio_note, time.monotonic() - started)


def plan_overlay(avatar_video: Path, narration: Narration, config: OverlayConfig, folder: Path,
                 captions: Sequence[Any] | None = None, face_box: tuple[int, int, int, int] | None = None,
                 info: MediaInfo | None = None) -> OverlayPlan:
    """Find the face, lay the overlay out and draw its pictures into ``folder`` (compose's first half; the
    moviepy benchmark composites the same plan)."""
    if narration.duration_s <= 0:
        raise MediaError("the narration is empty (0 s): nothing to compose")
    info = info or _probe_avatar(avatar_video)
    assert info.width and info.height
    face, face_source = _face(avatar_video, info, face_box)
    return build_plan((info.width, info.height), narration, config, captions, face, face_source, folder,
                      still=lambda w, h: _still(avatar_video, info, w, h))


def _probe_avatar(path: Path) -> MediaInfo:
    if not path.is_file():
        raise MediaError(f"avatar video not found: {path}")
    info = probe(path)
    if not info.has_video or not info.width or not info.height:
        raise MediaError(f"no picture in the avatar video: {path}")
    return info


def _audio(info: MediaInfo, narration: Narration) -> tuple[list[str], str, str]:
    """Input args, -map spec and a note: the avatar's own soundtrack when it has one, else the narration WAV."""
    if info.has_audio:
        copy = info.audio_codec == "aac" and info.sample_rate == narration.sample_rate  # else re-encoded at its rate
        return [], "0:a:0", "avatar audio " + ("copied" if copy else "encoded")
    if narration.wav_path.is_file():
        return ["-i", file_arg(narration.wav_path)], "1:a:0", "narration audio encoded"
    raise MediaError(f"no narration audio: the avatar video has no sound and {narration.wav_path} is missing")


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


def _inputs(avatar: Path, audio_args: list[str], plan: OverlayPlan) -> list[str]:
    args = ["-i", file_arg(avatar), *audio_args]
    for layer in plan.layers:
        args += ["-i", file_arg(layer.image)]
    return args


def _filtergraph(plan: OverlayPlan, info: MediaInfo) -> str:
    fit = plan.presenter
    fps = plan.fps
    base = (f"[0:v]fps={fps},scale={fit.scaled_w}:{fit.scaled_h}:flags=bicubic:out_range=tv,"
            f"crop={fit.rect.w}:{fit.rect.h}:{fit.crop_x}:{fit.crop_y},setsar=1")
    if fit.rect != Rect(0, 0, plan.width, plan.height):
        r, g, b = plan.background
        base += f",pad={plan.width}:{plan.height}:{fit.rect.x}:{fit.rect.y}:color=0x{r:02x}{g:02x}{b:02x}"
    # an avatar a few frames short of the narration holds its last frame instead of ending the video early
    base += f",tpad=stop_mode=clone:stop_duration={plan.frames / fps + 1:.2f}"
    chains = [f"{base}[v0]"]
    first_card = 1 if info.has_audio else 2  # input index of the first card picture
    for i, layer in enumerate(plan.layers):
        # frame n is shown at t = n/fps: half-frame bounds make the window exact and the neighbours' disjoint
        a = (layer.first_frame - 0.5) / fps
        b = (layer.end_frame - 0.5) / fps
        chains.append(f"[v{i}][{first_card + i}:v]overlay=x={layer.rect.x}:y={layer.rect.y}"
                      f":enable='between(t,{a:.3f},{b:.3f})'[v{i + 1}]")
    chains.append(f"[v{len(plan.layers)}]format=yuv420p[vout]")
    return ";".join(chains)


def _result(output: Path, plan: OverlayPlan, config: OverlayConfig, audio: str, seconds: float) -> ComposeResult:
    fps = plan.fps
    cards = [CardRegion(layer.kind, layer.rect, layer.first_frame / fps, layer.end_frame / fps, layer.section_index)
             for layer in plan.layers]
    return ComposeResult(
        output=output, width=plan.width, height=plan.height, fps=OUTPUT_FPS, frames=plan.frames,
        duration_s=plan.frames / fps, layout=plan.layout, quality=config.quality,
        captions_burned=sum(1 for layer in plan.layers if layer.kind == "caption"),
        presenter_rect=plan.presenter.rect, presenter=plan.presenter, panel_rect=plan.panel_rect,
        face_rect=plan.face_rect, face_source=plan.face_source, caption_rect=plan.caption_rect, cards=cards,
        bullets=plan.bullets,
        audio=audio, seconds=round(seconds, 3), warnings=plan.warnings)
