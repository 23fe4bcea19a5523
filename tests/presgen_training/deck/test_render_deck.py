"""Decks end to end: ``presgen render --deck`` on a python-pptx deck, on its PDF and on a 4:3 deck.

Frame checks decode the finished video: the slide region matches the rasterised slide (PSNR >= 30 dB), slides
change on the section's first frame, the presenter's picture-in-picture covers none of the slide's text (found
independently of the renderer: python-pptx's text shapes, narrowed to the ink the slide picture has inside them),
and the chapters read back with ffmpeg.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from PIL import Image
from pptx import Presentation

from helpers import presgen_json
from presgen_training.deck import DeckPictures, read_deck
from presgen_training.ffmpeg import ffmpeg_exe, file_arg, read_frames
from presgen_training.overlay.geometry import Rect

pytestmark = pytest.mark.slow
FPS = 25
MIN_PSNR_DB = 30.0
INK_DIFF = 60


def render_deck(*args: str) -> dict[str, Any]:
    """The manifest of a fast render with the static presenter."""
    return presgen_json("render", *args, "--avatar", "static", "--quality", "fast")


def frames(video: Path, size: tuple[int, int], indices: set[int]) -> dict[int, np.ndarray]:
    found = {}
    for n, raw in enumerate(read_frames(video, *size)):
        if n in indices:
            found[n] = np.frombuffer(raw, np.uint8).reshape(size[1], size[0], 3).astype(np.float64)
            if len(found) == len(indices):
                break
    return found


def psnr(a: np.ndarray, b: np.ndarray, keep: np.ndarray) -> float:
    mse = float(((a - b) ** 2)[keep].mean())
    return 99.0 if mse == 0 else 10 * np.log10(255.0**2 / mse)


def slide_check(frame: np.ndarray, picture: Path, slide: Rect, hide: list[Rect]) -> float:
    """PSNR of the slide's region of a frame against the rasterised slide, leaving out ``hide`` (the presenter)."""
    want = np.asarray(Image.open(picture).convert("RGB"), np.float64)
    assert want.shape[:2] == (slide.h, slide.w)
    got = frame[slide.y : slide.bottom, slide.x : slide.right]
    keep = np.ones((slide.h, slide.w), bool)
    for r in hide:
        keep[max(0, r.y - slide.y) : max(0, r.bottom - slide.y), max(0, r.x - slide.x) : max(0, r.right - slide.x)] = (
            False
        )
    return psnr(got, want, keep)


def text_extents(deck: Path, slide_number: int, picture: Path, slide: Rect) -> list[Rect]:
    """Where the slide's text is drawn: each python-pptx text shape's frame, narrowed to the ink inside it."""
    prs = Presentation(str(deck))
    sx, sy = slide.w / prs.slide_width, slide.h / prs.slide_height
    pixels = np.asarray(Image.open(picture).convert("RGB"), np.int16)
    background = np.median(pixels.reshape(-1, 3), axis=0)
    ink = np.abs(pixels - background).max(axis=-1) > INK_DIFF
    found = []
    for shape in prs.slides[slide_number - 1].shapes:
        texty = (shape.has_text_frame and shape.text_frame.text.strip()) or getattr(shape, "has_table", False)
        if not texty:
            continue
        x0, y0 = int(shape.left * sx), int(shape.top * sy)
        x1 = min(slide.w, int((shape.left + shape.width) * sx) + 1)
        y1 = min(slide.h, int((shape.top + shape.height) * sy) + 1)
        ys, xs = np.nonzero(ink[y0:y1, x0:x1])
        if len(xs):
            found.append(
                Rect(
                    slide.x + x0 + int(xs.min()),
                    slide.y + y0 + int(ys.min()),
                    int(xs.max() - xs.min()) + 1,
                    int(ys.max() - ys.min()) + 1,
                )
            )
    return found


def chapters_of(video: Path) -> list[tuple[float, float, str]]:
    text = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", file_arg(video)], capture_output=True, text=True).stderr
    starts = re.findall(r"Chapter #\d+:\d+: start ([\d.]+), end ([\d.]+)\s*\n\s*Metadata:\s*\n\s*title\s*: (.*)", text)
    return [(float(a), float(b), t.strip()) for a, b, t in starts]


def rect(value: list[int] | None) -> Rect:
    assert value is not None
    return Rect(*value)


@pytest.fixture(scope="module")
def pptx_render(
    decks: SimpleNamespace, deck_tools: None, media_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> SimpleNamespace:
    out = tmp_path_factory.mktemp("pptx") / "security.mp4"
    manifest = render_deck(
        "--deck",
        str(decks.main),
        "--source-video",
        str(media_dir / "sun.mp4"),
        "--out",
        str(out),
        "--intro",
        "after",
        "--end-card",
        "--captions",
        "off",
    )
    assert any(w.startswith("slide 5 skipped: no speaker notes") for w in manifest["deck"]["warnings"])
    return SimpleNamespace(out=out, manifest=manifest, size=(854, 480), deck=decks.main)


def test_deck_render_is_a_finished_video_with_bookends(pptx_render: SimpleNamespace) -> None:
    m = pptx_render.manifest
    narration = m["narration"]["duration_s"]
    assert abs(m["output"]["duration_s"] - (3.0 + narration + 3.0)) <= 0.1  # intro card, sections, end card
    assert m["overlay"]["layout"] == "slides" and m["deck"]["sections"] == [1, 2, 3, 4]
    sections = m["overlay"]["sections"]
    assert [s["arrangement"] for s in sections] == ["slide"] * 4
    assert sections[0]["first_frame"] == 75  # the narration starts after the 3 s intro card
    assert m["overlay"]["content_start_s"] == 3.0
    folder = pptx_render.out.parent
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["security.chapters.vtt", "security.manifest.json", "security.mp4", "security.thumbnail.png"]
    assert Image.open(folder / "security.thumbnail.png").size == (854, 480)


def test_chapters_read_back_with_ffmpeg(pptx_render: SimpleNamespace) -> None:
    chapters = chapters_of(pptx_render.out)
    titles = ["Security basics", "Check the sender", "Reports are rising", "What to do"]
    assert [c[2] for c in chapters] == titles
    sections = pptx_render.manifest["overlay"]["sections"]
    assert chapters[0][0] == 0.0 and abs(chapters[-1][1] - pptx_render.manifest["output"]["duration_s"]) < 0.05
    for (start, _, _), section in zip(chapters[1:], sections[1:]):
        assert abs(start - section["first_frame"] / FPS) < 0.002
    vtt = pptx_render.out.with_name("security.chapters.vtt").read_text()
    assert vtt.startswith("WEBVTT") and all(t in vtt for t in titles)


def test_slides_are_where_they_should_be_and_change_on_the_boundary(
    pptx_render: SimpleNamespace, tmp_path: Path
) -> None:
    sections = pptx_render.manifest["overlay"]["sections"]
    pictures = DeckPictures(read_deck(pptx_render.deck))
    wanted = set()
    for s in sections:
        wanted |= {(s["first_frame"] + s["end_frame"]) // 2, s["first_frame"], s["first_frame"] - 1}
    got = frames(pptx_render.out, pptx_render.size, wanted)
    for i, s in enumerate(sections):
        slide, pip = rect(s["slide_rect"]), rect(s["presenter_rect"])
        hide = [pip.inflate(40, 40)]  # the picture-in-picture and its shadow
        picture = pictures.picture(i + 1, (slide.w, slide.h))
        middle = slide_check(got[(s["first_frame"] + s["end_frame"]) // 2], picture, slide, hide)
        assert middle >= MIN_PSNR_DB, f"slide {i + 1}: {middle:.1f} dB"
        assert slide_check(got[s["first_frame"]], picture, slide, hide) >= MIN_PSNR_DB  # on its first frame
        if i:
            before = slide_check(got[s["first_frame"] - 1], picture, slide, hide)
            previous = slide_check(
                got[s["first_frame"] - 1],
                pictures.picture(i, (slide.w, slide.h)),
                slide,
                [rect(sections[i - 1]["presenter_rect"]).inflate(40, 40)],
            )
            assert previous >= MIN_PSNR_DB and before < previous, f"slide {i + 1} came before its section"


def test_the_presenter_covers_no_text(pptx_render: SimpleNamespace) -> None:
    pictures = DeckPictures(read_deck(pptx_render.deck))
    for i, s in enumerate(pptx_render.manifest["overlay"]["sections"]):
        slide, pip = rect(s["slide_rect"]), rect(s["presenter_rect"])
        texts = text_extents(pptx_render.deck, i + 1, pictures.picture(i + 1, (slide.w, slide.h)), slide)
        assert texts, f"slide {i + 1}: the test found no text"
        assert not [t for t in texts if t.intersects(pip)], f"slide {i + 1}: the presenter covers text"
        assert s["pip_corner"] in ("top-left", "top-right", "bottom-left", "bottom-right")


@pytest.fixture(scope="module")
def pdf_render(
    converted: SimpleNamespace, media_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> SimpleNamespace:
    out = tmp_path_factory.mktemp("pdf") / "security.mp4"
    manifest = render_deck(
        "--deck",
        str(converted.pdf),
        "--narrate-slide-text",
        "--source-image",
        str(media_dir / "man.png"),
        "--out",
        str(out),
        "--aspect",
        "9:16",
        "--captions",
        "burn",
        "--theme",
        "light",
    )
    return SimpleNamespace(out=out, manifest=manifest, size=(480, 854), pdf=converted.pdf)


def test_a_pdf_deck_in_portrait_puts_the_slide_on_top(pdf_render: SimpleNamespace) -> None:
    m = pdf_render.manifest
    sections = m["overlay"]["sections"]
    assert len(sections) == 5 and [s["arrangement"] for s in sections] == ["slide-band"] * 5
    assert [c[2] for c in chapters_of(pdf_render.out)][:2] == ["Security basics", "Check the sender"]
    pictures = DeckPictures(read_deck(pdf_render.pdf))
    middles = {(s["first_frame"] + s["end_frame"]) // 2 for s in sections}
    got = frames(pdf_render.out, pdf_render.size, middles)
    for i, s in enumerate(sections):
        slide, band = rect(s["slide_rect"]), rect(s["presenter_rect"])
        assert slide.y == 0 and slide.w == 480 and band.y == slide.bottom and band.bottom == 854
        picture = pictures.picture(i + 1, (slide.w, slide.h))
        value = slide_check(got[(s["first_frame"] + s["end_frame"]) // 2], picture, slide, [])
        assert value >= MIN_PSNR_DB, f"page {i + 1}: {value:.1f} dB"


@pytest.fixture(scope="module")
def classic_render(
    decks: SimpleNamespace, deck_tools: None, media_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> SimpleNamespace:
    out = tmp_path_factory.mktemp("classic") / "classic.mp4"
    manifest = render_deck(
        "--deck",
        str(decks.four_three),
        "--source-video",
        str(media_dir / "sun.mp4"),
        "--out",
        str(out),
        "--captions",
        "off",
        "--no-chapters",
    )
    return SimpleNamespace(out=out, manifest=manifest)


def test_a_4_3_deck_in_16_9_gives_the_presenter_the_side_band(classic_render: SimpleNamespace) -> None:
    sections = classic_render.manifest["overlay"]["sections"]
    assert [s["arrangement"] for s in sections] == ["slide-band", "slide-band"]
    slide, band = rect(sections[0]["slide_rect"]), rect(sections[0]["presenter_rect"])
    assert (slide.w, slide.h) == (640, 480) and band == Rect(640, 0, 214, 480)
    assert sorted(p.name for p in classic_render.out.parent.iterdir()) == ["classic.manifest.json", "classic.mp4"]
