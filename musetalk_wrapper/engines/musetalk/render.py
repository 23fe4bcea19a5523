"""The MuseTalk V1.5 render: audio features, prepared source frames, UNet + VAE decode, blending, encoding.

A ``Session`` lives as long as its engine instance: the networks and every prepared source (``avatar.py``)
stay loaded between ``render()`` calls, so a batch of sections pays for them once. Within a render the UNet
(the one large network) loads right after the cheap face search, so a broken checkpoint fails fast.

Which source frame each output frame shows follows the motion clock (``clock.py``); the generated mouth is
blended in with a per-frame weight that fades at pause edges (``silence.mouth_weights``).
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from musetalk_wrapper import media, weights
from musetalk_wrapper.contract import EngineError, EngineOutput, ErrorCode
from musetalk_wrapper.engines.musetalk import clock
from musetalk_wrapper.engines.musetalk import models as model_files
from musetalk_wrapper.engines.musetalk.audio_features import (
    SAMPLE_RATE,
    encoder_hidden_states,
    frame_features,
    positional_encoding,
)
from musetalk_wrapper.engines.musetalk.avatar import Avatar, memo_key, open_avatar, preparation_params
from musetalk_wrapper.engines.musetalk.blending import CropBox, dissolve, full_frame_mask, paste_face
from musetalk_wrapper.engines.musetalk.devices import batch_size_for, generation_autocast, pick_device
from musetalk_wrapper.engines.musetalk.generate import decode_faces, predict_latents
from musetalk_wrapper.engines.musetalk.landmarks import FaceBox, landmark_backend_factory
from musetalk_wrapper.engines.musetalk.prepare import PrepContext, complete, locate
from musetalk_wrapper.engines.musetalk.silence import PAUSE_FADE_FRAMES, mouth_weights, silent_frames
from musetalk_wrapper.progress import Progress
from musetalk_wrapper.request import RenderRequest

DEBUG_DIR_ENV = "PRESGEN_MUSETALK_DEBUG_DIR"  # tests: write the per-frame blend masks there


class Networks:
    """The networks of one models folder on one device, loaded on first use; load times go to ``timings``."""

    def __init__(self, models_dir: Path, device: torch.device, dtype: torch.dtype) -> None:
        self.dir, self.device, self.dtype = models_dir, device, dtype
        self.timings: dict[str, float] = {}
        self._loaded: dict[str, Any] = {}

    def _get(self, name: str, loader: Any) -> Any:
        if name not in self._loaded:
            started = time.monotonic()
            self._loaded[name] = loader()
            self.timings[f"load_{name}"] = self.timings.get(f"load_{name}", 0.0) + time.monotonic() - started
        return self._loaded[name]

    def vae(self) -> torch.nn.Module:
        return self._get("vae", lambda: model_files.load_vae(self.dir, self.device, self.dtype))

    def latent_scale(self) -> float:
        return model_files.latent_scale(self.vae())

    def bisenet(self) -> Any:
        return self._get("bisenet", lambda: model_files.load_bisenet(self.dir, self.device))

    def unet(self) -> torch.nn.Module:
        return self._get("unet", lambda: model_files.load_unet(self.dir, self.device, self.dtype))

    def whisper(self) -> tuple[Any, Any]:
        pair: tuple[Any, Any] = self._get(
            "whisper",
            lambda: (
                model_files.load_feature_extractor(self.dir),
                model_files.load_whisper_encoder(self.dir, self.device, self.dtype),
            ),
        )
        return pair


@dataclass
class _Job:
    """One render's inputs and running state."""

    request: RenderRequest
    progress: Progress
    device: torch.device
    dtype: torch.dtype
    autocast: torch.dtype | None  # generation precision when it differs from dtype
    batch_size: int
    audio: np.ndarray
    silent: np.ndarray  # bool per output frame
    mouth: np.ndarray  # generated-mouth weight per output frame (silence.mouth_weights)
    plan: list[clock.FramePlan]
    nets: Networks
    avatar: Avatar
    timings: dict[str, float] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def n_frames(self) -> int:
        return len(self.silent)

    def add_time(self, stage: str, seconds: float) -> None:
        self.timings[stage] = self.timings.get(stage, 0.0) + seconds


class Session:
    """What one engine instance keeps between renders: loaded networks and prepared sources."""

    def __init__(self) -> None:
        self._networks: dict[tuple[str, str, str], Networks] = {}
        self._avatars: dict[str, Avatar] = {}

    def networks(self, models_dir: Path, device: torch.device, dtype: torch.dtype) -> Networks:
        key = (str(models_dir.resolve()), str(device), str(dtype))
        if key not in self._networks:
            self._networks.clear()  # one set of networks in memory at a time
            self._networks[key] = Networks(models_dir, device, dtype)
        return self._networks[key]

    def avatar(self, request: RenderRequest, params: dict[str, Any], timings: dict[str, float]) -> tuple[Avatar, bool]:
        """The prepared source for ``request`` and whether it was already in memory."""
        key = memo_key(request, params)
        if key in self._avatars:
            return self._avatars[key], True
        self._avatars[key] = avatar = open_avatar(request, params, timings)
        return avatar, False

    def close(self) -> None:
        for avatar in self._avatars.values():
            avatar.close()
        self._avatars.clear()
        self._networks.clear()

    def render(self, request: RenderRequest, progress: Progress) -> EngineOutput:
        timings: dict[str, float] = {}
        device, dtype = pick_device(request.device)
        autocast = generation_autocast(device, dtype, request.precision)
        models_dir = weights.resolve_models_dir(request.models_dir)
        model_files.check_compatible(models_dir)
        nets = self.networks(models_dir, device, dtype)
        nets.timings = timings

        progress.stage("audio")
        started = time.monotonic()
        audio = media.load_audio(request.audio, SAMPLE_RATE)
        # Output length = audio length, rounded to whole frames.
        n_frames = max(1, round(len(audio) / SAMPLE_RATE * request.fps))
        silent = silent_frames(audio, SAMPLE_RATE, n_frames, request.fps)
        timings["load_audio"] = time.monotonic() - started

        avatar, reused = self.avatar(request, preparation_params(request, models_dir, dtype), timings)
        plan = clock.plan(n_frames, request.fps, avatar.frames.count, request.start_s, request.handoff_s)
        job = _Job(
            request,
            progress,
            device,
            dtype,
            autocast,
            batch_size_for(request.batch_size, device, dtype),
            audio,
            silent,
            mouth_weights(silent),
            plan,
            nets,
            avatar,
            timings,
            list(avatar.warnings),
        )
        out = _render(job)
        out.details["avatar_in_memory"] = reused
        return out


def _audio_features(job: _Job) -> torch.Tensor:
    """[n_frames, tokens, d_model] whisper windows plus positional encoding."""
    job.progress.stage("audio_features")
    started = time.monotonic()
    extractor, encoder = job.nets.whisper()
    states = encoder_hidden_states(job.audio, extractor, encoder, job.device, job.dtype)
    feats = frame_features(states, job.n_frames, job.request.fps)
    job.timings["audio_features"] = time.monotonic() - started
    return feats + positional_encoding(feats.shape[1], feats.shape[2])


def _prepare(job: _Job, needed: list[int]) -> int:
    """Prepare the needed source frames not yet in memory (from the disk cache, else computed); how many
    were computed. Raises NO_FACE when no needed frame shows a face."""
    avatar, request = job.avatar, job.request
    started = time.monotonic()
    avatar.frames.ensure(needed)
    job.add_time("decode_source", time.monotonic() - started)
    missing = [i for i in needed if i not in avatar.prepared]
    ctx = PrepContext(
        avatar.frames,
        avatar.cache,
        request.bbox_shift,
        job.batch_size,
        job.device,
        job.dtype,
        landmark_backend_factory(request, job.nets.dir, job.device, avatar.backends),
        job.nets.vae,
        job.nets.bisenet,
        job.nets.latent_scale,
        job.timings,
    )
    if avatar.backends:  # already built by an earlier render: reuse it
        backend = avatar.backends[0]
        ctx.landmarks = lambda: backend
    prepared = 0
    with avatar.cache.preparing() if avatar.cache is not None and missing else contextlib.nullcontext():
        # A concurrent render of the same source waits here, then finds every frame cached.
        started = time.monotonic()
        located = locate(ctx, missing)
        job.timings["locate"] = time.monotonic() - started
        faces = [avatar.prepared[i] for i in needed if i in avatar.prepared] + list(located.frames.values())
        if not any(f.face_box is not None for f in faces) and not any(b is not None for b in located.boxes.values()):
            raise EngineError(
                ErrorCode.NO_FACE,
                f"no face found in {request.source}"
                + ("" if request.image is not None else f" (checked {len(needed)} frame(s))"),
            )
        if located.boxes and (job.mouth > 0).any():
            job.nets.unet()  # before the costly preparation: a broken checkpoint fails in seconds, not minutes
        started = time.monotonic()
        result = complete(ctx, located, job.progress)
        job.timings["prepare"] = time.monotonic() - started
        avatar.prepared.update(result.frames)
        prepared = result.prepared
    return prepared


def _render(job: _Job) -> EngineOutput:
    request = job.request
    needed = sorted({s for p in job.plan for s in p.sources})
    computed = _prepare(job, needed)
    prepared = job.avatar.prepared
    feats = _audio_features(job) if (job.mouth > 0).any() else None

    speaking = [i for i in range(job.n_frames) if not job.silent[i]]
    faceless = sum(1 for i in speaking if prepared[job.plan[i].primary].face_box is None)
    if faceless:
        job.warnings.append(f"{faceless} of {job.n_frames} frames show no face; they keep the source frame")
    if not speaking:
        job.warnings.append("the audio is silent throughout; the output shows the source unchanged")
    blended = _write_video(job, feats)

    first = next(prepared[i] for i in needed if prepared[i].face_box is not None)
    x1, y1, x2, y2 = first.face_box  # type: ignore[misc]
    cache = job.avatar.cache
    details: dict[str, Any] = {
        "cache": "hit" if computed == 0 else "miss",
        "cache_entry": str(cache.dir) if cache is not None else None,
        "prepared_frames": computed,
        "reused_frames": len(needed) - computed,
        "face_box": [x1, y1, x2 - x1, y2 - y1],
        "landmarks": request.landmarks,
        "device": job.device.type,
        "dtype": str(job.dtype).replace("torch.", ""),
        "generation_dtype": str(job.autocast or job.dtype).replace("torch.", ""),
        "batch_size": job.batch_size,
        "silent_frames": int(job.silent.sum()),
        "generated_frames": int(blended.sum()),
        "faceless_frames": faceless,
        "source_frames": job.avatar.frames.count,
        "start_s": request.start_s,
        "handoff_s": request.handoff_s,
        "handoff_frames": sum(1 for p in job.plan if p.weight > 0),
        "pause_fade_frames": PAUSE_FADE_FRAMES,
        "models_dir": str(job.nets.dir),
    }
    return EngineOutput(
        frames=job.n_frames,
        fps=float(request.fps),
        duration_s=job.n_frames / request.fps,
        message=f"rendered {job.n_frames} frames with musetalk ({details['cache']} avatar cache)",
        timings_s=job.timings,
        warnings=job.warnings,
        details=details,
    )


def _generate(job: _Job, feats: torch.Tensor, jobs: list[tuple[int, int]]) -> dict[tuple[int, int], np.ndarray]:
    """Generated 256x256 faces for (output frame, source frame) pairs, in batches of ``job.batch_size``."""
    prepared = job.avatar.prepared
    faces: dict[tuple[int, int], np.ndarray] = {}
    for start in range(0, len(jobs), job.batch_size):
        part = jobs[start : start + job.batch_size]
        latents = np.stack([prepared[s].latents for _, s in part])  # type: ignore[misc]
        t0 = time.monotonic()
        predicted = predict_latents(
            job.nets.unet(), latents, feats[[i for i, _ in part]], job.device, job.dtype, job.autocast
        )
        t1 = time.monotonic()
        decoded = decode_faces(job.nets.vae(), predicted, job.nets.latent_scale(), job.autocast)
        job.add_time("unet", t1 - t0)
        job.add_time("vae_decode", time.monotonic() - t1)
        faces.update(zip(part, decoded, strict=True))
    return faces


def _compose(job: _Job, i: int, faces: dict[tuple[int, int], np.ndarray]) -> tuple[np.ndarray, np.ndarray | None]:
    """Output frame ``i``: each source frame of its plan with the generated mouth pasted at this frame's weight,
    dissolved into one; and the effective blend alpha (for debugging)."""
    frames, prepared, step = job.avatar.frames, job.avatar.prepared, job.plan[i]
    layers, alpha = [], None
    for s in step.sources:
        frame = frames[s]
        if (i, s) in faces:
            pf = prepared[s]
            assert pf.crop_box is not None and pf.face_box is not None and pf.mask is not None  # faces: face frames
            crop = CropBox(*pf.crop_box)
            frame = paste_face(frame, faces[(i, s)], FaceBox(*pf.face_box), crop, pf.mask, float(job.mouth[i]))
            mask = full_frame_mask(pf.mask, crop, frames.width, frames.height)
            scaled = np.round(mask.astype(np.float32) * float(job.mouth[i])).astype(np.uint8)
            alpha = scaled if alpha is None else np.maximum(alpha, scaled)
        layers.append(frame)
    out = layers[0] if len(layers) == 1 else dissolve(layers[0], layers[1], step.weight)
    return out, alpha


def _write_video(job: _Job, feats: torch.Tensor | None) -> np.ndarray:
    """Generate and blend batch by batch, writing every frame in order; which frames got a generated mouth."""
    request, frames, prepared = job.request, job.avatar.frames, job.avatar.prepared
    debug_dir = os.environ.get(DEBUG_DIR_ENV)
    debug_masks: list[np.ndarray] = []
    blended = np.zeros(job.n_frames, dtype=bool)
    job.progress.stage("generate", total=job.n_frames)
    with media.VideoWriter(request.output, frames.width, frames.height, request.audio, request.fps) as writer:
        for start in range(0, job.n_frames, job.batch_size):
            chunk = range(start, min(start + job.batch_size, job.n_frames))
            pairs = [
                (i, s)
                for i in chunk
                if job.mouth[i] > 0
                for s in job.plan[i].sources
                if prepared[s].face_box is not None
            ]
            faces = _generate(job, feats, pairs) if pairs and feats is not None else {}
            t0 = time.monotonic()
            for i in chunk:
                frame, alpha = _compose(job, i, faces)
                blended[i] = alpha is not None
                writer.write(frame)
                if debug_dir:
                    debug_masks.append(alpha if alpha is not None else np.zeros(frame.shape[:2], np.uint8))
            job.add_time("blend_write", time.monotonic() - t0)
            job.progress.update("generate", chunk.stop, job.n_frames)
    if debug_dir:
        Path(debug_dir).mkdir(parents=True, exist_ok=True)
        np.savez_compressed(
            Path(debug_dir) / "blend_masks.npz",
            masks=np.stack(debug_masks),
            blended=blended,
            silent=job.silent,
            mouth=job.mouth,
            source_index=np.array([p.primary for p in job.plan]),
        )
    return blended


def render(request: RenderRequest, progress: Progress) -> EngineOutput:
    """One render on a fresh session (the engine keeps a session for several renders)."""
    session = Session()
    try:
        return session.render(request, progress)
    finally:
        session.close()
