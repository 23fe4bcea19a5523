"""Render settings a course file may give (for every module under ``render:``, or per entry of an axis such as a
voice), how each is read from the YAML, and how a merged set of them becomes ``RenderOptions``.

Paths are relative to the course file; every problem is a ScriptError naming the course file and line.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from presgen_training import engines
from presgen_training.avatar.chain import AvatarSettings
from presgen_training.config import UserConfig
from presgen_training.errors import ScriptError
from presgen_training.narration.config import MAX_RATE, MIN_RATE
from presgen_training.narration.voice import TTS_CHOICES
from presgen_training.overlay.config import ASPECTS, CAPTION_MODES, INTRO_MODES, LAYOUTS, PIP_CORNERS, QUALITY_SIZES
from presgen_training.overlay.themes import BUILT_IN as BUILT_IN_THEMES
from presgen_training.pipeline import LookOptions, RenderOptions
from presgen_training.records import by_name
from presgen_training.script.yaml_script import is_null, kind, line_of, mapping_fields

Parser = Callable[[yaml.Node, Path], Any]


def text(node: yaml.Node, course: Path) -> str:
    if not isinstance(node, yaml.ScalarNode) or is_null(node) or not str(node.value).strip():
        raise ScriptError(course, line_of(node), f"expected text, not {kind(node)}")
    return str(node.value).strip()


def choice(*allowed: str) -> Parser:
    def parse(node: yaml.Node, course: Path) -> str:
        value = text(node, course)
        if value not in allowed:
            raise ScriptError(course, line_of(node), f"'{value}' is not one of: {', '.join(allowed)}")
        return value

    return parse


def flag(node: yaml.Node, course: Path) -> bool:
    value = yaml.safe_load(yaml.serialize(node)) if isinstance(node, yaml.ScalarNode) else None
    if not isinstance(value, bool):
        raise ScriptError(course, line_of(node), "expected true or false")
    return value


def seconds(node: yaml.Node, course: Path) -> float:
    value = yaml.safe_load(yaml.serialize(node)) if isinstance(node, yaml.ScalarNode) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        raise ScriptError(course, line_of(node), "expected a number of seconds (0 or more)")
    return float(value)


def resolve_path(value: str, course: Path) -> Path:
    """``~`` and ``$VARS`` expanded, relative to the course file's folder."""
    path = Path(os.path.expandvars(os.path.expanduser(value)))
    return Path(os.path.normpath(path if path.is_absolute() else course.parent / path))


def existing_file(node: yaml.Node, course: Path) -> Path:
    path = resolve_path(text(node, course), course)
    if not path.is_file():
        raise ScriptError(course, line_of(node), f"file not found: {path}")
    return path.resolve()


def existing_folder(node: yaml.Node, course: Path) -> Path:
    path = resolve_path(text(node, course), course)
    if not path.is_dir():
        raise ScriptError(course, line_of(node), f"folder not found: {path}")
    return path.resolve()


def theme(node: yaml.Node, course: Path) -> str:
    """A built-in theme's name, or a theme .yaml (relative to the course file)."""
    value = text(node, course)
    if value.endswith((".yaml", ".yml")):
        return str(existing_file(node, course))
    if value not in BUILT_IN_THEMES:
        raise ScriptError(
            course, line_of(node), f"unknown theme '{value}': a theme .yaml, or one of: {', '.join(BUILT_IN_THEMES)}"
        )
    return value


def speaking_rate(node: yaml.Node, course: Path) -> float:
    value = seconds(node, course)
    if not MIN_RATE <= value <= MAX_RATE:
        raise ScriptError(course, line_of(node), f"expected a speaking rate from {MIN_RATE:g} to {MAX_RATE:g}")
    return value


def share(node: yaml.Node, course: Path) -> float:
    value = seconds(node, course)
    if not 0 < value < 1:
        raise ScriptError(course, line_of(node), "expected a share of the frame between 0 and 1")
    return value


# What a course may set for its renders (each the render option of the same name) and how its value is read.
RENDER_SETTINGS: dict[str, Parser] = {
    "quality": choice(*QUALITY_SIZES),  # fast 854x480, standard 1280x720, high 1920x1080
    "layout": choice("auto", *LAYOUTS),  # auto (slides with a deck, else side), side, overlay or slides
    "captions": choice(*CAPTION_MODES),  # burn, sidecar or off
    "tts": choice(*TTS_CHOICES),  # voice engine
    "voice": text,  # voice name for the engine, or a piper .onnx path
    "pause": seconds,  # silence between sections
    "rate": speaking_rate,  # speaking rate: 1 is the narration pace, 0.5 to 2
    "lexicon": existing_file,  # pronunciation lexicon file
    "avatar": choice(*engines.CHOICES),  # presenter engine
    "fallback": flag,  # accept the next engine of the chain when the chosen one fails
    "env": text,  # engine env for the chosen engine
    "models_dir": existing_folder,  # MuseTalk weights folder
    "motion": flag,  # photo: head sway
    "blink": flag,  # photo: blinks
    "avatar_timeout": seconds,  # give up on an engine after this long
    "theme": theme,  # a built-in theme or a theme .yaml
    "aspect": choice(*ASPECTS),  # frame shape
    "pip_size": share,  # slides layout: the presenter's share of the frame width
    "pip_corner": choice(*PIP_CORNERS),  # slides layout: the presenter's corner
    "intro": choice(*INTRO_MODES),  # a title card before the first section
    "subtitle": text,  # subtitle on the intro card
    "end_card": flag,  # a closing card after the last section
    "chapters": flag,  # chapter marks, NAME.chapters.vtt and NAME.thumbnail.png
    "slides": text,  # which slides of a deck, e.g. 1-5,8
    "narrate_slide_text": flag,  # slides without notes: read their own text
    # Presenter sources (the presenters axis) and module content (a module's source).
    "image": existing_file,  # a photo of the presenter
    "video": existing_file,  # a video of the presenter
}
CONTENT_KEYS = ("script", "deck")  # set by module sources, not written as settings


def parse_settings(
    node: yaml.Node, course: Path, allowed: dict[str, Parser], where: str, skip: tuple[str, ...] = ()
) -> dict[str, Any]:
    """A mapping of settings (keys in ``allowed``; ``skip`` keys are left to the caller)."""
    fields = mapping_fields(node, course, (*allowed, *skip), where)
    return {key: allowed[key](value, course) for key, (_, value) in fields.items() if key not in skip}


def render_options(values: dict[str, Any], out: Path, work: Path, config: UserConfig) -> RenderOptions:
    """RenderOptions from merged settings (defaults as ``presgen render`` has them)."""
    source = values.get("image") or values.get("video")
    assert source is not None, "the presenters axis always gives a source"
    avatar = AvatarSettings(
        choice=values.get("avatar", engines.AUTO),
        allow_fallback=values.get("fallback", False),
        env_override=values.get("env"),
        models_dir=values.get("models_dir"),
        motion=values.get("motion", True),
        blink=values.get("blink", True),
        timeout_s=values.get("avatar_timeout"),
        config=config,
    )
    return by_name(
        RenderOptions,
        values,
        script=values.get("script"),
        source=source,
        out=out,
        layout=values.get("layout", "auto"),
        tts=values.get("tts", config.render.get("tts", "auto")),
        voice=values.get("voice", config.render.get("voice")),
        pause_s=values.get("pause", 0.8),
        avatar=avatar,
        work_dir=work,
        source_is_image="image" in values,
        look=by_name(LookOptions, values),
    )
