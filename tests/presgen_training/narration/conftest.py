"""Narration fixtures: the piper voice is loaded once per test session (it takes seconds), and the demo script is
synthesized once and shared by the tests that only read its timings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from presgen_training.narration import NarrationConfig, synthesize
from presgen_training.narration import piper_voice as piper_engine
from presgen_training.narration.piper_voice import PiperEngineVoice
from presgen_training.script import load_script
from presgen_training.timeline import Narration, Script, Section

REPO = Path(__file__).resolve().parents[3]
DEMO_SCRIPT = REPO / "examples" / "demo_script.yaml"


@pytest.fixture(autouse=True)
def _no_user_voices(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the voices the tests install: not the user's voices folder."""
    monkeypatch.setenv("PRESGEN_VOICES_DIR", str(tmp_path_factory.getbasetemp() / "no-voices"))


@pytest.fixture(scope="session")
def piper_voice() -> PiperEngineVoice:
    reason = piper_engine.unavailable_reason()
    if reason:
        pytest.fail(f"piper is part of the orchestrator venv but unusable: {reason}")
    voice = piper_engine.load_voice(None, deterministic=True)
    voice.speak("Warm up.")  # loads the model into the process-wide cache every later synthesis uses
    return voice


@pytest.fixture(scope="session")
def demo_script() -> Script:
    return load_script(DEMO_SCRIPT)


@pytest.fixture(scope="session")
def demo_config() -> NarrationConfig:
    return NarrationConfig(pause_s=0.8, lead_in_s=0.3, tail_s=0.6)


@pytest.fixture(scope="session")
def demo_narration(
    piper_voice: PiperEngineVoice,
    demo_script: Script,
    demo_config: NarrationConfig,
    tmp_path_factory: pytest.TempPathFactory,
) -> Narration:
    return synthesize(demo_script, demo_config, tmp_path_factory.mktemp("demo_narration"))


def _short_script(*narrations: str, voice: str | None = None, path: Path | None = None, **settings: object) -> Script:
    sections = tuple(Section(title=f"Part {i + 1}", narration=text) for i, text in enumerate(narrations))
    return Script(title="Short", sections=sections, voice=voice, path=path, **settings)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def short_script() -> Callable[..., Script]:
    """``short_script("First section.", "Second section.", voice=None, language=None, rate=None, lexicon=())``:
    a script without a file."""
    return _short_script
