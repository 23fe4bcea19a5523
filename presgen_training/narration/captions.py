"""Captions from the script's own text (not speech recognition), timed by the narration's word timings, laid
out the way a subtitle editor would.

- A cue never spans a sentence end, a pause (PAUSE_BREAK_S or longer) or two sections.
- Inside a sentence, cues and lines break at phrase boundaries: after a clause's punctuation first, then before
  a conjunction or preposition of the narration's language; never after an article, a title ("Dr.") or a
  preposition, and never inside a number ("4 million", "10:30 am"), a date or a hyphenated word.
- At most ``max_lines`` lines of at most ``max_chars_per_line`` characters; each cue's speech at most MAX_CUE_S
  long and read at no more than MAX_CPS characters a second where the speech allows.
- Cues are monotonic and never overlap; each stays up a little after its last word (LINGER_S), at least
  MIN_CUE_S and long enough to read, when the next cue allows.

The layout is a dynamic programme over each sentence: the cues (and the lines in each cue) that minimise the
sum of break costs, line imbalance and reading-speed penalties. ``caption_cues`` gives the cues to burn in;
``write_captions`` writes the SRT and VTT sidecars.
"""

from __future__ import annotations

import abc
import itertools
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from presgen_training.errors import NarrationError
from presgen_training.files import atomic_output
from presgen_training.narration.language import DEFAULT_LANGUAGE, LanguageRules, language_rules
from presgen_training.narration.language.english import MONTH_ABBREVIATIONS, MONTHS
from presgen_training.timeline import Cue, Narration, Word

MAX_CHARS_PER_LINE = 42  # the broadcast norm for a caption line
MAX_LINES = 2
MIN_CUE_S = 1.0  # shortest time a cue stays on screen (if the next cue starts later)
MAX_CUE_S = 7.0  # longest stretch of speech in one cue
MAX_CPS = 20.0  # reading speed: characters a second
LINGER_S = 0.3  # a cue stays this long after its last word (if the next cue starts later)
PAUSE_BREAK_S = 0.6  # a silence this long between two words ends the cue
MIN_LINE_CHARS = 8  # smallest max_chars_per_line accepted

# Cost of breaking a cue or a line between two words
CLAUSE_BREAK = 0.0  # after , ; : or a dash
PHRASE_BREAK = 1.0  # before a conjunction or preposition
WORD_BREAK = 3.0  # anywhere else
GLUED = 100.0  # inside a number, a date, after an article, title or preposition: only if nothing else fits
CUE_COST = 2.0  # every cue: fewer, fuller cues are easier to follow
CUE_BREAK_WEIGHT = 2.0  # a bad break between cues costs more than one between lines
IMBALANCE_WEIGHT = 2.0  # per line-width of difference between two lines
OVERLONG_PER_S = 20.0  # speech over MAX_CUE_S in one cue
FAST_PER_CPS = 0.5  # reading speed over MAX_CPS
SHORT_PER_S = 2.0  # speech under MIN_CUE_S (a flash of text)

_CLOSERS = "\"'\u201d\u2019)]}\u00bb"
_SENTENCE_END = re.compile(rf"[.!?\u2026][{re.escape(_CLOSERS)}]*$")
_CLAUSE_END = re.compile(rf"[,;:\u2014\u2013][{re.escape(_CLOSERS)}]*$")
_DASHES = frozenset({"-", "\u2013", "\u2014"})
_NUMBER = re.compile(r"^[$\u20ac\u00a3\u00a5#~+-]?\d[\d,.:/]*(?:st|nd|rd|th|k|m|bn|%)?$", re.IGNORECASE)
_NUMBER_WORDS = frozenset(
    [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
        "twenty",
        "thirty",
        "forty",
        "fifty",
        "sixty",
        "seventy",
        "eighty",
        "ninety",
        "hundred",
        "thousand",
        "million",
        "billion",
        "trillion",
    ]
)
_AFTER_NUMBER = frozenset(
    [
        "hundred",
        "thousand",
        "million",
        "billion",
        "trillion",
        "percent",
        "per",
        "cent",
        "am",
        "pm",
        "a.m.",
        "p.m.",
        "%",
        "dollars",
        "euros",
        "pounds",
        "km",
        "kg",
        "cm",
        "mm",
        "mi",
        "ft",
        "lb",
        "lbs",
        "oz",
        "ml",
        "mph",
        "gb",
        "mb",
        "kb",
        "tb",
        "ghz",
        "mhz",
        "hz",
        "ms",
        "min",
        "mins",
        "sec",
        "secs",
        "hr",
        "hrs",
        "hours",
        "minutes",
        "seconds",
        "days",
        "weeks",
        "months",
        "years",
        "times",
        "bc",
        "ad",
    ]
)
_MONTHS = frozenset((*MONTHS, *MONTH_ABBREVIATIONS))  # a date is never split between lines ("May 5")


def caption_cues(
    narration: Narration, max_chars_per_line: int = MAX_CHARS_PER_LINE, max_lines: int = MAX_LINES
) -> list[Cue]:
    if max_chars_per_line < MIN_LINE_CHARS or max_lines < 1:
        raise NarrationError(
            f"captions need at least {MIN_LINE_CHARS} characters per line and 1 line, "
            f"not {max_chars_per_line} and {max_lines}"
        )
    rules = language_rules(narration.language or DEFAULT_LANGUAGE)
    groups: list[list[Word]] = []
    for section in narration.sections:
        units = _split_long_words(section.words, max_chars_per_line, rules)
        for run in _runs(units, rules):
            groups.extend(_segment(run, rules, max_chars_per_line, max_lines))
    groups = _merge_silent(groups, max_chars_per_line, max_lines)
    return _timed(groups, narration.duration_s, max_chars_per_line, max_lines, rules)


def wrap(
    texts: Sequence[str], max_chars: int, rules: LanguageRules | None = None, max_lines: int | None = None
) -> list[str]:
    """Words into as few lines as fit ``max_chars``, breaking at the best phrase boundaries, balanced."""
    rules = rules or language_rules(DEFAULT_LANGUAGE)
    costs = [break_cost(a, b, None, None, rules) for a, b in itertools.pairwise(texts)]
    layout = _layout(list(texts), costs, max_chars, max_lines or len(texts))
    return layout[1] if layout is not None else _greedy(texts, max_chars)


# --- where a break may go -----------------------------------------------------------------------------------------


def _bare(text: str) -> str:
    return text.strip(_CLOSERS + "\"'(\u201c\u2018").lower()


def is_sentence_end(word: str, following: str | None, rules: LanguageRules) -> bool:
    """A full stop that ends a sentence: not an abbreviation's ("Dr.", "e.g."), nor one a lower-case word
    follows."""
    if not _SENTENCE_END.search(word):
        return False
    if following is None:
        return True
    bare = _bare(word)
    if bare in rules.no_line_end or re.fullmatch(r"(?:[a-z]\.){2,}", bare):
        return False  # "Dr. Smith", "the U.S. Army"
    return not following.lstrip(_CLOSERS + "\"'(\u201c\u2018")[:1].islower()


def break_cost(a: str, b: str, before_a: str | None, after_b: str | None, rules: LanguageRules) -> float:
    """Cost of a cue or line break between the words ``a`` and ``b``."""
    bare_a, bare_b = _bare(a), _bare(b)
    a_number = bool(_NUMBER.match(bare_a.rstrip(",;:"))) or bare_a.rstrip(",;:") in _NUMBER_WORDS
    if bare_a.rstrip(",") in _MONTHS and _NUMBER.match(bare_b.rstrip(",")):
        return GLUED  # "March 3"
    if _NUMBER.match(bare_a.rstrip(",")) and bare_b.rstrip(",.") in _MONTHS:
        return GLUED  # "3 March"
    if before_a and _bare(before_a) in _MONTHS and a.endswith(",") and re.fullmatch(r"\d{4}[.,;:!?]*", bare_b):
        return GLUED  # "March 3, / 2024"
    if _CLAUSE_END.search(a) or a in _DASHES:
        return CLAUSE_BREAK
    if (
        a_number
        and not a.endswith((",", ";", ":"))
        and (bare_b.rstrip(".,;:!?") in _AFTER_NUMBER or bare_b.rstrip(".,;:!?") in _NUMBER_WORDS)
    ):
        return GLUED  # "4 million", "four hundred", "10:30 am", "5 km"
    if (
        bare_a in _NUMBER_WORDS and bare_b == "and" and after_b and _bare(after_b).rstrip(".,;:!?") in _NUMBER_WORDS
    ) or (bare_a == "and" and before_a in _NUMBER_WORDS and bare_b.rstrip(".,;:!?") in _NUMBER_WORDS):
        return GLUED  # "four hundred and fifty"
    if bare_a in rules.no_line_end or (re.fullmatch(r"(?:[a-z]\.){2,}", bare_a) and b[:1].isupper()):
        return GLUED  # "the / report", "Dr. / Smith", "because / a"
    if bare_b in rules.phrase_starts:
        return PHRASE_BREAK
    return WORD_BREAK


def _runs(units: Sequence[Word], rules: LanguageRules) -> list[list[Word]]:
    """Stretches of words no cue may span: split at sentence ends and at pauses."""
    runs: list[list[Word]] = []
    current: list[Word] = []
    for i, word in enumerate(units):
        current.append(word)
        following = units[i + 1] if i + 1 < len(units) else None
        gap = following.start_s - word.end_s if following else 0.0
        if (
            following is None
            or is_sentence_end(word.text, following.text, rules)
            or (gap >= PAUSE_BREAK_S and _speech(current) > 0)
        ):
            runs.append(current)
            current = []
    if current:
        runs.append(current)
    return runs


# --- the layout -----------------------------------------------------------------------------------------------


def _layout(texts: list[str], costs: Sequence[float], max_chars: int, max_lines: int) -> tuple[float, list[str]] | None:
    """(cost, lines) of the best layout of ``texts`` on the fewest lines that fit; None when it does not fit."""
    count = len(_greedy(texts, max_chars))
    if count > max_lines or any(len(t) > max_chars for t in texts):
        return None
    if count == 1:
        return 0.0, [" ".join(texts)]
    n = len(texts)
    target = len(" ".join(texts)) / count
    best = [[math.inf] * (n + 1) for _ in range(count + 1)]
    choice = [[0] * (n + 1) for _ in range(count + 1)]
    best[0][0] = 0.0
    for k in range(1, count + 1):
        for i in range(1, n + 1):
            for j in range(i - 1, -1, -1):
                length = len(" ".join(texts[j:i]))
                if length > max_chars:
                    break
                if best[k - 1][j] == math.inf:
                    continue
                cost = best[k - 1][j] + IMBALANCE_WEIGHT * abs(length - target) / max_chars
                if i < n:
                    cost += costs[i - 1]
                if cost < best[k][i]:
                    best[k][i] = cost
                    choice[k][i] = j
    if best[count][n] == math.inf:
        return None
    lines: list[str] = []
    i = n
    for k in range(count, 0, -1):
        j = choice[k][i]
        lines.append(" ".join(texts[j:i]))
        i = j
    return best[count][n], lines[::-1]


def _segment(run: list[Word], rules: LanguageRules, max_chars: int, max_lines: int) -> list[list[Word]]:
    """The run's words in cues: the split with the least total cost."""
    n = len(run)
    texts = [w.text for w in run]
    costs = [
        break_cost(texts[k], texts[k + 1], texts[k - 1] if k else None, texts[k + 2] if k + 2 < n else None, rules)
        for k in range(n - 1)
    ]
    best = [math.inf] * (n + 1)
    back = [0] * (n + 1)
    best[0] = 0.0
    for j in range(1, n + 1):
        for i in range(j - 1, -1, -1):
            if len(" ".join(texts[i:j])) > (max_chars + 1) * max_lines and j - i > 1:
                break
            layout = _layout(texts[i:j], costs[i : j - 1], max_chars, max_lines)
            if layout is None:
                if j - i > 1:
                    continue
                layout = (0.0, [texts[i]])
            cost = best[i] + CUE_COST + layout[0] + _timing_cost(run[i:j])
            if j < n:
                cost += CUE_BREAK_WEIGHT * costs[j - 1]
            if cost < best[j]:
                best[j], back[j] = cost, i
    groups: list[list[Word]] = []
    j = n
    while j > 0:
        groups.append(run[back[j] : j])
        j = back[j]
    return groups[::-1]


def _timing_cost(words: Sequence[Word]) -> float:
    speech = _speech(words)
    chars = len(" ".join(w.text for w in words))
    cost = OVERLONG_PER_S * max(0.0, speech - MAX_CUE_S)
    shown = max(speech + LINGER_S, MIN_CUE_S)
    cost += FAST_PER_CPS * max(0.0, chars / shown - MAX_CPS)
    if speech > 0:
        cost += SHORT_PER_S * max(0.0, MIN_CUE_S - speech)
    return cost


def _greedy(texts: Sequence[str], width: int) -> list[str]:
    lines: list[str] = []
    for text in texts:
        if lines and len(lines[-1]) + 1 + len(text) <= width:
            lines[-1] += " " + text
        else:
            lines.append(text)
    return lines


def _fits(words: Sequence[Word], max_chars: int, max_lines: int) -> bool:
    return len(_greedy([w.text for w in words], max_chars)) <= max_lines


def _split_long_words(words: Sequence[Word], max_chars: int, rules: LanguageRules) -> list[Word]:
    """A token longer than a line is cut into line-sized pieces sharing its time in proportion: a URL after its
    separators, a hyphenated word at its hyphens, any other word at the language's hyphenation points."""
    units: list[Word] = []
    for word in words:
        if len(word.text) <= max_chars:
            units.append(word)
            continue
        pieces = _pieces(word.text, max_chars, rules)
        step = (word.end_s - word.start_s) / max(1, sum(len(p) for p in pieces))
        offset = 0
        for piece in pieces:
            units.append(Word(piece, word.start_s + offset * step, word.start_s + (offset + len(piece)) * step))
            offset += len(piece)
    return units


def _pieces(text: str, width: int, rules: LanguageRules) -> list[str]:
    pieces: list[str] = []
    rest = text
    while len(rest) > width:
        cut = max((m.end() for m in re.finditer(r"[/.@?&=_-]", rest[:width])), default=0)
        hyphen = ""
        if cut < width // 3:
            points = [p for p in rules.hyphen_points(rest) if p < width]
            cut, hyphen = (points[-1], "-") if points else (width, "")
        pieces.append(rest[:cut] + hyphen)
        rest = rest[cut:]
    pieces.append(rest)
    return pieces


def _speech(words: Sequence[Word]) -> float:
    return words[-1].end_s - words[0].start_s if words else 0.0


def _merge_silent(groups: list[list[Word]], max_chars: int, max_lines: int) -> list[list[Word]]:
    """A cue of unspoken tokens only (a lone dash) joins the cue before it, or is dropped."""
    merged: list[list[Word]] = []
    for group in groups:
        if _speech(group) > 0 or not merged:
            merged.append(group)
        elif _fits([*merged[-1], *group], max_chars, max_lines):
            merged[-1] = [*merged[-1], *group]
    return [g for g in merged if _speech(g) > 0]


def _timed(
    groups: list[list[Word]], duration_s: float, max_chars: int, max_lines: int, rules: LanguageRules
) -> list[Cue]:
    """Cue times in whole milliseconds (what SRT and VTT can say), monotonic and non-overlapping."""
    cues: list[Cue] = []
    end_limit_ms = math.floor(duration_s * 1000)
    previous_end_ms = 0
    for index, group in enumerate(groups):
        lines = wrap([w.text for w in group], max_chars, rules, max_lines)
        text = "\n".join(lines)
        first_ms = max(math.floor(group[0].start_s * 1000), previous_end_ms)
        last_ms = math.ceil(group[-1].end_s * 1000)
        next_ms = math.floor(groups[index + 1][0].start_s * 1000) if index + 1 < len(groups) else end_limit_ms
        readable_ms = math.ceil(len(text.replace("\n", " ")) / MAX_CPS * 1000)
        wanted_ms = max(last_ms + round(LINGER_S * 1000), first_ms + round(MIN_CUE_S * 1000), first_ms + readable_ms)
        wanted_ms = max(min(wanted_ms, first_ms + round(MAX_CUE_S * 1000)), last_ms)
        end_ms = max(min(wanted_ms, next_ms, end_limit_ms), last_ms, first_ms + 1)
        cues.append(Cue(first_ms / 1000, end_ms / 1000, text))
        previous_end_ms = end_ms
    return cues


class CaptionWriter(abc.ABC):
    """Writes cues to a caption file (one subclass per format, as in openai/whisper's utils.py)."""

    extension: str = ""

    def write(self, cues: Sequence[Cue], path: Path) -> None:
        with atomic_output(Path(path)) as tmp, tmp.open("w", encoding="utf-8", newline="\n") as fh:
            self.write_cues(cues, fh)

    @abc.abstractmethod
    def write_cues(self, cues: Sequence[Cue], file: TextIO) -> None:
        """Write every cue in this writer's format."""

    @staticmethod
    def timestamp(seconds: float, decimal_marker: str) -> str:
        ms = round(seconds * 1000)
        hours, ms = divmod(ms, 3_600_000)
        minutes, ms = divmod(ms, 60_000)
        secs, ms = divmod(ms, 1000)
        return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal_marker}{ms:03d}"


class SrtWriter(CaptionWriter):
    extension = "srt"

    def write_cues(self, cues: Sequence[Cue], file: TextIO) -> None:
        for number, cue in enumerate(cues, start=1):
            file.write(
                f"{number}\n{self.timestamp(cue.start_s, ',')} --> {self.timestamp(cue.end_s, ',')}\n{cue.text}\n\n"
            )


class VttWriter(CaptionWriter):
    extension = "vtt"

    def write_cues(self, cues: Sequence[Cue], file: TextIO) -> None:
        file.write("WEBVTT\n\n")
        for cue in cues:
            text = cue.text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            file.write(f"{self.timestamp(cue.start_s, '.')} --> {self.timestamp(cue.end_s, '.')}\n{text}\n\n")


WRITERS: dict[str, type[CaptionWriter]] = {"srt": SrtWriter, "vtt": VttWriter}


def get_writer(fmt: str) -> CaptionWriter:
    if fmt not in WRITERS:
        raise NarrationError(f"unknown caption format '{fmt}'; choose one of {', '.join(WRITERS)}")
    return WRITERS[fmt]()


def write_captions(
    narration: Narration,
    srt_path: Path,
    vtt_path: Path,
    max_chars_per_line: int = MAX_CHARS_PER_LINE,
    max_lines: int = MAX_LINES,
) -> list[Cue]:
    """Write the SRT and VTT captions; returns the cues written."""
    cues = caption_cues(narration, max_chars_per_line, max_lines)
    SrtWriter().write(cues, srt_path)
    VttWriter().write(cues, vtt_path)
    return cues
