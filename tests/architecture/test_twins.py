"""Deliberate twins across the venv boundary (the orchestrator and the wrapper may not share code): the constants
both sides rely on are equal, and both probes read the same media the same way."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from musetalk_wrapper import contract as wrapper_contract
from musetalk_wrapper import media as wrapper_media
from presgen_training import ffmpeg as orchestrator_media
from presgen_training import interrupts
from presgen_training.avatar import render_size, static
from presgen_training.envs.health import rebuild_command
from presgen_training.ffmpeg import file_arg, run_ffmpeg


def test_shared_constants_are_equal() -> None:
    assert orchestrator_media.OUTPUT_FPS == wrapper_media.OUTPUT_FPS
    assert orchestrator_media.AUDIO_BITRATE == wrapper_media.AUDIO_BITRATE
    assert frozenset(wrapper_media.IMAGE_SUFFIXES) == orchestrator_media.IMAGE_SUFFIXES
    assert rebuild_command("puppet") == wrapper_contract.rebuild_env_command("puppet")
    assert interrupts.exit_code(KeyboardInterrupt()) == wrapper_contract.EXIT_INTERRUPTED
    assert static.HANDOFF_FRAMES > 1
    assert render_size.ENGINE_MAX_SIDE_PX == wrapper_media.MAX_SIDE_PX
    # the engines' dissolves into the next clip's motion are the same length (a cut looks the same in every engine)
    assert _constant("musetalk_wrapper/engines/puppet/motion.py", "HANDOFF_FRAMES") == static.HANDOFF_FRAMES
    assert _constant("musetalk_wrapper/engines/musetalk/clock.py", "HANDOFF_FRAMES") == static.HANDOFF_FRAMES


def _constant(path: str, name: str) -> object:
    """A module-level constant read from an engine's source (engines import packages only their env has)."""
    tree = ast.parse((Path(__file__).parents[2] / path).read_text())
    for node in tree.body:
        target = node.targets[0] if isinstance(node, ast.Assign) else getattr(node, "target", None)
        if isinstance(target, ast.Name) and target.id == name and node.value is not None:
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name} not found in {path}")


MEDIA = {
    "video-with-sound": [
        "-f",
        "lavfi",
        "-i",
        "testsrc2=s=320x240:r=25:d=2",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=300:duration=2",
        "-shortest",
        "-pix_fmt",
        "yuv420p",
    ],
    "video-30fps": ["-f", "lavfi", "-i", "testsrc2=s=176x144:r=30:d=1", "-pix_fmt", "yuv420p"],
    "photo": ["-f", "lavfi", "-i", "testsrc2=s=97x65:d=1", "-frames:v", "1"],
    "tiny-photo": ["-f", "lavfi", "-i", "color=c=red:s=1x1:d=1", "-frames:v", "1"],
    "speech": ["-f", "lavfi", "-i", "sine=frequency=300:duration=1.5", "-ar", "22050"],
}
SUFFIX = {"photo": ".png", "tiny-photo": ".png", "speech": ".wav"}


@pytest.mark.parametrize("name", sorted(MEDIA))
def test_both_probes_agree(name: str, tmp_path: Path) -> None:
    path = tmp_path / f"{name}{SUFFIX.get(name, '.mp4')}"
    run_ffmpeg([*MEDIA[name], file_arg(path)], f"making {name}")
    ours, theirs = orchestrator_media.probe(path), wrapper_media.probe(path)
    assert (ours.width, ours.height, ours.fps, ours.has_video, ours.has_audio) == (
        theirs.width,
        theirs.height,
        theirs.fps,
        theirs.has_video,
        theirs.has_audio,
    )
    assert ours.duration_s == theirs.duration_s


def test_a_video_turned_on_its_side_is_probed_upright(tmp_path: Path) -> None:
    """A phone video stored landscape with a 90 degree display rotation decodes portrait: both probes say so, and
    the wrapper scales it without squashing it."""
    flat, turned = tmp_path / "flat.mp4", tmp_path / "turned.mp4"
    run_ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=1", "-pix_fmt", "yuv420p", file_arg(flat)], "video")
    run_ffmpeg(["-display_rotation", "90", "-i", file_arg(flat), "-c", "copy", file_arg(turned)], "turning it")
    ours, theirs = orchestrator_media.probe(turned), wrapper_media.probe(turned)
    assert (ours.width, ours.height) == (theirs.width, theirs.height) == (240, 320)
    frame = next(iter(wrapper_media.read_video_frames(turned, max_side=160)))
    assert frame.shape == (160, 120, 3)


@pytest.mark.parametrize("max_side", [160, 200, 321])
def test_engine_size_is_what_the_engines_write(max_side: int, tmp_path: Path) -> None:
    """The orchestrator's idea of a clip's size at --max-side is the wrapper's decode and the static engine's."""
    video, speech = tmp_path / "odd.mp4", tmp_path / "speech.wav"
    run_ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=322x250:r=25:d=1", "-pix_fmt", "yuv420p", file_arg(video)], "video")
    run_ffmpeg(MEDIA["speech"] + [file_arg(speech)], "speech")
    frame = next(iter(wrapper_media.read_video_frames(video, max_side=max_side)))
    height, width = frame.shape[:2]
    assert (width // 2 * 2, height // 2 * 2) == render_size.engine_size(322, 250, max_side)
    static.render_static(video, speech, tmp_path / "static.mp4", max_side=max_side)
    info = orchestrator_media.probe(tmp_path / "static.mp4")
    assert (info.width, info.height) == render_size.engine_size(322, 250, max_side)
