"""What the script and narration stages hand to the avatar and overlay stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Section:
    """One section of the user's script."""

    title: str
    narration: str
    bullets: tuple[str, ...] = ()
    line: int | None = None  # where it starts in the script file, for error messages
    image: Path | None = None  # a picture shown with the section (a chart; for decks, the slide)
    slide: int | None = None  # 1-based number of the slide of the script's deck this section shows


@dataclass(frozen=True)
class Script:
    title: str
    sections: tuple[Section, ...]
    voice: str | None = None  # voice requested by the script itself
    path: Path | None = None
    deck: Path | None = None  # slide deck (.pptx, .odp, .pdf) the sections' ``slide`` numbers refer to
    language: str | None = None  # language tag ("en-us", "de"); None: the voice's language
    rate: float | None = None  # speaking rate (1.0: the narration default); None: the default
    lexicon: tuple[tuple[str, str], ...] = ()  # (word, respelling or /IPA phonemes/) for the voice, not captions


@dataclass(frozen=True)
class Word:
    text: str
    start_s: float
    end_s: float


@dataclass(frozen=True)
class Cue:
    """One caption on screen from start_s to end_s."""

    start_s: float
    end_s: float
    text: str  # up to two lines joined by "\n"


@dataclass(frozen=True)
class Phoneme:
    phoneme: str  # espeak-ng IPA symbol as piper emits it
    start_s: float
    end_s: float


@dataclass
class SectionTiming:
    index: int
    section: Section
    start_s: float  # first sample of this section's speech in the narration
    end_s: float  # last sample of this section's speech (the pause after it is not included)
    words: list[Word] = field(default_factory=list)
    # The section's stretch of the video: its speech plus the pause after it (the first also the lead-in, the last
    # the tail), a whole number of video frames long. Set by the narration stage; None for hand-made timings.
    segment_start_s: float | None = None
    segment_end_s: float | None = None


@dataclass
class Narration:
    wav_path: Path
    duration_s: float
    sample_rate: int
    sections: list[SectionTiming]
    words: list[Word]
    phonemes: list[Phoneme]  # empty when the voice engine gives no alignments
    engine: str  # voice engine that produced it: piper, gtts or espeak-ng
    voice: str  # voice name within that engine
    fallback_reason: str | None = None  # why the requested engine was not used
    timing_source: str = "alignment"  # alignment | estimated (words spread over the section by length)
    language: str | None = None  # language tag of the narration ("en-us"); None: unknown (hand-made timings)
    # the narration before each section's loudness gain, same timeline (drives the presenter); None: wav_path
    driver_path: Path | None = None
