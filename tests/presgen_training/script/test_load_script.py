"""Script files in, sections out; every mistake in a script is one line naming the file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from presgen_training.errors import ScriptError
from presgen_training.script import load_script

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "examples"


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ScriptError) as info:
        load_script(path)
    message = str(info.value)
    assert "\n" not in message, "errors are one line"
    assert message.startswith(str(path)), message
    return message


# --- the examples -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".yaml", ".md", ".txt"])
def test_examples_carry_the_same_script(suffix: str) -> None:
    reference = load_script(EXAMPLES / "demo_script.yaml")
    script = load_script(EXAMPLES / f"demo_script{suffix}")
    assert script.title == reference.title == "Spotting Phishing Emails"
    assert [(s.title, s.narration, s.bullets) for s in script.sections] == [
        (s.title, s.narration, s.bullets) for s in reference.sections
    ]
    assert script.path == EXAMPLES / f"demo_script{suffix}"


def test_demo_script_fits_a_one_minute_video() -> None:
    script = load_script(EXAMPLES / "demo_script.yaml")
    words = sum(len(s.narration.split()) for s in script.sections)
    assert 150 <= words <= 170
    assert 3 <= len(script.sections) <= 4
    assert all(2 <= len(s.bullets) <= 4 for s in script.sections)
    assert script.voice == "joe"

    def spoken(bullet: str, narration: str) -> float:
        words = [w.strip(".,?!").lower() for w in bullet.split()]
        said = {w.strip(".,?!").lower() for w in narration.split()}
        return sum(w in said for w in words) / len(words)

    ratios = [spoken(b, s.narration) for s in script.sections for b in s.bullets]
    assert sum(r >= 0.6 for r in ratios) >= len(ratios) - 2, "bullets should mostly be said aloud"
    assert min(ratios) < 1.0, "at least one bullet is not said word for word"


def test_section_lines_point_at_the_section(tmp_path: Path) -> None:
    script = load_script(EXAMPLES / "demo_script.yaml")
    lines = (EXAMPLES / "demo_script.yaml").read_text().splitlines()
    for section in script.sections:
        assert section.line is not None and section.title in lines[section.line - 1]


# --- YAML ---------------------------------------------------------------------------------------------------

GOOD_YAML = """\
title: Onboarding
voice: joe
sections:
  - title: Hello
    narration: |
      Welcome aboard.
      This is line two.
    bullets: [Welcome, Line two]
  - narration: No title here.
"""


def test_yaml_fields_and_defaults(tmp_path: Path) -> None:
    script = load_script(write(tmp_path, "talk.yml", GOOD_YAML))
    assert script.title == "Onboarding" and script.voice == "joe"
    first, second = script.sections
    assert first.narration == "Welcome aboard. This is line two."
    assert first.bullets == ("Welcome", "Line two") and first.line == 4
    assert second.title == "Part 2" and second.bullets == () and second.line == 9


def test_yaml_title_defaults_to_file_name(tmp_path: Path) -> None:
    script = load_script(write(tmp_path, "sales_pitch-2024.yaml", "sections:\n  - narration: Hi there.\n"))
    assert script.title == "Sales pitch 2024" and script.voice is None


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("title: T\nsectoins: []\n", 2, "unknown key 'sectoins' in the script (did you mean 'sections'?)"),
        ("title: T\nsections:\n  - narration: Hi.\n    bulets: [a]\n", 4, "unknown key 'bulets' in section 1"),
        ("title: T\nsections:\n  - narration: Hi.\n  - narration: Yo.\n    notes: x\n", 5, "unknown key 'notes'"),
        ("title: T\nsections: Hello\n", 2, "'sections' must be a list, not text"),
        ("title: T\nsections: []\n", 2, "'sections' is empty"),
        ("title: [a, b]\nsections:\n  - narration: Hi.\n", 1, "title must be text, not a list"),
        ("sections:\n  - narration: [a, b]\n", 2, "narration must be text, not a list"),
        ("sections:\n  - narration: Hi.\n    bullets: just one\n", 3, "'bullets' must be a list, not text"),
        ("sections:\n  - narration: Hi.\n    bullets:\n      - ok\n      - {a: 1}\n", 5, "each bullet must be text"),
        (
            "sections:\n  - narration: Hi.\n    bullets:\n      - ok\n      -\n",
            5,
            "each bullet must be text, not empty",
        ),
        ("sections:\n  - title: Intro\n", 2, "section 1 ('Intro') has no 'narration'"),
        ("sections:\n  - title: Intro\n    narration:\n", 3, "has an empty narration"),
        ("sections:\n  - title: Intro\n    narration: '  '\n", 3, "has an empty narration"),
        ("sections:\n  - title: Intro\n    narration: '...'\n", 2, "has no words to speak"),
        ("sections:\n  - Just a string\n", 2, "section 1 must be a mapping"),
        ("title: A\ntitle: B\nsections:\n  - narration: Hi.\n", 2, "duplicate key 'title'"),
        ("title: T\n", 1, "missing 'sections'"),
        ("title: T\nsections:\n  - narration: Hi.\n   bad: indent\n", 4, "invalid YAML"),
        ("- a\n- b\n", 1, "the script must be a mapping"),
    ],
)
def test_yaml_errors_name_file_and_line(tmp_path: Path, text: str, line: int, fragment: str) -> None:
    path = write(tmp_path, "talk.yaml", text)
    message = error_of(path)
    assert message.startswith(f"{path}:{line}: "), message
    assert fragment in message


def test_yaml_of_comments_only_is_empty(tmp_path: Path) -> None:
    assert "empty" in error_of(write(tmp_path, "talk.yaml", "# nothing yet\n"))


# --- files --------------------------------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    assert error_of(tmp_path / "nope.yaml").endswith("script file not found")


def test_folder_is_not_a_script(tmp_path: Path) -> None:
    folder = tmp_path / "talk.md"
    folder.mkdir()
    assert "folder" in error_of(folder)


def test_unknown_extension(tmp_path: Path) -> None:
    message = error_of(write(tmp_path, "talk.docx", "hello"))
    assert "unknown script type '.docx'" in message and ".yaml" in message and ".md" in message


@pytest.mark.parametrize("name", ["talk.yaml", "talk.md", "talk.txt"])
def test_empty_script(tmp_path: Path, name: str) -> None:
    assert error_of(write(tmp_path, name, "  \n\n")).endswith("the script is empty")


def test_undecodable_text_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "talk.txt", "Line one is fine.\n\nCaf\xe9 on line three.\n".encode("latin-1"))
    message = error_of(path)
    assert message.startswith(f"{path}:3: ") and "UTF-8" in message


def test_binary_file(tmp_path: Path) -> None:
    assert "not a text file" in error_of(write(tmp_path, "talk.md", b"# Hi\n\x00\x01\x02"))


def test_utf8_bom_and_crlf_are_fine(tmp_path: Path) -> None:
    path = write(tmp_path, "talk.md", "\ufeff# One\r\nSay this.\r\n\r\n# Two\r\nAnd this.\r\n".encode())
    assert [(s.title, s.narration, s.line) for s in load_script(path).sections] == [
        ("One", "Say this.", 1),
        ("Two", "And this.", 4),
    ]


# --- Markdown -----------------------------------------------------------------------------------------------


def test_markdown_lone_h1_is_the_title(tmp_path: Path) -> None:
    text = "# My Talk\n\n## First\nHello there.\n- a point\n\n## Second\nGoodbye now.\n"
    script = load_script(write(tmp_path, "talk.md", text))
    assert script.title == "My Talk"
    assert [(s.title, s.narration, s.bullets, s.line) for s in script.sections] == [
        ("First", "Hello there.", ("a point",), 3),
        ("Second", "Goodbye now.", (), 7),
    ]


def test_markdown_every_h1_is_a_section(tmp_path: Path) -> None:
    text = "# First\nHello there.\n\n# Second\nGoodbye now.\n"
    script = load_script(write(tmp_path, "team_intro.md", text))
    assert script.title == "Team intro"
    assert [s.title for s in script.sections] == ["First", "Second"]


def test_markdown_text_before_the_first_heading_is_an_intro(tmp_path: Path) -> None:
    text = "# My Talk\n\nA short intro.\n\n## Part A\nBody text.\n"
    script = load_script(write(tmp_path, "talk.md", text))
    assert [(s.title, s.narration) for s in script.sections] == [
        ("My Talk", "A short intro."),
        ("Part A", "Body text."),
    ]


def test_markdown_markup_bullets_comments_and_code(tmp_path: Path) -> None:
    text = """\
# Setup
Click **Install**, then see [the docs](https://example.com) and run `make`.
<!-- speaker note:
     not spoken -->
* star bullet with *emphasis*
+ plus bullet
1. numbered bullet that goes
   on to a second line
```
code is not spoken
```
Snake_case_names stay as they are.
"""
    (section,) = load_script(write(tmp_path, "talk.md", text)).sections
    assert section.narration == ("Click Install, then see the docs and run make. Snake_case_names stay as they are.")
    assert section.bullets == (
        "star bullet with emphasis",
        "plus bullet",
        "numbered bullet that goes on to a second line",
    )


def test_markdown_setext_headings(tmp_path: Path) -> None:
    text = "Talk Title\n==========\n\nOne\n---\nFirst words.\n\nTwo\n---\nMore words.\n"
    script = load_script(write(tmp_path, "talk.md", text))
    assert script.title == "Talk Title"
    assert [(s.title, s.narration) for s in script.sections] == [("One", "First words."), ("Two", "More words.")]


def test_markdown_front_matter(tmp_path: Path) -> None:
    text = "---\ntitle: From Front Matter\nvoice: joe\n---\n# A\nWords.\n"
    script = load_script(write(tmp_path, "talk.md", text))
    assert (script.title, script.voice, script.sections[0].title, script.sections[0].line) == (
        "From Front Matter",
        "joe",
        "A",
        5,
    )


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("---\nvoice: joe\nspeed: 2\n---\n# A\nWords.\n", 3, "unknown key 'speed' in the front matter"),
        ("---\nvoice: joe\n# A\nWords.\n", 1, "never closed"),
        ("# Title\n\n## Empty\n\n## Full\nWords.\n", 3, "section 1 ('Empty') has no narration"),
        ("# A\nWords.\n\n# B\n- only a bullet\n", 4, "section 2 ('B') has no narration"),
        ("# A\nWords.\n\n-\n", 4, "empty bullet"),
        ("# A\nWords.\n#\nMore.\n", 3, "empty heading"),
        ("# A\nWords.\n<!-- forgot to close\n", 3, "never closed"),
    ],
)
def test_markdown_errors_name_file_and_line(tmp_path: Path, text: str, line: int, fragment: str) -> None:
    path = write(tmp_path, "talk.md", text)
    message = error_of(path)
    assert message.startswith(f"{path}:{line}: "), message
    assert fragment in message


# --- plain text ---------------------------------------------------------------------------------------------


def test_text_one_section_per_paragraph(tmp_path: Path) -> None:
    text = "First paragraph, which is\nwrapped over lines.\n\n\nSecond paragraph.\n"
    script = load_script(write(tmp_path, "demo_script.txt", text))
    assert script.title == "Demo script"
    assert [(s.title, s.narration, s.line) for s in script.sections] == [
        ("Part 1", "First paragraph, which is wrapped over lines.", 1),
        ("Part 2", "Second paragraph.", 5),
    ]


def test_text_wrapped_lines_are_not_titles(tmp_path: Path) -> None:
    text = "Our new onboarding process makes the first\nweek easier for everyone joining.\n"
    (section,) = load_script(write(tmp_path, "talk.txt", text)).sections
    assert section.title == "Part 1" and section.narration.startswith("Our new onboarding")


def test_text_titles_and_bullets(tmp_path: Path) -> None:
    text = "Quarterly Update\n\nRevenue\nSales grew this quarter.\n- Sales grew\n- Costs fell\n  sharply\n"
    script = load_script(write(tmp_path, "talk.txt", text))
    assert script.title == "Quarterly Update"
    (section,) = script.sections
    assert (section.title, section.narration, section.bullets, section.line) == (
        "Revenue",
        "Sales grew this quarter.",
        ("Sales grew", "Costs fell sharply"),
        3,
    )


def test_text_section_of_bullets_only_has_no_narration(tmp_path: Path) -> None:
    path = write(tmp_path, "talk.txt", "Intro words here.\n\n- just\n- bullets\n")
    assert error_of(path).startswith(f"{path}:3: section 2")
