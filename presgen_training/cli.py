"""``presgen``: the command line. Subcommands live in ``presgen_training/commands/``.

Known failures print one line ``presgen: error: ...`` and exit 1 (2 for a command line that cannot be carried out
as given); Ctrl-C, SIGTERM and SIGHUP stop every child, remove partial files and exit 130, 143, 129; a bug exits 3
with the traceback written to a log file whose path is printed.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import logging
import sys
import tempfile
import traceback

from presgen_training import __version__, children
from presgen_training.errors import PresgenError, UsageError
from presgen_training.inputs import describe_os_error
from presgen_training.interrupts import exit_code, signals_interrupt

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_BUG = 0, 1, 2, 3
# OS errors a user can act on (full disk, read-only folder, no permission, quota): one line, exit 1
USER_OS_ERRORS = frozenset(
    {errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT, errno.ENOENT, errno.ENOTDIR, errno.EISDIR}
)

# Order is the order in --help.
COMMANDS = ("render", "course", "cache", "voices", "eval", "weights", "env", "doctor")

LEGACY_FLAGS = ("--script", "--deck")  # `presgen --script S ...` (or --deck D) means `presgen render ...`


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
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_ERROR
    with signals_interrupt():
        try:
            return int(args.func(args))
        except UsageError as exc:
            print(f"presgen: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except PresgenError as exc:
            print(f"presgen: error: {exc}", file=sys.stderr)
            return EXIT_ERROR
        except KeyboardInterrupt as exc:
            children.stop_all()
            print(
                f"presgen: interrupted ({exc}); stopped its work and removed partial files"
                if str(exc)
                else "presgen: interrupted; stopped its work and removed partial files",
                file=sys.stderr,
            )
            return exit_code(exc)
        except BrokenPipeError:  # `presgen ... | head`: the reader left; not an error of ours
            sys.stderr.close()
            return EXIT_OK
        except OSError as exc:
            if exc.errno not in USER_OS_ERRORS:
                return _crash(args_list)
            print(f"presgen: error: {describe_os_error(exc)}", file=sys.stderr)
            return EXIT_ERROR
        except Exception:
            return _crash(args_list)


def _crash(args_list: list[str]) -> int:
    """A bug: one line on the console, the traceback in a log file."""
    try:
        with tempfile.NamedTemporaryFile("w", prefix="presgen-crash-", suffix=".log", delete=False) as fh:
            fh.write(f"presgen {__version__}, python {sys.version}\nargv: {args_list}\n\n")
            fh.write(traceback.format_exc())
        where = f"; details in {fh.name}"
    except OSError:  # not even the crash log can be written (full TMPDIR)
        where = ""
    print(f"presgen: internal error (a bug): {sys.exc_info()[1]!r}{where}", file=sys.stderr)
    return EXIT_BUG
