"""Markdown scripts::

    ---                       (optional front matter: title, voice, language, rate, lexicon, deck)
    voice: joe
    deck: talk.pptx
    ---
    # Welcome to PresGen      (a lone top-level heading first, followed by deeper headings: the video title)

    ## What it does           (every other heading starts a section)
    PresGen turns a written script ...      (paragraphs are the narration)
    - Script in, video out                  (-, *, + or 1. items are the bullets)
    ![Sales by quarter](chart.png)          (an image shown with the section: one per section)
    <!-- slide: 3 -->                       (with a deck: the slide this section shows; default: the next one)

Without the lone ``#`` title the video title comes from the front matter or the file name, and every heading is a
section. Text before the first section heading becomes a section titled with the video title. HTML comments and
fenced code blocks are not spoken; inline markup (emphasis, links, code) is reduced to its text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from presgen_training.errors import ScriptError
from presgen_training.script.assets import resolve_deck, resolve_image, slide_number
from presgen_training.script.checks import clean_text, title_from_filename
from presgen_training.script.yaml_script import VOICE_KEYS, compose, mapping_fields, optional_text, voice_settings
from presgen_training.timeline import Script, Section

FRONT_MATTER_KEYS = ("title", *VOICE_KEYS, "deck")

_ATX_HEADING = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT_UNDERLINE = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_THEMATIC_BREAK = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_BULLET = re.compile(r"^[ \t]*(?:[-*+\u2022]|\d{1,3}[.)])(?:[ \t]+(.*?))?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_QUOTE = re.compile(r"^[ \t]*(?:>[ \t]?)+")
_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_SLIDE_DIRECTIVE = re.compile(r"<!--\s*slide\s*:\s*(.*?)\s*-->", re.IGNORECASE | re.DOTALL)

# HTML formatting dropped from the narration (its text stays); any other tag (an SSML <break/>, <emphasis>) is left
# for the narration markup check, which honours pauses and rejects the rest with the line
HTML_INLINE_TAGS = (
    "a",
    "abbr",
    "b",
    "bdi",
    "bdo",
    "br",
    "cite",
    "code",
    "data",
    "del",
    "dfn",
    "em",
    "font",
    "i",
    "ins",
    "kbd",
    "mark",
    "q",
    "s",
    "samp",
    "small",
    "span",
    "strong",
    "sub",
    "sup",
    "time",
    "u",
    "var",
    "wbr",
)

_INLINE = [
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), ""),  # images are not spoken
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # [text](url)
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),  # [text][ref]
    (re.compile(r"<((?:https?|mailto):[^>\s]+)>"), r"\1"),  # <https://...>
    (re.compile(rf"</?(?:{'|'.join(HTML_INLINE_TAGS)})(?:\s[^<>]*)?/?>", re.IGNORECASE), ""),  # inline HTML
    (re.compile(r"`+([^`]+)`+"), r"\1"),
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),
    (re.compile(r"(?<![\w*])\*(?=\S)([^*]+?)(?<=\S)\*(?![\w*])"), r"\1"),
    (re.compile(r"(?<!\w)_(?=\S)([^_]+?)(?<=\S)_(?!\w)"), r"\1"),
    (re.compile(r"~~(?=\S)(.+?)(?<=\S)~~"), r"\1"),
    (re.compile(r"\\([\\`*_{}\[\]()#+\-.!>~|])"), r"\1"),  # backslash escapes
]


@dataclass
class _Event:
    kind: str  # heading | text | bullet | image | break
    line: int
    text: str = ""
    level: int = 0


@dataclass
class _Block:
    title: str | None
    line: int
    narration: list[str] = field(default_factory=list)
    bullets: list[str] = field(default_factory=list)
    image: Path | None = None
    slide: int | None = None


def strip_inline(text: str) -> str:
    for pattern, replacement in _INLINE:
        text = pattern.sub(replacement, text)
    return clean_text(text)


def parse_markdown(text: str, path: Path) -> Script:
    lines = text.split("\n")
    meta: dict[str, Any] = {}
    first = 0
    if lines and lines[0].strip() == "---":
        first, meta = _front_matter(lines, path)
    body = "\n".join([""] * first + lines[first:])  # blank front matter keeps line numbers
    text_body, directives = _drop_comments(body, path)
    events = _events(text_body, path)

    title = meta.pop("title", None)
    content = [e for e in events if e.kind != "break"]
    headings = [e for e in content if e.kind == "heading"]
    if (
        title is None
        and content
        and content[0].kind == "heading"
        and content[0].level == 1
        and len(headings) > 1
        and not any(h.level == 1 for h in headings[1:])
    ):
        title = content[0].text
        events = [e for e in events if e is not content[0]]
    title = title or title_from_filename(path)

    blocks: list[_Block] = []
    for event in events:
        if event.kind == "heading":
            blocks.append(_Block(title=event.text, line=event.line))
        elif event.kind in ("text", "bullet", "image"):
            if not blocks:
                blocks.append(_Block(title=None, line=event.line))
            if event.kind == "image":
                if blocks[-1].image is not None:
                    raise ScriptError(path, event.line, "a section shows one image; this is its second")
                blocks[-1].image = resolve_image(event.text, path, event.line)
                continue
            target = blocks[-1].narration if event.kind == "text" else blocks[-1].bullets
            target.append(event.text)
    if not blocks:
        raise ScriptError(path, None, "the script has no headings and no text")
    for line, value in directives:
        owner = next((b for b in reversed(blocks) if b.line <= line), blocks[0])
        owner.slide = slide_number(value, path, line)
    deck_text = meta.pop("deck", None)
    deck = resolve_deck(deck_text, path, None) if deck_text else None
    if deck is None and directives:
        raise ScriptError(path, directives[0][0], "a section names a slide but the front matter names no 'deck'")
    sections = tuple(
        Section(
            title=block.title or title,
            narration=strip_inline(" ".join(block.narration)),
            bullets=tuple(strip_inline(b) for b in block.bullets),
            line=block.line,
            image=block.image,
            slide=block.slide,
        )
        for block in blocks
    )
    return Script(title=title, sections=sections, path=path, deck=deck, **meta)


def _front_matter(lines: list[str], path: Path) -> tuple[int, dict[str, Any]]:
    """Index of the first body line, and the front matter's title and voice settings."""
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            break
    else:
        raise ScriptError(path, 1, "front matter opened with '---' is never closed with '---'")
    node = compose("\n".join(lines[1:end]), path, first_line=2)
    if node is None:
        return end + 1, {}
    fields = mapping_fields(node, path, FRONT_MATTER_KEYS, "the front matter")
    return end + 1, {
        "title": optional_text(fields.get("title"), path, "title"),
        "deck": optional_text(fields.get("deck"), path, "deck"),
        **voice_settings(fields, path),
    }


def _drop_comments(text: str, path: Path) -> tuple[str, list[tuple[int, str]]]:
    """HTML comments (speaker notes) out, keeping line numbers; also (line, value) of each ``<!-- slide: N -->``."""
    directives = [(text[: m.start()].count("\n") + 1, m[1]) for m in _SLIDE_DIRECTIVE.finditer(text)]
    text = _COMMENT.sub(lambda m: "\n" * m.group().count("\n"), text)
    if "<!--" in text:
        raise ScriptError(path, text[: text.index("<!--")].count("\n") + 1, "HTML comment '<!--' is never closed")
    return text, directives


def _events(text: str, path: Path) -> list[_Event]:
    events: list[_Event] = []
    fence: str | None = None
    in_bullet = False  # lines right after a bullet (no blank line) continue it
    for number, raw in enumerate(text.split("\n"), start=1):
        if fence is not None:
            if raw.strip().startswith(fence):
                fence = None
            continue
        if m := _FENCE.match(raw):
            fence = m[1]
            events.append(_Event("break", number))
            in_bullet = False
            continue
        line = _QUOTE.sub("", raw)
        events += [_Event("image", number, m[1]) for m in _IMAGE.finditer(line)]
        if _IMAGE.fullmatch(line.strip()):
            continue  # a line that is only an image is not a paragraph break either
        if not line.strip():
            events.append(_Event("break", number))
            in_bullet = False
            continue
        if m := _ATX_HEADING.match(line):
            heading = strip_inline(m[2] or "")
            if not heading:
                raise ScriptError(path, number, "empty heading")
            events.append(_Event("heading", number, heading, len(m[1])))
            in_bullet = False
            continue
        if (m := _SETEXT_UNDERLINE.match(line)) and events and events[-1].kind == "text" and not in_bullet:
            # "Title\n=====" (level 1) or "Title\n-----" (level 2): the paragraph above is the heading
            start = len(events)
            while start > 0 and events[start - 1].kind == "text":
                start -= 1
            heading = strip_inline(" ".join(e.text for e in events[start:]))
            events[start:] = [_Event("heading", events[start].line, heading, 1 if m[1][0] == "=" else 2)]
            continue
        if _THEMATIC_BREAK.match(line):
            events.append(_Event("break", number))
            in_bullet = False
            continue
        if m := _BULLET.match(line):
            if not (m[1] or "").strip():
                raise ScriptError(path, number, "empty bullet")
            events.append(_Event("bullet", number, m[1]))
            in_bullet = True
            continue
        if in_bullet:
            events[-1].text += " " + line.strip()
            continue
        events.append(_Event("text", number, line.strip()))
    return events
