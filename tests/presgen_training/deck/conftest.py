"""Decks the tests build with python-pptx (titles, bullets, notes, an image, a table, a 4:3 deck), the same deck
as PDF and ODP (converted by LibreOffice), and the deck tools: tests that need them skip with the install command."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pytest

from helpers import REPO
from presgen_training.deck.tools import ALL_TOOLS, INSTALL_COMMAND, missing

sys.path.insert(0, str(REPO / "examples"))
from demo_deck import STANDARD, SlideSpec, build_deck, chart_picture

NOTES = {  # slide number -> speaker notes (short: tests narrate them)
    1: "Welcome to the security basics.",
    2: "Check the sender before you click.",
    3: "Reports doubled this year.",
    4: "Here is what to do.",
}


@pytest.fixture(scope="session")
def deck_tools() -> None:
    lacking = missing(ALL_TOOLS)
    if lacking:
        pytest.skip(f"{', '.join(t.name for t in lacking)} not installed; run: {INSTALL_COMMAND}")


@pytest.fixture(scope="session")
def decks(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    folder = tmp_path_factory.mktemp("decks")
    chart = chart_picture(folder / "chart.png")
    slides = [
        SlideSpec("Security basics", subtitle="A short module", notes=NOTES[1]),
        SlideSpec("Check the sender", bullets=["Read the full address", "Look-alike domains"], notes=NOTES[2]),
        SlideSpec("Reports are rising", bullets=["Doubled this year"], image=chart, notes=NOTES[3]),
        SlideSpec(
            "What to do",
            table=[["Situation", "Action"], ["Odd sender", "Do not reply"], ["Odd link", "Hover first"]],
            notes=NOTES[4],
        ),
        SlideSpec("Questions", bullets=["Ask the security team"]),  # no notes
        SlideSpec("Draft slide", bullets=["Not ready"], notes="Never shown.", hidden=True),
    ]
    main = build_deck(folder / "security.pptx", slides)
    four_three = build_deck(
        folder / "classic.pptx",
        [
            SlideSpec("An old 4:3 deck", bullets=["Narrow slides", "Letterboxed in 16:9"], notes="An old deck."),
            SlideSpec("Second slide", bullets=["Still 4:3"], notes="Still four by three."),
        ],
        size=STANDARD,
    )
    empty = build_deck(folder / "empty.pptx", [])
    return SimpleNamespace(
        folder=folder, main=main, four_three=four_three, empty=empty, chart=chart, notes=NOTES, specs=slides
    )


@pytest.fixture(scope="session")
def converted(decks: SimpleNamespace, deck_tools: None, tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """The main deck as PDF and as ODP, made by LibreOffice."""
    from presgen_training.deck.convert import convert_to_pdf
    from presgen_training.deck.tools import LIBREOFFICE, run_tool

    folder = tmp_path_factory.mktemp("converted")
    pdf = folder / "security.pdf"
    convert_to_pdf(decks.main, pdf)
    run_tool(
        LIBREOFFICE,
        [
            "--headless",
            f"-env:UserInstallation={(folder / 'profile').as_uri()}",
            "--convert-to",
            "odp",
            "--outdir",
            str(folder),
            str(decks.main),
        ],
        "converting the test deck to ODP",
    )
    return SimpleNamespace(pdf=pdf, odp=folder / "security.odp")
