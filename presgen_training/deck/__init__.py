"""Slide decks in: read PPTX/ODP/PDF decks (titles, text, speaker notes), turn slides into script sections, and
draw the slides as pictures (LibreOffice -> PDF -> pdftoppm), cached by the deck's content hash."""

from __future__ import annotations

from presgen_training.deck.cache import DeckPictures
from presgen_training.deck.fonts import missing_fonts_warning
from presgen_training.deck.model import DECK_SUFFIXES, Deck, DeckError, Slide
from presgen_training.deck.read import read_deck
from presgen_training.deck.sections import DeckScript, attach_deck, deck_script
from presgen_training.deck.tools import INSTALL_COMMAND

__all__ = [
    "DECK_SUFFIXES",
    "INSTALL_COMMAND",
    "Deck",
    "DeckError",
    "DeckPictures",
    "DeckScript",
    "Slide",
    "attach_deck",
    "deck_script",
    "missing_fonts_warning",
    "read_deck",
]
