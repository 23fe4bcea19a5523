"""The puppet render in two steps: ``prepare`` (audio, source, face track, mouth track) and ``render_frames``
(one finished RGB frame at a time). The engine encodes the frames; bench/puppet.py only counts them."""
from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import cv2
import numpy as np

from musetalk_wrapper.contract import EngineError, ErrorCode
from musetalk_wrapper.engines.puppet.audio_drive import mouth_from_audio
from musetalk_wrapper.engines.puppet.audio_features import SAMPLE_RATE, AudioFeatures, analyse, frame_count
from musetalk_wrapper.engines.puppet.lower_face import MouthShape, apply_mouth, build_rig
from musetalk_wrapper.engines.puppet.mouth_track import MouthTrack
from musetalk_wrapper.engines.puppet.photo_motion import (
    apply_blink,
    apply_sway,
    blink_track,
    build_eye_rigs,
    sway_matrix,
    sway_track,
)
from musetalk_wrapper.engines.puppet.source import FrameStore, decode_video, load_photo
from musetalk_wrapper.timings import load_timings
from musetalk_wrapper.engines.puppet.tracking import (
    CUT_OFF,
    MIN_FACE_PX,
    NO_FACE,
    PROFILE,
    PROFILE_YAW_DEG,
    TOO_SMALL,
    Detection,
    FaceMesh,
    FaceTrack,
    NoUsableFace,
    build_track,
    check_face,
)
from musetalk_wrapper.engines.puppet.visemes import mouth_from_timings, timings_match_audio
from musetalk_wrapper.media import load_audio, pingpong_index, probe
from musetalk_wrapper.progress import Progress
from musetalk_wrapper.request import RenderRequest

STILL_SEARCH_S = 5.0  # --motion off with a video: use the first usable face within this many seconds


@dataclass
class Prepared:
    request: RenderRequest
    n_out: int  # output frames
    audio_s: float
    features: AudioFeatures
    frames: np.ndarray  # (N, H, W, 3) source frames (a memmap for videos)
    track: FaceTrack
    is_photo: bool  # one source frame (a photo, or a video with --motion off)
    mouth: MouthTrack
    driver: str  # "timings" or "audio"
    store: FrameStore
    warnings: list[str] = field(default_factory=list)
    timings_s: dict[str, float] = field(default_factory=dict)

    def close(self) -> None:
        self.store.close()


def prepare(request: RenderRequest, progress: Progress) -> Prepared:
    timings: dict[str, float] = {}
    t = time.monotonic()
    progress.stage("audio")
    audio = load_audio(request.audio, SAMPLE_RATE)
    audio_s = len(audio) / SAMPLE_RATE
    n_out = frame_count(len(audio), request.fps)
    features = analyse(audio, request.fps, n_out)
    timings["audio"], t = time.monotonic() - t, time.monotonic()
    store = FrameStore(capacity=_frames_to_decode(request, n_out))
    try:
        warnings: list[str] = []
        frames, detections, is_photo = _decode_and_detect(request, store, progress, warnings)
        h, w = frames.shape[1:3]
        try:
            track = build_track(detections, w, h, float(request.fps))
        except NoUsableFace as exc:
            raise no_face_error(request, exc, np.asarray(frames[exc.frame_index])) from None
        timings["track"], t = time.monotonic() - t, time.monotonic()
        progress.stage("mouth")
        warnings.extend(track.warnings)
        mouth, driver = _mouth(request, features, audio_s, warnings)
        timings["mouth"] = time.monotonic() - t
    except BaseException:
        store.close()
        raise
    return Prepared(request, n_out, audio_s, features, frames, track, is_photo, mouth, driver, store,
                    warnings, timings)


def _frames_to_decode(request: RenderRequest, n_out: int) -> int:
    """Source frames worth decoding: the output's length at most, the source's own length (plus slack for the
    frame-rate conversion) at most, a few seconds to find one good frame with --motion off."""
    if request.video is None:
        return 1
    if not request.motion:
        return int(STILL_SEARCH_S * request.fps)
    duration = probe(request.video).duration_s
    if duration is None:
        return n_out
    return max(1, min(n_out, int(duration * request.fps) + request.fps))


def _decode_and_detect(request: RenderRequest, store: FrameStore, progress: Progress,
                       warnings: list[str]) -> tuple[np.ndarray, list[Detection | None], bool]:
    detections: list[Detection | None] = []
    if request.image is not None:
        progress.stage("track", total=1)
        frame = load_photo(request.image)
        mesh = FaceMesh(video=False)
        try:
            detections.append(mesh.detect(frame))
        finally:
            mesh.close()
        return frame[None], detections, True
    assert request.video is not None
    still = not request.motion
    limit = store.capacity
    progress.stage("track", total=limit)
    mesh = FaceMesh(video=True)

    def on_frame(i: int, frame: np.ndarray) -> bool:
        det = mesh.detect(frame)
        detections.append(det)
        progress.update("track", i + 1, limit)
        return not (still and check_face(det, frame.shape[1], frame.shape[0]).usable)

    try:
        errors = decode_video(request.video, request.fps, limit, store, on_frame)
    finally:
        mesh.close()
    if errors:
        warnings.append(f"{request.video.name} has corrupt data ({len(errors)} decoder error lines, e.g. "
                        f"'{errors[0].strip()[:80]}'); the damaged frames were concealed or repeated")
    frames = store.finish()
    if still:  # the first usable frame, animated like a photo without motion
        return np.array(frames[-1:]), detections[-1:], True
    return frames, detections, False


def no_face_error(request: RenderRequest, exc: NoUsableFace, frame: np.ndarray) -> EngineError:
    """NO_FACE naming the reason, with the judged frame saved beside the output as a PNG."""
    png = request.output.with_name(f"{request.output.stem}.no-face.png")
    png.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(png), cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2BGR))
    name = request.source.name
    where = name if exc.frames == 1 else f"{name} (all {exc.frames} frames checked)"
    check = exc.check
    messages = {
        NO_FACE: f"no face found in {where}",
        TOO_SMALL: f"the face in {where} is only {check.width_px:.0f} px wide; the puppet engine needs at least "
                   f"{MIN_FACE_PX} px (use a larger or closer photo)",
        PROFILE: f"the face in {where} is turned about {abs(check.yaw_deg):.0f} deg (profile); the puppet engine "
                 f"needs a face within {PROFILE_YAW_DEG:.0f} deg of frontal",
        CUT_OFF: f"the mouth is cut off by the frame edge in {where}",
    }
    details: dict[str, object] = {"frame_png": str(png), "frame_index": exc.frame_index, "reason": exc.reason}
    if exc.reason != NO_FACE:
        details.update(face_px=round(check.width_px, 1), yaw_deg=round(check.yaw_deg, 1))
    return EngineError(ErrorCode.NO_FACE, f"{messages.get(exc.reason, exc.reason)}; frame saved to {png}", details)


def _mouth(request: RenderRequest, features: AudioFeatures, audio_s: float,
           warnings: list[str]) -> tuple[MouthTrack, str]:
    if request.timings is not None:
        timings = load_timings(request.timings)
        if timings_match_audio(timings, audio_s):
            return mouth_from_timings(timings, features), "timings"
        warnings.append(f"timings last {timings.duration_s:.2f} s but the audio {audio_s:.2f} s; "
                        "mouth shapes come from the audio instead")
    return mouth_from_audio(features), "audio"


def render_frames(prep: Prepared) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (RGB frame, its 478 landmarks in output pixels) for every output frame."""
    req, track, mouth = prep.request, prep.track, prep.mouth
    ref = int(np.flatnonzero(track.good)[0])
    rig = build_rig(track.points[ref], np.asarray(prep.frames[ref]))
    animate_photo = prep.is_photo and req.motion and req.image is not None
    blinks = blink_track(prep.n_out, req.fps) if animate_photo and req.blink else np.zeros(prep.n_out)
    eye_rigs = build_eye_rigs(track.points[ref]) if blinks.any() else []
    sway = sway_track(prep.n_out, req.fps, prep.features.level) if animate_photo else None
    n_src = len(prep.frames)
    for i in range(prep.n_out):
        k = 0 if prep.is_photo else pingpong_index(i, n_src)
        image = np.array(prep.frames[k])
        points = track.points[k]
        apply_mouth(image, points, MouthShape(float(mouth.open[i]), float(mouth.width[i]), float(mouth.upper[i])), rig)
        if blinks[i] > 0:
            apply_blink(image, points, float(blinks[i]), eye_rigs)
        if sway is not None:
            m = sway_matrix(points, sway[i])
            image = apply_sway(image, m)
            points = points @ m[:, :2].T + m[:, 2]
        yield image, points


def median_face_box(boxes: list[tuple[float, float, float, float]], width: int, height: int) -> list[int]:
    """Median [x, y, w, h] over the frames, clipped to the frame (a face may extend past its edge)."""
    x, y, w, h = np.median(np.array(boxes), axis=0)
    x0, y0 = min(max(x, 0.0), width), min(max(y, 0.0), height)
    x1, y1 = min(max(x + w, 0.0), width), min(max(y + h, 0.0), height)
    return [int(round(x0)), int(round(y0)), int(round(x1 - x0)), int(round(y1 - y0))]

