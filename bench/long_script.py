"""Long-script benchmark: narration memory must stay flat in the number of sections.

Writes a plain-text script of N paragraphs (~100 words each; 300 paragraphs is a 30,000-word, ~3-hour course),
narrates it and writes its captions in a fresh Python process with a cold cache, and reports that process's peak
RSS and speed. Run for 10 and for 300 sections, the peaks must be within 1.3x (the narration WAV is streamed to
disk section by section; only timings stay in memory). A second run of the largest size reuses the narration cache,
which is how a stopped render resumes.

    .venv/bin/python bench/long_script.py [--sections 10 300] [--tts espeak-ng|piper] [--json]

espeak-ng is the default here because it is fast (the memory behaviour does not depend on the engine);
``--tts piper`` measures the default voice (300 sections take a while).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

WORDS_PER_PARAGRAPH = 100
MAX_RSS_RATIO = 1.3  # the acceptance bound: peak RSS at the largest size over the smallest
_SUBJECTS = ("The team", "Every customer", "A good trainer", "The new release", "Our support desk", "This module")
_VERBS = ("explains", "improves", "checks", "reviews", "describes", "measures", "simplifies", "records")
_OBJECTS = (
    "the quarterly numbers",
    "each safety step",
    "the onboarding flow",
    "a difficult question",
    "the weekly report",
    "three common mistakes",
    "the price of 42 licences",
    "what changed in 2025",
)
_TAILS = (
    "before the meeting.",
    "with great care.",
    "in under five minutes.",
    "for every region.",
    "and then moves on.",
    "so nobody is surprised.",
)


def paragraph(rng: random.Random) -> str:
    words: list[str] = []
    while len(words) < WORDS_PER_PARAGRAPH:
        words += f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)} {rng.choice(_TAILS)}".split()
    return " ".join(words)


def write_script(path: Path, sections: int) -> None:
    rng = random.Random(sections)
    path.write_text("\n\n".join(paragraph(rng) for _ in range(sections)) + "\n", encoding="utf-8")


def child(script: Path, tts: str, work: Path, cache: Path) -> dict[str, float]:
    """Narrate and caption in this process; print its figures as JSON."""
    from presgen_training.narration import NarrationConfig, synthesize, write_captions
    from presgen_training.script import load_script

    started = time.perf_counter()
    loaded = load_script(script)
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.perf_counter()
        if done == total or now - last[0] > 10:
            last[0] = now
            print(f"  narration {done}/{total} sections, {now - started:.0f} s", file=sys.stderr, flush=True)

    narration = synthesize(loaded, NarrationConfig(engine=tts, cache_dir=cache), work, progress=progress)
    write_captions(narration, work / "captions.srt", work / "captions.vtt")
    seconds = time.perf_counter() - started
    return {
        "sections": len(loaded.sections),
        "audio_s": round(narration.duration_s, 1),
        "seconds": round(seconds, 1),
        "realtime_factor": round(seconds / narration.duration_s, 4),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "wav_mib": round(narration.wav_path.stat().st_size / 2**20, 1),
    }


def measure(sections: int, tts: str, root: Path, cache: Path) -> dict[str, float]:
    script = root / f"long-{sections}.txt"
    write_script(script, sections)
    work = root / f"work-{sections}"
    work.mkdir(exist_ok=True)
    done = subprocess.run(
        [sys.executable, __file__, "--child", str(script), "--tts", tts, "--work", str(work), "--cache", str(cache)],
        stdout=subprocess.PIPE,
        check=True,
        text=True,
    )
    return dict(json.loads(done.stdout))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sections", type=int, nargs="+", default=[10, 300])
    parser.add_argument("--tts", default="espeak-ng")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--cache", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.tts, args.work, args.cache)))
        return 0
    with tempfile.TemporaryDirectory(prefix="presgen-long-") as tmp:
        root = Path(tmp)
        runs = [measure(n, args.tts, root, root / f"cache-{n}") for n in sorted(args.sections)]
        largest = max(args.sections)
        rerun = measure(largest, args.tts, root, root / f"cache-{largest}")  # every section from the cache
    ratio = runs[-1]["peak_rss_mib"] / runs[0]["peak_rss_mib"]
    result = {
        "tts": args.tts,
        "runs": runs,
        "cached_rerun": rerun,
        "rss_ratio": round(ratio, 3),
        "within_bound": ratio <= MAX_RSS_RATIO,
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for run in runs:
            print(
                f"{run['sections']:4d} sections  {run['audio_s'] / 60:6.1f} min of speech  {run['seconds']:7.1f} s  "
                f"(x{run['realtime_factor']:.3f} real time)  peak RSS {run['peak_rss_mib']:.0f} MiB  "
                f"WAV {run['wav_mib']:.0f} MiB"
            )
        print(
            f"rerun of {largest} sections from the cache: {rerun['seconds']:.1f} s, peak RSS "
            f"{rerun['peak_rss_mib']:.0f} MiB"
        )
        print(
            f"peak RSS {largest} vs {min(args.sections)} sections: {ratio:.2f}x (bound {MAX_RSS_RATIO}x): "
            f"{'ok' if ratio <= MAX_RSS_RATIO else 'TOO HIGH'}"
        )
    return 0 if ratio <= MAX_RSS_RATIO else 1


if __name__ == "__main__":
    sys.exit(main())
