"""Cache of finished section clips (48 kHz, loudness-normalized, with alignments and word times), keyed by
what made them: the voice's identity (model, settings, rate), the processing settings and the section's plan
(its written and spoken tokens and pauses, so the normalizer, lexicon and language are in the key by what they
produced). Repeat renders, and renders that edit other sections, are exact and fast.

One ``.npz`` file per clip, written to a temp name and renamed. A file that cannot be read is treated as missing
and rewritten.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from presgen_training.files import atomic_output
from presgen_training.narration.section_audio import SectionAudio
from presgen_training.narration.voice import Clip
from presgen_training.timeline import Word

log = logging.getLogger(__name__)

CACHE_VERSION = 3  # bump when the stored clip format or its meaning changes (2: 48 kHz, loudness, words; 3: driver)


def clip_key(voice_identity: str, plan: Any) -> str:
    payload = json.dumps([CACHE_VERSION, voice_identity, plan], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class ClipCache:
    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory).expanduser()

    def path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.npz"

    def get(self, key: str) -> SectionAudio | None:
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                symbols = [str(s) for s in data["symbols"]]
                counts = [int(c) for c in data["counts"]]
                clip = Clip(
                    data["samples"].astype(np.int16),
                    int(data["sample_rate"]),
                    tuple(zip(symbols, counts, strict=False)),
                )
                words = [
                    Word(str(t), float(a), float(b))
                    for t, (a, b) in zip(data["word_texts"], data["word_times"].reshape(-1, 2), strict=False)
                ]
                source = str(data["timing_source"])
                driver = data["driver"].astype(np.int16)
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            log.warning("ignoring unreadable narration cache file %s: %s", path, exc)
            return None
        if (clip.alignments and sum(counts) != len(clip.samples)) or len(driver) != len(clip.samples):
            log.warning("ignoring inconsistent narration cache file %s", path)
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # `presgen cache prune` drops the least recently used files first
        return SectionAudio(clip, words, source, driver)

    def put(self, key: str, audio: SectionAudio) -> None:
        """Best effort: a cache that cannot be written is a warning, never a failed render."""
        path = self.path(key)
        clip = audio.clip
        try:
            with atomic_output(path) as tmp, tmp.open("wb") as fh:
                np.savez(
                    fh,
                    samples=clip.samples.astype(np.int16),
                    sample_rate=np.int64(clip.sample_rate),
                    symbols=np.array([s for s, _ in clip.alignments], dtype=str),
                    counts=np.array([c for _, c in clip.alignments], dtype=np.int64),
                    word_texts=np.array([w.text for w in audio.words], dtype=str),
                    word_times=np.array([(w.start_s, w.end_s) for w in audio.words], dtype=np.float64),
                    timing_source=np.array(audio.timing_source),
                    driver=audio.driver.astype(np.int16),
                )
        except OSError as exc:
            log.warning("cannot write the narration cache file %s: %s", path, exc)
