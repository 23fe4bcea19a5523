"""Every layout at every aspect, themes, slides with the presenter as picture-in-picture, section images, the
empty-panel rule, intro and end cards, and windows of frames that render exactly like the whole video.

Renders use the overlay conftest's real speech and presenter (static engine) and a hand-made narration of three
sections: bullets; a slide (an image in the side and overlay layouts); nothing to show. Contact sheets of each
layout x aspect go to test-artifacts/ for a person to look at.
"""

from __future__ import annotations

import dataclasses
import subprocess
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image, ImageDraw

from presgen_training.ffmpeg import ffmpeg_exe, file_arg, probe, read_frames, run_ffmpeg
from presgen_training.overlay import Bookends, ComposeResult, OverlayConfig, compose, load_theme
from presgen_training.overlay.compose import plan_overlay
from presgen_training.overlay.filtergraph import avatar_input, build_graph
from presgen_training.overlay.geometry import Rect
from presgen_training.overlay.text import font
from presgen_training.timeline import Cue, Narration

pytestmark = pytest.mark.slow
FPS = 25
SIZES = {"16:9": (854, 480), "9:16": (480, 854), "1:1": (480, 480)}
THEMES = {"16:9": "default", "9:16": "light", "1:1": "contrast"}
TEXT_BOXES = [(0.25, 0.06, 0.75, 0.2), (0.06, 0.3, 0.55, 0.62)]  # where DrawnSlides writes text


class DrawnSlides:
    """A stand-in deck: 16:9 slides drawn with Pillow (a title and two lines of text at TEXT_BOXES)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def picture(self, slide_number: int, box: tuple[int, int]) -> Path:
        scale = min(box[0] / 16, box[1] / 9)
        w, h = int(16 * scale) // 2 * 2, int(9 * scale) // 2 * 2
        image = Image.new("RGB", (w, h), (255, 255, 255))
        draw = ImageDraw.Draw(image)
        for x0, y0, _x1, y1 in TEXT_BOXES:
            draw.text(
                (x0 * w, y0 * h),
                f"Slide {slide_number} text",
                font=font(max(8, int((y1 - y0) * h * 0.4))),
                fill=(20, 20, 20),
            )
        draw.rectangle((0.62 * w, 0.3 * h, 0.9 * w, 0.62 * h), fill=(37, 99, 235))  # a chart on the right
        path = self.folder / f"slide-{slide_number}-{w}x{h}.png"
        image.save(path)
        return path

    def text_boxes(self, slide_number: int) -> list[tuple[float, float, float, float]]:
        return list(TEXT_BOXES)


SECONDS = 7.2  # of real speech under three short sections


@pytest.fixture(scope="module")
def short_speech(media_dir: Path, kit: SimpleNamespace, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return kit.cut_wav(media_dir / "eng.wav", tmp_path_factory.mktemp("short") / "speech.wav", SECONDS)


@pytest.fixture(scope="module")
def short_avatar(
    media_dir: Path, short_speech: Path, kit: SimpleNamespace, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    return kit.static_avatar(media_dir / "sun.mp4", short_speech, tmp_path_factory.mktemp("short") / "sun.mp4")


@pytest.fixture(scope="module")
def three_sections(kit: SimpleNamespace, short_speech: Path) -> Narration:
    specs = [
        kit.SectionSpec(
            "Passwords",
            "Use the password manager for every account",
            0.3,
            0.25,
            ("Use the password manager", "Every account"),
        ),
        kit.SectionSpec("Reports are rising", "Reports doubled this year on Mondays", 2.6, 0.3),
        kit.SectionSpec("Thank you", "Thank you for keeping us safe", 5.0, 0.3),
    ]
    built = kit.build(specs, short_speech, SECONDS)
    built.sections[1].section = dataclasses.replace(built.sections[1].section, slide=1)
    return built


CUES = [
    Cue(0.3, 2.3, "Use the password manager for every account"),
    Cue(2.6, 4.6, "Reports doubled this year"),
    Cue(5.0, 7.0, "Thank you for keeping us safe"),
]


@pytest.fixture(scope="module")
def slides(tmp_path_factory: pytest.TempPathFactory) -> DrawnSlides:
    return DrawnSlides(tmp_path_factory.mktemp("slides"))


def contact_sheet(video: Path, size: tuple[int, int], indices: list[int], target: Path) -> None:
    select = "+".join(f"eq(n\\,{n})" for n in indices)
    run_ffmpeg(
        ["-i", file_arg(video), "-vf", f"select='{select}',tile={len(indices)}x1", "-frames:v", "1", file_arg(target)],
        "making a contact sheet",
    )


@pytest.fixture(scope="module")
def looks(
    short_avatar: Path,
    three_sections: Narration,
    slides: DrawnSlides,
    tmp_path_factory: pytest.TempPathFactory,
    artifacts_dir: Path,
) -> dict[tuple[str, str], tuple[ComposeResult, Path]]:
    rendered = {}
    folder = tmp_path_factory.mktemp("looks")
    for layout in ("side", "overlay", "slides"):
        for aspect, size in SIZES.items():
            out = folder / f"{layout}-{aspect.replace(':', 'x')}.mp4"
            config = OverlayConfig(
                layout=layout,
                quality="fast",
                aspect=aspect,
                captions="burn",
                title="Security basics",
                theme=load_theme(THEMES[aspect]),
            )
            result = compose(short_avatar, three_sections, out, config, captions=CUES, slides=slides)
            middles = [(s.first_frame + s.end_frame) // 2 for s in result.sections]
            contact_sheet(out, size, middles, artifacts_dir / f"looks-{layout}-{aspect.replace(':', 'x')}.png")
            rendered[(layout, aspect)] = (result, out)
    return rendered


@pytest.mark.parametrize("aspect", list(SIZES))
@pytest.mark.parametrize("layout", ["side", "overlay", "slides"])
def test_every_layout_at_every_aspect(layout: str, aspect: str, looks: dict) -> None:
    result, out = looks[(layout, aspect)]
    info = probe(out)
    assert (info.width, info.height) == SIZES[aspect] and abs(info.duration_s - SECONDS) <= 0.1
    frame = Rect(0, 0, *SIZES[aspect])
    assert all(frame.contains(c.rect) for c in result.cards)
    arrangements = [s.arrangement for s in result.sections]
    expected = {
        "side": ["panel", "panel", "stage"],
        "overlay": ["stage"] * 3,
        "slides": ["panel", "slide" if aspect == "16:9" else "slide-band", "stage"],
    }[layout]
    assert arrangements == expected
    # a section with neither bullets nor image never shows an empty panel: the presenter takes the frame
    last = result.sections[2]
    assert not [
        c
        for c in result.cards
        if c.kind == "panel" and c.start_s * FPS < last.end_frame and c.end_s * FPS > last.first_frame
    ]
    if result.face_rect is not None and layout == "overlay":
        assert not [
            c for c in result.cards if c.kind in ("title", "bullets", "image") and c.rect.intersects(result.face_rect)
        ]


def test_slides_layout_puts_the_pip_clear_of_text(looks: dict) -> None:
    result, out = looks[("slides", "16:9")]
    window = result.sections[1]
    pip, slide = window.presenter_rect, window.slide_rect
    assert slide is not None and slide.w >= 850 and slide.h == 480 and window.pip_corner is not None
    assert not [t for t in window.text_boxes if t.intersects(pip)]
    assert window.pip_corner.startswith("bottom")  # the title is at the top; shrunk below the text and chart
    # the slide, not the presenter, is in the frame's top-left text area on the section's first frame
    got = next(f for n, f in enumerate(read_frames(out, 854, 480)) if n == window.first_frame)
    pixels = np.frombuffer(got, np.uint8).reshape(480, 854, 3)
    assert pixels[10:30, 10:80].mean() > 240  # the white slide background


def test_a_window_of_frames_renders_like_the_whole_video(
    short_avatar: Path, three_sections: Narration, slides: DrawnSlides, tmp_path: Path
) -> None:
    config = OverlayConfig(
        layout="slides",
        quality="fast",
        captions="burn",
        title="Window",
        bookends=Bookends(intro="after", intro_s=1.0, end_card=True, end_s=1.0),
    )
    plan = plan_overlay(short_avatar, three_sections, config, tmp_path, CUES, slides=slides)
    size = plan.width * plan.height * 3

    def raw(window: tuple[int, int] | None) -> np.ndarray:
        graph = build_graph(plan, avatar_input(short_avatar, plan, window), 1, window)
        a, b = window or (0, plan.frames)
        cmd = [
            ffmpeg_exe(),
            "-v",
            "error",
            *graph.inputs,
            "-filter_complex",
            graph.filtergraph,
            "-map",
            "[vout]",
            "-frames:v",
            str(b - a),
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ]
        data = subprocess.run(cmd, capture_output=True, check=True).stdout
        return np.frombuffer(data, np.uint8).reshape(-1, plan.height, plan.width, 3)

    whole = raw(None)
    assert len(whole) == plan.frames
    bullet = next(layer for layer in plan.layers if layer.kind == "bullet")
    second = plan.sections[1]
    for window in [
        (0, 40),
        (bullet.first_frame + 2, bullet.first_frame + 12),
        (second.first_frame - 3, second.first_frame + 5),
        (plan.frames - 30, plan.frames),
    ]:
        part = raw(window)
        assert len(part) == window[1] - window[0]
        assert np.array_equal(part, whole[window[0] : window[1]]), f"window {window} differs from the whole render"
    assert size > 0


def test_intro_after_and_end_card_frame_the_sections(
    short_avatar: Path, three_sections: Narration, slides: DrawnSlides, tmp_path: Path, artifacts_dir: Path
) -> None:
    out = tmp_path / "bookends.mp4"
    config = OverlayConfig(
        layout="side",
        quality="fast",
        captions="off",
        title="Security basics",
        bookends=Bookends(intro="after", subtitle="A short module", end_card=True),
    )
    result = compose(short_avatar, three_sections, out, config, slides=slides)
    content = round(SECONDS * FPS)
    assert result.frames == 75 + content + 75 and abs(probe(out).duration_s - SECONDS - 6) <= 0.1
    assert result.content_start_s == 3.0 and result.sections[0].first_frame == 75
    kinds = [(c.kind, round(c.start_s * FPS), round(c.end_s * FPS)) for c in result.cards if c.kind in ("intro", "end")]
    assert kinds == [("intro", 0, 75), ("end", 75 + content, 150 + content)]
    contact_sheet(out, (854, 480), [0, 74, 75, 150, 74 + content, 149 + content], artifacts_dir / "looks-bookends.png")
    # the narration is delayed by the intro: silence first, speech after
    pcm = run_ffmpeg(["-i", file_arg(out), "-t", "9", "-ac", "1", "-ar", "8000", "-f", "s16le", "-"], "reading audio")
    samples = np.abs(np.frombuffer(pcm, np.int16).astype(np.int32))
    assert samples[: 8000 * 3 - 800].max() < 200 and samples[8000 * 3 :].max() > 2000


def test_brand_theme_file(
    short_avatar: Path, three_sections: Narration, slides: DrawnSlides, tmp_path: Path, artifacts_dir: Path
) -> None:
    logo = tmp_path / "logo.png"
    mark = Image.new("RGBA", (200, 80), (0, 0, 0, 0))
    ImageDraw.Draw(mark).rounded_rectangle((0, 0, 199, 79), 20, fill=(225, 29, 72, 255))
    mark.save(logo)
    background = tmp_path / "bg.jpg"
    Image.linear_gradient("L").resize((320, 180)).convert("RGB").save(background)
    theme_file = tmp_path / "brand.yaml"
    theme_file.write_text(
        "base: light\naccent: '#e11d48'\nbackground: bg.jpg\nlogo: logo.png\n"
        "logo_corner: top-left\ncard: {radius: 0}\ncaption: {size: 30}\n"
        "pip: {shape: circle, ring: '#e11d48'}\n"
        "fonts: {regular: /usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf}\n"
    )
    theme = load_theme(theme_file)
    assert theme.accent == (225, 29, 72) and theme.background_image == background and theme.card_radius == 0
    out = tmp_path / "brand.mp4"
    config = OverlayConfig(layout="slides", quality="fast", captions="off", title="Brand", theme=theme)
    result = compose(short_avatar, three_sections, out, config, slides=slides)
    kinds = {c.kind for c in result.cards}
    assert {"background", "logo", "slide", "ring"} <= kinds
    logo_card = next(c for c in result.cards if c.kind == "logo")
    assert logo_card.rect.x < 60 and logo_card.rect.y < 60
    assert not result.sections[1].presenter_rect.intersects(logo_card.rect)
    contact_sheet(
        out,
        (854, 480),
        [(s.first_frame + s.end_frame) // 2 for s in result.sections],
        artifacts_dir / "looks-brand-theme.png",
    )


@pytest.mark.parametrize(
    "text, message",
    [
        ("colour: red\n", "unknown theme key 'colour'"),
        ("accent: reddish\n", "accent must be a colour"),
        ("logo: nowhere.png\n", "logo file not found"),
        ("base: neon\n", "base 'neon' is not a built-in theme"),
        ("logo_corner: middle\n", "logo_corner 'middle'"),
    ],
)
def test_bad_theme_files_are_one_line(text: str, message: str, tmp_path: Path) -> None:
    from presgen_training.errors import PresgenError

    path = tmp_path / "brand.yaml"
    path.write_text(text)
    with pytest.raises(PresgenError, match=message) as info:
        load_theme(path)
    assert "\n" not in str(info.value)
