"""Where each PDF page has text (``pdftotext -bbox-layout`` blocks), as fractions of the page, so the presenter's
picture-in-picture can keep clear of it."""

from __future__ import annotations

import re
from pathlib import Path

from presgen_training.deck.tools import PDFTOTEXT, run_tool

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 as fractions of the page width and height
_PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', re.S)
_BLOCK = re.compile(r'<block xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">')


def text_boxes(pdf: Path, first: int, last: int) -> dict[int, list[Box]]:
    """Page number -> its text blocks, for pages ``first``..``last``."""
    proc = run_tool(
        PDFTOTEXT,
        ["-bbox-layout", "-f", str(first), "-l", str(last), str(pdf), "-"],
        f"finding the text on the slides of {pdf.name}",
    )
    found: dict[int, list[Box]] = {}
    for offset, page in enumerate(_PAGE.finditer(proc.stdout.decode("utf-8", errors="replace"))):
        w, h = float(page[1]), float(page[2])
        found[first + offset] = [
            (float(b[1]) / w, float(b[2]) / h, float(b[3]) / w, float(b[4]) / h) for b in _BLOCK.finditer(page[3])
        ]
    return found
