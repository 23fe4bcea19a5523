"""When each section and each bullet appears on screen, from the narration's word timings.

A bullet appears when the narration first speaks it: its content words (lower-cased, stemmed, stop words and
punctuation dropped) must mostly occur together, starting on one of them, in the section's words. Bullets the
narrator never says are spread evenly over the section. Reveals keep the bullets' order, and a bullet stays up
until the next section starts.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from presgen_training.timeline import Narration, SectionTiming, Word

MATCH_WINDOW_SLACK = 2  # extra narration words a bullet's words may be spread over
MATCH_MIN_FRACTION = 0.6  # share of a bullet's content words (of 3 or more) that must be spoken together
_TOKEN = re.compile(r"[a-z0-9]+")
_STOP_WORDS_TEXT = (  # words a bullet may leave out and still match the narration
    "a an and are as at be been but by can could do does did for from had has have how i if in into is it "
    "its just may me might more most my no not of on or our out over should so than that the their them "
    "then there these they this those to too up us very was we were what when which who will with would "
    "you your "
)
_STOP_WORDS = frozenset(_STOP_WORDS_TEXT.split())
_NUMBER_WORDS = {
    w: str(i)
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "  # noqa: SIM905
        "seventeen eighteen nineteen twenty".split()
    )
}
_SUFFIXES = ("ingly", "edly", "ings", "ing", "ies", "ied", "ed", "es", "s", "ly", "e")


@dataclass(frozen=True)
class BulletCue:
    section_index: int
    bullet_index: int
    text: str
    start_s: float  # the bullet appears
    end_s: float  # the bullet goes (its section leaves the screen)
    source: str  # spoken: matched in the narration | spread: not spoken, spaced evenly over the section


def section_spans(narration: Narration) -> list[tuple[float, float]]:
    """Seconds each section is on screen: from its first word (0 for the first) to the next section's first word."""
    sections = narration.sections
    spans = []
    for i, sec in enumerate(sections):
        start = 0.0 if i == 0 else sec.start_s
        end = sections[i + 1].start_s if i + 1 < len(sections) else narration.duration_s
        spans.append((start, max(start, end)))
    return spans


def bullet_schedule(narration: Narration) -> list[BulletCue]:
    cues: list[BulletCue] = []
    for sec, (shown_s, gone_s) in zip(narration.sections, section_spans(narration)):
        bullets = sec.section.bullets
        if not bullets:
            continue
        times = _reveal_times(sec, _section_words(narration, sec), shown_s)
        for i, (text, (reveal_s, source)) in enumerate(zip(bullets, times)):
            start = min(max(reveal_s, shown_s), gone_s)
            cues.append(BulletCue(sec.index, i, text, round(start, 3), round(gone_s, 3), source))
    return cues


def content_tokens(text: str) -> list[str]:
    """Normalised words that carry meaning: lower-case, no punctuation, numbers as digits, stemmed.

    A text made only of stop words keeps them all, so that it still has something to match.
    """
    words = _words(text)
    stems = [_stem(w) for w in words if w not in _STOP_WORDS]
    return stems or [_stem(w) for w in words]


def _words(text: str) -> list[str]:
    return [_NUMBER_WORDS.get(w, w) for w in _TOKEN.findall(text.lower().replace("'", "").replace("\u2019", ""))]


def _stem(word: str) -> str:
    if word.isdigit():
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not (suffix == "s" and word.endswith("ss")):
            word = word[: -len(suffix)] + ("y" if suffix in ("ies", "ied") else "")
            break
    if len(word) >= 4 and word[-1] == word[-2] and word[-1] not in "aeiouls":
        word = word[:-1]  # running -> runn -> run
    return word


def _section_words(narration: Narration, sec: SectionTiming) -> list[Word]:
    if sec.words:
        return sec.words
    return [w for w in narration.words if sec.start_s <= w.start_s < sec.end_s]


def _reveal_times(sec: SectionTiming, words: list[Word], shown_s: float) -> list[tuple[float, str]]:
    stream = [(_stem(token), w.start_s) for w in words for token in _words(w.text) if token not in _STOP_WORDS]
    bullets = [content_tokens(b) for b in sec.section.bullets]
    found: list[tuple[int, float] | None] = []
    after = 0
    for tokens in bullets:
        hit = _find(stream, tokens, after)
        if hit is None and after:
            hit = _find(stream, tokens, 0)  # spoken before the previous bullet: clamped to its order below
        found.append(hit)
        if hit is not None:
            after = max(after, hit[0] + 1)
    start = max(sec.start_s, shown_s)
    span = max(0.0, sec.end_s - start)
    count = len(bullets)
    times: list[tuple[float, str]] = []
    previous = shown_s
    for i, hit in enumerate(found):
        if hit is not None:
            t, source = max(hit[1], previous), "spoken"
        else:
            later = [h[1] for h in found[i + 1 :] if h is not None]
            slot = start + span * i / count
            t, source = max(min([slot, *later]), previous), "spread"
        times.append((t, source))
        previous = t
    return times


def _find(stream: list[tuple[str, float]], tokens: list[str], after: int) -> tuple[int, float] | None:
    """Earliest stream index >= after where most of ``tokens`` are spoken together, starting on one of them.

    A lone early word of the bullet ("address ... check the sender address") must not start the match: the start
    moves on to later bullet words as long as the words spoken together do not get fewer.
    """
    wanted = set(tokens)
    if not wanted:
        return None
    need = len(wanted) if len(wanted) <= 2 else max(2, math.ceil(MATCH_MIN_FRACTION * len(wanted)))
    window = len(tokens) + MATCH_WINDOW_SLACK

    def together(i: int) -> int:
        return len({token for token, _ in stream[i : i + window]} & wanted)

    for i in range(after, len(stream)):
        if stream[i][0] not in wanted or (best := together(i)) < need:
            continue
        start = i
        for k in range(i + 1, min(i + window, len(stream))):
            if stream[k][0] in wanted:
                if together(k) < best:
                    break
                start = k
        return start, stream[start][1]
    return None
