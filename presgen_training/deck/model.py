"""What PresGen knows about a slide deck: its slides' titles, text and speaker notes, its page size and fonts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from presgen_training.errors import PresgenError
from presgen_training.script.assets import DECK_SUFFIXES

__all__ = ["DECK_SUFFIXES", "Deck", "DeckError", "Slide"]


class DeckError(PresgenError):
    """A deck PresGen cannot use (corrupt, protected, empty) or a deck tool that is missing."""


@dataclass(frozen=True)
class Slide:
    number: int  # 1-based, as the presentation program numbers it (hidden slides count)
    title: str
    lines: tuple[str, ...]  # the slide's own text (title excluded), paragraph by paragraph, tables row by row
    notes: str  # speaker notes, whitespace collapsed ("" when none)
    hidden: bool = False  # hidden slides are not exported to the PDF, so they have no page

    @property
    def text(self) -> str:
        """What a narrator reads when the slide has no notes (``--narrate-slide-text``)."""
        parts = [self.title, *self.lines]
        return " ".join(p if p.rstrip()[-1:] in ".!?:;" else p + "." for p in parts if p.strip())


@dataclass(frozen=True)
class Deck:
    path: Path
    kind: str  # pptx | odp | pdf
    slides: tuple[Slide, ...]
    page_size_pt: tuple[float, float]  # width, height in points (1/72 inch)
    fonts: tuple[str, ...] = ()  # font families the deck's text asks for

    @property
    def aspect(self) -> float:
        return self.page_size_pt[0] / self.page_size_pt[1]

    def visible(self) -> list[Slide]:
        return [s for s in self.slides if not s.hidden]

    def page_of(self, number: int) -> int:
        """1-based PDF page that shows slide ``number`` (hidden slides are left out of the PDF)."""
        pages = [s.number for s in self.visible()]
        return pages.index(number) + 1

    def slide(self, number: int) -> Slide:
        return self.slides[number - 1]
