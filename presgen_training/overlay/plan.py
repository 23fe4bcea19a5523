"""Decide what goes where and when: per section an arrangement (panel beside the presenter, the presenter taking
the frame, or a slide with the presenter as picture-in-picture), every picture, its rectangle and its frames.

The plan is independent of the compositor: ``compose`` turns it into an ffmpeg filtergraph (filtergraph.py), and
the moviepy benchmark turns the very same plan into a ``CompositeVideoClip``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from PIL import Image

from presgen_training.errors import PresgenError
from presgen_training.ffmpeg import OUTPUT_FPS
from presgen_training.overlay import cards
from presgen_training.overlay.config import OverlayConfig
from presgen_training.overlay.geometry import PresenterFit, Rect
from presgen_training.overlay.layers import (
    BulletRegion,
    Layer,
    LayerSink,
    OverlayPlan,
    SectionWindow,
)
from presgen_training.overlay.schedule import bullet_schedule, section_spans
from presgen_training.overlay.text import missing_glyphs, theme_fonts
from presgen_training.timeline import Cue, Narration, Section, SectionTiming

if TYPE_CHECKING:
    from presgen_training.overlay.stage_layout import StageArrangement

StillFn = Callable[[int, int], Image.Image]  # a frame of the avatar video scaled to (width, height)
Box = tuple[float, float, float, float]  # x0, y0, x1, y1 as fractions of a slide
MAX_NAMED_GLYPHS = 12  # characters named in a missing-glyph warning

__all__ = ["BulletRegion", "Layer", "OverlayPlan", "SectionWindow", "SlidePictures", "build_plan"]


class SlidePictures(Protocol):
    """Where the slides of the script's deck come from (``presgen_training.deck.DeckPictures``)."""

    def picture(self, slide_number: int, box: tuple[int, int]) -> Path: ...

    def text_boxes(self, slide_number: int) -> list[Box]: ...


class Arrangement(Protocol):
    """How one section fills the frame."""

    name: str

    def draw_section(self, sec: SectionTiming, first: int, end: int) -> SectionWindow: ...

    def presenter_scale(self, sec: SectionTiming) -> float:
        """The most the presenter video is enlarged in this section (output px per video px), whatever the face."""
        ...

    def caption(self, text: str, window: SectionWindow) -> tuple[Image.Image, int, int] | None: ...


class Context:
    """Everything the arrangements share: frame size and timing, the narration, the theme, the face."""

    def __init__(
        self,
        source_size: tuple[int, int],
        narration: Narration,
        config: OverlayConfig,
        cues: list[tuple[float, float, str]],
        face_box: Rect | None,
        face_source: str,
        folder: Path,
        still: StillFn,
        slides: SlidePictures | None,
    ) -> None:
        self.source_w, self.source_h = source_size
        self.narration = narration
        self.config = config
        self.theme = config.theme
        self.cues = cues
        self.face_box = face_box
        self.face_source = face_source
        self.still = still
        self.slides = slides
        self.width, self.height = config.size
        self.fps = OUTPUT_FPS
        self.scale = min(self.width, self.height) / 720
        bookends = config.bookends
        self.intro_frames = round(bookends.intro_s * self.fps) if bookends.intro != "off" else 0
        self.content_start = self.intro_frames if bookends.intro == "after" else 0
        self.content_frames = max(1, round(narration.duration_s * self.fps))
        self.content_end = self.content_start + self.content_frames
        self.end_frames = round(bookends.end_s * self.fps) if bookends.end_card else 0
        self.frames = self.content_end + self.end_frames
        self.sink = LayerSink(folder, config.motion)
        self.spans = section_spans(narration)
        self.schedule = bullet_schedule(narration)
        self.warnings: list[str] = []
        self.bullets: list[BulletRegion] = []
        self.logo_rect: Rect | None = None

    @property
    def frame(self) -> Rect:
        return Rect(0, 0, self.width, self.height)

    def frame_at(self, t: float) -> int:
        """Output frame of narration time ``t`` (the first frame at or after it)."""
        return self.content_start + min(self.content_frames, max(0, math.ceil(t * self.fps - 1e-6)))

    def section_frames(self) -> list[tuple[int, int]]:
        if not self.spans:
            return []
        last = len(self.spans) - 1
        return [
            (self.frame_at(a) if i else self.content_start, self.frame_at(b) if i < last else self.content_end)
            for i, (a, b) in enumerate(self.spans)
        ]

    def reveal_frames(self, section_index: int) -> list[tuple[int, str]]:
        return [(self.frame_at(c.start_s), c.source) for c in self.schedule if c.section_index == section_index]

    def fit_warnings(self, index: int, blocks: list[cards.BulletBlock], dropped: int, where: str) -> None:
        shortened = sum(1 for b in blocks if b.text.truncated)
        if shortened:
            self.warnings.append(f"section {index + 1}: {shortened} long bullet(s) shortened with '...' to fit {where}")
        if dropped:
            self.warnings.append(f"section {index + 1}: {dropped} bullet(s) left out: no room in {where}")

    def section_picture(self, sec: SectionTiming, box: tuple[int, int]) -> Image.Image | None:
        """The section's slide (rasterised to fit ``box``) or image (scaled to fit ``box``), or None."""
        section = sec.section
        if section.slide is not None:
            if self.slides is None:
                raise PresgenError(f"section {sec.index + 1} shows slide {section.slide} but no deck was given")
            return Image.open(self.slides.picture(section.slide, box)).convert("RGB")
        if section.image is not None:
            try:
                with Image.open(section.image) as img:
                    picture: Image.Image = img.convert("RGBA")
            except OSError as exc:
                raise PresgenError(
                    f"cannot read the image of section {sec.index + 1}: {section.image} ({exc})"
                ) from None
            factor = min(box[0] / picture.width, box[1] / picture.height)
            size = (max(2, round(picture.width * factor)), max(2, round(picture.height * factor)))
            return picture.resize(size, Image.Resampling.LANCZOS)
        return None


def _glyph_warnings(narration: Narration, config: OverlayConfig, cues: list[tuple[float, float, str]]) -> list[str]:
    """One warning per place whose text has characters the fonts cannot draw (emoji, CJK with DejaVu)."""
    places = [(f"section {sec.index + 1}", [sec.section.title, *sec.section.bullets]) for sec in narration.sections]
    places += [
        ("the captions", [text for _, _, text in cues]),
        ("the cards", [config.title, config.bookends.subtitle, config.bookends.end_title]),
    ]
    warnings = []
    for where, texts in places:
        if missing := missing_glyphs(texts):
            shown = " ".join(missing[:MAX_NAMED_GLYPHS]) + (" ..." if len(missing) > MAX_NAMED_GLYPHS else "")
            warnings.append(
                f"{where}: {len(missing)} character(s) the font cannot draw will show as empty boxes: "
                f"{shown} (use a theme whose fonts have them, e.g. Noto Sans CJK from fonts-noto-cjk)"
            )
    return warnings


def build_plan(
    source_size: tuple[int, int],
    narration: Narration,
    config: OverlayConfig,
    captions: Sequence[Cue] | None,
    face_box: Rect | None,
    face_source: str,
    folder: Path,
    still: StillFn,
    slides: SlidePictures | None = None,
) -> OverlayPlan:
    """Lay the overlay out, write its pictures into ``folder`` and return the plan."""
    from presgen_training.overlay import bookends

    cues = [(c.start_s, c.end_s, c.text) for c in captions] if captions and config.captions == "burn" else []
    with theme_fonts(config.theme.font_regular, config.theme.font_bold):
        ctx = Context(source_size, narration, config, cues, face_box, face_source, folder, still, slides)
        bookends.add_background(ctx)
        ctx.logo_rect = bookends.logo_rect(ctx)
        stage, choose = _arrangements(ctx)
        windows: list[SectionWindow] = []
        chosen: list[Arrangement] = []
        for (first, end), sec in zip(ctx.section_frames(), narration.sections):
            arrangement = choose(sec)
            windows.append(arrangement.draw_section(sec, first, end))
            chosen.append(arrangement)
        if not windows:
            windows.append(stage.draw_empty(ctx.content_start, ctx.content_end))
            chosen.append(stage)
        _captions(ctx, windows, chosen)
        ctx.warnings.extend(_glyph_warnings(narration, config, cues))
        bookends.add_logo(ctx)
        bookends.add_cards(ctx)
        first_window = windows[0]
        first_arrangement = chosen[0]
        return OverlayPlan(
            width=ctx.width,
            height=ctx.height,
            fps=ctx.fps,
            frames=ctx.frames,
            layout=config.layout,
            aspect=config.aspect,
            presenter=_presenter_of(ctx, first_window),
            background=ctx.theme.background,
            panel_rect=getattr(first_arrangement, "panel_rect", None),
            face_rect=getattr(first_arrangement, "face_rect", None),
            face_source=stage.face_source,
            source_face=face_box,
            caption_rect=getattr(first_arrangement, "caption_rect", None),
            content_start=ctx.content_start,
            content_frames=ctx.content_frames,
            layers=ctx.sink.layers,
            bullets=ctx.bullets,
            sections=windows,
            warnings=ctx.warnings,
        )


def presenter_scales(
    source_size: tuple[int, int],
    sections: Sequence[Section],
    config: OverlayConfig,
    folder: Path,
    slides: SlidePictures | None = None,
) -> list[float]:
    """Per section, the most its presenter video (of ``source_size``) is enlarged on screen, known before the
    narration and the face are: a presenter video rendered at this scale loses nothing (``folder``: where slide
    pictures may go)."""
    from presgen_training.overlay import bookends

    # which arrangement shows a section, and how large, depends on what it shows, not on when
    untimed = [SectionTiming(i, section, 0.0, 0.0) for i, section in enumerate(sections)]
    narration = Narration(folder / "untimed.wav", 1.0, 48000, untimed, [], [], "none", "none")
    with theme_fonts(config.theme.font_regular, config.theme.font_bold):
        ctx = Context(source_size, narration, config, [], None, "none", folder, _no_still, slides)
        ctx.logo_rect = bookends.logo_rect(ctx)  # a picture-in-picture keeps clear of the logo
        _, choose = _arrangements(ctx)
        return [choose(sec).presenter_scale(sec) for sec in narration.sections]


def _no_still(width: int, height: int) -> Image.Image:
    raise AssertionError("no still is drawn while sizing the presenter")


def _arrangements(ctx: Context) -> tuple[StageArrangement, Callable[[SectionTiming], Arrangement]]:
    """The frame-filling stage arrangement, and which arrangement draws a section: the layout's own (panel or
    slide) when the section has something to show, else the stage."""
    from presgen_training.overlay.panel_layout import PanelArrangement
    from presgen_training.overlay.slides_layout import SlideArrangement
    from presgen_training.overlay.stage_layout import StageArrangement

    stage = StageArrangement(ctx)
    own: Arrangement | None = None
    if ctx.config.layout == "side":
        own = PanelArrangement(ctx)
    elif ctx.config.layout == "slides":
        own = SlideArrangement(ctx, stage)

    def choose(sec: SectionTiming) -> Arrangement:
        has_visual = sec.section.image is not None or sec.section.slide is not None
        return own if own is not None and (sec.section.bullets or has_visual) else stage

    return stage, choose


def _presenter_of(ctx: Context, window: SectionWindow) -> PresenterFit:
    for layer in ctx.sink.layers:
        if layer.fit is not None and layer.first_frame <= window.first_frame < layer.end_frame:
            return layer.fit
    return next(layer.fit for layer in ctx.sink.layers if layer.fit is not None)


def _captions(ctx: Context, windows: list[SectionWindow], chosen: list[Arrangement]) -> None:
    """Each cue is drawn the way the section it starts in places captions, and ends with that section."""
    for start, end, text in ctx.cues:
        first, stop = ctx.frame_at(start), ctx.frame_at(end)
        index = next((i for i, w in enumerate(windows) if w.first_frame <= first < w.end_frame), None)
        if index is None:
            continue
        placed = chosen[index].caption(text, windows[index])
        if placed is None:
            ctx.warnings.append(f"section {windows[index].index + 1}: a caption has no room beside the face")
            continue
        image, x, y = placed
        ctx.sink.add("caption", image, x, y, first, min(stop, windows[index].end_frame), fade=False)
