"""Files a script points at (a section's image, the script's slide deck): resolved beside the script and checked
at load time, so a typo fails with the script's line instead of halfway through a render."""

from __future__ import annotations

from pathlib import Path

from presgen_training.errors import ScriptError
from presgen_training.ffmpeg import IMAGE_SUFFIXES

DECK_SUFFIXES = (".pptx", ".odp", ".pdf")


def resolve_file(raw: str, script: Path, line: int | None, what: str, suffixes: tuple[str, ...]) -> Path:
    path = Path(raw).expanduser()
    if not path.is_absolute():
        path = script.parent / path
    if path.suffix.lower() not in suffixes:
        raise ScriptError(script, line, f"{what} '{raw}' must be one of {', '.join(suffixes)}")
    if not path.is_file():
        raise ScriptError(script, line, f"{what} not found: {raw} (looked at {path})")
    return path


def resolve_image(raw: str, script: Path, line: int | None) -> Path:
    return resolve_file(raw, script, line, "image", tuple(sorted(IMAGE_SUFFIXES)))


def resolve_deck(raw: str, script: Path, line: int | None) -> Path:
    return resolve_file(raw, script, line, "deck", DECK_SUFFIXES)


def slide_number(raw: str, script: Path, line: int | None) -> int:
    try:
        number = int(raw.strip())
    except ValueError:
        raise ScriptError(script, line, f"slide must be a slide number (1, 2, ...), not '{raw}'") from None
    if number < 1:
        raise ScriptError(script, line, f"slide numbers start at 1, not {number}")
    return number
