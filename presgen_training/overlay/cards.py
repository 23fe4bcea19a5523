"""Draw the overlay's pictures with Pillow: the side panel, title and bullet cards, caption boxes.

Sizes are given for a 720-pixel-high frame and multiplied by ``scale`` (frame height / 720).
Every function returns the image plus the rectangles (in the image's own pixels) that tests and the manifest need.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image, ImageDraw

from presgen_training.overlay.config import RGB, RGBA, Theme
from presgen_training.overlay.geometry import Rect, even
from presgen_training.overlay.text import FittedText, Font, ascent, ellipsize, fit, font, line_height, text_width

SUPERSAMPLE = 3  # rounded corners are drawn this much larger, then shrunk: smooth edges

# side panel, at 720p
PANEL_MARGIN_X = 60
PANEL_TOP = 50
PANEL_TOP_COMPACT = 26  # a short panel (a band under the presenter) has no video-title row
PANEL_BOTTOM = 40
VIDEO_TITLE_SIZE = 17
EYEBROW_SIZE = 16
SECTION_TITLE_SIZE, SECTION_TITLE_MIN = 40, 26
SECTION_TITLE_LINES = 2
RULE_W, RULE_H = 56, 4
BULLET_SIZE, BULLET_MIN = 29, 19
BULLET_LINE_SPACING = 1.22
BULLET_MAX_LINES = 4  # a longer bullet is shortened with an ellipsis (at the smallest font only)
BULLET_GAP = 0.8  # blank space between bullets, in bullet font sizes
MARKER = 0.3  # bullet marker side, in bullet font sizes
INDENT = 1.15  # text indent after the marker, in bullet font sizes
STRIPE_W = 4  # accent stripe where the panel meets the presenter
PROGRESS_SEG_W, PROGRESS_SEG_H, PROGRESS_GAP = 22, 4, 6

# captions, at 720p
CAPTION_MIN_SHARE = 0.75  # captions shrink to this share of the theme's caption size before ellipsizing
CAPTION_LINES = 2
CAPTION_PAD_X, CAPTION_PAD_Y = 20, 12
CAPTION_LINE_SPACING = 1.18
CAPTION_RADIUS = 10

# cards over the presenter, at 720p
CARD_PAD_X, CARD_PAD_Y = 24, 18
CARD_BAR_W = 6
CARD_EYEBROW_SIZE = 15
CARD_TITLE_SIZE, CARD_TITLE_MIN = 34, 22
CARD_BULLET_SIZE, CARD_BULLET_MIN = 25, 17


def px(value: float, scale: float) -> int:
    return max(1, round(value * scale))


def _radius(value: int, scale: float, theme: Theme) -> int:
    """Corner radius in pixels: square corners everywhere when the theme's cards are square."""
    return 0 if theme.card_radius == 0 else px(value, scale)


def rounded_box(width: int, height: int, radius: int, fill: RGBA) -> Image.Image:
    """An RGBA rounded rectangle with anti-aliased corners."""
    if radius <= 0:
        return Image.new("RGBA", (width, height), fill)
    big = Image.new("L", (width * SUPERSAMPLE, height * SUPERSAMPLE), 0)
    ImageDraw.Draw(big).rounded_rectangle((0, 0, big.width - 1, big.height - 1), radius * SUPERSAMPLE, fill=255)
    mask = big.resize((width, height), Image.Resampling.LANCZOS)
    alpha = mask.point(lambda v: v * fill[3] // 255)
    box = Image.new("RGBA", (width, height), (*fill[:3], 0))
    box.putalpha(alpha)
    return box


def draw_lines(
    draw: ImageDraw.ImageDraw,
    x: int,
    top: int,
    lines: list[str],
    face: Font,
    step: int,
    fill: RGB,
    center_width: int | None = None,
) -> int:
    """Draw lines from ``top``; return the y below the last line."""
    base = top + ascent(face)
    for line in lines:
        lx = x if center_width is None else x + round((center_width - text_width(line, face)) / 2)
        draw.text((lx, base), line, font=face, fill=fill, anchor="ls")
        base += step
    return top + step * len(lines)


# ---------------------------------------------------------------- side panel


@dataclass(frozen=True)
class BulletBlock:
    text: FittedText
    rect: Rect  # in panel pixels: marker + text of this bullet


@dataclass(frozen=True)
class PanelSection:
    """Where everything of one section goes in the side panel (fixed while its bullets appear one by one)."""

    width: int
    height: int
    scale: float
    video_title: str
    eyebrow: str
    section_no: int
    section_count: int
    title: FittedText
    title_top: int
    bullets: list[BulletBlock]
    dropped: int  # bullets that did not fit even at the smallest font
    header_rect: Rect  # eyebrow + section title + rule
    compact: bool = False


def layout_panel(
    width: int,
    height: int,
    scale: float,
    video_title: str,
    section_no: int,
    section_count: int,
    section_title: str,
    bullets: tuple[str, ...],
    bottom: int,
    compact: bool = False,
) -> PanelSection:
    """Lay one section out in a ``width x height`` panel; bullets end above ``bottom`` (panel pixels). A compact
    panel leaves out the video-title row."""
    inner = width - 2 * px(PANEL_MARGIN_X, scale)
    y = (
        px(PANEL_TOP_COMPACT, scale)
        if compact
        else px(PANEL_TOP, scale) + line_height(font(px(VIDEO_TITLE_SIZE, scale))) + px(34, scale)
    )
    header_top = y
    y += line_height(font(px(EYEBROW_SIZE, scale), True)) + px(8, scale)
    title = fit(
        section_title,
        inner,
        SECTION_TITLE_LINES,
        px(SECTION_TITLE_SIZE, scale),
        px(SECTION_TITLE_MIN, scale),
        bold=True,
    )
    title_top = y
    y += line_height(title.face, 1.1) * len(title.lines) + px(16, scale)
    y += px(RULE_H, scale)
    header_rect = Rect(px(PANEL_MARGIN_X, scale), header_top, inner, y - header_top)
    y += px(22 if compact else 36, scale)
    blocks, dropped = _layout_bullets(
        bullets,
        px(PANEL_MARGIN_X, scale),
        y,
        inner,
        bottom - y,
        px(BULLET_SIZE, scale),
        px(BULLET_MIN, scale),
        BULLET_MAX_LINES,
    )
    eyebrow = f"SECTION {section_no} OF {section_count}" if section_count > 1 else "OVERVIEW"
    return PanelSection(
        width,
        height,
        scale,
        video_title,
        eyebrow,
        section_no,
        section_count,
        title,
        title_top,
        blocks,
        dropped,
        header_rect,
        compact,
    )


def _layout_bullets(
    bullets: tuple[str, ...], x: int, top: int, width: int, available: int, size: int, min_size: int, max_lines: int
) -> tuple[list[BulletBlock], int]:
    """Largest font at which every bullet fits ``available`` pixels; at the smallest, drop what overflows."""
    for candidate in range(size, min_size - 1, -1):
        blocks = _bullet_blocks(bullets, x, top, width, candidate, max_lines)
        if not blocks or (blocks[-1].rect.bottom <= top + available and not any(b.text.truncated for b in blocks)):
            return blocks, 0
    blocks = [
        b for b in _bullet_blocks(bullets, x, top, width, min_size, max_lines) if b.rect.bottom <= top + available
    ]
    return blocks, len(bullets) - len(blocks)


def _bullet_blocks(
    bullets: tuple[str, ...], x: int, top: int, width: int, size: int, max_lines: int
) -> list[BulletBlock]:
    indent = round(size * INDENT)
    step = line_height(font(size), BULLET_LINE_SPACING)
    blocks = []
    y = top
    for bullet in bullets:
        text = fit(bullet, width - indent, max_lines, size, size)
        height = step * len(text.lines)
        blocks.append(BulletBlock(text, Rect(x, y, width, height)))
        y += height + round(size * BULLET_GAP)
    return blocks


def draw_panel(section: PanelSection, visible: int, theme: Theme, stripe: Rect | None) -> Image.Image:
    """The panel (opaque RGB) with the section header and its first ``visible`` bullets; ``stripe`` (panel
    pixels) is the accent line where the panel meets the presenter."""
    s = section.scale
    image = Image.new("RGB", (section.width, section.height), theme.panel)
    draw = ImageDraw.Draw(image)
    margin = px(PANEL_MARGIN_X, s)
    inner = section.width - 2 * margin
    top = px(PANEL_TOP, s)
    progress_w = section.section_count * (px(PROGRESS_SEG_W, s) + px(PROGRESS_GAP, s))
    if section.section_count > 1 and not section.compact:
        seg_y = top + ascent(font(px(VIDEO_TITLE_SIZE, s))) // 2
        for i in range(section.section_count):
            sx = (
                section.width
                - margin
                - progress_w
                + px(PROGRESS_GAP, s)
                + i * (px(PROGRESS_SEG_W, s) + px(PROGRESS_GAP, s))
            )
            colour = theme.accent if i + 1 == section.section_no else theme.track
            draw.rectangle((sx, seg_y, sx + px(PROGRESS_SEG_W, s) - 1, seg_y + px(PROGRESS_SEG_H, s) - 1), fill=colour)
    if section.video_title and not section.compact:
        face = font(px(VIDEO_TITLE_SIZE, s))
        room = inner - (progress_w + px(16, s) if section.section_count > 1 else 0)
        draw_lines(draw, margin, top, [ellipsize(section.video_title.upper(), face, room)], face, 0, theme.muted)
    eyebrow_face = font(px(EYEBROW_SIZE, s), True)
    draw_lines(draw, margin, section.header_rect.y, [section.eyebrow], eyebrow_face, 0, theme.accent)
    title_face = section.title.face
    after = draw_lines(
        draw, margin, section.title_top, section.title.lines, title_face, line_height(title_face, 1.1), theme.text
    )
    rule_y = after + px(16, s)
    draw.rectangle((margin, rule_y, margin + px(RULE_W, s) - 1, rule_y + px(RULE_H, s) - 1), fill=theme.accent)
    for block in section.bullets[:visible]:
        _draw_bullet(draw, block, theme.text, theme.accent)
    if stripe is not None:
        draw.rectangle((stripe.x, stripe.y, stripe.right - 1, stripe.bottom - 1), fill=theme.accent)
    return image


def _draw_bullet(draw: ImageDraw.ImageDraw, block: BulletBlock, text: RGB, accent: RGB) -> None:
    face = block.text.face
    size = block.text.size
    marker = max(4, round(size * MARKER))
    cap = ascent(face) * 0.72  # roughly the height of a capital: centre the marker on it
    my = round(block.rect.y + ascent(face) - cap / 2 - marker / 2)
    draw.rectangle((block.rect.x, my, block.rect.x + marker - 1, my + marker - 1), fill=accent)
    draw_lines(
        draw,
        block.rect.x + round(size * INDENT),
        block.rect.y,
        block.text.lines,
        face,
        line_height(face, BULLET_LINE_SPACING),
        text,
    )


# ---------------------------------------------------------------- captions


def caption_height(scale: float, theme: Theme) -> int:
    face = font(px(theme.caption_size, scale), True)
    return even(line_height(face, CAPTION_LINE_SPACING) * CAPTION_LINES + 2 * px(CAPTION_PAD_Y, scale) + 1)


def draw_caption(
    text: str, max_width: int, scale: float, theme: Theme, opaque: RGB | None = None, full_width: bool = False
) -> Image.Image:
    """A caption box sized to its text (or ``max_width`` wide), at most two lines: the theme's caption colours, or
    its text colour on an ``opaque`` band (the side panel's)."""
    pad_x, pad_y = px(CAPTION_PAD_X, scale), px(CAPTION_PAD_Y, scale)
    fitted = fit(
        " ".join(text.split()),
        max_width - 2 * pad_x,
        CAPTION_LINES,
        px(theme.caption_size, scale),
        px(theme.caption_size * CAPTION_MIN_SHARE, scale),
        bold=True,
    )
    face = fitted.face
    step = line_height(face, CAPTION_LINE_SPACING)
    widest = max((text_width(line, face) for line in fitted.lines), default=0)
    width = max_width if full_width else min(max_width, even(widest + 2 * pad_x + 1))
    height = even(step * len(fitted.lines) + 2 * pad_y + 1)
    fill: RGBA = (*opaque, 255) if opaque is not None else theme.caption_box
    box = rounded_box(width, height, _radius(CAPTION_RADIUS, scale, theme), fill)
    draw = ImageDraw.Draw(box)
    ink = theme.text if opaque is not None else theme.caption_text
    draw_lines(draw, pad_x, pad_y, fitted.lines, face, step, ink, center_width=width - 2 * pad_x)
    return box


# ---------------------------------------------------------------- cards over the presenter


def draw_title_card(eyebrows: tuple[str, ...], title: str, max_width: int, scale: float, theme: Theme) -> Image.Image:
    """Lower-third: accent bar, a small eyebrow line (the first of ``eyebrows`` that fits), the section title."""
    pad_x, pad_y = px(CARD_PAD_X, scale), px(CARD_PAD_Y, scale)
    bar = px(CARD_BAR_W, scale)
    text_max = max_width - 2 * pad_x - bar
    eyebrow_face = font(px(CARD_EYEBROW_SIZE, scale), True)
    eyebrow = ellipsize(
        next((e for e in eyebrows if text_width(e, eyebrow_face) <= text_max), eyebrows[-1]), eyebrow_face, text_max
    )
    fitted = fit(title, text_max, 2, px(CARD_TITLE_SIZE, scale), px(CARD_TITLE_MIN, scale), bold=True)
    title_step = line_height(fitted.face, 1.1)
    gap = px(6, scale)
    widest = max([text_width(eyebrow, eyebrow_face)] + [text_width(line, fitted.face) for line in fitted.lines])
    width = min(max_width, even(widest + 2 * pad_x + bar + 1))
    height = even(2 * pad_y + line_height(eyebrow_face) + gap + title_step * len(fitted.lines) + 1)
    card = rounded_box(width, height, _radius(theme.card_radius, scale, theme), theme.card)
    draw = ImageDraw.Draw(card)
    radius = _radius(theme.card_radius, scale, theme)
    draw.rectangle((0, radius // 2, bar - 1, height - 1 - radius // 2), fill=theme.accent)
    x = bar + pad_x
    y = draw_lines(draw, x, pad_y, [eyebrow], eyebrow_face, line_height(eyebrow_face), theme.accent)
    draw_lines(draw, x, y + gap, fitted.lines, fitted.face, title_step, theme.text)
    return card


@dataclass(frozen=True)
class BulletCard:
    """One section's bullet card over the presenter: fixed width, grows as bullets appear."""

    width: int
    scale: float
    heading: str
    heading_bottom: int  # card pixels
    bullets: list[BulletBlock]  # rects in card pixels
    dropped: int  # bullets that did not fit even at the smallest font

    def height(self, visible: int) -> int:
        """Card height with the first ``visible`` bullets shown (just the heading for 0)."""
        bottom = (
            self.bullets[min(visible, len(self.bullets)) - 1].rect.bottom
            if visible and self.bullets
            else self.heading_bottom
        )
        return even(bottom + px(CARD_PAD_Y, self.scale) + 1)


def layout_bullet_card(heading: str, bullets: tuple[str, ...], width: int, max_height: int, scale: float) -> BulletCard:
    pad_x, pad_y = px(CARD_PAD_X, scale), px(CARD_PAD_Y, scale)
    bar = px(CARD_BAR_W, scale)
    heading_face = font(px(CARD_EYEBROW_SIZE, scale), True)
    heading_bottom = pad_y + line_height(heading_face)
    top = heading_bottom + px(14, scale)
    inner = width - 2 * pad_x - bar
    blocks, dropped = _layout_bullets(
        bullets,
        bar + pad_x,
        top,
        inner,
        max_height - pad_y - top,
        px(CARD_BULLET_SIZE, scale),
        px(CARD_BULLET_MIN, scale),
        BULLET_MAX_LINES,
    )
    return BulletCard(width, scale, ellipsize(heading.upper(), heading_face, inner), heading_bottom, blocks, dropped)


def draw_bullet_card(card: BulletCard, visible: int, theme: Theme, written: int | None = None) -> Image.Image:
    """The card sized for ``visible`` bullets, with the text of the first ``written`` (default: all visible) drawn:
    the picture a new bullet's text fades in over."""
    s = card.scale
    height = card.height(visible)
    radius = _radius(theme.card_radius, s, theme)
    image = rounded_box(card.width, height, radius, theme.card)
    draw = ImageDraw.Draw(image)
    bar = px(CARD_BAR_W, s)
    draw.rectangle((0, radius // 2, bar - 1, height - 1 - radius // 2), fill=theme.accent)
    heading_face = font(px(CARD_EYEBROW_SIZE, s), True)
    draw_lines(draw, bar + px(CARD_PAD_X, s), px(CARD_PAD_Y, s), [card.heading], heading_face, 0, theme.accent)
    for block in card.bullets[: visible if written is None else written]:
        _draw_bullet(draw, block, theme.text, theme.accent)
    return image
