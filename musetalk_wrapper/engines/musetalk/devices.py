"""Device and dtype: CUDA in fp16 when available, else CPU in fp32 (fp16 convolutions on CPU are ~100x slower)."""
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
