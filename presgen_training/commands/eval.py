"""``presgen eval sync VIDEO [--audio A] [--source S] [--json]``: how well a presenter video's lips follow
its audio.

The measure needs MediaPipe, which lives in the puppet engine's env, so it runs there as
``<puppet python> -m musetalk_wrapper.sync_eval`` (this package never imports musetalk_wrapper).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from presgen_training import wrapper_client
from presgen_training.envs.locate import env_python
from presgen_training.errors import PresgenError

MEASURE_ENV = "puppet"
MEASURE_MODULE = "musetalk_wrapper.sync_eval"
TIMEOUT_S = 3600.0  # a 10-minute render takes a few minutes to measure on 2 cores


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "eval", help="measure a rendered presenter video", description="Measure a rendered presenter video."
    )
    actions = p.add_subparsers(dest="eval_action", metavar="ACTION", required=True)
    s = actions.add_parser(
        "sync",
        help="lip sync: mouth vs audio, mouth at rest in pauses, opening, blinks, upper face kept",
        description="Re-detect the face on every frame and report: the correlation of the inner-lip opening with "
        "the audio envelope at the best lag (within 5 frames) and within 1 frame; the share of pauses with the "
        "mouth at rest (closed, or for a photo --source its own resting mouth); the opening's 95th percentile in "
        "speech (inner-lip gap / outer eye-corner distance; real speakers reach 0.15-0.25); blinks per minute; "
        "with --source, the PSNR of the face above the nose against the source. Runs in the puppet env.",
    )
    s.add_argument("video", type=Path, help="rendered video")
    s.add_argument("--audio", type=Path, help="audio to compare with (default: the video's own audio)")
    s.add_argument("--source", type=Path, help="photo or video the render was made from (adds the PSNR)")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.add_argument("--engine-python", type=Path, help="python of the puppet env (default: found as for rendering)")
    s.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    for label, path in (("video", args.video), ("audio", args.audio), ("source", args.source)):
        if path is not None and not Path(path).is_file():
            raise PresgenError(f"{label} file not found: {path}")
    report = measure_sync(args.video, args.audio, args.source, args.engine_python)
    print(json.dumps(report, indent=2) if args.json else describe(report))
    return 0


def measure_sync(
    video: Path, audio: Path | None = None, source: Path | None = None, engine_python: Path | None = None
) -> dict[str, Any]:
    """Run the measure in the puppet env and return its JSON report; PresgenError when it cannot."""
    python, reason = env_python(MEASURE_ENV, engine_python)
    if python is None:
        raise PresgenError(f"the sync measure runs in the {MEASURE_ENV} env, which is unavailable: {reason}")
    args = [str(Path(video).resolve()), "--json"]
    if audio is not None:
        args += ["--audio", str(Path(audio).resolve())]
    if source is not None:
        args += ["--source", str(Path(source).resolve())]
    try:
        report = wrapper_client.call(python, args, TIMEOUT_S, module=MEASURE_MODULE, what="the sync measure").obj
    except wrapper_client.WrapperFailure as exc:
        raise PresgenError(exc.reason) from None
    if not report.get("success"):
        error = report.get("error") or {}
        raise PresgenError(f"sync measure: {error.get('message', 'failed')} [{error.get('code', '?')}]")
    return report


def describe(report: dict[str, Any]) -> str:
    lines = [
        f"{report['video']}: {report['frames']} frames, face found in {report['face_share']:.0%}",
        f"  mouth vs audio envelope: correlation {report['correlation']:.3f} at a lag of "
        f"{report['lag_frames']:+d} frame(s) (positive: the mouth follows the sound), "
        f"{report['correlation_near']:.3f} within 1 frame",
    ]
    if report.get("closed_share") is None:
        lines.append("  pauses with the mouth at rest: no pause of 150 ms or more in the audio")
    else:
        rest = (
            ""
            if report.get("rest_opening") is None
            else f" (closed or back to the photo's own opening {report['rest_opening']:.3f})"
        )
        lines.append(
            f"  pauses with the mouth at rest: {report['closed_share']:.0%} of {report['silent_frames']} "
            f"silent frames{rest}"
        )
    if report.get("opening_p95") is not None:
        lines.append(
            f"  mouth opening in speech, 95th percentile: {report['opening_p95']:.3f} of the outer "
            "eye-corner distance (real speech: 0.15-0.25)"
        )
    blink = f"  blinks: {report['blinks_per_min']:.1f} per minute"
    if report.get("blink_frames") is not None:
        blink += f", eyes closed {report['blink_frames']:.1f} frames each"
    lines.append(blink)
    if report.get("upper_psnr_db") is not None:
        lines.append(f"  face above the nose vs the source: PSNR {report['upper_psnr_db']:.1f} dB (luma)")
    return "\n".join(lines)
