"""The JSON run manifest written beside every video: inputs, stages, engine attempts, output facts."""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Any

from presgen_training import __version__
from presgen_training.files import atomic_output

MANIFEST_VERSION = 1


def manifest_path_for(video: Path) -> Path:
    return video.with_name(video.stem + ".manifest.json")


def base_manifest() -> dict[str, Any]:
    return {
        "manifest_version": MANIFEST_VERSION,
        "presgen_version": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    with atomic_output(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, default=str) + "\n")
