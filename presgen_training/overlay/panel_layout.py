"""The ``side`` layout: the presenter beside a panel with the section's title, its bullets (each fading in when
spoken), its image and the captions. 16:9 puts the panel beside the presenter, 9:16 below, 1:1 as a lower band."""

from __future__ import annotations

from PIL import Image

from presgen_training.overlay import cards
from presgen_training.overlay.cards import px
from presgen_training.overlay.geometry import PresenterFit, Rect, even, fit_presenter, grow_face
from presgen_training.overlay.layers import BulletRegion, SectionWindow
from presgen_training.overlay.plan import Context
from presgen_training.timeline import SectionTiming

PRESENTER_SHARE = 0.4  # 16:9: presenter width / frame width
PRESENTER_TOP_SHARE = {"9:16": 0.45, "1:1": 0.58}  # presenter height / frame height where it stands on top
CAPTION_BAND_GAP = 26  # px at 720p between the last bullet and the caption band in the panel
IMAGE_GAP = 24  # px at 720p between the bullets and the image
BULLETS_WITH_IMAGE = 0.5  # share of the panel's free height the bullets get when the section also has an image
COMPACT_BELOW = 0.45  # a panel lower than this share of the frame leaves out the video-title row


class PanelArrangement:
    name = "panel"

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        w, h, s = ctx.width, ctx.height, ctx.scale
        stripe_w = px(cards.STRIPE_W, s)
        if ctx.config.aspect == "16:9":
            presenter_w = even(w * PRESENTER_SHARE)
            on_right = ctx.config.presenter_side == "right"
            presenter = Rect(w - presenter_w, 0, presenter_w, h) if on_right else Rect(0, 0, presenter_w, h)
            self.panel_rect = Rect(0, 0, w - presenter_w, h) if on_right else Rect(presenter_w, 0, w - presenter_w, h)
            self.stripe = Rect(self.panel_rect.w - stripe_w, 0, stripe_w, h) if on_right else Rect(0, 0, stripe_w, h)
        else:
            presenter_h = even(h * PRESENTER_TOP_SHARE[ctx.config.aspect])
            presenter = Rect(0, 0, w, presenter_h)
            self.panel_rect = Rect(0, presenter_h, w, h - presenter_h)
            self.stripe = Rect(0, 0, w, stripe_w)
        self.compact = self.panel_rect.h < h * COMPACT_BELOW
        self.presenter: PresenterFit = fit_presenter(ctx.source_w, ctx.source_h, presenter, ctx.face_box)
        self.face_rect = self.presenter.map_box(grow_face(ctx.face_box)) if ctx.face_box else None
        panel = self.panel_rect
        margin = px(cards.PANEL_MARGIN_X, s)
        self.bottom = panel.h - px(cards.PANEL_BOTTOM, s)  # panel pixels
        self.caption_rect: Rect | None = None
        if ctx.cues:
            band_h = cards.caption_height(s, ctx.theme)
            self.caption_rect = Rect(
                even(panel.x + margin),
                even(panel.bottom - px(cards.PANEL_BOTTOM, s) - band_h),
                even(panel.w - 2 * margin),
                band_h,
            )
            self.bottom = self.caption_rect.y - panel.y - px(CAPTION_BAND_GAP, s)

    def presenter_scale(self, sec: SectionTiming) -> float:
        return self.presenter.scale

    def draw_section(self, sec: SectionTiming, first: int, end: int) -> SectionWindow:
        ctx, s, panel = self.ctx, self.ctx.scale, self.panel_rect
        ctx.sink.add_presenter(self.presenter, first, end, section=sec.index)
        section = sec.section
        count = len(ctx.narration.sections)
        bottom = self.bottom
        if section.image is not None or section.slide is not None:
            header = cards.layout_panel(
                panel.w, panel.h, s, ctx.config.title, sec.index + 1, count, section.title, (), bottom, self.compact
            )
            top = header.header_rect.bottom + px(22 if self.compact else 36, s)
            if section.bullets:
                bottom = round(top + (bottom - top) * BULLETS_WITH_IMAGE)
        layout = cards.layout_panel(
            panel.w,
            panel.h,
            s,
            ctx.config.title,
            sec.index + 1,
            count,
            section.title,
            section.bullets,
            bottom,
            self.compact,
        )
        ctx.fit_warnings(sec.index, layout.bullets, layout.dropped, "the panel")
        bare = cards.draw_panel(layout, 0, ctx.theme, self.stripe)
        ctx.sink.add("panel", bare, panel.x, panel.y, first, end, sec.index, fade=False)
        slide_rect = None
        if section.image is not None or section.slide is not None:
            slide_rect = self._picture(sec, layout, first, end)
        full = cards.draw_panel(layout, len(layout.bullets), ctx.theme, self.stripe)
        reveals = ctx.reveal_frames(sec.index)[: len(layout.bullets)]
        for i, (block, (f, source)) in enumerate(zip(layout.bullets, reveals)):
            r = block.rect
            crop = (r.x, r.y, r.right, r.bottom)
            start = max(first, min(f, end))
            ctx.sink.add(
                "bullet",
                full.crop(crop),
                panel.x + r.x,
                panel.y + r.y,
                start,
                end,
                sec.index,
                i + 1,
                fade_from=bare.crop(crop),
            )
            ctx.bullets.append(
                BulletRegion(
                    sec.index,
                    i,
                    section.bullets[i],
                    Rect(panel.x + r.x, panel.y + r.y, r.w, r.h),
                    start / ctx.fps,
                    end / ctx.fps,
                    source,
                )
            )
        return SectionWindow(sec.index, section.title, first, end, self.name, self.presenter.rect, slide_rect)

    def _picture(self, sec: SectionTiming, layout: cards.PanelSection, first: int, end: int) -> Rect | None:
        ctx, s, panel = self.ctx, self.ctx.scale, self.panel_rect
        margin = px(cards.PANEL_MARGIN_X, s)
        top = (
            (layout.bullets[-1].rect.bottom + px(IMAGE_GAP, s))
            if layout.bullets
            else layout.header_rect.bottom + px(22 if self.compact else 36, s)
        )
        box = (panel.w - 2 * margin, self.bottom - top)
        if box[0] < 40 or box[1] < 40:
            ctx.warnings.append(f"section {sec.index + 1}: no room for its image in the panel")
            return None
        picture = ctx.section_picture(sec, box)
        assert picture is not None
        x = panel.x + margin + (box[0] - picture.width) // 2
        ctx.sink.add("image", picture, x, panel.y + top, first, end, sec.index, fade=False)
        return Rect(even(x), even(panel.y + top), picture.width, picture.height)

    def caption(self, text: str, window: SectionWindow) -> tuple[Image.Image, int, int] | None:
        rect = self.caption_rect
        if rect is None:
            return None
        image = cards.draw_caption(
            text, rect.w, self.ctx.scale, self.ctx.theme, opaque=self.ctx.theme.divider, full_width=True
        )
        return image, rect.x, rect.bottom - image.height
