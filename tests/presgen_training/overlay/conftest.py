"""Overlay test fixtures: a Narration built by hand with known word times (no TTS), real speech and real
presenter media (static-engine avatars made once per session)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest

from presgen_training.ffmpeg import file_arg, run_ffmpeg
from presgen_training.timeline import Cue, Narration, Section, SectionTiming, Word


@dataclass(frozen=True)
class SectionSpec:
    title: str
    text: str  # spoken words, one Word each
    start_s: float
    word_s: float  # each word lasts this long, back to back
    bullets: tuple[str, ...] = ()


def timed_words(text: str, start_s: float, word_s: float) -> list[Word]:
    return [
        Word(w, round(start_s + i * word_s, 3), round(start_s + (i + 1) * word_s, 3))
        for i, w in enumerate(text.split())
    ]


def word_time(spec: SectionSpec, word_index: int) -> float:
    return round(spec.start_s + word_index * spec.word_s, 3)


def build_narration(specs: list[SectionSpec], wav: Path, duration_s: float) -> Narration:
    sections = []
    all_words: list[Word] = []
    for i, spec in enumerate(specs):
        words = timed_words(spec.text, spec.start_s, spec.word_s)
        all_words += words
        section = Section(spec.title, spec.text, spec.bullets)
        sections.append(SectionTiming(i, section, spec.start_s, words[-1].end_s if words else spec.start_s, words))
    return Narration(
        wav_path=wav,
        duration_s=duration_s,
        sample_rate=16000,
        sections=sections,
        words=all_words,
        phonemes=[],
        engine="test",
        voice="hand-made",
    )


def cut_wav(source: Path, target: Path, seconds: float) -> Path:
    """The first ``seconds`` of real speech, as a 16-bit mono WAV."""
    run_ffmpeg(
        ["-i", file_arg(source), "-t", f"{seconds}", "-ac", "1", "-c:a", "pcm_s16le", file_arg(target)],
        "cutting test audio",
    )
    return target


@pytest.fixture(scope="session")
def kit() -> SimpleNamespace:
    """The hand-made narration builder, for tests (fixtures are how conftest helpers reach test modules)."""
    return SimpleNamespace(
        SectionSpec=SectionSpec,
        build=build_narration,
        word_time=word_time,
        cut_wav=cut_wav,
        static_avatar=static_avatar,
    )


# A 12 s, two-section narration over real speech. Word times are made up (back to back) and known exactly.
SECTIONS = [
    SectionSpec(
        "Why security matters",
        "Welcome to the team. Most incidents begin with a reused password or an unlocked laptop left alone "
        "in a busy cafe",
        0.4,
        0.28,
        (
            "Reused passwords",
            "Unlocked laptops",
            "A bullet the narrator never says, long enough that it has to wrap onto a second line",
        ),
    ),
    SectionSpec(
        "Passwords and sign-in",
        "Use the company password manager and turn on two factor sign-in for every account you own",
        6.6,
        0.3,
        ("Use the password manager", "Turn on two-factor sign-in"),
    ),
]
DURATION_S = 12.0
CAPTIONS = [
    (0.4, 3.0, "Welcome to the team."),
    (3.2, 6.0, "Most incidents begin with a reused password"),
    (6.6, 11.6, "Use the company password manager and turn on two factor sign-in"),
]


@pytest.fixture(scope="session")
def speech(media_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return cut_wav(media_dir / "eng.wav", tmp_path_factory.mktemp("speech") / "speech.wav", DURATION_S)


@pytest.fixture(scope="session")
def narration(speech: Path) -> Narration:
    return build_narration(SECTIONS, speech, DURATION_S)


def static_avatar(source: Path, speech: Path, out: Path, **options: int) -> Path:
    """``source`` under ``speech``, made by the static engine."""
    from presgen_training.avatar.static import render_static

    render_static(source, speech, out, **options)
    return out


@pytest.fixture(scope="session")
def video_avatar(media_dir: Path, speech: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """sun.mp4 under the speech (moving presenter, with sound)."""
    return static_avatar(media_dir / "sun.mp4", speech, tmp_path_factory.mktemp("avatar") / "sun.mp4")


@pytest.fixture(scope="session")
def photo_avatar(media_dir: Path, speech: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """man.png under the speech (a still presenter, large face)."""
    return static_avatar(media_dir / "man.png", speech, tmp_path_factory.mktemp("avatar") / "man.mp4", max_side=768)


@pytest.fixture(scope="session")
def caption_cues() -> list[Cue]:
    return [Cue(start, end, text) for start, end, text in CAPTIONS]
