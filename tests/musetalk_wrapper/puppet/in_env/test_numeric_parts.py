"""Mouth shapes from audio and from phoneme timings, and the small numeric parts they rest on."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from musetalk_wrapper.contract import EngineError
from musetalk_wrapper.engines.puppet.audio_drive import mouth_from_audio
from musetalk_wrapper.engines.puppet.audio_features import SAMPLE_RATE, analyse, frame_count, pause_mask
from musetalk_wrapper.engines.puppet.mouth_track import speaking_weight
from musetalk_wrapper.engines.puppet.one_euro import one_euro, one_euro_windowed, one_euro_zero_lag
from musetalk_wrapper.engines.puppet.tracking import (
    Detection,
    NoUsableFace,
    nearest_good,
    no_usable_face,
    raw_track,
    track_warnings,
)
from musetalk_wrapper.engines.puppet.visemes import merge_marks, mouth_from_timings, viseme_for
from musetalk_wrapper.media import pingpong_index
from musetalk_wrapper.timings import Phone, Timings, load_timings

FPS = 25


def _vowel(seconds: float, f0: float = 140.0) -> np.ndarray:
    """A voiced, vowel-like sound: harmonics of f0 with formant-ish weights."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    amp = {1: 0.3, 2: 0.25, 3: 0.5, 4: 0.6, 5: 0.4, 8: 0.2, 12: 0.1}
    return 0.2 * sum(a * np.sin(2 * np.pi * f0 * k * t) for k, a in amp.items())


def _silence(seconds: float) -> np.ndarray:
    return np.random.default_rng(0).normal(0, 1e-4, int(seconds * SAMPLE_RATE))


def _frames(start_s: float, end_s: float) -> slice:
    return slice(round(start_s * FPS), round(end_s * FPS))


def test_pingpong_plays_forwards_then_backwards() -> None:
    assert [pingpong_index(i, 4) for i in range(9)] == [0, 1, 2, 3, 2, 1, 0, 1, 2]
    assert [pingpong_index(i, 1) for i in range(3)] == [0, 0, 0]


def test_pause_mask_keeps_only_pauses_of_150_ms() -> None:
    quiet = np.array([0, 1, 1, 1, 0, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1], dtype=bool)  # 3 frames = 120 ms: too short
    assert pause_mask(quiet, FPS).tolist() == [False] * 5 + [True] * 4 + [False] + [True] * 5


def test_one_euro_removes_shimmer_without_lagging_behind_motion() -> None:
    rng = np.random.default_rng(1)
    still = 1.0 + rng.normal(0, 0.004, (200, 5, 2))  # face units: detector jitter of a still face
    assert one_euro_zero_lag(still, FPS).std(axis=0).mean() < 0.4 * still.std(axis=0).mean()
    drift = (0.2 * np.arange(100) / FPS)[:, None]  # a slow head movement, 0.2 face units per second
    causal, centred = one_euro(drift, FPS)[:, 0], one_euro_zero_lag(drift, FPS)[:, 0]
    assert (drift[40:60, 0] - causal[40:60]).mean() > 0.005  # a causal filter trails the motion ...
    assert np.abs(drift[40:60, 0] - centred[40:60]).max() < 1e-3  # ... the forward-backward one does not
    jump = np.concatenate([np.zeros(50), np.full(50, 0.3)])[:, None]  # a fast move is followed at once
    assert one_euro(jump, FPS)[52, 0] > 0.25


def _face(shift: float) -> Detection:
    """A stand-in mesh: 478 points spread over a 200 px face, level eyes, no depth (frontal)."""
    pts = np.random.default_rng(2).uniform(100, 300, (478, 2))
    pts[33], pts[263] = (150, 150), (250, 150)
    return Detection(points=pts + shift, depth=np.zeros(478))


def test_windowed_one_euro_depends_only_on_the_window() -> None:
    """A frame filtered inside a short stretch equals the same frame filtered inside the whole series."""
    rng = np.random.default_rng(3)
    series = np.cumsum(rng.normal(0, 0.01, (200, 4, 2)), axis=0)
    whole = one_euro_windowed(series, np.arange(200), 10, FPS)
    part = one_euro_windowed(series[80:141], np.arange(10, 51), 10, FPS)
    assert np.array_equal(whole[90:131], part)
    still = 1.0 + rng.normal(0, 0.004, (200, 5, 2))
    smoothed = one_euro_windowed(still, np.arange(200), 10, FPS)
    assert smoothed.std(axis=0).mean() < 0.5 * still.std(axis=0).mean()


def test_frames_without_a_face_borrow_the_nearest_one_and_are_counted() -> None:
    assert nearest_good(np.array([0, 0, 1, 0, 0, 0, 1, 0], dtype=bool)).tolist() == [2, 2, 2, 2, 2, 6, 6, 6]
    track = raw_track([None, _face(0.0), None, None, _face(10.0), None], 640, 480)
    assert track.good.tolist() == [False, True, False, False, True, False]
    assert track.points is not None
    x = track.points[:, 33, 0]
    assert x.tolist() == [150.0, 150.0, 150.0, 160.0, 160.0, 160.0]  # each gap takes its nearest good face
    assert track_warnings(track.checks) == [
        "4 of 6 source frames had no usable face (no face found: 4); reused the nearest tracked face"
    ]
    assert raw_track([None, None], 640, 480).points is None
    assert no_usable_face(raw_track([None, None], 640, 480).checks).reason == "no face found"
    tiny = Detection(points=(_face(0.0).points - 100) * 0.2, depth=np.zeros(478))  # a 40 px face
    error = no_usable_face(raw_track([None, tiny], 640, 480).checks)
    assert isinstance(error, NoUsableFace) and error.reason == "face too small" and error.frame_index == 1


def test_the_mouth_leaves_its_resting_shape_around_speech_only() -> None:
    silent = np.array([True] * 10 + [False] * 10 + [True] * 12)
    w = speaking_weight(silent, FPS)
    assert np.all(w[10:20] == 1.0) and w[0] == 0.0 and w[-1] == 0.0
    assert 0.0 < w[8] < w[9] < 1.0 and 0.0 < w[21] < w[20] < 1.0  # ramps of ~0.16 s before and after
    assert np.all(w[:5] == 0.0) and np.all(w[26:] == 0.0)


def test_audio_opens_the_mouth_in_speech_and_closes_it_in_pauses() -> None:
    audio = np.concatenate(
        [_silence(0.5), _vowel(0.6), _silence(0.3), _vowel(0.4), _silence(0.08), _vowel(0.4), _silence(0.5)]
    ).astype(np.float32)
    feat = analyse(audio, FPS, frame_count(len(audio), FPS))
    mouth = mouth_from_audio(feat)
    assert len(mouth) == round(len(audio) / SAMPLE_RATE * FPS)
    assert np.all(mouth.open[_frames(0.0, 0.45)] == 0.0)  # lead-in silence
    assert np.all(mouth.open[_frames(1.15, 1.35)] == 0.0)  # the 300 ms pause
    assert mouth.open[_frames(0.6, 1.0)].mean() > 0.4  # the vowel
    assert mouth.open[_frames(1.55, 1.75)].mean() > 0.4
    # an 80 ms gap is no pause: the mouth is not forced shut between the two vowels
    assert not feat.silent[_frames(1.8, 1.88)].any()
    assert np.all(mouth.open[-10:] == 0.0)


def _timings(phones: list[tuple[str, float, float]], duration: float) -> Timings:
    return Timings(duration, tuple(Phone(p, s, e) for p, s, e in phones))


def test_visemes_close_round_spread_and_show_teeth() -> None:
    # "m a p | u | i | f a" with clear gaps, over a steady voiced sound
    phones = [
        ("m", 0.20, 0.30),
        ("a", 0.30, 0.60),
        ("p", 0.60, 0.70),
        ("u", 0.70, 1.10),
        ("i", 1.10, 1.50),
        ("f", 1.50, 1.62),
        ("a", 1.62, 1.95),
    ]
    audio = np.concatenate([_silence(0.2), _vowel(1.8), _silence(0.4)]).astype(np.float32)
    feat = analyse(audio, FPS, frame_count(len(audio), FPS))
    mouth = mouth_from_timings(_timings(phones, len(audio) / SAMPLE_RATE), feat)
    at = lambda t: int(t * FPS)  # noqa: E731 - frame showing time t
    assert mouth.open[at(0.25)] <= 0.05 and mouth.open[at(0.65)] <= 0.05  # m, p: lips closed
    assert mouth.open[at(0.45)] >= 0.5  # a: open
    assert mouth.width[at(0.9)] < -0.4  # u: rounded
    assert mouth.width[at(1.3)] > 0.2  # i: spread
    assert mouth.upper[at(1.56)] >= 0.9 and mouth.open[at(1.56)] <= 0.2  # f: upper teeth on the lower lip
    assert np.all(mouth.open[-8:] == 0.0)  # closed in the final silence
    assert mouth.speaking is not None and mouth.speaking[-1] == 0.0 and mouth.speaking[at(0.9)] == 1.0


def test_the_tongue_tip_shows_on_l_n_t_and_th_only() -> None:
    phones = [
        ("a", 0.20, 0.50),
        ("l", 0.50, 0.62),
        ("a", 0.62, 0.95),
        ("θ", 0.95, 1.08),
        ("a", 1.08, 1.4),
        ("m", 1.4, 1.5),
        ("a", 1.5, 1.9),
    ]
    audio = np.concatenate([_silence(0.2), _vowel(1.7), _silence(0.4)]).astype(np.float32)
    feat = analyse(audio, FPS, frame_count(len(audio), FPS))
    mouth = mouth_from_timings(_timings(phones, len(audio) / SAMPLE_RATE), feat)
    assert mouth.tongue is not None and mouth.tongue_out is not None
    at = lambda t: int(t * FPS)  # noqa: E731
    assert mouth.tongue[at(0.56)] > 0.5 and mouth.tongue_out[at(0.56)] < 0.1  # l: tip up behind the teeth
    assert mouth.tongue_out[at(1.01)] > 0.5  # th: tip between the teeth
    assert mouth.tongue[at(0.35)] < 0.1 and mouth.tongue_out[at(1.7)] < 0.1  # not smeared over the vowels
    assert mouth.open[at(1.45)] == 0.0  # m: fully closed


def test_stress_and_length_marks_join_their_phonemes() -> None:
    merged = merge_marks(
        (
            Phone("k", 0.0, 0.1),
            Phone("ˈ", 0.1, 0.15),
            Phone("ɔ", 0.15, 0.25),
            Phone("ː", 0.25, 0.3),
            Phone("ɹ", 0.3, 0.35),
        )
    )
    assert [(p.symbol, p.start_s, p.end_s) for p in merged] == [("k", 0.0, 0.1), ("ɔ", 0.1, 0.3), ("ɹ", 0.3, 0.35)]
    assert viseme_for("b").kind == "closed" and viseme_for("v").kind == "teeth"
    assert viseme_for("$").kind == "rest" and viseme_for(",").kind == "rest"
    assert viseme_for("ɑ̃").open > 0.5  # a nasalised vowel falls back to its base vowel


@pytest.mark.parametrize(
    "content, field",
    [
        ("not json", "Expecting value"),
        (json.dumps({"schema_version": 2, "duration_s": 1, "phonemes": [], "words": []}), "schema_version"),
        (json.dumps({"schema_version": 1, "duration_s": 1, "words": []}), "phonemes must be a list"),
        (
            json.dumps({"schema_version": 1, "duration_s": 1, "words": [], "phonemes": [{"phoneme": "a"}]}),
            "phonemes[0].start_s",
        ),
    ],
)
def test_bad_timings_files_name_the_problem(tmp_path: Path, content: str, field: str) -> None:
    path = tmp_path / "t.json"
    path.write_text(content)
    with pytest.raises(EngineError) as info:
        load_timings(path)
    assert info.value.code.value == "BAD_INPUT" and field in info.value.message and str(path) in info.value.message
