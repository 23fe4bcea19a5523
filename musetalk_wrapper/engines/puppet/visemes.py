"""Mouth shapes from phoneme timings (espeak IPA from piper): a viseme per phoneme, blended with its
neighbours by dominance (co-articulation), scaled by the audio's loudness and closed in pauses."""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

import numpy as np

from musetalk_wrapper.engines.puppet.audio_features import AudioFeatures
from musetalk_wrapper.engines.puppet.mouth_track import MouthTrack, calibrated, smooth, speaking_weight
from musetalk_wrapper.timings import Phone, Timings


@dataclass(frozen=True)
class Viseme:
    open: float
    width: float
    upper: float  # share of the opening made by the upper lip: small, the jaw does most of the work
    dominance: float  # how strongly the shape resists its neighbours (lip closures win)
    kind: str = "other"
    tongue: float = 0.0  # tongue tip raised to the upper teeth
    tongue_out: float = 0.0  # tongue tip between the teeth


REST = Viseme(0.0, 0.0, 0.2, 1.2, "rest")
CLOSED = Viseme(0.0, -0.05, 0.2, 2.5, "closed")  # m b p (reached for sure by mouth_from_timings)
TEETH_ON_LIP = Viseme(0.14, 0.0, 1.0, 3.0, "teeth")  # f v
UNKNOWN = Viseme(0.3, 0.0, 0.2, 0.5)

_V = Viseme
VISEMES: dict[str, Viseme] = {
    # lips closed
    "m": CLOSED,
    "b": CLOSED,
    "p": CLOSED,
    # teeth on lower lip
    "f": TEETH_ON_LIP,
    "v": TEETH_ON_LIP,
    # open
    "a": _V(1.0, 0.1, 0.15, 1.0),
    "ɑ": _V(0.95, -0.05, 0.15, 1.0),
    "æ": _V(0.85, 0.25, 0.22, 1.0),
    "ʌ": _V(0.72, 0.0, 0.15, 1.0),
    "ɐ": _V(0.62, 0.0, 0.15, 1.0),
    "ɒ": _V(0.85, -0.3, 0.15, 1.0),
    # spread
    "ɛ": _V(0.62, 0.3, 0.25, 1.0),
    "e": _V(0.5, 0.35, 0.25, 1.0),
    "ɪ": _V(0.36, 0.35, 0.25, 1.0),
    "i": _V(0.3, 0.5, 0.3, 1.0),
    "ᵻ": _V(0.3, 0.25, 0.25, 1.0),
    "ɨ": _V(0.3, 0.2, 0.25, 1.0),
    "j": _V(0.2, 0.4, 0.3, 1.0),
    # neutral
    "ə": _V(0.42, 0.0, 0.18, 0.8),
    "ɘ": _V(0.42, 0.0, 0.18, 0.8),
    "ɜ": _V(0.45, -0.2, 0.2, 1.0),
    # rounded
    "ɚ": _V(0.35, -0.35, 0.2, 1.0),
    "ɝ": _V(0.4, -0.35, 0.2, 1.0),
    "ɔ": _V(0.7, -0.55, 0.15, 1.2),
    "o": _V(0.55, -0.65, 0.15, 1.2),
    "ɵ": _V(0.45, -0.5, 0.15, 1.2),
    "ʊ": _V(0.3, -0.6, 0.15, 1.2),
    "u": _V(0.25, -0.85, 0.12, 1.3),
    "ʉ": _V(0.25, -0.7, 0.12, 1.3),
    "y": _V(0.25, -0.8, 0.12, 1.3),
    "ø": _V(0.4, -0.7, 0.15, 1.2),
    "œ": _V(0.55, -0.5, 0.15, 1.2),
    "w": _V(0.1, -0.85, 0.2, 2.5),
    "ʍ": _V(0.1, -0.85, 0.2, 2.5),
    "ɹ": _V(0.2, -0.4, 0.3, 1.5),
    "r": _V(0.2, -0.3, 0.3, 1.2),
    "ʃ": _V(0.16, -0.45, 0.5, 2.0),
    "ʒ": _V(0.16, -0.45, 0.5, 2.0),
    "ʧ": _V(0.16, -0.45, 0.5, 2.0),
    "ʤ": _V(0.16, -0.45, 0.5, 2.0),
    # teeth nearly together
    "s": _V(0.1, 0.2, 0.55, 1.5),
    "z": _V(0.1, 0.2, 0.55, 1.5),
    "θ": _V(0.2, 0.05, 0.45, 1.5, tongue_out=1.0),
    "ð": _V(0.2, 0.05, 0.45, 1.2, tongue_out=1.0),
    # tongue consonants: shaped mostly by the vowels around them; the tip rises to the teeth ridge
    "t": _V(0.2, 0.05, 0.25, 0.8, tongue=1.0),
    "d": _V(0.2, 0.05, 0.25, 0.8, tongue=1.0),
    "n": _V(0.2, 0.05, 0.25, 0.7, tongue=1.0),
    "ɾ": _V(0.25, 0.05, 0.25, 0.6, tongue=0.8),
    "l": _V(0.3, 0.0, 0.25, 0.7, tongue=1.0),
    "ɫ": _V(0.3, -0.1, 0.25, 0.7, tongue=1.0),
    "k": _V(0.25, 0.0, 0.2, 0.6),
    "ɡ": _V(0.25, 0.0, 0.2, 0.6),
    "g": _V(0.25, 0.0, 0.2, 0.6),
    "ŋ": _V(0.22, 0.0, 0.2, 0.6),
    "x": _V(0.25, 0.0, 0.2, 0.6),
    "ç": _V(0.2, 0.3, 0.3, 0.8),
    "h": _V(0.3, 0.0, 0.2, 0.2),
    "ʔ": _V(0.15, 0.0, 0.2, 0.5),
}
VOWELS = set("aɑæʌɐɒɛeɪiᵻɨəɘɜɚɝɔoɵʊuʉyøœ")
PAUSE_SYMBOLS = set("^$_.,;:!?…—–-\"'()")
STRESS_MARKS = {"ˈ", "ˌ"}  # their time belongs to the phoneme after them
LENGTH_MARKS = {"ː", "ˑ"}  # their time belongs to the phoneme before them
CORE_SHARE = 0.7  # share of a phoneme's own interval at full weight
SPREAD_S = {"vowel": 0.07, "other": 0.035}  # how far a phoneme's influence reaches past its core (1/e)
REACH_S = 0.35  # ignore influence beyond this distance
AUDIO_GAIN_FLOOR = 0.55  # a quiet vowel still opens this share of its viseme
BILABIAL_MAX_OPEN = 0.0  # m b p: lips fully closed


def viseme_for(symbol: str) -> Viseme:
    if symbol in VISEMES:
        return VISEMES[symbol]
    if not symbol.strip() or all(ch in PAUSE_SYMBOLS for ch in symbol):
        return REST
    base = unicodedata.normalize("NFD", symbol)[0].lower()
    return VISEMES.get(base, UNKNOWN)


def _is_modifier(symbol: str) -> bool:
    return (
        all(unicodedata.combining(ch) or unicodedata.category(ch) == "Lm" for ch in symbol)
        and symbol not in STRESS_MARKS
        and symbol not in LENGTH_MARKS
    )


def merge_marks(phones: tuple[Phone, ...]) -> list[Phone]:
    """Give the time of stress and length marks (and combining diacritics) to the phonemes they modify."""
    out: list[Phone] = []
    carry_start: float | None = None
    for ph in phones:
        if ph.symbol in STRESS_MARKS:
            carry_start = ph.start_s if carry_start is None else carry_start
            continue
        if (ph.symbol in LENGTH_MARKS or _is_modifier(ph.symbol)) and out:
            out[-1] = Phone(out[-1].symbol, out[-1].start_s, max(out[-1].end_s, ph.end_s))
            continue
        start = carry_start if carry_start is not None else ph.start_s
        carry_start = None
        out.append(Phone(ph.symbol, start, ph.end_s))
    return out


def _is_vowel(symbol: str) -> bool:
    return bool(symbol) and unicodedata.normalize("NFD", symbol)[0].lower() in VOWELS


def mouth_from_timings(timings: Timings, feat: AudioFeatures) -> MouthTrack:
    n, fps = len(feat), feat.fps
    t = (np.arange(n) + 0.5) / fps
    acc = np.zeros((n, 5))
    weight = np.full(n, 1e-6)
    phones = merge_marks(timings.phones)
    for ph in phones:
        vis = viseme_for(ph.symbol)
        centre, half = 0.5 * (ph.start_s + ph.end_s), 0.5 * (ph.end_s - ph.start_s)
        spread = SPREAD_S["vowel" if _is_vowel(ph.symbol) else "other"]
        lo = np.searchsorted(t, centre - half - REACH_S)
        hi = np.searchsorted(t, centre + half + REACH_S)
        if hi <= lo:
            continue
        dist = np.maximum(np.abs(t[lo:hi] - centre) - CORE_SHARE * half, 0.0)
        w = vis.dominance * np.exp(-dist / spread)
        acc[lo:hi] += w[:, None] * np.array([vis.open, vis.width, vis.upper, vis.tongue, vis.tongue_out])
        weight[lo:hi] += w
    shape = acc / weight[:, None]
    open_, width, upper, tongue, tongue_out = (shape[:, k] for k in range(5))
    open_ = smooth(open_, (1, 3, 1)) * (AUDIO_GAIN_FLOOR + (1.0 - AUDIO_GAIN_FLOOR) * feat.level**0.7)
    open_ = calibrated(open_, feat.silent)
    for ph in phones:  # lip closures and teeth-on-lip must actually be reached, however short
        vis = viseme_for(ph.symbol)
        if vis.kind not in ("closed", "teeth"):
            continue
        frames = np.flatnonzero((t >= ph.start_s) & (t <= ph.end_s))
        if frames.size == 0:
            frames = np.array([min(n - 1, max(0, math.floor(0.5 * (ph.start_s + ph.end_s) * fps)))])
        if vis.kind == "closed":
            open_[frames] = np.minimum(open_[frames], BILABIAL_MAX_OPEN)
        else:
            open_[frames] = np.minimum(open_[frames], vis.open)
            upper[frames] = np.maximum(upper[frames], 0.9)
    open_[feat.silent] = 0.0
    # a tongue tip shows only where the phoneme itself dominates (not smeared over its neighbours)
    tongue = np.clip((tongue - 0.25) / 0.5, 0.0, 1.0)
    tongue_out = np.clip((tongue_out - 0.25) / 0.5, 0.0, 1.0)
    return MouthTrack(open_, width, upper, tongue, tongue_out, speaking_weight(feat.silent, fps)).clipped()


def timings_match_audio(timings: Timings, audio_s: float) -> bool:
    return abs(timings.duration_s - audio_s) <= max(0.5, 0.05 * audio_s)
