"""Where upstream MuseTalk's code and weights must be, and what is missing.

Upstream reads its weights from paths relative to its own folder (``models/...``, several hard-coded), so the
weights must sit in ``<vendor>/models`` (a symlink to a folder elsewhere is fine).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

ENTRY_SCRIPT = Path("scripts") / "inference.py"
VENDOR_MARKER = ".presgen-vendor.json"  # written by `presgen env vendor`
UNET_WEIGHTS = "models/musetalkV15/unet.pth"
UNET_CONFIG = "models/musetalkV15/musetalk.json"
# Each entry: files of which one must exist (diffusers/transformers accept .bin or .safetensors).
REQUIRED_MODEL_FILES: tuple[tuple[str, ...], ...] = (
    (UNET_WEIGHTS,),
    (UNET_CONFIG,),
    ("models/sd-vae/config.json",),
    ("models/sd-vae/diffusion_pytorch_model.bin", "models/sd-vae/diffusion_pytorch_model.safetensors"),
    ("models/whisper/config.json",),
    ("models/whisper/pytorch_model.bin", "models/whisper/model.safetensors"),
    ("models/whisper/preprocessor_config.json",),
    ("models/dwpose/dw-ll_ucoco_384.pth",),
    ("models/face-parse-bisent/79999_iter.pth",),
    ("models/face-parse-bisent/resnet18-5c106cde.pth",),
)
# Fetched by upstream at run time from the face-alignment author's site unless already cached.
S3FD_CHECKPOINT = "s3fd-619a316812.pth"


def default_vendor_dir() -> Path:
    return Path(__file__).resolve().parents[3] / "vendor" / "MuseTalk"


def missing_models(vendor: Path) -> list[str]:
    return [alts[0] for alts in REQUIRED_MODEL_FILES if not any((vendor / a).is_file() for a in alts)]


def unavailable_reason(vendor: Path) -> str | None:
    """Why upstream cannot run from ``vendor`` (not vendored, weights missing), naming the fix; None if it can."""
    if not (vendor / ENTRY_SCRIPT).is_file():
        return f"upstream MuseTalk is not vendored ({vendor / ENTRY_SCRIPT} not found); run: make vendor"
    missing = missing_models(vendor)
    if missing:
        shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        return (
            f"upstream MuseTalk's weights are missing in {vendor}: {shown} (or link a folder that has them: "
            f"ln -s /path/to/models {vendor / 'models'}); run: cd {vendor} && sh download_weights.sh"
        )
    return None


def vendored_commit(vendor: Path) -> str | None:
    try:
        return str(json.loads((vendor / VENDOR_MARKER).read_text())["commit"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def s3fd_cached() -> bool:
    torch_home = Path(os.environ.get("TORCH_HOME", Path.home() / ".cache" / "torch"))
    return (torch_home / "hub" / "checkpoints" / S3FD_CHECKPOINT).is_file()
