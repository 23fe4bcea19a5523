"""Voices and languages: `presgen voices` lists what is installed with language, quality and licence; adding a piper
voice is dropping its .onnx and .onnx.json into the voices folder (tested with a voice the test builds from the
bundled one); a script's `language:` picks the voice, and the text rules follow it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from helpers import REPO
from presgen_training.errors import NarrationError
from presgen_training.narration import NarrationConfig, synthesize
from presgen_training.narration import piper_voice as piper_engine
from presgen_training.narration.piper_voice import PiperEngineVoice
from presgen_training.narration.voice import voice_catalog
from presgen_training.timeline import Script

needs_espeak = pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="espeak-ng is not on PATH (install: apt-get install espeak-ng)"
)


@pytest.fixture(scope="module")
def voices_folder(piper_voice: PiperEngineVoice, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A British voice called "testy": the bundled model under another name, its config edited."""
    folder = tmp_path_factory.mktemp("voices")
    model = folder / "en_GB-testy-medium.onnx"
    model.symlink_to(piper_voice.model)
    config = json.loads(piper_voice.config_path.read_text(encoding="utf-8"))
    config["dataset"] = "testy"
    config["language"] = {"code": "en_GB", "family": "en", "region": "GB"}
    config["license"] = "CC-BY-4.0"
    config["audio"]["quality"] = "medium"
    (folder / "en_GB-testy-medium.onnx.json").write_text(json.dumps(config), encoding="utf-8")
    return folder


@pytest.fixture
def with_testy(voices_folder: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PRESGEN_VOICES_DIR", str(voices_folder))
    return voices_folder


def test_catalog_lists_the_bundled_and_the_added_voice(with_testy: Path) -> None:
    piper = {v.name: v for v in voice_catalog(["piper"])}
    assert set(piper) == {"joe", "testy"}
    testy = piper["testy"]
    assert (testy.language, testy.quality, testy.licence) == ("en-gb", "medium", "CC-BY-4.0")
    assert testy.aliases == ("en_GB-testy-medium",) and testy.model == with_testy / "en_GB-testy-medium.onnx"
    assert piper["joe"].language == "en-us" and "CC0" in piper["joe"].licence


def test_an_added_voice_speaks_by_either_name(
    with_testy: Path, tmp_path: Path, short_script: Callable[..., Script]
) -> None:
    for name in ("testy", "en_GB-testy-medium"):
        narration = synthesize(short_script("Cheerio."), NarrationConfig(voice=name), tmp_path / name)
        assert (narration.engine, narration.voice, narration.language) == ("piper", "testy", "en-gb")


def test_the_scripts_language_picks_the_voice_and_the_rules(
    with_testy: Path, tmp_path: Path, short_script: Callable[..., Script]
) -> None:
    narration = synthesize(short_script("It is 1,234.", language="en-gb"), NarrationConfig(), tmp_path)
    assert narration.voice == "testy" and narration.language == "en-gb"
    # British English keeps its "and": "one thousand two hundred and thirty-four" lasts longer than without
    american = synthesize(short_script("It is 1,234."), NarrationConfig(), tmp_path / "us")
    assert american.voice == "joe"
    assert (
        narration.words[-1].end_s - narration.words[-1].start_s > american.words[-1].end_s - american.words[-1].start_s
    )


def test_a_voice_of_another_language_is_an_error(
    with_testy: Path, tmp_path: Path, short_script: Callable[..., Script]
) -> None:
    with pytest.raises(NarrationError, match=r"piper voice joe speaks en-us, but the language of .* is de"):
        synthesize(short_script("Guten Tag.", language="de"), NarrationConfig(voice="joe"), tmp_path)
    with pytest.raises(NarrationError, match=r"piper cannot speak: no piper voice speaks 'de'"):
        synthesize(short_script("Guten Tag.", language="de"), NarrationConfig(engine="piper"), tmp_path)


@needs_espeak
def test_auto_finds_a_voice_for_the_language_and_says_so(tmp_path: Path, short_script: Callable[..., Script]) -> None:
    narration = synthesize(short_script("Guten Tag.", language="de"), NarrationConfig(), tmp_path)
    assert (narration.engine, narration.voice, narration.language) == ("espeak-ng", "de", "de")
    assert (
        narration.fallback_reason == "piper: no piper voice speaks 'de' (see: presgen voices); used espeak-ng instead"
    )


def voices_cli(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRESGEN_VOICES_DIR": str(folder)}
    return subprocess.run(
        [sys.executable, "-m", "presgen_training", "voices", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        timeout=120,
        check=False,
    )


def test_presgen_voices_command(with_testy: Path) -> None:
    listing = voices_cli(with_testy, "--engine", "piper")
    assert listing.returncode == 0, listing.stderr
    lines = listing.stdout.splitlines()
    assert lines[0].split() == ["ENGINE", "NAME", "LANGUAGE", "QUALITY", "LICENCE", "SOURCE"]
    assert any(line.split()[:5] == ["piper", "testy", "en-gb", "medium", "CC-BY-4.0"] for line in lines)
    assert any(line.split()[:3] == ["piper", "joe*", "en-us"] for line in lines)
    assert str(with_testy) in listing.stdout, "says where to add voices"
    names = {
        (v["engine"], v["name"]) for v in json.loads(voices_cli(with_testy, "--language", "en-GB", "--json").stdout)
    }
    assert ("piper", "testy") in names and ("piper", "joe") in names
    one = voices_cli(with_testy, "--voice", str(with_testy / "en_GB-testy-medium.onnx"))
    assert one.returncode == 0 and "en_GB-testy-medium" in one.stdout and "CC-BY-4.0" in one.stdout
    missing = voices_cli(with_testy, "--voice", str(with_testy / "nope.onnx"))
    assert missing.returncode == 1 and missing.stderr.startswith("presgen: error: piper voice model not found")


def test_unknown_voice_names_stay_clear_errors(tmp_path: Path, short_script: Callable[..., Script]) -> None:
    assert piper_engine.voices() == ["joe"]
    with pytest.raises(NarrationError, match=r"^unknown piper voice 'bobby'; available: joe"):
        synthesize(short_script("Hello."), NarrationConfig(voice="bobby"), tmp_path)
