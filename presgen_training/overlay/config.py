"""How the overlay stage should look: layout, aspect, output size, captions, theme, intro and end cards."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from presgen_training.errors import PresgenError

RGB = tuple[int, int, int]
RGBA = tuple[int, int, int, int]

QUALITIES = ("fast", "standard", "high")
# output width x height in pixels, per aspect and quality
FRAME_SIZES: dict[str, dict[str, tuple[int, int]]] = {
    "16:9": {"fast": (854, 480), "standard": (1280, 720), "high": (1920, 1080)},
    "9:16": {"fast": (480, 854), "standard": (720, 1280), "high": (1080, 1920)},
    "1:1": {"fast": (480, 480), "standard": (720, 720), "high": (1080, 1080)},
}
QUALITY_SIZES = FRAME_SIZES["16:9"]
ASPECTS = tuple(FRAME_SIZES)
LAYOUTS = ("side", "overlay", "slides")
CAPTION_MODES = ("burn", "sidecar", "off")
PRESENTER_SIDES = ("left", "right")
CORNERS = ("top-left", "top-right", "bottom-left", "bottom-right")
PIP_CORNERS = ("auto", *CORNERS)
PIP_SHAPES = ("rounded", "circle")
INTRO_MODES = ("off", "after", "over")  # after: narration starts when the card is gone; over: it speaks over it
PIP_SIZE_RANGE = (0.12, 0.45)  # presenter picture-in-picture width, as a share of the frame width


@dataclass(frozen=True)
class Theme:
    """Colours (sRGB; alpha 0-255), fonts, logo and background of everything the overlay draws."""

    name: str = "default"
    panel: RGB = (15, 23, 42)  # side panel background
    text: RGB = (241, 245, 249)
    muted: RGB = (148, 163, 184)
    accent: RGB = (56, 189, 248)
    card: RGBA = (15, 23, 42, 222)  # cards over the presenter
    caption_box: RGBA = (2, 6, 23, 190)
    caption_text: RGB = (255, 255, 255)
    divider: RGB = (30, 41, 59)  # caption band in the side panel
    track: RGB = (51, 65, 85)  # section progress marks not yet reached
    background: RGB = (15, 23, 42)  # behind slides and beside a presenter narrower than the frame
    background_image: Path | None = None  # covers the frame behind everything (scaled to cover, centred)
    font_regular: Path | None = None  # a .ttf/.otf file; DejaVu Sans otherwise
    font_bold: Path | None = None
    logo: Path | None = None  # a picture (PNG with transparency works best) shown in logo_corner
    logo_corner: str = "top-right"
    card_radius: int = 12  # px at 720p; 0 gives square cards
    caption_size: int = 27  # px at 720p
    pip_shape: str = "rounded"  # rounded | circle
    pip_ring: RGB | None = (255, 255, 255)  # thin border around the picture-in-picture; None for none

    def __post_init__(self) -> None:
        if self.logo_corner not in CORNERS:
            raise PresgenError(f"theme logo_corner '{self.logo_corner}': choose one of {', '.join(CORNERS)}")
        if self.pip_shape not in PIP_SHAPES:
            raise PresgenError(f"theme pip_shape '{self.pip_shape}': choose one of {', '.join(PIP_SHAPES)}")


@dataclass(frozen=True)
class Bookends:
    """The intro card before the first section and the end card after the last."""

    intro: str = "off"  # off | after (narration starts after the card) | over (the narration speaks over it)
    intro_s: float = 3.0
    subtitle: str = ""  # under the title on the intro card
    end_card: bool = False
    end_s: float = 3.0
    end_title: str = "Thank you for watching"

    def __post_init__(self) -> None:
        if self.intro not in INTRO_MODES:
            raise PresgenError(f"unknown intro '{self.intro}'; choose one of: {', '.join(INTRO_MODES)}")
        if not 1.0 <= self.intro_s <= 15.0 or not 1.0 <= self.end_s <= 15.0:
            raise PresgenError("intro and end cards last 1 to 15 seconds")


@dataclass(frozen=True)
class OverlayConfig:
    layout: str = "side"  # side: presenter beside a panel | overlay: presenter full-frame, cards over it | slides
    quality: str = "standard"  # fast | standard | high (the frame's shorter side: 480, 720, 1080)
    aspect: str = "16:9"  # 16:9 | 9:16 | 1:1
    captions: str = "sidecar"  # burn: captions drawn into the video | sidecar / off: not drawn
    title: str = ""  # the video's title
    theme: Theme = field(default_factory=Theme)
    presenter_side: str = "right"  # side layout: where the presenter stands
    title_card_s: float = 3.0  # overlay layout: seconds the section title card stays up
    pip_size: float = 0.26  # slides layout: presenter picture-in-picture width / frame width
    pip_corner: str = "auto"  # slides layout: auto = the corner where the slide has least content
    bookends: Bookends = field(default_factory=Bookends)
    motion: bool = True  # cards and bullets fade in (over MOTION frames) instead of cutting in
    chapters: bool = False  # write NAME.chapters.vtt and NAME.thumbnail.png beside the video
    x264_preset: str = "veryfast"
    crf: int = 22

    def __post_init__(self) -> None:
        for name, value, allowed in (
            ("layout", self.layout, LAYOUTS),
            ("quality", self.quality, QUALITIES),
            ("aspect", self.aspect, ASPECTS),
            ("captions", self.captions, CAPTION_MODES),
            ("presenter_side", self.presenter_side, PRESENTER_SIDES),
            ("pip_corner", self.pip_corner, PIP_CORNERS),
        ):
            if value not in allowed:
                raise PresgenError(f"unknown overlay {name} '{value}'; choose one of: {', '.join(allowed)}")
        low, high = PIP_SIZE_RANGE
        if not low <= self.pip_size <= high:
            raise PresgenError(
                f"--pip-size must be between {low} and {high} (share of the frame width), not {self.pip_size}"
            )
        if not 0 <= self.crf <= 51:
            raise PresgenError(f"overlay crf must be 0-51, not {self.crf}")

    @property
    def size(self) -> tuple[int, int]:
        return FRAME_SIZES[self.aspect][self.quality]
