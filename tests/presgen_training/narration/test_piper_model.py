"""The prepared piper model and the sentence cache: an edited sentence is the only one the model speaks again, and
what the cache serves is exactly what the model says."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from presgen_training.config import cache_dir
from presgen_training.narration import NarrationConfig, piper_model, synthesize
from presgen_training.narration.piper_model import MODEL_AREA, MODEL_SUFFIX, SENTENCE_SUFFIX
from presgen_training.narration.piper_voice import PiperEngineVoice, file_digest
from presgen_training.timeline import Script


def sentences(cache: Path) -> set[Path]:
    return set(cache.rglob(f"*{SENTENCE_SUFFIX}"))


def test_an_edited_sentence_is_the_only_one_spoken_again(
    piper_voice: PiperEngineVoice, tmp_path: Path, short_script: Callable[..., Script]
) -> None:
    cache = tmp_path / "cache"
    config = NarrationConfig(cache_dir=cache)
    synthesize(short_script("The first sentence. The second sentence. The third one."), config, tmp_path / "a")
    first = sentences(cache)
    assert len(first) == 3  # piper speaks a sentence per model run

    synthesize(short_script("The first sentence. The second sentence. A new third one."), config, tmp_path / "b")
    assert len(sentences(cache) - first) == 1


def test_the_cache_serves_exactly_what_the_model_says(
    piper_voice: PiperEngineVoice, tmp_path: Path, short_script: Callable[..., Script]
) -> None:
    script = short_script("Cached or spoken, the samples are the same. Every one of them.")
    uncached = synthesize(script, NarrationConfig(), tmp_path / "plain")
    config = NarrationConfig(cache_dir=tmp_path / "cache")
    synthesize(script, config, tmp_path / "fill")
    for clip in (tmp_path / "cache").rglob("*.npz"):
        if not clip.name.endswith(SENTENCE_SUFFIX):
            clip.unlink()  # the section clip goes: the section is assembled again from the cached sentences
    served = synthesize(script, config, tmp_path / "served")
    assert served.wav_path.read_bytes() == uncached.wav_path.read_bytes()
    assert served.phonemes == uncached.phonemes and served.words == uncached.words


def test_noisy_synthesis_is_not_cached(piper_voice: PiperEngineVoice, tmp_path: Path) -> None:
    noisy = PiperEngineVoice("joe", piper_voice.model, piper_voice.config_path, False, cache_dir=tmp_path / "cache")
    assert len(noisy.speak("Sampled noise is never reused.").samples) > 0
    assert not sentences(tmp_path / "cache")


def test_the_prepared_model_is_made_once_and_reused(
    piper_voice: PiperEngineVoice, monkeypatch: pytest.MonkeyPatch
) -> None:
    (prepared,) = (cache_dir() / MODEL_AREA).rglob(f"*{MODEL_SUFFIX}")  # made when the session's voice loaded
    made = prepared.stat().st_mtime_ns

    def no_preparation(model: Path, final: Path) -> Path | None:
        raise AssertionError("the prepared model in the cache should have been used")

    monkeypatch.setattr(piper_model, "_prepare", no_preparation)
    piper_model.load_voice_model.cache_clear()
    model, config = piper_voice.model, piper_voice.config_path
    voice, _ = piper_model.load_voice_model(model, config, file_digest(model))
    assert [o.name for o in voice.session.get_outputs()][1:], "the prepared model outputs phoneme durations"
    assert prepared.stat().st_mtime_ns >= made


def test_a_cache_that_cannot_be_written_still_gives_alignments(
    piper_voice: PiperEngineVoice, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("PRESGEN_CACHE_DIR", str(blocker / "cache"))  # every mkdir below it fails
    piper_model.load_voice_model.cache_clear()
    try:
        voice = PiperEngineVoice("joe", piper_voice.model, piper_voice.config_path, True, cache_dir=blocker / "n")
        clip = voice.speak("Still aligned.")
    finally:
        piper_model.load_voice_model.cache_clear()
    assert clip.alignments and sum(count for _, count in clip.alignments) == len(clip.samples)
