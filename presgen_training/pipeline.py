"""``render``: script -> narration -> avatar (engine subprocess, with fallback) -> overlay -> video + manifest."""
from __future__ import annotations

import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from presgen_training.avatar.chain import AvatarOutcome, AvatarSettings, make_avatar
from presgen_training.config import cache_dir
from presgen_training.errors import MediaError, PresgenError
from presgen_training.ffmpeg import IMAGE_SUFFIXES, OUTPUT_FPS, probe
from presgen_training.files import atomic_output, sha256_file
from presgen_training.manifest import base_manifest, manifest_path_for, write_json_atomic
from presgen_training.narration import NarrationConfig, synthesize, write_captions, write_timings_json
from presgen_training.overlay import OverlayConfig, compose
from presgen_training.progress import StageReporter
from presgen_training.script import load_lexicon, load_script
from presgen_training.timeline import Narration

QUALITIES = ("fast", "standard", "high")
LAYOUTS = ("side", "overlay")
CAPTION_MODES = ("burn", "sidecar", "off")
OUTPUT_DURATION_TOLERANCE_S = 0.1


@dataclass(frozen=True)
class RenderOptions:
    script: Path
    source: Path
    out: Path
    quality: str = "standard"
    layout: str = "side"
    tts: str = "auto"
    voice: str | None = None
    rate: float | None = None  # None: the script's rate, else 1
    lexicon: Path | None = None  # pronunciation lexicon file
    captions: str = "sidecar"
    pause_s: float = 0.8
    avatar: AvatarSettings = field(default_factory=AvatarSettings)
    work_dir: Path | None = None  # kept after the run when given
    source_is_image: bool | None = None  # None: decided by the file name

    def __post_init__(self) -> None:
        if self.source_is_image is None:
            object.__setattr__(self, "source_is_image", self.source.suffix.lower() in IMAGE_SUFFIXES)


@dataclass
class RenderReport:
    output: Path
    manifest_path: Path
    manifest: dict[str, Any]


def check_options(opts: RenderOptions) -> None:
    """Fail fast, before any slow stage, on inputs that cannot work."""
    if opts.quality not in QUALITIES:
        raise PresgenError(f"unknown quality '{opts.quality}'; choose one of: {', '.join(QUALITIES)}")
    if opts.layout not in LAYOUTS:
        raise PresgenError(f"unknown layout '{opts.layout}'; choose one of: {', '.join(LAYOUTS)}")
    if opts.captions not in CAPTION_MODES:
        raise PresgenError(f"unknown captions mode '{opts.captions}'; choose one of: {', '.join(CAPTION_MODES)}")
    if opts.out.suffix.lower() != ".mp4":
        raise PresgenError(f"--out must end in .mp4: {opts.out}")
    if not opts.script.is_file():
        raise PresgenError(f"script not found: {opts.script}")
    if not opts.source.is_file():
        raise PresgenError(f"presenter {'photo' if opts.source_is_image else 'video'} not found: {opts.source}")
    try:
        info = probe(opts.source)
    except MediaError as exc:
        raise PresgenError(f"cannot read the presenter media: {exc}") from None
    if not info.has_video or not info.width:
        raise PresgenError(f"no picture in the presenter media: {opts.source}")
    if opts.pause_s < 0:
        raise PresgenError("--pause must be >= 0 seconds")


def render(opts: RenderOptions, reporter: StageReporter | None = None) -> RenderReport:
    reporter = reporter or StageReporter(enabled=False)
    check_options(opts)
    manifest = base_manifest()
    manifest["inputs"] = {
        "script": {"path": str(opts.script), "sha256": sha256_file(opts.script)},
        "source": {"path": str(opts.source), "sha256": sha256_file(opts.source),
                   "kind": "image" if opts.source_is_image else "video"},
    }
    manifest["options"] = _options_dict(opts)
    keep = opts.work_dir is not None
    work = opts.work_dir or Path(tempfile.mkdtemp(prefix="presgen-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        with reporter.stage("script"):
            script = load_script(opts.script)
            lexicon = load_lexicon(opts.lexicon) if opts.lexicon else ()
        manifest["script"] = {"title": script.title, "sections": len(script.sections)}

        with reporter.stage("narration", unit="section"):
            narration = synthesize(
                script, NarrationConfig(engine=opts.tts, voice=opts.voice, rate=opts.rate, lexicon=lexicon,
                                        pause_s=opts.pause_s, cache_dir=cache_dir() / "narration"),
                work, progress=lambda done, total: reporter.update(done, total, "narration"))
            timings = work / "timings.json"
            write_timings_json(narration, timings)
            srt, vtt = work / "captions.srt", work / "captions.vtt"
            cues = write_captions(narration, srt, vtt)
        if narration.fallback_reason:
            reporter.note(f"voice: used {narration.engine} ({narration.fallback_reason})")
        manifest["narration"] = _narration_dict(narration)

        with reporter.stage("avatar", unit="frame"):
            avatar = make_avatar(opts.source, opts.source_is_image, narration.wav_path, narration.duration_s,
                                 timings, work, opts.avatar, on_event=reporter.engine_event,
                                 on_attempt=lambda a: reporter.note(
                                     f"avatar: {a.engine} {a.outcome}" + (f" ({a.reason})" if a.reason else "")))
        manifest["avatar"] = _avatar_dict(avatar)

        with reporter.stage("overlay", unit="frame"):
            config = OverlayConfig(layout=opts.layout, quality=opts.quality, captions=opts.captions,
                                   title=script.title)
            composed = compose(avatar.video, narration, opts.out, config,
                               captions=cues if opts.captions == "burn" else None, face_box=avatar.face_box,
                               progress=lambda done, total: reporter.update(done, total, "overlay"))
        manifest["overlay"] = _jsonable(composed)  # includes each bullet's reveal time and place

        with reporter.stage("finish"):
            if opts.captions in ("sidecar", "burn"):
                _copy_atomic(srt, opts.out.with_suffix(".srt"))
                _copy_atomic(vtt, opts.out.with_suffix(".vtt"))
            manifest["output"] = _verify_output(opts.out, narration.duration_s)
        manifest["stages_s"] = dict(reporter.timings_s)
        manifest["realtime_factor"] = round(sum(reporter.timings_s.values()) / narration.duration_s, 3)
        path = manifest_path_for(opts.out)
        write_json_atomic(path, manifest)
        return RenderReport(opts.out, path, manifest)
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


def _verify_output(out: Path, narration_s: float) -> dict[str, Any]:
    info = probe(out)
    if info.duration_s is None or abs(info.duration_s - narration_s) > OUTPUT_DURATION_TOLERANCE_S:
        out.unlink(missing_ok=True)
        raise PresgenError(f"the final video lasts {info.duration_s} s, not the narration's {narration_s:.2f} s; "
                           "removed it (this is a bug: please report it with the manifest)")
    return {"path": str(out), "bytes": out.stat().st_size, "duration_s": info.duration_s,
            "width": info.width, "height": info.height, "fps": info.fps or OUTPUT_FPS,
            "video_codec": info.video_codec, "pix_fmt": info.pix_fmt, "audio_codec": info.audio_codec}


def _copy_atomic(src: Path, dst: Path) -> None:
    with atomic_output(dst) as tmp:
        shutil.copyfile(src, tmp)


def _options_dict(opts: RenderOptions) -> dict[str, Any]:
    d = {k: v for k, v in asdict(opts).items() if k not in ("avatar", "script", "source")}
    a = opts.avatar
    d["avatar"] = {"choice": a.choice, "env": a.env_override, "python": a.python_override,
                   "models_dir": a.models_dir, "motion": a.motion, "blink": a.blink, "timeout_s": a.timeout_s}
    return _jsonable(d)


def _narration_dict(n: Narration) -> dict[str, Any]:
    return {
        "engine": n.engine, "voice": n.voice, "fallback_reason": n.fallback_reason,
        "duration_s": round(n.duration_s, 3), "sample_rate": n.sample_rate, "words": len(n.words),
        "phonemes": len(n.phonemes), "timing_source": n.timing_source,
        "sections": [{"index": s.index, "title": s.section.title, "start_s": round(s.start_s, 3),
                      "end_s": round(s.end_s, 3), "words": len(s.words)} for s in n.sections],
    }


def _avatar_dict(a: AvatarOutcome) -> dict[str, Any]:
    d: dict[str, Any] = {"engine": a.engine, "face_box": a.face_box, "attempts": a.attempts_as_dicts()}
    if a.engine_result:
        d["engine_timings_s"] = a.engine_result.get("timings_s", {})
        d["engine_message"] = a.engine_result.get("message")
    return d


def _jsonable(obj: Any) -> Any:
    if hasattr(obj, "__dataclass_fields__"):
        return _jsonable(asdict(obj))
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, Path):
        return str(obj)
    return obj
