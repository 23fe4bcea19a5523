"""Word timings for the script's own words, from phoneme alignments or, without them, estimated from the audio.

The script's words are its whitespace-separated tokens as written ("PresGen,", "10", "look-alike"). The TTS reads
them differently: piper speaks "10" as two words' worth of phonemes, merges "of the" into one group, drops "—".
So alignment does not count word groups; it matches the phonemes each token gets when phonemized on its own
against the phonemes the voice actually spoke (a sequence diff), and spreads any mismatched stretch
proportionally over the tokens it covers. Times are monotonic and never overlap.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from difflib import SequenceMatcher

import numpy as np

from presgen_training.timeline import Word

# Alignment symbols that are not sounds: sentence start/end, word boundary, stress marks.
NON_SOUNDS = frozenset({"^", "$", " ", "ˈ", "ˌ", "_"})

# Estimation (no alignments): relative durations in "characters" of speech.
PAUSE_AFTER_CLAUSE = 3.0  # , ; : and dashes
PAUSE_AFTER_SENTENCE = 5.0  # . ! ?
GAP_BETWEEN_WORDS = 1.0
CHARS_PER_DIGIT = 3.0  # "10" is spoken "ten", "2024" "twenty twenty-four"
SILENCE_DBFS = -40.0  # frames this far below the clip's peak are silence
FRAME_S = 0.010  # seconds per loudness frame


def tokenize(text: str) -> list[str]:
    return text.split()


def is_sound(symbol: str) -> bool:
    if not symbol or symbol in NON_SOUNDS or symbol.isspace():
        return False
    return not all(unicodedata.category(ch).startswith("P") for ch in symbol)


def align_words(
    tokens: Sequence[str],
    token_phonemes: Sequence[Sequence[str]],
    alignments: Sequence[tuple[str, int]],
    sample_rate: int,
) -> list[Word]:
    """Times (seconds from the clip start) of each token, from the voice's (phoneme, num_samples) alignments.

    ``token_phonemes[i]`` is what the phonemizer gives for ``tokens[i]`` alone."""
    spoken: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    position = 0
    for symbol, count in alignments:
        if is_sound(symbol):
            spoken.append(symbol)
            starts.append(position)
            ends.append(position + int(count))
        position += int(count)
    expected: list[str] = []
    owner: list[int] = []
    for index, phonemes in enumerate(token_phonemes):
        sounds = [p for p in phonemes if is_sound(p)]
        expected.extend(sounds)
        owner.extend([index] * len(sounds))
    if not spoken or not expected:
        return [Word(token, 0.0, 0.0) for token in tokens]

    # Fractional positions in `spoken` covered by each expected symbol.
    span = np.zeros((len(expected), 2))
    matcher = SequenceMatcher(None, expected, spoken, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "insert":
            continue
        step = (j2 - j1) / (i2 - i1)
        for k in range(i1, i2):
            span[k] = (j1 + (k - i1) * step, j1 + (k - i1 + 1) * step)

    def start_at(p: float) -> float:  # sample where position p begins
        j = math.floor(p)
        if j >= len(spoken):
            return float(ends[-1])
        return starts[j] + (p - j) * (ends[j] - starts[j])

    def end_at(p: float) -> float:  # sample where the stretch ending at position p ends
        j = math.ceil(p) - 1
        if j < 0:
            return float(starts[0])
        return starts[j] + (p - j) * (ends[j] - starts[j])

    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for k, index in enumerate(owner):
        first.setdefault(index, k)
        last[index] = k
    words: list[Word] = []
    previous_end = starts[0] / sample_rate
    for index, token in enumerate(tokens):
        if index in first:
            start = max(start_at(span[first[index]][0]) / sample_rate, previous_end)
            end = max(end_at(span[last[index]][1]) / sample_rate, start)
        else:  # nothing to say ("—"): a zero-length word where it stands
            start = end = previous_end
        words.append(Word(token, float(start), float(end)))
        previous_end = end
    return words


def estimate_words(tokens: Sequence[str], samples: np.ndarray, sample_rate: int) -> list[Word]:
    """Spread the tokens over the clip's speech (silence trimmed) in proportion to their length and punctuation."""
    start_s, end_s = speech_span(samples, sample_rate)
    weights: list[tuple[float, float]] = []  # (speech, pause after)
    for i, token in enumerate(tokens):
        letters = sum(1 for ch in token if ch.isalpha())
        digits = sum(1 for ch in token if ch.isdigit())
        speech = letters + CHARS_PER_DIGIT * digits
        pause = 0.0
        if i < len(tokens) - 1:
            tail = token.rstrip("\"')]}»”’")
            if tail.endswith((".", "!", "?", "…")):
                pause = PAUSE_AFTER_SENTENCE
            elif tail.endswith((",", ";", ":", "—", "–")) or token in ("-", "—", "–"):
                pause = PAUSE_AFTER_CLAUSE
            else:
                pause = GAP_BETWEEN_WORDS
        weights.append((float(speech), pause))
    total = sum(s + p for s, p in weights)
    if total <= 0:
        return [Word(token, start_s, start_s) for token in tokens]
    scale = (end_s - start_s) / total
    words = []
    t = start_s
    for token, (speech, pause) in zip(tokens, weights):
        words.append(Word(token, t, t + speech * scale))
        t += (speech + pause) * scale
    return words


def speech_span(samples: np.ndarray, sample_rate: int) -> tuple[float, float]:
    """First and last moment (seconds) louder than SILENCE_DBFS below the peak; the whole clip if all quiet."""
    duration = len(samples) / sample_rate
    frame = max(1, int(FRAME_S * sample_rate))
    count = len(samples) // frame
    if count == 0:
        return 0.0, duration
    frames = samples[: count * frame].astype(np.float64).reshape(count, frame)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    peak = float(rms.max())
    if peak <= 0:
        return 0.0, duration
    loud = np.flatnonzero(rms >= peak * 10 ** (SILENCE_DBFS / 20))
    return float(loud[0] * frame / sample_rate), float(min((loud[-1] + 1) * frame / sample_rate, duration))
