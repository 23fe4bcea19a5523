"""How subcommands declare their parsers and their on/off options."""

from __future__ import annotations

import argparse
from collections.abc import Mapping


def add_command(
    sub: argparse._SubParsersAction[argparse.ArgumentParser],
    name: str,
    summary: str,
    description: str,
    examples: str | None = None,
) -> argparse.ArgumentParser:
    """The parser of subcommand ``name``; ``examples`` (text laid out as written) follow the options in --help."""
    if examples is None:
        return sub.add_parser(name, help=summary, description=description)
    return sub.add_parser(
        name,
        help=summary,
        description=description,
        epilog=examples,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def add_switches(parser: argparse._ActionsContainer, helps: Mapping[str, str]) -> None:
    """On/off options, off unless given: option -> its help."""
    for option, text in helps.items():
        parser.add_argument(option, action="store_true", help=text)
