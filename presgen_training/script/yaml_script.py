"""YAML scripts::

    title: Welcome to PresGen          # optional: the file name otherwise
    voice: joe                         # optional
    language: en-US                    # optional: the voice's language otherwise
    rate: 1.0                          # optional: speaking rate, 0.5 (slow) to 2.0 (fast)
    lexicon:                           # optional: how to say words, as a respelling or /IPA/
      PresGen: press gen
    deck: talk.pptx                    # optional: the slides sections show (path beside the script)
    sections:
      - title: What it does            # optional: "Part N" otherwise
        narration: PresGen turns a written script ...
        bullets: [Script in, video out]
        image: chart.png               # optional: a picture shown with the section
        slide: 3                       # optional, with a deck: the slide shown (default: the next one)

The file is composed into YAML nodes (not loaded straight to Python objects) so every error can name the line
of the key or value at fault.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import yaml

from presgen_training.errors import ScriptError
from presgen_training.narration.config import MAX_RATE, MIN_RATE
from presgen_training.narration.language import parse_language_tag
from presgen_training.narration.lexicon import entry_problem
from presgen_training.script.assets import resolve_deck, resolve_image, slide_number
from presgen_training.script.checks import clean_text, default_section_title, title_from_filename
from presgen_training.timeline import Script, Section

SCRIPT_KEYS = ("title", "voice", "language", "rate", "lexicon", "deck", "sections")
VOICE_KEYS = ("voice", "language", "rate", "lexicon")  # the keys that set how the script is spoken
SECTION_KEYS = ("title", "narration", "bullets", "image", "slide")
_NULL_TAG = "tag:yaml.org,2002:null"


def parse_yaml(text: str, path: Path) -> Script:
    root = compose(text, path)
    if root is None:
        raise ScriptError(path, None, "the script is empty (only comments)")
    fields = mapping_fields(root, path, SCRIPT_KEYS, "the script")
    title = optional_text(fields.get("title"), path, "title") or title_from_filename(path)
    deck_text = optional_text(fields.get("deck"), path, "deck")
    deck = resolve_deck(deck_text, path, line_of(fields["deck"][1])) if deck_text else None
    if "sections" not in fields:
        raise ScriptError(path, line_of(root), "missing 'sections' (a list of {title, narration, bullets})")
    sections_node = fields["sections"][1]
    if not isinstance(sections_node, yaml.SequenceNode):
        raise ScriptError(path, line_of(sections_node), f"'sections' must be a list, not {kind(sections_node)}")
    if not sections_node.value:
        raise ScriptError(path, line_of(sections_node), "'sections' is empty")
    sections = tuple(parse_section(node, index, path) for index, node in enumerate(sections_node.value))
    if deck is None and (with_slide := next((s for s in sections if s.slide is not None), None)):
        raise ScriptError(path, with_slide.line, "a section names a 'slide' but the script names no 'deck'")
    return Script(title=title, sections=sections, path=path, deck=deck, **voice_settings(fields, path))


def voice_settings(fields: dict[str, tuple[yaml.Node, yaml.Node]], path: Path) -> dict[str, Any]:
    """Script keyword arguments from the voice keys (voice, language, rate, lexicon) present in ``fields``."""
    settings: dict[str, Any] = {"voice": optional_text(fields.get("voice"), path, "voice")}
    language = optional_text(fields.get("language"), path, "language")
    if language is not None:
        settings["language"] = parse_language_tag(language)
        if settings["language"] is None:
            raise ScriptError(
                path,
                line_of(fields["language"][1]),
                f"language '{language}' is not a language tag; write e.g. en, en-US, de",
            )
    if "rate" in fields and not is_null(fields["rate"][1]):
        settings["rate"] = parse_rate(fields["rate"][1], path)
    if "lexicon" in fields:
        settings["lexicon"] = parse_lexicon(fields["lexicon"][1], path)
    return settings


def parse_rate(node: yaml.Node, path: Path) -> float:
    try:
        rate = float(node.value) if isinstance(node, yaml.ScalarNode) else None
    except ValueError:
        rate = None
    if rate is None or not MIN_RATE <= rate <= MAX_RATE:
        raise ScriptError(
            path,
            line_of(node),
            f"rate must be a number from {MIN_RATE:g} (slow) to {MAX_RATE:g} "
            f"(fast), 1 being the normal pace; not {_shown(node)}",
        )
    return rate


def parse_lexicon(node: yaml.Node, path: Path) -> tuple[tuple[str, str], ...]:
    """``{word: respelling or /IPA/}`` as (word, value) pairs; errors name the entry's line."""
    if is_null(node):
        return ()
    if not isinstance(node, yaml.MappingNode):
        raise ScriptError(
            path, line_of(node), f"the lexicon must be a mapping of word: pronunciation, not {kind(node)}"
        )
    entries: dict[str, str] = {}
    for key_node, value_node in node.value:
        if (
            not isinstance(key_node, yaml.ScalarNode)
            or not isinstance(value_node, yaml.ScalarNode)
            or is_null(value_node)
        ):
            raise ScriptError(
                path,
                line_of(key_node),
                f"each lexicon entry is word: respelling or word: /IPA/, not {kind(value_node)}",
            )
        word, value = key_node.value.strip(), value_node.value.strip()
        if word in entries:
            raise ScriptError(path, line_of(key_node), f"'{word}' is in the lexicon twice")
        problem = entry_problem(word, value)
        if problem:
            raise ScriptError(path, line_of(key_node), problem)
        entries[word] = value
    return tuple(entries.items())


def _shown(node: yaml.Node) -> str:
    return repr(node.value) if isinstance(node, yaml.ScalarNode) else kind(node)


def parse_section(node: yaml.Node, index: int, path: Path) -> Section:
    where = f"section {index + 1}"
    if not isinstance(node, yaml.MappingNode):
        raise ScriptError(
            path, line_of(node), f"{where} must be a mapping with title, narration and bullets, not {kind(node)}"
        )
    fields = mapping_fields(node, path, SECTION_KEYS, where)
    title = optional_text(fields.get("title"), path, f"{where} title") or default_section_title(index)
    if "narration" not in fields:
        raise ScriptError(path, line_of(node), f"{where} ('{title}') has no 'narration'")
    narration = optional_text(fields["narration"], path, f"{where} narration")
    if not narration:
        raise ScriptError(path, line_of(fields["narration"][1]), f"{where} ('{title}') has an empty narration")
    bullets: tuple[str, ...] = ()
    if "bullets" in fields:
        bullets = parse_bullets(fields["bullets"][1], path, where)
    image_text = optional_text(fields.get("image"), path, f"{where} image")
    image = resolve_image(image_text, path, line_of(fields["image"][1])) if image_text else None
    slide_text = optional_text(fields.get("slide"), path, f"{where} slide")
    slide = slide_number(slide_text, path, line_of(fields["slide"][1])) if slide_text else None
    return Section(title=title, narration=narration, bullets=bullets, line=line_of(node), image=image, slide=slide)


def parse_bullets(node: yaml.Node, path: Path, where: str) -> tuple[str, ...]:
    if is_null(node):
        return ()
    if not isinstance(node, yaml.SequenceNode):
        raise ScriptError(path, line_of(node), f"{where} 'bullets' must be a list, not {kind(node)}")
    bullets = []
    for item in node.value:
        if not isinstance(item, yaml.ScalarNode) or is_null(item):
            raise ScriptError(path, line_of(item), f"{where}: each bullet must be text, not {kind(item)}")
        text = clean_text(item.value)
        if not text:
            raise ScriptError(path, line_of(item), f"{where} has an empty bullet")
        bullets.append(text)
    return tuple(bullets)


def compose(text: str, path: Path, first_line: int = 1) -> yaml.Node | None:
    """The YAML node tree; invalid YAML becomes a ScriptError at the line the parser stopped on.

    ``first_line`` is the file line the text starts on (front matter inside a Markdown file)."""
    try:
        # Leading blank lines keep the marks' line numbers those of the file.
        node = yaml.compose("\n" * (first_line - 1) + text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or exc.context or "syntax error"
        raise ScriptError(path, line, f"invalid YAML: {problem}") from None
    except yaml.YAMLError as exc:
        raise ScriptError(path, None, f"invalid YAML: {exc}") from None
    return node


def mapping_fields(
    node: yaml.Node, path: Path, allowed: tuple[str, ...], where: str
) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    """Key -> (key node, value node); unknown or repeated keys are errors naming their line."""
    if not isinstance(node, yaml.MappingNode):
        raise ScriptError(path, line_of(node), f"{where} must be a mapping of {', '.join(allowed)}, not {kind(node)}")
    fields: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    for key_node, value_node in node.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        if key not in allowed:
            shown = key if isinstance(key, str) else kind(key_node)
            hint = difflib.get_close_matches(str(shown), allowed, n=1)
            suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
            raise ScriptError(
                path, line_of(key_node), f"unknown key '{shown}' in {where}{suggestion}; allowed: {', '.join(allowed)}"
            )
        if key in fields:
            raise ScriptError(path, line_of(key_node), f"duplicate key '{key}' in {where}")
        fields[key] = (key_node, value_node)
    return fields


def optional_text(field: tuple[yaml.Node, yaml.Node] | None, path: Path, what: str) -> str | None:
    """A scalar's text with whitespace collapsed; None when absent or null."""
    if field is None:
        return None
    node = field[1]
    if is_null(node):
        return None
    if not isinstance(node, yaml.ScalarNode):
        raise ScriptError(path, line_of(node), f"{what} must be text, not {kind(node)}")
    return clean_text(node.value) or None


def is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == _NULL_TAG


def kind(node: yaml.Node) -> str:
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    return "empty" if is_null(node) else "text"


def line_of(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1
