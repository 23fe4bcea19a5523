"""Overlay stage: section titles, timed bullets, slides, captions, intro and end cards composited over the presenter
with one ffmpeg run; chapters and a thumbnail beside the video."""

from __future__ import annotations

from presgen_training.overlay.chapters import Chapter
from presgen_training.overlay.compose import CardRegion, ComposeResult, compose
from presgen_training.overlay.config import (
    ASPECTS,
    FRAME_SIZES,
    INTRO_MODES,
    LAYOUTS,
    PIP_CORNERS,
    QUALITY_SIZES,
    Bookends,
    OverlayConfig,
    Theme,
)
from presgen_training.overlay.schedule import BulletCue, bullet_schedule
from presgen_training.overlay.themes import BUILT_IN as BUILT_IN_THEMES
from presgen_training.overlay.themes import load_theme

__all__ = [
    "ASPECTS",
    "BUILT_IN_THEMES",
    "FRAME_SIZES",
    "INTRO_MODES",
    "LAYOUTS",
    "PIP_CORNERS",
    "QUALITY_SIZES",
    "Bookends",
    "BulletCue",
    "CardRegion",
    "Chapter",
    "ComposeResult",
    "OverlayConfig",
    "Theme",
    "bullet_schedule",
    "compose",
    "load_theme",
]
