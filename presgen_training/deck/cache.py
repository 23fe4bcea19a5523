"""Slide pictures, made once per deck content: ``$PRESGEN_CACHE_DIR/decks/<sha256>/``.

``deck.pdf`` (the LibreOffice conversion), ``boxes.json`` (text blocks per page) and ``<W>x<H>/page-NNNN.png``
(pages rasterised at that size). Every file is written under a temp name and renamed, so a crash never leaves a
half-written entry and two renders of the same deck can share the folder.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from presgen_training.config import cache_dir
from presgen_training.deck.convert import convert_to_pdf
from presgen_training.deck.model import Deck
from presgen_training.deck.rasterize import contain, rasterize_page
from presgen_training.deck.text_boxes import Box, text_boxes
from presgen_training.files import atomic_output, sha256_file

CACHE_VERSION = 1  # bump when conversion or rasterising changes what a cached file holds


class DeckPictures:
    """The slide pictures of one deck, made on first use and cached by the deck's content hash."""

    def __init__(self, deck: Deck, root: Path | None = None, on_work: Callable[[str], None] | None = None) -> None:
        self.deck = deck
        self.sha256 = sha256_file(deck.path)
        self.folder = (root or cache_dir() / "decks") / f"v{CACHE_VERSION}-{self.sha256[:32]}"
        self.on_work = on_work or (lambda what: None)
        self._boxes: dict[int, list[Box]] | None = None

    @property
    def pdf(self) -> Path:
        if self.deck.kind == "pdf":
            return self.deck.path
        target = self.folder / "deck.pdf"
        if not target.is_file():
            self.on_work(f"converting {self.deck.path.name} to PDF with LibreOffice")
            convert_to_pdf(self.deck.path, target)
        return target

    def page_size(self, box: tuple[int, int]) -> tuple[int, int]:
        return contain(self.deck.page_size_pt, box)

    def picture(self, slide_number: int, box: tuple[int, int]) -> Path:
        """Slide ``slide_number`` drawn as large as fits ``box`` (width, height in pixels), keeping its aspect."""
        page = self.deck.page_of(slide_number)
        size = self.page_size(box)
        target = self.folder / f"{size[0]}x{size[1]}" / f"page-{page:04d}.png"
        if not target.is_file():
            rasterize_page(self.pdf, page, size, target)
        return target

    def text_boxes(self, slide_number: int) -> list[Box]:
        """Text blocks of the slide as fractions of its page (x0, y0, x1, y1)."""
        if self._boxes is None:
            self._boxes = self._load_boxes()
        return self._boxes.get(self.deck.page_of(slide_number), [])

    def _load_boxes(self) -> dict[int, list[Box]]:
        target = self.folder / "boxes.json"
        if target.is_file():
            return {int(k): [tuple(b) for b in v] for k, v in json.loads(target.read_text()).items()}
        pages = len(self.deck.visible())
        boxes = text_boxes(self.pdf, 1, pages)
        with atomic_output(target) as tmp:
            tmp.write_text(json.dumps({str(k): v for k, v in boxes.items()}))
        return boxes
