"""``python -m musetalk_wrapper.sync_eval VIDEO``: how well a presenter video's mouth follows its audio.

Re-detects the face (MediaPipe face mesh, puppet env) on every frame and reports, with the opening = inner-lip
gap / outer eye-corner distance:

- ``correlation``: Pearson correlation between the opening and the audio envelope (frame RMS in dB, floored
  50 dB under the loudest frame), at the best lag within +-``max_lag`` frames; ``lag_frames`` > 0 means the
  mouth moves after the sound; ``correlation_near``: the best within +-1 frame (what a viewer calls in sync);
- ``closed_share``: the share of silent frames (pauses of at least 150 ms, 30 dB under the speech level) whose
  mouth is at rest: closed (opening under 0.03), or for a photo ``--source`` back to the photo's own opening
  (``rest_opening``, within 0.02: a smile stays a smile);
- ``opening_p95``: the 95th percentile of the opening over speech frames (real speakers: 0.15-0.25);
- ``blinks_per_min`` and ``blink_frames``: eye closures (eye aspect ratio under 45% of the video's median) per
  minute and their mean length in frames;
- ``upper_psnr_db`` (with ``--source``): PSNR of the face above the nose tip against the source photo or video
  (frame-aligned with the engines' ping-pong rule), i.e. whether animating the mouth left the rest alone.

A still mouth scores a correlation near 0. Exit codes follow the wrapper's (0 ok, 3 BAD_INPUT, 4 NO_FACE).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from musetalk_wrapper import SCHEMA_VERSION
from musetalk_wrapper.contract import EXIT_BY_CODE, EXIT_OK, EXIT_USAGE, EngineError, ErrorCode
from musetalk_wrapper.face_mesh_solution import new_face_mesh
from musetalk_wrapper.media import (
    OUTPUT_FPS,
    is_image,
    load_audio,
    load_image,
    pingpong_index,
    probe,
    read_video_frames,
)

SAMPLE_RATE = 16000  # Hz
MAX_LAG_FRAMES = 5
NEAR_LAG_FRAMES = 1
ENVELOPE_RANGE_DB = 50.0  # the envelope is floored this far below its loudest frame
SILENT_BELOW_SPEECH_DB = 30.0  # silent: this far below the speech level (95th percentile)
MIN_PAUSE_S = 0.150
CLOSED_GAP = 0.03  # inner-lip gap / outer eye-corner distance under which a mouth counts as closed
REST_TOLERANCE = 0.02  # a photo's mouth is back at rest within this opening of the photo's own
SPEECH_BELOW_PEAK_DB = 20.0  # speech frames for the opening's p95: within this of the speech level
EYE_CLOSED_SHARE = 0.45  # an eye counts as closed below this share of its median aspect ratio
MIN_FACE_SHARE = 0.5  # fail when fewer frames than this show a face
PSNR_CAP_DB = 100.0  # identical pixels
MIN_STD = 1e-6  # a signal flatter than this has no correlation (reported as 0)

# MediaPipe face-mesh indices (kept here: the measure must not share code with the engine it judges).
_LIP_PAIRS = ((82, 87), (13, 14), (312, 317))
_EYE_CORNERS = (33, 263)
_NOSE_TIP = 1
# (corner, corner, (upper, lower) lid pairs) of each eye
_EYES = ((33, 133, ((160, 144), (159, 145), (158, 153))), (263, 362, ((387, 373), (386, 374), (385, 380))))
# fmt: off
_FACE_OVAL = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
    152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)
# fmt: on


@dataclass(frozen=True)
class SyncReport:
    video: str
    audio: str
    frames: int
    fps: float
    face_share: float  # frames where a face was found
    correlation: float
    lag_frames: int
    correlation_near: float  # best correlation within +-NEAR_LAG_FRAMES
    silent_frames: int
    closed_share: float | None  # None when the audio has no pause
    rest_opening: float | None  # a photo source's own opening (what "at rest" means for it)
    opening_p95: float | None  # None when the audio has no speech frame
    blinks_per_min: float
    blink_frames: float | None  # mean closed frames per blink
    upper_psnr_db: float | None
    source: str | None


def envelope_db(audio: np.ndarray, n_frames: int, fps: float) -> np.ndarray:
    """RMS level of each frame's own audio span, dB, floored ENVELOPE_RANGE_DB under the loudest frame."""
    hop = SAMPLE_RATE / fps
    out = np.empty(n_frames)
    for i in range(n_frames):
        seg = audio[round(i * hop) : round((i + 1) * hop)]
        rms = math.sqrt(float(np.mean(seg.astype(np.float64) ** 2))) if len(seg) else 0.0
        out[i] = 20.0 * math.log10(max(rms, 1e-10))
    floored: np.ndarray = np.maximum(out, out.max() - ENVELOPE_RANGE_DB)
    return floored


def silent_frames(env_db: np.ndarray, fps: float) -> np.ndarray:
    quiet: np.ndarray = env_db < np.percentile(env_db, 95) - SILENT_BELOW_SPEECH_DB
    min_run = math.ceil(MIN_PAUSE_S * fps - 1e-9)
    out = np.zeros_like(quiet)
    i = 0
    while i < len(quiet):
        j = i
        while j < len(quiet) and quiet[j] == quiet[i]:
            j += 1
        if quiet[i] and j - i >= min_run:
            out[i:j] = True
        i = j
    return out


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 3 or a.std() < MIN_STD or b.std() < MIN_STD:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def best_lag(opening: np.ndarray, env: np.ndarray, max_lag: int) -> tuple[float, int]:
    """Correlation of opening[t] with env[t - lag], maximised over lag in [-max_lag, max_lag]."""
    best = (-2.0, 0)
    n = len(opening)
    for lag in range(-max_lag, max_lag + 1):
        if lag >= 0:
            r = pearson(opening[lag:], env[: n - lag])
        else:
            r = pearson(opening[: n + lag], env[-lag:])
        if r > best[0] or (r == best[0] and abs(lag) < abs(best[1])):
            best = (r, lag)
    return best


class _Mesh:
    def __init__(self) -> None:
        try:
            self._mesh = new_face_mesh(
                static_image_mode=False, max_num_faces=1, refine_landmarks=True, min_detection_confidence=0.5
            )
        except ImportError as exc:
            raise EngineError(
                ErrorCode.ENGINE_UNAVAILABLE,
                "the sync measure needs mediapipe (puppet env); run: presgen env create puppet",
            ) from exc

    def points(self, rgb: np.ndarray, static: bool = False) -> np.ndarray | None:
        if static:  # one picture on its own (not part of the video being tracked)
            with new_face_mesh(static_image_mode=True, max_num_faces=1, refine_landmarks=True) as one:
                res = one.process(np.ascontiguousarray(rgb))
        else:
            res = self._mesh.process(np.ascontiguousarray(rgb))
        if not res.multi_face_landmarks:
            return None
        h, w = rgb.shape[:2]
        return np.array([(lm.x * w, lm.y * h) for lm in res.multi_face_landmarks[0].landmark])

    def close(self) -> None:
        self._mesh.close()


class _SourceFrames:
    """The source frame an engine showed at output frame i: a photo, or a video played back and forth."""

    def __init__(self, path: Path, fps: int, size: tuple[int, int]) -> None:
        import cv2

        self._cv2 = cv2
        self.size = size
        if is_image(path):
            self._frames = [self._fit(load_image(path))]
        else:
            self._frames = [self._fit(f) for f in read_video_frames(path, fps=fps, max_side=max(size))]

    def _fit(self, frame: np.ndarray) -> np.ndarray:
        w, h = self.size
        fh, fw = frame.shape[:2]
        if (fw, fh) == (w, h):
            return frame.copy()
        if 0 <= fw - w <= 1 and 0 <= fh - h <= 1:  # engines crop odd sizes to even
            return frame[:h, :w].copy()
        result: np.ndarray = self._cv2.resize(frame, (w, h), interpolation=self._cv2.INTER_AREA)
        return result

    def frame(self, i: int) -> np.ndarray:
        return self._frames[pingpong_index(i, len(self._frames))]


def opening_of(pts: np.ndarray) -> float:
    scale = float(np.hypot(*(pts[_EYE_CORNERS[1]] - pts[_EYE_CORNERS[0]])))
    gap = np.mean([np.hypot(*(pts[lo] - pts[up])) for up, lo in _LIP_PAIRS])
    return float(gap / max(scale, 1e-6))


def eye_aspect(pts: np.ndarray) -> float:
    """Mean over both eyes of lid distance / eye width (about 0.3 open, under 0.1 closed)."""
    ratios = []
    for a, b, pairs in _EYES:
        width = float(np.hypot(*(pts[b] - pts[a])))
        lids = np.mean([np.hypot(*(pts[lo] - pts[up])) for up, lo in pairs])
        ratios.append(lids / max(width, 1e-6))
    return float(np.mean(ratios))


def closures(aspect: np.ndarray) -> list[int]:
    """Lengths (frames) of the runs where the eyes are closed."""
    closed = aspect < EYE_CLOSED_SHARE * np.median(aspect)
    runs, n = [], 0
    for c in closed:
        if c:
            n += 1
        elif n:
            runs.append(n)
            n = 0
    if n:
        runs.append(n)
    return runs


def _luma(rgb: np.ndarray) -> np.ndarray:
    """BT.601 luma: PSNR on luma is how video codecs are judged (chroma is halved by yuv420p anyway)."""
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


def _upper_face_box(points: np.ndarray, width: int, height: int) -> tuple[int, int, int, int]:
    oval = points[list(_FACE_OVAL)]
    x0, x1 = int(max(0, oval[:, 0].min())), int(min(width, oval[:, 0].max()))
    y0 = int(max(0, oval[:, 1].min()))
    y1 = int(min(height, points[_NOSE_TIP, 1]))
    return x0, y0, x1, y1


def evaluate(
    video: Path,
    audio: Path | None = None,
    source: Path | None = None,
    fps: int = OUTPUT_FPS,
    max_lag: int = MAX_LAG_FRAMES,
) -> SyncReport:
    info = probe(video)
    if not info.has_video:
        raise EngineError(ErrorCode.BAD_INPUT, f"no video stream in {video}")
    audio_path = audio or video
    wav = load_audio(audio_path, SAMPLE_RATE)
    mesh = _Mesh()
    src: _SourceFrames | None = None
    openings: list[float] = []
    aspects: list[float] = []
    sq_err, n_px = 0.0, 0
    rest = None
    try:
        if source is not None and is_image(source):
            pts = mesh.points(load_image(source), static=True)
            rest = None if pts is None else opening_of(pts)
        for i, frame in enumerate(read_video_frames(video, fps=fps)):
            if src is None and source is not None:
                src = _SourceFrames(source, fps, (frame.shape[1], frame.shape[0]))
            pts = mesh.points(frame)
            if pts is None:
                openings.append(math.nan)
                aspects.append(math.nan)
                continue
            openings.append(opening_of(pts))
            aspects.append(eye_aspect(pts))
            if src is not None:
                x0, y0, x1, y1 = _upper_face_box(pts, frame.shape[1], frame.shape[0])
                if x1 > x0 and y1 > y0:
                    diff = _luma(frame[y0:y1, x0:x1]) - _luma(src.frame(i)[y0:y1, x0:x1])
                    sq_err += float(np.sum(diff * diff))
                    n_px += diff.size
    finally:
        mesh.close()
    opening = np.array(openings)
    n = len(opening)
    found = ~np.isnan(opening)
    if n == 0 or found.mean() < MIN_FACE_SHARE:
        raise EngineError(ErrorCode.NO_FACE, f"a face was found in only {int(found.sum())} of {n} frames of {video}")
    opening = np.interp(np.arange(n), np.flatnonzero(found), opening[found])
    aspect = np.interp(np.arange(n), np.flatnonzero(found), np.array(aspects)[found])
    env = envelope_db(wav, n, fps)
    r, lag = best_lag(opening, env, max_lag)
    r_near, _ = best_lag(opening, env, min(max_lag, NEAR_LAG_FRAMES))
    silent = silent_frames(env, fps)
    at_rest = opening < CLOSED_GAP
    if rest is not None:
        at_rest |= np.abs(opening - rest) <= REST_TOLERANCE
    closed = float(np.mean(at_rest[silent])) if silent.any() else None
    speech = ~silent & (env >= np.percentile(env, 95) - SPEECH_BELOW_PEAK_DB)
    p95 = float(np.percentile(opening[speech], 95)) if speech.any() else None
    blinks = closures(aspect)
    minutes = n / fps / 60.0
    psnr = None
    if source is not None and n_px:
        mse = sq_err / n_px
        psnr = PSNR_CAP_DB if mse <= 0 else min(PSNR_CAP_DB, 10.0 * math.log10(255.0**2 / mse))
    return SyncReport(
        video=str(video),
        audio=str(audio_path),
        frames=n,
        fps=float(fps),
        face_share=round(float(found.mean()), 4),
        correlation=round(r, 4),
        lag_frames=int(lag),
        correlation_near=round(r_near, 4),
        silent_frames=int(silent.sum()),
        closed_share=None if closed is None else round(closed, 4),
        rest_opening=None if rest is None else round(rest, 4),
        opening_p95=None if p95 is None else round(p95, 4),
        blinks_per_min=round(len(blinks) / minutes, 2) if minutes > 0 else 0.0,
        blink_frames=round(float(np.mean(blinks)), 2) if blinks else None,
        upper_psnr_db=None if psnr is None else round(psnr, 2),
        source=None if source is None else str(source),
    )


def _human(report: SyncReport) -> str:
    lines = [
        f"{report.video}: {report.frames} frames, face in {report.face_share:.0%}",
        f"  correlation with the audio envelope: {report.correlation:.3f} "
        f"at a lag of {report.lag_frames:+d} frame(s); {report.correlation_near:.3f} within 1 frame",
    ]
    if report.closed_share is None:
        lines.append("  no pauses in the audio: closed-mouth share not measured")
    else:
        lines.append(f"  silent frames with the mouth at rest: {report.closed_share:.0%} of {report.silent_frames}")
    if report.opening_p95 is not None:
        lines.append(
            f"  mouth opening in speech (95th percentile): {report.opening_p95:.3f} of the eye-corner distance"
        )
    blinks = f"  blinks: {report.blinks_per_min:.1f} per minute"
    if report.blink_frames is not None:
        blinks += f", {report.blink_frames:.1f} frames closed on average"
    lines.append(blinks)
    if report.upper_psnr_db is not None:
        lines.append(f"  upper-face PSNR against the source: {report.upper_psnr_db:.1f} dB")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m musetalk_wrapper.sync_eval", description=__doc__.split("\n")[0])
    parser.add_argument("video", type=Path, help="rendered presenter video")
    parser.add_argument("--audio", type=Path, help="audio to compare with (default: the video's own audio track)")
    parser.add_argument("--source", type=Path, help="the photo or video the render was made from (for PSNR)")
    parser.add_argument("--fps", type=int, default=OUTPUT_FPS)
    parser.add_argument("--max-lag", type=int, default=MAX_LAG_FRAMES, help="lag search range in frames")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return EXIT_USAGE if exc.code else EXIT_OK
    # Keep stdout for the result: point fd 1 at stderr while MediaPipe and ffmpeg run.
    sys.stdout.flush()
    result_fd = os.dup(1)
    os.dup2(2, 1)
    result_stream = os.fdopen(result_fd, "w")
    try:
        for label, path in (("video", args.video), ("audio", args.audio), ("source", args.source)):
            if path is not None and not path.is_file():
                raise EngineError(ErrorCode.BAD_INPUT, f"{label} file not found: {path}")
        report = evaluate(args.video, args.audio, args.source, args.fps, args.max_lag)
        obj: dict[str, Any] = {"success": True, **asdict(report), "schema_version": SCHEMA_VERSION}
        code = EXIT_OK
    except EngineError as err:
        obj = {
            "success": False,
            "error": {"code": err.code.value, "message": err.message},
            "schema_version": SCHEMA_VERSION,
        }
        code = EXIT_BY_CODE[err.code]
    if args.json:
        result_stream.write(json.dumps(obj) + "\n")
    elif obj["success"]:
        result_stream.write(_human(report))
    else:
        result_stream.write(f"error [{obj['error']['code']}]: {obj['error']['message']}\n")
    result_stream.flush()
    return code


if __name__ == "__main__":
    raise SystemExit(main())
