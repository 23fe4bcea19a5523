"""The overlay stage on real presenter media: output format, bullets and titles on cue, captions, the face kept clear.

Pixel checks decode the finished video: a bullet's place is bare panel one frame before the narration reaches it
and holds text on that frame; in the overlay layout the face region matches the avatar video frame by frame.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from presgen_training.errors import MediaError
from presgen_training.ffmpeg import count_frames, file_arg, probe, read_frames, run_ffmpeg
from presgen_training.overlay import ComposeResult, OverlayConfig, Theme, compose
from presgen_training.overlay.geometry import Rect
from presgen_training.overlay.layers import MOTION_FRAMES
from presgen_training.timeline import Narration

pytestmark = pytest.mark.slow
FPS = 25
TITLE = "Onboarding security in five minutes"
FRAMES = 300  # 12 s of narration at 25 fps
TEXT_DIFF = 60  # a channel this far from the background colour is ink, not codec noise
PANEL = Theme().panel


# ------------------------------------------------------------------ pixel helpers


def frames_at(video: Path, width: int, height: int, indices: Iterable[int]) -> dict[int, np.ndarray]:
    """Decoded frames by index, in one pass over the video."""
    wanted = set(indices)
    found: dict[int, np.ndarray] = {}
    for n, raw in enumerate(read_frames(video, width, height)):
        if n in wanted:
            found[n] = np.frombuffer(raw, np.uint8).reshape(height, width, 3).astype(np.int16)
            if len(found) == len(wanted):
                break
    assert set(found) == wanted, f"frames {sorted(wanted - set(found))} missing from {video}"
    return found


def crop(frame: np.ndarray, rect: Rect, inset: int = 0) -> np.ndarray:
    return frame[rect.y + inset : rect.bottom - inset, rect.x + inset : rect.right - inset]


def ink(pixels: np.ndarray, background: tuple[int, int, int] | np.ndarray) -> float:
    """Share of pixels that differ from the background like text does."""
    diff = np.abs(pixels - np.asarray(background, np.int16)).max(axis=-1)
    return float((diff > TEXT_DIFF).mean())


def first_frame(t: float) -> int:
    return math.ceil(t * FPS - 1e-6)


def presenter_reference(avatar: Path, result: ComposeResult, indices: Iterable[int]) -> dict[int, np.ndarray]:
    """The avatar's own frames, scaled and cropped the way compose placed them, in output coordinates
    (black outside the presenter's rectangle)."""
    fit = result.presenter
    r = fit.rect
    found = {}
    for n, f in frames_at(avatar, fit.scaled_w, fit.scaled_h, indices).items():
        full = np.zeros((result.height, result.width, 3), np.int16)
        full[r.y : r.bottom, r.x : r.right] = f[fit.crop_y : fit.crop_y + r.h, fit.crop_x : fit.crop_x + r.w]
        found[n] = full
    return found


def block_diff(a: np.ndarray, b: np.ndarray, block: int = 16) -> float:
    """Largest mean absolute difference over block x block tiles: a card over part of the face shows up."""
    h, w = a.shape[:2]
    worst = 0.0
    for y in range(0, h - block + 1, block):
        for x in range(0, w - block + 1, block):
            worst = max(worst, float(np.abs(a[y : y + block, x : x + block] - b[y : y + block, x : x + block]).mean()))
    return worst


def assert_video(path: Path, size: tuple[int, int], duration_s: float, frames: int) -> None:
    info = probe(path)
    assert (info.width, info.height) == size
    assert info.fps == FPS
    assert info.video_codec == "h264" and info.pix_fmt == "yuv420p"
    assert info.audio_codec == "aac"
    assert info.duration_s is not None and abs(info.duration_s - duration_s) <= 0.1
    assert count_frames(path) == frames
    head = path.read_bytes()[: 1 << 20]
    assert 0 <= head.find(b"moov") < head.find(b"mdat") or head.find(b"mdat") == -1, "moov not first (faststart)"


def save_frames(video: Path, size: tuple[int, int], times: dict[str, float], folder: Path, stem: str) -> None:
    frames = frames_at(video, *size, {first_frame(t) for t in times.values()})
    for name, t in times.items():
        Image.fromarray(frames[first_frame(t)].astype(np.uint8)).save(folder / f"{stem}-{name}.png")


# ------------------------------------------------------------------ side layout


@pytest.fixture(scope="module")
def side(
    video_avatar: Path,
    narration: Narration,
    caption_cues: list,
    tmp_path_factory: pytest.TempPathFactory,
    artifacts_dir: Path,
) -> tuple[ComposeResult, Path, list[tuple[int, int]]]:
    out = tmp_path_factory.mktemp("side") / "side.mp4"
    calls: list[tuple[int, int]] = []
    config = OverlayConfig(layout="side", quality="fast", captions="burn", title=TITLE)
    result = compose(
        video_avatar,
        narration,
        out,
        config,
        captions=caption_cues,
        progress=lambda done, total: calls.append((done, total)),
    )
    save_frames(
        out,
        (854, 480),
        {"section1-bullets": 5.0, "section2-start": 6.7, "section2-bullets": 9.0},
        artifacts_dir,
        "overlay-side",
    )
    return result, out, calls


def test_side_output_is_a_finished_video(side: tuple[ComposeResult, Path, list]) -> None:
    result, out, _ = side
    assert_video(out, (854, 480), 12.0, FRAMES)
    assert (result.width, result.height, result.frames) == (854, 480, FRAMES)
    assert result.audio == "avatar audio copied"
    assert not result.warnings
    assert [p.name for p in out.parent.iterdir()] == ["side.mp4"]  # no temp file left beside it


def test_side_regions_split_the_frame(side: tuple[ComposeResult, Path, list]) -> None:
    result, _, _ = side
    assert result.panel_rect is not None and result.caption_rect is not None
    assert result.presenter_rect.x == result.panel_rect.right  # presenter on the right, panel on the left
    assert result.presenter_rect.w + result.panel_rect.w == 854
    assert result.face_source == "detected" and result.face_rect is not None
    assert result.presenter_rect.contains(result.face_rect)
    frame = Rect(0, 0, 854, 480)
    assert all(frame.contains(c.rect) and c.rect.x % 2 == 0 and c.rect.y % 2 == 0 for c in result.cards)


def test_bullets_appear_when_the_narration_reaches_them(
    side: tuple[ComposeResult, Path, list], narration: Narration
) -> None:
    result, out, _ = side
    spoken = {b.text: b for b in result.bullets}
    words = {w.text.strip(".,").lower(): w.start_s for w in narration.words}
    assert spoken["Reused passwords"].reveal_s == first_frame(words["reused"]) / FPS
    assert spoken["Unlocked laptops"].reveal_s == first_frame(words["unlocked"]) / FPS
    assert spoken["Turn on two-factor sign-in"].reveal_s == first_frame(words["turn"]) / FPS
    assert [b.source for b in result.bullets] == ["spoken", "spoken", "spread", "spoken", "spoken"]
    reveals = [round(b.reveal_s * FPS) for b in result.bullets]
    # a bullet spoken on its section's first frame has no "before" in that section
    section_starts = {0} | {first_frame(s.start_s) for s in narration.sections[1:]}
    frames = frames_at(
        out,
        854,
        480,
        {f - 1 for f in reveals if f} | set(reveals) | {round(b.hide_s * FPS) - 1 for b in result.bullets},
    )
    for bullet, f in zip(result.bullets, reveals):
        if f not in section_starts:
            assert ink(crop(frames[f - 1], bullet.rect, 2), PANEL) < 0.002, f"{bullet.text!r} shown early"
        assert ink(crop(frames[f], bullet.rect, 2), PANEL) > 0.02, f"{bullet.text!r} missing on its frame"
        last = round(bullet.hide_s * FPS) - 1
        assert ink(crop(frames[last], bullet.rect, 2), PANEL) > 0.02, f"{bullet.text!r} gone before its section"


def test_long_bullet_is_wrapped_not_clipped(side: tuple[ComposeResult, Path, list]) -> None:
    result, _, _ = side
    short, long_ = result.bullets[0], result.bullets[2]
    assert long_.rect.h >= 1.8 * short.rect.h  # two lines
    assert result.panel_rect is not None and result.panel_rect.contains(long_.rect)


def test_section_title_changes_at_the_section_start(
    side: tuple[ComposeResult, Path, list], narration: Narration
) -> None:
    result, out, _ = side
    assert result.panel_rect is not None
    start = first_frame(narration.sections[1].start_s)
    header = Rect(result.panel_rect.x, 0, result.panel_rect.w, min(b.rect.y for b in result.bullets) - 4)
    frames = frames_at(out, 854, 480, {start - 1, start, start + 50})
    before, at, later = (crop(frames[n], header) for n in (start - 1, start, start + 50))
    assert float(np.abs(at - before).mean()) > 2.0, "section header did not change at the section start"
    assert ink(at, PANEL) > 0.02
    assert float(np.abs(later - at).mean()) < 1.0, "section header is not steady within its section"


def test_captions_show_only_during_their_cue(side: tuple[ComposeResult, Path, list], caption_cues: list) -> None:
    result, out, _ = side
    assert result.captions_burned == len(caption_cues)
    box = result.caption_rect
    assert box is not None
    during = [first_frame((c.start_s + c.end_s) / 2) for c in caption_cues]
    outside = [first_frame(3.1), first_frame(11.8)]  # between two cues, after the last
    frames = frames_at(out, 854, 480, during + outside)
    for n in during:
        assert ink(crop(frames[n], box, 2), PANEL) > 0.02, f"no caption at frame {n}"
    for n in outside:
        assert ink(crop(frames[n], box, 2), PANEL) < 0.002, f"caption shown outside its cue at frame {n}"


def test_progress_reaches_the_last_frame(side: tuple[ComposeResult, Path, list]) -> None:
    _, _, calls = side
    assert calls and calls[-1] == (FRAMES, FRAMES)
    done = [d for d, _ in calls]
    assert done == sorted(done) and all(total == FRAMES for _, total in calls)


def test_result_is_plain_data_for_the_manifest(side: tuple[ComposeResult, Path, list]) -> None:
    result, _, _ = side
    data = json.loads(json.dumps(asdict(result), default=str))
    assert data["layout"] == "side" and len(data["bullets"]) == 5
    assert data["presenter_rect"] == list(result.presenter_rect)


# ------------------------------------------------------------------ overlay layout


@pytest.fixture(scope="module")
def overlaid(
    photo_avatar: Path,
    narration: Narration,
    caption_cues: list,
    tmp_path_factory: pytest.TempPathFactory,
    artifacts_dir: Path,
) -> tuple[ComposeResult, Path]:
    out = tmp_path_factory.mktemp("overlay") / "overlay.mp4"
    config = OverlayConfig(layout="overlay", quality="standard", captions="burn", title=TITLE)
    result = compose(photo_avatar, narration, out, config, captions=caption_cues)
    save_frames(out, (1280, 720), {"title": 0.5, "bullets": 5.0, "section2": 9.0}, artifacts_dir, "overlay-cards")
    return result, out


@pytest.fixture(scope="module")
def bare(photo_avatar: Path, narration: Narration, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same framing with nothing on top (no sections, no captions): what cards must cover and uncover."""
    out = tmp_path_factory.mktemp("bare") / "bare.mp4"
    empty = Narration(narration.wav_path, narration.duration_s, narration.sample_rate, [], [], [], "test", "test")
    compose(photo_avatar, empty, out, OverlayConfig(layout="overlay", quality="standard", captions="off"))
    return out


def test_overlay_output_is_a_finished_video(overlaid: tuple[ComposeResult, Path]) -> None:
    result, out = overlaid
    assert_video(out, (1280, 720), 12.0, FRAMES)
    assert result.panel_rect is None and Rect(0, 0, 1280, 720).contains(result.presenter_rect)
    assert result.presenter_rect.h == 720  # a head-and-shoulders photo is not blown up to fill the width
    assert not result.warnings


def test_overlay_keeps_every_card_off_the_face(overlaid: tuple[ComposeResult, Path], photo_avatar: Path) -> None:
    result, out = overlaid
    face = result.face_rect
    assert result.face_source == "detected" and face is not None and face.w > 100 and face.h > 100
    assert not [c for c in result.cards if c.rect.intersects(face)]
    indices = list(range(0, FRAMES, 12))
    got = frames_at(out, 1280, 720, indices)
    want = presenter_reference(photo_avatar, result, indices)
    for n in indices:
        assert block_diff(crop(got[n], face), crop(want[n], face)) < 12, f"face altered at frame {n}"


def test_overlay_title_card_opens_each_section(
    overlaid: tuple[ComposeResult, Path], bare: Path, narration: Narration
) -> None:
    result, out = overlaid
    titles = [c for c in result.cards if c.kind == "title"]
    assert [round(c.start_s * FPS) for c in titles] == [0, first_frame(narration.sections[1].start_s)]
    shown = [round(c.start_s * FPS) for c in titles]
    gone = [round(c.end_s * FPS) for c in titles]
    faded_in = [f + MOTION_FRAMES for f in shown]
    indices = set(shown) | set(gone) | set(faded_in) | {f - 1 for f in shown if f}
    got = frames_at(out, 1280, 720, indices)
    want = frames_at(bare, 1280, 720, indices)
    for card, on, full, off in zip(titles, shown, faded_in, gone):
        first = ink(crop(got[on], card.rect), crop(want[on], card.rect))
        assert first > 0.05, "title card not yet visible on its first frame"
        assert ink(crop(got[full], card.rect), crop(want[full], card.rect)) >= first  # it fades in, eased
        if on:
            assert block_diff(crop(got[on - 1], card.rect), crop(want[on - 1], card.rect)) < 12, "card came early"
        assert block_diff(crop(got[off], card.rect), crop(want[off], card.rect)) < 12, "title card stayed up"


def test_overlay_bullets_come_in_on_cue(overlaid: tuple[ComposeResult, Path], bare: Path, narration: Narration) -> None:
    result, out = overlaid
    reveals = [round(b.reveal_s * FPS) for b in result.bullets]
    indices = {f - 1 for f in reveals} | set(reveals)
    got = frames_at(out, 1280, 720, indices)
    want = frames_at(bare, 1280, 720, indices)
    section_starts = {0} | {first_frame(s.start_s) for s in narration.sections[1:]}
    for bullet, f in zip(result.bullets, reveals):
        if f in section_starts:  # the previous section's card may stand there one frame earlier
            assert ink(crop(got[f], bullet.rect, 2), crop(want[f], bullet.rect, 2)) > 0.05
            continue
        before = crop(got[f - 1], bullet.rect, 2)
        # before its reveal the place shows the presenter (first bullet) or the card's empty background
        assert ink(before, crop(want[f - 1], bullet.rect, 2)) < 0.01 or ink(before, Theme().card[:3]) < 0.01
        # its text shows on the reveal frame (fading in: not yet at full strength, over the theme background)
        assert ink(crop(got[f], bullet.rect, 2), crop(want[f], bullet.rect, 2)) > 0.05


def test_given_face_box_is_used(video_avatar: Path, narration: Narration, tmp_path: Path) -> None:
    out = tmp_path / "given.mp4"
    config = OverlayConfig(layout="overlay", quality="fast", captions="off", title=TITLE)
    result = compose(video_avatar, narration, out, config, face_box=(200, 160, 150, 150))
    assert result.face_source == "given" and result.face_rect is not None
    assert not [c for c in result.cards if c.rect.intersects(result.face_rect)]
    assert result.captions_burned == 0


# ------------------------------------------------------------------ inputs that cannot work


def test_avatar_without_sound_takes_the_narration_audio(
    video_avatar: Path, narration: Narration, tmp_path: Path
) -> None:
    silent = tmp_path / "silent.mp4"
    run_ffmpeg(["-i", file_arg(video_avatar), "-an", "-c:v", "copy", file_arg(silent)], "stripping audio")
    out = tmp_path / "out.mp4"
    result = compose(silent, narration, out, OverlayConfig(quality="fast", title=TITLE))
    assert result.audio == "narration audio encoded"
    assert_video(out, (854, 480), 12.0, FRAMES)


def test_avatar_a_little_short_holds_its_last_frame(video_avatar: Path, narration: Narration, tmp_path: Path) -> None:
    longer = Narration(
        narration.wav_path, 12.5, narration.sample_rate, narration.sections, narration.words, [], "test", "test"
    )
    out = tmp_path / "longer.mp4"
    result = compose(video_avatar, longer, out, OverlayConfig(quality="fast", captions="off"))
    assert result.frames == round(12.5 * FPS)
    assert_video(out, (854, 480), 12.5, round(12.5 * FPS))


@pytest.mark.parametrize("case", ["missing", "corrupt", "no-sound-no-wav", "face-outside"])
def test_bad_input_is_one_line_and_leaves_no_file(
    case: str, video_avatar: Path, narration: Narration, tmp_path: Path
) -> None:
    avatar, face_box = video_avatar, None
    if case == "missing":
        avatar = tmp_path / "nowhere.mp4"
    elif case == "corrupt":
        avatar = tmp_path / "corrupt.mp4"
        avatar.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 64)
    elif case == "no-sound-no-wav":
        avatar = tmp_path / "silent.mp4"
        run_ffmpeg(["-i", file_arg(video_avatar), "-an", "-c:v", "copy", file_arg(avatar)], "stripping audio")
        narration = Narration(
            tmp_path / "gone.wav",
            narration.duration_s,
            narration.sample_rate,
            narration.sections,
            narration.words,
            [],
            "test",
            "test",
        )
    else:
        face_box = (5000, 5000, 10, 10)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    with pytest.raises(MediaError) as err:
        compose(avatar, narration, out_dir / "final.mp4", OverlayConfig(quality="fast"), face_box=face_box)
    assert "\n" not in str(err.value) and str(err.value)
    assert list(out_dir.iterdir()) == []
