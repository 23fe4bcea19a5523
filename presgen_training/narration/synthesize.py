"""Speak a script: one clip per section, pauses between them, one narration WAV with section, word and phoneme
times. When the requested engine cannot speak (not installed, offline, crashed) the next engine in
FALLBACK_CHAIN speaks the whole script instead, and the reason is kept in ``Narration.fallback_reason``.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from presgen_training.errors import NarrationError
from presgen_training.ffmpeg import OUTPUT_FPS
from presgen_training.narration.cache import ClipCache, clip_key
from presgen_training.narration.config import NarrationConfig
from presgen_training.narration.voice import (
    ENGINE_MODULES,
    Clip,
    EngineUnavailable,
    Voice,
    engine_module,
    unknown_voice_message,
)
from presgen_training.narration.wav_io import write_wav
from presgen_training.timeline import Narration, Phoneme, Script, SectionTiming, Word

log = logging.getLogger(__name__)

FALLBACK_CHAIN = ("piper", "espeak-ng")  # offline engines tried, in order, after the requested one
NARRATION_FILE = "narration.wav"
_NOT_LISTED = frozenset({" ", "^", "$"})  # word boundary, sentence start and end: not phonemes

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class _SpokenSection:
    clip: Clip
    words: list[Word]  # seconds from the clip start
    timing_source: str


def synthesize(script: Script, config: NarrationConfig, out_dir: Path,
               progress: Progress | None = None) -> Narration:
    """Write ``out_dir/narration.wav`` (16-bit mono) and return its timings. NarrationError on an unknown
    engine or voice, or when no engine at all can speak."""
    requested = config.engine
    engine_module(requested)  # unknown engine: a clear error before anything else
    if not script.sections:
        raise NarrationError(f"{script.path or 'the script'}: nothing to narrate (no sections)")
    name, origin = _requested_voice(script, config)
    reasons: list[str] = []
    for engine in (requested, *[e for e in FALLBACK_CHAIN if e != requested]):
        module = engine_module(engine)
        reason = module.unavailable_reason()
        if reason:
            reasons.append(f"{engine}: {reason}")
            continue
        voice_name = _voice_for_engine(engine, requested, name, origin)
        try:
            voice = module.load_voice(voice_name, config.deterministic)
            spoken = _speak_sections(voice, script, config, progress)
        except EngineUnavailable as exc:
            log.warning("voice engine %s failed: %s", engine, exc)
            reasons.append(f"{engine}: {exc}")
            continue
        fallback = None if engine == requested else f"{'; '.join(reasons)}; used {engine} instead"
        return _assemble(script, spoken, voice, config, Path(out_dir), fallback)
    raise NarrationError(f"no voice engine could speak the script: {'; '.join(reasons)}")


def _requested_voice(script: Script, config: NarrationConfig) -> tuple[str | None, str]:
    if config.voice:
        return config.voice, ""
    if script.voice:
        return script.voice, f" (the 'voice' of {script.path or 'the script'})"
    return None, ""


def _voice_for_engine(engine: str, requested: str, name: str | None, origin: str) -> str | None:
    """The voice to load on ``engine``; None means that engine's default voice."""
    if name is None:
        return None
    if engine_module(engine).knows_voice(name):
        return name
    if engine != requested:
        return None  # a fallback engine speaks with its own default voice
    known_elsewhere = any(engine_module(e).knows_voice(name) for e in ENGINE_MODULES if e != engine)
    if origin and known_elsewhere:
        # The script names a voice of another engine (e.g. "joe" while rendering with gtts): not a typo.
        log.info("script voice %r is not a %s voice; using %s's default voice", name, engine, engine)
        return None
    raise NarrationError(unknown_voice_message(engine, name, origin))


def _speak_sections(voice: Voice, script: Script, config: NarrationConfig,
                    progress: Progress | None) -> list[_SpokenSection]:
    cache = ClipCache(config.cache_dir) if config.deterministic and config.cache_dir else None
    identity = voice.identity() if cache else ""
    total = len(script.sections)
    if progress:
        progress(0, total)
    spoken = []
    for index, section in enumerate(script.sections):
        key = clip_key(identity, section.narration)
        clip = cache.get(key) if cache else None
        if clip is None or clip.sample_rate != voice.sample_rate:
            clip = voice.speak(section.narration)
            if len(clip.samples) == 0:
                raise EngineUnavailable(f"{voice.engine} produced no audio for section {index + 1} "
                                        f"('{section.title}')")
            if cache:
                cache.put(key, clip)
        words, source = voice.word_timings(section.narration, clip)
        spoken.append(_SpokenSection(clip, words, source))
        if progress:
            progress(index + 1, total)
    return spoken


def _assemble(script: Script, spoken: list[_SpokenSection], voice: Voice, config: NarrationConfig,
              out_dir: Path, fallback: str | None) -> Narration:
    rate = voice.sample_rate
    if rate % OUTPUT_FPS:
        raise NarrationError(f"{voice.engine} speaks at {rate} Hz, which is no whole number of samples per "
                             f"{OUTPUT_FPS} fps video frame")
    frame = rate // OUTPUT_FPS  # samples per video frame
    pieces: list[np.ndarray] = []
    offset = 0
    sections: list[SectionTiming] = []
    phonemes: list[Phoneme] = []
    last = len(spoken) - 1
    for index, (section, part) in enumerate(zip(script.sections, spoken)):
        segment_start = offset
        lead = round(config.lead_in_s * rate) if index == 0 else 0
        after = round((config.tail_s if index == last else config.pause_s) * rate)
        pieces.append(np.zeros(lead, dtype=np.int16))
        offset += lead
        start_s = offset / rate
        end_s = (offset + len(part.clip.samples)) / rate
        words = [Word(w.text, min(start_s + w.start_s, end_s), min(start_s + w.end_s, end_s)) for w in part.words]
        position = offset
        for symbol, count in part.clip.alignments:
            if symbol not in _NOT_LISTED:
                phonemes.append(Phoneme(symbol, position / rate, (position + count) / rate))
            position += count
        pieces.append(part.clip.samples)
        offset += len(part.clip.samples)
        # the silence after the section is padded (never shortened) so the segment is a whole number of frames
        after += -(offset + after - segment_start) % frame
        pieces.append(np.zeros(after, dtype=np.int16))
        offset += after
        sections.append(SectionTiming(index=index, section=section, start_s=start_s, end_s=end_s, words=words,
                                      segment_start_s=segment_start / rate, segment_end_s=offset / rate))
    audio = np.concatenate(pieces)
    wav_path = out_dir / NARRATION_FILE
    write_wav(wav_path, audio, rate)
    timing_source = "alignment" if all(p.timing_source == "alignment" for p in spoken) else "estimated"
    return Narration(
        wav_path=wav_path,
        duration_s=len(audio) / rate,
        sample_rate=rate,
        sections=sections,
        words=[word for timing in sections for word in timing.words],
        phonemes=phonemes,
        engine=voice.engine,
        voice=voice.name,
        fallback_reason=fallback,
        timing_source=timing_source,
    )

