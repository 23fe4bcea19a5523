"""Strict loading against the official checkpoint manifests (meta tensors: no 3.4 GB in memory), the tiny
folder through the engine's own loaders, and unreadable checkpoints reported as ENGINE_UNAVAILABLE."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from engine_asserts import expect_unusable, meta_sd

from musetalk_wrapper.engines.musetalk import models as mm
from musetalk_wrapper.engines.musetalk.checkpoints import (
    load_strict,
    mismatch,
    read_state_dict,
    rename_legacy_attention,
)

Manifest = Callable[[str], Any]


def test_strict_unet_full_size(manifest: Manifest, tiny_models: Path) -> None:
    from diffusers import UNet2DConditionModel

    cfg = {k: v for k, v in manifest("unet_config.json").items() if not k.startswith("_")}
    shapes = manifest("unet_state_dict.json")["state_dict"]
    assert len(shapes) == 686
    fake = tiny_models / "musetalkV15" / "unet.pth"
    unet = mm._build(UNet2DConditionModel, cfg, fake, tiny_models, "UNet2DConditionModel")
    load_strict(unet, meta_sd(shapes), fake, tiny_models, "MuseTalk UNet", materialized=False)
    assert sum(p.numel() for p in unet.parameters()) == 849_947_844
    # One missing key and one wrong shape are both reported, naming the file and the fix.
    broken = meta_sd(shapes)
    broken.pop("conv_in.bias")
    broken["conv_out.weight"] = torch.empty([4, 320, 1, 1], device="meta")
    with torch.device("meta"):
        fresh = UNet2DConditionModel(**cfg)
    expect_unusable(
        lambda: load_strict(fresh, broken, fake, tiny_models, "MuseTalk UNet", materialized=False),
        "conv_in.bias",
        "conv_out.weight [4, 320, 1, 1]",
        "unet.pth",
        "presgen weights fetch",
        "huggingface-cli download",
    )


def test_strict_vae_both_namings(manifest: Manifest, tiny_models: Path) -> None:
    man = manifest("vae_state_dict.json")
    cfg = {k: v for k, v in manifest("vae_config.json").items() if not k.startswith("_") and k != "scaling_factor"}
    fake = tiny_models / "sd-vae" / "config.json"
    for naming in ("state_dict", "on_disk_state_dict_legacy_names"):
        vae = mm.build_vae(cfg, fake, tiny_models)
        sd = rename_legacy_attention(meta_sd(man[naming]))
        load_strict(vae, sd, fake, tiny_models, "VAE", materialized=False)
    legacy = man["on_disk_state_dict_legacy_names"]
    assert any(".query." in k for k in legacy) and not any(".to_q." in k for k in legacy)
    assert sum(p.numel() for p in vae.parameters()) == 83_653_863
    assert mm.latent_scale(vae) == 0.18215


def test_strict_whisper_encoder_with_model_prefix(manifest: Manifest, tiny_models: Path) -> None:
    from transformers import WhisperConfig
    from transformers.models.whisper.modeling_whisper import WhisperEncoder

    man = manifest("whisper_tiny_encoder_state_dict.json")
    arch = {
        k: v
        for k, v in manifest("whisper_tiny_config.json")["architecture"].items()
        if k not in ("architectures", "torch_dtype")
    }
    on_disk = {"model." + k: v for k, v in {**man["encoder_state_dict"], **man["decoder_state_dict"]}.items()}
    on_disk["proj_out.weight"] = man["decoder_state_dict"]["decoder.embed_tokens.weight"]
    enc, others = mm.encoder_state_dict(meta_sd(on_disk))
    assert not others and len(enc) == 67
    with torch.device("meta"):
        encoder = WhisperEncoder(WhisperConfig(**arch))
    fake = tiny_models / "whisper" / "pytorch_model.bin"
    load_strict(encoder, enc, fake, tiny_models, "whisper encoder", materialized=False)
    assert sum(p.numel() for p in encoder.parameters()) == 8_208_384
    _, others = mm.encoder_state_dict(meta_sd({**on_disk, "lm_head.weight": [4, 4]}))
    assert others == ["lm_head.weight"]


def test_strict_bisenet_and_resnet18_backbone(manifest: Manifest, tiny_models: Path) -> None:
    from musetalk_wrapper.engines.musetalk.bisenet import BiSeNet

    shapes = manifest("bisenet_state_dict.json")["state_dict"]
    assert len(shapes) == 191
    with torch.device("meta"):
        net = BiSeNet()
    fake = tiny_models / "face-parse-bisent" / "79999_iter.pth"
    load_strict(net, meta_sd(shapes), fake, tiny_models, "face-parsing BiSeNet", materialized=False)
    assert sum(p.numel() for p in net.parameters()) == 13_300_416
    backbone = manifest("resnet18_backbone_state_dict.json")
    file_sd = meta_sd(backbone["state_dict_file_namespace"])
    filtered = {k: v for k, v in file_sd.items() if "fc" not in k}
    assert len(filtered) == 100
    assert mismatch(net.cp.resnet, filtered, allow_missing=mm._backbone_allow_missing) is None
    assert mismatch(net.cp.resnet, filtered) is not None  # the file lacks num_batches_tracked: allowed only so


def test_tiny_folder_loads_through_engine_loaders(tiny_models: Path) -> None:
    cpu = torch.device("cpu")
    mm.check_compatible(tiny_models)
    unet = mm.load_unet(tiny_models, cpu, torch.float32)
    vae = mm.load_vae(tiny_models, cpu, torch.float32)  # legacy attention names on disk
    encoder = mm.load_whisper_encoder(tiny_models, cpu, torch.float32)
    net = mm.load_bisenet(tiny_models, cpu)
    for module in (unet, vae, encoder, net):
        assert not any(t.is_meta for t in [*module.parameters(), *module.buffers()])
        assert not module.training
    raw = torch.load(tiny_models / "face-parse-bisent" / "79999_iter.pth", weights_only=True)
    assert torch.equal(net.state_dict()["conv_out.conv_out.weight"], raw["conv_out.conv_out.weight"])
    labels = net.parse(torch.zeros(2, 512, 512, 3, dtype=torch.uint8))
    assert labels.shape == (2, 512, 512) and labels.dtype == torch.uint8


def test_unreadable_checkpoints_are_engine_unavailable(tiny_models: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    unet = models / "musetalkV15" / "unet.pth"
    unet.parent.mkdir(parents=True, exist_ok=True)
    data = (tiny_models / "musetalkV15" / "unet.pth").read_bytes()
    unet.write_bytes(data[: len(data) // 2])
    expect_unusable(
        lambda: read_state_dict(unet, models),
        str(unet),
        "cannot be read as a checkpoint",
        "presgen weights fetch",
        "huggingface-cli download TMElyralab/MuseTalk",
    )
    unet.write_bytes(b"<!DOCTYPE html><html>Too many requests</html>")
    expect_unusable(lambda: read_state_dict(unet, models), "unet.pth")
    torch.save({"epoch": 3, "weights": [1, 2]}, unet)
    expect_unusable(lambda: read_state_dict(unet, models), "not a plain state_dict")
    vae_bin = models / "sd-vae" / "diffusion_pytorch_model.safetensors"
    vae_bin.parent.mkdir(parents=True, exist_ok=True)
    vae_bin.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{}")
    expect_unusable(
        lambda: read_state_dict(vae_bin, models),
        "sd-vae/diffusion_pytorch_model.safetensors",
        "presgen weights fetch",
        "stabilityai/sd-vae-ft-mse",
    )
