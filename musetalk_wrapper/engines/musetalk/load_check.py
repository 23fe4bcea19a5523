"""``python -m musetalk_wrapper.engines.musetalk.load_check [--models-dir D]``: load every network of a models
folder the way a render does (strictly: every key, every shape; large files memory-mapped), without running one.

Run in the musetalk env by ``presgen weights fetch`` after the download. stdout: one JSON object,
``{"ok": true, "models_dir": ...}`` or ``{"ok": false, "problem": "...", "file": "..."}``; exit 0 or 1.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path

from musetalk_wrapper import weights
from musetalk_wrapper.contract import EngineError, ErrorCode


def load_all(models_dir: Path) -> None:
    """Raise ENGINE_UNAVAILABLE naming the first file that does not load strictly."""
    problem = weights.first_problem(models_dir)
    if problem:
        raise EngineError(ErrorCode.ENGINE_UNAVAILABLE, problem)
    import torch

    from musetalk_wrapper.engines.musetalk import models

    cpu = torch.device("cpu")
    models.check_compatible(models_dir)
    models.load_unet(models_dir, cpu, torch.float32)
    models.load_vae(models_dir, cpu, torch.float32)
    models.load_whisper_encoder(models_dir, cpu, torch.float32)
    models.load_feature_extractor(models_dir)
    models.load_bisenet(models_dir, cpu)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m musetalk_wrapper.engines.musetalk.load_check",
        description="Load every MuseTalk network strictly, without running one.",
    )
    parser.add_argument("--models-dir", type=Path, help=f"models folder (default: ${weights.MODELS_ENV} or ./models)")
    args = parser.parse_args(argv)
    models_dir = weights.resolve_models_dir(args.models_dir)
    result: dict[str, object] = {"ok": True, "models_dir": str(models_dir)}
    try:
        with contextlib.redirect_stdout(sys.stderr):  # stdout carries the one JSON object
            load_all(models_dir)
    except EngineError as err:
        result = {"ok": False, "models_dir": str(models_dir), "problem": err.message, "file": err.details.get("file")}
    print(json.dumps(result))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
