"""The presenter as a picture-in-picture over a slide: its size and corner (where the slide has least content and
no text), its mask (rounded or circular), soft shadow and ring."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from presgen_training.overlay.cards import SUPERSAMPLE, px
from presgen_training.overlay.config import CORNERS, RGB
from presgen_training.overlay.geometry import Rect, even

PIP_MARGIN = 24  # px at 720p between the frame edge and the picture-in-picture
PIP_GAP = 10  # px at 720p the picture-in-picture keeps from any text
ROUNDED_RADIUS = 0.16  # corner radius of the rounded mask, as a share of its width
SHADOW_BLUR = 14  # px at 720p
SHADOW_OFFSET = 6  # px at 720p, down and right
SHADOW_ALPHA = 150
RING_W = 3  # px at 720p
SHRINK_STEPS = (1.0, 0.85, 0.7)  # sizes tried, as shares of the requested size, before giving up on a corner
INK_DIFF = 40  # a channel this far from the slide's background colour is content
INK_SAMPLE = 4  # the slide is measured at 1/4 of its size (speed)
CLEAR_SHARE = 0.01  # a corner whose share of content is at most this covers nothing worth seeing
PREFERENCE = ("bottom-right", "bottom-left", "top-right", "top-left")  # on a tie, where viewers expect it


@dataclass(frozen=True)
class PipChoice:
    rect: Rect
    corner: str
    covers_text: bool  # only when the user forced a corner


def pip_rect(frame: Rect, corner: str, size: int, scale: float) -> Rect:
    margin = px(PIP_MARGIN, scale)
    x = frame.x + margin if corner.endswith("left") else frame.right - margin - size
    y = frame.y + margin if corner.startswith("top") else frame.bottom - margin - size
    return Rect(even(x), even(y), size, size)


def ink_map(picture: Image.Image) -> np.ndarray:
    """Booleans at 1/INK_SAMPLE scale: where the slide differs from its background (the commonest border colour)."""
    small = np.asarray(picture.convert("RGB").reduce(INK_SAMPLE), np.int16)
    border = np.concatenate([small[0], small[-1], small[:, 0], small[:, -1]])
    colours, counts = np.unique(border, axis=0, return_counts=True)
    background = colours[counts.argmax()]
    ink: np.ndarray = np.abs(small - background).max(axis=-1) > INK_DIFF
    return ink


def ink_share(ink: np.ndarray, slide: Rect, rect: Rect) -> float:
    """Share of ``rect`` (frame pixels) covered by slide content; the letterbox around the slide is empty."""
    part = rect.clip(slide)
    if part.empty:
        return 0.0
    x0, y0 = (part.x - slide.x) // INK_SAMPLE, (part.y - slide.y) // INK_SAMPLE
    x1, y1 = -(-(part.right - slide.x) // INK_SAMPLE), -(-(part.bottom - slide.y) // INK_SAMPLE)
    return float(ink[y0:y1, x0:x1].sum()) / max(1, (rect.w // INK_SAMPLE) * (rect.h // INK_SAMPLE))


def choose_corner(
    frame: Rect,
    slide: Rect,
    ink: np.ndarray,
    text: list[Rect],
    size: int,
    scale: float,
    forced: str | None,
    avoid: list[Rect],
) -> PipChoice | None:
    """Where the picture-in-picture goes: a corner clear of the slide's content (shrinking it if need be), else
    the corner with least content that touches no text (or ``avoid`` rectangle); None when every corner would
    cover text. A forced corner is always taken."""
    gap = px(PIP_GAP, scale)
    if forced is not None:
        rect = pip_rect(frame, forced, size, scale)
        return PipChoice(rect, forced, any(rect.inflate(gap, gap).intersects(t) for t in text))
    options = []  # (share of content, -size, preference, corner, rect), text-free corners only
    for share in SHRINK_STEPS:
        side = even(size * share)
        for corner in PREFERENCE:
            rect = pip_rect(frame, corner, side, scale)
            zone = rect.inflate(gap, gap)
            if any(zone.intersects(t) for t in text) or any(zone.intersects(a) for a in avoid):
                continue
            options.append((round(ink_share(ink, slide, zone), 3), -side, PREFERENCE.index(corner), corner, rect))
    if not options:
        return None
    clear = [o for o in options if o[0] <= CLEAR_SHARE]
    if clear:  # the largest picture that covers nothing, in the preferred corner
        _, _, _, corner, rect = min(clear, key=lambda o: (o[1], o[2]))
    else:  # the least content, at the largest size that touches no text
        largest = min(o[1] for o in options)
        _, _, _, corner, rect = min(o for o in options if o[1] == largest)
    return PipChoice(rect, corner, False)


def mask_picture(size: int, shape: str, scale: float) -> Image.Image:
    """Greyscale alpha mask of the picture-in-picture: a circle or a rounded square, anti-aliased."""
    big = Image.new("L", (size * SUPERSAMPLE, size * SUPERSAMPLE), 0)
    draw = ImageDraw.Draw(big)
    box = (0, 0, big.width - 1, big.height - 1)
    if shape == "circle":
        draw.ellipse(box, fill=255)
    else:
        draw.rounded_rectangle(box, round(size * ROUNDED_RADIUS) * SUPERSAMPLE, fill=255)
    return big.resize((size, size), Image.Resampling.LANCZOS)


def shadow_picture(mask: Image.Image, scale: float) -> tuple[Image.Image, int]:
    """A soft dark shadow of the mask, and how far it reaches beyond the picture-in-picture on each side."""
    blur = px(SHADOW_BLUR, scale)
    reach = 2 * blur + px(SHADOW_OFFSET, scale)
    alpha = Image.new("L", (mask.width + 2 * reach, mask.height + 2 * reach), 0)
    offset = px(SHADOW_OFFSET, scale)
    alpha.paste(mask.point(lambda v: v * SHADOW_ALPHA // 255), (reach + offset, reach + offset))
    alpha = alpha.filter(ImageFilter.GaussianBlur(blur))
    shadow = Image.new("RGBA", alpha.size, (0, 0, 0, 0))
    shadow.putalpha(alpha)
    return shadow, reach


def ring_picture(size: int, shape: str, colour: RGB, scale: float) -> Image.Image:
    """A thin ring along the mask's edge."""
    width = px(RING_W, scale)
    outer = mask_picture(size, shape, scale)
    inner = mask_picture(size - 2 * width, shape, scale)
    hole = Image.new("L", (size, size), 0)
    hole.paste(inner, (width, width))
    alpha = Image.fromarray(np.clip(np.asarray(outer, np.int16) - np.asarray(hole, np.int16), 0, 255).astype(np.uint8))
    ring = Image.new("RGBA", (size, size), (*colour, 0))
    ring.putalpha(alpha)
    return ring


__all__ = [
    "CORNERS",
    "PipChoice",
    "choose_corner",
    "ink_map",
    "mask_picture",
    "pip_rect",
    "ring_picture",
    "shadow_picture",
]
