"""Errors the CLI turns into one clear line (exit 1) instead of a traceback."""

from __future__ import annotations


class PresgenError(Exception):
    """A known failure with a message fit for the user."""


class UsageError(PresgenError):
    """A command line that cannot be carried out as given (exit 2), e.g. an output that would overwrite an input."""


class ScriptError(PresgenError):
    """A problem in the user's script file; the message names the file and line."""

    def __init__(self, path: object, line: int | None, message: str) -> None:
        where = f"{path}:{line}" if line else f"{path}"
        super().__init__(f"{where}: {' '.join(message.split())}")  # parsers' messages may span lines
        self.path = path
        self.line = line


class NarrationError(PresgenError):
    pass


class MediaError(PresgenError):
    pass
