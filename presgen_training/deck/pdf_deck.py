"""Read a PDF deck with poppler: page count and size (pdfinfo) and each page's text (pdftotext). A PDF keeps no
speaker notes, so its slides are narrated from a script (``deck: talk.pdf``) or from their own text."""

from __future__ import annotations

import re
from pathlib import Path

from presgen_training.deck.model import Deck, DeckError, Slide
from presgen_training.deck.tools import PDFINFO, PDFTOTEXT, run_tool
from presgen_training.script.checks import clean_text

_PAGES = re.compile(r"^Pages:\s+(\d+)", re.M)
_SIZE = re.compile(r"^Page size:\s+([\d.]+) x ([\d.]+) pts", re.M)
_BULLET = re.compile("^[\u2022\u25aa\u25e6\u2023\u2219\u00b7\u2013\u2014*-]\\s+")  # list markers drawn as text


def pdf_info(path: Path) -> tuple[int, tuple[float, float]]:
    """(pages, (width, height) in points of the first page)."""
    with path.open("rb") as fh:
        if fh.read(5) != b"%PDF-":
            raise DeckError(f"{path} is not a PDF file (damaged, or another format named .pdf)")
    try:
        proc = run_tool(PDFINFO, [str(path)], f"reading {path.name}")
    except DeckError as exc:
        if "password" in str(exc).lower():
            raise DeckError(f"{path} is password-protected: save an unprotected copy and use that") from None
        raise DeckError(f"{path} is not a readable PDF (damaged): {exc}") from None
    text = proc.stdout.decode(errors="replace")
    pages, size = _PAGES.search(text), _SIZE.search(text)
    if not pages or not size:
        raise DeckError(f"{path} is not a readable PDF (pdfinfo reports no pages)")
    return int(pages[1]), (float(size[1]), float(size[2]))


def read_pdf(path: Path) -> Deck:
    count, size = pdf_info(path)
    if count == 0:
        return Deck(path, "pdf", (), size)
    text = run_tool(PDFTOTEXT, ["-layout", "-enc", "UTF-8", str(path), "-"], f"reading the text of {path.name}")
    pages = text.stdout.decode("utf-8", errors="replace").split("\f")
    slides = []
    for number in range(1, count + 1):
        lines = [
            t
            for raw in (pages[number - 1] if number <= len(pages) else "").splitlines()
            if (t := _BULLET.sub("", clean_text(raw)))
        ]
        title = lines.pop(0) if lines else ""
        slides.append(Slide(number, title, tuple(lines), ""))
    return Deck(path, "pdf", tuple(slides), size)
