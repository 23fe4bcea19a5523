"""gtts's own path (MP3 from Google decoded to PCM, word times estimated), with the server's answer played by a
real MP3 so the test does not depend on the network."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from gtts import gTTS

from presgen_training.ffmpeg import run_ffmpeg
from presgen_training.narration import NarrationConfig, engine_status, gtts_voice, synthesize
from presgen_training.narration.piper_voice import PiperEngineVoice
from presgen_training.narration.wav_io import read_wav, write_wav
from presgen_training.timeline import Script


@pytest.fixture(scope="module")
def speech_mp3(piper_voice: PiperEngineVoice, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """Real speech as Google would send it: MP3, 24 kHz mono."""
    wav = tmp_path_factory.mktemp("mp3") / "speech.wav"
    write_wav(wav, piper_voice.speak("Pretend this came from Google.").samples, piper_voice.sample_rate)
    return run_ffmpeg(
        ["-i", f"file:{wav}", "-ac", "1", "-ar", "24000", "-c:a", "libmp3lame", "-f", "mp3", "pipe:1"],
        "encoding a test MP3",
    )


def serve(monkeypatch: pytest.MonkeyPatch, payload: bytes) -> list[tuple[str, str]]:
    requests: list[tuple[str, str]] = []

    def write_to_fp(self: gTTS, fp: io.BytesIO) -> None:
        requests.append((self.lang, self.tld))
        fp.write(payload)

    monkeypatch.setattr(gTTS, "write_to_fp", write_to_fp)
    return requests


def test_gtts_speech_is_decoded_and_timed(
    monkeypatch: pytest.MonkeyPatch, speech_mp3: bytes, tmp_path: Path, short_script: Callable[..., Script]
) -> None:
    requests = serve(monkeypatch, speech_mp3)
    script = short_script("Pretend this came from Google.", "Twice.")
    narration = synthesize(script, NarrationConfig(engine="gtts", voice="en-gb"), tmp_path)
    assert requests == [("en", "co.uk"), ("en", "co.uk")]
    assert (narration.engine, narration.voice, narration.fallback_reason) == ("gtts", "en-gb", None)
    assert narration.sample_rate == 48000 and narration.timing_source == "estimated"
    samples, rate = read_wav(narration.wav_path)
    assert rate == 48000 and len(samples) == round(narration.duration_s * rate)
    first = narration.sections[0]
    assert 1.0 < first.end_s - first.start_s < 3.5
    assert [w.text for w in first.words] == script.sections[0].narration.split()
    assert first.start_s <= first.words[0].start_s < first.words[-1].end_s <= first.end_s


def test_garbage_from_google_falls_back_when_allowed(
    monkeypatch: pytest.MonkeyPatch, piper_voice: PiperEngineVoice, tmp_path: Path, short_script: Callable[..., Script]
) -> None:
    serve(monkeypatch, b"<html>captcha</html>")
    narration = synthesize(short_script("Hello."), NarrationConfig(engine="gtts", allow_fallback=True), tmp_path)
    assert narration.engine == "piper"
    assert narration.fallback_reason is not None
    assert narration.fallback_reason.startswith("gtts: ffmpeg failed while decoding gTTS audio")


def test_rate_changes_the_tempo_not_the_words(
    monkeypatch: pytest.MonkeyPatch, speech_mp3: bytes, tmp_path: Path, short_script: Callable[..., Script]
) -> None:
    serve(monkeypatch, speech_mp3)
    script = short_script("Pretend this came from Google.")
    normal = synthesize(script, NarrationConfig(engine="gtts"), tmp_path / "normal")
    faster = synthesize(script, NarrationConfig(engine="gtts", rate=1.5), tmp_path / "faster")
    ratio = (normal.sections[0].end_s - normal.sections[0].start_s) / (
        faster.sections[0].end_s - faster.sections[0].start_s
    )
    assert ratio == pytest.approx(1.5, rel=0.05)


def test_doctor_network_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gtts_voice, "PROBE_HOST", ("unreachable.invalid", 443))
    reason = engine_status(check_network=True)["gtts"]
    assert reason is not None and reason.startswith("cannot reach unreachable.invalid")
    assert engine_status()["gtts"] is None, "without the probe gtts counts as installed"
