"""The plan's building blocks: layers (a picture, or the presenter video, at a rectangle for a window of frames)
and the sink that writes their pictures and fade-in frames.

Every layer is a pure function of the frame number: frame n of the video shows layer L when
``L.first_frame <= n < L.end_frame``; a layer with ``intro`` pictures shows ``intro[n - first_frame]`` on its first
frames, then ``image``. So any window of frames can be rendered on its own and match the whole render.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from presgen_training.overlay.config import RGB
from presgen_training.overlay.geometry import PresenterFit, Rect, even

MOTION_FRAMES = 6  # a fade lasts this many frames (240 ms at 25 fps); its first frame is already well visible
PNG_COMPRESSION = 1  # fast to write; ffmpeg decodes each picture once
SEQUENCE_DIGITS = 3  # fade pictures are NAME-000.png ... NAME-00F.png, the last being the held picture


@dataclass(frozen=True)
class Layer:
    """A picture (or, with ``fit``, the presenter video) shown at ``rect`` for frames first_frame <= n < end_frame."""

    kind: str  # background | slide | image | panel | bullet | title | bullets | caption | shadow | ring | logo |
    #            intro | end | presenter
    image: Path | None  # None for the presenter
    rect: Rect
    first_frame: int
    end_frame: int
    section_index: int | None = None
    visible_bullets: int = 0
    intro: tuple[Path, ...] = ()  # shown one per frame from first_frame on (a fade), before ``image`` is held
    fit: PresenterFit | None = None  # presenter layers: how the avatar video is scaled and cropped into rect
    mask: Path | None = None  # presenter layers: greyscale alpha mask of rect's size (rounded or circular)

    @property
    def is_presenter(self) -> bool:
        return self.fit is not None

    @property
    def sequence_pattern(self) -> str | None:
        """ffmpeg image2 pattern of intro + image (NAME-%03d.png), when the layer has intro pictures."""
        if not self.intro or self.image is None:
            return None
        return str(self.image)[: -len(f"-{0:0{SEQUENCE_DIGITS}d}.png")] + f"-%0{SEQUENCE_DIGITS}d.png"


@dataclass(frozen=True)
class BulletRegion:
    section_index: int
    bullet_index: int
    text: str
    rect: Rect  # output pixels: marker and text of the bullet
    reveal_s: float  # time of the first frame that shows it
    hide_s: float
    source: str  # spoken | spread (see schedule.py)


@dataclass(frozen=True)
class SectionWindow:
    """What one section shows, for the manifest, chapters and tests."""

    index: int
    title: str
    first_frame: int
    end_frame: int
    arrangement: str  # panel | stage (the presenter takes the frame) | slide | slide-band | slide-beside
    presenter_rect: Rect
    slide_rect: Rect | None = None  # where the slide or section image is drawn
    pip_corner: str | None = None
    text_boxes: tuple[Rect, ...] = ()  # the slide's text blocks, output pixels


@dataclass
class OverlayPlan:
    width: int
    height: int
    fps: int
    frames: int  # the whole video: intro card, sections, end card
    layout: str
    aspect: str
    presenter: PresenterFit  # the first section's presenter crop
    background: RGB  # the canvas colour behind everything
    panel_rect: Rect | None
    face_rect: Rect | None  # protected face region, output pixels (first section)
    face_source: str  # given | detected | assumed | none
    caption_rect: Rect | None
    source_face: Rect | None = None  # the face in avatar-video pixels (as detected or given)
    content_start: int = 0  # frame where the narration starts (after an intro card in "after" mode)
    content_frames: int = 0  # frames of narration
    layers: list[Layer] = field(default_factory=list)
    bullets: list[BulletRegion] = field(default_factory=list)
    sections: list[SectionWindow] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def ease_in(k: int, frames: int = MOTION_FRAMES) -> float:
    """Opacity of fade-in frame k (0-based): eased out, so the first frame already shows the card clearly."""
    return 1.0 - (1.0 - (k + 1) / (frames + 1)) ** 4


def with_opacity(image: Image.Image, opacity: float) -> Image.Image:
    rgba = image.convert("RGBA")
    alpha = rgba.getchannel("A").point(lambda v: round(v * opacity))
    rgba.putalpha(alpha)
    return rgba


class LayerSink:
    """Writes layer pictures into ``folder`` and collects the layers in drawing order."""

    def __init__(self, folder: Path, motion: bool) -> None:
        self.folder = folder
        self.motion = motion
        self.layers: list[Layer] = []

    def save(self, image: Image.Image, name: str) -> Path:
        path = self.folder / f"{len(self.layers):03d}-{name}.png"
        image.save(path, compress_level=PNG_COMPRESSION)
        return path

    def add(
        self,
        kind: str,
        image: Image.Image,
        x: int,
        y: int,
        first: int,
        end: int,
        section: int | None = None,
        visible: int = 0,
        fade: bool = True,
        fade_from: Image.Image | None = None,
        fade_out: bool = False,
    ) -> Layer | None:
        """Show ``image`` at (x, y) for frames [first, end). With motion on, it fades in over MOTION_FRAMES (from
        transparent, or from ``fade_from``) and, with ``fade_out``, fades out over its last MOTION_FRAMES."""
        if end <= first:
            return None
        rect = Rect(even(x), even(y), image.width, image.height)
        steps = MOTION_FRAMES if self.motion and fade and end - first > 2 * MOTION_FRAMES else 0
        out = MOTION_FRAMES if self.motion and fade_out and end - first > 2 * MOTION_FRAMES + steps else 0
        if steps:
            start = fade_from.convert("RGBA") if fade_from is not None else None
            frames = [self._blend(start, image, ease_in(k)) for k in range(steps)] + [image]
            layer = self._sequence(kind, frames, rect, first, end - out, section, visible)
        else:
            layer = Layer(kind, self.save(image, kind), rect, first, end - out, section, visible)
            self.layers.append(layer)
        if out:
            frames = [with_opacity(image, 1.0 - ease_in(k)) for k in range(out)]
            self._sequence(kind, frames, rect, end - out, end, section, visible)
        return layer

    def add_presenter(
        self, fit: PresenterFit, first: int, end: int, mask: Image.Image | None = None, section: int | None = None
    ) -> Layer | None:
        """The presenter video, scaled and cropped by ``fit``, for frames [first, end); merged with the previous
        presenter layer when that one ends at ``first`` with the same crop and mask."""
        if end <= first:
            return None
        previous = next((layer for layer in reversed(self.layers) if layer.is_presenter), None)
        if (
            previous is not None
            and previous.fit == fit
            and previous.end_frame == first
            and (previous.mask is None) == (mask is None)
            and self.layers[-1] is previous
        ):
            merged = Layer("presenter", None, previous.rect, previous.first_frame, end, None, 0, (), fit, previous.mask)
            self.layers[-1] = merged
            return merged
        mask_path = self.save(mask, "mask") if mask is not None else None
        layer = Layer("presenter", None, fit.rect, first, end, section, 0, (), fit, mask_path)
        self.layers.append(layer)
        return layer

    def _sequence(
        self, kind: str, frames: list[Image.Image], rect: Rect, first: int, end: int, section: int | None, visible: int
    ) -> Layer:
        stem = self.folder / f"{len(self.layers):03d}-{kind}"
        paths = []
        for k, frame in enumerate(frames):
            path = Path(f"{stem}-{k:0{SEQUENCE_DIGITS}d}.png")
            frame.convert("RGBA").save(path, compress_level=PNG_COMPRESSION)  # one pixel format per sequence
            paths.append(path)
        layer = Layer(kind, paths[-1], rect, first, end, section, visible, tuple(paths[:-1]))
        self.layers.append(layer)
        return layer

    @staticmethod
    def _blend(start: Image.Image | None, image: Image.Image, opacity: float) -> Image.Image:
        if start is None:
            return with_opacity(image, opacity)
        return Image.blend(start, image.convert("RGBA"), opacity)
