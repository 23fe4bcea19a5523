"""A course file: modules x presenters x voices (x any axis added to AXES), and the render settings they share::

    title: Security basics
    output: ../out/course            # optional, relative to this file (default: out/<file name>)
    render: {quality: fast}          # settings for every module (see settings.RENDER_SETTINGS)
    presenters:                      # one entry per presenter: image or video
      - {name: anna, image: anna.png}
    voices:                          # optional: one entry per voice (tts, voice, pause)
      - {name: joe, voice: joe}
    themes: [{theme: default}]       # optional, as are aspects: [{aspect: "9:16"}]
    modules:                         # one entry per module: a script or a deck, optional name, title and settings
      - {name: welcome, script: course/welcome.yaml}
      - {name: product, deck: product.pptx, slides: 1-8}

Every module is rendered once per combination of the axes' entries (a "variant"), into the folder
``module--presenter--voice--theme--aspect`` (only the axes with more than one entry are named). A setting given by a
module wins over an axis entry's, which wins over ``render:``. Names become folder names, so they
must be unique (regardless of case) and plain. Every error names the course file and line.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from presgen_training.course.settings import RENDER_SETTINGS, Parser, parse_settings, resolve_path, text
from presgen_training.course.sources import SOURCES
from presgen_training.errors import ScriptError
from presgen_training.script.loader import read_script_text
from presgen_training.script.yaml_script import compose, kind, line_of, mapping_fields

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
VARIANT_JOIN = "--"  # module--presenter--voice: only the axes with more than one entry appear
COURSE_KEYS = ("title", "output", "render", "modules")


@dataclass(frozen=True)
class Axis:
    """A dimension of the course matrix: the course file's list ``key``, each entry a name and these settings."""

    key: str
    settings: tuple[str, ...]  # keys of RENDER_SETTINGS an entry may set
    required: bool = False
    one_of: tuple[str, ...] = ()  # an entry gives exactly one of these
    default_name: tuple[str, ...] = ()  # settings whose value (a file's stem) names an entry without a name


AXES: tuple[Axis, ...] = (
    Axis("presenters", ("image", "video"), required=True, one_of=("image", "video"), default_name=("image", "video")),
    Axis("voices", ("tts", "voice", "pause", "rate", "lexicon"), default_name=("voice", "tts")),
    Axis("themes", ("theme",), default_name=("theme",)),
    Axis("aspects", ("aspect",), default_name=("aspect",)),
)
PRESENTER_KEYS = ("image", "video")
SHARED_SETTINGS = {k: v for k, v in RENDER_SETTINGS.items() if k not in PRESENTER_KEYS}  # render: and modules


@dataclass(frozen=True)
class Choice:
    """One entry of an axis."""

    axis: str
    name: str
    settings: tuple[tuple[str, Any], ...]
    line: int


@dataclass(frozen=True)
class Module:
    name: str
    title: str | None  # shown in the index; the script's own title otherwise
    source: str  # which kind of content (a key of SOURCES)
    path: Path
    line: int
    settings: tuple[tuple[str, Any], ...] = ()  # its content, and the render settings it gives itself


@dataclass(frozen=True)
class Variant:
    """One video of the course: a module rendered with one entry of every axis."""

    module: Module
    choices: tuple[Choice, ...]
    name: str  # folder and file stem

    def settings(self, defaults: dict[str, Any]) -> dict[str, Any]:
        """The course's ``render`` settings, then each axis entry's, then the module's own."""
        merged = dict(defaults)
        for choice in self.choices:
            merged.update(choice.settings)
        merged.update(self.module.settings)
        return merged

    def choice(self, axis: str) -> str | None:
        return next((c.name for c in self.choices if c.axis == axis), None)


@dataclass(frozen=True)
class Course:
    path: Path
    title: str
    output: Path
    render: dict[str, Any]
    axes: tuple[tuple[Choice, ...], ...]  # per AXES entry, its choices (a default one when the file has none)
    modules: tuple[Module, ...]

    def variants(self) -> list[Variant]:
        multi = [len(choices) > 1 for choices in self.axes]
        found = []
        for module in self.modules:
            for combo in itertools.product(*self.axes):
                parts = [module.name, *(c.name for c, m in zip(combo, multi) if m)]
                found.append(Variant(module, combo, VARIANT_JOIN.join(parts)))
        return found


def load_course(path: Path, output: Path | None = None) -> Course:
    """Read and check a course file; ScriptError ("file:line: message") on any problem."""
    path = Path(path).absolute()
    root = compose(read_script_text(path), path)
    if root is None:
        raise ScriptError(path, None, "the course file is empty")
    keys = (*COURSE_KEYS, *(axis.key for axis in AXES))
    fields = mapping_fields(root, path, keys, "the course")
    title = text(fields["title"][1], path) if "title" in fields else path.stem.replace("_", " ").replace("-", " ")
    if output is None:
        output = resolve_path(text(fields["output"][1], path), path) if "output" in fields else Path("out") / path.stem
    render = parse_settings(fields["render"][1], path, SHARED_SETTINGS, "render") if "render" in fields else {}
    axes = tuple(_axis(axis, fields.get(axis.key), path, line_of(root)) for axis in AXES)
    if "modules" not in fields:
        raise ScriptError(path, line_of(root), "missing 'modules' (a list of {name, script})")
    modules = _modules(fields["modules"][1], path)
    return Course(path, title, Path(output).absolute(), render, axes, modules)


def _entries(node: yaml.Node, path: Path, what: str) -> list[yaml.Node]:
    if not isinstance(node, yaml.SequenceNode):
        raise ScriptError(path, line_of(node), f"'{what}' must be a list, not {kind(node)}")
    if not node.value:
        raise ScriptError(path, line_of(node), f"'{what}' is empty")
    return list(node.value)


def _axis(axis: Axis, field: tuple[yaml.Node, yaml.Node] | None, path: Path, line: int) -> tuple[Choice, ...]:
    if field is None:
        if axis.required:
            raise ScriptError(path, line, f"missing '{axis.key}' (a list of {{name, {', '.join(axis.settings)}}})")
        return (Choice(axis.key, "default", (), line),)
    allowed: dict[str, Parser] = {key: RENDER_SETTINGS[key] for key in axis.settings}
    choices: list[Choice] = []
    names = _Names(path, axis.key)
    for node in _entries(field[1], path, axis.key):
        where = f"an entry of '{axis.key}'"
        values = parse_settings(node, path, allowed, where, skip=("name",))
        given = [key for key in axis.one_of if key in values]
        if axis.one_of and len(given) != 1:
            raise ScriptError(path, line_of(node), f"{where} needs exactly one of: {', '.join(axis.one_of)}")
        name_node = mapping_fields(node, path, (*allowed, "name"), where).get("name")
        if name_node is not None:
            name, name_line = text(name_node[1], path), line_of(name_node[1])
        else:
            named_by = next((k for k in axis.default_name if k in values), None)
            if named_by is None:
                raise ScriptError(path, line_of(node), f"{where} needs a 'name'")
            name, name_line = _plain(Path(str(values[named_by])).stem), line_of(node)
        names.add(name, name_line)
        choices.append(Choice(axis.key, name, tuple(sorted(values.items())), line_of(node)))
    return tuple(choices)


def _modules(node: yaml.Node, path: Path) -> tuple[Module, ...]:
    modules = []
    names = _Names(path, "modules")
    for entry in _entries(node, path, "modules"):
        where = "a module"
        keys = ("name", "title", *(source.key for source in SOURCES))
        own = parse_settings(entry, path, SHARED_SETTINGS, where, skip=keys)
        fields = mapping_fields(entry, path, (*keys, *SHARED_SETTINGS), where)
        sources = [source for source in SOURCES if source.key in fields]
        if len(sources) != 1:
            raise ScriptError(
                path, line_of(entry), f"{where} needs exactly one of: {', '.join(source.key for source in SOURCES)}"
            )
        source = sources[0]
        file = source.parse(fields[source.key][1], path)
        if "name" in fields:
            name, line = text(fields["name"][1], path), line_of(fields["name"][1])
        else:
            name, line = _plain(file.stem), line_of(entry)
        names.add(name, line)
        title = text(fields["title"][1], path) if "title" in fields else None
        settings = {**own, **source.settings(file)}
        modules.append(Module(name, title, source.key, file, line_of(entry), tuple(sorted(settings.items()))))
    return tuple(modules)


class _Names:
    """Names of one list: plain (they become folder names) and unique regardless of case."""

    def __init__(self, path: Path, what: str) -> None:
        self.path, self.what = path, what
        self.seen: dict[str, int] = {}

    def add(self, name: str, line: int) -> None:
        if not NAME_PATTERN.match(name) or VARIANT_JOIN in name:
            raise ScriptError(
                self.path,
                line,
                f"name '{name}' in '{self.what}' must be letters, digits, '.', '_' "
                f"or single '-' (it names folders and files)",
            )
        other = self.seen.get(name.lower())
        if other is not None:
            raise ScriptError(
                self.path,
                line,
                f"duplicate name '{name}' in '{self.what}' (also at line {other}): "
                "two outputs would overwrite each other; give one another 'name'",
            )
        self.seen[name.lower()] = line


def _plain(stem: str) -> str:
    """A name made from a file name: unusual characters become '-'."""
    name = re.sub(r"-{2,}", "-", re.sub(r"[^A-Za-z0-9._-]+", "-", stem)).strip("-.") or "module"
    return name[:64]
