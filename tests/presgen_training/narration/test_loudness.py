"""Loudness a listener trusts: every section at -16 LUFS integrated (EBU R128 / BS.1770), true peak under
-1.5 dBTP, 48 kHz; measured with pyloudnorm and, independently, with ffmpeg's ebur128 filter on the WAV and on the
final MP4 of a real render."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from presgen_training.avatar.chain import AvatarSettings
from presgen_training.ffmpeg import file_arg, loudness_r128, probe, run_ffmpeg
from presgen_training.narration import NarrationConfig, loudness, synthesize
from presgen_training.narration.piper_voice import PiperEngineVoice
from presgen_training.narration.wav_io import read_wav, write_wav
from presgen_training.pipeline import RenderOptions, render
from presgen_training.timeline import Narration, Script

RATE = 48000


@pytest.fixture(scope="module")
def raw_speech(piper_voice: PiperEngineVoice) -> np.ndarray:
    """piper's own output, 48 kHz float, peak at full scale."""
    from presgen_training.narration.section_audio import resample

    clip = piper_voice.speak("Loudness is measured the way broadcasters measure it, over the whole section.")
    x, _ = resample(clip, RATE)
    return x / np.abs(x).max()


@pytest.mark.parametrize("gain", [0.03, 1.0], ids=["quiet", "hot"])
def test_normalize_reaches_the_target_and_never_the_ceiling(
    raw_speech: np.ndarray, gain: float, tmp_path: Path
) -> None:
    y = loudness.normalize(raw_speech * gain, RATE)
    assert loudness.integrated_loudness(y, RATE) == pytest.approx(loudness.TARGET_LUFS, abs=0.1)
    assert 20 * math.log10(loudness.true_peak(y)) <= loudness.TRUE_PEAK_CEILING_DBTP + 1e-6
    wav = tmp_path / "y.wav"
    write_wav(wav, np.round(y * 32767).astype(np.int16), RATE)
    integrated, peak = loudness_r128(wav)  # an independent BS.1770 meter agrees
    assert integrated == pytest.approx(loudness.TARGET_LUFS, abs=0.3)
    assert peak <= loudness.TRUE_PEAK_CEILING_DBTP + 0.2


def test_limiter_catches_peaks_between_samples() -> None:
    # a full-scale sine at a quarter of the sample rate, phased so its peaks fall between samples
    t = np.arange(RATE) / RATE
    x = 0.99 * np.sin(2 * np.pi * (RATE / 4) * t + np.pi / 4)
    assert np.abs(x).max() < 0.71 and loudness.true_peak(x) > 0.95
    y = loudness.limit(x, RATE, 10 ** (-3 / 20))
    assert 20 * math.log10(loudness.true_peak(y)) <= -3 + 1e-6


def test_silence_stays_silent() -> None:
    assert not loudness.normalize(np.zeros(RATE), RATE).any()


def test_every_section_is_normalized_on_its_own(demo_narration: Narration) -> None:
    samples, rate = read_wav(demo_narration.wav_path)
    assert rate == RATE
    for timing in demo_narration.sections:
        part = samples[round(timing.start_s * rate) : round(timing.end_s * rate)] / 32768.0
        assert loudness.integrated_loudness(part, rate) == pytest.approx(loudness.TARGET_LUFS, abs=0.15)
        assert 20 * math.log10(loudness.true_peak(part)) <= loudness.TRUE_PEAK_CEILING_DBTP + 0.01
    integrated, peak = loudness_r128(demo_narration.wav_path)
    assert integrated == pytest.approx(loudness.TARGET_LUFS, abs=1.0) and peak <= loudness.DELIVERY_PEAK_DBTP


def test_a_sections_samples_depend_only_on_its_own_text(
    piper_voice: PiperEngineVoice, tmp_path: Path, short_script: Callable[..., Script]
) -> None:
    quiet, shout = "a quiet little remark.", "THIS IS A MUCH LOUDER AND LONGER SECTION, SPOKEN WITH EMPHASIS!"
    alone = synthesize(short_script(quiet), NarrationConfig(), tmp_path / "alone")
    together = synthesize(short_script(shout, quiet), NarrationConfig(), tmp_path / "together")

    def section_samples(narration: Narration, index: int) -> np.ndarray:
        samples, rate = read_wav(narration.wav_path)
        timing = narration.sections[index]
        return samples[round(timing.start_s * rate) : round(timing.end_s * rate)]

    assert np.array_equal(section_samples(alone, 0), section_samples(together, 1))


SCRIPT = """\
title: Loud and clear
lexicon:
  PresGen: press gen
sections:
  - title: Hello
    narration: PresGen makes training videos. [pause 1s] They sound the same on every device.
  - title: Numbers
    narration: In 2024 we saved $4.5M, <break time="500ms"/> about 45% of the budget.
"""


@pytest.fixture(scope="module")
def static_render(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("render")
    script = folder / "loud.yaml"
    script.write_text(SCRIPT, encoding="utf-8")
    lexicon = folder / "words.yaml"
    lexicon.write_text("budget: budget\n", encoding="utf-8")
    photo = folder / "face.png"
    run_ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=640x480:d=1", "-frames:v", "1", file_arg(photo)], "a test image")
    out = folder / "loud.mp4"
    report = render(
        RenderOptions(
            script=script,
            source=photo,
            out=out,
            quality="fast",
            captions="burn",
            lexicon=lexicon,
            avatar=AvatarSettings(choice="static"),
        )
    )
    return out, report.manifest


def test_final_video_sound_is_48_khz_aac_at_minus_16_lufs(static_render: tuple[Path, dict]) -> None:
    out, manifest = static_render
    info = probe(out)
    assert (info.audio_codec, info.sample_rate) == ("aac", 48000)
    integrated, peak = loudness_r128(out)
    assert integrated == pytest.approx(-16.0, abs=1.0)
    assert peak <= loudness.DELIVERY_PEAK_DBTP
    assert manifest["narration"]["sample_rate"] == 48000


def test_burned_captions_also_write_sidecars_in_the_written_form(static_render: tuple[Path, dict]) -> None:
    out, _ = static_render
    srt = out.with_suffix(".srt").read_text(encoding="utf-8")
    assert out.with_suffix(".vtt").is_file()
    assert "PresGen makes training videos." in srt and "$4.5M" in srt
    assert "press gen" not in srt and "pause" not in srt and "break" not in srt
