"""Device and dtype: CUDA in fp16 when available, else CPU in fp32 (fp16 convolutions on CPU are ~100x slower).

On CPUs with native bf16 (AVX512-BF16 or AMX), generation (UNet + VAE decode) runs under bf16 autocast: measured
here, UNet 0.93 -> 0.50 s/frame and VAE decode 2.04 -> 1.08 s/frame. Face preparation stays fp32, so the avatar
cache is the same whatever precision later renders use.
"""

from __future__ import annotations

import torch

from musetalk_wrapper.contract import EngineError, ErrorCode


def pick_device(requested: str) -> tuple[torch.device, torch.dtype]:
    if requested not in ("auto", "cpu", "cuda"):
        raise EngineError(ErrorCode.BAD_INPUT, f"unknown device '{requested}'; use auto, cpu or cuda")
    if requested == "cpu":
        return torch.device("cpu"), torch.float32
    if torch.cuda.is_available():
        return torch.device("cuda"), torch.float16
    if requested == "cuda":
        raise EngineError(
            ErrorCode.ENGINE_UNAVAILABLE,
            f"--device cuda, but this torch ({torch.__version__}) sees no CUDA device; use --device cpu, or on a"
            " machine with an NVIDIA GPU run: presgen env create musetalk-cuda",
        )
    return torch.device("cpu"), torch.float32


PRECISIONS = ("auto", "fp32", "bf16", "fp16")


def cpu_has_native_bf16() -> bool:
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def generation_autocast(device: torch.device, dtype: torch.dtype, precision: str) -> torch.dtype | None:
    """The autocast dtype for UNet + VAE decode, or None to run them in the models' own dtype."""
    if precision not in PRECISIONS:
        raise EngineError(ErrorCode.BAD_INPUT, f"unknown precision '{precision}'; use one of {', '.join(PRECISIONS)}")
    if precision == "fp32":
        return None if dtype == torch.float32 else torch.float32
    if precision == "fp16":
        if device.type != "cuda":
            raise EngineError(ErrorCode.BAD_INPUT, "--precision fp16 needs CUDA (fp16 on a CPU is ~100x slower)")
        return None if dtype == torch.float16 else torch.float16
    if precision == "bf16":
        return torch.bfloat16
    if device.type == "cpu" and cpu_has_native_bf16():
        return torch.bfloat16
    return None


# Peak working memory per frame of a generation batch (UNet at 32x32 latents + VAE decode to 256x256): 170 MiB
# measured on the CPU in fp32 with the full-size networks (bench/musetalk.py --memory), taken 1.5x for the CUDA
# allocator and cuDNN workspaces; half of it in fp16.
GENERATION_BYTES_PER_FRAME_FP32 = 256 * 2**20
MAX_BATCH = 64
GPU_MEMORY_RESERVE = 0.2  # of the free memory left to the allocator's fragmentation and cuDNN workspaces


def batch_size_for(requested: int, device: torch.device, dtype: torch.dtype) -> int:
    """The generation batch: ``requested``, but no more than the free device memory holds (CUDA); 0 asks for the
    largest batch that fits."""
    if device.type != "cuda":
        return max(1, requested) if requested > 0 else 8
    free, _total = torch.cuda.mem_get_info(device)
    per_frame = GENERATION_BYTES_PER_FRAME_FP32 * (2 if dtype == torch.float32 else 1) // 2
    fits = max(1, min(MAX_BATCH, int(free * (1 - GPU_MEMORY_RESERVE)) // per_frame))
    return min(requested, fits) if requested > 0 else fits
