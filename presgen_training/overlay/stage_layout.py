"""The presenter takes the frame: section title cards (lower thirds), bullet cards and captions placed beside the
face, never over it. The ``overlay`` layout uses it for every section, the others for sections with nothing to show
(no bullets, no image, no slide), so no section ever shows an empty panel."""

from __future__ import annotations

from collections.abc import Callable

from PIL import Image

from presgen_training.overlay import cards
from presgen_training.overlay.cards import px
from presgen_training.overlay.geometry import PresenterFit, Rect, even, frame_presenter, grow_face
from presgen_training.overlay.layers import BulletRegion, SectionWindow
from presgen_training.overlay.plan import Context
from presgen_training.timeline import SectionTiming

SAFE_MARGIN = 40  # px at 720p between the frame edge and any card or caption
FACE_GAP = 16  # px at 720p kept free around the protected face region
CARD_GAP = 14  # px at 720p between cards
CAPTION_SHARE = 0.7  # caption box width / frame width, at most
MIN_CAPTION_SHARE = 0.24  # narrowest caption box, as a share of the frame width
TITLE_CARD_MAX_W = 620  # px at 720p
BULLET_CARD_MAX_W = 540  # px at 720p
MIN_BULLET_CARD_SHARE = 0.2  # narrowest bullet card, as a share of the frame width
MIN_BULLET_CARD_H = 120  # px at 720p: a shorter free band cannot hold a bullet card
# Without a detected face, overlays keep clear of this part of the avatar frame (x, y, w, h as fractions):
ASSUMED_FACE = (0.28, 0.05, 0.44, 0.5)
FACE_MAX_SHARE = 0.55  # zoom in at most until the face region is this share of the frame height
CLOSE_UP_SHARE = 0.7  # a face region taller than this share of the frame is a close-up...
MIN_ZOOM = 0.7  # ...which may shrink to this share of fitting the frame, to make room for cards
FreeFn = Callable[..., bool]  # is this rectangle clear of the face (and of these others)?


class StageArrangement:
    name = "stage"

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        w, h, s = ctx.width, ctx.height, ctx.scale
        box = ctx.face_box
        self.face_source = ctx.face_source
        if box is None:
            fx, fy, fw, fh = ASSUMED_FACE
            box = Rect(
                round(fx * ctx.source_w), round(fy * ctx.source_h), round(fw * ctx.source_w), round(fh * ctx.source_h)
            )
            self.face_source = "assumed"
        self.assumed_face = ctx.face_box is None
        self.presenter: PresenterFit = frame_presenter(
            ctx.source_w, ctx.source_h, ctx.frame, grow_face(box), FACE_MAX_SHARE, CLOSE_UP_SHARE, MIN_ZOOM
        )
        self.face_rect = self.presenter.map_box(grow_face(box))
        gap = px(FACE_GAP, s)
        self.keep_out = self.face_rect.inflate(gap, gap)
        margin = px(SAFE_MARGIN, s)
        self.safe = safe = Rect(margin, margin, w - 2 * margin, h - 2 * margin)
        left = Rect(margin, margin, even(self.keep_out.x - margin), safe.h)
        right = Rect(even(self.keep_out.right + 1), margin, even(safe.right - self.keep_out.right - 1), safe.h)
        # cards look placed, not dropped, when they sit wholly in the background beside a narrower presenter
        card_gap, narrowest = px(CARD_GAP, s), w * MIN_BULLET_CARD_SHARE
        presenter = self.presenter.rect
        if presenter.x - card_gap - margin >= narrowest:
            left = Rect(margin, margin, min(left.w, even(presenter.x - card_gap - margin)), safe.h)
        if safe.right - presenter.right - card_gap >= narrowest:
            x = max(right.x, even(presenter.right + card_gap + 1))
            right = Rect(x, margin, even(safe.right - x), safe.h)
        self.left, self.right = left, right
        self.caption_rect = self._caption_rect() if ctx.cues else None
        at_bottom = self.caption_rect is not None and self.caption_rect.y > h // 2
        self.floor = (
            self.caption_rect.y - px(CARD_GAP, s) if self.caption_rect is not None and at_bottom else safe.bottom
        )
        self._warned = False

    def free(self, rect: Rect, *others: Rect | None) -> bool:
        s = self.ctx.scale
        obstacles = [*others, self.ctx.logo_rect]
        return (
            self.safe.contains(rect)
            and not rect.intersects(self.keep_out)
            and not any(o is not None and rect.intersects(o.inflate(px(CARD_GAP, s) // 2, 0)) for o in obstacles)
        )

    def _window(self, sec: SectionTiming | None, first: int, end: int) -> SectionWindow:
        if self.assumed_face and not self._warned:
            self.ctx.warnings.append("no face found in the avatar video: cards keep clear of the upper middle instead")
            self._warned = True
        self.ctx.sink.add_presenter(self.presenter, first, end, section=sec.index if sec else None)
        return SectionWindow(
            sec.index if sec else 0,
            sec.section.title if sec else self.ctx.config.title,
            first,
            end,
            self.name,
            self.presenter.rect,
        )

    def presenter_scale(self, sec: SectionTiming) -> float:
        """Covering the whole frame: no face zooms in further (the zoom depends on the face, this does not)."""
        ctx = self.ctx
        return max(ctx.width / ctx.source_w, ctx.height / ctx.source_h)

    def draw_empty(self, first: int, end: int) -> SectionWindow:
        return self._window(None, first, end)

    def draw_section(self, sec: SectionTiming, first: int, end: int) -> SectionWindow:
        ctx = self.ctx
        window = self._window(sec, first, end)
        count = len(ctx.narration.sections)
        title_rect = None
        placed = self._place_title(sec.index, count, sec.section.title)
        if placed is None:
            ctx.warnings.append(f"section {sec.index + 1}: no room for its title card beside the face")
        else:
            image, x, y = placed
            stop = min(end, first + round(ctx.config.title_card_s * ctx.fps))
            if ctx.sink.add("title", image, x, y, first, stop, sec.index, fade_out=stop < end) is not None:
                title_rect = Rect(x, y, image.width, image.height)
        obstacles = [r for r in (self.caption_rect, title_rect) if r is not None]
        card_rect = self._bullets(sec, first, end, obstacles) if sec.section.bullets else None
        if sec.section.image is not None or sec.section.slide is not None:
            self._image(sec, first, end, [*obstacles, *([card_rect] if card_rect else [])])
        return window

    def _bullets(self, sec: SectionTiming, first: int, end: int, obstacles: list[Rect]) -> Rect | None:
        ctx, s = self.ctx, self.ctx.scale
        region = self._free_region(obstacles)
        if region is None:
            ctx.warnings.append(f"section {sec.index + 1}: no room for bullets beside the face")
            return None
        card_w = even(min(region.w, px(BULLET_CARD_MAX_W, s)))
        x = region.x if region.x < self.keep_out.x else region.right - card_w
        card = cards.layout_bullet_card(sec.section.title, sec.section.bullets, card_w, region.h, s)
        ctx.fit_warnings(sec.index, card.bullets, card.dropped, "its card")
        reveals = ctx.reveal_frames(sec.index)[: len(card.bullets)]
        # the card comes up with its first bullet (a heading alone would repeat the title card)
        starts = [max(first, min(f, end)) for f, _ in reveals]
        for visible, start in enumerate(starts, start=1):
            stop = starts[visible] if visible < len(starts) else end
            image = cards.draw_bullet_card(card, visible, ctx.theme)
            before = cards.draw_bullet_card(card, visible, ctx.theme, written=visible - 1) if visible > 1 else None
            ctx.sink.add("bullets", image, x, region.y, start, stop, sec.index, visible, fade_from=before)
        for i, (block, (f, source)) in enumerate(zip(card.bullets, reveals)):
            r = block.rect
            ctx.bullets.append(
                BulletRegion(
                    sec.index,
                    i,
                    sec.section.bullets[i],
                    Rect(even(x) + r.x, even(region.y) + r.y, r.w, r.h),
                    max(first, f) / ctx.fps,
                    end / ctx.fps,
                    source,
                )
            )
        return Rect(even(x), even(region.y), card_w, card.height(len(card.bullets)))

    def _image(self, sec: SectionTiming, first: int, end: int, obstacles: list[Rect]) -> None:
        ctx = self.ctx
        region = self._free_region(obstacles)
        picture = ctx.section_picture(sec, (region.w, region.h)) if region is not None else None
        if region is None or picture is None:
            ctx.warnings.append(f"section {sec.index + 1}: no room for its image beside the face")
            return
        x = region.x if region.x < self.keep_out.x else region.right - picture.width
        ctx.sink.add("image", picture, x, region.y, first, end, sec.index)

    def caption(self, text: str, window: SectionWindow) -> tuple[Image.Image, int, int] | None:
        rect = self.caption_rect
        if rect is None:
            return None
        image = cards.draw_caption(text, rect.w, self.ctx.scale, self.ctx.theme)
        return image, rect.x + (rect.w - image.width) // 2, rect.bottom - image.height

    def _caption_rect(self) -> Rect | None:
        ctx = self.ctx
        h = cards.caption_height(ctx.scale, ctx.theme)
        wide = even(min(self.safe.w, ctx.width * CAPTION_SHARE))
        centred_x = even((ctx.width - wide) / 2)
        column = max(self.left, self.right, key=lambda r: r.w)
        candidates = [
            Rect(centred_x, even(self.safe.bottom - h), wide, h),
            Rect(column.x, even(self.safe.bottom - h), column.w, h),
            Rect(centred_x, self.safe.y, wide, h),
        ]
        for rect in candidates:
            if rect.w >= ctx.width * MIN_CAPTION_SHARE and self.free(rect):
                return rect
        return None

    def _place_title(self, index: int, count: int, title: str) -> tuple[Image.Image, int, int] | None:
        ctx, s, safe = self.ctx, self.ctx.scale, self.safe
        part = f"PART {index + 1} OF {count}" if count > 1 else "OVERVIEW"
        eyebrows = (f"{part}  \u00b7  {ctx.config.title.upper()}", part) if ctx.config.title else (part,)
        for max_w in (px(TITLE_CARD_MAX_W, s), self.left.w, self.right.w):
            if max_w < ctx.width * MIN_BULLET_CARD_SHARE:
                continue
            image = cards.draw_title_card(eyebrows, title, min(max_w, safe.w), s, ctx.theme)
            iw, ih = image.size
            for x, y in (
                (safe.x, self.floor - ih),
                (safe.right - iw, self.floor - ih),
                (safe.x, safe.y),
                (safe.right - iw, safe.y),
            ):
                rect = Rect(even(x), even(y), iw, ih)
                if self.free(rect, self.caption_rect):
                    return image, rect.x, rect.y
        return None

    def _free_region(self, obstacles: list[Rect]) -> Rect | None:
        """The tallest free stretch of the wider column beside the face (else of the other one, else of the
        bands above or below the face), clear of the caption, the title card and the logo."""
        ctx, s, safe, keep_out = self.ctx, self.ctx.scale, self.safe, self.keep_out
        gap = px(CARD_GAP, s)
        columns = [
            c for c in sorted([self.left, self.right], key=lambda r: -r.w) if c.w >= ctx.width * MIN_BULLET_CARD_SHARE
        ]
        bands = [
            Rect(safe.x, even(keep_out.bottom + 1), safe.w, even(safe.bottom - keep_out.bottom - 1)),
            Rect(safe.x, safe.y, safe.w, even(keep_out.y - safe.y)),
        ]
        blockers = [o.inflate(0, gap) for o in [*obstacles, *([ctx.logo_rect] if ctx.logo_rect else [])]]
        for area in [*columns, *bands]:
            if area.empty or area.intersects(keep_out):
                continue
            region = tallest_gap(area, blockers)
            if region is not None and region.h >= px(MIN_BULLET_CARD_H, s):
                return region
        return None


def tallest_gap(area: Rect, obstacles: list[Rect]) -> Rect | None:
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
