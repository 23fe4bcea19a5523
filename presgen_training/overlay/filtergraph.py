"""An overlay plan -> ffmpeg inputs and one filtergraph, for the whole video or any window of frames [a, b).

Pictures are one-frame inputs that the ``overlay`` filter repeats, switched on with ``enable='between(t,..)'``
(half-frame bounds: exact to the frame); a layer with fade pictures is an image sequence whose timestamps start on
its first frame and whose last picture is held. The presenter video is scaled and cropped once per distinct crop
(and masked for a picture-in-picture). When one unmasked presenter crop lies under everything, it is the base of
the graph, padded with the background colour (the fast path); otherwise the base is a colour canvas.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from presgen_training.ffmpeg import file_arg
from presgen_training.overlay.geometry import PresenterFit, Rect
from presgen_training.overlay.layers import Layer, OverlayPlan


@dataclass(frozen=True)
class Graph:
    inputs: list[str]  # ffmpeg arguments: the avatar video first (input 0), then one input per picture layer
    filtergraph: str  # ends in the label [vout]
    layers: list[Layer]  # the layers drawn in this window, in drawing order
    picture_inputs: dict[int, int]  # index in ``layers`` -> ffmpeg input number


def avatar_input(avatar: Path, plan: OverlayPlan, window: tuple[int, int] | None = None) -> list[str]:
    """ffmpeg input arguments for the avatar video, seeked to where ``window`` starts."""
    skip = max(0, (window[0] if window else 0) - plan.content_start)
    return [*(["-ss", f"{skip / plan.fps:.3f}"] if skip else []), "-i", file_arg(avatar)]


def build_graph(
    plan: OverlayPlan, avatar_input: list[str], first_input: int, window: tuple[int, int] | None = None
) -> Graph:
    """``avatar_input`` opens the avatar video (its frame 0 is output frame ``plan.content_start``); picture inputs
    are numbered from ``first_input``. Timestamps in the graph start at 0 on the window's first frame."""
    a, b = window or (0, plan.frames)
    fps = plan.fps
    layers = [layer for layer in plan.layers if layer.first_frame < b and layer.end_frame > a]
    inputs = list(avatar_input)
    picture_inputs: dict[int, int] = {}
    for i, layer in enumerate(layers):
        if layer.is_presenter:
            continue
        picture_inputs[i] = first_input + len(picture_inputs)
        pattern = layer.sequence_pattern
        skip = a - layer.first_frame
        if pattern is not None and skip < len(layer.intro):
            inputs += ["-framerate", str(fps), "-start_number", str(max(0, skip)), "-i", file_arg(pattern)]
        else:
            assert layer.image is not None  # only the presenter has no picture
            inputs += ["-i", file_arg(layer.image)]
    chains: list[str] = []
    presenters = [layer for layer in layers if layer.is_presenter]
    base = _fast_base(plan, layers, a, b)
    if base is not None:
        chains.append(_presenter_chain(plan, base, a, b, pad=True) + "[v0]")
        drawn = [(i, layer) for i, layer in enumerate(layers) if not layer.is_presenter]
    else:
        r, g, bl = plan.background
        chains.append(
            f"color=c=0x{r:02x}{g:02x}{bl:02x}:s={plan.width}x{plan.height}:r={fps}"
            f":d={(b - a) / fps:.3f},format=yuv420p[v0]"
        )
        drawn = list(enumerate(layers))
        _presenter_branches(plan, presenters, a, b, chains)
    label = 0
    uses: dict[tuple[PresenterFit, str | None], int] = {}
    for i, layer in drawn:
        start, stop = (max(layer.first_frame, a) - a - 0.5) / fps, (min(layer.end_frame, b) - a - 0.5) / fps
        enable = f"enable='between(t,{start:.3f},{stop:.3f})'"
        if layer.is_presenter:
            key = _key(layer)
            uses[key] = uses.get(key, 0) + 1
            source = f"[p{_branch_index(presenters, layer)}_{uses[key] - 1}]"
            chains.append(
                f"[v{label}]{source}overlay=x={layer.rect.x}:y={layer.rect.y}:eof_action=pass:{enable}[v{label + 1}]"
            )
        else:
            source = f"[{picture_inputs[i]}:v]"
            if layer.sequence_pattern is not None and a - layer.first_frame < len(layer.intro):
                # timestamps counted in whole frames: a float offset (8.2 s * 25) can truncate to the frame before
                offset = max(0, layer.first_frame - a)
                chains.append(f"{source}format=yuva420p,settb=1/{fps},setpts=N+{offset}[s{i}]")
                source = f"[s{i}]"
            chains.append(f"[v{label}]{source}overlay=x={layer.rect.x}:y={layer.rect.y}:{enable}[v{label + 1}]")
        label += 1
    chains.append(f"[v{label}]format=yuv420p[vout]")
    return Graph(inputs, ";".join(chains), layers, picture_inputs)


def _key(layer: Layer) -> tuple[PresenterFit, str | None]:
    assert layer.fit is not None
    return layer.fit, str(layer.mask) if layer.mask else None


def _branch_index(presenters: list[Layer], layer: Layer) -> int:
    keys: list[tuple[PresenterFit, str | None]] = []
    for p in presenters:
        if _key(p) not in keys:
            keys.append(_key(p))
    return keys.index(_key(layer))


def _fast_base(plan: OverlayPlan, layers: list[Layer], a: int, b: int) -> Layer | None:
    """The presenter layer that can be the graph's base: one unmasked crop, covering the whole window, under every
    layer it shares frames with."""
    presenters = [layer for layer in layers if layer.is_presenter]
    if not presenters or any(_key(p) != _key(presenters[0]) or p.mask is not None for p in presenters):
        return None
    covered = a
    for p in sorted(presenters, key=lambda p: p.first_frame):
        if p.first_frame > covered:
            return None
        covered = max(covered, p.end_frame)
    if covered < b:
        return None
    for p in presenters:
        below = layers[: layers.index(p)]
        if any(o.first_frame < p.end_frame and p.first_frame < o.end_frame for o in below if not o.is_presenter):
            return None
    return presenters[0]


def _presenter_chain(plan: OverlayPlan, layer: Layer, a: int, b: int, pad: bool) -> str:
    fit = layer.fit
    assert fit is not None
    fps = plan.fps
    chain = (
        f"[0:v]fps={fps},scale={fit.scaled_w}:{fit.scaled_h}:flags=bicubic:out_range=tv,"
        f"crop={fit.rect.w}:{fit.rect.h}:{fit.crop_x}:{fit.crop_y},setsar=1"
    )
    if pad and fit.rect != Rect(0, 0, plan.width, plan.height):
        r, g, bl = plan.background
        chain += f",pad={plan.width}:{plan.height}:{fit.rect.x}:{fit.rect.y}:color=0x{r:02x}{g:02x}{bl:02x}"
    delay = max(0, plan.content_start - a)
    if delay:  # after fps= the time base is one frame, so this offset is exact
        chain += f",setpts=PTS-STARTPTS+{delay}"
    # an avatar a few frames short of the narration holds its last frame instead of ending the video early
    chain += f",tpad=stop_mode=clone:stop_duration={(b - a) / fps + 1:.2f}"
    return chain


def _presenter_branches(plan: OverlayPlan, presenters: list[Layer], a: int, b: int, chains: list[str]) -> None:
    """One scaled (and masked) presenter stream per distinct crop, split into one copy per layer using it."""
    order: list[tuple[PresenterFit, str | None]] = []
    for layer in presenters:
        if _key(layer) not in order:
            order.append(_key(layer))
    if not order:
        return
    if len(order) > 1:
        chains.append(f"[0:v]split={len(order)}" + "".join(f"[src{k}]" for k in range(len(order))))
    for k, key in enumerate(order):
        users = [layer for layer in presenters if _key(layer) == key]
        chain = _presenter_chain(plan, users[0], a, b, pad=False)
        if len(order) > 1:
            chain = chain.replace("[0:v]", f"[src{k}]", 1)
        if key[1] is not None:
            chain += (
                f"[pm{k}];movie={_movie_arg(key[1])},format=gray[mask{k}];"
                f"[pm{k}]format=yuva420p[pa{k}];[pa{k}][mask{k}]alphamerge"
            )
        outs = "".join(f"[p{k}_{n}]" for n in range(len(users)))
        chains.append(f"{chain},split={len(users)}{outs}" if len(users) > 1 else f"{chain}{outs}")


def _movie_arg(path: str) -> str:
    """A path inside a filtergraph's movie= source: escaped for the filtergraph and the option parser."""
    return "'" + path.replace("\\", "\\\\").replace("'", "\\'").replace(":", "\\:") + "'"
