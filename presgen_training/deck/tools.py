"""The Debian tools decks need, where to find them, and the one install command to name when one is missing."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass

from presgen_training.deck.model import DeckError

# What `make deck-tools` installs (keep in step with DECK_PACKAGES in the Makefile).
DECK_PACKAGES = (
    "libreoffice-impress",
    "poppler-utils",
    "fonts-dejavu-core",
    "fonts-liberation2",
    "fonts-crosextra-carlito",
    "fonts-crosextra-caladea",
)
INSTALL_COMMAND = "make deck-tools  (as root: apt-get install -y " + " ".join(DECK_PACKAGES[:2]) + " and fonts)"
TOOL_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Tool:
    name: str  # what the user knows it as
    executables: tuple[str, ...]  # tried in order
    package: str  # the Debian package that ships it
    needed_for: str


LIBREOFFICE = Tool("LibreOffice", ("soffice", "libreoffice"), "libreoffice-impress", "drawing PPTX/ODP slides")
PDFTOPPM = Tool("pdftoppm", ("pdftoppm",), "poppler-utils", "drawing slides as pictures")
PDFINFO = Tool("pdfinfo", ("pdfinfo",), "poppler-utils", "reading PDF decks")
PDFTOTEXT = Tool("pdftotext", ("pdftotext",), "poppler-utils", "reading the text of PDF slides")
FC_LIST = Tool("fc-list", ("fc-list",), "fontconfig", "checking the deck's fonts")
ALL_TOOLS = (LIBREOFFICE, PDFTOPPM, PDFINFO, PDFTOTEXT)


def find(tool: Tool) -> str | None:
    """Path of the tool's executable, or None. ``PRESGEN_NO_DECK_TOOLS=1`` hides them all (tests of the
    missing-tool messages)."""
    if os.environ.get("PRESGEN_NO_DECK_TOOLS") == "1":
        return None
    for exe in tool.executables:
        if found := shutil.which(exe):
            return found
    return None


def require(tool: Tool) -> str:
    exe = find(tool)
    if exe is None:
        raise DeckError(
            f"{tool.name} is not installed (needed for {tool.needed_for}); install it with: {INSTALL_COMMAND}"
        )
    return exe


def missing(tools: tuple[Tool, ...] = ALL_TOOLS) -> list[Tool]:
    return [t for t in tools if find(t) is None]


def run_tool(
    tool: Tool, args: list[str], what: str, timeout_s: float = TOOL_TIMEOUT_S, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run a deck tool; DeckError naming ``what`` and the tool's last stderr line on failure or timeout."""
    exe = require(tool)
    try:
        proc = subprocess.run([exe, *args], capture_output=True, check=False, timeout=timeout_s, env=env)
    except subprocess.TimeoutExpired:
        raise DeckError(f"{tool.name} timed out after {timeout_s:.0f} s while {what}") from None
    if proc.returncode != 0:
        last = (proc.stderr.decode(errors="replace").strip().splitlines() or ["(no output)"])[-1]
        raise DeckError(f"{tool.name} failed while {what}: {last}")
    return proc
