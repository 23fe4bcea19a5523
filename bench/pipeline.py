"""Whole-pipeline benchmark: a 65 s narration (~180 words) rendered at 1280x720.

Prints per-stage seconds and the real-time factor for each avatar engine asked for, then renders the same overlay
with moviepy 2's CompositeVideoClip and prints how much faster our single ffmpeg pass is.
Targets on a 2-core machine: static <= 30 s, puppet <= 60 s, overlay >= 5x faster than moviepy.

    .venv/bin/python bench/pipeline.py --engine static --engine puppet
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from overlay_vs_moviepy import moviepy_compose  # noqa: E402

from presgen_training.avatar.chain import AvatarSettings  # noqa: E402
from presgen_training.ffmpeg import file_arg, run_ffmpeg  # noqa: E402
from presgen_training.narration import NarrationConfig, synthesize  # noqa: E402
from presgen_training.overlay import OverlayConfig  # noqa: E402
from presgen_training.pipeline import RenderOptions, render  # noqa: E402
from presgen_training.progress import StageReporter  # noqa: E402
from presgen_training.script import load_script  # noqa: E402
from presgen_training.segments.concat import concat_list  # noqa: E402

SCRIPT = HERE / "script_65s.yaml"
TARGET_S = {"static": 30.0, "puppet": 60.0}
MOVIEPY_MIN_RATIO = 5.0


def presenter_photo(folder: Path) -> Path:
    from PIL import Image
    from skimage import data

    path = folder / "astronaut.png"
    Image.fromarray(data.astronaut()).save(path)
    return path


def bench_engine(engine: str, source: Path, folder: Path, quality: str) -> dict:
    work = folder / f"work-{engine}"
    out = folder / f"bench-{engine}.mp4"
    reporter = StageReporter(enabled=False)
    os.environ["PRESGEN_CACHE_DIR"] = str(folder / f"cache-{engine}")  # cold: every run synthesizes its narration
    started = time.monotonic()
    report = render(
        RenderOptions(
            script=SCRIPT, source=source, out=out, quality=quality, work_dir=work, avatar=AvatarSettings(choice=engine)
        ),
        reporter,
    )
    total = time.monotonic() - started
    m = report.manifest
    used = m["avatar"]["engine"]
    if used != engine:
        reasons = "; ".join(f"{a['engine']}: {a['reason']}" for a in m["avatar"]["attempts"] if a["reason"])
        raise SystemExit(f"bench: asked for {engine} but {used} rendered ({reasons})")
    return {
        "engine": engine,
        "narration_s": m["narration"]["duration_s"],
        "words": m["narration"]["words"],
        "stages_s": m["stages_s"],
        "total_s": round(total, 2),
        "realtime_factor": round(total / m["narration"]["duration_s"], 3),
        "target_s": TARGET_S.get(engine),
        "work": str(work),
        "output": str(out),
        "avatar_clips": [seg["avatar_clip"] for seg in m["segments"]],
    }


def bench_moviepy(static_run: dict, folder: Path, quality: str) -> dict:
    """Same avatar video, same narration, same overlay config: moviepy vs our ffmpeg overlay stage."""
    script = load_script(SCRIPT)
    narration = synthesize(script, NarrationConfig(), folder / "moviepy-narration")
    avatar = folder / "avatar-static.mp4"  # the sections' presenter clips, joined: one avatar video as before segments
    listing = folder / "avatar-static.ffconcat"
    listing.write_text(concat_list([Path(c) for c in static_run["avatar_clips"]]), encoding="utf-8")
    run_ffmpeg(["-f", "concat", "-safe", "0", "-i", file_arg(listing), "-c", "copy", file_arg(avatar)], "joining clips")
    config = OverlayConfig(layout="side", quality=quality, captions="sidecar", title=script.title)
    started = time.monotonic()
    moviepy_compose(avatar, narration, folder / "moviepy.mp4", config)
    moviepy_s = time.monotonic() - started
    ours_s = static_run["stages_s"]["overlay"]
    return {
        "moviepy_s": round(moviepy_s, 2),
        "ours_s": ours_s,
        "ratio": round(moviepy_s / ours_s, 2),
        "target_ratio": MOVIEPY_MIN_RATIO,
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--engine",
        action="append",
        choices=["static", "puppet", "musetalk"],
        help="avatar engine(s) to time (default: static and puppet)",
    )
    p.add_argument("--source", type=Path, help="presenter photo or video (default: skimage astronaut)")
    p.add_argument("--quality", default="standard")
    p.add_argument("--no-moviepy", action="store_true", help="skip the moviepy comparison (~2 min)")
    p.add_argument("--json", type=Path, help="also write the figures to this file")
    args = p.parse_args()
    engines = args.engine or ["static", "puppet"]
    with tempfile.TemporaryDirectory(prefix="presgen-bench-") as tmp:
        folder = Path(tmp)
        source = args.source or presenter_photo(folder)
        results = {"runs": []}
        for engine in engines:
            run = bench_engine(engine, source, folder, args.quality)
            results["runs"].append(run)
            stages = "  ".join(f"{k} {v:.1f}s" for k, v in run["stages_s"].items())
            verdict = (
                ""
                if run["target_s"] is None
                else (
                    f"  [target <= {run['target_s']:.0f} s: {'met' if run['total_s'] <= run['target_s'] else 'MISSED'}]"
                )
            )
            print(
                f"{engine:8s} {run['narration_s']:.1f} s narration, {run['words']} words: "
                f"total {run['total_s']:.1f} s "
                f"(RTF {run['realtime_factor']:.2f})  {stages}{verdict}",
                flush=True,
            )
        static_run = next((r for r in results["runs"] if r["engine"] == "static"), None)
        if static_run and not args.no_moviepy:
            mp = bench_moviepy(static_run, folder, args.quality)
            results["moviepy"] = mp
            print(
                f"overlay  moviepy CompositeVideoClip {mp['moviepy_s']:.1f} s vs ours {mp['ours_s']:.1f} s: "
                f"{mp['ratio']:.1f}x faster  [target >= {MOVIEPY_MIN_RATIO:.0f}x: "
                f"{'met' if mp['ratio'] >= MOVIEPY_MIN_RATIO else 'MISSED'}]",
                flush=True,
            )
        if args.json:
            args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
