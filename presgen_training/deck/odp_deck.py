"""Read an OpenDocument presentation (.odp): its XML parts straight from the zip (titles, text, notes, fonts)."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

from presgen_training.deck.model import Deck, DeckError, Slide
from presgen_training.deck.pptx_deck import check_package
from presgen_training.script.checks import clean_text

NS = {
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "draw": "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0",
    "presentation": "urn:oasis:names:tc:opendocument:xmlns:presentation:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "style": "urn:oasis:names:tc:opendocument:xmlns:style:1.0",
    "fo": "urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0",
    "svg": "urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0",
}
PT_PER_UNIT = {"pt": 1.0, "in": 72.0, "cm": 72 / 2.54, "mm": 72 / 25.4, "pc": 12.0, "px": 0.75}
_LENGTH = re.compile(r"^\s*([\d.]+)\s*([a-z]+)\s*$")


def _q(name: str) -> str:
    prefix, local = name.split(":")
    return f"{{{NS[prefix]}}}{local}"


def read_odp(path: Path) -> Deck:
    check_package(path, "Impress")
    try:
        with zipfile.ZipFile(path) as package:
            names = set(package.namelist())
            if "META-INF/manifest.xml" in names and b"encryption-data" in package.read("META-INF/manifest.xml"):
                raise DeckError(f"{path} is password-protected: save an unprotected copy from Impress and use that")
            content = ElementTree.fromstring(package.read("content.xml"))
            styles = ElementTree.fromstring(package.read("styles.xml")) if "styles.xml" in names else None
    except DeckError:
        raise
    except (KeyError, zipfile.BadZipFile, ElementTree.ParseError, OSError) as exc:
        raise DeckError(f"{path} is not a readable OpenDocument presentation (damaged): {exc}") from None
    hidden_styles = {
        s.get(_q("style:name"))
        for s in content.iter(_q("style:style"))
        if any(p.get(_q("presentation:visibility")) == "hidden" for p in s.iter(_q("style:drawing-page-properties")))
    }
    pages = content.iter(_q("draw:page"))
    slides = tuple(_slide(number, page, hidden_styles) for number, page in enumerate(pages, start=1))
    fonts = tuple(
        sorted(
            {
                f.get(_q("svg:font-family"), "").strip("'\"")
                for root in (content, styles)
                if root is not None
                for f in root.iter(_q("style:font-face"))
            }
            - {""}
        )
    )
    return Deck(path, "odp", slides, _page_size(styles), fonts)


def _paragraphs(element: ElementTree.Element) -> list[str]:
    found = []
    for p in element.iter():
        if p.tag in (_q("text:p"), _q("text:h")) and (text := clean_text("".join(p.itertext()))):
            found.append(text)
    return found


def _slide(number: int, page: ElementTree.Element, hidden_styles: set[str | None]) -> Slide:
    title = ""
    lines: list[str] = []
    notes: list[str] = []
    for child in page:
        if child.tag == _q("presentation:notes"):
            for frame in child.iter(_q("draw:frame")):
                if frame.get(_q("presentation:class")) == "notes":
                    notes += _paragraphs(frame)
            continue
        paragraphs = _paragraphs(child)
        if child.get(_q("presentation:class")) == "title" and not title:
            title = " ".join(paragraphs)
        elif child.find(f".//{_q('table:table')}") is not None:
            for row in child.iter(_q("table:table-row")):
                cells = [" ".join(_paragraphs(c)) for c in row.iter(_q("table:table-cell"))]
                if any(cells):
                    lines.append(", ".join(c for c in cells if c))
        else:
            lines += paragraphs
    if not title and lines:
        title = lines.pop(0)
    hidden = page.get(_q("draw:style-name")) in hidden_styles
    return Slide(number, title, tuple(lines), clean_text(" ".join(notes)), hidden)


def _page_size(styles: ElementTree.Element | None) -> tuple[float, float]:
    """The slides' page size: the page layout of the first master page (not the handout's or the notes')."""
    if styles is not None:
        master = next(styles.iter(_q("style:master-page")), None)
        wanted = master.get(_q("style:page-layout-name")) if master is not None else None
        for layout in styles.iter(_q("style:page-layout")):
            if wanted is not None and layout.get(_q("style:name")) != wanted:
                continue
            for props in layout.iter(_q("style:page-layout-properties")):
                w, h = _length(props.get(_q("fo:page-width"))), _length(props.get(_q("fo:page-height")))
                if w and h:
                    return w, h
    return 28 / 2.54 * 72, 15.75 / 2.54 * 72  # Impress's default 16:9 page


def _length(value: str | None) -> float | None:
    m = _LENGTH.match(value or "")
    if not m or m[2] not in PT_PER_UNIT:
        return None
    return float(m[1]) * PT_PER_UNIT[m[2]]
