"""Decide what goes where and when: the presenter's crop, every card picture, its rectangle and its frames.

The plan is independent of the compositor: ``compose`` turns it into one ffmpeg filtergraph, and the moviepy
benchmark turns the very same plan into a ``CompositeVideoClip``.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageFilter

from presgen_training.ffmpeg import OUTPUT_FPS
from presgen_training.overlay import cards
from presgen_training.overlay.cards import px
from presgen_training.overlay.config import RGB, OverlayConfig
from presgen_training.overlay.geometry import PresenterFit, Rect, even, fit_presenter, frame_presenter, grow_face
from presgen_training.overlay.schedule import bullet_schedule, section_spans
from presgen_training.timeline import Cue, Narration

PRESENTER_SHARE = 0.4  # side layout: presenter width / frame width
SAFE_MARGIN = 40  # px at 720p between the frame edge and any card or caption
FACE_GAP = 16  # px at 720p kept free around the protected face region
CARD_GAP = 14  # px at 720p between cards
CAPTION_SHARE = 0.7  # overlay layout: caption box width / frame width, at most
MIN_CAPTION_SHARE = 0.24  # overlay layout: narrowest caption box, as a share of the frame width
TITLE_CARD_MAX_W = 620  # px at 720p
BULLET_CARD_MAX_W = 540  # px at 720p
MIN_BULLET_CARD_SHARE = 0.2  # narrowest bullet card, as a share of the frame width
MIN_BULLET_CARD_H = 120  # px at 720p: a shorter free band cannot hold a bullet card
CAPTION_BAND_GAP = 26  # px at 720p between the last bullet and the caption band in the side panel
# Without a detected face, overlays keep clear of this part of the avatar frame (x, y, w, h as fractions):
ASSUMED_FACE = (0.28, 0.05, 0.44, 0.5)
PNG_COMPRESSION = 1  # fast to write; ffmpeg decodes each picture once
FACE_MAX_SHARE = 0.55  # overlay layout: zoom in at most until the face region is this share of the frame height
CLOSE_UP_SHARE = 0.7  # overlay layout: a face region taller than this share of the frame is a close-up...
MIN_ZOOM = 0.7  # ...which may shrink to this share of fitting the frame, to make room for cards
BACKDROP_BLUR = 28  # px at 720p: blur of the still that fills the bands beside a narrower presenter
BACKDROP_DIM = 0.55  # brightness kept in that backdrop, so the presenter stands out
StillFn = Callable[[int, int], Image.Image]  # a frame of the avatar video scaled to (width, height)
FreeFn = Callable[..., bool]  # is this rectangle clear of the face (and of these others)?


@dataclass(frozen=True)
class Layer:
    """One picture shown at ``rect`` for frames ``first_frame`` <= n < ``end_frame``."""

    kind: str  # backdrop | panel | title | bullets | caption
    image: Path
    rect: Rect
    first_frame: int
    end_frame: int
    section_index: int | None = None
    visible_bullets: int = 0


@dataclass(frozen=True)
class BulletRegion:
    section_index: int
    bullet_index: int
    text: str
    rect: Rect  # output pixels: marker and text of the bullet
    reveal_s: float  # time of the first frame that shows it
    hide_s: float
    source: str  # spoken | spread (see schedule.py)


@dataclass
class OverlayPlan:
    width: int
    height: int
    fps: int
    frames: int
    layout: str
    presenter: PresenterFit
    background: RGB  # behind the presenter where nothing else is drawn
    panel_rect: Rect | None
    face_rect: Rect | None  # protected face region, output pixels
    face_source: str  # given | detected | assumed | none
    caption_rect: Rect | None
    layers: list[Layer] = field(default_factory=list)
    bullets: list[BulletRegion] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def build_plan(source_size: tuple[int, int], narration: Narration, config: OverlayConfig,
               captions: Sequence[Cue] | None, face_box: Rect | None, face_source: str, folder: Path,
               still: StillFn) -> OverlayPlan:
    """Lay the overlay out, write its pictures into ``folder`` and return the plan."""
    width, height = config.size
    fps = OUTPUT_FPS
    frames = max(1, round(narration.duration_s * fps))
    cues = [(c.start_s, c.end_s, c.text) for c in captions] if captions and config.captions == "burn" else []
    builder = _Builder(source_size, narration, config, cues, face_box, face_source, folder, width, height, fps,
                       frames, still)
    return builder.side() if config.layout == "side" else builder.overlay()


class _Builder:
    def __init__(self, source_size: tuple[int, int], narration: Narration, config: OverlayConfig,
                 cues: list[tuple[float, float, str]], face_box: Rect | None, face_source: str, folder: Path,
                 width: int, height: int, fps: int, frames: int, still: StillFn) -> None:
        self.still = still
        self.source_w, self.source_h = source_size
        self.narration = narration
        self.config = config
        self.theme = config.theme
        self.cues = cues
        self.face_box = face_box
        self.face_source = face_source
        self.folder = folder
        self.width, self.height, self.fps, self.frames = width, height, fps, frames
        self.scale = height / 720
        self.spans = section_spans(narration)
        self.schedule = bullet_schedule(narration)
        self.layers: list[Layer] = []
        self.warnings: list[str] = []

    # ------------------------------------------------------------ helpers
    def frame_at(self, t: float) -> int:
        return min(self.frames, max(0, math.ceil(t * self.fps - 1e-6)))

    def save(self, image: Image.Image, name: str) -> Path:
        path = self.folder / f"{len(self.layers):03d}-{name}.png"
        image.save(path, compress_level=PNG_COMPRESSION)
        return path

    def add(self, kind: str, image: Image.Image, x: int, y: int, first: int, end: int,
            section: int | None = None, visible: int = 0) -> Layer | None:
        if end <= first:
            return None
        rect = Rect(even(x), even(y), image.width, image.height)
        layer = Layer(kind, self.save(image, kind), rect, first, end, section, visible)
        self.layers.append(layer)
        return layer

    def reveal_frames(self, section_index: int) -> list[tuple[int, str]]:
        return [(self.frame_at(c.start_s), c.source) for c in self.schedule if c.section_index == section_index]

    def section_frames(self) -> list[tuple[int, int]]:
        if not self.spans:
            return []
        return [(self.frame_at(a) if i else 0, self.frame_at(b) if i + 1 < len(self.spans) else self.frames)
                for i, (a, b) in enumerate(self.spans)]

    def _fit_warnings(self, index: int, blocks: list[cards.BulletBlock], dropped: int, where: str) -> None:
        shortened = sum(1 for b in blocks if b.text.truncated)
        if shortened:
            self.warnings.append(f"section {index + 1}: {shortened} long bullet(s) shortened with '...' to fit {where}")
        if dropped:
            self.warnings.append(f"section {index + 1}: {dropped} bullet(s) left out: no room in {where}")

    def plan(self, presenter: PresenterFit, panel: Rect | None, face: Rect | None, caption: Rect | None,
             bullets: list[BulletRegion]) -> OverlayPlan:
        return OverlayPlan(self.width, self.height, self.fps, self.frames, self.config.layout, presenter,
                           self.theme.panel, panel, face, self.face_source, caption, self.layers, bullets,
                           self.warnings)

    # ------------------------------------------------------------ side layout
    def side(self) -> OverlayPlan:
        w, h, s = self.width, self.height, self.scale
        presenter_w = even(w * PRESENTER_SHARE)
        on_right = self.config.presenter_side == "right"
        presenter_rect = Rect(w - presenter_w, 0, presenter_w, h) if on_right else Rect(0, 0, presenter_w, h)
        panel = Rect(0, 0, w - presenter_w, h) if on_right else Rect(presenter_w, 0, w - presenter_w, h)
        presenter = fit_presenter(self.source_w, self.source_h, presenter_rect, self.face_box)
        face = presenter.map_box(grow_face(self.face_box)) if self.face_box else None
        margin = px(cards.PANEL_MARGIN_X, s)
        caption = None
        bottom = h - px(cards.PANEL_BOTTOM, s)
        if self.cues:
            band_h = cards.caption_height(s)
            caption = Rect(even(panel.x + margin), even(h - px(cards.PANEL_BOTTOM, s) - band_h),
                           even(panel.w - 2 * margin), band_h)
            bottom = caption.y - px(CAPTION_BAND_GAP, s)
        stripe = panel.w - px(cards.STRIPE_W, s) if on_right else 0
        bullets: list[BulletRegion] = []
        sections = self.narration.sections
        for (first, end), sec in zip(self.section_frames(), sections):
            layout = cards.layout_panel(panel.w, panel.h, s, self.config.title, sec.index + 1, len(sections),
                                        sec.section.title, sec.section.bullets, bottom)
            self._fit_warnings(sec.index, layout.bullets, layout.dropped, "the panel")
            reveals = self.reveal_frames(sec.index)[:len(layout.bullets)]
            starts = [first] + [max(first, min(f, end)) for f, _ in reveals]
            for visible, start in enumerate(starts):
                stop = starts[visible + 1] if visible + 1 < len(starts) else end
                self.add("panel", cards.draw_panel(layout, visible, self.theme, stripe), panel.x, panel.y,
                         start, stop, sec.index, visible)
            for i, (block, (f, source)) in enumerate(zip(layout.bullets, reveals)):
                r = block.rect
                bullets.append(BulletRegion(sec.index, i, sec.section.bullets[i],
                                            Rect(panel.x + r.x, panel.y + r.y, r.w, r.h),
                                            max(first, f) / self.fps, end / self.fps, source))
        if not sections:
            layout = cards.layout_panel(panel.w, panel.h, s, "", 1, 1, self.config.title, (), bottom)
            self.add("panel", cards.draw_panel(layout, 0, self.theme, stripe), panel.x, panel.y, 0, self.frames)
        if caption is not None:
            for start, end, text in self.cues:
                image = cards.draw_caption(text, caption.w, s, self.theme, opaque=self.theme.divider,
                                           full_width=True)
                self.add("caption", image, caption.x, caption.bottom - image.height, self.frame_at(start),
                         self.frame_at(end))
        return self.plan(presenter, panel, face, caption, bullets)

    # ------------------------------------------------------------ overlay layout
    def overlay(self) -> OverlayPlan:
        w, h, s = self.width, self.height, self.scale
        frame = Rect(0, 0, w, h)
        box = self.face_box
        if box is None:
            fx, fy, fw, fh = ASSUMED_FACE
            box = Rect(round(fx * self.source_w), round(fy * self.source_h), round(fw * self.source_w),
                       round(fh * self.source_h))
            self.face_source = "assumed"
            self.warnings.append("no face found in the avatar video: cards keep clear of the upper middle instead")
        presenter = frame_presenter(self.source_w, self.source_h, frame, grow_face(box), FACE_MAX_SHARE,
                                    CLOSE_UP_SHARE, MIN_ZOOM)
        face = presenter.map_box(grow_face(box))
        if presenter.rect != frame:
            self._backdrop(presenter)
        gap = px(FACE_GAP, s)
        keep_out = face.inflate(gap, gap)
        margin = px(SAFE_MARGIN, s)
        safe = Rect(margin, margin, w - 2 * margin, h - 2 * margin)
        left_col = Rect(margin, margin, even(keep_out.x - margin), safe.h)
        right_col = Rect(even(keep_out.right + 1), margin, even(safe.right - keep_out.right - 1), safe.h)
        # cards look placed, not dropped, when they sit wholly in the backdrop beside a narrower presenter
        card_gap, narrowest = px(CARD_GAP, s), w * MIN_BULLET_CARD_SHARE
        if presenter.rect.x - card_gap - margin >= narrowest:
            left_col = Rect(margin, margin, min(left_col.w, even(presenter.rect.x - card_gap - margin)), safe.h)
        if safe.right - presenter.rect.right - card_gap >= narrowest:
            x = max(right_col.x, even(presenter.rect.right + card_gap + 1))
            right_col = Rect(x, margin, even(safe.right - x), safe.h)

        def free(rect: Rect, *others: Rect | None) -> bool:
            return (safe.contains(rect) and not rect.intersects(keep_out)
                    and not any(o is not None and rect.intersects(o.inflate(px(CARD_GAP, s) // 2, 0)) for o in others))

        caption = self._caption_rect(safe, keep_out, left_col, right_col, free) if self.cues else None
        at_bottom = caption is not None and caption.y > h // 2
        floor = caption.y - px(CARD_GAP, s) if caption is not None and at_bottom else safe.bottom

        # section title cards (lower thirds), one picture per section
        sections = self.narration.sections
        title_cards: dict[int, Layer] = {}
        for (first, end), sec in zip(self.section_frames(), sections):
            placed = self._place_title(sec.index, len(sections), sec.section.title, floor, safe, left_col,
                                       right_col, caption, free)
            if placed is None:
                self.warnings.append(f"section {sec.index + 1}: no room for its title card beside the face")
                continue
            image, x, y = placed
            stop = min(end, first + round(self.config.title_card_s * self.fps))
            layer = self.add("title", image, x, y, first, stop, sec.index)
            if layer is not None:
                title_cards[sec.index] = layer

        # bullet cards: in the wider free column beside the face, else above or below it
        bullets: list[BulletRegion] = []
        for (first, end), sec in zip(self.section_frames(), sections):
            if not sec.section.bullets:
                continue
            title = title_cards.get(sec.index)
            obstacles = [r for r in (caption, title.rect if title else None) if r is not None]
            region = self._bullet_region(safe, keep_out, left_col, right_col, obstacles)
            if region is None:
                self.warnings.append(f"section {sec.index + 1}: no room for bullets beside the face")
                continue
            card_w = even(min(region.w, px(BULLET_CARD_MAX_W, s)))
            x = region.x if region.x < keep_out.x else region.right - card_w
            card = cards.layout_bullet_card(sec.section.title, sec.section.bullets, card_w, region.h, s)
            self._fit_warnings(sec.index, card.bullets, card.dropped, "its card")
            reveals = self.reveal_frames(sec.index)[:len(card.bullets)]
            # the card comes up with its first bullet (a heading alone would repeat the title card)
            starts = [max(first, min(f, end)) for f, _ in reveals]
            for visible, start in enumerate(starts, start=1):
                stop = starts[visible] if visible < len(starts) else end
                self.add("bullets", cards.draw_bullet_card(card, visible, self.theme), x, region.y, start, stop,
                         sec.index, visible)
            for i, (block, (f, source)) in enumerate(zip(card.bullets, reveals)):
                r = block.rect
                bullets.append(BulletRegion(sec.index, i, sec.section.bullets[i],
                                            Rect(even(x) + r.x, even(region.y) + r.y, r.w, r.h),
                                            max(first, f) / self.fps, end / self.fps, source))

        if caption is not None:
            for start, end, text in self.cues:
                image = cards.draw_caption(text, caption.w, s, self.theme)
                x = caption.x + (caption.w - image.width) // 2
                self.add("caption", image, x, caption.bottom - image.height, self.frame_at(start),
                         self.frame_at(end))
        elif self.cues:
            self.warnings.append("captions not burned in: no room for them beside the face")
        return self.plan(presenter, None, face, caption, bullets)

    def _backdrop(self, presenter: PresenterFit) -> None:
        """Fill the bands beside (or above and below) the presenter with a blurred, dimmed still of the video."""
        w, h = self.width, self.height
        scale = max(w / self.source_w, h / self.source_h)
        cover_w, cover_h = 2 * math.ceil(self.source_w * scale / 2), 2 * math.ceil(self.source_h * scale / 2)
        left, top = (cover_w - w) // 2, (cover_h - h) // 2
        image = self.still(cover_w, cover_h).crop((left, top, left + w, top + h))
        image = image.filter(ImageFilter.GaussianBlur(px(BACKDROP_BLUR, self.scale)))
        image = image.point(lambda v: round(v * BACKDROP_DIM))
        r = presenter.rect
        for band in (Rect(0, 0, r.x, h), Rect(r.right, 0, w - r.right, h), Rect(r.x, 0, r.w, r.y),
                     Rect(r.x, r.bottom, r.w, h - r.bottom)):
            if not band.empty:
                piece = image.crop((band.x, band.y, band.right, band.bottom))
                self.add("backdrop", piece, band.x, band.y, 0, self.frames)

    def _caption_rect(self, safe: Rect, keep_out: Rect, left: Rect, right: Rect, free: FreeFn) -> Rect | None:
        h = cards.caption_height(self.scale)
        wide = even(min(safe.w, self.width * CAPTION_SHARE))
        centred_x = even((self.width - wide) / 2)
        column = max(left, right, key=lambda r: r.w)
        candidates = [Rect(centred_x, even(safe.bottom - h), wide, h),
                      Rect(column.x, even(safe.bottom - h), column.w, h),
                      Rect(centred_x, safe.y, wide, h)]
        for rect in candidates:
            if rect.w >= self.width * MIN_CAPTION_SHARE and free(rect):
                return rect
        return None

    def _place_title(self, index: int, count: int, title: str, floor: int, safe: Rect, left: Rect, right: Rect,
                     caption: Rect | None, free: FreeFn) -> tuple[Image.Image, int, int] | None:
        s = self.scale
        part = f"PART {index + 1} OF {count}" if count > 1 else "OVERVIEW"
        eyebrows = (f"{part}  \u00b7  {self.config.title.upper()}", part) if self.config.title else (part,)
        for max_w in (px(TITLE_CARD_MAX_W, s), left.w, right.w):
            if max_w < self.width * MIN_BULLET_CARD_SHARE:
                continue
            image = cards.draw_title_card(eyebrows, title, min(max_w, safe.w), s, self.theme)
            iw, ih = image.size
            for x, y in ((safe.x, floor - ih), (safe.right - iw, floor - ih), (safe.x, safe.y),
                         (safe.right - iw, safe.y)):
                rect = Rect(even(x), even(y), iw, ih)
                if free(rect, caption):
                    return image, rect.x, rect.y
        return None

    def _bullet_region(self, safe: Rect, keep_out: Rect, left: Rect, right: Rect,
                       obstacles: list[Rect]) -> Rect | None:
        """The tallest free stretch of the wider column beside the face (else of the other one, else of the
        bands above or below the face), clear of the caption and the section's title card."""
        s = self.scale
        gap = px(CARD_GAP, s)
        columns = [c for c in sorted([left, right], key=lambda r: -r.w) if c.w >= self.width * MIN_BULLET_CARD_SHARE]
        bands = [Rect(safe.x, even(keep_out.bottom + 1), safe.w, even(safe.bottom - keep_out.bottom - 1)),
                 Rect(safe.x, safe.y, safe.w, even(keep_out.y - safe.y))]
        for area in [*columns, *bands]:
            if area.empty or area.intersects(keep_out):
                continue
            region = _tallest_gap(area, [o.inflate(0, gap) for o in obstacles])
            if region is not None and region.h >= px(MIN_BULLET_CARD_H, s):
                return region
        return None


def _tallest_gap(area: Rect, obstacles: list[Rect]) -> Rect | None:
    """The tallest full-width horizontal strip of ``area`` that touches none of ``obstacles``."""
    cuts = sorted((o.y, o.bottom) for o in obstacles if o.x < area.right and area.x < o.right)
    best: Rect | None = None
    top = area.y
    for y0, y1 in [*cuts, (area.bottom, area.bottom)]:
        y = top + top % 2  # even, for yuv420p
        height = even(min(y0, area.bottom) - y)
        if height > (best.h if best else 0):
            best = Rect(area.x, y, area.w, height)
        top = max(top, y1)
    return best
