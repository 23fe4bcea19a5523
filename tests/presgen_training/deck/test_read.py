"""Reading decks: titles, text, tables, speaker notes, hidden slides and fonts, from PPTX, ODP and PDF; slides
become sections (notes narrated, slides without notes skipped with a warning or read aloud)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from presgen_training.deck import DeckError, attach_deck, deck_script, read_deck
from presgen_training.deck.sections import LONG_NOTES_WORDS, parse_slide_range
from presgen_training.errors import ScriptError
from presgen_training.script import load_script


def test_pptx_titles_text_tables_notes_and_hidden_slides(decks: SimpleNamespace) -> None:
    deck = read_deck(decks.main)
    assert deck.kind == "pptx" and len(deck.slides) == 6
    assert round(deck.aspect, 2) == 1.78
    s = deck.slides
    assert [x.title for x in s] == [
        "Security basics",
        "Check the sender",
        "Reports are rising",
        "What to do",
        "Questions",
        "Draft slide",
    ]
    assert s[0].lines == ("A short module",)
    assert s[1].lines == ("Read the full address", "Look-alike domains")
    assert s[3].lines == ("Situation, Action", "Odd sender, Do not reply", "Odd link, Hover first")
    assert [x.notes for x in s[:4]] == [decks.notes[n] for n in range(1, 5)]
    assert s[4].notes == "" and s[5].hidden and not any(x.hidden for x in s[:5])
    assert [x.number for x in deck.visible()] == [1, 2, 3, 4, 5] and deck.page_of(5) == 5
    assert "Calibri" in deck.fonts  # the default template's theme font
    assert round(read_deck(decks.four_three).aspect, 3) == round(4 / 3, 3)


def test_one_section_per_slide_narrated_from_notes(decks: SimpleNamespace) -> None:
    made = deck_script(read_deck(decks.main))
    assert [(s.slide, s.title, s.narration) for s in made.script.sections] == [
        (n, t, decks.notes[n])
        for n, t in enumerate(["Security basics", "Check the sender", "Reports are rising", "What to do"], start=1)
    ]
    assert made.script.title == "Security basics" and made.script.deck == decks.main
    assert made.warnings == [
        "slide 5 skipped: no speaker notes (add notes, or pass --narrate-slide-text to read a slide's own text)"
    ]


def test_slides_without_notes_read_their_own_text_when_asked(decks: SimpleNamespace) -> None:
    made = deck_script(read_deck(decks.main), narrate_slide_text=True)
    assert [s.slide for s in made.script.sections] == [1, 2, 3, 4, 5]
    assert made.script.sections[4].narration == "Questions. Ask the security team."
    assert made.script.sections[0].narration == decks.notes[1]  # notes still win where there are some
    assert not made.warnings


def test_slide_ranges(decks: SimpleNamespace) -> None:
    deck = read_deck(decks.main)
    assert [s.slide for s in deck_script(deck, slides="2-3,1").script.sections] == [2, 3, 1]
    assert parse_slide_range("1-2, 4", 6) == [1, 2, 4]
    for bad in ("0-2", "3-1", "7", "a-b"):
        with pytest.raises(DeckError, match="--slides"):
            parse_slide_range(bad, 6)
    made = deck_script(deck, slides="6,2")
    assert made.warnings == ["slide 6 is hidden in the deck: skipped"]


def test_a_slide_with_2000_words_of_notes_warns(decks: SimpleNamespace, tmp_path: Path) -> None:
    from demo_deck import SlideSpec, build_deck

    words = " ".join(["Security is everyone's job."] * 500)  # 2,000 words
    path = build_deck(tmp_path / "long.pptx", [SlideSpec("Long", notes=words), SlideSpec("Short", notes="Hi.")])
    made = deck_script(read_deck(path))
    assert len(made.script.sections) == 2 and len(made.script.sections[0].narration.split()) == 2000
    assert made.warnings == [
        "slide 1: 2000 words of notes, about 13 min on one slide; consider splitting it into several slides"
    ]
    assert LONG_NOTES_WORDS < 2000


@pytest.mark.parametrize(
    "case", ["corrupt", "password", "legacy-ppt", "zero-slides", "empty-file", "no-notes", "missing", "wrong-type"]
)
def test_bad_decks_are_one_clear_line(case: str, decks: SimpleNamespace, tmp_path: Path) -> None:
    path = tmp_path / "talk.pptx"
    expected = {
        "corrupt": "not a readable PowerPoint file",
        "password": "password-protected",
        "legacy-ppt": "old binary PowerPoint file",
        "zero-slides": "has no slides",
        "empty-file": "is empty",
        "no-notes": "nothing to narrate",
        "missing": "deck not found",
        "wrong-type": "unknown deck type",
    }[case]
    if case == "corrupt":
        data = decks.main.read_bytes()
        path.write_bytes(data[: len(data) // 2])  # cut short: the zip's directory is gone
    elif case == "password":
        # an encrypted OOXML package is a compound file holding EncryptionInfo and EncryptedPackage streams
        path.write_bytes(
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504 + "EncryptionInfo".encode("utf-16-le") + b"\0" * 1024
        )
    elif case == "legacy-ppt":
        path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 2048)
    elif case == "zero-slides":
        path = decks.empty
    elif case == "empty-file":
        path.write_bytes(b"")
    elif case == "no-notes":
        from demo_deck import SlideSpec, build_deck

        build_deck(path, [SlideSpec("Only a title")])
    elif case == "wrong-type":
        path = tmp_path / "talk.key"
        path.write_bytes(b"x")
    with pytest.raises(DeckError) as info:
        deck_script(read_deck(path))
    message = str(info.value)
    assert expected in message and "\n" not in message and "Traceback" not in message


def test_odp_and_pdf_decks_read_the_same_slides(converted: SimpleNamespace) -> None:
    odp = read_deck(converted.odp)
    assert odp.kind == "odp"
    assert [s.title for s in odp.visible()][:4] == [
        "Security basics",
        "Check the sender",
        "Reports are rising",
        "What to do",
    ]
    assert odp.visible()[1].notes == "Check the sender before you click."
    assert odp.visible()[3].lines[0].startswith("Situation")
    assert round(odp.aspect, 2) == 1.78
    pdf = read_deck(converted.pdf)
    assert pdf.kind == "pdf" and len(pdf.slides) == 5  # the hidden slide is not in the PDF
    assert pdf.slides[1].title == "Check the sender" and "Read the full address" in pdf.slides[1].lines
    assert all(s.notes == "" for s in pdf.slides)  # a PDF keeps no speaker notes
    with pytest.raises(DeckError, match=r"a PDF keeps no speaker notes.*--narrate-slide-text"):
        deck_script(pdf)
    assert deck_script(pdf, narrate_slide_text=True).script.sections[1].narration.startswith("Check the sender.")


def test_a_300_page_pdf_is_refused_unless_slides_are_chosen(deck_tools: None, tmp_path: Path) -> None:
    from PIL import Image, ImageDraw

    pages = []
    for n in range(300):
        page = Image.new("RGB", (160, 90), "white")
        ImageDraw.Draw(page).text((10, 10), f"Page {n + 1}", fill="black")
        pages.append(page)
    path = tmp_path / "manual.pdf"
    pages[0].save(path, save_all=True, append_images=pages[1:])
    deck = read_deck(path)
    assert len(deck.slides) == 300
    with pytest.raises(
        DeckError,
        match=r"300 slides to narrate; one video takes at most 150: choose some with "
        r"--slides 1-150 or split the deck",
    ):
        deck_script(deck, narrate_slide_text=True)
    with pytest.raises(DeckError, match="nothing to narrate"):  # drawn text only: pdftotext finds none
        deck_script(deck, narrate_slide_text=True, slides="1-3")


def test_pdf_that_is_not_a_pdf(deck_tools: None, tmp_path: Path) -> None:
    path = tmp_path / "slides.pdf"
    path.write_bytes(b"%PDF-1.4\n garbage without a trailer")
    with pytest.raises(DeckError, match="not a readable PDF"):
        read_deck(path)


def test_scripts_name_a_deck_and_pick_slides(decks: SimpleNamespace, tmp_path: Path) -> None:
    script = tmp_path / "talk.yaml"
    script.write_text(f"""title: Talk
deck: {decks.main}
sections:
  - narration: Intro.
  - narration: Tables.
    slide: 4
  - narration: Next after four.
""")
    made = attach_deck(load_script(script), read_deck(decks.main))
    assert [s.slide for s in made.script.sections] == [1, 4, 5]  # implicit: the slide after the previous one
    script.write_text(f"deck: {decks.main}\nsections:\n  - narration: Too far.\n    slide: 9\n")
    with pytest.raises(ScriptError, match=r"talk.yaml:3: slide 9: security.pptx has 6 slides"):
        attach_deck(load_script(script), read_deck(decks.main))
    script.write_text(f"deck: {decks.main}\nsections:\n  - narration: Hidden.\n    slide: 6\n")
    with pytest.raises(ScriptError, match="slide 6 is hidden"):
        attach_deck(load_script(script), read_deck(decks.main))
