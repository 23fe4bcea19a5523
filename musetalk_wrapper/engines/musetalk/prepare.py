"""Preparing source frames for generation: face box, VAE latents of the masked and reference crops, and
the blend mask. Results come from the avatar cache when present and go into it when computed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import cv2
import numpy as np
import torch
from PIL import Image

from musetalk_wrapper.engines.musetalk.avatar_cache import AvatarCache, PreparedFrame
from musetalk_wrapper.engines.musetalk.bisenet import INPUT_SIZE as PARSE_SIZE
from musetalk_wrapper.engines.musetalk.bisenet import BiSeNet
from musetalk_wrapper.engines.musetalk.blending import blend_mask, crop_box_for, crop_padded
from musetalk_wrapper.engines.musetalk.landmarks import FaceBox, LandmarkBackend, box_from_landmarks
from musetalk_wrapper.engines.musetalk.source_frames import SourceFrames
from musetalk_wrapper.progress import Progress

CROP_SIZE = 256  # the UNet's face resolution (latents 32x32)


@dataclass
class PrepContext:
    frames: SourceFrames
    cache: AvatarCache | None
    bbox_shift: int
    batch_size: int
    device: torch.device
    dtype: torch.dtype
    landmarks: Callable[[], LandmarkBackend]  # built on first use: a full cache hit never needs them
    vae: Callable[[], torch.nn.Module]
    bisenet: Callable[[], BiSeNet]
    latent_scale: Callable[[], float]
    timings: dict[str, float] = field(default_factory=dict)

    def add_time(self, stage: str, seconds: float) -> None:
        self.timings[stage] = self.timings.get(stage, 0.0) + seconds


@dataclass
class Located:
    """Frames found in the cache, and face boxes (or None) of the frames still to prepare."""

    frames: dict[int, PreparedFrame]
    boxes: dict[int, FaceBox | None]

    @property
    def any_face(self) -> bool:
        return any(f.face_box is not None for f in self.frames.values()) or any(
            b is not None for b in self.boxes.values()
        )


@dataclass
class PrepResult:
    frames: dict[int, PreparedFrame]
    reused: int
    prepared: int


@torch.inference_mode()
def encode_latents(
    vae: torch.nn.Module, crops: list[np.ndarray], scale: float, device: torch.device, dtype: torch.dtype
) -> np.ndarray:
    """[B, 2C, h, w] float32: latent means of the lower-half-masked crops, then of the crops themselves."""
    x = torch.from_numpy(np.stack(crops)).permute(0, 3, 1, 2).float().div_(255.0)
    masked = x.clone()
    masked[:, :, x.shape[2] // 2 :, :] = 0.0  # zeroed before normalising, so it becomes -1
    both = torch.cat([masked, x]).sub_(0.5).div_(0.5).to(device=device, dtype=dtype)
    # Deterministic: the distribution's mode (= mean), as in training, not upstream inference's .sample().
    latents = vae.encode(both).latent_dist.mode() * scale
    n = len(crops)
    result: np.ndarray = torch.cat([latents[:n], latents[n:]], dim=1).float().cpu().numpy()
    return result


def _face_crop(frame: np.ndarray, box: FaceBox) -> np.ndarray:
    crop = frame[box.y1 : box.y2, box.x1 : box.x2]
    result: np.ndarray = cv2.resize(crop, (CROP_SIZE, CROP_SIZE), interpolation=cv2.INTER_LANCZOS4)
    return result


def parse_input(frame: np.ndarray, box: FaceBox) -> np.ndarray:
    """The BiSeNet input: the expanded crop resized to 512x512 with Pillow's bilinear, as upstream does (it
    antialiases when shrinking; cv2's INTER_LINEAR does not and differs by up to 27/255 on faces over ~340 px)."""
    large = crop_padded(frame, crop_box_for(box))
    return np.asarray(Image.fromarray(large).resize((PARSE_SIZE, PARSE_SIZE), Image.Resampling.BILINEAR))


def locate(ctx: PrepContext, indices: Iterable[int]) -> Located:
    """Cached frames, plus landmarks and face boxes of the others (cheap: no network but the landmarker).

    Call inside ``ctx.cache.preparing()`` so a concurrent render waits and then finds the frames cached."""
    located = Located({}, {})
    missing = []
    for i in sorted(set(indices)):
        hit = ctx.cache.load(i) if ctx.cache is not None else None
        if hit is not None:
            located.frames[i] = hit
        else:
            missing.append(i)
    if not missing:
        return located
    backend = ctx.landmarks()
    started = time.monotonic()
    for i in missing:
        lm = backend.landmarks68(ctx.frames[i])
        located.boxes[i] = (
            None if lm is None else box_from_landmarks(lm, ctx.frames.width, ctx.frames.height, ctx.bbox_shift)
        )
    ctx.add_time("landmarks", time.monotonic() - started)
    return located


def complete(ctx: PrepContext, located: Located, progress: Progress) -> PrepResult:
    """Latents and blend masks of the located frames that were not cached; stores them in the cache."""
    out = dict(located.frames)
    missing = sorted(located.boxes)
    if not missing:
        return PrepResult(out, len(out), 0)
    progress.stage("prepare", total=len(missing))
    for i in missing:
        if located.boxes[i] is None:
            out[i] = PreparedFrame(None, None, None, None)
            if ctx.cache is not None:
                ctx.cache.store(i, out[i])
    with_face = {i: box for i, box in sorted(located.boxes.items()) if box is not None}
    done = len(missing) - len(with_face)
    if with_face:
        vae, bisenet, scale = ctx.vae(), ctx.bisenet(), ctx.latent_scale()
        parse_device = next(bisenet.parameters()).device
        order = list(with_face)
        for start in range(0, len(order), ctx.batch_size):
            batch = order[start : start + ctx.batch_size]
            frames = [ctx.frames[i] for i in batch]
            boxes = [with_face[i] for i in batch]
            t0 = time.monotonic()
            crops = [_face_crop(f, b) for f, b in zip(frames, boxes, strict=True)]
            latents = encode_latents(vae, crops, scale, ctx.device, ctx.dtype)
            t1 = time.monotonic()
            parse_in = np.stack([parse_input(f, b) for f, b in zip(frames, boxes, strict=True)])
            labels = bisenet.parse(torch.from_numpy(parse_in).to(parse_device)).cpu().numpy()
            t2 = time.monotonic()
            ctx.add_time("vae_encode", t1 - t0)
            ctx.add_time("face_parsing", t2 - t1)
            for k, i in enumerate(batch):
                crop = crop_box_for(boxes[k])
                out[i] = PreparedFrame(
                    boxes[k].as_list(), crop.as_list(), latents[k], blend_mask(labels[k], boxes[k], crop)
                )
                if ctx.cache is not None:
                    ctx.cache.store(i, out[i])
            ctx.add_time("masks_store", time.monotonic() - t2)
            done += len(batch)
            progress.update("prepare", done, len(missing))
    return PrepResult(out, len(located.frames), len(missing))
