"""What frames every section: the theme's background picture and logo, the intro card before the first section and
the end card after the last (each its own stretch of frames, so they can be rendered apart from the sections)."""

from __future__ import annotations

from PIL import Image, ImageDraw

from presgen_training.overlay.cards import draw_lines, px
from presgen_training.overlay.config import Theme
from presgen_training.overlay.geometry import Rect, even
from presgen_training.overlay.plan import Context
from presgen_training.overlay.text import fit, line_height

LOGO_H = 52  # px at 720p: logo height in the corner during the sections
LOGO_MARGIN = 22  # px at 720p from the frame edges
CARD_LOGO_H = 90  # px at 720p: logo height on the intro and end cards
CARD_TITLE_SIZE, CARD_TITLE_MIN = 58, 34  # px at 720p
CARD_SUBTITLE_SIZE, CARD_SUBTITLE_MIN = 28, 20
CARD_RULE_W, CARD_RULE_H = 84, 6
CARD_SIDE_SHARE = 0.8  # text width / frame width on the cards


def cover(picture: Image.Image, width: int, height: int) -> Image.Image:
    """Scale to cover width x height and crop the middle."""
    factor = max(width / picture.width, height / picture.height)
    size = (max(width, round(picture.width * factor)), max(height, round(picture.height * factor)))
    scaled = picture.convert("RGB").resize(size, Image.Resampling.LANCZOS)
    left, top = (size[0] - width) // 2, (size[1] - height) // 2
    return scaled.crop((left, top, left + width, top + height))


def background_picture(theme: Theme, width: int, height: int) -> Image.Image:
    if theme.background_image is not None:
        with Image.open(theme.background_image) as img:
            return cover(img, width, height)
    return Image.new("RGB", (width, height), theme.background)


def add_background(ctx: Context) -> None:
    if ctx.theme.background_image is not None:
        ctx.sink.add(
            "background", background_picture(ctx.theme, ctx.width, ctx.height), 0, 0, 0, ctx.frames, fade=False
        )


def _logo(theme: Theme, height: int) -> Image.Image | None:
    if theme.logo is None:
        return None
    with Image.open(theme.logo) as img:
        logo: Image.Image = img.convert("RGBA")
    factor = height / logo.height
    return logo.resize((max(2, even(logo.width * factor)), even(height)), Image.Resampling.LANCZOS)


def logo_rect(ctx: Context) -> Rect | None:
    logo = _logo(ctx.theme, px(LOGO_H, ctx.scale))
    if logo is None:
        return None
    margin = px(LOGO_MARGIN, ctx.scale)
    corner = ctx.theme.logo_corner
    x = margin if corner.endswith("left") else ctx.width - margin - logo.width
    y = margin if corner.startswith("top") else ctx.height - margin - logo.height
    return Rect(even(x), even(y), logo.width, logo.height)


def add_logo(ctx: Context) -> None:
    rect = ctx.logo_rect
    logo = _logo(ctx.theme, px(LOGO_H, ctx.scale))
    if rect is not None and logo is not None:
        ctx.sink.add("logo", logo, rect.x, rect.y, ctx.content_start, ctx.content_end, fade=False)


def title_card(theme: Theme, width: int, height: int, title: str, subtitle: str) -> Image.Image:
    """A full-frame card: logo, title, accent rule and subtitle, centred on the theme's background."""
    scale = min(width, height) / 720
    image = background_picture(theme, width, height)
    draw = ImageDraw.Draw(image)
    inner = round(width * CARD_SIDE_SHARE)
    big = fit(title, inner, 3, px(CARD_TITLE_SIZE, scale), px(CARD_TITLE_MIN, scale), bold=True)
    small = fit(subtitle, inner, 2, px(CARD_SUBTITLE_SIZE, scale), px(CARD_SUBTITLE_MIN, scale)) if subtitle else None
    logo = _logo(theme, px(CARD_LOGO_H, scale))
    gap = px(28, scale)
    title_h = line_height(big.face, 1.1) * len(big.lines)
    sub_h = line_height(small.face, 1.2) * len(small.lines) if small else 0
    total = (logo.height + gap if logo else 0) + title_h + gap + px(CARD_RULE_H, scale) + (gap + sub_h if small else 0)
    y = (height - total) // 2
    x = (width - inner) // 2
    if logo is not None:
        image.paste(logo, ((width - logo.width) // 2, y), logo)
        y += logo.height + gap
    y = draw_lines(draw, x, y, big.lines, big.face, line_height(big.face, 1.1), theme.text, center_width=inner)
    y += gap // 2
    rule_w = px(CARD_RULE_W, scale)
    draw.rectangle(
        ((width - rule_w) // 2, y, (width + rule_w) // 2 - 1, y + px(CARD_RULE_H, scale) - 1), fill=theme.accent
    )
    y += px(CARD_RULE_H, scale) + gap
    if small is not None:
        draw_lines(draw, x, y, small.lines, small.face, line_height(small.face, 1.2), theme.muted, center_width=inner)
    return image


def add_cards(ctx: Context) -> None:
    bookends = ctx.config.bookends
    title = ctx.config.title or (ctx.narration.sections[0].section.title if ctx.narration.sections else "")
    if ctx.intro_frames:
        card = title_card(ctx.theme, ctx.width, ctx.height, title, bookends.subtitle)
        # the first frame already shows the card in full (a video should not open on an empty frame)
        ctx.sink.add("intro", card, 0, 0, 0, ctx.intro_frames, fade=False, fade_out=True)
    if ctx.end_frames:
        card = title_card(ctx.theme, ctx.width, ctx.height, bookends.end_title, title)
        ctx.sink.add("end", card, 0, 0, ctx.content_end, ctx.frames)
