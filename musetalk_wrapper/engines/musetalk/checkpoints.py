"""Reading checkpoint files and loading them strictly (every key, every shape).

Any problem becomes ENGINE_UNAVAILABLE naming the file and the command that re-fetches it.
Models are built on the meta device and the checkpoint tensors are assigned in place: no random init,
no second copy of the weights in memory.
"""

from __future__ import annotations

import os
import pickle
import re
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path

import torch
from torch import nn

from musetalk_wrapper import weights
from musetalk_wrapper.contract import EngineError, ErrorCode

StateDict = dict[str, torch.Tensor]
MAX_LISTED_KEYS = 5

# diffusers <= 0.4 (the 2022 sd-vae-ft-mse file) named the VAE's mid-block attention projections like this.
_LEGACY_ATTENTION = re.compile(r"^(.*\.attentions\.\d+\.)(query|key|value|proj_attn)\.(weight|bias)$")
_LEGACY_NAMES = {"query": "to_q", "key": "to_k", "value": "to_v", "proj_attn": "to_out.0"}


def unusable(path: Path, models_dir: Path, problem: str) -> EngineError:
    """ENGINE_UNAVAILABLE for a weights file, with the command that fetches a good copy."""
    rel = _relative(path, models_dir)
    wf = weights.BY_PATH.get(rel) or next((f for f in weights.FILES if rel.startswith(f.path.rsplit("/", 1)[0])), None)
    fix = (
        (
            f"; fetch it again with: {weights.fetch_command(wf, models_dir)}"
            f" (by hand: {weights.manual_command(wf, models_dir)})"
        )
        if wf
        else ""
    )
    return EngineError(
        ErrorCode.ENGINE_UNAVAILABLE, f"unusable MuseTalk weights file {path}: {problem}{fix}", {"file": str(path)}
    )


def _relative(path: Path, models_dir: Path) -> str:
    try:  # abspath, not resolve(): a symlinked file still names its place in the models folder
        rel = Path(os.path.abspath(path)).relative_to(os.path.abspath(models_dir)).as_posix()
    except ValueError:
        return path.name
    for wf in weights.FILES:  # an accepted alternative name maps to its official entry
        folder = wf.path.rsplit("/", 1)[0]
        if rel.startswith(folder + "/") and Path(rel).name in wf.alternatives:
            return wf.path
    return rel


def read_state_dict(path: Path, models_dir: Path) -> StateDict:
    """Tensors of a torch (zip or legacy) or safetensors file; never runs pickled code."""
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            try:
                data: object = load_file(str(path), device="cpu")
            except Exception as exc:  # safetensors raises its own SafetensorError for bad headers
                raise ValueError(str(exc)) from exc
        else:
            with path.open("rb") as fh:
                is_zip = fh.read(4) == weights.ZIP_MAGIC
            data = torch.load(path, map_location="cpu", weights_only=True, mmap=is_zip)
    except FileNotFoundError:
        raise unusable(path, models_dir, "missing") from None
    except (
        pickle.UnpicklingError,
        RuntimeError,
        EOFError,
        zipfile.BadZipFile,
        ValueError,
        OSError,
        AttributeError,
        TypeError,
    ) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise unusable(path, models_dir, f"cannot be read as a checkpoint ({first})") from exc
    if isinstance(data, Mapping) and "state_dict" in data and isinstance(data["state_dict"], Mapping):
        data = data["state_dict"]
    if not isinstance(data, Mapping) or not data or not all(isinstance(v, torch.Tensor) for v in data.values()):
        raise unusable(path, models_dir, "not a plain state_dict of tensors")
    return dict(data)


def rename_legacy_attention(sd: StateDict) -> StateDict:
    """Map diffusers' old VAE attention names (query/key/value/proj_attn) to the current ones."""
    out: StateDict = {}
    for key, tensor in sd.items():
        m = _LEGACY_ATTENTION.match(key)
        out[f"{m[1]}{_LEGACY_NAMES[m[2]]}.{m[3]}" if m else key] = tensor
    return out


def _listed(keys: list[str]) -> str:
    shown = ", ".join(keys[:MAX_LISTED_KEYS])
    return shown + (f" (+{len(keys) - MAX_LISTED_KEYS} more)" if len(keys) > MAX_LISTED_KEYS else "")


def mismatch(
    module: nn.Module, sd: Mapping[str, torch.Tensor], allow_missing: Callable[[str], bool] | None = None
) -> str | None:
    """Why ``sd`` does not fit ``module`` exactly (missing / unexpected keys, wrong shapes), or None."""
    own = module.state_dict(keep_vars=True)
    missing = [k for k in own if k not in sd and not (allow_missing and allow_missing(k))]
    unexpected = [k for k in sd if k not in own]
    shapes = [
        f"{k} {list(sd[k].shape)} (expected {list(own[k].shape)})"
        for k in own
        if k in sd and tuple(sd[k].shape) != tuple(own[k].shape)
    ]
    problems = []
    if missing:
        problems.append(f"{len(missing)} missing key(s): {_listed(missing)}")
    if unexpected:
        problems.append(f"{len(unexpected)} unexpected key(s): {_listed(unexpected)}")
    if shapes:
        problems.append(f"{len(shapes)} wrong shape(s): {_listed(shapes)}")
    return "; ".join(problems) or None


def load_strict(
    module: nn.Module,
    sd: Mapping[str, torch.Tensor],
    path: Path,
    models_dir: Path,
    what: str,
    materialized: bool = True,
) -> None:
    """Load every tensor of ``sd`` into ``module`` (strict), assigning them in place of meta tensors.

    ``materialized=False`` accepts meta tensors in ``sd`` (key/shape proofs without the weights)."""
    problem = mismatch(module, sd)
    if problem:
        raise unusable(path, models_dir, f"does not match the {what} architecture: {problem}")
    module.load_state_dict(sd, strict=True, assign=True)
    if not materialized:
        return
    left = [n for n, t in [*module.named_parameters(), *module.named_buffers()] if t.is_meta]
    if left:  # a buffer that is neither in the file nor computed at construction: a bug, not a user error
        raise RuntimeError(f"{what}: tensors left uninitialised after loading: {_listed(left)}")
