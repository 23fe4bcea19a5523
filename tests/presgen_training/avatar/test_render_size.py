"""The presenter is rendered at the size it is shown at: never smaller, never above the full size, never tiny."""

from __future__ import annotations

import pytest

from presgen_training.avatar.render_size import ENGINE_MAX_SIDE_PX, MIN_RENDER_SIDE_PX, engine_size, render_side


def test_full_size_is_capped_and_even() -> None:
    assert engine_size(1024, 1536) == (1024, 1536)
    assert engine_size(1023, 1535) == (1022, 1534)
    assert engine_size(3840, 2160) == (ENGINE_MAX_SIDE_PX, 1080)
    assert engine_size(1024, 1536, 768) == (512, 768)


@pytest.mark.parametrize(
    ("full", "scale", "side"),
    [
        ((1024, 1536), 0.5, 768),  # the side layout's panel at 720p: a quarter of the pixels
        ((1024, 1536), 0.4997, 768),  # rounded up to even: the clip is never smaller than shown
        ((1024, 1536), 1.25, 1536),  # a frame-filling close-up: full size, never enlarged
        ((1920, 1080), 0.2, MIN_RENDER_SIDE_PX),  # a small picture-in-picture keeps a face the mesh can find
        ((400, 300), 0.5, 400),  # a source smaller than the floor stays as it is
    ],
)
def test_render_side(full: tuple[int, int], scale: float, side: int) -> None:
    assert render_side(full, scale) == side
    assert side >= min(max(full), max(full) * scale)
