"""Bench: the musetalk engine on this machine with full-size random-weight models.

Run with the musetalk env's python (it builds the models with torch)::

    .envs/musetalk/bin/python bench/musetalk.py [--frames 8] [--models-dir DIR] [--json OUT]

1. A full-size models folder in the official layout and formats (~3.8 GB of seeded random weights, made by
   shared/musetalk/make_random_models.py) in a temp folder outside the repo, reused when already complete.
2. Two renders of the same source (sun.mp4) with FRAMES frames of speech from eng.wav, through the wrapper
   CLI as the orchestrator runs it: the first prepares the avatar (cache miss), the second reuses it (hit).
3. Prints per-stage seconds per frame from the engine's own timings, model load times, wall times and the
   speed-up of the cached render. Random weights cost exactly what the real ones do: same shapes, same ops.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from musetalk_wrapper import weights  # noqa: E402  (standard library only)

DEFAULT_MODELS = Path(tempfile.gettempdir()) / "presgen-bench-musetalk-models"
SPEECH_START_S = 4.0  # eng.wav: continuous speech from here on (no pause in the first seconds)
FPS = 25
PREP_STAGES = ("landmarks", "vae_encode", "face_parsing", "masks_store")
GEN_STAGES = ("audio_features", "unet", "vae_decode", "blend_write")


def ensure_models(models: Path, manifests: Path) -> float:
    """Build the random full-size folder unless it is complete already; seconds spent."""
    if weights.check(models).complete:
        return 0.0
    if REPO in models.resolve().parents:
        raise SystemExit(f"refusing to write 3.8 GB of random weights inside the repo: {models}")
    script = manifests / "make_random_models.py"
    if not script.is_file():
        raise SystemExit(f"{script} not found; pass --manifests (shared/musetalk)")
    print(f"building full-size random models in {models} (about 3.8 GB) ...", flush=True)
    started = time.monotonic()
    subprocess.run([sys.executable, str(script), str(models)], check=True, stdout=subprocess.DEVNULL)
    report = weights.check(models)
    if not report.complete:
        raise SystemExit(f"random models incomplete: {[f.path for f in report.files if f.status != 'ok']}")
    return time.monotonic() - started


def cut_audio(media: Path, seconds: float, out: Path) -> None:
    import imageio_ffmpeg

    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-ss", str(SPEECH_START_S), "-t",
                    f"{seconds:.3f}", "-i", str(media / "eng.wav"), str(out)], check=True)


def render(audio: Path, source: Path, out: Path, models: Path, cache: Path, batch: int) -> tuple[dict[str, Any], float]:
    cmd = [sys.executable, "-m", "musetalk_wrapper", "--engine", "musetalk", "--audio", str(audio), "--video",
           str(source), "--output", str(out), "--models-dir", str(models), "--cache-dir", str(cache),
           "--batch-size", str(batch), "--device", "cpu", "--quiet", "--json-output"]
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    wall = time.monotonic() - started
    result = json.loads(proc.stdout)
    if not result.get("success"):
        raise SystemExit(f"render failed: {result}\n{proc.stderr[-2000:]}")
    return result, wall


def per_frame(timings: dict[str, float], stages: tuple[str, ...], frames: int) -> dict[str, float]:
    return {s: timings[s] / frames for s in stages if s in timings}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=8, help="output frames per render (default: %(default)s)")
    parser.add_argument("--models-dir", type=Path, default=DEFAULT_MODELS)
    parser.add_argument("--media", type=Path,
                        default=Path(os.environ.get("PRESGEN_TEST_MEDIA", REPO.parent / "shared" / "media")))
    parser.add_argument("--manifests", type=Path, default=None, help="shared/musetalk (default: beside --media)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    manifests = args.manifests or args.media.parent / "musetalk"
    build_s = ensure_models(args.models_dir, manifests)

    import torch

    with tempfile.TemporaryDirectory(prefix="presgen-bench-musetalk-") as tmp:
        work = Path(tmp)
        audio = work / "speech.wav"
        cut_audio(args.media, args.frames / FPS, audio)
        source = args.media / "sun.mp4"
        first, first_wall = render(audio, source, work / "first.mp4", args.models_dir, work / "cache", args.frames)
        second, second_wall = render(audio, source, work / "second.mp4", args.models_dir, work / "cache",
                                     args.frames)
    n = first["frames"]
    assert first["details"]["cache"] == "miss" and second["details"]["cache"] == "hit"
    assert first["details"]["silent_frames"] == 0, "the bench clip must be speech throughout"
    t1, t2 = first["timings_s"], second["timings_s"]
    figures = {
        "machine": {"cpus": os.cpu_count(), "torch": torch.__version__, "threads": torch.get_num_threads()},
        "frames": n, "models_build_s": round(build_s, 1),
        "prepare_s_per_frame": per_frame(t1, PREP_STAGES, first["details"]["prepared_frames"]),
        "generate_s_per_frame_first": per_frame(t1, GEN_STAGES, n),
        "generate_s_per_frame_second": per_frame(t2, GEN_STAGES, n),
        "load_s_first": {k: v for k, v in t1.items() if k.startswith("load_")},
        "load_s_second": {k: v for k, v in t2.items() if k.startswith("load_")},
        "engine_total_s": {"first": t1["total"], "second": t2["total"]},
        "wall_s": {"first": round(first_wall, 2), "second": round(second_wall, 2)},
        "speedup_cached_wall": round(first_wall / second_wall, 2),
        "speedup_cached_engine": round(t1["total"] / t2["total"], 2),
        "speedup_cached_per_frame_compute": round(
            (sum(per_frame(t1, PREP_STAGES + GEN_STAGES, n).values())) /
            sum(per_frame(t2, PREP_STAGES + GEN_STAGES, n).values()), 2),
    }
    print(f"musetalk engine, full-size random weights, {n} frames of {source.name}, CPU, "
          f"{figures['machine']['cpus']} cores, torch {torch.__version__}")
    print(f"{'stage':<16}{'1st render s/frame':>20}{'2nd (cached) s/frame':>22}")
    for stage in PREP_STAGES + GEN_STAGES:
        a = t1.get(stage, 0.0) / n
        b = t2.get(stage, 0.0) / n
        print(f"{stage:<16}{a:>20.3f}{b:>22.3f}")
    for key in sorted(set(figures["load_s_first"]) | set(figures["load_s_second"])):
        print(f"{key:<16}{t1.get(key, 0.0):>19.2f}s{t2.get(key, 0.0):>21.2f}s")
    print(f"{'engine total':<16}{t1['total']:>19.2f}s{t2['total']:>21.2f}s")
    print(f"{'wall (process)':<16}{first_wall:>19.2f}s{second_wall:>21.2f}s")
    print(f"speed-up of the cached render: {figures['speedup_cached_wall']}x wall, "
          f"{figures['speedup_cached_per_frame_compute']}x per-frame compute")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
