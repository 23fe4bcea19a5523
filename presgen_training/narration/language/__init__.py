"""What a language changes in narration: how written text is read aloud (the normaliser), where captions may
break (phrase words) and how a word too long for a caption line is hyphenated.

English is complete. Other languages get the same structure with their own phrase words where listed here, no
normaliser (the voice reads numbers in its own language) and pyphen's hyphenation dictionary when it has one:
adding a language is a module like ``english.py`` plus an entry in ``_NORMALIZERS`` and ``_PHRASE_WORDS``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from presgen_training.errors import NarrationError
from presgen_training.narration.language.english import EnglishNormalizer

DEFAULT_LANGUAGE = "en-us"
_TAG = re.compile(r"^(?P<lang>[a-z]{2,3})(?:[-_](?P<region>[a-z]{2}|\d{3}|[a-z]{4}))?$", re.IGNORECASE)
_BRITISH_ENGLISH = frozenset({"gb", "au", "nz", "ie", "za", "in"})

Normalizer = Callable[[Sequence[str]], list[str]]


def _english(region: str | None) -> Normalizer:
    return EnglishNormalizer(american=region not in _BRITISH_ENGLISH).normalize


_NORMALIZERS: dict[str, Callable[[str | None], Normalizer]] = {"en": _english}

_EN_CONJUNCTIONS = (
    "and but or nor so yet because although though while whereas if unless until when whenever "
    "where wherever since that which who whom whose than as"
)
_EN_PREPOSITIONS = (
    "about above across against along among around at behind below beneath beside besides between "
    "beyond by despite down during except for from in inside into like near of off on onto out "
    "outside over past per through throughout to toward towards under underneath unlike up upon "
    "via with within without"
)
_EN_BOUND = (
    "a an the my your our their his her its this these those some any each every no not very i we they he she "
    "dr. mr. mrs. ms. prof. st. mt. no."
)
# language -> (words a caption line may start before: conjunctions and prepositions, words never left at a line end)
_PHRASE_WORDS: dict[str, tuple[str, str]] = {
    "en": (f"{_EN_CONJUNCTIONS} {_EN_PREPOSITIONS}", f"{_EN_BOUND} {_EN_CONJUNCTIONS} {_EN_PREPOSITIONS}"),
    "de": (
        "und oder aber denn weil dass wenn als ob obwohl damit sondern mit von zu für auf an in aus bei nach "
        "über unter vor durch gegen ohne um zwischen",
        "der die das den dem des ein eine einen einem einer eines und oder aber weil dass mit von zu für auf "
        "an in aus bei nach über unter vor durch gegen ohne um zwischen",
    ),
    "fr": (
        "et ou mais donc car que qui quand si parce lorsque avec pour dans sur sous par sans chez vers entre "
        "depuis pendant avant après",
        "le la les l' un une des du de d' et ou mais que qui avec pour dans sur sous par sans chez vers entre",
    ),
    "es": (
        "y o pero porque que cuando si aunque con para por en sobre sin entre desde hasta hacia durante",
        "el la los las un una unos unas y o pero que con para por en sobre sin entre desde hasta de del al",
    ),
}


@dataclass(frozen=True)
class LanguageRules:
    tag: str  # "en-us": language and optional region, lower case, hyphenated
    normalize: Normalizer = field(compare=False)
    phrase_starts: frozenset[str] = frozenset()
    no_line_end: frozenset[str] = frozenset()
    hyphenation: str | None = None  # pyphen dictionary name

    @property
    def language(self) -> str:
        return self.tag.split("-")[0]

    def hyphen_points(self, word: str) -> list[int]:
        """Where ``word`` may be hyphenated (character offsets), by the language's dictionary."""
        if not self.hyphenation or not word.isalpha():
            return []
        return list(_hyphenator(self.hyphenation).positions(word))


def parse_language_tag(text: str) -> str | None:
    """ "en_US", "EN-us", "en" -> "en-us", "en"; None when ``text`` is no language tag."""
    m = _TAG.match(text.strip())
    if not m:
        return None
    return m["lang"].lower() + (f"-{m['region'].lower()}" if m["region"] else "")


def _identity(tokens: Sequence[str]) -> list[str]:
    return list(tokens)


@functools.lru_cache(maxsize=32)
def language_rules(tag: str) -> LanguageRules:
    parsed = parse_language_tag(tag)
    if parsed is None:
        raise NarrationError(f"'{tag}' is not a language tag (write e.g. en, en-US, de)")
    language, _, region = parsed.partition("-")
    normalizer = _NORMALIZERS[language](region or None) if language in _NORMALIZERS else _identity
    starts, bound = _PHRASE_WORDS.get(language, ("", ""))
    return LanguageRules(
        parsed, normalizer, frozenset(starts.split()), frozenset(bound.split()), _pyphen_dictionary(parsed)
    )


def has_normalizer(tag: str) -> bool:
    parsed = parse_language_tag(tag)
    return parsed is not None and parsed.split("-")[0] in _NORMALIZERS


def _pyphen_dictionary(tag: str) -> str | None:
    import pyphen

    found = pyphen.language_fallback(tag.replace("-", "_")) or pyphen.language_fallback(tag.split("-", maxsplit=1)[0])
    return str(found) if found else None


@functools.lru_cache(maxsize=8)
def _hyphenator(dictionary: str):  # type: ignore[no-untyped-def]
    import pyphen

    return pyphen.Pyphen(lang=dictionary)
