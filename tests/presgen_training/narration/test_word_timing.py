"""Word times belong to the script's words even where piper reads them as something else ("$5", "1,000",
"e.g.") or merges them ("of the")."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from presgen_training.narration.piper_voice import PiperEngineVoice
from presgen_training.narration.word_timing import align_words, estimate_words, speech_span

TRICKY = (
    "Welcome to PresGen, version 2.0! In the end, it costs $5 — one of the best deals for 1,000 users "
    "(really), e.g. at 9am."
)


def test_tricky_text_aligns_to_every_script_word(piper_voice: PiperEngineVoice) -> None:
    clip = piper_voice.speak(TRICKY)
    words, source = piper_voice.word_timings(TRICKY.split(), clip)
    assert source == "alignment"
    assert [w.text for w in words] == TRICKY.split()
    previous = 0.0
    for word in words:
        assert previous <= word.start_s <= word.end_s <= clip.duration_s
        previous = word.end_s
    by_text = {w.text: w.end_s - w.start_s for w in words}
    assert by_text["—"] == 0.0, "an unspoken dash takes no time"
    # read out as several words each, so they last longer than short words spoken once
    for long_reading in ("2.0!", "$5", "1,000", "e.g.", "9am."):
        assert by_text[long_reading] > 2 * by_text["to"], long_reading
    assert all(by_text[w] > 0.05 for w in ("of", "the", "In", "at")), "merged words still get their share"


def test_alignment_spreads_a_mismatch_over_its_words() -> None:
    # expected "ab" + "cd"; the voice said "xyz" + "d" over 100 samples each
    alignments = [("^", 50), ("x", 100), ("y", 100), ("z", 100), (" ", 20), ("d", 100), ("$", 30)]
    words = align_words(["ab", "cd"], [("a", "b"), ("c", "d")], alignments, sample_rate=100)
    assert [w.text for w in words] == ["ab", "cd"]
    assert words[0].start_s == pytest.approx(0.5)
    assert words[0].end_s <= words[1].start_s
    assert words[1].end_s == pytest.approx(4.7)


def test_estimate_spreads_words_over_the_speech_only() -> None:
    rate = 1000
    samples = np.zeros(5 * rate, dtype=np.int16)
    rng = np.random.default_rng(0)
    samples[1 * rate : 4 * rate] = rng.integers(-8000, 8000, 3 * rate)
    assert speech_span(samples, rate) == pytest.approx((1.0, 4.0), abs=0.011)
    tokens = ["Short", "words,", "then", "a", "considerably", "longer", "one."]
    words = estimate_words(tokens, samples, rate)
    assert [w.text for w in words] == tokens
    assert words[0].start_s == pytest.approx(1.0, abs=0.011) and words[-1].end_s == pytest.approx(4.0, abs=0.011)
    for a, b in itertools.pairwise(words):
        assert a.start_s < a.end_s <= b.start_s
    duration = {w.text: w.end_s - w.start_s for w in words}
    assert duration["considerably"] > 2.5 * duration["then"]
    assert words[2].start_s - words[1].end_s > words[3].start_s - words[2].end_s, "a comma pauses longer"
