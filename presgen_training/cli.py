"""``presgen``: the command line. Subcommands live in ``presgen_training/commands/``.

Known failures print one line ``presgen: error: ...`` and exit 1; Ctrl-C exits 130; a bug exits 3 with the
traceback written to a log file whose path is printed.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import sys
import tempfile
import traceback

from presgen_training import __version__
from presgen_training.errors import PresgenError

EXIT_OK, EXIT_ERROR, EXIT_BUG, EXIT_INTERRUPTED = 0, 1, 3, 130

# Order is the order in --help.
COMMANDS = ("render", "voices", "eval", "weights", "env", "doctor")

LEGACY_FLAGS = ("--script",)  # `python -m presgen_training --script S ...` means `render`


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="presgen",
        description="Turn a written script and a presenter photo or video into a finished presenter video, "
        "offline. Start with: presgen render --script talk.yaml --source-image me.jpg --out talk.mp4",
    )
    parser.add_argument("--version", action="version", version=f"presgen {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging on stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"presgen_training.commands.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    if args_list and args_list[0] not in COMMANDS and any(a.split("=")[0] in LEGACY_FLAGS for a in args_list):
        args_list.insert(0, "render")
    parser = build_parser()
    args = parser.parse_args(args_list)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_ERROR
    try:
        return int(args.func(args))
    except PresgenError as exc:
        print(f"presgen: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("presgen: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `presgen ... | head`: the reader left; not an error of ours
        sys.stderr.close()
        return EXIT_OK
    except Exception:
        with tempfile.NamedTemporaryFile("w", prefix="presgen-crash-", suffix=".log", delete=False) as fh:
            fh.write(f"presgen {__version__}, python {sys.version}\nargv: {args_list}\n\n")
            fh.write(traceback.format_exc())
        print(f"presgen: internal error (a bug): {sys.exc_info()[1]!r}; details in {fh.name}", file=sys.stderr)
        return EXIT_BUG
