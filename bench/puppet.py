"""Puppet engine speed at 1280x720 on this machine: ``python bench/puppet.py``.

Builds 1280x720 sources from the shared test media (a photo framed like a presenter, the same photo as a
close-up, a framed video and a close-up video), renders 10 s of speech with the engine's own code and
discards the frames. Prints frames per second for tracking (decode + face mesh), rendering (mouth, blinks,
sway, the mouth bank) and both, excluding encoding; then the encoder alone on those frames, with the settings
the engine uses and with the previous ones (x264 crf 18 veryfast).
Runs itself in the puppet env (PRESGEN_ENV_PUPPET or the built envs/puppet) when started from another python.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SIZE = (1280, 720)
AUDIO_S = 10.0
TARGET_FPS = 40.0


def _reexec_in_puppet_env() -> None:
    try:
        import cv2  # noqa: F401
        import mediapipe  # noqa: F401

        return
    except ImportError:
        pass
    sys.path.insert(0, str(REPO))
    from presgen_training.envs.locate import env_python

    python, reason = env_python("puppet")
    if python is None:
        raise SystemExit(f"bench/puppet.py needs the puppet env: {reason}")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    raise SystemExit(subprocess.call([str(python), __file__, *sys.argv[1:]], env=env))


def _media_dir(arg: str | None) -> Path:
    for candidate in (arg, os.environ.get("PRESGEN_TEST_MEDIA"), str(REPO.parent / "shared" / "media")):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    raise SystemExit("test media not found: pass --media or set PRESGEN_TEST_MEDIA")


def _ffmpeg(*args: str) -> None:
    from musetalk_wrapper.media import run_ffmpeg

    run_ffmpeg(["-v", "error", *args], "building bench input")


def _inputs(media: Path, tmp: Path) -> dict[str, tuple[str, Path]]:
    w, h = SIZE
    framed = f"scale=-2:{h},pad={w}:{h}:(ow-iw)/2:0:color=0xe8e8e8"
    audio = tmp / "speech.wav"
    _ffmpeg("-ss", "2", "-t", str(AUDIO_S), "-i", str(media / "eng.wav"), str(audio))
    photo, closeup, video = tmp / "photo.png", tmp / "closeup.png", tmp / "video.mp4"
    _ffmpeg("-i", str(media / "man.png"), "-vf", framed, str(photo))
    _ffmpeg("-i", str(media / "man.png"), "-vf", f"crop=1024:576:0:300,scale={w}:{h}", str(closeup))
    video_closeup = tmp / "video_closeup.mp4"
    encode = ["-an", "-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p"]
    _ffmpeg(
        "-stream_loop", "-1", "-i", str(media / "yongen.mp4"), "-t", str(AUDIO_S), "-vf", framed, *encode, str(video)
    )
    _ffmpeg(
        "-i",
        str(media / "sun.mp4"),
        "-t",
        str(AUDIO_S),
        "-vf",
        f"crop=576:324:0:90,scale={w}:{h}",
        *encode,
        str(video_closeup),
    )
    return {
        "photo (framed, motion on)": ("image", photo),
        "photo (close-up, motion on)": ("image", closeup),
        "video (framed)": ("video", video),
        "video (close-up)": ("video", video_closeup),
        "__audio__": ("audio", audio),
    }


def _cpu_s() -> float:
    """CPU seconds used so far by this process (all threads) and its finished children (ffmpeg): on a shared
    machine this moves less than wall time."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _encode_s(frames: list[Any], audio: Path, out: Path, **settings: Any) -> float:
    from musetalk_wrapper.media import VideoWriter

    h, w = frames[0].shape[:2]
    started = time.monotonic()
    with VideoWriter(out, w, h, audio, **settings) as writer:
        for frame in frames:
            writer.write(frame)
    return time.monotonic() - started


def _run_case(req: Any) -> tuple[float, float, float, list[Any]]:
    """One render of a case: (audio + decode + track seconds, drawing seconds, CPU seconds, the frames)."""
    from musetalk_wrapper.engines.puppet.prepared import prepare_source
    from musetalk_wrapper.engines.puppet.render import FrameDrawer, draw_frames, plan_clip, shown_frames
    from musetalk_wrapper.progress import Progress

    quiet = Progress(enabled=False)
    cpu0 = _cpu_s()
    started = time.monotonic()
    source = prepare_source(req, quiet)
    clip = plan_clip(req, quiet)
    source.need(shown_frames(clip, source), quiet)
    prepared = time.monotonic()
    try:
        frames = [f.image for f in draw_frames(FrameDrawer(clip, source))]
    finally:
        source.close()
    done = time.monotonic()
    return prepared - started, done - prepared, _cpu_s() - cpu0, frames


def main() -> int:
    _reexec_in_puppet_env()
    sys.path.insert(0, str(REPO))
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--media", help="folder with man.png, yongen.mp4 and eng.wav (default: $PRESGEN_TEST_MEDIA)")
    parser.add_argument("--only", help="run only the cases whose label contains this text")
    parser.add_argument(
        "--repeats", type=int, default=1, help="runs per case; figures are the fastest (on a shared machine: 3)"
    )
    args = parser.parse_args()
    from musetalk_wrapper.request import RenderRequest

    media = _media_dir(args.media)
    print(
        f"puppet engine, {SIZE[0]}x{SIZE[1]}, {AUDIO_S:.0f} s of speech, encoding excluded, {os.cpu_count()} cores "
        f"(cpu: this process and ffmpeg, per frame)"
    )
    worst = float("inf")
    kept: list[Any] = []
    with tempfile.TemporaryDirectory(prefix="presgen-bench-") as tmp_name:
        tmp = Path(tmp_name)
        inputs = _inputs(media, tmp)
        audio = inputs.pop("__audio__")[1]
        for label, (kind, path) in inputs.items():
            if args.only and args.only not in label:
                continue
            image, video = (path, None) if kind == "image" else (None, path)
            req = RenderRequest(audio=audio, output=tmp / "unused.mp4", image=image, video=video)
            best, totals = None, []
            for _ in range(args.repeats):  # the least disturbed run counts (frames of one run kept at a time)
                run = _run_case(req)
                totals.append(run[0] + run[1])
                best = run if best is None or totals[-1] <= best[0] + best[1] else best
            assert best is not None
            prep_s, render_s, cpu, frames = best
            n = len(frames)
            fps = n / (prep_s + render_s)
            worst = min(worst, fps)
            print(
                f"  {label:30s} {n} frames: audio+decode+track {prep_s:5.2f} s ({n / prep_s:6.1f} fps), "
                f"render {render_s:5.2f} s ({n / render_s:6.1f} fps), total {fps:5.1f} fps; "
                f"cpu {1000 * cpu / n:5.1f} ms/frame"
                + (
                    f" (fastest of {len(totals)}: {', '.join(f'{n / t:.1f}' for t in totals)} fps)"
                    if len(totals) > 1
                    else ""
                ),
                flush=True,
            )
            if not kept and kind == "video":
                kept = frames
        print(f"slowest: {worst:.1f} fps (target >= {TARGET_FPS:.0f})")
        if kept:
            from musetalk_wrapper.media import VideoWriter

            now = _encode_s(kept, audio, tmp / "now.mp4")
            before = _encode_s(kept, audio, tmp / "before.mp4", preset="veryfast", crf=18)
            mb = (tmp / "now.mp4").stat().st_size / 1e6, (tmp / "before.mp4").stat().st_size / 1e6
            print(
                f"encoding {len(kept)} frames: {VideoWriter.DEFAULT_SETTINGS} {now:5.2f} s ({mb[0]:.1f} MB), "
                f"x264 crf 18 veryfast {before:5.2f} s ({mb[1]:.1f} MB): {before / now:.2f}x"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
