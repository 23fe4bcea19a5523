"""Rules every parsed script must meet, whatever its format, and small text helpers the parsers share."""

from __future__ import annotations

import re
from pathlib import Path

from presgen_training.errors import ScriptError
from presgen_training.narration.markup import MarkupError, spoken_text
from presgen_training.timeline import Script, Section

_SPEAKABLE = re.compile(r"\w", re.UNICODE)
_SPACES = re.compile(r"\s+")


def clean_text(text: str) -> str:
    """Collapse runs of whitespace (line breaks included) to one space."""
    return _SPACES.sub(" ", text).strip()


def title_from_filename(path: Path) -> str:
    """``team_onboarding-v2.md`` -> ``Team onboarding v2``: the video title when the script names none."""
    words = re.sub(r"[_\-.]+", " ", path.stem).strip()
    return words[:1].upper() + words[1:] if words else "Untitled"


def default_section_title(index: int) -> str:
    return f"Part {index + 1}"


def check_script(script: Script, source: str | None = None) -> None:
    """Raise ScriptError for a script the narration stage cannot speak. ``source`` (the file's text) lets a
    markup error name the line it is on rather than the section's first line."""
    path = script.path or "<script>"
    if not script.sections:
        raise ScriptError(path, None, "the script has no sections")
    for index, section in enumerate(script.sections):
        name = f"section {index + 1} ('{section.title}')"
        if not section.narration.strip():
            raise ScriptError(path, section.line, f"{name} has no narration")
        try:
            spoken = spoken_text(section.narration)
        except MarkupError as exc:
            raise ScriptError(path, markup_line(section, exc.fragment, source), f"{name}: {exc}") from None
        if not _SPEAKABLE.search(spoken):
            raise ScriptError(path, section.line, f"{name} has no words to speak in its narration")
        if not section.title.strip():
            raise ScriptError(path, section.line, f"section {index + 1} has an empty title")
        for bullet in section.bullets:
            if not bullet.strip():
                raise ScriptError(path, section.line, f"{name} has an empty bullet")


def markup_line(section: Section, fragment: str, source: str | None) -> int | None:
    """The line of the file, at or after the section's first line, where ``fragment`` is written."""
    if source is None or section.line is None:
        return section.line
    lines = source.split("\n")
    probe = fragment.strip()[:20]
    for number in range(section.line, len(lines) + 1):
        if probe and probe in lines[number - 1]:
            return number
    return section.line
