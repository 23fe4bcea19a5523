"""Pronunciation lexicon on real piper speech: a respelling or IPA phonemes change what is said and the word and
phoneme timings, never the words the captions show."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from presgen_training.errors import NarrationError
from presgen_training.narration import NarrationConfig, caption_cues, synthesize
from presgen_training.narration.piper_voice import PiperEngineVoice
from presgen_training.timeline import Script

TEXT = "PresGen's voice reads Nginx logs."
IPA = "ˈɛndʒɪnˈɛks"


@pytest.fixture(scope="module")
def with_lexicon(piper_voice: PiperEngineVoice, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from presgen_training.timeline import Section

    script = Script("Lexicon", (Section("A", TEXT),), lexicon=(("presgen", "press gen"), ("Nginx", f"/{IPA}/")))
    return synthesize(script, NarrationConfig(), tmp_path_factory.mktemp("lexicon"))


def test_respelling_is_said_instead_of_the_word(
    with_lexicon,
    piper_voice: PiperEngineVoice,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    short_script: Callable[..., Script],
) -> None:
    first = with_lexicon.words[0]
    assert first.text == "PresGen's"  # the written word, timed as what was said for it
    spoken = [p.phoneme for p in with_lexicon.phonemes if first.start_s - 1e-4 <= p.start_s < first.end_s]
    respelled = synthesize(short_script("press gen's voice."), NarrationConfig(), tmp_path)
    press, gens = respelled.words[:2]
    assert spoken == [p.phoneme for p in respelled.phonemes if press.start_s - 1e-4 <= p.start_s < gens.end_s]


def test_ipa_phonemes_are_spoken_and_timed(with_lexicon) -> None:  # type: ignore[no-untyped-def]
    word = next(w for w in with_lexicon.words if w.text == "Nginx")
    spoken = "".join(p.phoneme for p in with_lexicon.phonemes if word.start_s - 1e-4 <= p.start_s < word.end_s)
    stressless = str.maketrans("", "", "ˈˌ")  # a word's times start at its first sound, after a stress mark
    assert spoken.translate(stressless) == IPA.translate(stressless)
    assert word.end_s - word.start_s > 0.3


def test_captions_keep_the_written_words(with_lexicon) -> None:  # type: ignore[no-untyped-def]
    assert " ".join(c.text.replace("\n", " ") for c in caption_cues(with_lexicon)) == TEXT


def test_the_scripts_entries_win_over_the_lexicon_file(
    piper_voice: PiperEngineVoice, tmp_path: Path, short_script: Callable[..., Script]
) -> None:
    script = short_script("SQL rocks.", lexicon=(("SQL", "sequel"),))
    mixed = synthesize(script, NarrationConfig(lexicon=(("SQL", "ess queue ell"),)), tmp_path / "mixed")
    plain = synthesize(short_script("sequel rocks."), NarrationConfig(), tmp_path / "plain")
    assert mixed.wav_path.read_bytes() == plain.wav_path.read_bytes()


def test_ipa_the_voice_cannot_say_is_an_error(
    piper_voice: PiperEngineVoice, tmp_path: Path, short_script: Callable[..., Script]
) -> None:
    script = short_script("Hello Zorg.", lexicon=(("Zorg", "/zɝɡ/"),))
    with pytest.raises(NarrationError, match="uses 'ɝ', which piper voice joe has no sound for"):
        synthesize(script, NarrationConfig(), tmp_path)
