"""Captions: the script's text, in readable lines, on screen while it is spoken."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from presgen_training.errors import NarrationError
from presgen_training.narration import caption_cues, get_writer, write_captions
from presgen_training.narration.captions import MAX_CPS, MAX_CUE_S, MIN_CUE_S, Cue
from presgen_training.timeline import Narration, Section, SectionTiming, Word

TIME = r"(\d\d):(\d\d):(\d\d)[,.](\d\d\d)"


def seconds(match: tuple[str, ...]) -> float:
    h, m, s, ms = (int(x) for x in match)
    return round(h * 3600 + m * 60 + s + ms / 1000, 3)


def parse(path: Path) -> list[Cue]:
    text = path.read_text(encoding="utf-8")
    cues = []
    for block in re.split(r"\n\n+", text.strip()):
        lines = block.splitlines()
        if not any("-->" in line for line in lines):
            continue  # the WEBVTT header
        timing = next(i for i, line in enumerate(lines) if "-->" in line)
        start, end = re.findall(TIME, lines[timing])
        cues.append(Cue(seconds(start), seconds(end), "\n".join(lines[timing + 1 :])))
    return cues


def assert_good_cues(cues: list[Cue], narration: Narration, max_chars: int, max_lines: int) -> None:
    assert cues
    previous_end = 0.0
    for cue in cues:
        assert previous_end <= cue.start_s < cue.end_s <= narration.duration_s, cue
        previous_end = cue.end_s
        lines = cue.text.split("\n")
        assert 1 <= len(lines) <= max_lines and all(0 < len(line) <= max_chars for line in lines), cue
    spoken = [w for w in narration.words if w.end_s > w.start_s]
    assert cues[0].start_s <= spoken[0].start_s and cues[-1].end_s >= spoken[-1].end_s
    # every spoken word is on screen while it is spoken
    text = " ".join(c.text.replace("\n", " ") for c in cues)
    assert text.replace(" ", "") == "".join(w.text for w in narration.words).replace(" ", "")
    for word in spoken:
        if len(word.text) <= max_chars:
            assert any(c.start_s <= word.start_s + 0.001 and word.end_s <= c.end_s + 0.001 for c in cues), word
        else:  # cut over several cues
            assert any(c.start_s <= word.start_s + 0.001 for c in cues)
            assert any(word.end_s <= c.end_s + 0.001 for c in cues)


def test_demo_captions(demo_narration: Narration, tmp_path: Path) -> None:
    cues = write_captions(demo_narration, tmp_path / "demo.srt", tmp_path / "demo.vtt")
    assert_good_cues(cues, demo_narration, 42, 2)
    assert parse(tmp_path / "demo.srt") == cues
    assert parse(tmp_path / "demo.vtt") == cues
    assert (tmp_path / "demo.vtt").read_text().startswith("WEBVTT\n\n")
    srt_blocks = (tmp_path / "demo.srt").read_text().strip().split("\n\n")
    assert [b.split("\n")[0] for b in srt_blocks] == [str(i) for i in range(1, len(cues) + 1)]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo.srt", "demo.vtt"]


def test_demo_cues_are_readable(demo_narration: Narration) -> None:
    """On real speech every cue lasts 1 to 7 s and is read at 20 characters a second or slower, unless the next
    cue starts too soon for that."""
    cues = caption_cues(demo_narration)
    for cue, following in zip(cues, [*cues[1:], None], strict=False):
        room = (following.start_s if following else demo_narration.duration_s) - cue.start_s
        shown = cue.end_s - cue.start_s
        assert shown <= MAX_CUE_S + 0.001, cue
        assert shown >= min(MIN_CUE_S, room) - 0.001, cue
        chars = len(cue.text.replace("\n", " "))
        assert chars / shown <= MAX_CPS + 0.01 or shown >= room - 0.001, cue


def test_cues_break_at_sentences_and_sections(demo_narration: Narration) -> None:
    cues = caption_cues(demo_narration)
    for cue in cues:
        inner = cue.text.replace("\n", " ")[:-1]
        assert not re.search(r"[.!?] ", inner), f"a sentence ends inside {cue.text!r}"
    starts = {round(s.words[0].start_s, 3) for s in demo_narration.sections}
    assert starts <= {round(c.start_s, 3) for c in cues} | {round(c.start_s + 0.001, 3) for c in cues}


def test_narrow_captions_still_fit(demo_narration: Narration) -> None:
    cues = caption_cues(demo_narration, max_chars_per_line=20, max_lines=1)
    assert_good_cues(cues, demo_narration, 20, 1)


def synthetic(words: list[tuple[str, float, float]], duration: float) -> Narration:
    timeline = [Word(*w) for w in words]
    section = Section(title="S", narration=" ".join(w[0] for w in words))
    timing = SectionTiming(0, section, timeline[0].start_s, timeline[-1].end_s, timeline)
    return Narration(Path("n.wav"), duration, 22050, [timing], timeline, [], "piper", "joe")


def test_long_tokens_and_unspoken_dashes() -> None:
    url = "https://example.com/a/very/long/path/that/does/not/fit/on/one/line"
    narration = synthetic(
        [("See", 0.2, 0.4), (url, 0.5, 4.0), ("now", 4.1, 4.3), ("—", 4.3, 4.3), ("bye.", 4.8, 5.0)], 5.5
    )
    cues = caption_cues(narration, max_chars_per_line=24)
    assert_good_cues(cues, narration, 24, 2)


def test_cues_stay_readable_but_never_overlap() -> None:
    narration = synthetic([("Hi.", 1.0, 1.1), ("Yes.", 1.3, 1.5), ("Later", 5.0, 5.4), ("on.", 5.4, 6.2)], 7.0)
    cues = caption_cues(narration)
    assert [c.text for c in cues] == ["Hi.", "Yes.", "Later on."]
    assert cues[0].end_s == pytest.approx(1.3)  # would linger, but the next cue starts
    assert cues[1].end_s == pytest.approx(2.3)  # stays at least a second
    assert cues[2].end_s == pytest.approx(6.5)  # lingers 0.3 s after the last word


def test_writers_and_bad_settings(tmp_path: Path) -> None:
    cue = Cue(3661.5, 3662.25, "Fish & chips <tasty>")
    get_writer("vtt").write([cue], tmp_path / "a.vtt")
    get_writer("srt").write([cue], tmp_path / "a.srt")
    assert "01:01:01.500 --> 01:01:02.250\nFish &amp; chips &lt;tasty&gt;" in (tmp_path / "a.vtt").read_text()
    assert "1\n01:01:01,500 --> 01:01:02,250\nFish & chips <tasty>" in (tmp_path / "a.srt").read_text()
    with pytest.raises(NarrationError, match="unknown caption format 'ass'"):
        get_writer("ass")
    with pytest.raises(NarrationError, match="at least 8 characters per line"):
        caption_cues(synthetic([("Hi.", 0.0, 0.5)], 1.0), max_chars_per_line=3)


def spoken_at_narration_pace(text: str, language: str | None = "en-us") -> Narration:
    """Word times as a narrator would speak ``text``: ~155 words a minute, longer words longer, a breath after
    commas and full stops."""
    words, t = [], 0.3
    for token in text.split():
        length = max(0.12, 0.06 * len(token.strip(".,;:")))
        words.append(Word(token, t, t + length))
        t += length + 0.08 + (0.25 if token.endswith((",", ";", ":")) else 0.45 if token.endswith(".") else 0.0)
    section = Section(title="S", narration=text)
    timing = SectionTiming(0, section, words[0].start_s, words[-1].end_s, words)
    return Narration(Path("n.wav"), t + 0.6, 48000, [timing], words, [], "piper", "joe", language=language)


# sentence, phrases that must never be split across lines or cues
HARD_SENTENCES = [
    (
        "The warehouse lost four hundred pallets last year because a truck driver took the wrong exit on the "
        "highway near the border.",
        ["four hundred", "a truck"],
    ),
    (
        "We met Dr. Smith and Mrs. Jones at 10:30 am on March 3, 2024 to review the state-of-the-art forecasting "
        "model with the finance team.",
        ["Dr. Smith", "Mrs. Jones", "10:30 am", "March 3, 2024", "state-of-the-art"],
    ),
    (
        "Revenue grew to $4.5 million in 2024, which is 45 percent more than the two million dollars we made in the "
        "year before, while costs fell.",
        ["$4.5 million", "45 percent", "two million dollars"],
    ),
    (
        "In the first quarter of the year we shipped twelve thousand four hundred and fifty units to customers in "
        "Europe and Asia.",
        ["twelve thousand four hundred and fifty", "the first quarter"],
    ),
    (
        "Send the signed form to the HR team by Friday, or ask your manager, e.g. Ms. Lee, to approve the exception "
        "for you.",
        ["Ms. Lee", "the HR team"],
    ),
    (
        "Every one of the 5 km routes passes the St. Mary hospital, the old train station and the new "
        "science museum downtown.",
        ["5 km", "St. Mary"],
    ),
]


@pytest.mark.parametrize(("text", "together"), HARD_SENTENCES, ids=[t[:24] for t, _ in HARD_SENTENCES])
def test_hard_sentences_break_at_phrase_boundaries(text: str, together: list[str]) -> None:
    narration = spoken_at_narration_pace(text)
    cues = caption_cues(narration)
    assert_good_cues(cues, narration, 42, 2)
    lines = [line for cue in cues for line in cue.text.split("\n")]
    for phrase in together:
        assert any(phrase in line for line in lines), f"{phrase!r} was split: {lines}"
    for line in lines[:-1]:
        last = line.split()[-1].lower()
        assert last not in {"a", "an", "the", "dr.", "mrs.", "ms.", "st.", "to", "of", "in", "because"}, lines
    for cue, following in zip(cues, [*cues[1:], None], strict=False):
        shown = cue.end_s - cue.start_s
        room = (following.start_s if following else narration.duration_s) - cue.start_s
        assert min(MIN_CUE_S, room) - 0.001 <= shown <= MAX_CUE_S + 0.001, cue
        assert len(cue.text.replace("\n", " ")) / shown <= MAX_CPS + 0.01 or shown >= room - 0.001, cue


def test_a_word_longer_than_a_line_is_hyphenated_by_the_language() -> None:
    word = "Donaudampfschifffahrtsgesellschaftskapitänsmütze"
    narration = spoken_at_narration_pace(f"Der {word} ist hier.", language="de")
    pieces = [line for cue in caption_cues(narration, max_chars_per_line=20) for line in cue.text.split("\n")]
    broken = [p for p in pieces if p.endswith("-")]
    assert broken and all(len(p) <= 20 for p in pieces)
    assert (
        "".join(p.removesuffix("-") for p in pieces if p not in ("Der", "ist hier."))
        .replace(" ", "")
        .startswith("Donaudampfschiff")
    )
