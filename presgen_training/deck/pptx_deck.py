"""Read a PowerPoint deck (.pptx) with python-pptx: titles, text frames, tables, speaker notes, fonts."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from presgen_training.deck.model import Deck, DeckError, Slide
from presgen_training.script.checks import clean_text

EMU_PER_PT = 12700
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # compound file: an encrypted OOXML package, or a legacy .ppt
ENCRYPTION_MARK = "EncryptionInfo".encode("utf-16-le")
_THEME_FONT = re.compile(rb'<a:(?:major|minor)Font>\s*<a:latin typeface="([^"]+)"')


def read_pptx(path: Path) -> Deck:
    check_package(path, "PowerPoint")
    try:
        from pptx import Presentation
    except ImportError:
        raise DeckError("python package 'python-pptx' is missing; run: make venv") from None
    try:
        prs = Presentation(str(path))
        width, height = int(prs.slide_width or 0), int(prs.slide_height or 0)
        slides = tuple(_slide(number, slide) for number, slide in enumerate(prs.slides, start=1))
        fonts = _fonts(prs)
    except DeckError:
        raise
    except Exception as exc:  # python-pptx raises KeyError, ValueError, lxml errors ... on a damaged package
        raise DeckError(
            f"{path} is not a readable PowerPoint file (damaged or not a .pptx): {type(exc).__name__}: {exc}"
        ) from None
    if not width or not height:
        width, height = 12192000, 6858000  # PowerPoint's default 13.333 x 7.5 in
    return Deck(path, "pptx", slides, (width / EMU_PER_PT, height / EMU_PER_PT), fonts)


def check_package(path: Path, program: str) -> None:
    """DeckError for a password-protected file or one that is not a zip package at all."""
    with path.open("rb") as fh:
        head = fh.read(8)
    if head == OLE2_MAGIC:
        if ENCRYPTION_MARK in path.read_bytes()[: 1 << 20]:
            raise DeckError(f"{path} is password-protected: save an unprotected copy from {program} and use that")
        raise DeckError(
            f"{path} is an old binary {program} file, not {path.suffix}: save it as {path.suffix} from {program}"
        )
    if not zipfile.is_zipfile(path):
        raise DeckError(f"{path} is not a readable {program} file (damaged or not a {path.suffix})")


def _slide(number: int, slide: Any) -> Slide:
    title_shape = slide.shapes.title
    title = clean_text(title_shape.text_frame.text) if title_shape is not None and title_shape.has_text_frame else ""
    lines: list[str] = []
    for shape in _shapes(slide.shapes):
        if title_shape is not None and shape.shape_id == title_shape.shape_id:
            continue
        if getattr(shape, "has_text_frame", False) and shape.has_text_frame:
            lines += [t for p in shape.text_frame.paragraphs if (t := clean_text(p.text))]
        elif getattr(shape, "has_table", False) and shape.has_table:
            for row in shape.table.rows:
                cells = [t for c in row.cells if (t := clean_text(c.text))]
                if cells:
                    lines.append(", ".join(cells))
    if not title and lines:
        title = lines.pop(0)
    notes = ""
    if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
        notes = clean_text(slide.notes_slide.notes_text_frame.text)
    hidden = slide._element.get("show") == "0"
    return Slide(number, title, tuple(lines), notes, hidden)


def _shapes(shapes: Any) -> Iterator[Any]:
    """Every shape, group members included, in reading order (top to bottom, then left to right)."""
    flat: list[Any] = []

    def walk(group: Any) -> None:
        for shape in group:
            if hasattr(shape, "shapes"):  # a group
                walk(shape.shapes)
            else:
                flat.append(shape)

    walk(shapes)
    yield from sorted(flat, key=lambda s: (int(s.top or 0), int(s.left or 0)))


def _fonts(prs: Any) -> tuple[str, ...]:
    """Font families named by the theme and by any text run (theme placeholders like '+mn-lt' left out)."""
    from pptx.opc.constants import RELATIONSHIP_TYPE as RT

    names: set[str] = set()
    try:
        theme = prs.slide_master.part.part_related_by(RT.THEME).blob
        names |= {m.decode() for m in _THEME_FONT.findall(theme)}
    except (KeyError, AttributeError):
        pass
    for slide in prs.slides:
        for shape in _shapes(slide.shapes):
            if getattr(shape, "has_text_frame", False) and shape.has_text_frame:
                for paragraph in shape.text_frame.paragraphs:
                    names |= {r.font.name for r in paragraph.runs if r.font.name}
    return tuple(sorted(n for n in names if n and not n.startswith("+")))
