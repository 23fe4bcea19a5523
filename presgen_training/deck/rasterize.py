"""PDF pages -> PNG pictures at an exact pixel size with poppler's ``pdftoppm`` (Debian ``poppler-utils``)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from presgen_training.deck.tools import PDFTOPPM, run_tool


def contain(page_size: tuple[float, float], box: tuple[int, int]) -> tuple[int, int]:
    """The largest even-sized picture with the page's aspect that fits ``box``."""
    pw, ph = page_size
    bw, bh = box
    scale = min(bw / pw, bh / ph)
    return (max(2, min(bw // 2 * 2, round(pw * scale / 2) * 2)), max(2, min(bh // 2 * 2, round(ph * scale / 2) * 2)))


def rasterize_page(pdf: Path, page: int, size: tuple[int, int], target: Path) -> None:
    """Write page ``page`` (1-based) of ``pdf`` as a ``size`` PNG at ``target``, atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".raster-", dir=target.parent) as tmp:
        prefix = Path(tmp) / "page"
        run_tool(
            PDFTOPPM,
            [
                "-f",
                str(page),
                "-l",
                str(page),
                "-png",
                "-scale-to-x",
                str(size[0]),
                "-scale-to-y",
                str(size[1]),
                "-singlefile",
                str(pdf),
                str(prefix),
            ],
            f"drawing page {page} of {pdf.name}",
        )
        os.replace(prefix.with_suffix(".png"), target)
