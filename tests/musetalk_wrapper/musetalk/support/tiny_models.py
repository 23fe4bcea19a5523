"""Write a tiny-configuration MuseTalk models folder (random weights) in the official layout and formats.

Run with the musetalk env's python: ``python tiny_models.py OUT_DIR MANIFESTS_DIR`` (or call ``write_all``)
(MANIFESTS_DIR is shared/musetalk, the official checkpoints' key/shape manifests).

- musetalkV15/: musetalk.json (a UNet2DConditionModel config with block_out_channels (32, 64) and
  cross_attention_dim 384) + unet.pth (a plain torch.save state_dict);
- sd-vae/: config.json (AutoencoderKL, 4 latent channels, 8x downsampling, 16-32 channels) +
  diffusion_pytorch_model.bin with the legacy attention names the 2022 hub file uses;
- whisper/: config.json (d_model 384, 4 encoder layers, so per-frame features are [50, 384]), pytorch_model.bin
  keyed like the hub's WhisperForConditionalGeneration ("model." prefix, tied proj_out) and
  preprocessor_config.json;
- face-parse-bisent/: 79999_iter.pth with every key/shape of the official BiSeNet manifest and
  resnet18-5c106cde.pth with torchvision's key layout in torch's legacy (pre-zip) format, no
  num_batches_tracked, like the 2017 file.

A random BiSeNet gives a random class map, so the classifier row of class 1 (skin) is made positive and the
others negative: skin then wins everywhere and the blend mask is the lower half of the face box, which the
engine tests can check pixel by pixel. Nothing here imports the engine.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

SEED = 1234
UNET_CONFIG = {
    "_class_name": "UNet2DConditionModel",
    "_diffusers_version": "0.6.0.dev0",
    "act_fn": "silu",
    "attention_head_dim": 8,
    "block_out_channels": [32, 64],
    "center_input_sample": False,
    "cross_attention_dim": 384,
    "down_block_types": ["CrossAttnDownBlock2D", "DownBlock2D"],
    "downsample_padding": 1,
    "flip_sin_to_cos": True,
    "freq_shift": 0,
    "in_channels": 8,
    "layers_per_block": 1,
    "mid_block_scale_factor": 1,
    "norm_eps": 1e-05,
    "norm_num_groups": 32,
    "out_channels": 4,
    "sample_size": 32,
    "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D"],
}
VAE_CONFIG = {
    "_class_name": "AutoencoderKL",
    "_diffusers_version": "0.4.2",
    "act_fn": "silu",
    "block_out_channels": [16, 16, 32, 32],
    "down_block_types": ["DownEncoderBlock2D"] * 4,
    "in_channels": 3,
    "latent_channels": 4,
    "layers_per_block": 1,
    "norm_num_groups": 8,
    "out_channels": 3,
    "sample_size": 256,
    "up_block_types": ["UpDecoderBlock2D"] * 4,
}
WHISPER_CONFIG = {
    "model_type": "whisper",
    "architectures": ["WhisperForConditionalGeneration"],
    "d_model": 384,
    "encoder_layers": 4,
    "encoder_attention_heads": 6,
    "encoder_ffn_dim": 384,
    "decoder_layers": 1,
    "decoder_attention_heads": 6,
    "decoder_ffn_dim": 384,
    "num_mel_bins": 80,
    "max_source_positions": 1500,
    "max_target_positions": 32,
    "vocab_size": 64,
    "pad_token_id": 1,
    "bos_token_id": 2,
    "eos_token_id": 2,
    "decoder_start_token_id": 3,
    "begin_suppress_tokens": None,
    "suppress_tokens": None,
}
LEGACY_VAE_NAMES = {"to_q": "query", "to_k": "key", "to_v": "value", "to_out.0": "proj_attn"}


def rand_like(key: str, shape: list[int], g: torch.Generator) -> torch.Tensor:
    if key.endswith("num_batches_tracked"):
        return torch.tensor(0, dtype=torch.int64)
    if key.endswith("running_var"):
        return torch.rand(shape, generator=g) + 0.5
    if key.endswith("running_mean"):
        return torch.zeros(shape)
    if key.endswith(".weight") and len(shape) == 1:  # BatchNorm scale (every conv here is 4-D)
        return torch.ones(shape) + 0.1 * torch.randn(shape, generator=g)
    return torch.randn(shape, generator=g) * 0.05


def write_unet(out: Path) -> None:
    from diffusers import UNet2DConditionModel

    folder = out / "musetalkV15"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "musetalk.json").write_text(json.dumps(UNET_CONFIG, indent=2))
    unet = UNet2DConditionModel(**{k: v for k, v in UNET_CONFIG.items() if not k.startswith("_")})
    torch.save(unet.state_dict(), folder / "unet.pth")


def write_vae(out: Path) -> None:
    from diffusers import AutoencoderKL

    folder = out / "sd-vae"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text(json.dumps(VAE_CONFIG, indent=2, sort_keys=True) + "\n")
    vae = AutoencoderKL(**{k: v for k, v in VAE_CONFIG.items() if not k.startswith("_")})
    legacy = {}
    for name, tensor in vae.state_dict().items():
        key = name
        for new, old in LEGACY_VAE_NAMES.items():
            if ".attentions." in key and f".{new}." in key:
                key = key.replace(f".{new}.", f".{old}.")
        legacy[key] = tensor
    torch.save(legacy, folder / "diffusion_pytorch_model.bin")


def write_whisper(out: Path) -> None:
    from transformers import WhisperConfig, WhisperFeatureExtractor, WhisperModel

    folder = out / "whisper"
    folder.mkdir(parents=True, exist_ok=True)
    cfg = {k: v for k, v in WHISPER_CONFIG.items() if k != "architectures"}
    model = WhisperModel(WhisperConfig(**cfg))
    sd = {"model." + k: v for k, v in model.state_dict().items()}
    sd["proj_out.weight"] = sd["model.decoder.embed_tokens.weight"]
    torch.save(sd, folder / "pytorch_model.bin")
    (folder / "config.json").write_text(json.dumps(WHISPER_CONFIG, indent=2))
    WhisperFeatureExtractor(feature_size=80).save_pretrained(str(folder))


def write_face_parsing(out: Path, manifests: Path, g: torch.Generator) -> None:
    folder = out / "face-parse-bisent"
    folder.mkdir(parents=True, exist_ok=True)
    shapes = json.loads((manifests / "bisenet_state_dict.json").read_text())["state_dict"]
    sd = {k: rand_like(k, v, g) for k, v in shapes.items()}
    head = sd["conv_out.conv_out.weight"].abs() + 0.01
    head[torch.arange(head.shape[0]) != 1] *= -1  # class 1 (skin) wins on the non-negative ReLU features
    sd["conv_out.conv_out.weight"] = head
    torch.save(sd, folder / "79999_iter.pth")
    backbone = json.loads((manifests / "resnet18_backbone_state_dict.json").read_text())
    file_shapes = backbone["state_dict_file_namespace"]
    # the 2017 torchvision file predates torch's zip format: write the legacy pickle format like it
    torch.save(
        {k: rand_like(k, v, g) for k, v in file_shapes.items()},
        folder / "resnet18-5c106cde.pth",
        _use_new_zipfile_serialization=False,
    )


def write_all(out: Path, manifests: Path) -> None:
    torch.manual_seed(SEED)
    g = torch.Generator().manual_seed(SEED)
    write_unet(out)
    write_vae(out)
    write_whisper(out)
    write_face_parsing(out, manifests, g)


def main() -> None:
    out = Path(sys.argv[1])
    write_all(out, Path(sys.argv[2]))
    for p in sorted(out.rglob("*")):
        if p.is_file():
            print(f"{p.stat().st_size:>12}  {p.relative_to(out)}")


if __name__ == "__main__":
    main()
