"""Written tokens: a whitespace-separated word as written, split into its core and the punctuation around it."""

from __future__ import annotations

from dataclasses import dataclass

OPENERS = "\"'([{\u201c\u2018\u00ab\u00bf\u00a1"
CLOSERS = ".,;:!?\"')]}\u201d\u2019\u00bb\u2026"


@dataclass(frozen=True)
class Token:
    prefix: str  # opening quotes and brackets
    core: str
    suffix: str  # closing punctuation: , . ; : ! ? quotes, brackets

    @property
    def text(self) -> str:
        return self.prefix + self.core + self.suffix


def split_token(text: str) -> Token:
    start = 0
    while start < len(text) and text[start] in OPENERS:
        start += 1
    end = len(text)
    while end > start and text[end - 1] in CLOSERS:
        end -= 1
    return Token(text[:start], text[start:end], text[end:])
