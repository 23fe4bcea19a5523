"""Property tests of the three script parsers and of the wrapper's result: whatever the input, a script either loads
or fails with a PresgenError naming the file (never a traceback), and an engine result is never accepted unless it
is valid against the schema."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import jsonschema
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import SUCCESS_RESULT
from presgen_training.errors import PresgenError
from presgen_training.script import load_script
from presgen_training.timeline import Script
from presgen_training.wrapper_client import WrapperFailure, judge_render, result_schema

SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SCRIPT_WORDS = st.sampled_from(
    [
        "title",
        "sections",
        "narration",
        "bullets",
        "voice",
        "# Intro",
        "- point",
        "",
        "Hello there.",
        "  ",
        "\t",
        ":",
        "---",
        "```",
        "[pause 1s]",
        "ü",
        "\u200b",
    ]
)
JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=20,
)


def load(text: str | bytes, suffix: str) -> Script | PresgenError:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"script{suffix}"
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        try:
            return load_script(path)
        except PresgenError as exc:
            assert "script" in str(exc), f"the error does not name the file: {exc}"
            assert "\n" not in str(exc).strip(), f"not one line: {exc!r}"
            return exc


@SETTINGS
@given(st.text(max_size=400), st.sampled_from([".yaml", ".md", ".txt"]))
def test_any_text_loads_or_fails_cleanly(text: str, suffix: str) -> None:
    result = load(text, suffix)
    if isinstance(result, Script):
        assert result.sections and all(s.narration.strip() for s in result.sections)


@SETTINGS
@given(st.lists(SCRIPT_WORDS, max_size=40).map("\n".join), st.sampled_from([".yaml", ".md", ".txt"]))
def test_script_like_text_loads_or_fails_cleanly(text: str, suffix: str) -> None:
    load(text, suffix)


@SETTINGS
@given(st.binary(max_size=200), st.sampled_from([".yaml", ".md", ".txt"]))
def test_any_bytes_load_or_fail_cleanly(data: bytes, suffix: str) -> None:
    load(data, suffix)


@SETTINGS
@given(JSON_VALUES)
def test_any_yaml_document_loads_or_fails_cleanly(value: object) -> None:
    load(yaml.safe_dump(value, allow_unicode=True), ".yaml")


SECTION = st.fixed_dictionaries(
    {"title": st.text(max_size=20), "narration": st.text(max_size=60)},
    optional={"bullets": st.lists(st.text(max_size=20) | st.integers(), max_size=3)},
)


@SETTINGS
@given(
    st.fixed_dictionaries(
        {"sections": st.lists(SECTION | JSON_VALUES, max_size=4)},
        optional={"title": JSON_SCALARS, "voice": JSON_SCALARS},
    )
)
def test_nearly_valid_yaml_scripts_load_or_fail_cleanly(document: dict[str, object]) -> None:
    load(yaml.safe_dump(document, allow_unicode=True), ".yaml")


@SETTINGS
@given(st.dictionaries(st.text(max_size=15), JSON_VALUES, max_size=8))
def test_a_result_is_accepted_only_when_schema_valid(obj: dict[str, object]) -> None:
    _judge(obj)


@SETTINGS
@given(st.dictionaries(st.sampled_from(sorted(SUCCESS_RESULT)), JSON_VALUES, max_size=4))
def test_a_damaged_success_is_accepted_only_when_schema_valid(changes: dict[str, object]) -> None:
    _judge({**SUCCESS_RESULT, **changes})


def _judge(obj: dict[str, object]) -> None:
    try:
        accepted = judge_render(json.loads(json.dumps(obj)), 0, "engine 'puppet'")
    except WrapperFailure as exc:
        assert exc.reason and "\n" not in exc.reason
        return
    jsonschema.validate(accepted, result_schema())
    assert accepted["success"] is True
