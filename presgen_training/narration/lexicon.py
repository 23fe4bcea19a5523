"""Pronunciation lexicon: word -> respelling ("PresGen: press gen") or IPA phonemes in slashes
("Nginx: /ˈɛndʒɪnˈɛks/"), applied to what the voice says and to the word timings, never to the captions.

A word matches a token's core exactly, else case-insensitively; a possessive "'s" after it is kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

_IPA = re.compile(r"^/(?P<phonemes>[^/]+)/$")
_POSSESSIVE = ("'s", "\u2019s")


@dataclass(frozen=True)
class Pronunciation:
    respelling: str | None = None  # words to say instead
    ipa: str | None = None  # phonemes to say instead (voices that take phonemes: piper)


def entry_problem(word: str, value: str) -> str | None:
    """Why (word, value) is not a usable lexicon entry; None when it is."""
    if not word or any(ch.isspace() for ch in word):
        return f"lexicon words are single words, not '{word}'"
    if any(ch in word for ch in "[]<>"):
        return f"lexicon word '{word}' contains markup characters"
    if not value.strip():
        return f"the lexicon gives nothing to say for '{word}'"
    if value.startswith("/") or value.endswith("/"):
        m = _IPA.match(value.strip())
        if not m or not m["phonemes"].strip():
            return f"IPA for '{word}' must be phonemes between two slashes, like /ˈpɹɛsdʒɛn/, not '{value}'"
        if any(ch in m["phonemes"] for ch in "[]<>"):
            return f"IPA for '{word}' contains markup characters"
        return None
    if any(ch in value for ch in "[]<>/"):
        return f"the respelling of '{word}' contains markup characters: '{value}'"
    return None


def pronunciation(value: str) -> Pronunciation:
    m = _IPA.match(value.strip())
    if m:
        return Pronunciation(ipa="".join(m["phonemes"].split()))
    return Pronunciation(respelling=" ".join(value.split()))


class Lexicon:
    def __init__(self, entries: Iterable[tuple[str, str]] = ()) -> None:
        self.entries: dict[str, str] = {}
        for word, value in entries:  # later entries win
            self.entries[word] = value
        self._folded = {word.casefold(): value for word, value in self.entries.items()}

    def __bool__(self) -> bool:
        return bool(self.entries)

    def lookup(self, core: str) -> tuple[Pronunciation, str] | None:
        """(pronunciation, what follows it: "" or a possessive 's) for a token's core, or None."""
        for word, tail in ((core, ""), *((core[: -len(p)], p) for p in _POSSESSIVE if core.endswith(p))):
            value = self.entries.get(word) or self._folded.get(word.casefold())
            if value is not None:
                return pronunciation(value), tail
        return None

    def key(self) -> list[tuple[str, str]]:
        return sorted(self.entries.items())
