"""``python -m musetalk_wrapper``: render a talking-presenter video from audio and a photo or video.

With ``--json-output`` stdout carries exactly one JSON object (see result.schema.json); progress and
logs go to stderr as JSON lines. Anything a library prints to stdout is redirected to stderr.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any, NoReturn

from musetalk_wrapper import SCHEMA_VERSION
from musetalk_wrapper.contract import (
    EXIT_BY_CODE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    EngineError,
    ErrorCode,
    failure_object,
    success_object,
)
from musetalk_wrapper.engines import DEFAULT_ENGINE, ENGINES, load_engine
from musetalk_wrapper.media import OUTPUT_FPS, is_image, probe
from musetalk_wrapper.progress import Progress
from musetalk_wrapper.request import RenderRequest

MAX_AUDIO_S = 600.0  # 10 minutes: longer narrations should be rendered per section
MAX_CLOCK_S = 1e7  # seconds: far beyond any course, small enough that float frame times stay exact


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="python -m musetalk_wrapper",
        description="Render a presenter video whose lips follow AUDIO, from a photo (--image) or a video (--video).",
        epilog="Exit codes: 0 ok, 2 usage, 3 BAD_INPUT, 4 NO_FACE, 5 ENGINE_UNAVAILABLE, 6 RUNTIME, 130 interrupted.",
    )
    p.add_argument("--audio", type=Path, help="narration audio (wav, mp3, ...)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--image", type=Path, help="presenter photo")
    src.add_argument("--video", type=Path, help="presenter video (looped back and forth to cover the audio)")
    p.add_argument("--output", type=Path, help="output .mp4 (written to a temp name, then renamed)")
    p.add_argument("--engine", default=DEFAULT_ENGINE, choices=sorted(ENGINES), help="avatar engine (default: %(default)s)")
    p.add_argument("--json-output", action="store_true", help="print one JSON result object on stdout")
    p.add_argument("--check", action="store_true", help="only report whether the engine can run here")
    p.add_argument("--timings", type=Path, help="narration timings JSON (phonemes, words) for exact mouth shapes")
    p.add_argument("--fps", type=int, default=OUTPUT_FPS, help="output frame rate (default: %(default)s)")
    p.add_argument("--start-s", type=float, default=0.0, metavar="SECONDS",
                   help="motion clock at the first frame: source position, head sway and blinks follow this clock, "
                        "so separately rendered clips join without a jump (default: 0)")
    p.add_argument("--handoff-s", type=float, default=None, metavar="SECONDS",
                   help="dissolve the last frames into the motion at this clock time, where the next clip starts")
    p.add_argument("--quiet", action="store_true", help="no progress events on stderr")
    g = p.add_argument_group("puppet engine")
    g.add_argument("--motion", choices=["on", "off"], default="on", help="photo: subtle head sway; video: keep source motion")
    g.add_argument("--blink", choices=["on", "off"], default="on", help="photo: natural blinks")
    g = p.add_argument_group("musetalk engines")
    g.add_argument("--models-dir", type=Path, help="MuseTalk models folder (default: $PRESGEN_MODELS or ./models)")
    g.add_argument("--cache-dir", type=Path, help="avatar cache folder (default: ~/.cache/presgen/avatars)")
    g.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    g.add_argument("--precision", choices=["auto", "fp32", "bf16", "fp16"], default="auto",
                   help="UNet and VAE decode precision; auto: fp16 on CUDA, bf16 on CPUs with native bf16, else fp32"
                        " (face preparation and its cache stay in the device's base precision)")
    g.add_argument("--batch-size", type=int, default=8)
    g.add_argument("--bbox-shift", type=int, default=0,
                   help="shift landmark 29, which sets the mask top, by N px (the box top moves 2N px, as upstream)")
    g.add_argument("--landmarks", choices=["mediapipe", "dwpose-onnx"], default="mediapipe")
    g.add_argument("--dwpose-model", type=Path, help="dw-ll_ucoco_384.onnx for --landmarks dwpose-onnx")
    g.add_argument("--vendor-dir", type=Path, help="upstream MuseTalk checkout (musetalk-upstream engine)")
    return p


def _request_from_args(a: argparse.Namespace) -> RenderRequest:
    if a.audio is None or a.output is None or (a.image is None and a.video is None):
        raise _UsageError("--audio, --output and one of --image/--video are required")
    if a.fps <= 0 or a.batch_size <= 0:
        raise _UsageError("--fps and --batch-size must be positive")
    if not 0 <= a.start_s < MAX_CLOCK_S or (a.handoff_s is not None and not 0 <= a.handoff_s < MAX_CLOCK_S):
        raise _UsageError(f"--start-s and --handoff-s must be between 0 and {MAX_CLOCK_S:g} seconds")
    for label, path in (("audio", a.audio), ("image", a.image), ("video", a.video), ("timings", a.timings)):
        if path is not None and not path.is_file():
            raise EngineError(ErrorCode.BAD_INPUT, f"{label} file not found: {path}")
    if a.output.suffix.lower() != ".mp4":
        raise EngineError(ErrorCode.BAD_INPUT, f"output must be an .mp4 file: {a.output}")
    if a.image is not None and not is_image(a.image):
        raise EngineError(ErrorCode.BAD_INPUT, f"--image is not an image file type: {a.image}")
    audio_info = probe(a.audio)
    if not audio_info.has_audio:
        raise EngineError(ErrorCode.BAD_INPUT, f"no audio stream in {a.audio}")
    if audio_info.duration_s is not None and audio_info.duration_s > MAX_AUDIO_S:
        raise EngineError(
            ErrorCode.BAD_INPUT,
            f"audio is {audio_info.duration_s / 60:.1f} min long; the limit is {MAX_AUDIO_S / 60:.0f} min per render",
        )
    return _build_request(a, a.audio, a.output)


def _build_request(a: argparse.Namespace, audio: Path, output: Path) -> RenderRequest:
    return RenderRequest(
        audio=audio, output=output, image=a.image, video=a.video, fps=a.fps, timings=a.timings,
        start_s=a.start_s, handoff_s=a.handoff_s,
        motion=a.motion == "on", blink=a.blink == "on", models_dir=a.models_dir, cache_dir=a.cache_dir,
        device=a.device, precision=a.precision, batch_size=a.batch_size, bbox_shift=a.bbox_shift,
        landmarks=a.landmarks, dwpose_model=a.dwpose_model, vendor_dir=a.vendor_dir,
    )


def _run(argv: list[str] | None, progress_holder: list[Progress]) -> tuple[dict[str, Any], int]:
    args = build_parser().parse_args(argv)
    progress = Progress(enabled=not args.quiet)
    progress_holder.append(progress)
    engine_name = args.engine
    if args.check:
        reason: str | None
        try:
            # A check has no audio or output; health() reads only the engine options (models dir, landmarks...).
            options = _build_request(args, args.audio or Path(), args.output or Path())
            reason = load_engine(engine_name).health(options)
        except EngineError as err:
            reason = err.message
        obj = {"engine": engine_name, "healthy": reason is None, "reason": reason,
               "python": sys.executable, "schema_version": SCHEMA_VERSION}
        return obj, EXIT_OK if reason is None else EXIT_BY_CODE[ErrorCode.ENGINE_UNAVAILABLE]
    request = _request_from_args(args)
    engine = load_engine(engine_name)
    reason = engine.health(request)
    if reason is not None:
        raise EngineError(ErrorCode.ENGINE_UNAVAILABLE, reason)
    started = time.monotonic()
    out = engine.render(request, progress)
    if not request.output.is_file():
        raise EngineError(ErrorCode.RUNTIME, f"engine '{engine_name}' finished without writing {request.output}")
    out.timings_s.setdefault("total", time.monotonic() - started)
    return success_object(engine_name, str(request.output), out), EXIT_OK


def main(argv: list[str] | None = None) -> int:
    json_mode = "--json-output" in (sys.argv[1:] if argv is None else argv)
    # Keep stdout for the single result object: point fd 1 at stderr while engines run.
    sys.stdout.flush()
    result_fd = os.dup(1)
    os.dup2(2, 1)
    result_stream = os.fdopen(result_fd, "w")
    holder: list[Progress] = []
    engine_name = None
    try:
        engine_name = _engine_from_argv(argv)
        obj, code = _run(argv, holder)
    except _UsageError as exc:
        obj, code = failure_object(engine_name, EngineError(ErrorCode.BAD_INPUT, f"usage: {exc}")), EXIT_USAGE
    except EngineError as err:
        obj, code = failure_object(engine_name, err), EXIT_BY_CODE[err.code]
    except KeyboardInterrupt:
        obj = failure_object(engine_name, EngineError(ErrorCode.RUNTIME, "interrupted"))
        code = EXIT_INTERRUPTED
    except Exception as exc:  # a bug: one line on stdout, the traceback on stderr
        traceback.print_exc(file=sys.stderr)
        err = EngineError(ErrorCode.RUNTIME, f"{type(exc).__name__}: {exc}".strip())
        obj, code = failure_object(engine_name, err), EXIT_BY_CODE[ErrorCode.RUNTIME]
    if json_mode:
        result_stream.write(json.dumps(obj) + "\n")
    else:
        _print_human(obj, result_stream)
    result_stream.flush()
    return code


def _engine_from_argv(argv: list[str] | None) -> str:
    args = sys.argv[1:] if argv is None else argv
    for i, tok in enumerate(args):
        if tok == "--engine" and i + 1 < len(args):
            return args[i + 1]
        if tok.startswith("--engine="):
            return tok.split("=", 1)[1]
    return DEFAULT_ENGINE


def _print_human(obj: dict[str, Any], stream: Any) -> None:
    if "healthy" in obj:
        state = "healthy" if obj["healthy"] else f"unavailable: {obj['reason']}"
        stream.write(f"{obj['engine']}: {state}\n")
    elif obj["success"]:
        stream.write(f"{obj['output_path']} ({obj['engine']}, {obj['duration_s']:.2f} s, {obj['frames']} frames)\n")
        for w in obj["warnings"]:
            stream.write(f"warning: {w}\n")
    else:
        stream.write(f"error [{obj['error']['code']}]: {obj['error']['message']}\n")
