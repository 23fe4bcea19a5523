"""Where a module's content comes from. A source reads its entry of the course file and hands the render a script
file; a new kind of content (a slide deck) is one more class in SOURCES."""
from __future__ import annotations

from pathlib import Path
from typing import Protocol

import yaml

from presgen_training.course.settings import existing_file
from presgen_training.errors import ScriptError
from presgen_training.script.loader import SCRIPT_SUFFIXES
from presgen_training.script.yaml_script import line_of


class ModuleSource(Protocol):
    key: str  # the module entry's key that names the content

    def parse(self, node: yaml.Node, course: Path) -> Path:
        """The content file the entry names, checked to exist (ScriptError with the course file's line)."""
        ...

    def script(self, content: Path, work: Path) -> Path:
        """A script file (YAML, Markdown or text) the render reads; made in ``work`` when it must be converted."""
        ...


class ScriptSource:
    key = "script"

    def parse(self, node: yaml.Node, course: Path) -> Path:
        path = existing_file(node, course)
        if path.suffix.lower() not in SCRIPT_SUFFIXES:
            raise ScriptError(course, line_of(node), f"{path.name} is not a script ({', '.join(SCRIPT_SUFFIXES)})")
        return path

    def script(self, content: Path, work: Path) -> Path:
        return content


SOURCES: tuple[ModuleSource, ...] = (ScriptSource(),)


def source(key: str) -> ModuleSource:
    return next(s for s in SOURCES if s.key == key)
