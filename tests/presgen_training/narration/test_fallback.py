"""When the requested engine cannot speak, the narration still comes out, and says why another engine spoke."""
from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

from presgen_training.errors import NarrationError
from presgen_training.narration import NarrationConfig, espeak_voice, gtts_voice, piper_voice, synthesize
from presgen_training.narration.piper_voice import PiperEngineVoice
from presgen_training.narration.voice import EngineUnavailable
from presgen_training.timeline import Script


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every HTTP request fails to connect, whether or not this machine has a network."""
    def refuse(*args: object, **kwargs: object) -> None:
        raise requests.exceptions.ConnectionError("network is unreachable (test)")

    monkeypatch.setattr(requests.Session, "send", refuse)


def test_gtts_offline_falls_back_to_piper_with_a_reason(offline: None, piper_voice: PiperEngineVoice,
                                                        tmp_path: Path, short_script: Callable[..., Script]) -> None:
    narration = synthesize(short_script("Hello from the offline world."), NarrationConfig(engine="gtts"), tmp_path)
    assert (narration.engine, narration.voice, narration.timing_source) == ("piper", "joe", "alignment")
    assert narration.fallback_reason is not None
    assert narration.fallback_reason.startswith("gtts: Google Translate text-to-speech failed: Failed to connect")
    assert narration.fallback_reason.endswith("used piper instead")
    assert narration.wav_path.is_file() and narration.words


def test_gtts_voice_check_happens_before_any_network(offline: None, tmp_path: Path,
                                                     short_script: Callable[..., Script]) -> None:
    with pytest.raises(NarrationError, match=r"unknown gtts voice 'klingon'; available: .*en"):
        synthesize(short_script("Hello."), NarrationConfig(engine="gtts", voice="klingon"), tmp_path)
    assert gtts_voice.knows_voice("en-GB") and gtts_voice.knows_voice("de")


def test_gtts_accent_voice_falls_back_to_pipers_default(offline: None, piper_voice: PiperEngineVoice,
                                                        tmp_path: Path, short_script: Callable[..., Script]) -> None:
    narration = synthesize(short_script("Cheerio."), NarrationConfig(engine="gtts", voice="en-gb"), tmp_path)
    assert narration.engine == "piper" and narration.voice == "joe"


def test_missing_espeak_falls_back_to_piper(monkeypatch: pytest.MonkeyPatch, piper_voice: PiperEngineVoice,
                                            tmp_path: Path, short_script: Callable[..., Script]) -> None:
    monkeypatch.setattr(espeak_voice, "executable", lambda: None)
    narration = synthesize(short_script("Robots rest today."), NarrationConfig(engine="espeak-ng"), tmp_path)
    assert narration.engine == "piper"
    assert narration.fallback_reason == ("espeak-ng: the espeak-ng program is not on PATH; install it with: "
                                         "sudo apt-get install espeak-ng; used piper instead")


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not on PATH (apt-get install espeak-ng)")
def test_piper_failure_falls_back_to_espeak(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                            short_script: Callable[..., Script]) -> None:
    def broken(self: PiperEngineVoice, text: str) -> None:
        raise EngineUnavailable("piper failed with voice en_US-joe-medium.onnx: InvalidProtobuf: (test)")

    monkeypatch.setattr(PiperEngineVoice, "speak", broken)
    narration = synthesize(short_script("Plan B."), NarrationConfig(), tmp_path)
    assert (narration.engine, narration.voice, narration.timing_source) == ("espeak-ng", "en-us", "estimated")
    assert narration.fallback_reason is not None and narration.fallback_reason.startswith("piper: piper failed")


def test_no_engine_at_all_is_one_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                             short_script: Callable[..., Script]) -> None:
    monkeypatch.setattr(piper_voice, "unavailable_reason", lambda: "python package 'piper' is missing; run: ...")
    monkeypatch.setattr(espeak_voice, "executable", lambda: None)
    with pytest.raises(NarrationError) as info:
        synthesize(short_script("Anyone?"), NarrationConfig(), tmp_path)
    message = str(info.value)
    assert message.startswith("no voice engine could speak the script: piper: python package 'piper' is missing")
    assert "espeak-ng: the espeak-ng program is not on PATH" in message and "\n" not in message
    assert not (tmp_path / "narration.wav").exists()
