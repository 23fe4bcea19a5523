"""The overlay stage against its obvious peer: the same cards, at the same times, composited by moviepy 2's
``CompositeVideoClip`` (Python, frame by frame) and by our ``compose`` (one ffmpeg filtergraph).

Both render one plan (``presgen_training.overlay.compose.plan_overlay``): same presenter crop, same PNG cards, same
frames. Our stage should be at least 5x faster.

    .venv/bin/python bench/overlay_vs_moviepy.py                      # 65 s bench script, static astronaut, 720p
    .venv/bin/python bench/overlay_vs_moviepy.py --avatar avatar.mp4 --quality fast --layout overlay
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from presgen_training.ffmpeg import AUDIO_BITRATE, probe  # noqa: E402
from presgen_training.files import atomic_output  # noqa: E402
from presgen_training.overlay import OverlayConfig, compose  # noqa: E402
from presgen_training.overlay.compose import plan_overlay  # noqa: E402
from presgen_training.timeline import Narration  # noqa: E402

SCRIPT = HERE / "script_65s.yaml"
MIN_RATIO = 5.0


def moviepy_compose(
    avatar_video: Path,
    narration: Narration,
    output: Path,
    config: OverlayConfig,
    face_box: tuple[int, int, int, int] | None = None,
) -> None:
    """Render ``compose``'s overlay (captions excepted) with moviepy's CompositeVideoClip, to ``output``."""
    from moviepy import AudioFileClip, ColorClip, CompositeVideoClip, ImageClip, VideoFileClip

    with tempfile.TemporaryDirectory(prefix="presgen-moviepy-") as tmp:
        plan = plan_overlay(avatar_video, narration, config, Path(tmp), None, face_box)
        fps = plan.fps
        duration = plan.frames / fps
        fit = plan.presenter
        avatar = VideoFileClip(str(avatar_video))
        presenter = (
            avatar.resized((fit.scaled_w, fit.scaled_h))
            .cropped(x1=fit.crop_x, y1=fit.crop_y, width=fit.rect.w, height=fit.rect.h)
            .with_position((fit.rect.x, fit.rect.y))
        )
        background = ColorClip((plan.width, plan.height), color=plan.background, duration=duration)
        cards = [
            ImageClip(str(layer.image))
            .with_start(layer.first_frame / fps)
            .with_duration((layer.end_frame - layer.first_frame) / fps)
            .with_position((layer.rect.x, layer.rect.y))
            for layer in plan.layers
            if not layer.is_presenter
        ]
        audio = avatar.audio if avatar.audio is not None else AudioFileClip(str(narration.wav_path))
        video = (
            CompositeVideoClip([background, presenter, *cards], size=(plan.width, plan.height))
            .with_duration(duration)
            .with_audio(audio.with_duration(min(audio.duration, duration)))
        )
        try:
            with atomic_output(output) as partial:
                video.write_videofile(
                    str(partial),
                    fps=fps,
                    codec="libx264",
                    preset=config.x264_preset,
                    audio_codec="aac",
                    audio_bitrate=AUDIO_BITRATE,
                    pixel_format="yuv420p",
                    ffmpeg_params=["-crf", str(config.crf), "-movflags", "+faststart"],
                    temp_audiofile_path=tmp,
                    logger=None,
                )
        finally:
            avatar.close()


def compare(avatar_video: Path, narration: Narration, folder: Path, config: OverlayConfig) -> dict[str, float]:
    """Seconds for ours and for moviepy on the same input, and how many times faster ours is."""
    started = time.monotonic()
    compose(avatar_video, narration, folder / "ours.mp4", config)
    ours = time.monotonic() - started
    started = time.monotonic()
    moviepy_compose(avatar_video, narration, folder / "moviepy.mp4", config)
    theirs = time.monotonic() - started
    return {
        "narration_s": round(narration.duration_s, 2),
        "ours_s": round(ours, 2),
        "moviepy_s": round(theirs, 2),
        "ratio": round(theirs / ours, 2),
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--avatar", type=Path, help="avatar video with sound (default: static astronaut + narration)")
    p.add_argument("--script", type=Path, default=SCRIPT, help="script narrated with piper (default: %(default)s)")
    p.add_argument("--quality", default="standard", choices=["fast", "standard", "high"])
    p.add_argument("--layout", default="side", choices=["side", "overlay"])
    p.add_argument("--keep", type=Path, help="write both videos into this folder")
    args = p.parse_args()

    from presgen_training.narration import NarrationConfig, synthesize
    from presgen_training.script import load_script

    with tempfile.TemporaryDirectory(prefix="presgen-bench-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        script = load_script(args.script)
        narration = synthesize(script, NarrationConfig(), folder / "narration")
        avatar = args.avatar or _static_astronaut(narration, folder)
        config = OverlayConfig(layout=args.layout, quality=args.quality, captions="off", title=script.title)
        size = probe(avatar)
        print(
            f"input: {narration.duration_s:.1f} s narration, avatar {size.width}x{size.height}, "
            f"{args.layout} layout at {config.size[0]}x{config.size[1]}",
            flush=True,
        )
        r = compare(avatar, narration, folder, config)
    verdict = "met" if r["ratio"] >= MIN_RATIO else "MISSED"
    print(
        f"ours {r['ours_s']:.1f} s, moviepy CompositeVideoClip {r['moviepy_s']:.1f} s: {r['ratio']:.1f}x faster "
        f"[target >= {MIN_RATIO:.0f}x: {verdict}]"
    )
    return 0


def _static_astronaut(narration: Narration, folder: Path) -> Path:
    from PIL import Image
    from skimage import data

    from presgen_training.avatar.static import render_static

    photo = folder / "astronaut.png"
    Image.fromarray(data.astronaut()).save(photo)
    avatar = folder / "avatar-static.mp4"
    render_static(photo, narration.wav_path, avatar)
    return avatar


if __name__ == "__main__":
    raise SystemExit(main())
