"""Pace and pauses on real piper speech: the default voice narrates at 150-165 words a minute, --rate scales it,
and inline pauses are silences of exactly the length written, with the word and phoneme times around them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from helpers import section_clips
from presgen_training.narration import NarrationConfig, synthesize
from presgen_training.narration.piper_voice import PiperEngineVoice
from presgen_training.narration.wav_io import read_wav
from presgen_training.timeline import Narration, Script

TWO_HUNDRED_WORDS = (  # training prose: 4.8 letters a word, as typical English prose
    "Welcome to the onboarding course for new members of the support team. Over the next few minutes we will walk "
    "through the tools you will use every day, the people you can ask for help, and the habits that keep our "
    "customers safe. Please take notes, and pause the video whenever you want to try something yourself. Every "
    "request begins in the ticketing system. Customers contact us by phone, email or the online portal, and each "
    "message becomes a ticket with a priority and a category. Your first job is to read the ticket carefully, "
    "confirm the customer's details, and decide whether you can solve the problem yourself. If the issue needs "
    "specialist knowledge, assign it to the right team and explain your reasoning in the notes. Good notes save "
    "your colleagues a lot of time. Reply to every customer within one working day, even when the final answer "
    "will take longer. A short, friendly update builds trust and prevents needless follow-up messages. Finally, "
    "remember that security matters in every conversation. Never share passwords or account details without "
    "checking who is calling. When something looks unusual, ask your team leader before you act. Thank you for "
    "watching, and welcome aboard."
)
PAUSED = 'Welcome to the course. [pause 1.5s] Let us begin with the basics. <break time="500ms"/> Ready?'
GAP_TOLERANCE_S = 0.06  # word times come from phoneme alignment: within a few hundredths of the sound


def words_per_minute(narration: Narration) -> float:
    words = sum(len(s.words) for s in narration.sections)
    return words / sum(s.end_s - s.start_s for s in narration.sections) * 60


def test_default_pace_is_narration_pace(
    piper_voice: PiperEngineVoice, tmp_path: Path, short_script: Callable[..., Script]
) -> None:
    words = TWO_HUNDRED_WORDS.split()
    assert len(words) == 200 and 4.6 <= sum(len(w.strip(".,")) for w in words) / len(words) <= 5.0
    narration = synthesize(short_script(TWO_HUNDRED_WORDS), NarrationConfig(), tmp_path)
    assert 150 <= words_per_minute(narration) <= 165


def test_rate_scales_the_pace(
    piper_voice: PiperEngineVoice, tmp_path: Path, short_script: Callable[..., Script]
) -> None:
    text = " ".join(TWO_HUNDRED_WORDS.split()[:60])
    cache = tmp_path / "cache"  # the same rate is the same voice identity: served from the cache
    normal = synthesize(short_script(text), NarrationConfig(cache_dir=cache), tmp_path / "normal")
    fast = synthesize(short_script(text), NarrationConfig(rate=1.5, cache_dir=cache), tmp_path / "fast")
    from_script = synthesize(short_script(text, rate=1.5), NarrationConfig(cache_dir=cache), tmp_path / "script")
    overridden = synthesize(
        short_script(text, rate=1.5), NarrationConfig(rate=1.0, cache_dir=cache), tmp_path / "overridden"
    )
    assert len(section_clips(cache)) == 2
    ratio = words_per_minute(fast) / words_per_minute(normal)
    assert ratio == pytest.approx(1.5, rel=0.08)
    assert from_script.wav_path.read_bytes() == fast.wav_path.read_bytes()
    assert overridden.wav_path.read_bytes() == normal.wav_path.read_bytes()


@pytest.fixture(scope="module")
def paused(piper_voice: PiperEngineVoice, tmp_path_factory: pytest.TempPathFactory) -> Narration:
    from presgen_training.timeline import Section

    script = Script("Pauses", (Section("A", PAUSED), Section("B", "[pause 1s] Hello there.")))
    return synthesize(script, NarrationConfig(), tmp_path_factory.mktemp("paused"))


def test_pauses_are_exact_silences_between_the_words(paused: Narration) -> None:
    first = paused.sections[0]
    assert [w.text for w in first.words] == [
        "Welcome",
        "to",
        "the",
        "course.",
        "Let",
        "us",
        "begin",
        "with",
        "the",
        "basics.",
        "Ready?",
    ]
    by_text = {w.text: w for w in first.words}
    for before, after, pause in (("course.", "Let", 1.5), ("basics.", "Ready?", 0.5)):
        gap = by_text[after].start_s - by_text[before].end_s
        assert pause - GAP_TOLERANCE_S <= gap <= pause + GAP_TOLERANCE_S, (before, gap)
    samples, rate = read_wav(paused.wav_path)
    start = round(first.start_s * rate)
    runs = sorted(_zero_runs(samples[start : round(first.end_s * rate)]), key=lambda run: run[1] - run[0])[-2:]
    lengths = [b - a for a, b in runs]
    assert 0 <= lengths[0] - 0.5 * rate <= 5 and 0 <= lengths[1] - 1.5 * rate <= 5, "pauses are digital silence"
    for a, b in runs:
        silent = ((start + a) / rate, (start + b) / rate)
        # nothing is spoken in the silence (give or take the samples a fade rounds to zero)
        assert not [p for p in paused.phonemes if p.end_s > silent[0] + 1e-3 and p.start_s < silent[1] - 1e-3]
        assert not [w for w in first.words if w.end_s > silent[0] + 1e-3 and w.start_s < silent[1] - 1e-3]


def test_a_pause_can_open_a_section(paused: Narration) -> None:
    second = paused.sections[1]
    assert [w.text for w in second.words] == ["Hello", "there."]
    assert 1.0 - 1e-6 <= second.words[0].start_s - second.start_s <= 1.0 + GAP_TOLERANCE_S


def _zero_runs(samples: np.ndarray) -> list[tuple[int, int]]:
    """(first, end) of each run of exactly zero samples."""
    zero = np.concatenate([[0], (samples == 0).astype(np.int8), [0]])
    edges = np.flatnonzero(np.diff(zero))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=False))
