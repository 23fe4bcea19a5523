"""Helpers the musetalk in_env tests share (imported from support/, which in_env/conftest.py puts on sys.path)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from musetalk_wrapper.contract import EngineError, ErrorCode


def meta_sd(shapes: dict[str, list[int]]) -> dict[str, torch.Tensor]:
    """A state dict of meta tensors (keys and shapes only: no 3.4 GB in memory)."""
    return {k: torch.empty(v, device="meta") for k, v in shapes.items()}


def expect_unusable(fn: Callable[[], object], *fragments: str) -> str:
    """``fn()`` raises ENGINE_UNAVAILABLE whose message holds every fragment; returns the message."""
    with pytest.raises(EngineError) as info:
        fn()
    err = info.value
    assert err.code is ErrorCode.ENGINE_UNAVAILABLE, err.code
    for frag in fragments:
        assert frag in err.message, f"{frag!r} not in {err.message!r}"
    return err.message
