"""``presgen voices``: every voice narration can speak with here, with its language, quality and licence."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path

from presgen_training.commands.options import add_command
from presgen_training.config import voices_dir
from presgen_training.narration.voice import (
    DEFAULT_ENGINE,
    VoiceInfo,
    engine_module,
    engine_names,
    same_language,
    voice_catalog,
)

OFFLINE_ENGINES = ("piper", "espeak-ng")  # listed by default; gtts (online) on request


SUMMARY = "list the voices narration can use, with language, quality and licence"
DESCRIPTION = (
    "List every installed voice: piper voices from pip packages and from the voices "
    "folder, and espeak-ng's languages (gtts's online languages with --engine gtts). "
    "To add a piper voice, put its NAME.onnx and NAME.onnx.json in the voices folder "
    "(shown at the end), or pass --voice path/to/NAME.onnx to render."
)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = add_command(sub, "voices", SUMMARY, DESCRIPTION)
    p.add_argument(
        "--engine",
        choices=engine_names(),
        action="append",
        default=None,
        help="only this engine's voices (repeatable; default: the offline engines)",
    )
    p.add_argument("--language", default=None, metavar="TAG", help="only voices of this language, e.g. en or de")
    p.add_argument(
        "--voice",
        type=Path,
        default=None,
        metavar="MODEL.onnx",
        help="describe this piper voice file instead (checks it is usable)",
    )
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.voice is not None:
        voices = [engine_module("piper").describe_model(args.voice)]  # type: ignore[attr-defined]
    else:
        voices = voice_catalog(args.engine or OFFLINE_ENGINES)
    if args.language:
        voices = [v for v in voices if same_language(v.language, args.language)]
    if args.json:
        print(json.dumps([{**asdict(v), "model": str(v.model) if v.model else None} for v in voices], indent=2))
        return 0
    print(table(voices))
    if args.voice is None:
        print(
            f"\n* the default voice. Add a piper voice: put NAME.onnx and NAME.onnx.json in {voices_dir()} "
            "($PRESGEN_VOICES_DIR, or [paths] voices_dir in the config)."
        )
        if not args.engine:
            print("Online (needs the internet): presgen voices --engine gtts")
    return 0


def table(voices: list[VoiceInfo]) -> str:
    if not voices:
        return "no voices found"
    default = engine_module(DEFAULT_ENGINE).DEFAULT_VOICE
    rows = [("ENGINE", "NAME", "LANGUAGE", "QUALITY", "LICENCE", "SOURCE")]
    for v in voices:
        mark = "*" if v.engine == DEFAULT_ENGINE and v.name == default else ""
        rows.append((v.engine, v.name + mark, v.language, v.quality, v.licence, str(v.model or v.source)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)) + "  " + row[-1] for row in rows
    )
