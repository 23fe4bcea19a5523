"""PresGen: script + presenter photo or video -> finished presenter video, offline."""

from __future__ import annotations

__version__ = "0.1.0"
