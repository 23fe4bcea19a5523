"""Speak a script: one clip per section (its own loudness, pauses and pronunciations), pauses between sections,
one 48 kHz narration WAV with section, word and phoneme times.

Choosing the engine: ``auto`` (the default) speaks with piper, else espeak-ng, and a fallback is kept in
``Narration.fallback_reason`` for the console and the manifest. An engine or voice chosen by name that cannot
speak is a NarrationError naming the cause and the fix, unless ``NarrationConfig.allow_fallback``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from presgen_training.errors import NarrationError
from presgen_training.ffmpeg import OUTPUT_FPS
from presgen_training.narration.cache import ClipCache, clip_key
from presgen_training.narration.config import AUTO, NarrationConfig, check_rate
from presgen_training.narration.language import language_rules
from presgen_training.narration.lexicon import Lexicon
from presgen_training.narration.section_audio import (
    OUTPUT_RATE,
    PROCESSING,
    SectionAudio,
    plan_section,
    render_section,
)
from presgen_training.narration.voice import (
    ENGINE_MODULES,
    EngineUnavailable,
    Voice,
    engine_module,
    same_language,
    unknown_voice_message,
)
from presgen_training.narration.wav_io import streamed_wav
from presgen_training.timeline import Narration, Phoneme, Script, SectionTiming, Word

log = logging.getLogger(__name__)

FALLBACK_CHAIN = ("piper", "espeak-ng")  # what ``auto`` tries, in order
NARRATION_FILE = "narration.wav"
DRIVER_FILE = "driver.wav"  # the same timeline before each section's loudness gain (drives the presenter)
_NOT_LISTED = frozenset({" ", "^", "$"})  # word boundary (and inserted pauses), sentence start and end
FALLBACK_HINT = "or render with --fallback to accept another voice"
_FIXES = {"gtts": "gtts needs the internet: check the connection, or choose an offline engine (--tts auto)"}

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class _Candidate:
    engine: str
    voice: str | None  # None: the engine's voice for the language (its default voice without one)


def synthesize(script: Script, config: NarrationConfig, out_dir: Path, progress: Progress | None = None) -> Narration:
    """Write ``out_dir/narration.wav`` (16-bit mono, 48 kHz) and return its timings. NarrationError on an
    unknown engine or voice, on a chosen engine that cannot speak, or when no engine at all can speak."""
    if config.engine != AUTO and config.engine not in ENGINE_MODULES:  # a clear error before anything else
        raise NarrationError(
            f"unknown voice engine '{config.engine}'; choose one of {', '.join((AUTO, *ENGINE_MODULES))}"
        )
    if not script.sections:
        raise NarrationError(f"{script.path or 'the script'}: nothing to narrate (no sections)")
    rate = check_rate(config.rate if config.rate is not None else script.rate or 1.0)
    lexicon = Lexicon([*config.lexicon, *script.lexicon])
    candidates, explicit = _candidates(script, config)
    reasons: list[str] = []
    for number, candidate in enumerate(candidates):
        module = engine_module(candidate.engine)
        reason = module.unavailable_reason()
        voice_name = candidate.voice
        if reason is None and voice_name is None and script.language:
            voice_name = module.voice_for_language(script.language)
            if voice_name is None:
                reason = f"no {candidate.engine} voice speaks '{script.language}' (see: presgen voices)"
        if reason:
            if number == 0 and explicit and not config.allow_fallback:
                raise NarrationError(_cannot(candidate.engine, reason))
            reasons.append(f"{candidate.engine}: {reason}")
            continue
        try:
            voice = module.load_voice(voice_name, config.deterministic, rate, config.cache_dir)
            _check_language(voice, script)
            fallback = f"{'; '.join(reasons)}; used {voice.engine} instead" if number else None
            spoken = _speak_sections(voice, script, config, lexicon, progress)
            return _assemble(script, spoken, voice, config=config, out_dir=Path(out_dir), fallback=fallback)
        except EngineUnavailable as exc:
            log.warning("voice engine %s failed: %s", candidate.engine, exc)
            if number == 0 and explicit and not config.allow_fallback:
                raise NarrationError(_cannot(candidate.engine, str(exc))) from None
            reasons.append(f"{candidate.engine}: {exc}")
    raise NarrationError(f"no voice engine could speak the script: {'; '.join(reasons)}")


def _cannot(engine: str, reason: str) -> str:
    fix = _FIXES.get(engine, "")
    return (
        f"the chosen voice engine {engine} cannot speak: {reason}" + (f"; {fix}" if fix else "") + f"; {FALLBACK_HINT}"
    )


def _candidates(script: Script, config: NarrationConfig) -> tuple[list[_Candidate], bool]:
    """The (engine, voice) pairs to try in order, and whether the first was chosen explicitly (an engine or a
    voice named by the caller: its failure is an error unless fallbacks are allowed)."""
    script_origin = f" (the 'voice' of {script.path or 'the script'})"
    if config.engine == AUTO:
        if config.voice:
            first = _Candidate(_engine_knowing(config.voice, ""), config.voice)
        elif script.voice:
            first = _Candidate(_engine_knowing(script.voice, script_origin), script.voice)
        else:
            first = _Candidate(FALLBACK_CHAIN[0], None)
        rest = [_Candidate(e, None) for e in FALLBACK_CHAIN if e != first.engine]
        return [first, *rest], bool(config.voice)
    engine = config.engine
    module = engine_module(engine)
    if config.voice:
        if not module.knows_voice(config.voice):
            raise NarrationError(unknown_voice_message(engine, config.voice, ""))
        first = _Candidate(engine, config.voice)
    elif script.voice and module.knows_voice(script.voice):
        first = _Candidate(engine, script.voice)
    elif script.voice and not any(engine_module(e).knows_voice(script.voice) for e in ENGINE_MODULES):
        raise NarrationError(unknown_voice_message(engine, script.voice, script_origin))
    else:
        # no voice, or the script names another engine's voice (e.g. "joe" rendered with gtts): not a typo
        first = _Candidate(engine, None)
    rest = [_Candidate(e, None) for e in FALLBACK_CHAIN if e != engine] if config.allow_fallback else []
    return [first, *rest], True


def _engine_knowing(voice: str, origin: str) -> str:
    engines = (*FALLBACK_CHAIN, *[e for e in ENGINE_MODULES if e not in FALLBACK_CHAIN])
    for engine in engines:
        if engine_module(engine).knows_voice(voice):
            return engine
    for engine in engines:  # an engine's own default voice, while that engine is not installed
        if voice.lower() == engine_module(engine).DEFAULT_VOICE:
            return engine
    raise NarrationError(unknown_voice_message(FALLBACK_CHAIN[0], voice, origin))


def _check_language(voice: Voice, script: Script) -> None:
    if script.language and not same_language(voice.language, script.language):
        raise NarrationError(
            f"{voice.engine} voice {voice.name} speaks {voice.language}, but the language of "
            f"{script.path or 'the script'} is {script.language}; choose a voice of that "
            f"language (presgen voices lists them) or change 'language'"
        )


def _speak_sections(
    voice: Voice, script: Script, config: NarrationConfig, lexicon: Lexicon, progress: Progress | None
) -> Iterator[SectionAudio]:
    """Each section's audio in turn (from the cache when spoken before, so a rerun resumes where one stopped);
    only one section is in memory at a time."""
    cache = ClipCache(config.cache_dir) if config.deterministic and config.cache_dir else None
    identity = voice.identity() if cache else ""
    rules = language_rules(script.language or voice.language)
    total = len(script.sections)
    if progress:
        progress(0, total)
    for index, section in enumerate(script.sections):
        plan = plan_section(section.narration, rules, lexicon, voice)
        key = clip_key(identity, [PROCESSING, plan.key()])
        audio = cache.get(key) if cache else None
        if audio is None or audio.clip.sample_rate != OUTPUT_RATE:
            try:
                audio = render_section(plan, voice)
            except EngineUnavailable as exc:
                raise EngineUnavailable(f"{exc} (section {index + 1}, '{section.title}')") from exc
            if cache:
                cache.put(key, audio)
        if progress:
            progress(index + 1, total)
        yield audio


def _assemble(
    script: Script,
    spoken: Iterator[SectionAudio],
    voice: Voice,
    *,
    config: NarrationConfig,
    out_dir: Path,
    fallback: str | None,
) -> Narration:
    """Write the sections and the silences between them straight to the narration WAV (a 3-hour script is
    1 GB of samples: it is never whole in memory), keeping only the timings."""
    rate = OUTPUT_RATE
    frame = rate // OUTPUT_FPS  # samples per video frame
    sections: list[SectionTiming] = []
    phonemes: list[Phoneme] = []
    estimated = False
    last = len(script.sections) - 1
    wav_path, driver_path = out_dir / NARRATION_FILE, out_dir / DRIVER_FILE
    with streamed_wav(wav_path, rate) as wav, streamed_wav(driver_path, rate) as driver:
        for index, (section, part) in enumerate(zip(script.sections, spoken, strict=False)):
            segment_start = wav.samples
            lead = round(config.lead_in_s * rate) if index == 0 else 0
            after = round((config.tail_s if index == last else config.pause_s) * rate)
            wav.silence(lead)
            driver.silence(lead)
            start = wav.samples
            start_s = start / rate
            end_s = (start + len(part.clip.samples)) / rate
            words = [Word(w.text, min(start_s + w.start_s, end_s), min(start_s + w.end_s, end_s)) for w in part.words]
            position = start
            for symbol, count in part.clip.alignments:
                if symbol not in _NOT_LISTED:
                    phonemes.append(Phoneme(symbol, position / rate, (position + count) / rate))
                position += count
            wav.write(part.clip.samples)
            driver.write(part.driver)
            estimated = estimated or part.timing_source != "alignment"
            # the silence after the section is padded (never shortened) so the segment is a whole number of frames
            after += -(wav.samples + after - segment_start) % frame
            wav.silence(after)
            driver.silence(after)
            sections.append(
                SectionTiming(
                    index=index,
                    section=section,
                    start_s=start_s,
                    end_s=end_s,
                    words=words,
                    segment_start_s=segment_start / rate,
                    segment_end_s=wav.samples / rate,
                )
            )
        total = wav.samples
    return Narration(
        wav_path=wav_path,
        driver_path=driver_path,
        duration_s=total / rate,
        sample_rate=rate,
        sections=sections,
        words=[word for timing in sections for word in timing.words],
        phonemes=phonemes,
        engine=voice.engine,
        voice=voice.name,
        fallback_reason=fallback,
        timing_source="estimated" if estimated else "alignment",
        language=script.language or voice.language,
    )
