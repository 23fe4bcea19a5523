"""Incremental re-render: the 65 s bench script rendered whole (cold cache), then one section's narration edited and
the script rendered again. Prints both wall times, the re-render's share of the full render (target <= 25%), and
checks by frame hashes (ffmpeg framemd5) that every frame outside the edited section is identical to the first
render's.

    .venv/bin/python bench/incremental.py [--engine puppet] [--quality standard] [--section 2]

The machine may be shared: the share is a ratio of two runs made one after the other, which holds up better than
either time alone; re-run it on a quiet machine for absolute figures.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import yaml
from presgen_json import presgen_json

from presgen_training.ffmpeg import OUTPUT_FPS, file_arg, run_ffmpeg

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "script_65s.yaml"
TARGET_SHARE = 0.25
EDIT = " This sentence was added in review."


def presenter(folder: Path) -> tuple[Path, str]:
    media = os.environ.get("PRESGEN_TEST_MEDIA")
    if media and (Path(media) / "man.png").is_file():
        return Path(media) / "man.png", "--source-image"
    from PIL import Image
    from skimage import data

    path = folder / "astronaut.png"
    Image.fromarray(data.astronaut()).save(path)
    return path, "--source-image"


def render(
    script: Path, source: tuple[Path, str], out: Path, args: argparse.Namespace, env: dict
) -> tuple[float, dict]:
    started = time.monotonic()
    manifest = presgen_json(
        "render",
        "--script",
        str(script),
        source[1],
        str(source[0]),
        "--out",
        str(out),
        "--quality",
        args.quality,
        "--avatar",
        args.engine,
        "--jobs",
        str(args.jobs),
        env=env,
        what="render",
    )
    return time.monotonic() - started, manifest


def stages(manifest: dict) -> str:
    return ", ".join(f"{k} {v:.1f} s" for k, v in manifest["stages_s"].items())


def frame_hashes(video: Path) -> list[str]:
    out = run_ffmpeg(["-i", file_arg(video), "-map", "0:v:0", "-f", "framemd5", "-"], "hashing frames")
    return [line.rsplit(",", 1)[1].strip() for line in out.decode().splitlines() if line and not line.startswith("#")]


def by_segment(manifest: dict, hashes: list[str]) -> list[list[str]]:
    return [hashes[round(s["start_s"] * OUTPUT_FPS) : round(s["end_s"] * OUTPUT_FPS)] for s in manifest["segments"]]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", default="puppet", choices=["puppet", "static", "musetalk"])
    parser.add_argument("--quality", default="standard", choices=["fast", "standard", "high"])
    parser.add_argument("--section", type=int, default=2, help="the section to edit (1-based)")
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="presgen-bench-incremental-") as tmp:
        folder = Path(tmp)
        env = {**os.environ, "PRESGEN_CACHE_DIR": str(folder / "cache")}  # cold: nothing from earlier runs
        source = presenter(folder)
        script = yaml.safe_load(SCRIPT.read_text())
        first = folder / "full.yaml"
        first.write_text(yaml.safe_dump(script, sort_keys=False))
        script["sections"][args.section - 1]["narration"] = (
            script["sections"][args.section - 1]["narration"].rstrip() + EDIT
        )
        edited = folder / "edited.yaml"
        edited.write_text(yaml.safe_dump(script, sort_keys=False))

        full_s, m1 = render(first, source, folder / "full.mp4", args, env)
        print(
            f"full render: {full_s:.1f} s for {m1['output']['duration_s']:.1f} s of video "
            f"({len(m1['segments'])} sections, {args.engine}, {args.quality}); stages: {stages(m1)}"
        )
        again_s, m2 = render(edited, source, folder / "edited.mp4", args, env)
        share = again_s / full_s
        print(
            f"re-render after editing section {args.section}: {again_s:.1f} s = {100 * share:.0f}% of the full "
            f"render (target <= {100 * TARGET_SHARE:.0f}%); stages: {stages(m2)}"
        )
        edited_frames = m2["segments"][args.section - 1]["frames"]
        print(
            f"the edited section is {100 * edited_frames / sum(s['frames'] for s in m2['segments']):.0f}% of the "
            "video's frames: the floor of the share, before the fixed costs of a render (voice and engine start-up)"
        )
        before = by_segment(m1, frame_hashes(folder / "full.mp4"))
        after = by_segment(m2, frame_hashes(folder / "edited.mp4"))
        reused = [(s["avatar_cached"], s["overlay_cached"]) for s in m2["segments"]]
        pieces = [(s.get("avatar_pieces_rendered", 0), s.get("avatar_pieces", 1)) for s in m2["segments"]]
        ok = True
        for index, (a, b) in enumerate(zip(before, after)):
            same = a == b
            expected = index != args.section - 1
            ok &= same == expected
            print(
                f"  section {index + 1}: {len(b)} frames, {'identical' if same else 'changed'} "
                f"(presenter clip {'reused' if reused[index][0] else 'rendered'}, "
                f"{pieces[index][0]} of its {pieces[index][1]} pieces rendered, overlay clip "
                f"{'reused' if reused[index][1] else 'rendered'})"
            )
        print(f"identical outside the edited section: {'yes' if ok else 'NO'}")
        return 0 if ok and share <= TARGET_SHARE else 1


if __name__ == "__main__":
    raise SystemExit(main())
