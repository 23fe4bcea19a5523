"""env.json: python requirements, install steps, validation; finding a Python that fits."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from presgen_training.envs.pythons import find_python, parse_requirement
from presgen_training.envs.spec import SpecError, load_spec, spec_names

REPO = Path(__file__).resolve().parents[3]
HERE = tuple(sys.version_info[:3])


@pytest.mark.parametrize(
    ("text", "version", "allowed"),
    [
        ("3.10", (3, 10, 13), True),
        ("3.10", (3, 11, 7), False),
        ("3.10", (3, 1, 0), False),
        (">=3.9,<3.13", (3, 12, 9), True),
        (">=3.9,<3.13", (3, 13, 0), False),
        (">=3.9,<3.13", (3, 8, 18), False),
        ("~=3.10", (3, 12, 0), True),
        ("~=3.10", (4, 0, 0), False),
        ("<=3.12", (3, 12, 5), True),
        ("!=3.11", (3, 11, 2), False),
    ],
)
def test_python_requirement(text: str, version: tuple[int, int, int], allowed: bool) -> None:
    assert parse_requirement(text).allows(version) is allowed


def test_unreadable_python_requirement() -> None:
    with pytest.raises(ValueError, match="cannot read python requirement"):
        parse_requirement("python three")


def test_repo_specs_load() -> None:
    for name in ("puppet", "musetalk-upstream"):
        assert name in spec_names() or pytest.fail(f"envs/{name}/env.json missing")
    for name in spec_names():
        assert load_spec(name).python.text  # every spec in envs/ is valid
    upstream = load_spec("musetalk-upstream")
    assert upstream.python.allows((3, 10, 13)) and not upstream.python.allows((3, 11, 0))
    assert upstream.requires == {"gpu": "nvidia"}
    kinds = [(s.kind, s.args[0]) for s in upstream.steps]
    # torch from its own index first (accelerate in requirements.txt depends on torch), then upstream's order
    assert kinds[0] == ("pip", "torch==2.0.1") and "--index-url" in upstream.steps[0].args
    assert kinds[1] == ("pip", "-r")
    assert [a for k, a in kinds if k == "mim"] == ["mmengine==0.10.4", "mmcv==2.0.1", "mmdet==3.1.0", "mmpose==1.1.0"]
    assert upstream.imports["mmcv.ops"] == "mmcv"
    assert load_spec("puppet").steps[0].args == ("-r", "requirements.txt")


def test_requirements_go_first_unless_a_step_names_them(make_spec) -> None:
    make_spec("extra", json.dumps({"python": ">=3.8", "steps": [{"mim": ["mmcv==2.0.1"]}]}), "numpy\n")
    make_spec(
        "ordered",
        json.dumps(
            {
                "python": ">=3.8",
                "steps": [
                    {"pip": ["torch==2.0.1", "--index-url", "https://example.invalid/whl"], "label": "torch"},
                    {"pip": ["-r", "requirements.txt"]},
                ],
            }
        ),
        "numpy\n",
    )
    make_spec("bare", json.dumps({"python": ">=3.8"}))
    assert [s.kind for s in load_spec("extra").steps] == ["pip", "mim"]
    assert load_spec("extra").steps[0].args == ("-r", "requirements.txt")
    assert [s.label for s in load_spec("ordered").steps] == ["torch", "pip install -r requirements.txt"]
    assert load_spec("bare").steps == () and not load_spec("bare").uses_pip
    argv = load_spec("extra").steps[1].argv(Path("/env/bin/python"))
    assert argv == ["/env/bin/python", "-m", "mim", "install", "mmcv==2.0.1"]
    assert load_spec("extra").steps[0].argv(Path("/p"))[:4] == ["/p", "-m", "pip", "install"]


@pytest.mark.parametrize(
    ("env_json", "message"),
    [
        ('{"python": "3.10", "colour": "blue"}', "unknown key"),
        ('{"engines": []}', '"python" must be'),
        ('{"python": "3.10", "steps": [{"pip": ["x"], "mim": ["y"]}]}', "exactly one of"),
        ('{"python": "3.10", "steps": [{"pip": []}]}', "non-empty list"),
        ('{"python": "3.10", "requires": {"gpu": "amd"}}', "unknown requirement"),
        ('{"python": "3.10", "imports": ["numpy"]}', '"imports" must map'),
        ("{not json", "invalid JSON"),
    ],
)
def test_bad_spec_is_one_clear_error(make_spec, env_json: str, message: str) -> None:
    make_spec("bad", env_json)
    with pytest.raises(SpecError, match=message):
        load_spec("bad")


def test_unknown_env_lists_known_ones(make_spec) -> None:
    make_spec("alpha", '{"python": ">=3.8"}')
    with pytest.raises(SpecError, match=r"unknown env 'nope'.*known envs: alpha"):
        load_spec("nope")


def test_finds_this_python_when_it_fits() -> None:
    info, reason = find_python(parse_requirement(f"{HERE[0]}.{HERE[1]}"), "x")
    assert reason is None and info is not None and info.version == HERE


def test_explicit_python_with_the_wrong_version_is_refused() -> None:
    info, reason = find_python(parse_requirement("3.6"), "old", Path(sys.executable))
    assert info is None
    assert reason is not None and f"is Python {'.'.join(map(str, HERE))}, but env 'old' needs Python 3.6" in reason


def test_unmet_python_names_how_to_get_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pythonX.Y on PATH that does not run (a pyenv shim) is not trusted; the reason says how to get one."""
    shim = tmp_path / "bin" / "python3.6"
    shim.parent.mkdir()
    shim.write_text("#!/bin/sh\necho 'pyenv: python3.6: command not found' >&2\nexit 127\n")
    shim.chmod(shim.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{shim.parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("PYENV_ROOT", str(tmp_path / "no-pyenv"))
    monkeypatch.setenv("HOME", str(tmp_path))
    info, reason = find_python(parse_requirement("3.6"), "ancient")
    assert info is None and reason is not None
    assert "env 'ancient' needs Python 3.6, which was not found" in reason
    assert "pyenv: python3.6: command not found" in reason
    assert reason.endswith("then run: presgen env create ancient --python /path/to/python3.6")
    assert "pyenv install 3.6" in reason
