"""Which of the fonts a deck asks for this machine lacks (fontconfig's ``fc-list`` / ``fc-match``), so the user
learns why the slides may look different from PowerPoint's."""

from __future__ import annotations

import subprocess

from presgen_training.deck.tools import FC_LIST, find

FC_TIMEOUT_S = 30.0


def installed_families() -> set[str] | None:
    """Lower-cased family names fontconfig knows; None without fontconfig."""
    exe = find(FC_LIST)
    if exe is None:
        return None
    proc = subprocess.run([exe, ":", "family"], capture_output=True, text=True, check=False, timeout=FC_TIMEOUT_S)
    return {name.strip().lower() for line in proc.stdout.splitlines() for name in line.split(",") if name.strip()}


def substitute(family: str) -> str | None:
    """The family fontconfig draws ``family`` with."""
    proc = subprocess.run(
        ["fc-match", "-f", "%{family}", family], capture_output=True, text=True, check=False, timeout=FC_TIMEOUT_S
    )
    return proc.stdout.split(",")[0].strip() or None if proc.returncode == 0 else None


def missing_fonts(families: tuple[str, ...]) -> list[tuple[str, str | None]]:
    """(family, the family used instead) for each font the deck names that is not installed."""
    installed = installed_families()
    if installed is None:
        return []
    return [(name, substitute(name)) for name in families if name.lower() not in installed]


def missing_fonts_warning(deck_name: str, families: tuple[str, ...]) -> str | None:
    missing = missing_fonts(families)
    if not missing:
        return None
    named = ", ".join(f"{name} (drawn with {sub})" if sub else name for name, sub in missing)
    return f"{deck_name} uses fonts this machine lacks: {named}; install them for slides that match the original"
