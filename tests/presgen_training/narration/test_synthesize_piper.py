"""Real piper synthesis: one WAV whose length, section times, word times and phoneme times agree with each other
and with the audio itself."""

from __future__ import annotations

import itertools
import wave
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from helpers import section_clips
from presgen_training.errors import NarrationError
from presgen_training.ffmpeg import OUTPUT_FPS
from presgen_training.narration import NarrationConfig, synthesize
from presgen_training.narration import piper_voice as piper_engine
from presgen_training.narration.piper_voice import PiperEngineVoice
from presgen_training.narration.wav_io import read_wav
from presgen_training.timeline import Narration, Script

SAMPLE_TOLERANCE_S = 1 / 22050  # one sample at piper's rate


def test_wav_is_16_bit_mono_at_48_khz(demo_narration: Narration) -> None:
    with wave.open(str(demo_narration.wav_path), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 48000)
        assert wav.getnframes() == round(demo_narration.duration_s * 48000)
    assert demo_narration.sample_rate == 48000
    assert demo_narration.wav_path.name == "narration.wav"
    assert sorted(p.name for p in demo_narration.wav_path.parent.iterdir()) == ["driver.wav", "narration.wav"], (
        "no temp files left behind"
    )


def test_driver_is_the_narration_before_each_sections_gain(demo_narration: Narration) -> None:
    """The presenter's driver audio lines up with the narration sample for sample: the same silences, the same
    speech, only at the voice's own level (the section's loudness gain and limiter not applied)."""
    assert demo_narration.driver_path is not None
    narration, rate = read_wav(demo_narration.wav_path)
    driver, driver_rate = read_wav(demo_narration.driver_path)
    assert (driver_rate, len(driver)) == (rate, len(narration))
    for timing in demo_narration.sections:
        assert timing.segment_start_s is not None and timing.segment_end_s is not None
        lead = slice(round(timing.segment_start_s * rate), round(timing.start_s * rate))
        after = slice(round(timing.end_s * rate), round(timing.segment_end_s * rate))
        assert not driver[lead].any() and not driver[after].any(), "the pauses are silent in the driver too"
        a, b = round(timing.start_s * rate), round(timing.end_s * rate)
        n, d = narration[a:b].astype(np.float64), driver[a:b].astype(np.float64)
        assert not np.array_equal(n, d), "the driver must not be the normalized narration"
        # the limiter bends the loudest peaks, so not 1; other speech (or a shifted copy) would be near 0
        assert np.corrcoef(n, d)[0, 1] > 0.8, f"section {timing.index + 1}: the driver is other speech"


def test_duration_is_sections_plus_pauses(demo_narration: Narration, demo_config: NarrationConfig) -> None:
    """Lead-in, speech, pauses and tail as configured; each pause (and the tail) padded by less than one video
    frame so every section's segment is a whole number of frames."""
    sections = demo_narration.sections
    frame_s = 1 / OUTPUT_FPS
    assert sections[0].start_s == pytest.approx(demo_config.lead_in_s, abs=SAMPLE_TOLERANCE_S)
    tail = demo_narration.duration_s - sections[-1].end_s
    assert demo_config.tail_s - SAMPLE_TOLERANCE_S <= tail < demo_config.tail_s + frame_s
    for before, after in itertools.pairwise(sections):
        assert demo_config.pause_s - SAMPLE_TOLERANCE_S <= after.start_s - before.end_s < demo_config.pause_s + frame_s
    assert 45 < demo_narration.duration_s < 70, "the demo script is a one-minute video"


def test_segments_tile_the_narration_in_whole_frames(demo_narration: Narration) -> None:
    sections = demo_narration.sections
    assert sections[0].segment_start_s == 0.0
    assert sections[-1].segment_end_s == pytest.approx(demo_narration.duration_s, abs=1e-9)
    for before, after in itertools.pairwise(sections):
        assert before.segment_end_s == after.segment_start_s
    for timing in sections:
        assert timing.segment_start_s <= timing.start_s < timing.end_s <= timing.segment_end_s
        frames = (timing.segment_end_s - timing.segment_start_s) * OUTPUT_FPS
        assert frames == pytest.approx(round(frames), abs=1e-6) and round(frames) > 0


def test_sections_are_in_order_and_inside_the_audio(demo_narration: Narration, demo_script: Script) -> None:
    assert [s.section for s in demo_narration.sections] == list(demo_script.sections)
    assert [s.index for s in demo_narration.sections] == list(range(len(demo_script.sections)))
    previous_end = 0.0
    for timing in demo_narration.sections:
        assert previous_end <= timing.start_s < timing.end_s <= demo_narration.duration_s
        previous_end = timing.end_s


def test_pauses_are_silent_and_sections_are_speech(demo_narration: Narration) -> None:
    samples, rate = read_wav(demo_narration.wav_path)
    assert np.abs(samples).max() <= 32767 * 0.9, "headroom below full scale"
    edges = [0.0] + [t for s in demo_narration.sections for t in (s.start_s, s.end_s)] + [demo_narration.duration_s]
    for gap_start, gap_end in zip(edges[::2], edges[1::2]):
        assert not samples[round(gap_start * rate) : round(gap_end * rate)].any(), "pauses are digital silence"
    for timing in demo_narration.sections:
        part = samples[round(timing.start_s * rate) : round(timing.end_s * rate)].astype(np.float64)
        assert np.sqrt(np.mean(part**2)) > 1000, f"section {timing.index} is speech"


def test_words_are_the_scripts_words_in_order(demo_narration: Narration) -> None:
    for timing in demo_narration.sections:
        assert [w.text for w in timing.words] == timing.section.narration.split()
    assert demo_narration.words == [w for s in demo_narration.sections for w in s.words]
    assert demo_narration.timing_source == "alignment"


def test_word_times_are_monotonic_and_inside_their_section(demo_narration: Narration) -> None:
    for timing in demo_narration.sections:
        previous_end = timing.start_s
        for word in timing.words:
            assert previous_end <= word.start_s <= word.end_s <= timing.end_s, word
            previous_end = word.end_s
        # speech fills the section: piper adds well under 0.3 s of silence around a section
        assert timing.words[0].start_s - timing.start_s < 0.3
        assert timing.end_s - timing.words[-1].end_s < 0.3


def test_word_times_follow_the_audio(demo_narration: Narration) -> None:
    """Words sit on loud audio; the pauses a comma or full stop makes fall between words."""
    samples, rate = read_wav(demo_narration.wav_path)
    level = samples.astype(np.float64) ** 2

    def rms(start_s: float, end_s: float) -> float:
        part = level[round(start_s * rate) : round(end_s * rate)]
        return float(np.sqrt(part.mean())) if len(part) else 0.0

    words = demo_narration.words
    long_words = [w for w in words if sum(c.isalpha() for c in w.text) >= 5]
    sentence_gaps = [
        (a.end_s, b.start_s)
        for a, b in itertools.pairwise(words)
        if a.text.endswith((".", ",")) and b.start_s - a.end_s > 0.1
    ]
    assert len(sentence_gaps) >= 10, "punctuation makes pauses between words"
    quietest_word = min(rms(w.start_s, w.end_s) for w in long_words)
    loudest_gap = max(rms(a, b) for a, b in sentence_gaps)
    assert quietest_word > 2 * loudest_gap


def test_phonemes_are_absolute_and_consistent_with_the_audio(demo_narration: Narration) -> None:
    phonemes = demo_narration.phonemes
    assert len(phonemes) > 500
    assert not {" ", "^", "$"} & {p.phoneme for p in phonemes}
    previous_end = 0.0
    for phoneme in phonemes:
        assert previous_end - 1e-9 <= phoneme.start_s <= phoneme.end_s <= demo_narration.duration_s
        previous_end = phoneme.end_s
    for timing in demo_narration.sections:
        inside = [p for p in phonemes if timing.start_s <= p.start_s < timing.end_s]
        assert inside and inside[-1].end_s <= timing.end_s + SAMPLE_TOLERANCE_S
        words = timing.words
        assert inside[0].start_s <= words[0].start_s + SAMPLE_TOLERANCE_S
        assert inside[-1].end_s >= words[-1].end_s - SAMPLE_TOLERANCE_S


def test_alignment_sample_counts_add_up(piper_voice: PiperEngineVoice) -> None:
    clip = piper_voice.speak("It costs $5 today. Call 555-0100, e.g. at 9am!")
    assert clip.alignments
    assert sum(count for _, count in clip.alignments) == len(clip.samples)
    assert clip.samples.dtype == np.int16 and clip.sample_rate == 22050


def test_deterministic_synthesis_is_byte_identical(
    piper_voice: PiperEngineVoice, tmp_path: Path, short_script: Callable[..., Script]
) -> None:
    script = short_script("Same words, same sound.")
    first = synthesize(script, NarrationConfig(), tmp_path / "a")
    second = synthesize(script, NarrationConfig(), tmp_path / "b")
    assert first.wav_path.read_bytes() == second.wav_path.read_bytes()


def test_cache_serves_repeat_renders_without_synthesis(
    piper_voice: PiperEngineVoice, tmp_path: Path, short_script: Callable[..., Script], monkeypatch: pytest.MonkeyPatch
) -> None:
    script = short_script("Cached words.", "More cached words.")
    config = NarrationConfig(cache_dir=tmp_path / "cache")
    first = synthesize(script, config, tmp_path / "a")
    assert len(section_clips(tmp_path / "cache")) == 2

    def no_synthesis(self: PiperEngineVoice, text: str) -> None:
        raise AssertionError("the cache should have served this")

    monkeypatch.setattr(PiperEngineVoice, "speak", no_synthesis)
    second = synthesize(script, config, tmp_path / "b")
    assert second.wav_path.read_bytes() == first.wav_path.read_bytes()
    assert second.words == first.words and second.phonemes == first.phonemes
    # another pause reuses the cached sections too
    third = synthesize(script, NarrationConfig(cache_dir=tmp_path / "cache", pause_s=0.2), tmp_path / "c")
    assert third.duration_s == pytest.approx(first.duration_s - 0.6, abs=2 * SAMPLE_TOLERANCE_S)


def test_unreadable_cache_file_is_resynthesized(
    piper_voice: PiperEngineVoice, tmp_path: Path, short_script: Callable[..., Script]
) -> None:
    script = short_script("A cache file gets damaged.")
    config = NarrationConfig(cache_dir=tmp_path / "cache")
    first = synthesize(script, config, tmp_path / "a")
    (cached,) = section_clips(tmp_path / "cache")
    cached.write_bytes(b"not a zip file")
    second = synthesize(script, config, tmp_path / "b")
    assert second.wav_path.read_bytes() == first.wav_path.read_bytes()


def test_progress_counts_sections(
    piper_voice: PiperEngineVoice, tmp_path: Path, short_script: Callable[..., Script]
) -> None:
    calls: list[tuple[int, int]] = []
    synthesize(
        short_script("One.", "Two.", "Three."),
        NarrationConfig(),
        tmp_path,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert calls == [(0, 3), (1, 3), (2, 3), (3, 3)]


def test_unknown_voice_lists_the_available_ones(tmp_path: Path, short_script: Callable[..., Script]) -> None:
    with pytest.raises(NarrationError, match=r"unknown piper voice 'bob'; available: joe") as info:
        synthesize(short_script("Hello."), NarrationConfig(voice="bob"), tmp_path)
    assert "\n" not in str(info.value)
    assert not (tmp_path / "narration.wav").exists()


def test_unknown_voice_in_the_script_names_the_script(tmp_path: Path, short_script: Callable[..., Script]) -> None:
    script = short_script("Hello.", voice="jeo", path=Path("talk.yaml"))
    with pytest.raises(NarrationError, match=r"unknown piper voice 'jeo' \(the 'voice' of talk.yaml\)"):
        synthesize(script, NarrationConfig(), tmp_path)


def test_script_voice_of_another_engine_is_not_an_error(
    piper_voice: PiperEngineVoice, tmp_path: Path, short_script: Callable[..., Script]
) -> None:
    narration = synthesize(short_script("Hello.", voice="en-gb"), NarrationConfig(engine="piper"), tmp_path)
    assert (narration.engine, narration.voice, narration.fallback_reason) == ("piper", "joe", None)


def test_voice_given_as_a_model_path(
    piper_voice: PiperEngineVoice, tmp_path: Path, short_script: Callable[..., Script]
) -> None:
    model = piper_voice.model
    narration = synthesize(short_script("Hello there."), NarrationConfig(voice=str(model)), tmp_path)
    assert narration.voice == str(model) and narration.engine == "piper"
    lonely = tmp_path / "lonely.onnx"
    lonely.write_bytes(b"")
    with pytest.raises(NarrationError, match=r"piper voice config not found: .*lonely\.onnx\.json"):
        synthesize(short_script("Hello."), NarrationConfig(voice=str(lonely)), tmp_path / "x")
    with pytest.raises(NarrationError, match="piper voice model not found"):
        synthesize(short_script("Hello."), NarrationConfig(voice=str(tmp_path / "missing.onnx")), tmp_path / "x")


def test_bad_settings_are_clear_errors() -> None:
    with pytest.raises(NarrationError, match="pause_s must be between 0 and"):
        NarrationConfig(pause_s=-1)
    with pytest.raises(NarrationError, match=r"speaking rate must be from 0\.5"):
        NarrationConfig(rate=3)
    with pytest.raises(
        NarrationError, match="unknown voice engine 'festival'; choose one of auto, piper, gtts, espeak-ng"
    ):
        synthesize(Script("t", ()), NarrationConfig(engine="festival"), Path("unused"))


def test_engine_listing_for_doctor() -> None:
    from presgen_training.narration import engine_status, list_voices

    voices = list_voices()
    assert set(voices) == {"piper", "gtts", "espeak-ng"}
    assert voices["piper"] == ["joe"] and "en" in voices["gtts"]
    status = engine_status()
    assert status["piper"] is None
    if piper_engine.unavailable_reason() is None and status["espeak-ng"] is not None:
        assert "apt-get install espeak-ng" in status["espeak-ng"]
