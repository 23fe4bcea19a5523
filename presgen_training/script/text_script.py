"""Plain-text scripts: one section per paragraph (paragraphs are separated by blank lines)::

    Welcome to PresGen                    (a first paragraph of one short line without end punctuation:
                                           the video title)
    What it does                          (a short first line without end punctuation, followed by a line
    PresGen turns a written script ...     starting with a capital or a bullet: the section title)
    - Script in, video out                (lines starting with "- ", "* " or "• " are bullets)

Sections without a title line are called "Part 1", "Part 2", ... The title rules are deliberately strict so a
hard-wrapped paragraph (whose next line usually starts in lower case) is never mistaken for a title.
"""

from __future__ import annotations

import re
from pathlib import Path

from presgen_training.errors import ScriptError
from presgen_training.script.checks import clean_text, default_section_title, title_from_filename
from presgen_training.timeline import Script, Section

MAX_TITLE_CHARS = 60
MAX_TITLE_WORDS = 10

_BULLET = re.compile(r"^[ \t]*[-*\u2022](?:[ \t]+(.*?))?[ \t]*$")
_ENDS_LIKE_PROSE = re.compile(r"[.,;:!?\-\u2013\u2014\"')\]]$")


def parse_text(text: str, path: Path) -> Script:
    paragraphs = _paragraphs(text)
    title = title_from_filename(path)
    if len(paragraphs) > 1 and len(paragraphs[0][1]) == 1 and _looks_like_title(paragraphs[0][1][0]):
        title = paragraphs[0][1][0].strip()
        paragraphs = paragraphs[1:]
    sections = tuple(_section(first_line, lines, index, path) for index, (first_line, lines) in enumerate(paragraphs))
    return Script(title=title, sections=sections, voice=None, path=path)


def _paragraphs(text: str) -> list[tuple[int, list[str]]]:
    """(line number of the first line, lines) of each blank-line separated paragraph."""
    paragraphs: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = 0
    for number, line in enumerate(text.split("\n"), start=1):
        if line.strip():
            if not current:
                start = number
            current.append(line)
        elif current:
            paragraphs.append((start, current))
            current = []
    if current:
        paragraphs.append((start, current))
    return paragraphs


def _looks_like_title(line: str) -> bool:
    line = line.strip()
    return (
        0 < len(line) <= MAX_TITLE_CHARS
        and len(line.split()) <= MAX_TITLE_WORDS
        and not _ENDS_LIKE_PROSE.search(line)
        and not _BULLET.match(line)
    )


def _section(first_line: int, lines: list[str], index: int, path: Path) -> Section:
    title = default_section_title(index)
    body = lines
    if len(lines) > 1 and _looks_like_title(lines[0]):
        following = lines[1].strip()
        if _BULLET.match(lines[1]) or following[:1].isupper() or following[:1].isdigit():
            title, body = lines[0].strip(), lines[1:]
    narration: list[str] = []
    bullets: list[str] = []
    continuing_bullet = False
    for offset, line in enumerate(body):
        number = first_line + (len(lines) - len(body)) + offset
        if m := _BULLET.match(line):
            if not (m[1] or "").strip():
                raise ScriptError(path, number, "empty bullet")
            bullets.append(m[1])
            continuing_bullet = True
        elif continuing_bullet and line[:1] in (" ", "\t"):
            bullets[-1] += " " + line.strip()  # an indented line continues the bullet above
        else:
            narration.append(line)
            continuing_bullet = False
    return Section(
        title=title,
        narration=clean_text(" ".join(narration)),
        bullets=tuple(clean_text(b) for b in bullets),
        line=first_line,
    )
