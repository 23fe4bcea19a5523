"""Device and precision choice: CUDA only when torch sees it; bf16 autocast where the CPU has it; fp16 needs CUDA."""

from __future__ import annotations

import pytest
import torch
from engine_asserts import expect_unusable

from musetalk_wrapper.contract import EngineError, ErrorCode
from musetalk_wrapper.engines.musetalk.devices import cpu_has_native_bf16, generation_autocast, pick_device
from musetalk_wrapper.engines.musetalk.generate import decode_faces


def test_cuda_request_without_cuda() -> None:
    assert pick_device("cpu") == (torch.device("cpu"), torch.float32)
    if not torch.cuda.is_available():
        assert pick_device("auto") == (torch.device("cpu"), torch.float32)
        expect_unusable(lambda: pick_device("cuda"), "musetalk-cuda")


def test_generation_precision() -> None:
    from diffusers import AutoencoderKL

    cpu = torch.device("cpu")
    assert generation_autocast(cpu, torch.float32, "fp32") is None
    assert generation_autocast(cpu, torch.float32, "bf16") == torch.bfloat16
    assert generation_autocast(cpu, torch.float32, "auto") == (torch.bfloat16 if cpu_has_native_bf16() else None)
    with pytest.raises(EngineError) as info:
        generation_autocast(cpu, torch.float32, "fp16")
    assert info.value.code is ErrorCode.BAD_INPUT and "CUDA" in info.value.message
    torch.manual_seed(0)
    vae = AutoencoderKL(
        block_out_channels=(32, 64),
        down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2,
        latent_channels=4,
        norm_num_groups=32,
    ).eval()
    z = torch.randn(2, 4, 16, 16)
    full = decode_faces(vae, z, 0.18215).astype(int)
    half = decode_faces(vae, z, 0.18215, torch.bfloat16).astype(int)
    assert full.shape == half.shape and full.dtype == half.dtype
    assert 0 < abs(full - half).mean() < 3, "bf16 decode should be close to fp32, and actually run in bf16"
