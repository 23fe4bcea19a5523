"""A thumbnail beside the video: the title on the theme's background next to the presenter (face-centred)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

from presgen_training.files import atomic_output
from presgen_training.overlay.bookends import background_picture
from presgen_training.overlay.cards import draw_lines, px, rounded_box
from presgen_training.overlay.config import OverlayConfig
from presgen_training.overlay.geometry import Rect, even, fit_presenter
from presgen_training.overlay.text import fit, line_height

TITLE_SIZE, TITLE_MIN = 64, 34  # px at 720p
PRESENTER_SHARE = 0.42  # share of the long side the presenter takes
MARGIN = 48  # px at 720p
RADIUS = 28  # px at 720p


def write_thumbnail(
    path: Path, config: OverlayConfig, width: int, height: int, still: Image.Image, face: Rect | None
) -> None:
    theme = config.theme
    s = min(width, height) / 720
    image = background_picture(theme, width, height)
    margin = px(MARGIN, s)
    if width >= height:
        photo = Rect(
            even(width * (1 - PRESENTER_SHARE)), margin, even(width * PRESENTER_SHARE) - margin, height - 2 * margin
        )
        text = Rect(margin, margin, photo.x - 2 * margin, height - 2 * margin)
    else:
        photo = Rect(margin, margin, width - 2 * margin, even(height * PRESENTER_SHARE))
        text = Rect(margin, photo.bottom + margin, width - 2 * margin, height - photo.bottom - 2 * margin)
    fitted = fit_presenter(still.width, still.height, Rect(0, 0, photo.w, photo.h), face)
    crop = still.resize((fitted.scaled_w, fitted.scaled_h), Image.Resampling.LANCZOS).crop(
        (fitted.crop_x, fitted.crop_y, fitted.crop_x + photo.w, fitted.crop_y + photo.h)
    )
    mask = rounded_box(photo.w, photo.h, px(RADIUS, s), (255, 255, 255, 255)).getchannel("A")
    image.paste(crop, (photo.x, photo.y), mask)
    title = config.title or "Untitled"
    fitted_title = fit(title, text.w, 4, px(TITLE_SIZE, s), px(TITLE_MIN, s), bold=True)
    step = line_height(fitted_title.face, 1.1)
    block = step * len(fitted_title.lines) + px(30, s)
    y = text.y + (text.h - block) // 2
    draw = ImageDraw.Draw(image)
    draw.rectangle((text.x, y, text.x + px(84, s) - 1, y + px(8, s) - 1), fill=theme.accent)
    draw_lines(draw, text.x, y + px(30, s), fitted_title.lines, fitted_title.face, step, theme.text)
    with atomic_output(path) as tmp:
        image.save(tmp, format="PNG")
