"""The narration's own signal processing (resampling, BS.1770 loudness, the limiter's moving filters) gives what the
reference libraries give (scipy, pyloudnorm: test dependencies only), and a render never imports them: importing
scipy.signal takes longer than speaking an edited sentence."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pyloudnorm
import pytest
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import resample_poly as scipy_resample_poly

from presgen_training.narration import bs1770
from presgen_training.narration.loudness import moving_mean, moving_min
from presgen_training.narration.resampling import resample_poly
from presgen_training.narration.section_audio import resample
from presgen_training.narration.voice import Clip

RATE = 48000
RNG = np.random.default_rng(7)


@pytest.mark.parametrize("up,down", [(48000, 22050), (48000, 16000), (4, 1), (2, 3), (1, 2)])
@pytest.mark.parametrize("n", [1, 9, 22050 + 3])
def test_resampling_matches_scipy(up: int, down: int, n: int) -> None:
    x = RNG.standard_normal(n)
    ours, theirs = resample_poly(x, up, down), scipy_resample_poly(x, up, down)
    assert ours.shape == theirs.shape
    assert np.abs(ours - theirs).max() < 1e-12


def _signals() -> dict[str, np.ndarray]:
    t = np.arange(3 * RATE) / RATE
    return {
        "noise": 0.1 * RNG.standard_normal(5 * RATE),
        "997 Hz sine": 0.5 * np.sin(2 * np.pi * 997 * t),
        "30 Hz sine (below the high-pass)": 0.2 * np.sin(2 * np.pi * 30 * t),
        "speech-like bursts and gated silence": np.concatenate(
            [0.3 * RNG.standard_normal(RATE), np.zeros(2 * RATE), 0.001 * RNG.standard_normal(RATE)]
        ),
    }


@pytest.mark.parametrize("name", list(_signals()))
def test_loudness_matches_pyloudnorm(name: str) -> None:
    x = _signals()[name]
    assert bs1770.integrated_loudness(x, RATE) == pytest.approx(pyloudnorm.Meter(RATE).integrated_loudness(x), abs=1e-6)


def test_a_full_scale_997_hz_sine_reads_minus_3_lufs() -> None:
    x = np.sin(2 * np.pi * 997 * np.arange(5 * RATE) / RATE)
    # the standard's figure; the cookbook biquads pyloudnorm (and so this meter) uses read 0.04 dB lower
    assert bs1770.integrated_loudness(x, RATE) == pytest.approx(-3.01, abs=0.05)


def test_silence_is_minus_infinity() -> None:
    assert bs1770.integrated_loudness(np.zeros(RATE), RATE) == -np.inf


@pytest.mark.parametrize("size", [1, 2, 3, 4, 961, 1921])
@pytest.mark.parametrize("n", [1, 5, 10_007])
def test_moving_filters_match_scipy_ndimage(size: int, n: int) -> None:
    x = RNG.random(n)
    assert np.array_equal(moving_min(x, size), minimum_filter1d(x, size, mode="nearest"))
    assert np.allclose(moving_mean(x, size), uniform_filter1d(x, size, mode="nearest"), atol=1e-12)


def test_making_narration_audio_imports_neither_scipy_nor_pyloudnorm() -> None:
    code = (
        "import sys, numpy as np\n"
        "from presgen_training.narration import loudness, section_audio\n"
        "from presgen_training.narration.voice import Clip\n"
        "x = (np.sin(np.arange(22050) * 0.05) * 20000).astype(np.int16)\n"
        "y, _ = section_audio.resample(Clip(x, 22050), 48000)\n"
        "loudness.normalize(y, 48000)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('scipy', 'pyloudnorm')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_phoneme_bounds_do_not_move_when_more_speech_follows() -> None:
    """A sentence added after a paragraph leaves the paragraph's phoneme times (and so its presenter piece) as
    they were: bounds scale by the two rates, not by the clip's length."""
    rng = np.random.default_rng(3)
    first = (rng.standard_normal(22_050) * 2000).astype(np.int16)
    short = Clip(first, 22_050, (("a", 10_004), ("b", 12_046)))
    more = np.concatenate([first, (rng.standard_normal(7_777) * 2000).astype(np.int16)])
    longer = Clip(more, 22_050, (*short.alignments, ("c", 7_777)))
    (x1, a1), (x2, a2) = resample(short, 48_000), resample(longer, 48_000)
    assert a2[:2] == a1[:2]
    assert sum(c for _, c in a1) == len(x1) and sum(c for _, c in a2) == len(x2)
