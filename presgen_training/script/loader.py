"""Read a script file, pick its parser by suffix and check the result."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml

from presgen_training.errors import ScriptError
from presgen_training.script.checks import check_script
from presgen_training.script.markdown_script import parse_markdown
from presgen_training.script.text_script import parse_text
from presgen_training.script.yaml_script import compose, mapping_fields, parse_lexicon, parse_yaml
from presgen_training.timeline import Script

Parser = Callable[[str, Path], Script]

SCRIPT_SUFFIXES: dict[str, Parser] = {
    ".yaml": parse_yaml,
    ".yml": parse_yaml,
    ".md": parse_markdown,
    ".markdown": parse_markdown,
    ".txt": parse_text,
}


def load_script(path: Path) -> Script:
    """Parse ``path`` into sections; ScriptError ("file:line: message") on any problem."""
    path = Path(path)
    suffix = path.suffix.lower()
    parser = SCRIPT_SUFFIXES.get(suffix)
    if parser is None:
        known = ", ".join(SCRIPT_SUFFIXES)
        raise ScriptError(path, None, f"unknown script type '{suffix or '(no extension)'}'; use one of {known}")
    text = read_script_text(path)
    if not text.strip():
        raise ScriptError(path, None, "the script is empty")
    script = parser(text, path)
    check_script(script, text)
    return script


def read_script_text(path: Path, what: str = "script") -> str:
    """The file as text with '\\n' line ends; UTF-8 (a BOM is allowed)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ScriptError(path, None, f"{what} file not found") from None
    except IsADirectoryError:
        raise ScriptError(path, None, f"this is a folder, not a {what} file") from None
    except OSError as exc:
        raise ScriptError(path, None, f"cannot read the {what} file: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ScriptError(
            path, line, f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save the {what} as UTF-8"
        ) from None
    if "\x00" in text:
        raise ScriptError(path, text[: text.index("\x00")].count("\n") + 1, "not a text file (contains NUL bytes)")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def load_lexicon(path: Path) -> tuple[tuple[str, str], ...]:
    """A pronunciation lexicon file (``--lexicon words.yaml``): a YAML mapping of word -> respelling or /IPA/,
    at the top level or under a ``lexicon`` key; ScriptError ("file:line: message") on any problem."""
    path = Path(path)
    text = read_script_text(path, "lexicon")
    root = compose(text, path)
    if root is None:
        raise ScriptError(path, None, "the lexicon is empty")
    if isinstance(root, yaml.MappingNode) and [k.value for k, _ in root.value] == ["lexicon"]:
        root = mapping_fields(root, path, ("lexicon",), "the lexicon file")["lexicon"][1]
    return parse_lexicon(root, path)
