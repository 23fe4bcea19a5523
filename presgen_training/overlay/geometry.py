"""Rectangles, and how the presenter video is scaled and cropped into its place in the frame."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

# How far the protected face region reaches beyond a detector's box (which runs from brows to chin),
# as fractions of the box: sideways for ears, up for forehead and hair, down for the chin.
FACE_GROW_SIDE = 0.25
FACE_GROW_UP = 0.45
FACE_GROW_DOWN = 0.2
FACE_HEIGHT_AT = 0.4  # where the face centre should sit in a cropped presenter, as a fraction of its height
NO_FACE_CROP_AT = 0.25  # without a face, keep this fraction of the cropped-off height above the crop


class Rect(NamedTuple):
    x: int
    y: int
    w: int
    h: int

    @property
    def right(self) -> int:
        return self.x + self.w

    @property
    def bottom(self) -> int:
        return self.y + self.h

    @property
    def empty(self) -> bool:
        return self.w <= 0 or self.h <= 0

    def intersects(self, other: Rect) -> bool:
        return (
            not self.empty
            and not other.empty
            and self.x < other.right
            and other.x < self.right
            and self.y < other.bottom
            and other.y < self.bottom
        )

    def inflate(self, dx: int, dy: int) -> Rect:
        return Rect(self.x - dx, self.y - dy, self.w + 2 * dx, self.h + 2 * dy)

    def clip(self, bounds: Rect) -> Rect:
        x0, y0 = max(self.x, bounds.x), max(self.y, bounds.y)
        x1, y1 = min(self.right, bounds.right), min(self.bottom, bounds.bottom)
        return Rect(x0, y0, max(0, x1 - x0), max(0, y1 - y0))

    def contains(self, other: Rect) -> bool:
        return self.x <= other.x and self.y <= other.y and other.right <= self.right and other.bottom <= self.bottom


def even(value: float) -> int:
    """Round down to an even number (yuv420p chroma is subsampled 2x2: odd offsets shift by a pixel)."""
    return math.floor(value / 2.0) * 2


def grow_face(box: Rect) -> Rect:
    """The region around a detected face that overlays must leave alone (forehead, hair, ears, chin)."""
    left = round(box.w * FACE_GROW_SIDE)
    up = round(box.h * FACE_GROW_UP)
    down = round(box.h * FACE_GROW_DOWN)
    return Rect(box.x - left, box.y - up, box.w + 2 * left, box.h + up + down)


@dataclass(frozen=True)
class PresenterFit:
    """Scale the avatar video to ``scaled_w x scaled_h``, crop ``rect``'s size at (crop_x, crop_y), place at rect."""

    source_w: int
    source_h: int
    scaled_w: int
    scaled_h: int
    crop_x: int
    crop_y: int
    rect: Rect

    @property
    def scale(self) -> float:
        return self.scaled_w / self.source_w

    def map_box(self, box: Rect) -> Rect:
        """A box in avatar-video pixels -> output pixels, clipped to the presenter's rect."""
        sx, sy = self.scaled_w / self.source_w, self.scaled_h / self.source_h
        x0 = math.floor(box.x * sx) - self.crop_x + self.rect.x
        y0 = math.floor(box.y * sy) - self.crop_y + self.rect.y
        x1 = math.ceil(box.right * sx) - self.crop_x + self.rect.x
        y1 = math.ceil(box.bottom * sy) - self.crop_y + self.rect.y
        return Rect(x0, y0, x1 - x0, y1 - y0).clip(self.rect)


def fit_presenter(source_w: int, source_h: int, rect: Rect, face: Rect | None) -> PresenterFit:
    """Cover ``rect`` with the video (no bars), cropping so the face is centred and in the upper part."""
    scale = max(rect.w / source_w, rect.h / source_h)
    scaled_w = max(rect.w, 2 * math.ceil(source_w * scale / 2))
    scaled_h = max(rect.h, 2 * math.ceil(source_h * scale / 2))
    spare_x, spare_y = scaled_w - rect.w, scaled_h - rect.h
    if face is not None:
        cx = (face.x + face.w / 2) * scaled_w / source_w
        cy = (face.y + face.h / 2) * scaled_h / source_h
        crop_x = cx - rect.w / 2
        crop_y = cy - rect.h * FACE_HEIGHT_AT
    else:
        crop_x, crop_y = spare_x / 2, spare_y * NO_FACE_CROP_AT
    crop_x = even(min(max(crop_x, 0), spare_x))
    crop_y = even(min(max(crop_y, 0), spare_y))
    return PresenterFit(source_w, source_h, scaled_w, scaled_h, crop_x, crop_y, rect)


def frame_presenter(
    source_w: int,
    source_h: int,
    frame: Rect,
    face: Rect | None,
    face_max_share: float,
    close_up_share: float,
    min_zoom: float,
) -> PresenterFit:
    """Fill ``frame`` with the presenter, but zoom in no further than makes the face region ``face_max_share``
    of the frame height (a head-and-shoulders photo would otherwise become a face filling the screen). A close-up
    whose face takes more than ``close_up_share`` even with the whole video in view shrinks further, down to
    ``min_zoom`` of that, so captions and cards find room.

    Where the zoomed video is narrower (or lower) than the frame it is centred and leaves bands around it.
    """
    cover = max(frame.w / source_w, frame.h / source_h)
    contain = min(frame.w / source_w, frame.h / source_h)
    scale = cover
    if face is not None and face.h > 0:
        scale = min(cover, max(contain, face_max_share * frame.h / face.h))
        if face.h * scale > close_up_share * frame.h:
            scale = max(contain * min_zoom, close_up_share * frame.h / face.h)
    scaled_w = max(2, 2 * math.ceil(source_w * scale / 2))
    scaled_h = max(2, 2 * math.ceil(source_h * scale / 2))
    width, height = min(scaled_w, frame.w), min(scaled_h, frame.h)
    rect = Rect(
        frame.x + even((frame.w - width) / 2), frame.y + even((frame.h - height) / 2), even(width), even(height)
    )
    fit = fit_presenter(scaled_w, scaled_h, rect, _scaled(face, scaled_w / source_w, scaled_h / source_h))
    return PresenterFit(source_w, source_h, scaled_w, scaled_h, fit.crop_x, fit.crop_y, rect)


def _scaled(box: Rect | None, sx: float, sy: float) -> Rect | None:
    if box is None:
        return None
    return Rect(round(box.x * sx), round(box.y * sy), round(box.w * sx), round(box.h * sy))
