"""Overlay stage: section titles, timed bullets and captions composited over the presenter with one ffmpeg run."""
from __future__ import annotations

from presgen_training.overlay.compose import CardRegion, ComposeResult, compose
from presgen_training.overlay.config import QUALITY_SIZES, OverlayConfig, Theme
from presgen_training.overlay.schedule import BulletCue, bullet_schedule

__all__ = ["BulletCue", "CardRegion", "ComposeResult", "OverlayConfig", "QUALITY_SIZES", "Theme", "bullet_schedule",
           "compose"]
