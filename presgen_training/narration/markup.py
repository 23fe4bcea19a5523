"""Markup inside narration text: pauses, and nothing else.

Honoured: ``[pause 1.5s]`` / ``[pause 500ms]`` and the SSML subset ``<break time="2s"/>``,
``<break time="500ms"/>``, ``<break strength="strong"/>`` (``<break/>`` is a medium pause). Any other bracket or
angle-bracket markup (``<emphasis>``, ``<prosody rate="slow">``, ``[laughs]``, a stray ``<`` or ``[``) is a
MarkupError naming the fragment, so it is never read aloud and never dropped silently; the script stage turns it
into a file:line error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_PAUSE_S = 30.0
# SSML leaves strengths to the processor; these are a narrator's beats
BREAK_STRENGTHS_S = {"none": 0.0, "x-weak": 0.15, "weak": 0.3, "medium": 0.5, "strong": 0.8, "x-strong": 1.2}
SUPPORTED = '[pause 1.5s] or <break time="2s"/>'

_DURATION = r"(?P<value>\d+(?:\.\d+)?|\.\d+)\s*(?P<unit>ms|s|sec|secs|seconds?)"
_PAUSE = re.compile(rf"\[\s*pause\s*:?\s*{_DURATION}\s*\]", re.IGNORECASE)
_BRACKET = re.compile(r"\[[^\[\]\n]*\]")
_TAG = re.compile(r"<\s*(?P<close>/?)\s*(?P<name>[A-Za-z][\w:-]*)(?P<attrs>[^<>]*?)(?P<empty>/?)\s*>")
_ATTRIBUTE = re.compile(r"""(?P<key>[\w:-]+)\s*=\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)')""")
_SSML_DURATION = re.compile(rf"^\s*{_DURATION}\s*$", re.IGNORECASE)


class MarkupError(ValueError):
    def __init__(self, fragment: str, message: str) -> None:
        super().__init__(message)
        self.fragment = fragment  # the offending text as written, to find its line


@dataclass(frozen=True)
class Pause:
    seconds: float


@dataclass(frozen=True)
class Text:
    text: str  # whitespace collapsed, never empty


Piece = Text | Pause


def parse_narration(text: str) -> list[Piece]:
    """Split narration into text and pauses; MarkupError on markup that is not a pause."""
    pieces: list[Piece] = []
    position = 0
    for match in re.finditer(r"[\[<]", text):
        start = match.start()
        if start < position:
            continue
        _add_text(pieces, text[position:start])
        seconds, end = _markup_at(text, start)
        if seconds > 0:
            pieces.append(Pause(seconds))
        position = end
    _add_text(pieces, text[position:])
    return pieces


def spoken_text(text: str) -> str:
    """The narration without its pauses (the words a listener hears)."""
    return " ".join(p.text for p in parse_narration(text) if isinstance(p, Text))


def _add_text(pieces: list[Piece], text: str) -> None:
    words = " ".join(text.split())
    if words:
        pieces.append(Text(words))


def _markup_at(text: str, start: int) -> tuple[float, int]:
    """(pause seconds, end offset) of the markup starting at ``start``."""
    if text[start] == "[":
        if m := _PAUSE.match(text, start):
            return _seconds(m["value"], m["unit"], m.group()), m.end()
        if m := _BRACKET.match(text, start):
            raise MarkupError(
                m.group(),
                f"unknown markup '{m.group()}'; the only bracket markup is a pause like "
                f"'[pause 1.5s]' (write round brackets to have text in brackets read)",
            )
        fragment = text[start : start + 20].split("\n", maxsplit=1)[0]
        raise MarkupError(
            fragment,
            f"a '[' that opens no markup in '{fragment}'; write round brackets instead, or a pause like '[pause 1.5s]'",
        )
    m = _TAG.match(text, start)
    if not m:
        fragment = text[start : start + 20].split("\n", maxsplit=1)[0]
        raise MarkupError(fragment, f"a '<' that starts no tag in '{fragment}'; write 'less than' to have it read")
    name = m["name"].lower()
    if name != "break" or m["close"]:
        raise MarkupError(
            m.group(), f"unsupported markup '{m.group()}': narration honours only pauses ({SUPPORTED}); remove the tag"
        )
    attributes = {
        a["key"].lower(): a["dq"] if a["dq"] is not None else a["sq"] for a in _ATTRIBUTE.finditer(m["attrs"])
    }
    leftover = _ATTRIBUTE.sub("", m["attrs"]).strip()
    unknown = set(attributes) - {"time", "strength"}
    if leftover or unknown:
        raise MarkupError(m.group(), f"cannot read '{m.group()}'; write it as {SUPPORTED}")
    if "time" in attributes:
        duration = _SSML_DURATION.match(attributes["time"])
        if not duration:
            raise MarkupError(m.group(), f"the time in '{m.group()}' is not a duration like '2s' or '500ms'")
        return _seconds(duration["value"], duration["unit"], m.group()), m.end()
    strength = attributes.get("strength", "medium").lower()
    if strength not in BREAK_STRENGTHS_S:
        raise MarkupError(
            m.group(),
            f"unknown break strength '{strength}' in '{m.group()}'; use one of {', '.join(BREAK_STRENGTHS_S)}",
        )
    return BREAK_STRENGTHS_S[strength], m.end()


def _seconds(value: str, unit: str, fragment: str) -> float:
    seconds = float(value) / (1000.0 if unit.lower() == "ms" else 1.0)
    if not 0 < seconds <= MAX_PAUSE_S:
        raise MarkupError(fragment, f"the pause '{fragment}' must last more than 0 and at most {MAX_PAUSE_S:g} seconds")
    return seconds
