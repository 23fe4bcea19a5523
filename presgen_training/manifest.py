"""The JSON run manifest written beside every video: inputs, stages, engine attempts, output facts."""
from __future__ import annotations

import hashlib
import json
import os
import platform
import tempfile
from pathlib import Path
from typing import Any

from presgen_training import __version__

MANIFEST_VERSION = 1
HASH_CHUNK_BYTES = 1 << 20


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def manifest_path_for(video: Path) -> Path:
    return video.with_name(video.stem + ".manifest.json")


def base_manifest() -> dict[str, Any]:
    return {"manifest_version": MANIFEST_VERSION, "presgen_version": __version__,
            "python": platform.python_version(), "platform": platform.platform()}


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh, indent=2, default=str)
            fh.write("\n")
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
