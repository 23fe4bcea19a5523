"""Fonts and line wrapping for the overlay cards (Pillow, offline)."""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PIL import ImageFont

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont
FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))
REGULAR_FONT = "DejaVuSans.ttf"
BOLD_FONT = "DejaVuSans-Bold.ttf"
ELLIPSIS = "\u2026"
_PROBE_PX = 16  # any size: coverage does not depend on it
_NEVER_DRAWN = ("Cc", "Cf", "Zs", "Zl", "Zp")  # controls, joiners, spaces: no glyph of their own
_VARIATION_SELECTORS = range(0xFE00, 0xFE10)
# The theme's font files (regular, bold) while a plan is drawn; None: DejaVu Sans.
_THEME_FONTS: ContextVar[tuple[Path | None, Path | None]] = ContextVar("theme_fonts", default=(None, None))


@contextmanager
def theme_fonts(regular: Path | None, bold: Path | None) -> Iterator[None]:
    """Draw text with these font files (a theme's) inside the block."""
    token = _THEME_FONTS.set((regular, bold))
    try:
        yield
    finally:
        _THEME_FONTS.reset(token)


def font(size: int, bold: bool = False) -> Font:
    """The theme's font when it names one, else DejaVu Sans when installed, else Pillow's bundled font."""
    regular, bold_file = _THEME_FONTS.get()
    return _font(size, bold, (bold_file or regular) if bold else regular)


@lru_cache(maxsize=128)
def _font(size: int, bold: bool, file: Path | None) -> Font:
    if file is not None:
        return ImageFont.truetype(str(file), size)
    name = BOLD_FONT if bold else REGULAR_FONT
    for folder in FONT_DIRS:
        if (folder / name).is_file():
            return ImageFont.truetype(str(folder / name), size)
    return ImageFont.load_default(size=size)


def missing_glyphs(texts: Iterable[str]) -> list[str]:
    """The characters of ``texts`` that the regular or bold font has no glyph for (drawn as empty boxes)."""
    chars = {
        ch
        for text in texts
        for ch in text
        if unicodedata.category(ch) not in _NEVER_DRAWN and ord(ch) not in _VARIATION_SELECTORS
    }
    missing: set[str] = set()
    for bold in (False, True):
        covered = _coverage(font(_PROBE_PX, bold))
        if covered is not None:
            missing |= {ch for ch in chars if ord(ch) not in covered}
    return sorted(missing)


@lru_cache(maxsize=8)
def _coverage(face: Font) -> frozenset[int] | None:
    """Code points the font maps to a glyph; None when that cannot be read (a bitmap font)."""
    from fontTools.ttLib import TTFont, TTLibError

    source = getattr(face, "path", None)
    if isinstance(source, io.BytesIO):
        source = io.BytesIO(source.getvalue())
    if not isinstance(source, (str, io.BytesIO)):
        return None
    try:
        with TTFont(source, lazy=True, fontNumber=0) as tt:
            return frozenset(tt.getBestCmap() or {})
    except (OSError, TTLibError):
        return None


def text_width(text: str, face: Font) -> float:
    return float(face.getlength(text))


def line_height(face: Font, spacing: float = 1.0) -> int:
    """Baseline-to-baseline distance in pixels."""
    if isinstance(face, ImageFont.FreeTypeFont):
        ascent, descent = face.getmetrics()
        return round((ascent + descent) * spacing)
    box = face.getbbox("Ag")
    return round((box[3] - box[1]) * spacing)


def ascent(face: Font) -> int:
    if isinstance(face, ImageFont.FreeTypeFont):
        return face.getmetrics()[0]
    return face.getbbox("A")[3]


def wrap(text: str, face: Font, max_width: float) -> list[str]:
    """Greedy word wrap; a word wider than the line is split between characters."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if text_width(candidate, face) <= max_width:
            current = candidate
            continue
        if current:
            lines.append(current)
        rest = word
        while text_width(rest, face) > max_width and len(rest) > 1:
            cut = len(rest) - 1
            while cut > 1 and text_width(rest[:cut], face) > max_width:
                cut -= 1
            lines.append(rest[:cut])
            rest = rest[cut:]
        current = rest
    if current:
        lines.append(current)
    return lines


def ellipsize(text: str, face: Font, max_width: float) -> str:
    if text_width(text, face) <= max_width:
        return text
    while text and text_width(text.rstrip() + ELLIPSIS, face) > max_width:
        text = text[:-1]
    return text.rstrip() + ELLIPSIS


@dataclass(frozen=True)
class FittedText:
    lines: list[str]
    size: int
    bold: bool
    truncated: bool

    @property
    def face(self) -> Font:
        return font(self.size, self.bold)


def fit(text: str, max_width: float, max_lines: int, size: int, min_size: int, bold: bool = False) -> FittedText:
    """Wrap ``text`` in at most ``max_lines`` lines, shrinking the font down to ``min_size``, then ellipsizing."""
    for candidate in range(size, min_size - 1, -1):
        lines = wrap(text, font(candidate, bold), max_width)
        if len(lines) <= max_lines:
            return FittedText(lines, candidate, bold, False)
    face = font(min_size, bold)
    lines = wrap(text, face, max_width)
    kept = lines[:max_lines]
    kept[-1] = ellipsize(" ".join([kept[-1], *lines[max_lines:]]), face, max_width)
    return FittedText(kept, min_size, bold, True)
