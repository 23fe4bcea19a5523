"""Only the default (`auto`: piper, else espeak-ng) falls back, and says why; an engine or voice chosen by name that
cannot speak is an error naming the cause and the fix, unless the caller allows fallbacks."""

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

needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="espeak-ng is not on PATH (install: apt-get install espeak-ng)"
)


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every HTTP request fails to connect, whether or not this machine has a network."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise requests.exceptions.ConnectionError("network is unreachable (test)")

    monkeypatch.setattr(requests.Session, "send", refuse)


@pytest.fixture
def broken_piper(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: PiperEngineVoice, text: str) -> None:
        raise EngineUnavailable("piper failed with voice en_US-joe-medium.onnx: InvalidProtobuf: (test)")

    monkeypatch.setattr(PiperEngineVoice, "speak", broken)


def test_gtts_chosen_offline_is_an_error_naming_cause_and_fix(
    offline: None, tmp_path: Path, short_script: Callable[..., Script]
) -> None:
    with pytest.raises(NarrationError) as info:
        synthesize(short_script("Hallo aus der Offline-Welt."), NarrationConfig(engine="gtts", voice="de"), tmp_path)
    message = str(info.value)
    assert message.startswith("the chosen voice engine gtts cannot speak: Google Translate text-to-speech failed")
    assert "check the connection" in message and "--fallback" in message and "\n" not in message
    assert not (tmp_path / "narration.wav").exists()


def test_gtts_offline_falls_back_to_piper_when_allowed(
    offline: None, piper_voice: PiperEngineVoice, tmp_path: Path, short_script: Callable[..., Script]
) -> None:
    config = NarrationConfig(engine="gtts", allow_fallback=True)
    narration = synthesize(short_script("Hello from the offline world."), config, tmp_path)
    assert (narration.engine, narration.voice, narration.timing_source) == ("piper", "joe", "alignment")
    assert narration.fallback_reason is not None
    assert narration.fallback_reason.startswith("gtts: Google Translate text-to-speech failed: Failed to connect")
    assert narration.fallback_reason.endswith("used piper instead")


def test_gtts_voice_check_happens_before_any_network(
    offline: None, tmp_path: Path, short_script: Callable[..., Script]
) -> None:
    with pytest.raises(NarrationError, match=r"unknown gtts voice 'klingon'; available: .*en"):
        synthesize(short_script("Hello."), NarrationConfig(engine="gtts", voice="klingon"), tmp_path)
    assert gtts_voice.knows_voice("en-GB") and gtts_voice.knows_voice("de")


def test_chosen_espeak_that_is_missing_is_an_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, short_script: Callable[..., Script]
) -> None:
    monkeypatch.setattr(espeak_voice, "executable", lambda: None)
    with pytest.raises(NarrationError) as info:
        synthesize(short_script("Robots rest today."), NarrationConfig(engine="espeak-ng"), tmp_path)
    assert str(info.value) == (
        "the chosen voice engine espeak-ng cannot speak: the espeak-ng program is not on PATH; "
        "install it with: sudo apt-get install espeak-ng; or render with --fallback to accept "
        "another voice"
    )


def test_missing_espeak_falls_back_to_piper_when_allowed(
    monkeypatch: pytest.MonkeyPatch, piper_voice: PiperEngineVoice, tmp_path: Path, short_script: Callable[..., Script]
) -> None:
    monkeypatch.setattr(espeak_voice, "executable", lambda: None)
    config = NarrationConfig(engine="espeak-ng", allow_fallback=True)
    narration = synthesize(short_script("Robots rest today."), config, tmp_path)
    assert narration.engine == "piper"
    assert narration.fallback_reason == (
        "espeak-ng: the espeak-ng program is not on PATH; install it with: "
        "sudo apt-get install espeak-ng; used piper instead"
    )


@needs_espeak
def test_auto_falls_back_from_a_failing_piper_and_says_so(
    broken_piper: None, tmp_path: Path, short_script: Callable[..., Script]
) -> None:
    narration = synthesize(short_script("Plan B."), NarrationConfig(), tmp_path)
    assert (narration.engine, narration.voice, narration.timing_source) == ("espeak-ng", "en-us", "estimated")
    assert narration.fallback_reason is not None and narration.fallback_reason.startswith("piper: piper failed")
    assert narration.fallback_reason.endswith("used espeak-ng instead")


@needs_espeak
def test_the_scripts_voice_is_a_preference_the_default_may_fall_back_from(
    broken_piper: None, tmp_path: Path, short_script: Callable[..., Script]
) -> None:
    narration = synthesize(short_script("Plan B.", voice="joe"), NarrationConfig(), tmp_path)
    assert narration.engine == "espeak-ng" and narration.fallback_reason is not None


def test_a_failing_piper_chosen_by_name_is_an_error(
    broken_piper: None, tmp_path: Path, short_script: Callable[..., Script]
) -> None:
    for config in (NarrationConfig(engine="piper"), NarrationConfig(voice="joe")):
        with pytest.raises(
            NarrationError,
            match=r"^the chosen voice engine piper cannot speak: piper failed .*"
            r"InvalidProtobuf.*--fallback",
        ):
            synthesize(short_script("Plan B."), config, tmp_path)


def test_no_engine_at_all_is_one_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, short_script: Callable[..., Script]
) -> None:
    monkeypatch.setattr(piper_voice, "unavailable_reason", lambda: "python package 'piper' is missing; run: ...")
    monkeypatch.setattr(espeak_voice, "executable", lambda: None)
    with pytest.raises(NarrationError) as info:
        synthesize(short_script("Anyone?"), NarrationConfig(), tmp_path)
    message = str(info.value)
    assert message.startswith("no voice engine could speak the script: piper: python package 'piper' is missing")
    assert "espeak-ng: the espeak-ng program is not on PATH" in message and "\n" not in message
    assert not (tmp_path / "narration.wav").exists()
