"""Card placement, without rendering: whatever the presenter's framing, cards stay in the frame, off the face
and off each other, on even pixels."""

from __future__ import annotations

from dataclasses import replace
from itertools import combinations
from pathlib import Path
from types import SimpleNamespace

import pytest
from PIL import Image

from presgen_training.overlay import OverlayConfig
from presgen_training.overlay.geometry import Rect
from presgen_training.overlay.plan import OverlayPlan, build_plan, presenter_scales
from presgen_training.timeline import Cue, SectionTiming

CUES = [
    Cue(0.2, 2.5, "Welcome to the team, and thank you for joining us today."),
    Cue(2.6, 5.9, "Short one."),
    Cue(6.1, 9.5, "Use the company password manager for every single account."),
]


def still(width: int, height: int) -> Image.Image:
    return Image.new("RGB", (width, height), (120, 110, 100))


def make_plan(
    kit: SimpleNamespace,
    tmp_path: Path,
    source: tuple[int, int],
    face: Rect | None,
    layout: str,
    quality: str = "standard",
) -> OverlayPlan:
    specs = [
        kit.SectionSpec(
            "Why security matters, and why it matters to you in particular",
            "most incidents begin with a reused password or an unlocked laptop",
            0.2,
            0.4,
            (
                "Reused passwords",
                "Unlocked laptops",
                "A much longer third bullet that the narrator never actually says out loud",
            ),
        ),
        kit.SectionSpec("Passwords", "use the password manager", 6.0, 0.5, ("Use the password manager",)),
    ]
    narration = kit.build(specs, Path("unused.wav"), 10.0)
    config = OverlayConfig(layout=layout, quality=quality, captions="burn", title="Onboarding security")
    return build_plan(source, narration, config, CUES, face, "given" if face else "none", tmp_path, still)


FRAMINGS = {  # avatar size, face box in avatar pixels
    "portrait-centre": ((576, 768), Rect(205, 165, 139, 139)),
    "photo-big-face": ((1024, 1536), Rect(219, 302, 578, 576)),
    "landscape-left": ((1280, 720), Rect(260, 140, 200, 200)),
    "landscape-right": ((1920, 1080), Rect(1300, 200, 260, 260)),
    "landscape-close-up": ((1280, 720), Rect(440, 60, 400, 420)),
    "square-small-face": ((512, 512), Rect(175, 69, 96, 96)),
    "no-face": ((576, 768), None),
}


@pytest.mark.parametrize("quality", ["fast", "standard", "high"])
@pytest.mark.parametrize("name", list(FRAMINGS))
def test_overlay_cards_avoid_the_face_and_each_other(
    name: str, quality: str, kit: SimpleNamespace, tmp_path: Path
) -> None:
    source, face = FRAMINGS[name]
    plan = make_plan(kit, tmp_path, source, face, "overlay", quality)
    frame = Rect(0, 0, plan.width, plan.height)
    assert plan.face_rect is not None and not plan.face_rect.empty
    assert plan.face_source == ("given" if face else "assumed")
    cards = [layer for layer in plan.layers if not layer.is_presenter]
    for layer in plan.layers:
        assert frame.contains(layer.rect), f"{layer.kind} leaves the frame"
        assert layer.rect.x % 2 == 0 and layer.rect.y % 2 == 0
    for layer in cards:
        assert layer.image is not None
        assert all(Image.open(p).size == (layer.rect.w, layer.rect.h) for p in (*layer.intro, layer.image))
    for layer in cards:
        assert not layer.rect.intersects(plan.face_rect), f"{layer.kind} card covers the face"
    for a, b in combinations(cards, 2):
        at_once = a.first_frame < b.end_frame and b.first_frame < a.end_frame
        if at_once and a.kind != b.kind:
            assert not a.rect.intersects(b.rect), f"{a.kind} and {b.kind} overlap"
    # something is shown: the presenter's framing leaves room for the bullets and the captions
    kinds = {layer.kind for layer in cards}
    assert {"bullets", "caption", "title"} <= kinds, plan.warnings
    # around a presenter narrower than the frame: the theme's background, not a blurred copy
    assert frame.contains(plan.presenter.rect) and not any(layer.kind == "backdrop" for layer in plan.layers)
    assert plan.background == OverlayConfig().theme.background


@pytest.mark.parametrize("side", ["left", "right"])
def test_side_layout_panel_and_presenter_tile_the_frame(side: str, kit: SimpleNamespace, tmp_path: Path) -> None:
    specs = [kit.SectionSpec("Title", "one two three", 0.5, 0.5, ("One", "Two"))]
    narration = kit.build(specs, Path("unused.wav"), 4.0)
    config = OverlayConfig(layout="side", quality="high", captions="burn", presenter_side=side)
    plan = build_plan((1280, 720), narration, config, CUES[:1], Rect(500, 100, 200, 200), "given", tmp_path, still)
    assert plan.panel_rect is not None
    presenter, panel = plan.presenter.rect, plan.panel_rect
    assert presenter.h == panel.h == 1080 and presenter.w + panel.w == 1920
    assert (presenter.x > panel.x) == (side == "right")
    assert plan.face_rect is not None and presenter.contains(plan.face_rect)
    face_centre = plan.face_rect.x + plan.face_rect.w / 2
    assert abs(face_centre - (presenter.x + presenter.w / 2)) < presenter.w * 0.1  # the crop centres the face
    panels = [layer for layer in plan.layers if layer.kind == "panel"]
    assert len(panels) == 1 and panels[0].first_frame == 0 and panels[0].end_frame == plan.frames
    bullets = [layer for layer in plan.layers if layer.kind == "bullet"]
    assert [layer.visible_bullets for layer in bullets] == [1, 2]
    assert all(panels[0].rect.contains(b.rect) and b.end_frame == plan.frames for b in bullets)
    assert all(len(b.intro) == 6 for b in bullets)  # each fades in over 6 frames (240 ms)
    assert [layer.kind for layer in plan.layers if layer.is_presenter] == ["presenter"]


def test_only_burned_captions_are_drawn(kit: SimpleNamespace, tmp_path: Path) -> None:
    specs = [kit.SectionSpec("Title", "one two three", 0.0, 0.5)]
    narration = kit.build(specs, Path("unused.wav"), 4.0)
    cues = [Cue(0.5, 1.5, "A first cue"), Cue(2.0, 3.0, "A second cue")]
    for mode, expected in (("burn", 2), ("sidecar", 0), ("off", 0)):
        config = OverlayConfig(quality="fast", captions=mode)
        plan = build_plan((640, 480), narration, config, cues, None, "none", tmp_path, still)
        assert sum(1 for layer in plan.layers if layer.kind == "caption") == expected


def test_text_falls_back_to_pillows_own_font(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without DejaVu installed, Pillow's bundled scalable font draws the same cards."""
    import numpy as np

    from presgen_training.overlay import Theme, cards, text

    monkeypatch.setattr(text, "FONT_DIRS", ())
    text._font.cache_clear()
    try:
        assert "DejaVu" not in str(getattr(text.font(30), "path", ""))
        box = cards.draw_caption("Captions still render without system fonts", 600, 1.0, Theme())
        pixels = np.asarray(box)[..., :3].astype(int)
        assert box.width <= 600 and (np.abs(pixels - 255).max(axis=-1) < 40).mean() > 0.02  # white text
    finally:
        text._font.cache_clear()


def test_characters_the_font_cannot_draw_are_named_in_a_warning(kit: SimpleNamespace, tmp_path: Path) -> None:
    specs = [
        kit.SectionSpec("Café ✓ launch 🚀", "we launch today", 0.2, 0.4, ("日本 office opens",)),
        kit.SectionSpec("Plain title", "nothing unusual", 3.0, 0.4, ("Café, naïve, “quoted” – fine",)),
    ]
    narration = kit.build(specs, Path("unused.wav"), 6.0)
    config = OverlayConfig(layout="side", captions="burn", title="Launch")
    plan = build_plan(
        (1280, 720), narration, config, [Cue(0.2, 2.0, "Hello 👋")], Rect(500, 150, 200, 200), "given", tmp_path, still
    )
    glyphs = [w for w in plan.warnings if "cannot draw" in w]
    assert len(glyphs) == 2, plan.warnings  # section 1 and the captions; section 2's accents and quotes are drawn
    assert glyphs[0].startswith("section 1:") and all(ch in glyphs[0] for ch in "🚀日本") and "✓" not in glyphs[0]
    assert glyphs[1].startswith("the captions:") and "👋" in glyphs[1]


@pytest.mark.parametrize("layout", ["side", "overlay", "slides"])
@pytest.mark.parametrize("name", list(FRAMINGS))
def test_presenter_scales_bound_what_the_plan_shows(
    name: str, layout: str, kit: SimpleNamespace, tmp_path: Path
) -> None:
    """Known before the face is: per section, the most the presenter video is enlarged on screen. Whatever face
    the engine then finds, no section shows its presenter larger (a clip rendered that large loses nothing)."""
    source, face = FRAMINGS[name]
    chart = tmp_path / "chart.png"
    Image.new("RGB", (1600, 1200), (250, 250, 250)).save(chart)  # 4:3: a band beside it in 16:9
    specs = [
        kit.SectionSpec("Bullets", "one two three", 0.2, 0.4, ("First point", "Second point")),
        kit.SectionSpec("Nothing to show", "four five six", 2.0, 0.4),
        kit.SectionSpec("A chart", "seven eight nine", 4.0, 0.4),
    ]
    narration = kit.build(specs, Path("unused.wav"), 6.0)
    sections = list(narration.sections)
    chart_section = replace(sections[2].section, image=chart)
    sections[2] = SectionTiming(2, chart_section, sections[2].start_s, sections[2].end_s, sections[2].words)
    narration = replace(narration, sections=sections)
    config = OverlayConfig(layout=layout, captions="burn", title="Sizes")
    scales = presenter_scales(source, [s.section for s in narration.sections], config, tmp_path / "sizing")
    (tmp_path / "plan").mkdir()
    plan = build_plan(source, narration, config, CUES, face, "given" if face else "none", tmp_path / "plan", still)
    assert len(scales) == 3
    cover = max(plan.width / source[0], plan.height / source[1])
    for window in plan.sections:
        fits = [
            layer.fit
            for layer in plan.layers
            if layer.fit is not None and layer.first_frame < window.end_frame and window.first_frame < layer.end_frame
        ]
        assert fits, f"section {window.index + 1} shows no presenter"
        for fit in fits:  # even sizes round the scale up by at most 2 px
            assert fit.scale <= scales[window.index] + 2 / source[0] + 1e-9, (window.index, fit, scales)
        assert scales[window.index] <= cover + 1e-9
    if layout == "side":  # the panel shows the presenter in a column, never larger than the frame-filling stage
        assert scales[0] <= scales[1] == pytest.approx(cover)
