"""Slides -> script sections: one visible slide is one section, narrated from its speaker notes (or from its own
text with ``narrate_slide_text``); and a YAML/Markdown script's ``deck:`` sections matched to their slides."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from presgen_training.deck.model import Deck, DeckError, Slide
from presgen_training.errors import ScriptError
from presgen_training.script.checks import check_script, title_from_filename
from presgen_training.timeline import Script, Section

MAX_SECTIONS = 150  # slides in one video (about two hours); a longer PDF is a document, not a deck
LONG_NOTES_WORDS = 450  # about three minutes of narration on one slide
WORDS_PER_MINUTE = 150  # a trainer's speaking pace
_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$")


@dataclass
class DeckScript:
    script: Script
    deck: Deck
    warnings: list[str]


def parse_slide_range(text: str, count: int) -> list[int]:
    """``"1-5,8"`` -> [1, 2, 3, 4, 5, 8] (slide numbers, in the order given)."""
    numbers: list[int] = []
    for part in text.split(","):
        m = _RANGE.match(part)
        if not m:
            raise DeckError(f"--slides takes numbers and ranges like 1-5,8; not '{part.strip()}'")
        first, last = int(m[1]), int(m[2] or m[1])
        if not 1 <= first <= last <= count:
            raise DeckError(f"--slides {part.strip()}: the deck has slides 1-{count}")
        numbers += range(first, last + 1)
    return numbers


def deck_script(deck: Deck, narrate_slide_text: bool = False, slides: str | None = None) -> DeckScript:
    """One section per chosen visible slide; DeckError when no slide has anything to say."""
    chosen = parse_slide_range(slides, len(deck.slides)) if slides else [s.number for s in deck.visible()]
    if len(chosen) > MAX_SECTIONS:
        raise DeckError(
            f"{deck.path.name}: {len(chosen)} slides to narrate; one video takes at most "
            f"{MAX_SECTIONS}: choose some with --slides 1-{MAX_SECTIONS} or split the deck"
        )
    warnings: list[str] = []
    sections: list[Section] = []
    silent: list[Slide] = []
    for number in chosen:
        slide = deck.slide(number)
        if slide.hidden:
            warnings.append(f"slide {number} is hidden in the deck: skipped")
            continue
        narration = slide.notes or (slide.text if narrate_slide_text else "")
        if not narration:
            silent.append(slide)
            continue
        warnings += long_notes_warning(slide.number, narration)
        sections.append(Section(title=slide.title or f"Slide {number}", narration=narration, slide=number))
    if silent:
        where = "a PDF keeps no speaker notes" if deck.kind == "pdf" else "no speaker notes"
        names = ", ".join(str(s.number) for s in silent)
        if not sections:
            raise DeckError(
                f"{deck.path.name}: nothing to narrate ({where}); add notes, pass "
                "--narrate-slide-text to read each slide's own text, or write the narration in a "
                f"script with 'deck: {deck.path.name}'"
            )
        warnings.append(
            f"slide{'s' if len(silent) > 1 else ''} {names} skipped: no speaker notes (add notes, or "
            "pass --narrate-slide-text to read a slide's own text)"
        )
    first = deck.visible()[0]
    title = first.title or title_from_filename(deck.path)
    script = Script(title=title, sections=tuple(sections), path=deck.path, deck=deck.path)
    check_script(script)
    return DeckScript(script, deck, warnings)


def long_notes_warning(number: int, narration: str) -> list[str]:
    words = len(narration.split())
    if words <= LONG_NOTES_WORDS:
        return []
    return [
        f"slide {number}: {words} words of notes, about {words / WORDS_PER_MINUTE:.0f} min on one slide; "
        "consider splitting it into several slides"
    ]


def attach_deck(script: Script, deck: Deck) -> DeckScript:
    """Give every section of a script with ``deck:`` its slide: the one it names, else the one after the previous
    section's (the first section: the first visible slide)."""
    assert script.path is not None
    visible = [s.number for s in deck.visible()]
    sections = []
    previous: int | None = None
    for index, section in enumerate(script.sections):
        number = section.slide
        if number is None:
            later = [n for n in visible if previous is None or n > previous]
            if not later:
                raise ScriptError(
                    script.path,
                    section.line,
                    f"section {index + 1} would show the slide after "
                    f"slide {previous}, but {deck.path.name} has no more: give it 'slide: N'",
                )
            number = later[0]
        elif number > len(deck.slides):
            raise ScriptError(
                script.path, section.line, f"slide {number}: {deck.path.name} has {len(deck.slides)} slides"
            )
        elif deck.slide(number).hidden:
            raise ScriptError(script.path, section.line, f"slide {number} is hidden in {deck.path.name}")
        sections.append(dataclasses.replace(section, slide=number))
        previous = number
    warnings = [w for s in sections for w in long_notes_warning(s.slide or 0, s.narration)]
    return DeckScript(dataclasses.replace(script, sections=tuple(sections)), deck, warnings)
