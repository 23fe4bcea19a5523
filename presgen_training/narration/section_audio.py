"""One section's narration clip: what to say (pauses, normalized text, lexicon), spoken, resampled to the output
rate, pauses inserted and the whole loudness-normalized, with phoneme alignments and word times to match.

The clip depends only on the section's text and the voice settings (``SectionPlan.key`` plus the voice's
identity), which is what makes it cacheable on its own.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from presgen_training.ffmpeg import AUDIO_SAMPLE_RATE
from presgen_training.narration import loudness
from presgen_training.narration.language import LanguageRules
from presgen_training.narration.language.tokens import split_token
from presgen_training.narration.lexicon import Lexicon
from presgen_training.narration.markup import Pause, parse_narration
from presgen_training.narration.resampling import resample_poly
from presgen_training.narration.voice import Clip, EngineUnavailable, Voice
from presgen_training.narration.word_timing import is_sound, speech_span
from presgen_training.timeline import Word

log = logging.getLogger(__name__)

OUTPUT_RATE = AUDIO_SAMPLE_RATE  # Hz of every narration WAV, as of the video's sound (a 25 fps frame: 1920 samples)
FADE_S = 0.005  # speech cut down to its sounds fades in and out over this, so the cut never clicks
PAUSE_SYMBOL = " "  # alignment symbol of inserted silence (a word boundary: never listed as a phoneme)
# everything that changes the samples besides the voice and the text: part of the cache key
PROCESSING = {
    "rate": OUTPUT_RATE,
    "lufs": loudness.TARGET_LUFS,
    "ceiling": loudness.TRUE_PEAK_CEILING_DBTP,
    "hold": loudness.HOLD_S,
    "fade": FADE_S,
    "resampler": "resample_poly/kaiser5",
}


@dataclass(frozen=True)
class Spoken:
    written: tuple[str, ...]  # the tokens as written (captions, word timings)
    spoken: tuple[str, ...]  # what the voice says for each (normalized, lexicon applied); may be empty

    @property
    def text(self) -> str:
        return " ".join(s for s in self.spoken if s)


@dataclass(frozen=True)
class SectionPlan:
    pieces: tuple[Spoken | Pause, ...]

    def key(self) -> list[Any]:
        return [[list(p.written), list(p.spoken)] if isinstance(p, Spoken) else p.seconds for p in self.pieces]


@dataclass(frozen=True)
class SectionAudio:
    clip: Clip  # int16 at OUTPUT_RATE; alignments add up to its length
    words: list[Word]  # as written, seconds from the clip start
    timing_source: str  # alignment | estimated
    # int16 at OUTPUT_RATE, as long as the clip: the speech before the section's loudness gain, which drives the
    # presenter, so a sentence's lip motion does not change when another sentence of the section changes the gain
    driver: np.ndarray


def plan_section(narration: str, rules: LanguageRules, lexicon: Lexicon, voice: Voice) -> SectionPlan:
    pieces: list[Spoken | Pause] = []
    for piece in parse_narration(narration):
        if isinstance(piece, Pause):
            pieces.append(piece)
            continue
        written = piece.text.split()
        pieces.append(Spoken(tuple(written), tuple(_spoken_forms(written, rules, lexicon, voice))))
    return SectionPlan(tuple(pieces))


def _spoken_forms(written: Sequence[str], rules: LanguageRules, lexicon: Lexicon, voice: Voice) -> list[str]:
    spoken = rules.normalize(written)
    if not lexicon:
        return spoken
    for index, text in enumerate(written):
        token = split_token(text)
        found = lexicon.lookup(token.core)
        if found is None:
            continue
        pronunciation, tail = found
        if pronunciation.ipa is not None:
            ipa = pronunciation.ipa + ("z" if tail else "")
            phonemes = voice.phoneme_text(ipa)
            if phonemes is None:
                log.warning(
                    "%s voice %s cannot take IPA: '%s' is read as written", voice.engine, voice.name, token.core
                )
                continue
            said = phonemes
        else:
            said = pronunciation.respelling + tail if pronunciation.respelling else token.core
        spoken[index] = f"{token.prefix}{said}{token.suffix}"
    return spoken


def render_section(plan: SectionPlan, voice: Voice) -> SectionAudio:
    """Speak every piece, resample to OUTPUT_RATE, cut each stretch of speech down to its sounds (the engine's
    own silence before and after goes) so every silence is exactly the pause written, the lead-in or the pause
    between sections, and normalize the loudness of the whole."""
    parts: list[np.ndarray] = []
    alignments: list[tuple[str, int]] = []
    words: list[Word] = []
    sources: set[str] = set()
    offset = 0
    for piece in plan.pieces:
        if isinstance(piece, Pause):
            count = round(piece.seconds * OUTPUT_RATE)
            parts.append(np.zeros(count))
            alignments.append((PAUSE_SYMBOL, count))
            offset += count
            continue
        samples, piece_alignments, piece_words, source = _speak_piece(piece, voice)
        parts.append(samples)
        alignments.extend(piece_alignments)
        start_s = offset / OUTPUT_RATE
        words.extend(Word(w.text, start_s + w.start_s, start_s + w.end_s) for w in piece_words)
        sources.add(source)
        offset += len(samples)
    raw = np.concatenate(parts) if parts else np.zeros(0)
    samples16 = _int16(loudness.normalize(raw, OUTPUT_RATE))
    if not alignments or not any(is_sound(symbol) for symbol, _ in alignments):
        alignments = []  # no engine alignments: only the pauses would be listed
    clip = Clip(samples16, OUTPUT_RATE, tuple(alignments))
    return SectionAudio(clip, words, "alignment" if sources == {"alignment"} else "estimated", _int16(raw))


def _int16(audio: np.ndarray) -> np.ndarray:
    return np.clip(np.round(audio * 32767), -32768, 32767).astype(np.int16)


def _speak_piece(piece: Spoken, voice: Voice) -> tuple[np.ndarray, list[tuple[str, int]], list[Word], str]:
    """(float samples at OUTPUT_RATE, alignments, words as written, timing source) of one stretch of text."""
    if not any(ch.isalnum() for ch in piece.text):  # nothing to say ("—"): no sound, zero-length words
        return np.zeros(0), [], [Word(w, 0.0, 0.0) for w in piece.written], "alignment"
    clip = voice.speak(piece.text)
    if len(clip.samples) == 0:
        raise EngineUnavailable(f"{voice.engine} produced no audio for '{piece.text[:40]}'")
    spoken_words, source = voice.word_timings(piece.spoken, clip)
    samples, alignments = resample(clip, OUTPUT_RATE)
    start, end = _speech_bounds(samples, alignments)
    samples = _faded(samples[start:end])
    alignments = cut_alignments(alignments, start, end)
    shift, limit_s = start / OUTPUT_RATE, (end - start) / OUTPUT_RATE
    words = [
        Word(written, min(max(w.start_s - shift, 0.0), limit_s), min(max(w.end_s - shift, 0.0), limit_s))
        for written, w in zip(piece.written, spoken_words, strict=False)
    ]
    return samples, alignments, words, source


def resample(clip: Clip, rate: int) -> tuple[np.ndarray, list[tuple[str, int]]]:
    """Float samples at ``rate`` and the clip's alignments in samples at ``rate`` (each boundary rounded to the
    nearest output sample, so phoneme times move by under half a sample)."""
    x = clip.samples.astype(np.float64) / 32768.0
    if clip.sample_rate != rate:
        divisor = math.gcd(rate, clip.sample_rate)
        x = resample_poly(x, rate // divisor, clip.sample_rate // divisor)
    if not clip.alignments:
        return x, []
    bounds = np.cumsum([0] + [count for _, count in clip.alignments])
    # by the rates, not by the lengths: a boundary must not move when more speech follows it (a sentence added
    # to a paragraph would otherwise shift the phonemes before it and re-render their presenter)
    scaled = np.round(bounds * rate / clip.sample_rate).astype(np.int64)
    scaled[-1] = len(x)
    scaled = np.minimum(scaled, len(x))
    return x, [(symbol, int(b - a)) for (symbol, _), a, b in zip(clip.alignments, scaled, scaled[1:], strict=False)]


def cut_alignments(alignments: Sequence[tuple[str, int]], start: int, end: int) -> list[tuple[str, int]]:
    """The alignments of samples [start, end)."""
    cut: list[tuple[str, int]] = []
    position = 0
    for symbol, count in alignments:
        lo, hi = max(position, start), min(position + count, end)
        if hi > lo:
            cut.append((symbol, hi - lo))
        position += count
    return cut


def _speech_bounds(samples: np.ndarray, alignments: Sequence[tuple[str, int]]) -> tuple[int, int]:
    """First and last sample of speech: from the alignments' first and last sound, else from the level."""
    if alignments:
        position, first, last = 0, None, None
        for symbol, count in alignments:
            if is_sound(symbol) and count > 0:
                first = position if first is None else first
                last = position + count
            position += count
        if first is not None and last is not None:
            return first, last
    start_s, end_s = speech_span((samples * 32767).astype(np.int16), OUTPUT_RATE)
    return round(start_s * OUTPUT_RATE), round(end_s * OUTPUT_RATE)


def _faded(samples: np.ndarray) -> np.ndarray:
    """The speech with a short fade in and out, so a cut never clicks."""
    out = samples.copy()
    n = min(len(out) // 2, round(FADE_S * OUTPUT_RATE))
    if n > 0:
        ramp = np.arange(1, n + 1) / (n + 1)  # never 0: the silence is the pause, not a sample longer
        out[:n] *= ramp
        out[-n:] *= ramp[::-1]
    return out
