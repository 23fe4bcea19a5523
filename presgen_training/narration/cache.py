"""Cache of synthesized section clips, keyed by (voice identity, text), so repeat renders are exact and fast.

One ``.npz`` file per clip (samples, sample rate, alignments), written to a temp name and renamed. A file that
cannot be read is treated as missing and rewritten.
"""
from __future__ import annotations

import hashlib
import json
import logging
import zipfile
from pathlib import Path

import numpy as np

from presgen_training.files import atomic_output
from presgen_training.narration.voice import Clip

log = logging.getLogger(__name__)

CACHE_VERSION = 1  # bump when the stored clip format or its meaning changes


def clip_key(voice_identity: str, text: str) -> str:
    payload = json.dumps([CACHE_VERSION, voice_identity, text], ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class ClipCache:
    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory).expanduser()

    def path(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.npz"

    def get(self, key: str) -> Clip | None:
        path = self.path(key)
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                symbols = [str(s) for s in data["symbols"]]
                counts = [int(c) for c in data["counts"]]
                clip = Clip(data["samples"].astype(np.int16), int(data["sample_rate"]), tuple(zip(symbols, counts)))
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            log.warning("ignoring unreadable narration cache file %s: %s", path, exc)
            return None
        if clip.alignments and sum(counts) != len(clip.samples):
            log.warning("ignoring inconsistent narration cache file %s", path)
            return None
        return clip

    def put(self, key: str, clip: Clip) -> None:
        """Best effort: a cache that cannot be written is a warning, never a failed render."""
        path = self.path(key)
        try:
            with atomic_output(path) as tmp, tmp.open("wb") as fh:
                np.savez(fh, samples=clip.samples.astype(np.int16), sample_rate=np.int64(clip.sample_rate),
                         symbols=np.array([s for s, _ in clip.alignments], dtype=str),
                         counts=np.array([c for _, c in clip.alignments], dtype=np.int64))
        except OSError as exc:
            log.warning("cannot write the narration cache file %s: %s", path, exc)
