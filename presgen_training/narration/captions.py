"""Captions from the script's own text (not speech recognition), timed by the narration's word timings.

Cues break at sentence ends, at pauses, between sections, and (when a cue would overflow) preferably after a
clause's comma; lines are balanced and never longer than ``max_chars_per_line``. Cues are monotonic and never
overlap; each stays up a little after its last word (LINGER_S) and at least MIN_CUE_S when the next cue allows.
``caption_cues`` gives the cues to burn in; ``write_captions`` writes the SRT and VTT sidecars.
"""
from __future__ import annotations

import abc
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from presgen_training.errors import NarrationError
from presgen_training.files import atomic_output
from presgen_training.timeline import Cue, Narration, Word

MAX_CHARS_PER_LINE = 42  # the broadcast norm for a caption line
MAX_LINES = 2
MIN_CUE_S = 1.0  # shortest time a cue stays on screen (if the next cue starts later)
LINGER_S = 0.3  # a cue stays this long after its last word (if the next cue starts later)
PAUSE_BREAK_S = 0.6  # a silence this long between two words ends the cue
MIN_LINE_CHARS = 8  # smallest max_chars_per_line accepted
PUNCTUATION_BREAK_BONUS = 0.35  # a line may be this much (of the balanced length) off to end at a comma

_CLOSERS = "\"'\u201d\u2019)]}\u00bb"
_SENTENCE_END = re.compile(rf"[.!?\u2026][{re.escape(_CLOSERS)}]*$")
_CLAUSE_END = re.compile(rf"[,;:\u2014\u2013][{re.escape(_CLOSERS)}]*$")


def caption_cues(narration: Narration, max_chars_per_line: int = MAX_CHARS_PER_LINE,
                 max_lines: int = MAX_LINES) -> list[Cue]:
    if max_chars_per_line < MIN_LINE_CHARS or max_lines < 1:
        raise NarrationError(f"captions need at least {MIN_LINE_CHARS} characters per line and 1 line, "
                             f"not {max_chars_per_line} and {max_lines}")
    groups: list[list[Word]] = []
    for section in narration.sections:
        units = _split_long_words(section.words, max_chars_per_line)
        groups.extend(_group(units, max_chars_per_line, max_lines))
    groups = _merge_silent(groups, max_chars_per_line, max_lines)
    return _timed(groups, narration.duration_s, max_chars_per_line)


def wrap(texts: Sequence[str], max_chars: int) -> list[str]:
    """Words into as few lines as greedy filling at ``max_chars`` gives, balanced in length, preferring to
    break after a clause's punctuation."""
    greedy = _greedy(texts, max_chars)
    count = len(greedy)
    if count <= 1:
        return greedy
    target = sum(len(t) for t in texts) / count
    n = len(texts)
    # best[k][i]: least cost of putting texts[:i] on k lines; choice[k][i]: where the k-th line starts
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
                cost = (length - target) ** 2
                if i < n and _CLAUSE_END.search(texts[i - 1]):
                    cost -= (PUNCTUATION_BREAK_BONUS * target) ** 2
                if best[k - 1][j] + cost < best[k][i]:
                    best[k][i] = best[k - 1][j] + cost
                    choice[k][i] = j
    if best[count][n] == math.inf:
        return greedy
    lines: list[str] = []
    i = n
    for k in range(count, 0, -1):
        j = choice[k][i]
        lines.append(" ".join(texts[j:i]))
        i = j
    return lines[::-1]


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


def _split_long_words(words: Sequence[Word], max_chars: int) -> list[Word]:
    """A token longer than a line (a URL) is cut into line-sized pieces sharing its time in proportion."""
    units: list[Word] = []
    for word in words:
        if len(word.text) <= max_chars:
            units.append(word)
            continue
        pieces = [word.text[i:i + max_chars] for i in range(0, len(word.text), max_chars)]
        step = (word.end_s - word.start_s) / len(word.text)
        offset = 0
        for piece in pieces:
            units.append(Word(piece, word.start_s + offset * step, word.start_s + (offset + len(piece)) * step))
            offset += len(piece)
    return units


def _speech(words: Sequence[Word]) -> float:
    return words[-1].end_s - words[0].start_s if words else 0.0


def _group(units: Sequence[Word], max_chars: int, max_lines: int) -> list[list[Word]]:
    groups: list[list[Word]] = []
    current: list[Word] = []
    for i, word in enumerate(units):
        if current and not _fits([*current, word], max_chars, max_lines):
            # Overflow: cut after the last clause end in the cue's later two thirds, else right here.
            cut = next((k for k in range(len(current) - 1, len(current) // 3 - 1, -1)
                        if _CLAUSE_END.search(current[k].text)), None)
            if cut is not None and cut < len(current) - 1:
                groups.append(current[:cut + 1])
                current = current[cut + 1:]
            if current and not _fits([*current, word], max_chars, max_lines):
                groups.append(current)
                current = []
        current.append(word)
        gap = units[i + 1].start_s - word.end_s if i + 1 < len(units) else 0.0
        chars = len(" ".join(w.text for w in current))
        if (_SENTENCE_END.search(word.text) or (gap >= PAUSE_BREAK_S and _speech(current) > 0)
                or (_CLAUSE_END.search(word.text) and chars >= max_chars
                    and not _fits([*current, *_rest_of_sentence(units, i + 1)], max_chars, max_lines))):
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    return groups


def _rest_of_sentence(units: Sequence[Word], start: int) -> list[Word]:
    rest: list[Word] = []
    for word in units[start:]:
        rest.append(word)
        if _SENTENCE_END.search(word.text):
            break
    return rest


def _merge_silent(groups: list[list[Word]], max_chars: int, max_lines: int) -> list[list[Word]]:
    """A cue of unspoken tokens only (a lone dash) joins the cue before it, or is dropped."""
    merged: list[list[Word]] = []
    for group in groups:
        if _speech(group) > 0 or not merged:
            merged.append(group)
        elif _fits([*merged[-1], *group], max_chars, max_lines):
            merged[-1] = [*merged[-1], *group]
    return [g for g in merged if _speech(g) > 0]


def _timed(groups: list[list[Word]], duration_s: float, max_chars: int) -> list[Cue]:
    """Cue times in whole milliseconds (what SRT and VTT can say), monotonic and non-overlapping."""
    cues: list[Cue] = []
    end_limit_ms = math.floor(duration_s * 1000)
    previous_end_ms = 0
    for index, group in enumerate(groups):
        first_ms = max(math.floor(group[0].start_s * 1000), previous_end_ms)
        last_ms = math.ceil(group[-1].end_s * 1000)
        next_ms = math.floor(groups[index + 1][0].start_s * 1000) if index + 1 < len(groups) else end_limit_ms
        wanted_ms = max(last_ms + round(LINGER_S * 1000), first_ms + round(MIN_CUE_S * 1000))
        end_ms = max(min(wanted_ms, next_ms, end_limit_ms), last_ms, first_ms + 1)
        text = "\n".join(wrap([w.text for w in group], max_chars))
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
            file.write(f"{number}\n{self.timestamp(cue.start_s, ',')} --> {self.timestamp(cue.end_s, ',')}\n"
                       f"{cue.text}\n\n")


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


def write_captions(narration: Narration, srt_path: Path, vtt_path: Path,
                   max_chars_per_line: int = MAX_CHARS_PER_LINE, max_lines: int = MAX_LINES) -> list[Cue]:
    """Write the SRT and VTT captions; returns the cues written."""
    cues = caption_cues(narration, max_chars_per_line, max_lines)
    SrtWriter().write(cues, srt_path)
    VttWriter().write(cues, vtt_path)
    return cues
