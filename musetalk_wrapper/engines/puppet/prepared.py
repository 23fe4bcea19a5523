"""The presenter source made ready to render: frames, a smoothed face track, the mouth rig, the eyes' rigs (photos)
and the bank of the presenter's own mouths (videos). Kept by the engine between render() calls on one source.

A video is decoded and tracked in fixed chunks of frames, each tracked from a fresh MediaPipe state after a few
warm-up frames, and smoothed with a filter that looks at a fixed window of frames. So the landmarks of a source
frame do not depend on which frames a clip needs: a clip late in a long source decodes only its own chunks (plus
the first seconds, where the mouth bank and the rig come from), and its pixels equal those of a longer render.

The face mesh runs on every other frame of a chunk (and on its last frame); a frame between takes the mean of its
two neighbours (within a pixel of tracking it, after smoothing), and only measured frames make the rig and the bank.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from musetalk_wrapper.contract import EngineError, ErrorCode
from musetalk_wrapper.engines.puppet.eyes import EyeRig, build_eye_rigs
from musetalk_wrapper.engines.puppet.landmarks import face_scale, inner_lip_gap
from musetalk_wrapper.engines.puppet.lower_face import MouthRig, build_rig
from musetalk_wrapper.engines.puppet.mouth_bank import BANK_SPAN_S, MAX_YAW_DEG, MouthBank, build_bank
from musetalk_wrapper.engines.puppet.mouth_interior import sample_style
from musetalk_wrapper.engines.puppet.one_euro import OneEuroParams, one_euro_windowed
from musetalk_wrapper.engines.puppet.source import ChunkStore, decode_until, iter_video, load_photo, source_errors
from musetalk_wrapper.engines.puppet.tracking import (
    CUT_OFF,
    MIN_FACE_PX,
    NO_FACE,
    PROFILE,
    PROFILE_YAW_DEG,
    TOO_SMALL,
    Detection,
    FaceCheck,
    FaceMesh,
    NoUsableFace,
    RawTrack,
    check_face,
    no_usable_face,
    raw_track,
    track_warnings,
)
from musetalk_wrapper.media import MAX_SIDE_PX, video_frame_count
from musetalk_wrapper.progress import Progress
from musetalk_wrapper.request import RenderRequest

CHUNK_FRAMES = 50  # a video is tracked in chunks of this many frames...
WARMUP_FRAMES = 3  # ... each starting this many frames early, so the tracker has settled on its first frame
SMOOTH_WINDOW = 10  # frames on each side that smooth a frame's landmarks
SMOOTHING = OneEuroParams()
TRACK_STRIDE = 2  # the face mesh measures every TRACK_STRIDE-th frame of a chunk; the rest are interpolated
TRACK_WORKERS = 2  # MediaPipe releases the GIL: two chunks are tracked at once
STILL_SEARCH_S = 5.0  # --motion off with a video: use the first usable face within this many seconds


def source_key(request: RenderRequest) -> tuple[object, ...]:
    """What identifies a prepared source: the file (path, size, mtime) and the options that change preparation."""
    path = request.source.resolve()
    st = path.stat()
    return (
        str(path),
        st.st_size,
        st.st_mtime_ns,
        request.image is not None,
        request.fps,
        request.motion,
        request.max_side,
    )


@dataclass
class _Chunk:
    frames: np.ndarray  # (n, H, W, 3)
    track: RawTrack
    yaws: np.ndarray  # (n,) degrees
    measured: np.ndarray  # (n,) bool: the face mesh ran on this frame (the others are interpolated)


@dataclass
class PreparedSource:
    """Random access to the source frames and their smoothed landmarks (see the module docstring)."""

    kind: str  # "photo", "video" or "still" (a video with --motion off: its first good frame, animated as a photo)
    path: Path
    fps: int
    n_frames: int  # source frames (1 for photo and still)
    max_side: int = MAX_SIDE_PX  # px: frames are scaled down so their longest side is at most this
    width: int = 0
    height: int = 0
    rig: MouthRig | None = None
    eye_rigs: list[EyeRig] = field(default_factory=list)
    bank: MouthBank | None = None
    warnings: list[str] = field(default_factory=list)  # about the source as a whole (decoding)
    _still: np.ndarray | None = None
    _still_points: np.ndarray | None = None
    _still_check: FaceCheck | None = None
    _chunks: dict[int, _Chunk] = field(default_factory=dict)
    _store: ChunkStore = field(default_factory=ChunkStore)
    _smoothed: dict[int, np.ndarray] = field(default_factory=dict)
    _scale: float = 1.0  # face scale of the rig's reference frame: the smoothing's unit
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def is_photo(self) -> bool:
        return self.kind != "video"

    def frame(self, k: int) -> np.ndarray:
        if self._still is not None:
            return self._still
        result: np.ndarray = self._chunks[k // CHUNK_FRAMES].frames[k % CHUNK_FRAMES]
        return result

    def points(self, k: int) -> np.ndarray:
        if self._still_points is not None:
            return self._still_points
        return self._smoothed[k]

    def checks(self, indices: np.ndarray) -> list[FaceCheck]:
        if self._still_check is not None:
            return [self._still_check]
        return [self._chunks[int(k) // CHUNK_FRAMES].track.checks[int(k) % CHUNK_FRAMES] for k in indices]

    def close(self) -> None:
        self._store.close()
        self._chunks.clear()
        self._smoothed.clear()

    # -- videos --------------------------------------------------------------------------------------------

    def need(self, indices: np.ndarray, progress: Progress) -> float:
        """Decode, track and smooth the given source frames (and what they depend on); returns the seconds spent.
        Raises NoUsableFace when the whole source shows no usable face."""
        if self._still is not None:
            return 0.0
        started = time.monotonic()
        if self.rig is None:  # the first seconds make the rig and the bank, whatever the clip
            span = min(self.n_frames, max(1, round(BANK_SPAN_S * self.fps)))
            self._track_range(0, min(self.n_frames, span + SMOOTH_WINDOW), progress)
            self._build_rig_and_bank(span, progress)
        for a, b in _runs(np.unique(np.asarray(indices, dtype=np.int64))):
            self._track_range(max(0, a - SMOOTH_WINDOW), min(self.n_frames, b + SMOOTH_WINDOW), progress)
            self._smooth([k for k in range(a, b) if k not in self._smoothed])
        return time.monotonic() - started

    def _track_range(self, start: int, stop: int, progress: Progress) -> None:
        first, last = start // CHUNK_FRAMES, (stop - 1) // CHUNK_FRAMES
        missing = [j for j in range(first, last + 1) if j not in self._chunks]
        for run in _runs(np.array(missing, dtype=np.int64)):
            self._track_chunks(run[0], run[1], progress)
        for j in range(first, last + 1):  # chunks without a face borrow one from the nearest chunk with a face
            if self._chunks[j].track.points is None:
                self._borrow(j, progress)

    def _track_chunks(self, first: int, stop: int, progress: Progress) -> None:
        """Decode chunks first .. stop - 1 in one pass and track them, two at a time, as they arrive."""
        frame_start = max(0, first * CHUNK_FRAMES - WARMUP_FRAMES)
        frame_stop = min(self.n_frames, stop * CHUNK_FRAMES)
        meshes: list[FaceMesh] = []
        local = threading.local()

        def track(j: int, frames: list[np.ndarray], warm: int) -> tuple[int, list[Detection | None]]:
            if not hasattr(local, "mesh"):
                local.mesh = FaceMesh(video=True)
                with self._lock:
                    meshes.append(local.mesh)
            local.mesh.reset()
            for f in frames[:warm]:
                local.mesh.detect(f)
            chunk = frames[warm:]
            measured = measured_positions(len(chunk))
            dets: list[Detection | None] = [None] * len(chunk)
            for i in measured:
                dets[i] = local.mesh.detect(chunk[i])
            return j, interpolate_between(dets, measured)

        errors: list[str] = []
        pending: list[Future[tuple[int, list[Detection | None]]]] = []
        arrays: dict[int, np.ndarray] = {}
        warmup: list[np.ndarray] = []  # frames decoded before the chunk being filled (for its warm-up)
        total = frame_stop - frame_start
        progress.stage("track", total=total)
        last: np.ndarray | None = None
        with ThreadPoolExecutor(max_workers=TRACK_WORKERS) as pool:
            try:
                frames = iter_video(self.path, self.fps, errors, frame_start, frame_stop, self.max_side)
                k = frame_start
                for frame in frames:
                    self._set_size(frame)
                    last = self._store_frame(k, frame, arrays, warmup, pool, track, pending)
                    k += 1
                    progress.update("track", k - frame_start, total)
                if k < frame_stop and last is None:
                    raise EngineError(ErrorCode.BAD_INPUT, f"no decodable frames in {self.path}")
                while k < frame_stop:  # the stream ended early: the last frame holds, as it would on screen
                    assert last is not None
                    last = self._store_frame(k, last, arrays, warmup, pool, track, pending)
                    k += 1
                results = [f.result() for f in pending]
            finally:
                pool.shutdown(wait=True)
                for m in meshes:
                    m.close()
        bad = source_errors(errors)
        if bad:
            self.warnings.append(
                f"{self.path.name} has corrupt data ({len(bad)} decoder error lines, e.g. "
                f"'{bad[0].strip()[:80]}'); the damaged frames were concealed or repeated"
            )
        for j, dets in results:
            track_j = raw_track(dets, self.width, self.height)
            yaws = np.array([c.yaw_deg for c in track_j.checks])
            measured = np.zeros(len(dets), dtype=bool)
            measured[measured_positions(len(dets))] = True
            self._chunks[j] = _Chunk(arrays[j], track_j, yaws, measured)

    def _store_frame(
        self,
        k: int,
        frame: np.ndarray,
        arrays: dict[int, np.ndarray],
        warmup: list[np.ndarray],
        pool: ThreadPoolExecutor,
        track: Callable[[int, list[np.ndarray], int], tuple[int, list[Detection | None]]],
        pending: list[Future[tuple[int, list[Detection | None]]]],
    ) -> np.ndarray:
        """Put decoded frame ``k`` in place (frames before the pass's first chunk only warm the tracker up);
        when it completes a chunk, start tracking that chunk."""
        j, i = divmod(k, CHUNK_FRAMES)
        if j not in arrays and i != 0:
            warmup.append(np.array(frame))
            return warmup[-1]
        if i == 0:
            count = min(CHUNK_FRAMES, self.n_frames - j * CHUNK_FRAMES)
            arrays[j] = self._store.allocate(j, count, self.height, self.width)
        arr = arrays[j]
        arr[i] = frame
        if i == len(arr) - 1:
            before = list(arrays[j - 1][-WARMUP_FRAMES:]) if j - 1 in arrays else warmup[-WARMUP_FRAMES:]
            pending.append(pool.submit(track, j, before + list(arr), len(before)))
        result: np.ndarray = arr[i]
        return result

    def _set_size(self, frame: np.ndarray) -> None:
        if not self.width:
            self.height, self.width = frame.shape[:2]

    def _borrow(self, j: int, progress: Progress) -> None:
        """A chunk with no usable face takes the nearest tracked face of the nearest chunk that has one."""
        n_chunks = (self.n_frames + CHUNK_FRAMES - 1) // CHUNK_FRAMES
        for d in range(1, n_chunks):
            for other in (j - d, j + d):
                if not 0 <= other < n_chunks:
                    continue
                if other not in self._chunks:
                    self._track_chunks(other, other + 1, progress)
                donor = self._chunks[other].track
                if donor.points is None:
                    continue
                good = np.flatnonzero(donor.good)
                pick = int(good[-1] if other < j else good[0])
                chunk = self._chunks[j]
                n = len(chunk.track.checks)
                chunk.track.points = np.repeat(donor.points[pick][None], n, axis=0)
                return
        checks = [c for i in sorted(self._chunks) for c in self._chunks[i].track.checks]
        raise no_usable_face(checks)

    def _raw(self, k: int) -> np.ndarray:
        pts = self._chunks[k // CHUNK_FRAMES].track.points
        assert pts is not None
        result: np.ndarray = pts[k % CHUNK_FRAMES]
        return result

    def _smooth(self, indices: list[int]) -> None:
        """Smooth a run of consecutive frames (their neighbours within SMOOTH_WINDOW must be tracked)."""
        if not indices:
            return
        lo = max(0, min(indices) - SMOOTH_WINDOW)
        hi = min(self.n_frames, max(indices) + SMOOTH_WINDOW + 1)
        # The stretch reaches SMOOTH_WINDOW past every index, except where the source itself ends: the filter's
        # clamping then happens at the source's own edges, as it would for any other stretch.
        raw = np.stack([self._raw(k) for k in range(lo, hi)]) / self._scale
        out = one_euro_windowed(raw, np.array(indices) - lo, SMOOTH_WINDOW, float(self.fps), SMOOTHING)
        for k, pts in zip(indices, out * self._scale, strict=True):
            self._smoothed[k] = pts

    def _build_rig_and_bank(self, span: int, progress: Progress) -> None:
        """The rig comes from the most frontal closed mouth of the first seconds, the bank from all their frames
        (if they show no face, from the nearest chunk that does); only frames the face mesh measured."""
        usable = [k for k in range(span) if self._good(k)]
        if not usable:
            donor = next(
                j
                for j in range(len(self._chunks) + 1_000_000)
                if self._ensure_chunk(j, progress) and self._chunks[j].track.good.any()
            )
            start = donor * CHUNK_FRAMES
            stop = min(self.n_frames, start + CHUNK_FRAMES)
            self._track_range(max(0, start - SMOOTH_WINDOW), min(self.n_frames, stop + SMOOTH_WINDOW), progress)
            usable = [k for k in range(start, stop) if self._good(k)]
        frames = [k for k in usable if self._measured(k)]
        yaw = {k: float(self._chunks[k // CHUNK_FRAMES].yaws[k % CHUNK_FRAMES]) for k in frames}
        pool = [k for k in frames if abs(yaw[k]) <= MAX_YAW_DEG] or frames
        ref = min(pool, key=lambda k: (round(inner_lip_gap(self._raw(k)), 3), k))
        self._scale = face_scale(self._raw(ref))
        for a, b in _runs(np.array(usable, dtype=np.int64)):
            self._smooth(list(range(a, b)))
        opened = [k for k in pool if inner_lip_gap(self._smoothed[k]) > 0.035][:60]
        style = sample_style(
            np.asarray(self.frame(ref)),
            self._smoothed[ref],
            [np.asarray(self.frame(k)) for k in opened],
            [self._smoothed[k] for k in opened],
        )
        self.rig = build_rig(self._smoothed[ref], style)
        self.bank = build_bank(
            [np.asarray(self.frame(k)) for k in frames],
            [self._smoothed[k] for k in frames],
            frames,
            [yaw[k] for k in frames],
            self.rig,
            self._smoothed[ref],
        )

    def _good(self, k: int) -> bool:
        return bool(self._chunks[k // CHUNK_FRAMES].track.good[k % CHUNK_FRAMES])

    def _measured(self, k: int) -> bool:
        return bool(self._chunks[k // CHUNK_FRAMES].measured[k % CHUNK_FRAMES])

    def _ensure_chunk(self, j: int, progress: Progress) -> bool:
        if j * CHUNK_FRAMES >= self.n_frames:
            raise no_usable_face([c for i in sorted(self._chunks) for c in self._chunks[i].track.checks])
        if j not in self._chunks:
            self._track_chunks(j, j + 1, progress)
        return True

    def clip_warnings(self, indices: np.ndarray) -> list[str]:
        return self.warnings + track_warnings(self.checks(indices))


def measured_positions(n: int) -> list[int]:
    """The frames of an ``n``-frame chunk the face mesh runs on: every TRACK_STRIDE-th and the last (so no frame
    needs the next chunk to be interpolated)."""
    return sorted({*range(0, n, TRACK_STRIDE), n - 1})


def interpolate_between(dets: list[Detection | None], measured: list[int]) -> list[Detection | None]:
    """Each frame between two measured ones, linearly between them (no face when either has none)."""
    out = list(dets)
    for a, b in itertools.pairwise(measured):
        da, db = dets[a], dets[b]
        for i in range(a + 1, b):
            if da is not None and db is not None:
                w = (i - a) / (b - a)
                out[i] = Detection((1 - w) * da.points + w * db.points, (1 - w) * da.depth + w * db.depth)
    return out


def _runs(sorted_unique: np.ndarray) -> list[tuple[int, int]]:
    """[(start, stop), ...] of consecutive integers."""
    if len(sorted_unique) == 0:
        return []
    breaks = np.flatnonzero(np.diff(sorted_unique) > 1)
    starts = np.concatenate([[sorted_unique[0]], sorted_unique[breaks + 1]])
    stops = np.concatenate([sorted_unique[breaks] + 1, [sorted_unique[-1] + 1]])
    return [(int(a), int(b)) for a, b in zip(starts, stops, strict=True)]


def prepare_source(request: RenderRequest, progress: Progress) -> PreparedSource:
    """A photo, a still (video with --motion off) or a video, ready for ``need()``; raises NO_FACE early."""
    if request.image is not None:
        progress.stage("track", total=1)
        image = load_photo(request.image, request.max_side)
        mesh = FaceMesh(video=False)
        try:
            det = mesh.detect(image)
        finally:
            mesh.close()
        return _still_source("photo", request, image, det)
    assert request.video is not None
    if not request.motion:
        return _first_good_frame(request, progress)
    n = video_frame_count(request.video, request.fps)
    return PreparedSource("video", request.video, request.fps, n, request.max_side)


def _still_source(
    kind: str, request: RenderRequest, image: np.ndarray, det: Detection | None, warnings: list[str] | None = None
) -> PreparedSource:
    h, w = image.shape[:2]
    check = check_face(det, w, h)
    if not check.usable or det is None:
        raise no_face_error(request, NoUsableFace(str(check.reason), check, 0, 1), image)
    points = det.points[:478].copy()
    src = PreparedSource(kind, request.source, request.fps, 1, request.max_side, w, h, warnings=list(warnings or []))
    src._still, src._still_points, src._still_check = image, points, check
    src.rig = build_rig(points, sample_style(image, points))
    src.eye_rigs = build_eye_rigs(points, image)
    return src


def _first_good_frame(request: RenderRequest, progress: Progress) -> PreparedSource:
    assert request.video is not None
    limit = int(STILL_SEARCH_S * request.fps)
    progress.stage("track", total=limit)
    mesh = FaceMesh(video=True)
    found: list[tuple[np.ndarray, Detection | None]] = []
    checks: list[FaceCheck] = []

    def on_frame(i: int, frame: np.ndarray) -> bool:
        det = mesh.detect(frame)
        check = check_face(det, frame.shape[1], frame.shape[0])
        checks.append(check)
        found[:] = [(np.array(frame), det)]
        progress.update("track", i + 1, limit)
        return not check.usable

    try:
        errors = decode_until(request.video, request.fps, limit, on_frame, request.max_side)
    finally:
        mesh.close()
    if not found:
        raise EngineError(ErrorCode.BAD_INPUT, f"no decodable frames in {request.video}")
    frame, det = found[-1]
    if not checks[-1].usable:
        exc = no_usable_face(checks)
        raise no_face_error(request, exc, frame)
    warnings = []
    if errors:
        warnings.append(
            f"{request.video.name} has corrupt data ({len(errors)} decoder error lines, e.g. "
            f"'{errors[0].strip()[:80]}'); the damaged frames were concealed or repeated"
        )
    return _still_source("still", request, frame, det, warnings)


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
    # the frame's path is in details (callers may delete the folder it is in), not in the one-line message
    return EngineError(ErrorCode.NO_FACE, messages.get(exc.reason, exc.reason), details)
