"""One UNet step at t=0 (single-step latent inpainting, not diffusion) and the VAE decode to 256x256 faces.

On CUDA the inputs go through pinned (page-locked) host memory and are copied asynchronously.
"""

from __future__ import annotations

import numpy as np
import torch


def to_device(tensor: torch.Tensor, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """``tensor`` on ``device`` in ``dtype``; from pinned memory without blocking when the device is a GPU."""
    if device.type == "cuda" and tensor.device.type == "cpu":
        return tensor.to(dtype).pin_memory().to(device, non_blocking=True)
    return tensor.to(device=device, dtype=dtype)


@torch.inference_mode()
def predict_latents(
    unet: torch.nn.Module,
    latents: np.ndarray,
    audio: torch.Tensor,
    device: torch.device,
    dtype: torch.dtype,
    autocast: torch.dtype | None = None,
) -> torch.Tensor:
    """[B, 2C, h, w] masked+reference latents and [B, tokens, d] audio (positional encoding added) -> [B, C, h, w]."""
    x = to_device(torch.from_numpy(np.ascontiguousarray(latents)), device, dtype)
    timestep = torch.zeros((), device=device, dtype=torch.long)
    with torch.autocast(device.type, dtype=autocast or dtype, enabled=autocast is not None):
        out = unet(x, timestep, encoder_hidden_states=to_device(audio, device, dtype)).sample
    return out.to(dtype)


@torch.inference_mode()
def decode_faces(
    vae: torch.nn.Module, latents: torch.Tensor, scale: float, autocast: torch.dtype | None = None
) -> np.ndarray:
    """uint8 RGB [B, H, W, 3] images from predicted latents."""
    with torch.autocast(latents.device.type, dtype=autocast or latents.dtype, enabled=autocast is not None):
        images = vae.decode(latents / scale).sample
    images = (images.float() / 2 + 0.5).clamp_(0, 1).mul_(255).round_()
    result: np.ndarray = images.to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
    return result
