"""How large the engine renders the presenter: at the size the video shows it, not the source's. A 1024x1536 photo
shown 768 px tall beside a panel costs four times the pixels to animate, encode and decode for nothing.

Sizes are given to the engine as its longest side (``--max-side``); every engine scales its source down to it,
never up, with the same rounding: ``int(side * factor)``, then down to even.
"""

from __future__ import annotations

import math

ENGINE_MAX_SIDE_PX = 1920  # the wrapper's MAX_SIDE_PX: no engine renders a longer side
# A small picture-in-picture still renders at least this large: the face mesh finds faces less reliably below it
MIN_RENDER_SIDE_PX = 640


def engine_size(width: int, height: int, max_side: int = ENGINE_MAX_SIDE_PX) -> tuple[int, int]:
    """The frame size an engine writes for a ``width x height`` source given ``--max-side max_side``."""
    if max(width, height) > max_side:
        factor = max_side / max(width, height)
        width, height = int(width * factor), int(height * factor)
    return width // 2 * 2, height // 2 * 2


def render_side(full: tuple[int, int], scale: float) -> int:
    """The ``--max-side`` for a presenter whose full-size render (``full``) is shown enlarged ``scale`` times:
    no smaller than the screen shows it, no larger than the full size."""
    longest = max(full)
    shown = 2 * math.ceil(longest * scale / 2)  # even: the clip's longest side is then exactly this
    return min(longest, max(MIN_RENDER_SIDE_PX, shown))
