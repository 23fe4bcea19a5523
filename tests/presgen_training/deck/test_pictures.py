"""Slide pictures: LibreOffice converts once per deck content (cached, atomic), pdftoppm draws pages at the exact
size asked, text blocks come back per slide; fonts the machine lacks are named; missing tools name the install."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from PIL import Image

from helpers import REPO
from presgen_training.deck import DeckError, DeckPictures, read_deck
from presgen_training.deck.fonts import missing_fonts_warning
from presgen_training.deck.tools import INSTALL_COMMAND


def test_conversion_is_cached_by_content(decks: SimpleNamespace, deck_tools: None, tmp_path: Path) -> None:
    deck = read_deck(decks.main)
    work: list[str] = []
    first = DeckPictures(deck, root=tmp_path, on_work=work.append)
    picture = first.picture(2, (1280, 720))
    assert Image.open(picture).size == (1280, 720) and len(work) == 1
    again = DeckPictures(deck, root=tmp_path, on_work=work.append)
    assert again.picture(2, (1280, 720)) == picture and len(work) == 1  # no second conversion
    assert again.folder == first.folder
    leftovers = [p for p in tmp_path.rglob("*") if p.name.startswith(".")]
    assert not leftovers, f"temp files left in the cache: {leftovers}"
    copy = tmp_path / "copy.pptx"
    copy.write_bytes(decks.main.read_bytes() + b"")  # same content under another name: same entry
    assert DeckPictures(read_deck(copy), root=tmp_path).folder == first.folder
    other = DeckPictures(read_deck(decks.four_three), root=tmp_path)
    assert other.folder != first.folder
    # a 4:3 slide keeps its aspect inside a 16:9 box
    assert Image.open(other.picture(1, (1280, 720))).size == (960, 720)


def test_text_blocks_of_a_slide(decks: SimpleNamespace, deck_tools: None, tmp_path: Path) -> None:
    pictures = DeckPictures(read_deck(decks.main), root=tmp_path)
    boxes = pictures.text_boxes(2)
    assert len(boxes) >= 2 and all(0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1 for x0, y0, x1, y1 in boxes)
    title = min(boxes, key=lambda b: b[1])
    assert title[1] < 0.2  # the title sits at the top
    assert (tmp_path / pictures.folder.name / "boxes.json").is_file()


def test_fonts_the_machine_lacks_are_named(deck_tools: None) -> None:
    warning = missing_fonts_warning("talk.pptx", ("DejaVu Sans", "Zyxwv Corporate Sans"))
    assert warning is not None and warning.startswith(
        "talk.pptx uses fonts this machine lacks: Zyxwv Corporate Sans (drawn with "
    )
    assert "DejaVu Sans (drawn" not in warning
    assert missing_fonts_warning("talk.pptx", ("DejaVu Sans",)) is None


def test_missing_deck_tools_name_the_install_command(
    decks: SimpleNamespace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRESGEN_NO_DECK_TOOLS", "1")
    with pytest.raises(DeckError) as info:
        DeckPictures(read_deck(decks.main), root=tmp_path).picture(1, (640, 360))
    assert str(info.value) == (
        f"LibreOffice is not installed (needed for drawing PPTX/ODP slides); install it with: {INSTALL_COMMAND}"
    )
    assert "make deck-tools" in INSTALL_COMMAND and "libreoffice-impress" in INSTALL_COMMAND


def test_render_without_deck_tools_fails_in_one_line_and_leaves_nothing(
    decks: SimpleNamespace, media_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out" / "talk.mp4"
    env = {**os.environ, "PRESGEN_NO_DECK_TOOLS": "1", "PRESGEN_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "presgen_training",
            "render",
            "--deck",
            str(decks.main),
            "--source-image",
            str(media_dir / "man.png"),
            "--out",
            str(out),
            "--avatar",
            "static",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("presgen: error: LibreOffice is not installed") and "make deck-tools" in last
    assert "Traceback" not in proc.stderr
    assert not out.parent.exists() or not list(out.parent.iterdir())
