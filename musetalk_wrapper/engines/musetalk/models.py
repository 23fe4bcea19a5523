"""Building the four networks from a models folder in the official layout.

Architectures come from the folder's own configs (``musetalkV15/musetalk.json``, ``sd-vae/config.json``,
``whisper/config.json``), so a tiny-configuration folder in the same formats loads through the same code.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from musetalk_wrapper import weights
from musetalk_wrapper.engines.musetalk.bisenet import BiSeNet
from musetalk_wrapper.engines.musetalk.checkpoints import (
    StateDict,
    load_strict,
    mismatch,
    read_state_dict,
    rename_legacy_attention,
    unusable,
)

# Never let transformers/diffusers reach for a model hub: everything is read from the models folder.
for _var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_HUB_DISABLE_TELEMETRY"):
    os.environ.setdefault(_var, "1")

from diffusers import AutoencoderKL, UNet2DConditionModel  # noqa: E402
from transformers import WhisperConfig, WhisperFeatureExtractor  # noqa: E402
from transformers.models.whisper.modeling_whisper import WhisperEncoder  # noqa: E402

DEFAULT_LATENT_SCALE = 0.18215  # diffusers' AutoencoderKL default; sd-vae-ft-mse's config.json omits it
UNET_CONFIG = "musetalkV15/musetalk.json"
UNET_WEIGHTS = "musetalkV15/unet.pth"
VAE_CONFIG = "sd-vae/config.json"
VAE_WEIGHTS = "sd-vae/diffusion_pytorch_model.bin"
WHISPER_CONFIG = "whisper/config.json"
WHISPER_WEIGHTS = "whisper/pytorch_model.bin"
WHISPER_PREPROCESSOR = "whisper/preprocessor_config.json"
BISENET_WEIGHTS = "face-parse-bisent/79999_iter.pth"
RESNET_WEIGHTS = "face-parse-bisent/resnet18-5c106cde.pth"


def weights_path(models_dir: Path, rel: str) -> Path:
    found = weights.present_path(weights.BY_PATH[rel], models_dir)
    if found is None:
        raise unusable(models_dir / rel, models_dir, "missing")
    return found


def _config(models_dir: Path, rel: str) -> dict[str, Any]:
    path = weights_path(models_dir, rel)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise unusable(path, models_dir, f"not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise unusable(path, models_dir, "not a JSON object")
    return data


def _build(factory: Any, kwargs: dict[str, Any], path: Path, models_dir: Path, what: str) -> nn.Module:
    try:
        with torch.device("meta"):
            return factory(**kwargs)
    except (TypeError, ValueError, KeyError, AssertionError) as exc:
        raise unusable(path, models_dir, f"not a valid {what} config ({exc})") from exc


def _place(module: nn.Module, device: torch.device, dtype: torch.dtype) -> nn.Module:
    return module.to(device=device, dtype=dtype).eval().requires_grad_(False)


def load_unet(models_dir: Path, device: torch.device, dtype: torch.dtype) -> UNet2DConditionModel:
    cfg_path = weights_path(models_dir, UNET_CONFIG)
    cfg = {k: v for k, v in _config(models_dir, UNET_CONFIG).items() if not k.startswith("_")}
    unet = _build(UNet2DConditionModel, cfg, cfg_path, models_dir, "UNet2DConditionModel")
    path = weights_path(models_dir, UNET_WEIGHTS)
    load_strict(unet, read_state_dict(path, models_dir), path, models_dir, "MuseTalk UNet")
    return _place(unet, device, dtype)


def build_vae(cfg: dict[str, Any], cfg_path: Path, models_dir: Path) -> AutoencoderKL:
    clean = {k: v for k, v in cfg.items() if not k.startswith("_")}
    return _build(AutoencoderKL, clean, cfg_path, models_dir, "AutoencoderKL")


def load_vae(models_dir: Path, device: torch.device, dtype: torch.dtype) -> AutoencoderKL:
    cfg_path = weights_path(models_dir, VAE_CONFIG)
    vae = build_vae(_config(models_dir, VAE_CONFIG), cfg_path, models_dir)
    path = weights_path(models_dir, VAE_WEIGHTS)
    sd = rename_legacy_attention(read_state_dict(path, models_dir))
    load_strict(vae, sd, path, models_dir, "VAE (AutoencoderKL)")
    return _place(vae, device, dtype)


def latent_scale(vae: AutoencoderKL) -> float:
    return float(getattr(vae.config, "scaling_factor", None) or DEFAULT_LATENT_SCALE)


def whisper_config(models_dir: Path) -> WhisperConfig:
    cfg = {k: v for k, v in _config(models_dir, WHISPER_CONFIG).items() if not k.startswith("_")}
    try:
        return WhisperConfig(**cfg)
    except (TypeError, ValueError) as exc:
        raise unusable(
            weights_path(models_dir, WHISPER_CONFIG), models_dir, f"not a valid whisper config ({exc})"
        ) from exc


def encoder_state_dict(sd: StateDict) -> tuple[StateDict, list[str]]:
    """The encoder's tensors from a WhisperForConditionalGeneration ('model.' prefix) or WhisperModel file,
    and the keys that belong to neither the encoder nor the (unused) decoder."""
    prefix = "model." if any(k.startswith("model.encoder.") for k in sd) else ""
    enc = {k[len(prefix) + len("encoder.") :]: v for k, v in sd.items() if k.startswith(prefix + "encoder.")}
    others = [k for k in sd if not k.startswith((prefix + "encoder.", prefix + "decoder.", "proj_out."))]
    return enc, others


def load_whisper_encoder(models_dir: Path, device: torch.device, dtype: torch.dtype) -> WhisperEncoder:
    config = whisper_config(models_dir)
    cfg_path = weights_path(models_dir, WHISPER_CONFIG)
    encoder = _build(WhisperEncoder, {"config": config}, cfg_path, models_dir, "whisper")
    path = weights_path(models_dir, WHISPER_WEIGHTS)
    enc, others = encoder_state_dict(read_state_dict(path, models_dir))
    if others:
        raise unusable(path, models_dir, f"not a whisper checkpoint: {len(others)} unknown key(s) such as {others[0]}")
    if not enc:
        raise unusable(path, models_dir, "has no whisper encoder weights (no 'model.encoder.*' keys)")
    load_strict(encoder, enc, path, models_dir, "whisper encoder")
    return _place(encoder, device, dtype)


def load_feature_extractor(models_dir: Path) -> WhisperFeatureExtractor:
    path = weights_path(models_dir, WHISPER_PREPROCESSOR)
    try:
        return WhisperFeatureExtractor.from_pretrained(str(path.parent), local_files_only=True)
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise unusable(path, models_dir, f"not a whisper feature-extractor config ({exc})") from exc


def _backbone_allow_missing(key: str) -> bool:
    # torchvision's 2017 file predates BatchNorm's num_batches_tracked buffer; the module keeps its own.
    return key.endswith("num_batches_tracked")


def load_bisenet(models_dir: Path, device: torch.device) -> BiSeNet:
    """BiSeNet in float32 (never half: parsing is cheap and fp16 BatchNorm on CPU is not)."""
    net = BiSeNet()  # small (13 M params): a real init, so the backbone's buffers exist before the merge
    res_path = weights_path(models_dir, RESNET_WEIGHTS)
    backbone = {k: v for k, v in read_state_dict(res_path, models_dir).items() if "fc" not in k}
    problem = mismatch(net.cp.resnet, backbone, allow_missing=_backbone_allow_missing)
    if problem:
        raise unusable(res_path, models_dir, f"does not match the ResNet-18 backbone: {problem}")
    net.cp.resnet.load_state_dict({**net.cp.resnet.state_dict(), **backbone}, strict=True)
    path = weights_path(models_dir, BISENET_WEIGHTS)
    load_strict(net, read_state_dict(path, models_dir), path, models_dir, "face-parsing BiSeNet")
    placed: BiSeNet = net.to(device=device, dtype=torch.float32).eval().requires_grad_(False)
    return placed


def check_compatible(models_dir: Path) -> None:
    """The UNet attends over whisper features: their widths must agree (cheap, configs only)."""
    d_model = int(whisper_config(models_dir).d_model)
    cross = _config(models_dir, UNET_CONFIG).get("cross_attention_dim")
    if cross != d_model:
        raise unusable(
            weights_path(models_dir, UNET_CONFIG),
            models_dir,
            f"cross_attention_dim {cross} does not match whisper d_model {d_model}",
        )
    in_ch = _config(models_dir, UNET_CONFIG).get("in_channels")
    lat = _config(models_dir, VAE_CONFIG).get("latent_channels", 4)
    if in_ch != 2 * lat:
        raise unusable(
            weights_path(models_dir, UNET_CONFIG),
            models_dir,
            f"in_channels {in_ch} is not twice the VAE's latent_channels {lat}",
        )
