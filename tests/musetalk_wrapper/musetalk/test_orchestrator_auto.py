"""`--avatar auto` through the orchestrator: musetalk when its env and weights are healthy, else puppet, recorded."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from presgen_training.avatar.chain import AvatarSettings, Clip, make_avatar
from presgen_training.ffmpeg import probe

pytestmark = [pytest.mark.musetalk_env, pytest.mark.puppet_env, pytest.mark.slow]


def test_auto_prefers_a_healthy_musetalk(
    fetched: dict[str, Any],
    cut_audio: Callable[[float, float], Path],
    media_dir: Path,
    musetalk_python: Path,
    tmp_path: Path,
) -> None:
    """On the folder ``presgen weights fetch`` filled (tests/conftest: the tiny models in the hub's layout)."""
    audio = cut_audio(2.0, 2.0)
    outcome = make_avatar(
        media_dir / "sun.mp4",
        False,
        [Clip(0, audio, tmp_path / "presenter.mp4", probe(audio).duration_s)],
        AvatarSettings(choice="auto", models_dir=fetched["models"]),
    )
    assert [(a.engine, a.outcome) for a in outcome.attempts] == [("musetalk", "ok")], outcome.attempts
    assert outcome.engine == "musetalk" and outcome.face_box is not None


def test_auto_skips_musetalk_with_broken_weights(
    tiny_models: Path,
    link_models: Callable[..., Path],
    cut_audio: Callable[[float, float], Path],
    media_dir: Path,
    musetalk_python: Path,
    puppet_python: Path,
    tmp_path: Path,
) -> None:
    broken = link_models(tiny_models, tmp_path / "models", {"musetalkV15/unet.pth": b"<html>404</html>"})
    audio = cut_audio(2.0, 2.0)
    outcome = make_avatar(
        media_dir / "sun.mp4",
        False,
        [Clip(0, audio, tmp_path / "presenter.mp4", probe(audio).duration_s)],
        AvatarSettings(choice="auto", models_dir=broken),
    )
    first, second = outcome.attempts
    assert (first.engine, first.outcome) == ("musetalk", "skipped") and "unet.pth" in (first.reason or "")
    assert (second.engine, second.outcome) == ("puppet", "ok") and outcome.engine == "puppet"
