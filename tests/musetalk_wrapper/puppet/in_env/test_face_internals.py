"""The puppet engine's face work, judged on the shared media before encoding: the profile check, the exactness of
the warp outside the lower face, mouth shapes and eyes re-detected by a fresh MediaPipe, and what an open mouth
shows inside (cavity, teeth, tongue)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from musetalk_wrapper.engines.puppet.eyes import GAZE_MAX, apply_blink, apply_gaze
from musetalk_wrapper.engines.puppet.landmarks import (
    LEFT_EYE,
    NOSE_TIP,
    RIGHT_EYE,
    FaceFrame,
    inner_lip_gap,
)
from musetalk_wrapper.engines.puppet.lower_face import MAX_GAP, MouthShape, apply_mouth, place
from musetalk_wrapper.engines.puppet.prepared import PreparedSource
from musetalk_wrapper.engines.puppet.render import source_index
from musetalk_wrapper.engines.puppet.tracking import Detection, FaceMesh, check_face
from musetalk_wrapper.media import VideoWriter, load_image
from musetalk_wrapper.progress import Progress

QUIET = Progress(enabled=False)


@pytest.fixture(scope="module")
def mesh() -> FaceMesh:
    m = FaceMesh(video=False)
    yield m
    m.close()


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


def _eye_aspect(pts: np.ndarray) -> float:
    ratios = []
    for eye in (RIGHT_EYE, LEFT_EYE):
        width = np.hypot(*(pts[eye.corners[1]] - pts[eye.corners[0]]))
        lids = np.hypot(*(pts[list(eye.lower_lid)][2:5] - pts[list(eye.upper_lid)][2:5]).T).mean()
        ratios.append(lids / width)
    return float(np.mean(ratios))


def test_turned_faces_are_judged_by_yaw(media_dir: Path, mesh: FaceMesh) -> None:
    """Real landmarks of man.png, turned about the vertical axis in 3D and projected back."""
    img = load_image(media_dir / "man.png")
    det = mesh.detect(img)
    assert det is not None
    h, w = img.shape[:2]
    xyz = np.column_stack([det.points, det.depth])
    centre = xyz.mean(axis=0)
    result = {}
    for deg in (0, 20, 40, 70):
        a = np.radians(deg)
        rot = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
        p = (xyz - centre) @ rot.T + centre
        check = check_face(Detection(points=p[:, :2], depth=p[:, 2]), w, h)
        result[deg] = (check.usable, check.reason, abs(check.yaw_deg))
    assert result[0][0] and result[0][2] < 10
    assert result[20][0] and 10 <= result[20][2] <= 30
    assert result[40][0]
    assert result[70][:2] == (False, "face in profile") and result[70][2] > 50


@pytest.mark.parametrize("kind", ["video", "photo"])
def test_only_the_lower_face_changes(kind: str, media_dir: Path, clips: Callable[..., Path], raw: Any) -> None:
    """Every pixel above the nose tip is the source's, in every frame (a video keeps its own motion; a photo with
    --motion off has no sway, blinks or eye-line shifts)."""
    audio = clips("speech", 2.0, 3.0)
    req = (
        raw.request(audio, video=media_dir / "sun.mp4")
        if kind == "video"
        else raw.request(audio, image=media_dir / "man.png", motion=False)
    )
    frames, clip, source = raw.render(req)
    changed_above = changed_below = 0
    for i, img in enumerate(frames):
        k = source_index(clip.clock[i].tick, source)
        original = np.asarray(source.frame(k))
        nose_y = int(np.floor(source.points(k)[NOSE_TIP, 1]))
        changed_above += int(np.any(img[:nose_y] != original[:nose_y]))
        changed_below += int(np.any(img[nose_y:] != original[nose_y:]))
    assert changed_above == 0
    assert changed_below >= 50  # of 75 frames, most of them speaking


def test_the_mouth_takes_its_shape(sun_video: PreparedSource, mesh: FaceMesh) -> None:
    """sun.mp4 smiles with her lips apart: the engine closes them, opens them as wide as real speech, rounds
    them; a fresh MediaPipe detection agrees."""
    frame, pts = np.asarray(sun_video.frame(0)), sun_video.points(0)
    assert sun_video.rig is not None
    found = {}
    for label, shape in (
        ("source", None),
        ("closed", MouthShape(0.0, 0.0, 0.2)),
        ("open", MouthShape(1.0, 0.0, 0.15)),
        ("rounded", MouthShape(0.5, -1.0, 0.15)),
    ):
        img = frame.copy()
        if shape is not None:
            apply_mouth(img, pts, shape, sun_video.rig)
        det = mesh.detect(img)
        assert det is not None
        p = det.points
        found[label] = (inner_lip_gap(p), float(np.hypot(*(p[291] - p[61])) / np.hypot(*(p[263] - p[33]))))
    assert found["source"][0] > 0.05
    assert found["closed"][0] < 0.02
    assert 0.6 * MAX_GAP < found["open"][0] < 1.3 * MAX_GAP, found
    assert found["rounded"][1] < 0.9 * found["open"][1]


def test_a_photo_at_rest_keeps_its_own_mouth(man_photo: PreparedSource) -> None:
    """In silence a photo's mouth is the photo's (a smile stays a smile); speech shapes blend from it."""
    assert man_photo.rig is not None
    frame, pts = np.asarray(man_photo.frame(0)), man_photo.points(0)
    rest = frame.copy()
    apply_mouth(rest, pts, MouthShape(0.0, 0.0, 0.2, rest=1.0), man_photo.rig)
    assert np.array_equal(rest, frame)
    half = frame.copy()
    apply_mouth(half, pts, MouthShape(0.8, 0.0, 0.15, rest=0.5), man_photo.rig)
    full = frame.copy()
    apply_mouth(full, pts, MouthShape(0.8, 0.0, 0.15), man_photo.rig)
    assert 0 < np.abs(half.astype(int) - frame).sum() < np.abs(full.astype(int) - frame).sum()


def _inside_mouth(image: np.ndarray, man_photo: PreparedSource, shape: MouthShape) -> np.ndarray:
    """The pixels inside the target inner-lip outline, eroded by 2 px (the lip edge)."""
    assert man_photo.rig is not None
    p = place(man_photo.points(0), shape, man_photo.rig)
    c = man_photo.rig.cols
    inner = np.concatenate([p.dst[c["inner_upper"]], p.dst[c["inner_lower"]][-2:0:-1]])
    mask = np.zeros(image.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(inner).astype(np.int32)], 1)
    mask = cv2.erode(mask, np.ones((5, 5), np.uint8))
    return image[mask > 0].astype(np.float64)


def test_an_open_mouth_shows_a_cavity_teeth_and_a_tongue(man_photo: PreparedSource) -> None:
    assert man_photo.rig is not None
    frame, pts = np.asarray(man_photo.frame(0)), man_photo.points(0)
    style = man_photo.rig.style
    shapes = {
        "a": MouthShape(1.0, 0.1, 0.15),
        "l": MouthShape(0.4, 0.0, 0.25, tongue=1.0),
        "a-no-tongue": MouthShape(0.4, 0.0, 0.25),
    }
    px = {}
    for name, shape in shapes.items():
        img = frame.copy()
        apply_mouth(img, pts, shape, man_photo.rig)
        px[name] = _inside_mouth(img, man_photo, shape)
    luma = _luma(px["a"])
    teeth_luma = float(_luma(style.teeth_rgb))
    dark = np.mean(luma < 45)
    teeth = np.mean(luma > 0.75 * teeth_luma)
    sat = (px["a"].max(axis=1) - px["a"].min(axis=1)) / np.maximum(px["a"].max(axis=1), 1)

    def tongue_share(p: np.ndarray) -> float:
        lum = _luma(p)
        return float(np.mean((p[:, 0] > 1.3 * p[:, 2]) & (lum > 55) & (lum < 0.75 * teeth_luma)))

    assert dark > 0.15, dark  # a dark cavity ...
    assert teeth > 0.08, teeth  # ... under a row of upper teeth ...
    assert tongue_share(px["a"]) > 0.08  # ... over the tongue
    assert np.mean(sat[luma > 0.75 * teeth_luma]) < 0.3  # teeth are not pink
    assert tongue_share(px["l"]) > tongue_share(px["a-no-tongue"]) + 0.05  # /l/ raises the tongue tip


def _eye_pixels(image: np.ndarray, pts: np.ndarray) -> np.ndarray:
    """The pixels inside both eye openings of ``pts`` (N, 3)."""
    found = []
    for eye in (RIGHT_EYE, LEFT_EYE):
        outline = np.concatenate(
            [pts[[eye.corners[0]]], pts[list(eye.upper_lid)], pts[[eye.corners[1]]], pts[list(eye.lower_lid)][::-1]]
        )
        mask = np.zeros(image.shape[:2], np.uint8)
        cv2.fillPoly(mask, [np.round(outline).astype(np.int32)], 1)
        found.append(image[mask > 0].astype(np.float64))
    return np.concatenate(found)


def _saturation(px: np.ndarray) -> np.ndarray:
    return (px.max(axis=1) - px.min(axis=1)) / np.maximum(px.max(axis=1), 1)


def _whites(px: np.ndarray, bright: float, grey: float) -> int:
    """Eye-white pixels: bright, and greyer than the skin."""
    return int(np.sum((_luma(px) > bright) & (_saturation(px) < grey)))


def _skin_saturation(image: np.ndarray, pts: np.ndarray) -> float:
    f = FaceFrame.from_landmarks(pts)
    cheek = f.to_image(np.array([[u, v] for u in np.linspace(-0.45, 0.45, 10) for v in (-0.45, -0.35)]))
    px = image[np.round(cheek[:, 1]).astype(int), np.round(cheek[:, 0]).astype(int)].astype(np.float64)
    return float(np.median(_saturation(px)))


@pytest.mark.parametrize("photo", ["man.png", "sit.jpeg"])
def test_a_blink_closes_the_eyes_fully(
    photo: str, media_dir: Path, clips: Callable[..., Path], raw: Any, mesh: FaceMesh
) -> None:
    """No sliver of eye white at full closure; a fresh detection sees the eyes closed."""
    source = man_photo_or(photo, media_dir, clips, raw)
    frame, pts = np.asarray(source.frame(0)), source.points(0)
    closed = frame.copy()
    apply_blink(closed, pts, 1.0, source.eye_rigs)
    before, after = _eye_pixels(frame, pts), _eye_pixels(closed, pts)
    bright, grey = float(np.percentile(_luma(before), 80)), _skin_saturation(frame, pts) - 0.08
    whites = (_whites(before, bright, grey), _whites(after, bright, grey))
    assert whites[0] >= 10 and whites[1] <= 0.03 * whites[0], whites
    if photo == "man.png":  # sit.jpeg's 80 px face is too small for the detector to judge eyelids
        open_det, closed_det = mesh.detect(frame), mesh.detect(closed)
        assert open_det is not None and closed_det is not None
        assert _eye_aspect(closed_det.points) < 0.45 * _eye_aspect(open_det.points)


def man_photo_or(photo: str, media_dir: Path, clips: Callable[..., Path], raw: Any) -> PreparedSource:
    return raw.prepare(raw.request(clips("silence", 0, 1), image=media_dir / photo))


def test_an_eye_line_shift_moves_the_irises(man_photo: PreparedSource, mesh: FaceMesh) -> None:
    frame, pts = np.asarray(man_photo.frame(0)), man_photo.points(0)
    shifted = frame.copy()
    apply_gaze(shifted, pts, (1.0, 0.0))
    before, after = mesh.detect(frame), mesh.detect(shifted)
    assert before is not None and after is not None
    f = FaceFrame.from_landmarks(pts)
    moved = (after.points[[468, 473]] - before.points[[468, 473]]) @ f.ex
    assert np.all(moved > 0.4 * GAZE_MAX[0] * f.scale), moved  # towards the image's right, both eyes
    face = np.abs(after.points[[NOSE_TIP, 61, 291, 152]] - before.points[[NOSE_TIP, 61, 291, 152]]).max()
    assert face < 2.0  # the rest of the face stays (within the detector's own wobble)


@pytest.fixture(scope="module")
def talking_video(
    media_dir: Path,
    clips: Callable[..., Path],
    raw: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> PreparedSource:
    """A presenter video whose mouth moves: man.png speaking (drawn by the engine), half size, 6 s."""
    audio = clips("speech", 2.0, 6.0)
    frames, _, _ = raw.render(raw.request(audio, image=media_dir / "man.png", motion=False))
    out = tmp_path_factory.mktemp("talking") / "talking.mp4"
    h, w = frames[0].shape[0] // 4 * 2, frames[0].shape[1] // 4 * 2
    with VideoWriter(out, w, h, audio) as writer:
        for frame in frames:
            writer.write(cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA))
    source = raw.prepare(raw.request(audio, video=out))
    source.need(np.arange(len(frames)), QUIET)
    return source


def test_a_video_s_own_mouths_replace_shapes_its_frame_lacks(talking_video: PreparedSource, mesh: FaceMesh) -> None:
    """The bank holds the video's real mouths, closed to wide open; a frame whose target opening differs from its
    own gets the nearest real mouth, warped onto the target lips; shapes the bank lacks are drawn."""
    bank, rig = talking_video.bank, talking_video.rig
    assert bank is not None and rig is not None and len(bank) >= 8
    gaps = sorted(e.gap for e in bank.entries)
    assert gaps[0] < 0.02 and gaps[-1] > 0.1  # closed and open mouths
    closed = min(range(talking_video.n_frames), key=lambda k: inner_lip_gap(talking_video.points(k)))
    frame, pts = np.asarray(talking_video.frame(closed)), talking_video.points(closed)
    for shape in (MouthShape(0.6, 0.0, 0.15), MouthShape(0.9, 0.1, 0.15)):
        img = frame.copy()
        assert apply_mouth(img, pts, shape, rig, bank) is True
        det = mesh.detect(img)
        want = MAX_GAP * shape.open
        assert det is not None and abs(inner_lip_gap(det.points) - want) < 0.04, (inner_lip_gap(det.points), want)
    img = frame.copy()
    assert apply_mouth(img, pts, MouthShape(1.0, -1.0, 0.15), rig, bank) is False  # no wide round "o" in the bank
