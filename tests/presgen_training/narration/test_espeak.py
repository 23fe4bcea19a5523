"""espeak-ng, the last resort: real synthesis with estimated word times (CI installs espeak-ng)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from presgen_training.errors import NarrationError
from presgen_training.narration import NarrationConfig, list_voices, synthesize
from presgen_training.narration.wav_io import read_wav
from presgen_training.timeline import Script

pytestmark = pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="espeak-ng is not on PATH (install: apt-get install espeak-ng)"
)


def test_espeak_narration_with_estimated_word_times(tmp_path: Path, short_script: Callable[..., Script]) -> None:
    script = short_script("The robot voice still works. It speaks every word.", "A second section follows.")
    config = NarrationConfig(engine="espeak-ng", pause_s=0.5)
    narration = synthesize(script, config, tmp_path)
    assert (narration.engine, narration.voice, narration.timing_source) == ("espeak-ng", "en-us", "estimated")
    assert narration.fallback_reason is None and narration.phonemes == []
    samples, rate = read_wav(narration.wav_path)
    assert rate == narration.sample_rate == 48000 and len(samples) == round(narration.duration_s * rate)
    speech = sum(s.end_s - s.start_s for s in narration.sections)
    silences = config.lead_in_s + 0.5 + config.tail_s  # each pause padded by less than a frame to whole frames
    assert 0 <= narration.duration_s - (speech + silences) < 2 / 25
    for timing in narration.sections:
        assert [w.text for w in timing.words] == timing.section.narration.split()
        previous = timing.start_s
        for word in timing.words:
            assert previous <= word.start_s < word.end_s <= timing.end_s
            previous = word.end_s
        # estimated words span the speech, not the silence espeak-ng leaves around it
        part = samples[round(timing.start_s * rate) : round(timing.end_s * rate)]
        assert abs(part[: round((timing.words[0].start_s - timing.start_s) * rate)]).max(initial=0) < 2000


def test_espeak_voices_and_unknown_voice(tmp_path: Path, short_script: Callable[..., Script]) -> None:
    voices = list_voices()["espeak-ng"]
    assert "en-us" in voices and "en-gb" in voices
    narration = synthesize(short_script("Good morning."), NarrationConfig(engine="espeak-ng", voice="en-GB"), tmp_path)
    assert narration.voice == "en-gb"
    with pytest.raises(NarrationError, match=r"unknown espeak-ng voice 'zz-top'; available: "):
        synthesize(short_script("Hello."), NarrationConfig(engine="espeak-ng", voice="zz-top"), tmp_path / "x")
