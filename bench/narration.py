"""Narration benchmark: speed, pace and loudness of the 65 s bench script spoken by the default voice.

Synthesizes bench/script_65s.yaml with a cold cache (every section really synthesized) and prints the real-time
factor (synthesis seconds per second of narration, best of --runs), the pace in words per minute (the script's
written words over the seconds of speech, section pauses excluded), and the narration WAV's rate and loudness
measured with ffmpeg's EBU R128 filter. ``--video`` also measures the soundtrack of a finished render (e.g. the
demo: ``make demo`` writes out/demo.mp4).

    .venv/bin/python bench/narration.py [--runs 3] [--video out/demo.mp4] [--json]

To compare with another checkout, copy this file into its bench/ folder and run it there: it imports the code
of the checkout it sits in.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from presgen_training.ffmpeg import loudness_r128, probe  # noqa: E402
from presgen_training.narration import NarrationConfig, synthesize  # noqa: E402
from presgen_training.script import load_script  # noqa: E402

SCRIPT = HERE / "script_65s.yaml"


def loudness(path: Path) -> dict[str, float]:
    """Integrated loudness (LUFS) and true peak (dBTP) of a file's first audio stream (ffmpeg ebur128)."""
    integrated, peak = loudness_r128(path)
    return {"integrated_lufs": round(integrated, 2), "true_peak_dbtp": round(peak, 2)}


def bench(runs: int) -> dict:
    script = load_script(SCRIPT)
    words = sum(len(re.sub(r"\[[^\]]*\]|<[^>]*>", " ", s.narration).split()) for s in script.sections)
    best = float("inf")
    narration = None
    with tempfile.TemporaryDirectory(prefix="presgen-bench-narration-") as tmp:
        for run in range(runs + 1):  # run 0 loads the voice model and is not counted
            started = time.monotonic()
            narration = synthesize(script, NarrationConfig(cache_dir=None), Path(tmp) / f"run{run}")
            if run:
                best = min(best, time.monotonic() - started)
        assert narration is not None
        speech_s = sum(s.end_s - s.start_s for s in narration.sections)
        return {
            "script": SCRIPT.name,
            "engine": narration.engine,
            "voice": narration.voice,
            "words": words,
            "narration_s": round(narration.duration_s, 2),
            "speech_s": round(speech_s, 2),
            "synthesis_s": round(best, 2),
            "rtf": round(best / narration.duration_s, 3),
            "words_per_minute": round(words / speech_s * 60, 1),
            "sample_rate": probe(narration.wav_path).sample_rate,
            **loudness(narration.wav_path),
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs (best is reported; default: 3)")
    parser.add_argument("--video", type=Path, action="append", default=[], help="also measure this render's audio")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    report = bench(max(1, args.runs))
    for video in args.video:
        info = probe(video)
        report.setdefault("videos", {})[str(video)] = {
            "audio_codec": info.audio_codec,
            "sample_rate": info.sample_rate,
            **loudness(video),
        }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(
        f"{report['script']}: {report['words']} words, {report['narration_s']} s of narration "
        f"({report['speech_s']} s speech), {report['engine']} voice {report['voice']}"
    )
    print(f"  synthesis {report['synthesis_s']} s (best of {args.runs}): real-time factor {report['rtf']}")
    print(f"  pace {report['words_per_minute']} words per minute")
    print(
        f"  narration.wav {report['sample_rate']} Hz: {report['integrated_lufs']} LUFS integrated, "
        f"true peak {report['true_peak_dbtp']} dBTP"
    )
    for video, v in report.get("videos", {}).items():
        print(
            f"  {video}: {v['audio_codec']} {v['sample_rate']} Hz, {v['integrated_lufs']} LUFS integrated, "
            f"true peak {v['true_peak_dbtp']} dBTP"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
