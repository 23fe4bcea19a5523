"""``render``: script -> narration -> per-section segments (presenter clip + overlay clip, each reused from the cache
when nothing that shapes it changed) -> one MP4 + manifest + captions.

Nothing is written at the output path until the whole video is verified: every file goes to a temp name beside it
and is renamed into place, so a failed or interrupted render leaves the previous output exactly as it was.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from presgen_training import cache_store
from presgen_training.avatar.chain import (
    Attempt,
    AvatarError,
    AvatarSettings,
    Resolution,
    StartedEngine,
    resolve,
    start_engine,
)
from presgen_training.avatar.render_size import engine_size, render_side
from presgen_training.config import cache_dir
from presgen_training.errors import PresgenError
from presgen_training.executors import Executor, Serial, split_evenly
from presgen_training.ffmpeg import DURATION_TOLERANCE_S, OUTPUT_FPS, probe
from presgen_training.files import OutputBusy, atomic_output, output_lock, sha256_file
from presgen_training.inputs import check_inputs
from presgen_training.manifest import base_manifest, manifest_path_for, write_json_atomic
from presgen_training.narration import NarrationConfig, synthesize, write_captions
from presgen_training.narration.captions import get_writer
from presgen_training.narration.timings_file import timings_document
from presgen_training.overlay import Bookends, OverlayConfig, load_theme
from presgen_training.overlay.chapters import Chapter, chapter_list, write_ffmetadata
from presgen_training.overlay.compose import plan_overlay, write_sidecars
from presgen_training.overlay.config import Theme
from presgen_training.overlay.plan import OverlayPlan, SlidePictures, presenter_scales
from presgen_training.progress import StageReporter
from presgen_training.records import by_name
from presgen_training.script import load_lexicon, load_script
from presgen_training.segments import avatar_clips, overlay_clips
from presgen_training.segments.avatar_clips import AvatarClip, AvatarInputs
from presgen_training.segments.concat import write_final, write_final_audio
from presgen_training.segments.jobs import (
    OverlayJob,
    PresenterJob,
    PresenterResult,
    run_overlay_job,
    run_presenter_job,
)
from presgen_training.segments.plan import Piece, Segment, plan_segments
from presgen_training.timeline import Cue, Narration, Script

CLIPS_PER_RUN = 12  # presenter clips per engine run (the engine prepares the source once per run)


@dataclass(frozen=True)
class LookOptions:
    """Slides, theme, aspect and the cards around the sections."""

    deck: Path | None = None  # one section per slide, narrated from the speaker notes
    narrate_slide_text: bool = False  # slides without notes: read their own text instead of skipping them
    slides: str | None = None  # which slides of --deck, e.g. "1-5,8"
    aspect: str = "16:9"
    theme: str | None = None  # a built-in theme name or a theme .yaml
    pip_size: float = 0.26
    pip_corner: str = "auto"
    intro: str = "off"
    subtitle: str = ""
    end_card: bool = False
    chapters: bool = True


@dataclass(frozen=True)
class RenderOptions:
    script: Path | None  # None: the sections come from look.deck
    source: Path
    out: Path
    quality: str = "standard"
    layout: str = "side"
    tts: str = "auto"
    voice: str | None = None
    rate: float | None = None  # speaking rate; None: the script's, else 1
    lexicon: Path | None = None  # pronunciation lexicon file (--lexicon)
    captions: str = "sidecar"
    pause_s: float = 0.8
    avatar: AvatarSettings = field(default_factory=AvatarSettings)
    work_dir: Path | None = None  # kept after the run when given
    source_is_image: bool | None = None  # None: decided by the file name
    section: int | None = None  # render only this section (1-based), as a preview
    look: LookOptions = field(default_factory=LookOptions)


@dataclass
class RenderReport:
    output: Path
    manifest_path: Path
    manifest: dict[str, Any]


@dataclass
class Prepared:
    """A render after its fast checks and its narration: what the segment work needs."""

    opts: RenderOptions
    manifest: dict[str, Any]
    script: Script
    narration: Narration
    cues: list[Cue]
    captions: tuple[Path, Path]  # .srt, .vtt in the work folder
    segments: list[Segment]
    inputs: AvatarInputs
    attempts: list[dict[str, Any]]  # engine attempts so far (skips while resolving the chain)
    theme: Theme
    slides: SlidePictures | None  # the deck's slide pictures, when the sections come with slides
    warm: StartedEngine | None = None  # the engine, started while the narration was made


def render(
    opts: RenderOptions, reporter: StageReporter | None = None, executor: Executor | None = None
) -> RenderReport:
    """The whole render. ``executor`` runs presenter batches and overlay clips (default: one after another)."""
    reporter = reporter or StageReporter(enabled=False)
    executor = executor or Serial()
    out = Path(os.path.abspath(opts.out))
    new_folders = [f for f in (out.parent, *out.parent.parents) if not f.exists()]
    try:
        with output_lock(out):
            return _render(opts, reporter, executor)
    except OutputBusy:
        raise PresgenError(
            f"another presgen is writing {opts.out} right now; wait for it or choose another --out"
        ) from None
    except BaseException:
        for folder in new_folders:  # a failed render leaves no empty output folders it made
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


def _render(opts: RenderOptions, reporter: StageReporter, executor: Executor) -> RenderReport:
    # absolute: the engine runs in another folder and reads its segment list from here
    work = Path(os.path.abspath(opts.work_dir)) if opts.work_dir else Path(tempfile.mkdtemp(prefix="presgen-"))
    prep: Prepared | None = None
    try:
        prep = prepare(opts, work, reporter, start_engine_early=True)
        with reporter.stage("avatar", unit="frame"):
            clips, facts = produce_avatars(prep, executor, reporter)
        if prep.warm is not None:
            prep.warm.cancel()  # every clip was cached (or of another size): it is not needed
        # the finished video's sound is encoded while the overlay clips render: the join then only copies it
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="presgen-sound") as background:
            with reporter.stage("overlay", unit="frame"):
                plan = overlay_plan(prep, facts, reporter)
                audio, delay = _final_sound(prep, plan)
                frames = sum(w.frames for w in windows(prep, plan, clips))
                sound = background.submit(write_final_audio, audio, work / "final-sound.m4a", frames, delay)
                finals = produce_overlays(prep, plan, clips, executor, reporter)
            with reporter.stage("finish", unit="frame"):
                return finish(prep, plan, clips, finals, reporter, audio_track=sound.result())
    finally:
        if prep is not None and prep.warm is not None:
            prep.warm.cancel()
        if opts.work_dir is None:
            shutil.rmtree(work, ignore_errors=True)


def prepare(
    opts: RenderOptions,
    work: Path,
    reporter: StageReporter,
    resolution: Resolution | None = None,
    start_engine_early: bool = False,
) -> Prepared:
    """Checks that need no slow work, the engine chain (``resolution``: already walked for these avatar settings,
    as a course does once for all its modules), the script (or deck) and the narration (cached per section).
    ``start_engine_early``: the chain's first engine starts loading while the narration is made."""
    look = opts.look
    named = [
        p
        for p in (look.deck, Path(look.theme) if look.theme and look.theme.endswith((".yaml", ".yml")) else None)
        if p is not None
    ]
    checked = check_inputs(
        opts.script, opts.source, opts.out, opts.source_is_image, extra_inputs=named, extra_outputs=_sidecars(opts)
    )
    opts = replace(
        opts,
        script=checked.script,
        source=checked.source,
        out=checked.out,
        source_is_image=checked.source_is_image,
        look=replace(look, deck=_absolute(look.deck)),
    )
    theme = load_theme(opts.look.theme)
    _overlay_config(opts, "", theme)  # unknown layouts, aspects, corners fail here, before any slow work
    manifest = base_manifest()
    manifest["inputs"] = {
        "script": {"path": str(opts.script), "sha256": sha256_file(opts.script)} if opts.script else None,
        "source": {
            "path": str(opts.source),
            "sha256": sha256_file(opts.source),
            "kind": "image" if opts.source_is_image else "video",
        },
    }
    manifest["options"] = _options_dict(opts)
    attempts: list[dict[str, Any]] = []

    def on_attempt(attempt: Attempt) -> None:
        attempts.append(asdict(attempt))
        _say_attempt(reporter, attempt)

    if resolution is None:
        resolution = resolve(opts.avatar, on_attempt)
    else:
        attempts += [asdict(a) for a in resolution.attempts]
    work.mkdir(parents=True, exist_ok=True)
    with reporter.stage("script"):
        script, slides, deck_facts = _load_sections(opts, reporter)
        if opts.section is not None and not 1 <= opts.section <= len(script.sections):
            raise PresgenError(f"--section {opts.section}: the script has {len(script.sections)} section(s)")
    manifest["script"] = {"title": script.title, "sections": len(script.sections)}
    if deck_facts:
        manifest["deck"] = deck_facts
    full = engine_size(*checked.source_size)
    sides = _render_sides(full, opts, script, theme, slides, work)
    warm = None
    if start_engine_early:
        wanted = sides if opts.section is None else [sides[opts.section - 1]]
        side = max(set(wanted), key=wanted.count)  # the size most sections render at
        warm = start_engine(opts.source, bool(opts.source_is_image), opts.avatar, resolution, side)
    try:
        narration, cues, srt, vtt = _narrate(script, opts, work, reporter)
        manifest["narration"] = _narration_dict(narration)
        checked.check_space(narration.duration_s, work)
    except BaseException:
        if warm is not None:
            warm.cancel()
        raise
    segments = [replace(s, render_side=sides[s.index]) for s in plan_segments(narration)]
    if opts.section is not None:
        segments = [segments[opts.section - 1]]
    timings = timings_document(narration) if narration.phonemes or narration.words else None
    inputs = AvatarInputs(
        opts.source,
        bool(opts.source_is_image),
        opts.avatar,
        resolution,
        narration.wav_path,
        timings,
        work,
        full,
        driver_wav=narration.driver_path,
    )
    return Prepared(
        opts, manifest, script, narration, cues, (srt, vtt), segments, inputs, attempts, theme, slides, warm
    )


def _render_sides(
    full: tuple[int, int],
    opts: RenderOptions,
    script: Script,
    theme: Theme,
    slides: SlidePictures | None,
    work: Path,
) -> list[int]:
    """Per section, the longest side its presenter clip is rendered at: the most the layout shows it enlarged
    (from the whole script, so a section previewed alone is rendered as in the whole video)."""
    config = _overlay_config(opts, script.title, theme, slides is not None)
    scales = presenter_scales(full, script.sections, config, work / "sizing", slides)
    return [render_side(full, scale) for scale in scales]


def _absolute(path: Path | None) -> Path | None:
    return Path(os.path.abspath(path)) if path is not None else None


def _load_sections(opts: RenderOptions, reporter: StageReporter) -> tuple[Script, SlidePictures | None, dict[str, Any]]:
    """The script's sections (from the script file, or one per slide of --deck) and, with a deck, its slide
    pictures (converted to PDF now, so a deck problem fails before the slow stages)."""
    from presgen_training.deck import DeckPictures, attach_deck, deck_script, missing_fonts_warning, read_deck

    look = opts.look
    script = load_script(opts.script) if opts.script is not None else None
    deck_path = look.deck or (script.deck if script is not None else None)
    if deck_path is None:
        assert script is not None
        return script, None, {}
    deck = read_deck(deck_path)
    made = (
        deck_script(deck, look.narrate_slide_text, look.slides)
        if script is None
        else attach_deck(replace(script, deck=deck_path), deck)
    )
    for warning in made.warnings:
        reporter.note(f"deck: {warning}")
    if fonts := missing_fonts_warning(deck.path.name, deck.fonts):
        reporter.note(f"deck: {fonts}")
    pictures = DeckPictures(deck, on_work=lambda what: reporter.note(f"deck: {what}"))
    cached = pictures.folder.joinpath("deck.pdf").is_file() or deck.kind == "pdf"
    pictures.text_boxes(made.script.sections[0].slide or 1)  # converts the deck, finds its text: fails fast
    facts = {
        "path": str(deck.path),
        "sha256": pictures.sha256,
        "kind": deck.kind,
        "slides": len(deck.slides),
        "sections": [s.slide for s in made.script.sections],
        "conversion_cached": cached,
        "warnings": made.warnings,
    }
    return made.script, pictures, facts


def presenter_jobs(
    prep: Prepared, parts: int, min_frames: int = 1, inputs: AvatarInputs | None = None
) -> tuple[dict[int, AvatarClip], list[PresenterJob]]:
    """The cached presenter clips, and the missing ones split into engine runs for ``parts`` workers (each run
    prepares the source once; see ``presenter_runs``), made with ``inputs`` (default: the render's)."""
    clips = avatar_clips.find_cached(prep.inputs, prep.segments)
    missing = [s for s in prep.segments if s.index not in clips]
    return clips, presenter_runs(inputs or prep.inputs, missing, parts, min_frames)


def presenter_runs(
    inputs: AvatarInputs, segments: Sequence[Segment], workers: int, min_frames: int = 1
) -> list[PresenterJob]:
    """Engine runs for ``segments``: one render size per run, each size's share of ``workers`` runs (none shorter
    than ``min_frames`` frames), and no run over CLIPS_PER_RUN clips, so an interrupted render resumes after the
    last finished run."""
    total = sum(s.frames for s in segments)
    jobs = []
    for side in dict.fromkeys(s.render_side for s in segments):
        alike = [s for s in segments if s.render_side == side]
        frames = sum(s.frames for s in alike)
        share = min(math.ceil(workers * frames / total), math.ceil(frames / min_frames))
        runs = max(share, math.ceil(len(alike) / CLIPS_PER_RUN))
        jobs += [PresenterJob(inputs, tuple(b)) for b in split_evenly(alike, runs, weight=lambda s: s.frames)]
    return jobs


def produce_avatars(
    prep: Prepared, executor: Executor, reporter: StageReporter
) -> tuple[dict[int, AvatarClip], dict[str, Any]]:
    """Every segment's presenter clip, from the cache or rendered: the missing ones split into one engine run
    per worker."""
    clips, jobs = presenter_jobs(prep, executor.workers)
    if jobs:
        progress = (
            _PresenterProgress(reporter, prep.inputs, [s for job in jobs for s in job.segments])
            if executor.workers == 1
            else None
        )

        def run(job: PresenterJob) -> PresenterResult:
            if progress is not None:
                progress.start_job(job.segments)
            result = run_presenter_job(
                job, progress.on_event if progress else None, lambda a: _say_attempt(reporter, a), prep.warm
            )
            if result.error is not None:
                raise AvatarError(result.error)
            return result

        for result in executor.map(run, jobs):
            clips.update(result.clips)
            prep.attempts += [asdict(a) for a in result.attempts]
    return clips, avatar_clips.layout_facts(prep.inputs, clips)


class _PresenterProgress:
    """The engine's per-clip progress events as one bar over all the frames it renders (the pieces not cached)."""

    def __init__(self, reporter: StageReporter, inputs: AvatarInputs, segments: Sequence[Segment]) -> None:
        self.reporter = reporter
        self.inputs = inputs
        self.total = sum(p.frames for p in avatar_clips.pieces_to_render(inputs, segments))
        self.job: list[Piece] = []
        self.job_start = 0  # frames of the jobs before the running one
        self.before = 0

    def start_job(self, segments: Sequence[Segment]) -> None:
        """Jobs run one after another here: the next one starts where the last one ended."""
        self.job_start += sum(p.frames for p in self.job)
        self.job = avatar_clips.pieces_to_render(self.inputs, segments)
        self.before = self.job_start

    def on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "segment":
            self.before = self.job_start + sum(s.frames for s in self.job[: int(event.get("index", 0))])
        elif kind == "progress" and event.get("stage") == "render":
            self.reporter.update(self.before + int(event.get("done", 0)), self.total, "presenter")
        elif kind == "log" and event.get("level") == "warning":
            self.reporter.note(f"engine warning: {event.get('message')}")


def overlay_plan(prep: Prepared, facts: dict[str, Any], reporter: StageReporter) -> OverlayPlan:
    """The overlay plan of the whole video (intro card, every section, end card): one layout, its pictures drawn
    in the work folder."""
    opts = prep.opts
    plan = plan_overlay(
        opts.source,
        prep.narration,
        _overlay_config(opts, prep.script.title, prep.theme, prep.slides is not None),
        prep.inputs.work / "cards",
        prep.cues if opts.captions == "burn" else None,
        _face_box(facts),
        size=(int(facts["width"]), int(facts["height"])),
        slides=prep.slides,
    )
    for warning in plan.warnings:
        reporter.note(f"overlay: {warning}")
    return plan


def windows(prep: Prepared, plan: OverlayPlan, clips: dict[int, AvatarClip]) -> list[overlay_clips.Window]:
    """The finished video's pieces: the intro card, one per section, the end card (a --section preview: just it)."""
    offset = plan.content_start
    parts = [
        overlay_clips.Window(
            f"section {s.index + 1}",
            s.index,
            offset + s.first_frame,
            offset + s.end_frame,
            clips[s.index].path,
            clips[s.index].key,
        )
        for s in prep.segments
    ]
    if prep.opts.section is not None:
        return parts
    first, last = clips[prep.segments[0].index], clips[prep.segments[-1].index]
    if offset > 0:
        parts.insert(0, overlay_clips.Window("intro", None, 0, offset, first.path, first.key))
    content_end = offset + plan.content_frames
    if plan.frames > content_end:
        parts.append(
            overlay_clips.Window(
                "end card", None, content_end, plan.frames, last.path, last.key, overlay_clips.LAST_FRAME
            )
        )
    return parts


def overlay_jobs(
    prep: Prepared, plan: OverlayPlan, clips: dict[int, AvatarClip]
) -> tuple[list[overlay_clips.OverlayClip | OverlayJob], list[OverlayJob]]:
    """Each window's finished clip from the cache, or the job that makes it (in the video's order)."""
    config, store = (
        _overlay_config(prep.opts, prep.script.title, prep.theme, prep.slides is not None),
        prep.inputs.store,
    )
    pieces: list[overlay_clips.OverlayClip | OverlayJob] = []
    todo: list[OverlayJob] = []
    for window in windows(prep, plan, clips):
        key = overlay_clips.overlay_key(plan, window, config)
        found = overlay_clips.cached_overlay(store, key, window)
        if found is None:
            job = OverlayJob(store, key, plan, window, config)
            todo.append(job)
            pieces.append(job)
        else:
            pieces.append(found)
    return pieces, todo


def produce_overlays(
    prep: Prepared, plan: OverlayPlan, clips: dict[int, AvatarClip], executor: Executor, reporter: StageReporter
) -> list[overlay_clips.OverlayClip]:
    """Each window's finished clip of ``plan``, in the video's order."""
    pieces, todo = overlay_jobs(prep, plan, clips)
    total = sum(job.frames for job in todo)
    done = {"frames": 0}

    def make(job: OverlayJob) -> overlay_clips.OverlayClip:
        offset = done["frames"]
        on_frames = (lambda d, t: reporter.update(offset + d, total, "overlay")) if executor.workers == 1 else None
        clip = run_overlay_job(job, progress=on_frames)
        done["frames"] += job.frames
        reporter.update(done["frames"], total, "overlay")
        return clip

    made = dict(zip((id(job) for job in todo), executor.map(make, todo)))
    return [made[id(piece)] if isinstance(piece, OverlayJob) else piece for piece in pieces]


def _overlay_config(opts: RenderOptions, title: str, theme: Theme, has_slides: bool = False) -> OverlayConfig:
    look = opts.look
    layout = opts.layout if opts.layout != "auto" else ("slides" if has_slides else "side")
    named = {**vars(opts), **vars(look)}  # quality and captions; the look: aspect, pip, chapters, intro and end cards
    return by_name(OverlayConfig, named, layout=layout, title=title, theme=theme, bookends=by_name(Bookends, named))


def finish(
    prep: Prepared,
    plan: OverlayPlan,
    clips: dict[int, AvatarClip],
    pieces: list[overlay_clips.OverlayClip],
    reporter: StageReporter,
    prune: bool = True,
    audio_track: Path | None = None,
) -> RenderReport:
    """Join the pieces under the narration (after the intro card, silence under the end card), with chapters; put
    captions, chapters and a thumbnail beside the video; write the manifest; then keep the cache within its limit
    (``prune``: a course prunes once, at its end). ``audio_track``: the sound already encoded (``_final_sound``)."""
    opts, manifest = prep.opts, prep.manifest
    frames = sum(piece.window.frames for piece in pieces)
    preview = opts.section is not None
    audio, delay = _final_sound(prep, plan)
    config = _overlay_config(opts, prep.script.title, prep.theme, prep.slides is not None)
    chapters = [] if preview else chapter_list(plan)
    with tempfile.TemporaryDirectory(prefix="presgen-finish-") as tmp:
        metadata = None
        if chapters:
            metadata = Path(tmp) / "chapters.txt"
            write_ffmetadata(chapters, prep.script.title, metadata)
        write_final(
            [piece.path for piece in pieces],
            audio,
            opts.out,
            frames,
            metadata=metadata,
            audio_delay_frames=delay,
            progress=lambda done, total: reporter.update(done, total, "joining"),
            audio_track=audio_track,
        )
    if opts.captions != "off" and not preview:
        _write_captions_beside(prep, plan.content_start / plan.fps)
    sidecars = (
        write_sidecars(opts.out, plan, config, opts.source, prep.inputs.full_size, chapters)
        if chapters and config.chapters
        else {}
    )
    manifest["output"] = {**_verify_output(opts.out, frames / OUTPUT_FPS), **sidecars}
    manifest["avatar"] = _avatar_dict(clips, prep.attempts, prep.inputs.resolution)
    manifest["overlay"] = _plan_dict(plan, config, chapters)
    sides = {s.index: s.render_side for s in prep.segments}
    manifest["segments"] = [_piece_dict(piece, clips, sides) for piece in pieces]
    manifest["stages_s"] = dict(reporter.timings_s)
    manifest["realtime_factor"] = round(sum(reporter.timings_s.values()) / max(prep.narration.duration_s, 1e-9), 3)
    path = manifest_path_for(opts.out)
    write_json_atomic(path, manifest)
    if prune:
        cache_store.prune(cache_store.max_cache_bytes())
    return RenderReport(opts.out, path, manifest)


def _final_sound(prep: Prepared, plan: OverlayPlan) -> tuple[Path, int]:
    """The finished video's narration and the frames it waits before starting (a --section preview: the section's
    own sound, from its first frame)."""
    if prep.opts.section is not None:
        return avatar_clips.segment_audio(prep.inputs, prep.segments[0]), 0
    return prep.narration.wav_path, plan.content_start


def _write_captions_beside(prep: Prepared, shift_s: float) -> None:
    """NAME.srt and NAME.vtt; their times move past an intro card the narration waits for."""
    srt, vtt = prep.captions
    if shift_s:
        moved = [Cue(c.start_s + shift_s, c.end_s + shift_s, c.text) for c in prep.cues]
        get_writer("srt").write(moved, srt)
        get_writer("vtt").write(moved, vtt)
    _copy_atomic(srt, prep.opts.out.with_suffix(".srt"))
    _copy_atomic(vtt, prep.opts.out.with_suffix(".vtt"))


def _sidecars(opts: RenderOptions) -> list[Path]:
    outs = [manifest_path_for(opts.out)]
    if opts.captions != "off":
        outs += [opts.out.with_suffix(".srt"), opts.out.with_suffix(".vtt")]
    return outs


def _narrate(
    script: Script, opts: RenderOptions, work: Path, reporter: StageReporter
) -> tuple[Narration, list[Any], Path, Path]:
    with reporter.stage("narration", unit="section"):
        lexicon = load_lexicon(opts.lexicon) if opts.lexicon is not None else ()
        narration = synthesize(
            script,
            NarrationConfig(
                engine=opts.tts,
                voice=opts.voice,
                rate=opts.rate,
                lexicon=lexicon,
                allow_fallback=opts.avatar.allow_fallback,
                pause_s=opts.pause_s,
                cache_dir=cache_dir() / "narration",
            ),
            work,
            progress=lambda done, total: reporter.update(done, total, "narration"),
        )
        srt, vtt = work / "captions.srt", work / "captions.vtt"
        cues = write_captions(narration, srt, vtt)
    if narration.fallback_reason:
        reporter.note(f"voice: used {narration.engine} ({narration.fallback_reason})")
    return narration, cues, srt, vtt


def _face_box(facts: dict[str, Any]) -> tuple[int, int, int, int] | None:
    box = facts.get("face_box")
    if not isinstance(box, list) or len(box) != 4:
        return None
    x, y, w, h = (int(v) for v in box)
    return x, y, w, h


def _say_attempt(reporter: StageReporter, attempt: Any) -> None:
    if attempt.outcome == "ok":
        return
    verb = "skipped" if attempt.outcome == "skipped" else "failed"
    reporter.note(f"presenter: {attempt.engine} {verb} ({attempt.reason}); trying the next engine")


def _verify_output(out: Path, expected_s: float) -> dict[str, Any]:
    info = probe(out)
    if info.duration_s is None or abs(info.duration_s - expected_s) > DURATION_TOLERANCE_S:
        out.unlink(missing_ok=True)
        raise PresgenError(
            f"the final video lasts {info.duration_s} s, not the narration's {expected_s:.2f} s; "
            "removed it (this is a bug: please report it with the manifest)"
        )
    return {
        "path": str(out),
        "bytes": out.stat().st_size,
        "duration_s": info.duration_s,
        "width": info.width,
        "height": info.height,
        "fps": info.fps or OUTPUT_FPS,
        "video_codec": info.video_codec,
        "pix_fmt": info.pix_fmt,
        "audio_codec": info.audio_codec,
        "sample_rate": info.sample_rate,
    }


def _copy_atomic(src: Path, dst: Path) -> None:
    with atomic_output(dst) as tmp:
        shutil.copyfile(src, tmp)


def _options_dict(opts: RenderOptions) -> dict[str, Any]:
    d = {k: v for k, v in asdict(opts).items() if k not in ("avatar", "script", "source", "look")}
    d.update(asdict(opts.look))
    a = opts.avatar
    d["avatar"] = {
        "choice": a.choice,
        "fallback": a.allow_fallback,
        "env": a.env_override,
        "python": a.python_override,
        "models_dir": a.models_dir,
        "motion": a.motion,
        "blink": a.blink,
        "timeout_s": a.timeout_s,
    }
    options: dict[str, Any] = _jsonable(d)
    return options


def _narration_dict(n: Narration) -> dict[str, Any]:
    return {
        "engine": n.engine,
        "voice": n.voice,
        "fallback_reason": n.fallback_reason,
        "duration_s": round(n.duration_s, 3),
        "sample_rate": n.sample_rate,
        "words": len(n.words),
        "phonemes": len(n.phonemes),
        "timing_source": n.timing_source,
        "sections": [
            {
                "index": s.index,
                "title": s.section.title,
                "start_s": round(s.start_s, 3),
                "end_s": round(s.end_s, 3),
                "words": len(s.words),
            }
            for s in n.sections
        ],
    }


def _avatar_dict(
    clips: dict[int, AvatarClip], attempts: list[dict[str, Any]], resolution: Resolution
) -> dict[str, Any]:
    engines_used = sorted({c.engine for c in clips.values()})
    return {
        "engine": engines_used[0] if len(engines_used) == 1 else ",".join(engines_used),
        "intended": resolution.first,
        "attempts": attempts,
        "clips_cached": sum(c.cached for c in clips.values()),
        "clips_rendered": sum(not c.cached for c in clips.values()),
    }


def _plan_dict(plan: OverlayPlan, config: OverlayConfig, chapters: list[Chapter]) -> dict[str, Any]:
    fps = plan.fps
    cards = [
        {
            "kind": layer.kind,
            "rect": list(layer.rect),
            "start_s": layer.first_frame / fps,
            "end_s": layer.end_frame / fps,
            "section_index": layer.section_index,
        }
        for layer in plan.layers
        if not layer.is_presenter
    ]
    planned: dict[str, Any] = _jsonable(
        {
            "width": plan.width,
            "height": plan.height,
            "fps": fps,
            "frames": plan.frames,
            "layout": plan.layout,
            "aspect": plan.aspect,
            "quality": config.quality,
            "captions_burned": sum(1 for layer in plan.layers if layer.kind == "caption"),
            "content_start_s": plan.content_start / fps,
            "presenter_rect": plan.presenter.rect,
            "presenter": plan.presenter,
            "panel_rect": plan.panel_rect,
            "face_rect": plan.face_rect,
            "face_source": plan.face_source,
            "caption_rect": plan.caption_rect,
            "cards": cards,
            "bullets": plan.bullets,
            "sections": plan.sections,
            "chapters": chapters,
            "warnings": plan.warnings,
        }
    )
    return planned


def _piece_dict(
    piece: overlay_clips.OverlayClip, clips: dict[int, AvatarClip], sides: dict[int, int | None]
) -> dict[str, Any]:
    w = piece.window
    d: dict[str, Any] = {
        "name": w.name,
        "index": w.segment,
        "start_s": round(w.first / OUTPUT_FPS, 3),
        "end_s": round(w.end / OUTPUT_FPS, 3),
        "frames": w.frames,
        "overlay_cached": piece.cached,
        "overlay_clip": str(piece.path),
        "overlay_key": piece.key,
    }
    if w.segment is not None:
        clip = clips[w.segment]
        d.update(
            {
                "engine": clip.engine,
                "avatar_cached": clip.cached,
                "avatar_pieces": clip.pieces,  # engine clips cut at the pauses between sentences
                "avatar_pieces_rendered": clip.pieces_rendered,  # of them, rendered by this run
                "avatar_clip": str(clip.path),
                "avatar_key": clip.key,
                "avatar_max_side": sides.get(w.segment),  # px: rendered at the size it is shown at
            }
        )
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
