"""How a script is spoken: language, rate and lexicon keys, a lexicon file, and narration markup (pauses honoured,
anything else rejected with the file and line, never read aloud or dropped)."""

from __future__ import annotations

from pathlib import Path

import pytest

from presgen_training.errors import ScriptError
from presgen_training.narration.markup import Pause, Text, parse_narration
from presgen_training.script import load_lexicon, load_script


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path, loader=load_script) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(ScriptError) as info:
        loader(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(path)), message
    return message


def test_yaml_voice_settings(tmp_path: Path) -> None:
    text = (
        "title: T\nlanguage: en_GB\nrate: 0.9\nlexicon:\n  PresGen: press gen\n  Nginx: /ˈɛndʒɪnˈɛks/\n"
        "sections:\n  - narration: PresGen runs on Nginx.\n"
    )
    script = load_script(write(tmp_path, "talk.yaml", text))
    assert (script.language, script.rate) == ("en-gb", 0.9)
    assert script.lexicon == (("PresGen", "press gen"), ("Nginx", "/ˈɛndʒɪnˈɛks/"))


def test_markdown_front_matter_voice_settings(tmp_path: Path) -> None:
    text = "---\nlanguage: de\nrate: 1.2\nlexicon:\n  GmbH: Gesellschaft\n---\n# A\nDie GmbH.\n"
    script = load_script(write(tmp_path, "talk.md", text))
    assert (script.language, script.rate, script.lexicon) == ("de", 1.2, (("GmbH", "Gesellschaft"),))


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("rate: fast\nsections:\n  - narration: Hi.\n", 1, "rate must be a number from 0.5 (slow) to 2 (fast)"),
        ("rate: 3\nsections:\n  - narration: Hi.\n", 1, "not '3'"),
        ("language: english please\nsections:\n  - narration: Hi.\n", 1, "is not a language tag"),
        ("lexicon: [a, b]\nsections:\n  - narration: Hi.\n", 1, "the lexicon must be a mapping"),
        ("lexicon:\n  two words: x\nsections:\n  - narration: Hi.\n", 2, "lexicon words are single words"),
        ("lexicon:\n  Nginx: /ˈɛn\nsections:\n  - narration: Hi.\n", 2, "phonemes between two slashes"),
        ("lexicon:\n  A: b\n  A: c\nsections:\n  - narration: Hi.\n", 3, "'A' is in the lexicon twice"),
        ("lexicon:\n  A: [b]\nsections:\n  - narration: Hi.\n", 2, "each lexicon entry is word: respelling"),
    ],
)
def test_voice_setting_errors_name_the_line(tmp_path: Path, text: str, line: int, fragment: str) -> None:
    path = write(tmp_path, "talk.yaml", text)
    message = error_of(path)
    assert message.startswith(f"{path}:{line}: ") and fragment in message, message


def test_lexicon_file(tmp_path: Path) -> None:
    plain = write(tmp_path, "words.yaml", "# product names\nPresGen: press gen\nSQL: sequel\n")
    assert load_lexicon(plain) == (("PresGen", "press gen"), ("SQL", "sequel"))
    nested = write(tmp_path, "nested.yaml", "lexicon:\n  PresGen: /ˈpɹɛsdʒɛn/\n")
    assert load_lexicon(nested) == (("PresGen", "/ˈpɹɛsdʒɛn/"),)
    bad = write(tmp_path, "bad.yaml", "PresGen: press gen\nSQL: <sequel>\n")
    assert error_of(bad, load_lexicon).startswith(f"{bad}:2: the respelling of 'SQL' contains markup")
    assert error_of(tmp_path / "missing.yaml", load_lexicon).endswith("lexicon file not found")


# --- markup -------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("narration", "pieces"),
    [
        ("Hello. [pause 1.5s] World.", [Text("Hello."), Pause(1.5), Text("World.")]),
        (
            "One <break time=\"2s\"/> two <break time='500ms' /> three",
            [Text("One"), Pause(2.0), Text("two"), Pause(0.5), Text("three")],
        ),
        (
            '[PAUSE 250ms]Then<break/>now<break strength="strong"/>',
            [Pause(0.25), Text("Then"), Pause(0.5), Text("now"), Pause(0.8)],
        ),
        ("No markup at all, just words.", [Text("No markup at all, just words.")]),
    ],
)
def test_pauses_are_parsed(narration: str, pieces: list) -> None:
    assert parse_narration(narration) == pieces


@pytest.mark.parametrize(
    ("markup", "fragment"),
    [
        ("<emphasis>really</emphasis>", "unsupported markup '<emphasis>'"),
        ('<prosody rate="slow">slowly</prosody>', "unsupported markup '<prosody rate=\"slow\">'"),
        ("[laughs]", "unknown markup '[laughs]'"),
        ("[pause]", "unknown markup '[pause]'"),
        ("[pause 45s]", "at most 30 seconds"),
        ('<break time="soon"/>', "is not a duration"),
        ("a < b", "a '<' that starts no tag"),
        ("[unclosed", "a '[' that opens no markup"),
    ],
)
def test_other_markup_is_rejected_with_its_line(tmp_path: Path, markup: str, fragment: str) -> None:
    yaml_text = f"sections:\n  - title: A\n    narration: >\n      Fine words here.\n      Then {markup} here.\n"
    path = write(tmp_path, "talk.yaml", yaml_text.replace('"', '"'))
    message = error_of(path)
    assert message.startswith(f"{path}:5: section 1 ('A'): ") and fragment in message, message
    md = write(tmp_path, "talk.md", f"# A\nFine words.\n\nMore words, then {markup} here.\n")
    assert error_of(md).startswith(f"{md}:4: "), error_of(md)
    txt = write(tmp_path, "talk.txt", f"Fine words.\nThen {markup} here.\n")
    assert error_of(txt).startswith(f"{txt}:2: ")


def test_markdown_keeps_pauses_and_drops_html_formatting(tmp_path: Path) -> None:
    text = '# A\nSay <b>this</b>. <break time="1s"/> Then that.<br>\n'
    (section,) = load_script(write(tmp_path, "talk.md", text)).sections
    assert parse_narration(section.narration) == [Text("Say this."), Pause(1.0), Text("Then that.")]


def test_a_section_of_pauses_only_has_no_words(tmp_path: Path) -> None:
    path = write(tmp_path, "talk.yaml", "sections:\n  - narration: '[pause 2s]'\n")
    assert "has no words to speak" in error_of(path)
