"""Script stage: read the user's script file (YAML, Markdown or plain text) into a ``timeline.Script``."""

from __future__ import annotations

from presgen_training.script.loader import SCRIPT_SUFFIXES, load_lexicon, load_script

__all__ = ["SCRIPT_SUFFIXES", "load_lexicon", "load_script"]
