"""The MuseTalk V1.5 render: audio features, prepared source frames, UNet + VAE decode, blending, encoding.

The UNet (the one large network) loads right after the cheap face search, so a broken checkpoint fails
fast; whisper is freed once the audio features exist and face parsing once preparation is done.
"""
from __future__ import annotations

import contextlib
import gc
import importlib.metadata
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from musetalk_wrapper import media, weights
from musetalk_wrapper.contract import EngineError, EngineOutput, ErrorCode
from musetalk_wrapper.engines.musetalk import models as model_files
from musetalk_wrapper.engines.musetalk.audio_features import (
    SAMPLE_RATE,
    encoder_hidden_states,
    frame_features,
    positional_encoding,
)
from musetalk_wrapper.engines.musetalk.avatar_cache import (
    DEFAULT_CACHE_DIR,
    AvatarCache,
    PreparedFrame,
    file_fingerprint,
    file_sha256,
)
from musetalk_wrapper.engines.musetalk.blending import (
    BLUR_FRACTION,
    CHEEK_WIDTH_PX,
    CropBox,
    full_frame_mask,
    paste_face,
)
from musetalk_wrapper.engines.musetalk.devices import generation_autocast, pick_device
from musetalk_wrapper.engines.musetalk.generate import decode_faces, predict_latents
from musetalk_wrapper.engines.musetalk.landmarks import (
    EXTRA_MARGIN_PX,
    FaceBox,
    LandmarkBackend,
    dwpose_model_path,
    landmark_backend_factory,
)
from musetalk_wrapper.engines.musetalk.prepare import CROP_SIZE, PrepContext, complete, locate
from musetalk_wrapper.engines.musetalk.silence import silent_frames
from musetalk_wrapper.engines.musetalk.source_frames import MAX_SIDE_PX, SourceFrames
from musetalk_wrapper.progress import Progress
from musetalk_wrapper.request import RenderRequest

DEBUG_DIR_ENV = "PRESGEN_MUSETALK_DEBUG_DIR"  # tests: write the per-frame blend masks there


class _Models:
    """Networks loaded on first use, with load times recorded."""

    def __init__(self, models_dir: Path, device: torch.device, dtype: torch.dtype, timings: dict[str, float]):
        self.dir, self.device, self.dtype, self.timings = models_dir, device, dtype, timings
        self._cache: dict[str, Any] = {}

    def _get(self, name: str, loader: Any) -> Any:
        if name not in self._cache:
            started = time.monotonic()
            self._cache[name] = loader()
            self.timings[f"load_{name}"] = self.timings.get(f"load_{name}", 0.0) + time.monotonic() - started
        return self._cache[name]

    def vae(self) -> torch.nn.Module:
        return self._get("vae", lambda: model_files.load_vae(self.dir, self.device, self.dtype))

    def latent_scale(self) -> float:
        return model_files.latent_scale(self.vae())  # type: ignore[arg-type]

    def bisenet(self) -> Any:
        return self._get("bisenet", lambda: model_files.load_bisenet(self.dir, self.device))

    def unet(self) -> torch.nn.Module:
        return self._get("unet", lambda: model_files.load_unet(self.dir, self.device, self.dtype))

    def whisper(self) -> tuple[Any, Any]:
        return self._get("whisper", lambda: (model_files.load_feature_extractor(self.dir),
                                             model_files.load_whisper_encoder(self.dir, self.device, self.dtype)))

    def release(self, name: str) -> None:
        if self._cache.pop(name, None) is not None:
            gc.collect()


def _cache_params(request: RenderRequest, models_dir: Path, dtype: torch.dtype) -> dict[str, Any]:
    """Everything that changes a prepared frame (a change means a new cache entry)."""
    if request.landmarks == "dwpose-onnx":
        path = dwpose_model_path(request, models_dir)
        landmark_id: Any = file_fingerprint(path) if path.is_file() else str(path)
    else:
        landmark_id = importlib.metadata.version("mediapipe")
    files = [model_files.weights_path(models_dir, rel) for rel in (
        model_files.VAE_CONFIG, model_files.VAE_WEIGHTS, model_files.BISENET_WEIGHTS)]
    return {"landmarks": request.landmarks, "landmarks_model": landmark_id, "bbox_shift": request.bbox_shift,
            "extra_margin": EXTRA_MARGIN_PX, "fps": request.fps, "max_side": MAX_SIDE_PX,
            "image": request.image is not None, "crop": CROP_SIZE, "parsing": "jaw", "cheek": CHEEK_WIDTH_PX,
            "blur": BLUR_FRACTION, "weights": [file_fingerprint(p) for p in files], "dtype": str(dtype)}


def _open_cache(request: RenderRequest, params: dict[str, Any], warnings: list[str],
                timings: dict[str, float]) -> AvatarCache | None:
    root = (request.cache_dir or DEFAULT_CACHE_DIR).expanduser()
    started = time.monotonic()
    try:
        cache = AvatarCache(root, request.source, file_sha256(request.source), params)
    except OSError as exc:
        warnings.append(f"avatar cache disabled: cannot write {root} ({exc.strerror or exc})")
        cache = None
    timings["source_hash"] = time.monotonic() - started
    return cache


@dataclass
class _Job:
    """One render's inputs and running state."""

    request: RenderRequest
    progress: Progress
    models_dir: Path
    device: torch.device
    dtype: torch.dtype
    audio: np.ndarray
    silent: np.ndarray  # bool per output frame
    frames: SourceFrames
    models: _Models
    timings: dict[str, float] = field(default_factory=dict)
    autocast: torch.dtype | None = None  # generation precision when it differs from dtype
    warnings: list[str] = field(default_factory=list)
    backends: list[LandmarkBackend] = field(default_factory=list)

    @property
    def n_frames(self) -> int:
        return len(self.silent)

    def add_time(self, stage: str, seconds: float) -> None:
        self.timings[stage] = self.timings.get(stage, 0.0) + seconds


def render(request: RenderRequest, progress: Progress) -> EngineOutput:
    timings: dict[str, float] = {}
    device, dtype = pick_device(request.device)
    autocast = generation_autocast(device, dtype, request.precision)
    models_dir = weights.resolve_models_dir(request.models_dir)
    model_files.check_compatible(models_dir)

    progress.stage("audio")
    started = time.monotonic()
    audio = media.load_audio(request.audio, SAMPLE_RATE)
    # Output length = audio length, rounded to whole frames.
    n_frames = max(1, int(round(len(audio) / SAMPLE_RATE * request.fps)))
    silent = silent_frames(audio, SAMPLE_RATE, n_frames, request.fps)
    timings["load_audio"] = time.monotonic() - started

    started = time.monotonic()
    frames = SourceFrames(request.source, request.image is not None, n_frames, request.fps)
    timings["decode_source"] = time.monotonic() - started
    job = _Job(request, progress, models_dir, device, dtype, audio, silent, frames,
               _Models(models_dir, device, dtype, timings), timings, autocast=autocast)
    try:
        return _render(job)
    finally:
        for backend in job.backends:
            backend.close()
        frames.close()


def _audio_features(job: _Job) -> torch.Tensor:
    """[n_frames, tokens, d_model] whisper windows plus positional encoding."""
    job.progress.stage("audio_features")
    started = time.monotonic()
    extractor, encoder = job.models.whisper()
    states = encoder_hidden_states(job.audio, extractor, encoder, job.device, job.dtype)
    feats = frame_features(states, job.n_frames, job.request.fps)
    job.models.release("whisper")
    job.timings["audio_features"] = time.monotonic() - started
    return feats + positional_encoding(feats.shape[1], feats.shape[2])


def _render(job: _Job) -> EngineOutput:
    request = job.request
    source_of = [job.frames.source_index(i) for i in range(job.n_frames)]
    speaking = [i for i in range(job.n_frames) if not job.silent[i]]
    # Silent frames are prepared too (cheap next to generation): the next narration may speak over them.
    needed = set(source_of)

    cache = _open_cache(request, _cache_params(request, job.models_dir, job.dtype), job.warnings, job.timings)
    ctx = PrepContext(job.frames, cache, request.bbox_shift, request.batch_size, job.device, job.dtype,
                      landmark_backend_factory(request, job.models_dir, job.device, job.backends), job.models.vae,
                      job.models.bisenet, job.models.latent_scale, job.timings)
    feats: torch.Tensor | None = None
    with cache.preparing() if cache is not None else contextlib.nullcontext():
        # A concurrent render of the same source waits here, then finds every frame cached.
        started = time.monotonic()
        located = locate(ctx, needed)
        job.timings["locate"] = time.monotonic() - started
        if not located.any_face:
            raise EngineError(ErrorCode.NO_FACE, f"no face found in {request.source}"
                              + ("" if request.image is not None else f" (checked {len(needed)} frame(s))"))
        if speaking:
            job.models.unet()  # before the costly preparation: a broken checkpoint fails in seconds, not minutes
            feats = _audio_features(job)
        started = time.monotonic()
        prep = complete(ctx, located, job.progress)
        job.timings["prepare"] = time.monotonic() - started
    job.models.release("bisenet")

    faceless = sum(1 for i in speaking if prep.frames[source_of[i]].face_box is None)
    if faceless:
        job.warnings.append(f"{faceless} of {job.n_frames} frames show no face; they keep the source frame")
    if not speaking:
        job.warnings.append("the audio is silent throughout; the output shows the source unchanged")
    blended = _write_video(job, prep.frames, source_of, feats)

    first = next(prep.frames[i] for i in sorted(needed) if prep.frames[i].face_box is not None)
    x1, y1, x2, y2 = first.face_box  # type: ignore[misc]
    details: dict[str, Any] = {
        "cache": "hit" if cache is not None and prep.prepared == 0 else "miss",
        "cache_entry": str(cache.dir) if cache is not None else None,
        "prepared_frames": prep.prepared, "reused_frames": prep.reused,
        "face_box": [x1, y1, x2 - x1, y2 - y1],
        "landmarks": request.landmarks, "device": job.device.type, "dtype": str(job.dtype).replace("torch.", ""),
        "generation_dtype": str(job.autocast or job.dtype).replace("torch.", ""),
        "batch_size": request.batch_size, "silent_frames": int(job.silent.sum()),
        "generated_frames": int(blended.sum()), "faceless_frames": faceless, "source_frames": job.frames.count,
        "models_dir": str(job.models_dir),
    }
    return EngineOutput(frames=job.n_frames, fps=float(request.fps), duration_s=job.n_frames / request.fps,
                        message=f"rendered {job.n_frames} frames with musetalk ({details['cache']} avatar cache)",
                        timings_s=job.timings, warnings=job.warnings, details=details)


def _write_video(job: _Job, prepared: dict[int, PreparedFrame], source_of: list[int],
                 feats: torch.Tensor | None) -> np.ndarray:
    """Generate and blend the speaking frames batch by batch, writing every frame in order; which were blended."""
    request, frames, models = job.request, job.frames, job.models
    debug_dir = os.environ.get(DEBUG_DIR_ENV)
    debug_masks: list[np.ndarray] = []
    blended = np.zeros(job.n_frames, dtype=bool)
    job.progress.stage("generate", total=job.n_frames)
    with media.VideoWriter(request.output, frames.width, frames.height, request.audio, request.fps) as writer:
        for start in range(0, job.n_frames, request.batch_size):
            chunk = range(start, min(start + request.batch_size, job.n_frames))
            active = [i for i in chunk if not job.silent[i] and prepared[source_of[i]].face_box is not None]
            faces: dict[int, np.ndarray] = {}
            if active:
                assert feats is not None
                latents = np.stack([prepared[source_of[i]].latents for i in active])  # type: ignore[misc]
                t0 = time.monotonic()
                predicted = predict_latents(models.unet(), latents, feats[active], job.device, job.dtype,
                                            job.autocast)
                t1 = time.monotonic()
                decoded = decode_faces(models.vae(), predicted, models.latent_scale(), job.autocast)
                faces = dict(zip(active, decoded, strict=True))
                job.add_time("unet", t1 - t0)
                job.add_time("vae_decode", time.monotonic() - t1)
            t0 = time.monotonic()
            for i in chunk:
                frame = frames[source_of[i]]
                pf = prepared[source_of[i]]
                mask = np.zeros((frames.height, frames.width), dtype=np.uint8) if debug_dir else None
                if i in faces:
                    crop = CropBox(*pf.crop_box)  # type: ignore[misc]
                    frame = paste_face(frame, faces[i], FaceBox(*pf.face_box), crop, pf.mask)  # type: ignore[misc,arg-type]
                    blended[i] = True
                    if debug_dir:
                        mask = full_frame_mask(pf.mask, crop, frames.width, frames.height)  # type: ignore[arg-type]
                writer.write(frame)
                if mask is not None:
                    debug_masks.append(mask)
            job.add_time("blend_write", time.monotonic() - t0)
            job.progress.update("generate", chunk.stop, job.n_frames)
    if debug_dir:
        Path(debug_dir).mkdir(parents=True, exist_ok=True)
        np.savez_compressed(Path(debug_dir) / "blend_masks.npz", masks=np.stack(debug_masks), blended=blended,
                            silent=job.silent, source_index=np.array(source_of))
    return blended
