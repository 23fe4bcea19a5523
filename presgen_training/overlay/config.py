"""How the overlay stage should look: layout, output size, captions, colours."""
from __future__ import annotations

from dataclasses import dataclass, field

from presgen_training.errors import PresgenError

RGB = tuple[int, int, int]
RGBA = tuple[int, int, int, int]

QUALITY_SIZES: dict[str, tuple[int, int]] = {  # output width x height in pixels
    "fast": (854, 480),
    "standard": (1280, 720),
    "high": (1920, 1080),
}
LAYOUTS = ("side", "overlay")
CAPTION_MODES = ("burn", "sidecar", "off")
PRESENTER_SIDES = ("left", "right")


@dataclass(frozen=True)
class Theme:
    """Colours of panels and cards (sRGB; alpha 0-255)."""

    panel: RGB = (15, 23, 42)  # side panel background
    text: RGB = (241, 245, 249)
    muted: RGB = (148, 163, 184)
    accent: RGB = (56, 189, 248)
    card: RGBA = (15, 23, 42, 222)  # cards over the presenter
    caption_box: RGBA = (2, 6, 23, 190)
    caption_text: RGB = (255, 255, 255)
    divider: RGB = (30, 41, 59)  # caption band in the side panel
    track: RGB = (51, 65, 85)  # section progress marks not yet reached


@dataclass(frozen=True)
class OverlayConfig:
    layout: str = "side"  # side: presenter beside a bullet panel | overlay: presenter full-frame, cards over it
    quality: str = "standard"  # fast 854x480 | standard 1280x720 | high 1920x1080
    captions: str = "sidecar"  # burn: captions drawn into the video | sidecar / off: not drawn
    title: str = ""  # the video's title
    theme: Theme = field(default_factory=Theme)
    presenter_side: str = "right"  # side layout: where the presenter stands
    title_card_s: float = 3.0  # overlay layout: seconds the section title card stays up
    x264_preset: str = "veryfast"
    crf: int = 22

    def __post_init__(self) -> None:
        for name, value, allowed in (("layout", self.layout, LAYOUTS), ("quality", self.quality, QUALITY_SIZES),
                                     ("captions", self.captions, CAPTION_MODES),
                                     ("presenter_side", self.presenter_side, PRESENTER_SIDES)):
            if value not in allowed:
                raise PresgenError(f"unknown overlay {name} '{value}'; choose one of: {', '.join(allowed)}")
        if not 0 <= self.crf <= 51:
            raise PresgenError(f"overlay crf must be 0-51, not {self.crf}")

    @property
    def size(self) -> tuple[int, int]:
        return QUALITY_SIZES[self.quality]
