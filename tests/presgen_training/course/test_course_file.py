"""Course files: the example's matrix, and bad input that must fail in seconds with one line naming file:line."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from presgen_training.course.spec import load_course

MODULE = "title: T\nsections:\n  - title: A\n    narration: Hello there.\n"


def write_course(folder: Path, body: str, scripts: tuple[str, ...] = ("a.yaml", "b.yaml")) -> Path:
    for name in scripts:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(MODULE)
    (folder / "face.png").write_bytes(b"not read by the course file checks")
    path = folder / "course.yaml"
    path.write_text(body)
    return path


def one_line_error(proc, *needles: str) -> str:
    assert proc.returncode in (1, 2), proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("presgen: error: "), proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def test_example_course_is_three_modules_in_their_own_folders(example_course: Path) -> None:
    course = load_course(example_course)
    variants = course.variants()
    assert [v.name for v in variants] == ["welcome", "passwords", "phishing"]
    assert course.render["quality"] == "fast"
    assert course.output == example_course.parent.parent / "out" / "course"
    assert all(v.module.path.is_file() for v in variants)
    assert variants[2].module.title == "Spotting phishing"


def test_every_axis_multiplies_and_names_the_folders(tmp_path: Path) -> None:
    path = write_course(
        tmp_path,
        """\
modules: [{script: a.yaml}, {script: b.yaml}]
presenters: [{image: face.png}, {name: bob, video: face.png}]
voices: [{voice: joe}, {name: fast, voice: joe, pause: 0.3}]
""",
    )
    variants = load_course(path).variants()
    assert len(variants) == 2 * 2 * 2
    assert variants[0].name == "a--face--joe" and variants[-1].name == "b--bob--fast"
    assert variants[-1].settings({})["pause"] == 0.3 and "video" in variants[-1].settings({})


def test_missing_script_names_the_course_line(tmp_path: Path, presgen) -> None:
    path = write_course(
        tmp_path, "presenters: [{image: face.png}]\nmodules:\n  - script: a.yaml\n  - script: gone/nope.md\n"
    )
    proc = presgen("course", str(path), "--out", str(tmp_path / "site"), timeout=60)
    one_line_error(proc, f"{path}:4", "nope.md")
    assert not (tmp_path / "site").exists(), "nothing may be written for a course file that is wrong"


def test_duplicate_output_names_are_refused(tmp_path: Path, presgen) -> None:
    path = write_course(
        tmp_path,
        "presenters: [{image: face.png}]\nmodules:\n  - script: a.yaml\n  - script: other/A.yaml\n",
        scripts=("a.yaml", "other/A.yaml"),
    )
    one_line_error(presgen("course", str(path), timeout=60), f"{path}:4", "duplicate name 'A'", "line 3")
    path = write_course(
        tmp_path, "presenters: [{name: p, image: face.png}, {name: p, image: face.png}]\nmodules: [{script: a.yaml}]\n"
    )
    one_line_error(presgen("course", str(path), timeout=60), f"{path}:1", "duplicate name 'p'")


def test_unknown_key_suggests_the_right_one(tmp_path: Path, presgen) -> None:
    path = write_course(
        tmp_path, "presenters: [{image: face.png}]\nrender: {qualty: fast}\nmodules: [{script: a.yaml}]\n"
    )
    one_line_error(presgen("course", str(path), timeout=60), f"{path}:2", "did you mean 'quality'")


@pytest.mark.parametrize("address", ["ray://127.0.0.1:1", "192.0.2.1:6379"])  # refused; no answer (TEST-NET-1)
def test_unreachable_ray_address_is_a_quick_clear_error(tmp_path: Path, presgen, address: str) -> None:
    path = write_course(tmp_path, "presenters: [{image: face.png}]\nmodules: [{script: a.yaml}]\n")
    started = time.monotonic()
    proc = presgen("course", str(path), "--out", str(tmp_path / "site"), "--ray-address", address, timeout=60)
    took = time.monotonic() - started
    one_line_error(proc, address)
    assert took < 30, f"an unreachable cluster took {took:.0f} s to report"
    assert not (tmp_path / "site" / "index.html").exists()
