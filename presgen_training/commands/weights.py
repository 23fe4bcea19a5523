"""``presgen weights check`` and ``presgen weights fetch``: the MuseTalk models folder.

Both live in the wrapper (``musetalk_wrapper/weights.py``, standard library only, and
``musetalk_wrapper/weights_fetch.py``, huggingface_hub), over one table of files (``weights_files.json``); the
orchestrator never imports them but runs ``<this python> -m ...`` and reads their JSON. After a fetch, every
network is loaded strictly in the musetalk engine's env (``musetalk_wrapper.engines.musetalk.load_check``).
Models folder: ``--models-dir``, else ``[paths] models_dir`` of the config, else the wrapper's default
(``$PRESGEN_MODELS`` or ``./models``). Exit 0 only when every required file is in place (and loads).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from presgen_training import wrapper_client
from presgen_training.config import cache_dir, load_config
from presgen_training.envs import engine_python
from presgen_training.errors import PresgenError

EXIT_COMPLETE, EXIT_INCOMPLETE = 0, 1
CHECK_TIMEOUT_S = 600.0  # --verify-hashes reads ~3.8 GB
LOAD_CHECK_TIMEOUT_S = 900.0  # imports torch/diffusers and memory-maps 3.4 GB
WEIGHTS_MODULE = "musetalk_wrapper.weights"
FETCH_MODULE = "musetalk_wrapper.weights_fetch"
LOAD_CHECK_MODULE = "musetalk_wrapper.engines.musetalk.load_check"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "weights",
        help="check or fetch the MuseTalk model weights",
        description="Check the MuseTalk V1.5 models folder, or fetch the official "
        "files into it (pinned revisions, sizes and sha256 checked, resumable).",
    )
    actions = parser.add_subparsers(dest="weights_action", metavar="ACTION")
    chk = actions.add_parser("check", help="list missing or broken files and how to fetch them")
    chk.add_argument(
        "--models-dir", type=Path, help="models folder (default: config paths.models_dir, $PRESGEN_MODELS, or ./models)"
    )
    chk.add_argument("--json", action="store_true", help="print the report as one JSON object")
    chk.add_argument("--verify-hashes", action="store_true", help="also compare sha256 where known (slow)")
    chk.set_defaults(func=run)
    fetch = actions.add_parser(
        "fetch",
        help="download the official files, checked, into the models folder",
        description="Download the official MuseTalk V1.5 files that are missing or "
        "different (Hugging Face Hub at pinned revisions; resnet18 and BiSeNet from their "
        "own hosts), check sizes and sha256, place each file atomically, then load every "
        "network strictly in the musetalk env. Interrupted? Run it again: it resumes. "
        "Honours HF_ENDPOINT, HF_HOME / HF_HUB_CACHE and HF_HUB_OFFLINE=1.",
    )
    fetch.add_argument(
        "--models-dir", type=Path, help="models folder (default: config paths.models_dir, $PRESGEN_MODELS, or ./models)"
    )
    fetch.add_argument(
        "--with-dwpose",
        action="store_true",
        help="also the DWPose models (--landmarks dwpose-onnx; the musetalk-upstream engine)",
    )
    fetch.add_argument(
        "--revision",
        action="append",
        default=[],
        metavar="REPO=REV",
        help="fetch REPO at REV instead of the pinned revision (sizes/sha256 then come from the hub)",
    )
    fetch.add_argument("--force", action="store_true", help="fetch again even files already in place")
    fetch.add_argument("--table", type=Path, help="another file table (a mirror's), in weights_files.json's format")
    fetch.add_argument("--no-load-check", action="store_true", help="skip loading the networks afterwards")
    fetch.add_argument("--json", action="store_true", help="print the report as one JSON object")
    fetch.set_defaults(func=run_fetch)
    parser.set_defaults(func=_usage(parser))


def _usage(parser: argparse.ArgumentParser) -> Any:
    def show(_args: argparse.Namespace) -> int:
        parser.print_help()
        return EXIT_INCOMPLETE

    return show


def models_dir_for(args: argparse.Namespace) -> Path | None:
    given: Path | None = args.models_dir
    if given is not None:
        return given
    return load_config().models_dir


def check_report(models_dir: Path | None, verify_hashes: bool = False) -> dict[str, Any]:
    """Run the wrapper's check through the wrapper client and return its JSON report."""
    args = ["check", "--json"]
    if models_dir is not None:
        args += ["--models-dir", str(Path(models_dir).resolve())]
    if verify_hashes:
        args.append("--verify-hashes")
    try:
        report = wrapper_client.call(
            Path(sys.executable), args, CHECK_TIMEOUT_S, module=WEIGHTS_MODULE, what="the weights check"
        ).obj
    except wrapper_client.WrapperFailure as exc:
        raise PresgenError(exc.reason) from None
    if "files" not in report or "complete" not in report:
        raise PresgenError("the weights check printed an unexpected report")
    return report


def render_text(report: dict[str, Any]) -> str:
    lines = [f"MuseTalk models folder: {report['models_dir']}"]
    width = max((len(f["path"]) for f in report["files"]), default=0)
    for f in report["files"]:
        mark = {"ok": "ok", "missing": "MISSING", "invalid": "INVALID"}.get(f["status"], f["status"])
        note = f["needed_for"] + ("" if f["required"] else ", optional")
        problem = "" if f["status"] == "ok" else f"  <- {f['problem']}"
        lines.append(f"  {mark:<8}{f['path']:<{width}}  ({note}){problem}")
    if report["complete"]:
        lines.append("Complete: the musetalk engine has every file it needs.")
    else:
        fetch = [c for c in report["commands"] if c.startswith("presgen ")]
        manual = [c for c in report["commands"] if not c.startswith("presgen ")]
        lines.append("Incomplete. Fetch what is missing (checked, resumable):")
        lines += [f"  {cmd}" for cmd in fetch]
        if manual:
            lines.append("or by hand where there is network (then copy the folder here):")
            lines += [f"  {cmd}" for cmd in manual]
            lines.append('  (huggingface-cli: pip install "huggingface_hub[cli]")')
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    report = check_report(models_dir_for(args), verify_hashes=args.verify_hashes)
    print(json.dumps(report, indent=2) if args.json else render_text(report))
    return EXIT_COMPLETE if report["complete"] else EXIT_INCOMPLETE


def fetch_files(args: argparse.Namespace, models_dir: Path | None) -> dict[str, Any]:
    """Run the wrapper's fetch; its progress bars go straight to this terminal, its JSON report is returned.
    No time limit: the user watches the download (Ctrl-C stops it; the same command resumes)."""
    cmd = ["--json", "--download-cache", str(cache_dir() / "weights")]
    if models_dir is not None:
        cmd += ["--models-dir", str(Path(models_dir).resolve())]
    if args.with_dwpose:
        cmd.append("--with-dwpose")
    if args.force:
        cmd.append("--force")
    if args.table is not None:
        cmd += ["--table", str(Path(args.table).resolve())]
    for item in args.revision:
        cmd += ["--revision", item]
    try:
        report = wrapper_client.call(
            Path(sys.executable), cmd, None, module=FETCH_MODULE, what="the weights fetch", show_stderr=True
        ).obj
    except wrapper_client.WrapperFailure as exc:
        raise PresgenError(f"{exc.reason}; see the lines above") from None
    if "files" not in report:
        raise PresgenError("the weights fetch printed an unexpected report")
    return report


def load_check(models_dir: Path | None, env: str | None = None) -> dict[str, Any]:
    """Every network loaded strictly in the musetalk engine's env: {"ok", "problem"?, "file"?} or "skipped"."""
    python, reason, env_name = engine_python("musetalk", env, load_config())
    if python is None:
        return {
            "ok": None,
            "skipped": f"the {env_name} env is not ready ({reason}); the engine loads the "
            f"networks strictly on its first render",
        }
    args = ["--models-dir", str(Path(models_dir).resolve())] if models_dir is not None else []
    try:
        return wrapper_client.call(
            python, args, LOAD_CHECK_TIMEOUT_S, module=LOAD_CHECK_MODULE, what=f"the load check in {python}"
        ).obj
    except wrapper_client.WrapperFailure as exc:
        return {"ok": False, "problem": exc.reason}


def run_fetch(args: argparse.Namespace) -> int:
    models_dir = models_dir_for(args)
    report = fetch_files(args, models_dir)
    report["load_check"] = load_check(models_dir) if report["complete"] and not args.no_load_check else None
    loaded = report["load_check"] is None or report["load_check"].get("ok") is not False
    report["check"] = check_report(models_dir)
    ok = bool(report["complete"] and loaded and report["check"]["complete"])
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(render_fetch(report))
    return EXIT_COMPLETE if ok else EXIT_INCOMPLETE


def render_fetch(report: dict[str, Any]) -> str:
    lines = [f"MuseTalk models folder: {report['check']['models_dir']}"]
    for f in report["files"]:
        what = {"present": "in place", "fetched": f"fetched from {f['source']}"}.get(f["status"], "FAILED")
        lines.append(f"  {f['path']}: {what}" + (f" - {f['problem']}" if f.get("problem") else ""))
    load = report["load_check"]
    if load is not None:
        if load.get("ok") is None:
            lines.append(f"Strict load skipped: {load['skipped']}")
        else:
            lines.append(
                "Every network loads strictly (all keys, all shapes)."
                if load["ok"]
                else f"Strict load FAILED: {load['problem']}"
            )
    if report["complete"] and report["check"]["complete"] and (load is None or load.get("ok") is not False):
        lines.append("Complete: `--avatar auto` now uses the musetalk engine.")
    elif not report["complete"]:
        lines.append("Incomplete: fix the problems above, then run the same command again (it resumes).")
    return "\n".join(lines)
