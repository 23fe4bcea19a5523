"""onnxruntime (piper's inference engine), imported so that it leaves nothing behind and reports nothing.

onnxruntime 1.2x writes a telemetry session id to ``$TMPDIR/.ses`` the first time it is imported, and has
telemetry events on by default. PresGen promises an offline tool that leaves nothing in TMPDIR: the import runs with
TMPDIR pointing into PresGen's cache, and telemetry events are switched off right after.
"""

from __future__ import annotations

import functools
import os
from types import ModuleType

from presgen_training.config import cache_dir


@functools.lru_cache(maxsize=1)
def onnxruntime() -> ModuleType:
    """The onnxruntime module (ImportError when it is not installed)."""
    home = cache_dir() / "onnxruntime"
    home.mkdir(parents=True, exist_ok=True)
    previous = os.environ.get("TMPDIR")
    os.environ["TMPDIR"] = str(home)
    try:
        import onnxruntime as ort
    finally:
        if previous is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = previous
    disable = getattr(ort, "disable_telemetry_events", None)
    if disable is not None:
        disable()
    module: ModuleType = ort
    return module
