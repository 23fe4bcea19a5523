"""The ``slides`` layout: the section's slide (or image) fills the frame, letterboxed on the theme background, and
the presenter is a picture-in-picture in the corner where the slide has least content, never over its text.

Where the letterbox leaves a wide band (a 16:9 slide in a 9:16 or 1:1 frame, a 4:3 slide in 16:9) the presenter
fills that band instead; where every corner would cover text, the slide shrinks and the presenter stands beside it.
Sections with only bullets are drawn as in the ``side`` layout; sections with nothing to show leave the frame to
the presenter.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PIL import Image

from presgen_training.overlay import cards, pip
from presgen_training.overlay.cards import px
from presgen_training.overlay.geometry import Rect, even, fit_presenter
from presgen_training.overlay.layers import SectionWindow
from presgen_training.overlay.panel_layout import PanelArrangement
from presgen_training.overlay.plan import Context
from presgen_training.overlay.stage_layout import StageArrangement
from presgen_training.timeline import SectionTiming

BAND_MIN_SHARE = 0.25  # a letterbox band at least this share of the frame holds the presenter instead of a PiP
BESIDE_SHARE = 0.3  # presenter column width / frame width when no corner is free of text
CAPTION_SHARE = 0.7  # caption box width / frame width, at most
CAPTION_MARGIN = 28  # px at 720p between the caption box and the frame's bottom edge


@dataclass(frozen=True)
class _Placement:
    kind: str  # slide (picture-in-picture), slide-band or slide-beside
    picture: Image.Image  # the slide (or image), drawn at its size in the frame
    slide: Rect
    presenter: Rect
    choice: pip.PipChoice | None = None  # the corner, for a picture-in-picture
    text: list[Rect] = field(default_factory=list)  # the slide's text boxes, in frame pixels


class SlideArrangement:
    name = "slide"

    def __init__(self, ctx: Context, stage: StageArrangement) -> None:
        self.ctx = ctx
        self.stage = stage
        self.panel: PanelArrangement | None = None
        self.size = even(ctx.config.pip_size * ctx.width)
        self.mask = pip.mask_picture(self.size, ctx.theme.pip_shape, ctx.scale)
        self.captions: dict[int, Rect] = {}  # section index -> caption box

    def draw_section(self, sec: SectionTiming, first: int, end: int) -> SectionWindow:
        ctx = self.ctx
        if sec.section.slide is None and sec.section.image is None:
            return self._panel().draw_section(sec, first, end)
        if sec.section.bullets:
            ctx.warnings.append(
                f"section {sec.index + 1}: its bullets are not drawn over its "
                f"{'slide' if sec.section.slide else 'image'}"
            )
        place = self._place(sec)
        if place.kind == "slide-beside":
            ctx.warnings.append(
                f"section {sec.index + 1}: every corner of the slide has text; the presenter stands beside the slide"
            )
        if place.choice is None:
            return self._band(sec, first, end, place.picture, place.slide, place.presenter, place.kind)
        if place.choice.covers_text:
            ctx.warnings.append(
                f"section {sec.index + 1}: the presenter in the {place.choice.corner} corner (as asked) "
                "covers some of the slide's text"
            )
        return self._pip(sec, first, end, place.picture, place.slide, place.choice, place.text)

    def presenter_scale(self, sec: SectionTiming) -> float:
        if sec.section.slide is None and sec.section.image is None:
            return self._panel().presenter_scale(sec)
        ctx = self.ctx
        return fit_presenter(ctx.source_w, ctx.source_h, self._place(sec).presenter, None).scale

    def _panel(self) -> PanelArrangement:
        if self.panel is None:
            self.panel = PanelArrangement(self.ctx)
        return self.panel

    def _place(self, sec: SectionTiming) -> _Placement:
        """Where the section's slide and the presenter go: a letterbox band, a corner of the slide, or beside it."""
        ctx = self.ctx
        frame = ctx.frame
        picture = ctx.section_picture(sec, (frame.w, frame.h))
        assert picture is not None
        pw, ph = picture.size
        if frame.h - ph >= frame.h * BAND_MIN_SHARE:
            slide = Rect(even((frame.w - pw) / 2), 0, pw, ph)
            return _Placement("slide-band", picture, slide, Rect(0, ph, frame.w, frame.h - ph))
        if frame.w - pw >= frame.w * BAND_MIN_SHARE:
            slide = Rect(0, even((frame.h - ph) / 2), pw, ph)
            return _Placement("slide-band", picture, slide, Rect(pw, 0, frame.w - pw, frame.h))
        slide = Rect(even((frame.w - pw) / 2), even((frame.h - ph) / 2), pw, ph)
        text = self._text_rects(sec, slide)
        forced = None if ctx.config.pip_corner == "auto" else ctx.config.pip_corner
        avoid = [ctx.logo_rect] if ctx.logo_rect else []
        choice = pip.choose_corner(frame, slide, pip.ink_map(picture), text, self.size, ctx.scale, forced, avoid)
        if choice is None:
            column = even(frame.w * BESIDE_SHARE)
            picture = ctx.section_picture(sec, (frame.w - column, frame.h))
            assert picture is not None
            pw, ph = picture.size
            slide = Rect(0, even((frame.h - ph) / 2), pw, ph)
            return _Placement("slide-beside", picture, slide, Rect(frame.w - column, 0, column, frame.h))
        return _Placement("slide", picture, slide, choice.rect, choice, text)

    def _text_rects(self, sec: SectionTiming, slide: Rect) -> list[Rect]:
        if sec.section.slide is None or self.ctx.slides is None:
            return []
        return [
            Rect(
                slide.x + int(x0 * slide.w),
                slide.y + int(y0 * slide.h),
                max(1, round((x1 - x0) * slide.w)),
                max(1, round((y1 - y0) * slide.h)),
            )
            for x0, y0, x1, y1 in self.ctx.slides.text_boxes(sec.section.slide)
        ]

    def _slide_layer(self, sec: SectionTiming, picture: Image.Image, slide: Rect, first: int, end: int) -> None:
        kind = "slide" if sec.section.slide is not None else "image"
        self.ctx.sink.add(kind, picture, slide.x, slide.y, first, end, sec.index, fade=False)

    def _pip(
        self,
        sec: SectionTiming,
        first: int,
        end: int,
        picture: Image.Image,
        slide: Rect,
        choice: pip.PipChoice,
        text: list[Rect],
    ) -> SectionWindow:
        ctx, s, rect = self.ctx, self.ctx.scale, choice.rect
        self._slide_layer(sec, picture, slide, first, end)
        mask = self.mask if rect.w == self.size else pip.mask_picture(rect.w, ctx.theme.pip_shape, s)
        shadow, reach = pip.shadow_picture(mask, s)
        spread = Rect(rect.x - reach, rect.y - reach, shadow.width, shadow.height)
        inside = spread.clip(ctx.frame)  # the shadow stops at the frame's edge
        shadow = shadow.crop(
            (inside.x - spread.x, inside.y - spread.y, inside.right - spread.x, inside.bottom - spread.y)
        )
        ctx.sink.add("shadow", shadow, inside.x, inside.y, first, end, sec.index, fade=False)
        fit = fit_presenter(ctx.source_w, ctx.source_h, rect, ctx.face_box)
        ctx.sink.add_presenter(fit, first, end, mask=mask, section=sec.index)
        if ctx.theme.pip_ring is not None:
            ring = pip.ring_picture(rect.w, ctx.theme.pip_shape, ctx.theme.pip_ring, s)
            ctx.sink.add("ring", ring, rect.x, rect.y, first, end, sec.index, fade=False)
        self.captions[sec.index] = self._caption_box(rect)
        return SectionWindow(sec.index, sec.section.title, first, end, "slide", rect, slide, choice.corner, tuple(text))

    def _band(
        self, sec: SectionTiming, first: int, end: int, picture: Image.Image, slide: Rect, band: Rect, arrangement: str
    ) -> SectionWindow:
        ctx = self.ctx
        self._slide_layer(sec, picture, slide, first, end)
        fit = fit_presenter(ctx.source_w, ctx.source_h, band, ctx.face_box)
        ctx.sink.add_presenter(fit, first, end, section=sec.index)
        self.captions[sec.index] = self._caption_box(None, band)
        return SectionWindow(
            sec.index,
            sec.section.title,
            first,
            end,
            arrangement,
            band,
            slide,
            None,
            tuple(self._text_rects(sec, slide)),
        )

    def _caption_box(self, avoid: Rect | None, within: Rect | None = None) -> Rect:
        """Bottom centre of ``within`` (the frame), narrowed to keep clear of a picture-in-picture beside it."""
        ctx, s = self.ctx, self.ctx.scale
        area = within or ctx.frame
        h = cards.caption_height(s, ctx.theme)
        bottom = area.bottom - px(CAPTION_MARGIN, s)
        width = even(min(area.w - 2 * px(CAPTION_MARGIN, s), ctx.width * CAPTION_SHARE))
        box = Rect(even(area.x + (area.w - width) / 2), even(bottom - h), width, h)
        if avoid is not None and box.intersects(avoid):
            gap = px(pip.PIP_GAP, s)
            left, right = area.x + px(CAPTION_MARGIN, s), area.right - px(CAPTION_MARGIN, s)
            if avoid.x > area.x + area.w / 2:
                right = avoid.x - gap
            else:
                left = avoid.right + gap
            box = Rect(even(left), box.y, even(right - left), h)
        return box

    def caption(self, text: str, window: SectionWindow) -> tuple[Image.Image, int, int] | None:
        if self.panel is not None and window.arrangement == "panel":
            return self.panel.caption(text, window)
        rect = self.captions.get(window.index)
        if rect is None:
            return None
        image = cards.draw_caption(text, rect.w, self.ctx.scale, self.ctx.theme)
        return image, rect.x + (rect.w - image.width) // 2, rect.bottom - image.height
