"""The wrapper client's stdout rule: exactly one JSON object, judged once the process has exited."""

from __future__ import annotations

import json

import pytest

from helpers import SUCCESS_RESULT
from presgen_training.wrapper_client import WrapperFailure, parse_one_object


def test_exactly_one_object_is_accepted() -> None:
    assert parse_one_object(json.dumps(SUCCESS_RESULT) + "\n", 0, []) == SUCCESS_RESULT
    assert parse_one_object("\n  " + json.dumps(SUCCESS_RESULT) + "  \n", 0, []) == SUCCESS_RESULT


@pytest.mark.parametrize(
    "stdout, says",
    [
        ("", "printed nothing"),
        ("null", "not an object"),
        ("[1, 2]", "not an object"),
        (json.dumps(SUCCESS_RESULT) + json.dumps(SUCCESS_RESULT), "more than one"),
        ("Loading weights...\n" + json.dumps(SUCCESS_RESULT), "junk"),
    ],
)
def test_anything_else_is_a_protocol_failure(stdout: str, says: str) -> None:
    with pytest.raises(WrapperFailure) as err:
        parse_one_object(stdout, 0, ["last words"])
    assert err.value.code == "PROTOCOL" and says in err.value.reason


def test_empty_stdout_quotes_the_last_stderr_line() -> None:
    with pytest.raises(WrapperFailure, match="last stderr line: ImportError: no module named torch"):
        parse_one_object("", 1, ["loading", "ImportError: no module named torch"])
