"""Where a module's content comes from: a script or a slide deck. A source reads its entry of the course file and
says which render settings carry it; another kind of content is one more class in SOURCES."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

import yaml

from presgen_training.course.settings import existing_file
from presgen_training.errors import ScriptError
from presgen_training.script.assets import DECK_SUFFIXES
from presgen_training.script.loader import SCRIPT_SUFFIXES
from presgen_training.script.yaml_script import line_of


class ModuleSource(Protocol):
    key: str  # the module entry's key that names the content

    def parse(self, node: yaml.Node, course: Path) -> Path:
        """The content file the entry names, checked (ScriptError with the course file's line)."""
        ...

    def settings(self, content: Path) -> dict[str, Any]:
        """The render settings that make a module of ``content``."""
        ...


class _FileSource:
    key = ""
    suffixes: tuple[str, ...] = ()
    kind = ""

    def parse(self, node: yaml.Node, course: Path) -> Path:
        path = existing_file(node, course)
        if path.suffix.lower() not in self.suffixes:
            raise ScriptError(course, line_of(node), f"{path.name} is not a {self.kind} ({', '.join(self.suffixes)})")
        return path

    def settings(self, content: Path) -> dict[str, Any]:
        return {self.key: content}


class ScriptSource(_FileSource):
    key, suffixes, kind = "script", tuple(SCRIPT_SUFFIXES), "script"


class DeckSource(_FileSource):
    """One section per slide, narrated from its speaker notes (needs: make deck-tools)."""

    key, suffixes, kind = "deck", DECK_SUFFIXES, "slide deck"


SOURCES: tuple[ModuleSource, ...] = (ScriptSource(), DeckSource())
