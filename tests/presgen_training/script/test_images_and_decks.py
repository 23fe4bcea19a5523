"""Scripts point at pictures and decks: ``image:`` / ``![alt](chart.png)`` per section, ``deck:`` with per-section
``slide:`` (YAML) or ``<!-- slide: N -->`` (Markdown); paths resolve beside the script; typos fail with the line."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from presgen_training.errors import ScriptError
from presgen_training.script import load_script


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    Image.new("RGB", (40, 30), "white").save(tmp_path / "chart.png")
    (tmp_path / "talk.pptx").write_bytes(b"PK\x03\x04")  # only its name and existence matter here
    return tmp_path


def test_yaml_images_deck_and_slides(folder: Path) -> None:
    path = folder / "talk.yaml"
    path.write_text(
        "title: T\ndeck: talk.pptx\nsections:\n"
        "  - title: A\n    narration: One.\n    image: chart.png\n"
        "  - title: B\n    narration: Two.\n    slide: 3\n"
    )
    script = load_script(path)
    assert script.deck == folder / "talk.pptx"
    assert script.sections[0].image == folder / "chart.png" and script.sections[0].slide is None
    assert script.sections[1].slide == 3 and script.sections[1].image is None


def test_markdown_images_and_slide_directives(folder: Path) -> None:
    path = folder / "talk.md"
    path.write_text(
        "---\ndeck: talk.pptx\n---\n# Course\n\n## First\nSay one.\n\n![Sales](chart.png)\n\n"
        "## Second\n<!-- slide: 4 -->\nSay two, with an ![inline](chart.png) picture.\n"
    )
    script = load_script(path)
    first, second = script.sections
    assert first.image == folder / "chart.png" and first.narration == "Say one." and first.slide is None
    assert second.slide == 4 and second.image == folder / "chart.png"
    assert second.narration == "Say two, with an picture."  # images are not spoken


@pytest.mark.parametrize(
    "text, message",
    [
        ("sections:\n  - narration: One.\n    image: missing.png\n", "talk.yaml:3: image not found: missing.png"),
        ("sections:\n  - narration: One.\n    image: notes.txt\n", "talk.yaml:3: image 'notes.txt' must be one of"),
        (
            "sections:\n  - narration: One.\n    slide: 2\n",
            "talk.yaml:2: a section names a 'slide' but the script names no 'deck'",
        ),
        (
            "deck: talk.pptx\nsections:\n  - narration: One.\n    slide: two\n",
            "talk.yaml:4: slide must be a slide number",
        ),
        ("deck: talk.pptx\nsections:\n  - narration: One.\n    slide: 0\n", "talk.yaml:4: slide numbers start at 1"),
        ("deck: talk.key\nsections:\n  - narration: One.\n", "talk.yaml:1: deck 'talk.key' must be one of"),
        ("deck: gone.pptx\nsections:\n  - narration: One.\n", "talk.yaml:1: deck not found: gone.pptx"),
    ],
)
def test_yaml_mistakes_name_the_line(text: str, message: str, folder: Path) -> None:
    path = folder / "talk.yaml"
    path.write_text(text)
    with pytest.raises(ScriptError, match=message):
        load_script(path)


def test_markdown_mistakes_name_the_line(folder: Path) -> None:
    path = folder / "talk.md"
    path.write_text("## A\nOne.\n![a](chart.png)\n![b](chart.png)\n")
    with pytest.raises(ScriptError, match=r"talk.md:4: a section shows one image"):
        load_script(path)
    path.write_text("## A\n<!-- slide: 2 -->\nOne.\n")
    with pytest.raises(ScriptError, match=r"talk.md:2: a section names a slide but the front matter names no"):
        load_script(path)
