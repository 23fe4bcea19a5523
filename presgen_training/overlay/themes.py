"""Built-in themes and brand themes from a YAML file (``--theme brand.yaml`` or a built-in name).

A theme file (paths are relative to it; every key is optional)::

    base: light                      # a built-in theme to start from (default, light, contrast)
    accent: "#e11d48"                # colours: "#rrggbb", "#rrggbbaa" or [r, g, b]
    panel: "#ffffff"
    text: "#0f172a"
    muted: "#64748b"
    background: brand-bg.jpg         # a colour, or a picture that covers the frame behind everything
    fonts: {regular: fonts/Brand-Regular.ttf, bold: fonts/Brand-Bold.ttf}
    logo: logo.png
    logo_corner: top-right           # top-left | top-right | bottom-left | bottom-right
    card: {colour: "#ffffffee", radius: 0}
    caption: {box: "#000000cc", text: "#ffffff", size: 30}
    pip: {shape: circle, ring: "#ffffff"}   # ring: none for no border
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from pathlib import Path
from typing import Any

import yaml

from presgen_training.errors import PresgenError
from presgen_training.ffmpeg import IMAGE_SUFFIXES
from presgen_training.overlay.config import Theme

# The colours a built-in theme sets, in the order of its palette row ("rrggbb", or "rrggbbaa" with alpha).
_PALETTE_KEYS = (
    "panel",
    "text",
    "muted",
    "accent",
    "card",
    "caption_box",
    "caption_text",
    "divider",
    "track",
    "background",
    "pip_ring",
)


def _built_in(name: str, palette: str, **other: Any) -> Theme:
    """The default theme with the colours of a palette row and ``other`` fields changed."""
    colours: dict[str, Any] = {
        key: tuple(bytes.fromhex(code)) for key, code in zip(_PALETTE_KEYS, palette.split(), strict=True)
    }
    return dataclasses.replace(Theme(), name=name, **colours, **other)


BUILT_IN: dict[str, Theme] = {
    "default": Theme(),
    #                            panel  text   muted  accent card     cap.box  cap.txt divide track  backgr pip
    "light": _built_in("light", "f8fafc 0f172a 64748b 2563eb ffffffee 0f172ac8 ffffff e2e8f0 cbd5e1 e2e8f0 ffffff"),
    "contrast": _built_in(
        "contrast",
        "000000 ffffff d2d2d2 ffd600 000000f0 000000eb ffffff 1c1c1c 5a5a5a 000000 ffd600",
        card_radius=0,
        caption_size=30,
    ),
}
COLOUR_KEYS = ("panel", "text", "muted", "accent", "divider", "track")
FILE_KEYS = ("name", "base", *COLOUR_KEYS, "background", "fonts", "logo", "logo_corner", "card", "caption", "pip")
FONT_SUFFIXES = (".ttf", ".otf", ".ttc")
_HEX = re.compile(r"^#?([0-9a-fA-F]{6})([0-9a-fA-F]{2})?$")


def load_theme(spec: str | Path | None) -> Theme:
    """A built-in theme by name, or a theme file; PresgenError naming the file and key on any problem."""
    if spec is None or str(spec) == "":
        return BUILT_IN["default"]
    if str(spec) in BUILT_IN:
        return BUILT_IN[str(spec)]
    path = Path(spec)
    if path.suffix.lower() not in (".yaml", ".yml"):
        raise PresgenError(f"--theme takes a built-in theme ({', '.join(BUILT_IN)}) or a .yaml file, not '{spec}'")
    if not path.is_file():
        raise PresgenError(f"theme file not found: {path}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise PresgenError(f"{path}: not a valid YAML theme: {exc}".splitlines()[0]) from None
    if not isinstance(data, dict):
        raise PresgenError(f"{path}: a theme is a mapping of keys ({', '.join(FILE_KEYS)})")
    return _theme_from(data, path)


def _theme_from(data: dict[str, Any], path: Path) -> Theme:
    for key in data:
        if key not in FILE_KEYS:
            hint = difflib.get_close_matches(str(key), FILE_KEYS, n=1)
            raise PresgenError(
                f"{path}: unknown theme key '{key}'"
                + (f" (did you mean '{hint[0]}'?)" if hint else "")
                + f"; known: {', '.join(FILE_KEYS)}"
            )
    base_name = str(data.get("base", "default"))
    if base_name not in BUILT_IN:
        raise PresgenError(f"{path}: base '{base_name}' is not a built-in theme ({', '.join(BUILT_IN)})")
    changes: dict[str, Any] = {"name": str(data.get("name", path.stem))}
    for key in COLOUR_KEYS:
        if key in data:
            changes[key] = colour(data[key], path, key)[:3]
    if "background" in data:
        value = data["background"]
        if isinstance(value, str) and Path(value).suffix.lower() in IMAGE_SUFFIXES:
            changes["background_image"] = _file(value, path, "background", tuple(IMAGE_SUFFIXES))
        else:
            changes["background"] = colour(value, path, "background")[:3]
    fonts = _section(data, "fonts", ("regular", "bold"), path)
    if "regular" in fonts:
        changes["font_regular"] = _file(fonts["regular"], path, "fonts.regular", FONT_SUFFIXES)
    if "bold" in fonts:
        changes["font_bold"] = _file(fonts["bold"], path, "fonts.bold", FONT_SUFFIXES)
    if "logo" in data:
        changes["logo"] = _file(data["logo"], path, "logo", tuple(IMAGE_SUFFIXES))
    if "logo_corner" in data:
        changes["logo_corner"] = str(data["logo_corner"])
    card = _section(data, "card", ("colour", "radius"), path)
    if "colour" in card:
        changes["card"] = colour(card["colour"], path, "card.colour", alpha=222)
    if "radius" in card:
        changes["card_radius"] = _number(card["radius"], path, "card.radius", 0, 60)
    caption = _section(data, "caption", ("box", "text", "size"), path)
    if "box" in caption:
        changes["caption_box"] = colour(caption["box"], path, "caption.box", alpha=190)
    if "text" in caption:
        changes["caption_text"] = colour(caption["text"], path, "caption.text")[:3]
    if "size" in caption:
        changes["caption_size"] = _number(caption["size"], path, "caption.size", 16, 60)
    pip = _section(data, "pip", ("shape", "ring"), path)
    if "shape" in pip:
        changes["pip_shape"] = str(pip["shape"])
    if "ring" in pip:
        changes["pip_ring"] = (
            None if str(pip["ring"]).lower() in ("none", "false") else colour(pip["ring"], path, "pip.ring")[:3]
        )
    try:
        return dataclasses.replace(BUILT_IN[base_name], **changes)
    except PresgenError as exc:
        raise PresgenError(f"{path}: {exc}") from None


def colour(value: Any, path: Path, key: str, alpha: int = 255) -> tuple[int, int, int, int]:
    if isinstance(value, str) and (m := _HEX.match(value.strip())):
        rgb = bytes.fromhex(m[1])
        return rgb[0], rgb[1], rgb[2], int(m[2], 16) if m[2] else alpha
    if isinstance(value, list) and len(value) in (3, 4) and all(isinstance(v, int) and 0 <= v <= 255 for v in value):
        return value[0], value[1], value[2], value[3] if len(value) == 4 else alpha
    raise PresgenError(f'{path}: {key} must be a colour like "#0f172a" or [15, 23, 42], not {value!r}')


def _section(data: dict[str, Any], key: str, allowed: tuple[str, ...], path: Path) -> dict[str, Any]:
    value = data.get(key, {})
    if key == "logo" or value is None:
        return {}
    if not isinstance(value, dict) or any(k not in allowed for k in value):
        raise PresgenError(f"{path}: {key} takes a mapping of {', '.join(allowed)}")
    return value


def _file(value: Any, path: Path, key: str, suffixes: tuple[str, ...]) -> Path:
    file = Path(str(value)).expanduser()
    file = file if file.is_absolute() else path.parent / file
    if file.suffix.lower() not in suffixes:
        raise PresgenError(f"{path}: {key} must be a {'/'.join(sorted(suffixes))} file, not {value}")
    if not file.is_file():
        raise PresgenError(f"{path}: {key} file not found: {file}")
    return file


def _number(value: Any, path: Path, key: str, low: int, high: int) -> int:
    if not isinstance(value, int) or not low <= value <= high:
        raise PresgenError(f"{path}: {key} must be a whole number from {low} to {high}, not {value!r}")
    return value
