"""``presgen weights check``: is the MuseTalk models folder complete, and how to fetch what is missing.

The check itself lives in the wrapper (``musetalk_wrapper/weights.py``, standard library only); the
orchestrator never imports it but runs ``<this python> -m musetalk_wrapper.weights check --json`` and renders
the JSON. Models folder: ``--models-dir``, else ``[paths] models_dir`` of the config, else the wrapper's
default (``$PRESGEN_MODELS`` or ``./models``). Exit 0 only when every required file is in place.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from presgen_training import wrapper_client
from presgen_training.config import load_config
from presgen_training.errors import PresgenError

EXIT_COMPLETE, EXIT_INCOMPLETE = 0, 1
CHECK_TIMEOUT_S = 600.0  # --verify-hashes reads ~3.8 GB
WEIGHTS_MODULE = "musetalk_wrapper.weights"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("weights", help="check the MuseTalk model weights",
                                   description="Check the MuseTalk V1.5 models folder and print the commands "
                                   "that fetch missing files (run them where there is network).")
    actions = parser.add_subparsers(dest="weights_action", metavar="ACTION")
    chk = actions.add_parser("check", help="list missing or broken files and how to fetch them")
    chk.add_argument("--models-dir", type=Path, help="models folder (default: config paths.models_dir, "
                     "$PRESGEN_MODELS, or ./models)")
    chk.add_argument("--json", action="store_true", help="print the report as one JSON object")
    chk.add_argument("--verify-hashes", action="store_true", help="also compare sha256 where known (slow)")
    chk.set_defaults(func=run)
    parser.set_defaults(func=_usage(parser))


def _usage(parser: argparse.ArgumentParser) -> Any:
    def show(_args: argparse.Namespace) -> int:
        parser.print_help()
        return EXIT_INCOMPLETE
    return show


def models_dir_for(args: argparse.Namespace) -> Path | None:
    if args.models_dir is not None:
        return args.models_dir
    return load_config().models_dir


def check_report(models_dir: Path | None, verify_hashes: bool = False) -> dict[str, Any]:
    """Run the wrapper's check through the wrapper client and return its JSON report."""
    args = ["check", "--json"]
    if models_dir is not None:
        args += ["--models-dir", str(Path(models_dir).resolve())]
    if verify_hashes:
        args.append("--verify-hashes")
    try:
        report = wrapper_client.call(Path(sys.executable), args, CHECK_TIMEOUT_S, module=WEIGHTS_MODULE,
                                     what="the weights check").obj
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
        lines.append("Incomplete. Run these where there is network (then copy the folder here if needed):")
        lines += [f"  {cmd}" for cmd in report["commands"]]
        lines.append('  (huggingface-cli: pip install "huggingface_hub[cli]"; gdown: pip install gdown)')
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    report = check_report(models_dir_for(args), verify_hashes=args.verify_hashes)
    print(json.dumps(report, indent=2) if args.json else render_text(report))
    return EXIT_COMPLETE if report["complete"] else EXIT_INCOMPLETE
