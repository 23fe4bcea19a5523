"""Open a deck by its suffix: PowerPoint, OpenDocument or PDF."""

from __future__ import annotations

from pathlib import Path

from presgen_training.deck.model import DECK_SUFFIXES, Deck, DeckError
from presgen_training.deck.odp_deck import read_odp
from presgen_training.deck.pdf_deck import read_pdf
from presgen_training.deck.pptx_deck import read_pptx

READERS = {".pptx": read_pptx, ".odp": read_odp, ".pdf": read_pdf}


def read_deck(path: Path) -> Deck:
    """The deck's slides; DeckError (one line) for a missing, damaged, protected or empty deck."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".ppt":
        raise DeckError(f"{path} is an old binary PowerPoint file: save it as .pptx and use that")
    if suffix not in READERS:
        raise DeckError(
            f"unknown deck type '{suffix or '(no extension)'}' ({path}); use one of {', '.join(DECK_SUFFIXES)}"
        )
    if not path.is_file():
        raise DeckError(f"deck not found: {path}")
    if path.stat().st_size == 0:
        raise DeckError(f"{path} is empty (0 bytes)")
    deck = READERS[suffix](path)
    if not deck.slides:
        raise DeckError(f"{path} has no slides")
    if not deck.visible():
        raise DeckError(f"{path} has only hidden slides")
    return deck
