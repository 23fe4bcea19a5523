"""Bullets appear when the narration first speaks them; unspoken ones are spread over their section."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from presgen_training.overlay.schedule import bullet_schedule, content_tokens, section_spans

WAV = Path("unused.wav")


def test_spoken_bullets_appear_on_their_first_word(kit: SimpleNamespace) -> None:
    spec = kit.SectionSpec(
        "Passwords",
        "Use the company password manager for every account and turn on two factor sign-in wherever it is offered",
        1.0,
        0.5,
        ("Use the password manager", "Turn on 2-factor sign in"),
    )
    cues = bullet_schedule(kit.build([spec], WAV, 12.0))
    assert [(c.bullet_index, c.source) for c in cues] == [(0, "spoken"), (1, "spoken")]
    assert cues[0].start_s == kit.word_time(spec, 0)  # "Use"
    assert cues[1].start_s == kit.word_time(spec, 9)  # "turn"
    assert all(c.end_s == 12.0 for c in cues)  # last section: until the narration ends


def test_matching_ignores_case_punctuation_and_word_endings(kit: SimpleNamespace) -> None:
    spec = kit.SectionSpec(
        "Habits",
        "Most incidents begin small: a REUSED password, or links clicked in a hurry.",
        0.0,
        0.4,
        ("Reused passwords", "Clicking links"),
    )
    cues = bullet_schedule(kit.build([spec], WAV, 6.0))
    assert cues[0].start_s == kit.word_time(spec, 5) and cues[0].source == "spoken"  # "REUSED"
    assert cues[1].start_s == kit.word_time(spec, 8) and cues[1].source == "spoken"  # "links clicked"


def test_a_lone_early_word_does_not_start_the_match(kit: SimpleNamespace) -> None:
    spec = kit.SectionSpec(
        "Phishing",
        "Keep your address book tidy. Check the sender address of every message.",
        0.0,
        0.5,
        ("Check the sender address",),
    )
    cue = bullet_schedule(kit.build([spec], WAV, 6.0))[0]
    assert cue.start_s == kit.word_time(spec, 5)  # "Check", not the lone "address" at word 2


def test_unspoken_bullets_are_spread_evenly_over_the_section(kit: SimpleNamespace) -> None:
    first = kit.SectionSpec(
        "Intro",
        "alpha beta gamma delta epsilon zeta eta theta iota kappa",
        0.5,
        1.0,
        ("Quarterly compliance", "Budget approvals", "Travel policy"),
    )
    second = kit.SectionSpec("Next", "lambda mu nu", 12.0, 0.5)
    narration = kit.build([first, second], WAV, 14.0)
    cues = bullet_schedule(narration)
    speech_start, speech_end = narration.sections[0].start_s, narration.sections[0].end_s
    expected = [speech_start + (speech_end - speech_start) * i / 3 for i in range(3)]
    assert [c.source for c in cues] == ["spread"] * 3
    assert [c.start_s for c in cues] == pytest.approx(expected, abs=1e-3)
    assert all(c.end_s == 12.0 for c in cues)  # they stay until the next section starts


def test_reveals_keep_bullet_order_and_unspoken_fill_between(kit: SimpleNamespace) -> None:
    spec = kit.SectionSpec(
        "Order",
        "first we lock screens then much later we update software and finally we rest",
        0.0,
        1.0,
        ("Update software", "Never spoken item", "Lock screens"),
    )
    cues = bullet_schedule(kit.build([spec], WAV, 15.0))
    starts = [c.start_s for c in cues]
    assert starts == sorted(starts)
    assert cues[0].start_s == kit.word_time(spec, 8) and cues[0].source == "spoken"  # "update"
    assert cues[1].source == "spread"
    assert cues[2].source == "spoken"
    assert cues[1].start_s == cues[2].start_s == cues[0].start_s  # spoken before bullet 0: held back to keep order


def test_section_spans_cover_the_whole_narration(kit: SimpleNamespace) -> None:
    specs = [kit.SectionSpec("A", "one two three", 0.4, 0.5), kit.SectionSpec("B", "four five", 3.0, 0.5)]
    assert section_spans(kit.build(specs, WAV, 5.0)) == [(0.0, 3.0), (3.0, 5.0)]


def test_content_tokens() -> None:
    assert content_tokens("Turn on Two-Factor sign-in!") == ["turn", "2", "factor", "sign"]
    assert content_tokens("Passwords") == content_tokens("password") == content_tokens("PASSWORD,")
    assert content_tokens("running") == content_tokens("runs")
    assert content_tokens("What we do") == ["what", "we", "do"]  # only stop words: keep them
