"""A piper voice that starts fast and speaks each sentence once: the model prepared once and kept in the cache, and
every sentence's samples kept in the cache by its phoneme ids.

Loading a voice the way piper does (``include_alignments=True``) imports ``onnx``, patches the 63 MB model in memory
to output phoneme durations, and lets onnxruntime optimize the graph: ~3 s on 2 cores, paid by every render that
speaks a word. The prepared model (patched, graph-optimized at the portable level) loads in ~0.5 s.

piper speaks a text one sentence at a time, the model seeing one sentence's phoneme ids per run; with no sampling
noise a sentence's samples depend only on those ids and the synthesis settings. So an edited sentence costs one
sentence, not its whole section, and a full render and a re-render give the same samples.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.metadata
import io
import json
import logging
import os
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from presgen_training import cache_store
from presgen_training.files import atomic_output
from presgen_training.narration.onnx_runtime import onnxruntime

log = logging.getLogger(__name__)

MODEL_AREA = "voices"  # cache area of prepared models
MODEL_SUFFIX = ".prepared.onnx"
SENTENCE_SUFFIX = ".sentence.npz"
PREPARE_VERSION = 1  # bump when the preparation changes what the model computes
SENTENCE_VERSION = 1  # bump when the stored sentence format changes


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "absent"


@functools.lru_cache(maxsize=4)
def load_voice_model(model: Path, config: Path, model_digest: str) -> tuple[Any, str]:
    """(the piper voice of ``model``, its session made from the prepared model in the cache (prepared now when
    missing); the prepared model's key, which names the model in sentence keys)."""
    ort = onnxruntime()
    from piper import PiperConfig, PiperVoice

    key = cache_store.content_key(
        {
            "prepare": PREPARE_VERSION,
            "model": model_digest,
            "onnxruntime": _version("onnxruntime"),
            "onnx": _version("onnx"),
            "piper": _version("piper-tts"),
        }
    )
    store = cache_store.Store(MODEL_AREA)
    prepared: Path | bytes | None = store.get(key, MODEL_SUFFIX)
    if prepared is None:
        try:
            with store.lock(key):
                prepared = store.get(key, MODEL_SUFFIX) or _prepare(model, store.path(key, MODEL_SUFFIX))
        except OSError as exc:  # no lock in an unwritable cache: prepare in memory
            log.warning("cannot keep the prepared piper model in the cache: %s", exc)
            prepared = _prepare(model, None)
    session = ort.InferenceSession(
        str(prepared) if isinstance(prepared, Path) else prepared or str(model),
        sess_options=ort.SessionOptions(),
        providers=["CPUExecutionProvider"],
    )
    voice_config = PiperConfig.from_dict(json.loads(config.read_text(encoding="utf-8")))
    return PiperVoice(config=voice_config, session=session), key


def _prepare(model: Path, final: Path | None) -> Path | bytes | None:
    """The model with its alignment output: written to ``final`` with its graph optimized (at the level that holds
    on any CPU, since the cache may be shared by a cluster), or as bytes when it cannot be written there; None when
    ``onnx`` is missing (piper then gives no alignments)."""
    ort = onnxruntime()
    try:
        import onnx
        from piper.patch_voice_with_alignment import add_alignment_output
    except ImportError:
        log.warning(
            "the onnx package is missing, so piper gives no phoneme alignments; install it with: "
            ".venv/bin/pip install 'piper-tts[alignment]==1.8.0'"
        )
        return None
    graph = onnx.load(str(model))
    try:
        add_alignment_output(graph)
    except ValueError as exc:  # the model file already has the alignment output
        log.debug("not patching %s: %s", model, exc)
    patched: bytes = graph.SerializeToString()
    if final is None:
        return patched
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    try:
        with atomic_output(final) as tmp:
            options.optimized_model_filepath = str(tmp)
            ort.InferenceSession(patched, sess_options=options, providers=["CPUExecutionProvider"])
    except OSError as exc:
        log.warning("cannot keep the prepared piper model in the cache: %s", exc)
        return patched
    return final


def with_sentence_cache(voice: Any, model_key: str, directory: Path) -> Any:
    """``voice`` whose model runs are served from ``directory`` when it ran on the same input before."""
    return dataclasses.replace(voice, session=SentenceCache(voice.session, model_key, Path(directory)))


class SentenceCache:
    """An onnxruntime session in front of which each run's outputs are kept by its inputs (one run: one sentence).
    Runs that sample noise (a noise scale not 0) are passed through: their output is not a function of the input."""

    def __init__(self, session: Any, model_key: str, directory: Path) -> None:
        self.session = session
        self.model_key = model_key
        self.directory = directory

    def __getattr__(self, name: str) -> Any:
        return getattr(self.session, name)

    def run(self, output_names: Any, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        scales = feeds.get("scales")
        if output_names is not None or scales is None or scales[0] != 0 or scales[2] != 0:
            outputs: list[np.ndarray] = self.session.run(output_names, feeds)
            return outputs
        path = self.path(feeds)
        found = self._read(path)
        if found is not None:
            return found
        outputs = self.session.run(None, feeds)
        self._write(path, outputs)
        return outputs

    def path(self, feeds: dict[str, np.ndarray]) -> Path:
        key = cache_store.content_key(
            {
                "sentence": SENTENCE_VERSION,
                "model": self.model_key,
                "inputs": {name: np.asarray(value).tolist() for name, value in sorted(feeds.items())},
            }
        )
        return self.directory / key[:2] / f"{key}{SENTENCE_SUFFIX}"

    def _read(self, path: Path) -> list[np.ndarray] | None:
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                outputs = [np.array(data[f"arr_{i}"]) for i in range(len(data.files))]
            os.utime(path)  # `presgen cache prune` drops the least recently used files first
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            log.warning("ignoring unreadable sentence cache file %s: %s", path, exc)
            return None
        return outputs

    def _write(self, path: Path, outputs: list[np.ndarray]) -> None:
        """Best effort: a cache that cannot be written is a warning, never a failed render."""
        buffer = io.BytesIO()
        np.savez(buffer, *outputs)  # stored as arr_0, arr_1, ... in the order of the model's outputs
        try:
            with atomic_output(path) as tmp:
                tmp.write_bytes(buffer.getvalue())
        except OSError as exc:
            log.warning("cannot write the sentence cache file %s: %s", path, exc)
