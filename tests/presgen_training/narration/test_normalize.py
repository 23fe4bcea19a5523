"""Text normalisation: what a narrator says for numbers, money, dates, times, abbreviations, URLs and e-mail
addresses, token by token, so the spoken words map back to the written ones (which the captions keep)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from presgen_training.narration import NarrationConfig, caption_cues, synthesize
from presgen_training.narration.language import language_rules, parse_language_tag
from presgen_training.narration.piper_voice import PiperEngineVoice
from presgen_training.timeline import Script

CASES = [
    # years, counts, codes
    ("In 2024, we grew.", "In twenty twenty-four, we grew."),
    ("It was founded in 1905 and sold in 2005.", "It was founded in nineteen oh five and sold in two thousand five."),
    ("Our 2024 report covers 2000 employees.", "Our twenty twenty-four report covers two thousand employees."),
    ("Enter code 4357 and PIN 0042.", "Enter code four three five seven and PIN zero zero four two."),
    ("We have 1,234 users.", "We have one thousand two hundred thirty-four users."),
    ("The 1990s and the '80s.", "The nineteen nineties and the eighties."),
    # ordinals, decimals, percentages, fractions, ranges
    ("She came 21st, not 3rd.", "She came twenty-first, not third."),
    ("Pi is 3.14 and it fell -5 degrees.", "Pi is three point one four and it fell minus five degrees."),
    ("Up 45% or 4.5% this year.", "Up forty-five percent or four point five percent this year."),
    ("About 1/2 or 2/3 of them, 24/7.", "About one half or two thirds of them, twenty-four seven."),
    ("Between 10–20% from 2019–2024.", "Between ten to twenty percent from twenty nineteen to twenty twenty-four."),
    # currency and scales
    ("Revenue hit $4.5M.", "Revenue hit four point five million dollars."),
    ("It costs $19.99, $1 or $0.50.", "It costs nineteen dollars and ninety-nine cents, one dollar or fifty cents."),
    (
        "A $4.5 million deal for €50 and £3bn.",
        "A four point five million dollars deal for fifty euros and three billion pounds.",
    ),
    ("We reached 10k users and shot 4K video.", "We reached ten thousand users and shot four K video."),
    # times and dates
    ("Meet at 10:30 am or 3pm, not 9:00.", "Meet at ten thirty AM or three PM, not nine o'clock."),
    ("The 9:05 train, 14:00 sharp.", "The nine oh five train, fourteen hundred sharp."),
    ("On March 3, 2024 we launched.", "On March third, twenty twenty-four we launched."),
    (
        "By 3 March 2024 or 2024-03-15 or 3/15/2024.",
        "By the third of March twenty twenty-four or March fifteenth, twenty twenty-four or March fifteenth, "
        "twenty twenty-four.",
    ),
    ("Due Jan. 5, at the latest.", "Due January fifth, at the latest."),
    # abbreviations
    ("Dr. Smith lives on Elm Dr. now.", "Doctor Smith lives on Elm Drive now."),
    (
        "Ask Mr. Lee, e.g. today, i.e. now, vs. later, etc.",
        "Ask Mister Lee, for example today, that is now, versus later, et cetera.",
    ),
    ("Meet at St. Louis, then Main St. The end.", "Meet at Saint Louis, then Main Street. The end."),
    ("See No. 5 and #1 in the U.S. today.", "See number five and number one in the U S today."),
    ("R&D, Q&A and COVID-19 in Q3.", "R and D, Q and A and COVID nineteen in Q three."),
    ("Run 5 km with 20GB in 3 hrs.", "Run five kilometers with twenty gigabytes in three hours."),
    # URLs and e-mail addresses
    (
        "Visit https://www.presgen.dev/docs/getting-started today.",
        "Visit presgen dot dev slash docs slash getting dash started today.",
    ),
    ("Write to jane.doe@example.com or example.org.", "Write to jane dot doe at example dot com or example dot org."),
    ("Call 555-0100 now.", "Call five five five, oh one oh oh now."),
    # left as written
    ("Plain words, nothing else — really!", "Plain words, nothing else — really!"),
]


@pytest.mark.parametrize(("written", "spoken"), CASES, ids=[c[0][:28] for c in CASES])
def test_english_reads_like_a_narrator(written: str, spoken: str) -> None:
    tokens = written.split()
    said = language_rules("en-us").normalize(tokens)
    assert len(said) == len(tokens), "one spoken form per written token"
    assert " ".join(s for s in said if s) == spoken


def test_british_english_keeps_its_and() -> None:
    assert language_rules("en-GB").normalize(["1,234"]) == ["one thousand two hundred and thirty-four"]


def test_languages_without_a_normaliser_are_spoken_as_written() -> None:
    tokens = ["Am", "3.", "März", "2024", "um", "10:30"]
    assert language_rules("de").normalize(tokens) == tokens
    assert parse_language_tag("pt_BR") == "pt-br" and parse_language_tag("english") is None


def test_spoken_numbers_keep_their_written_words(
    piper_voice: PiperEngineVoice, tmp_path: Path, short_script: Callable[..., Script]
) -> None:
    """Real piper: the narration says "four point five million dollars" for "$4.5M", but the word timings and
    captions carry "$4.5M", and it lasts as long as its reading."""
    text = "In 2024, revenue hit $4.5M on March 3 at 10:30 am."
    narration = synthesize(short_script(text), NarrationConfig(), tmp_path)
    words = narration.words
    assert [w.text for w in words] == text.split()
    duration = {w.text: w.end_s - w.start_s for w in words}
    assert duration["$4.5M"] > 4 * duration["on"] and duration["2024,"] > 2 * duration["In"]
    previous = 0.0
    for word in words:
        assert previous <= word.start_s <= word.end_s
        previous = word.end_s
    captions = " ".join(c.text.replace("\n", " ") for c in caption_cues(narration))
    assert captions == text
