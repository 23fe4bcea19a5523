"""``python -m musetalk_wrapper``: render a talking-presenter video from audio and a photo or video.

With ``--json-output`` stdout carries exactly one JSON object (see result.schema.json); progress and
logs go to stderr as JSON lines. Anything a library prints to stdout is redirected to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import tempfile
import time
import traceback
from dataclasses import fields, replace
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
    Unhealthy,
    batch_object,
    failure_object,
    success_object,
)
from musetalk_wrapper.engines import DEFAULT_ENGINE, ENGINES, Engine, load_engine
from musetalk_wrapper.media import MAX_SIDE_PX, MIN_SIDE_PX, OUTPUT_FPS, is_image, probe
from musetalk_wrapper.parent_watch import watch_parent
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
    p.add_argument(
        "--segments",
        type=Path,
        metavar="FILE",
        help="render several clips of one source in one run (the source is prepared once): a JSON file "
        '{"segments": [{"audio", "output", "timings", "start_s", "handoff_s"}, ...]}; '
        "replaces --audio/--output/--timings/--start-s/--handoff-s. '-' reads it from stdin once the engine has "
        "started and prepared the source, so a caller can start the engine while it makes the audio",
    )
    p.add_argument(
        "--engine", default=DEFAULT_ENGINE, choices=sorted(ENGINES), help="avatar engine (default: %(default)s)"
    )
    p.add_argument("--json-output", action="store_true", help="print one JSON result object on stdout")
    p.add_argument("--check", action="store_true", help="only report whether the engine can run here")
    p.add_argument("--timings", type=Path, help="narration timings JSON (phonemes, words) for exact mouth shapes")
    p.add_argument("--fps", type=int, default=OUTPUT_FPS, help="output frame rate (default: %(default)s)")
    p.add_argument(
        "--max-side",
        type=int,
        default=MAX_SIDE_PX,
        metavar="PX",
        help=f"longest side of the output video in pixels: the source is scaled down to fit, never up "
        f"({MIN_SIDE_PX}-{MAX_SIDE_PX}; default: %(default)s). Render at the size the video is shown at: "
        "a presenter shown 720 px tall needs no 1536 px render (musetalk-upstream keeps its own size)",
    )
    p.add_argument(
        "--start-s",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="motion clock at the first frame: source position, head sway and blinks follow this clock, "
        "so separately rendered clips join without a jump (default: 0)",
    )
    p.add_argument(
        "--handoff-s",
        type=float,
        default=None,
        metavar="SECONDS",
        help="dissolve the last frames into the motion at this clock time, where the next clip starts",
    )
    p.add_argument("--quiet", action="store_true", help="no progress events on stderr")
    g = p.add_argument_group("puppet engine")
    g.add_argument(
        "--motion", choices=["on", "off"], default="on", help="photo: subtle head sway; video: keep source motion"
    )
    g.add_argument("--blink", choices=["on", "off"], default="on", help="photo: natural blinks")
    g = p.add_argument_group("musetalk engines")
    g.add_argument("--models-dir", type=Path, help="MuseTalk models folder (default: $PRESGEN_MODELS or ./models)")
    g.add_argument("--cache-dir", type=Path, help="avatar cache folder (default: ~/.cache/presgen/avatars)")
    g.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    g.add_argument(
        "--precision",
        choices=["auto", "fp32", "bf16", "fp16"],
        default="auto",
        help="UNet and VAE decode precision; auto: fp16 on CUDA, bf16 on CPUs with native bf16, else fp32"
        " (face preparation and its cache stay in the device's base precision)",
    )
    g.add_argument(
        "--batch-size",
        type=int,
        default=0,
        help="frames per UNet + decode batch; 0 (default): 8 on a CPU, what free memory holds on CUDA",
    )
    g.add_argument(
        "--bbox-shift",
        type=int,
        default=0,
        help="shift landmark 29, which sets the mask top, by N px (the box top moves 2N px, as upstream)",
    )
    g.add_argument("--landmarks", choices=["mediapipe", "dwpose-onnx"], default="mediapipe")
    g.add_argument("--dwpose-model", type=Path, help="dw-ll_ucoco_384.onnx for --landmarks dwpose-onnx")
    g.add_argument("--vendor-dir", type=Path, help="upstream MuseTalk checkout (musetalk-upstream engine)")
    return p


def _request_from_args(a: argparse.Namespace) -> RenderRequest:
    _check_common(a)
    if a.audio is None or a.output is None:
        raise _UsageError("--audio, --output and one of --image/--video are required")
    _check_clock(a.start_s, a.handoff_s)
    request = _build_request(a, a.audio, a.output)
    _check_clip(request)
    return request


def _check_common(a: argparse.Namespace) -> None:
    if a.image is None and a.video is None:
        raise _UsageError("one of --image/--video is required")
    if a.fps <= 0 or a.batch_size < 0:
        raise _UsageError("--fps must be positive and --batch-size 0 (auto) or more")
    if not MIN_SIDE_PX <= a.max_side <= MAX_SIDE_PX:
        raise _UsageError(f"--max-side must be between {MIN_SIDE_PX} and {MAX_SIDE_PX} pixels")
    for label, path in (("image", a.image), ("video", a.video)):
        if path is not None and not path.is_file():
            raise EngineError(ErrorCode.BAD_INPUT, f"{label} file not found: {path}")
    if a.image is not None and not is_image(a.image):
        raise EngineError(ErrorCode.BAD_INPUT, f"--image is not an image file type: {a.image}")


def _check_clock(start_s: float, handoff_s: float | None) -> None:
    if not 0 <= start_s < MAX_CLOCK_S or (handoff_s is not None and not 0 <= handoff_s < MAX_CLOCK_S):
        raise _UsageError(f"start_s and handoff_s must be between 0 and {MAX_CLOCK_S:g} seconds")


def _check_clip(request: RenderRequest) -> None:
    """The per-clip inputs: audio and timings exist, the output is an .mp4, the audio is not too long."""
    for label, path in (("audio", request.audio), ("timings", request.timings)):
        if path is not None and not path.is_file():
            raise EngineError(ErrorCode.BAD_INPUT, f"{label} file not found: {path}")
    if request.output.suffix.lower() != ".mp4":
        raise EngineError(ErrorCode.BAD_INPUT, f"output must be an .mp4 file: {request.output}")
    audio_info = probe(request.audio)
    if not audio_info.has_audio:
        raise EngineError(ErrorCode.BAD_INPUT, f"no audio stream in {request.audio}")
    if audio_info.duration_s is not None and audio_info.duration_s > MAX_AUDIO_S:
        raise EngineError(
            ErrorCode.BAD_INPUT,
            f"audio is {audio_info.duration_s / 60:.1f} min long; the limit is {MAX_AUDIO_S / 60:.0f} min per clip "
            "(render long narrations in segments: --segments)",
        )


def _check_segments_form(a: argparse.Namespace) -> None:
    if a.audio is not None or a.output is not None or a.timings is not None or a.start_s or a.handoff_s is not None:
        raise _UsageError("--segments replaces --audio, --output, --timings, --start-s and --handoff-s")
    _check_common(a)


def _from_stdin(a: argparse.Namespace) -> bool:
    return a.segments is not None and str(a.segments) == "-"


def _segment_requests(a: argparse.Namespace) -> list[RenderRequest]:
    """One request per entry of the --segments file (or stdin; its form already checked); every entry is checked
    before anything is rendered."""
    where = "the segment list on stdin" if _from_stdin(a) else f"the segments file {a.segments}"
    try:
        text = sys.stdin.read() if _from_stdin(a) else a.segments.read_text(encoding="utf-8")
        data = json.loads(text)
    except (OSError, ValueError) as exc:
        raise EngineError(ErrorCode.BAD_INPUT, f"cannot read {where}: {exc}") from None
    entries = data.get("segments") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not entries:
        raise EngineError(ErrorCode.BAD_INPUT, f'{where}: expected {{"segments": [...]}} with at least one')
    requests = []
    for number, entry in enumerate(entries, start=1):
        try:
            start_s = float(entry.get("start_s", 0.0))
            handoff = entry.get("handoff_s")
            handoff_s = None if handoff is None else float(handoff)
            timings = Path(entry["timings"]) if entry.get("timings") else None
            request = replace(
                _build_request(a, Path(entry["audio"]), Path(entry["output"])),
                timings=timings,
                start_s=start_s,
                handoff_s=handoff_s,
            )
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise EngineError(
                ErrorCode.BAD_INPUT,
                f"{where}: segment {number} is malformed ({exc!r}); each "
                "needs audio and output, and may have timings, start_s, handoff_s",
            ) from None
        _check_clock(request.start_s, request.handoff_s)
        _check_clip(request)
        requests.append(request)
    outputs = [r.output.resolve() for r in requests]
    if len(set(outputs)) != len(outputs):
        raise EngineError(ErrorCode.BAD_INPUT, f"{where}: two segments have the same output")
    return requests


def _build_request(a: argparse.Namespace, audio: Path, output: Path) -> RenderRequest:
    """The clip's audio and output; every other field is the parsed option of the same name."""
    given = {"audio": audio, "output": output, "motion": a.motion == "on", "blink": a.blink == "on"}
    named = {f.name: getattr(a, f.name) for f in fields(RenderRequest) if f.name not in given}
    return RenderRequest(**named, **given)


def _run(argv: list[str] | None, progress_holder: list[Progress]) -> tuple[dict[str, Any], int]:
    args = build_parser().parse_args(argv)
    progress = Progress(enabled=not args.quiet)
    progress_holder.append(progress)
    engine_name = args.engine
    if args.check:
        return _check(args, engine_name)
    if args.segments is not None:
        _check_segments_form(args)
    if _from_stdin(args):
        engine = _started_engine(engine_name, args, progress)
        requests = _segment_requests(args)
    else:
        requests = _segment_requests(args) if args.segments is not None else [_request_from_args(args)]
        engine = _healthy_engine(engine_name, requests[0])
    results = []
    started = time.monotonic()
    for index, request in enumerate(requests):
        if args.segments is not None:
            progress.segment(index, len(requests))
        clip_started = time.monotonic()
        out = engine.render(request, progress)
        if not request.output.is_file():
            raise EngineError(ErrorCode.RUNTIME, f"engine '{engine_name}' finished without writing {request.output}")
        out.timings_s.setdefault("total", time.monotonic() - clip_started)
        results.append(success_object(engine_name, str(request.output), out))
    if args.segments is None:
        return results[0], EXIT_OK
    return batch_object(engine_name, results, time.monotonic() - started), EXIT_OK


def _healthy_engine(engine_name: str, request: RenderRequest) -> Engine:
    engine = load_engine(engine_name)
    problem = _unhealthy(engine.health(request))
    if problem is not None:
        raise EngineError(ErrorCode.ENGINE_UNAVAILABLE, problem.reason, {"fix": list(problem.fix)})
    return engine


def _started_engine(engine_name: str, args: argparse.Namespace, progress: Progress) -> Engine:
    """The engine, healthy and with the source prepared, before the segment list is read (``--segments -``)."""
    with tempfile.TemporaryDirectory(prefix="presgen-start-") as tmp:
        # no clip yet: a stand-in request names the source and options (and a folder for a no-face picture)
        template = _build_request(args, Path(tmp) / "pending.wav", Path(tmp) / "pending.mp4")
        engine = _healthy_engine(engine_name, template)
        prepare = getattr(engine, "prepare", None)
        if prepare is not None:
            with contextlib.suppress(EngineError):  # the first clip meets it again, for its own output
                prepare(template, progress)
    return engine


def _check(args: argparse.Namespace, engine_name: str) -> tuple[dict[str, Any], int]:
    problem: Unhealthy | None
    try:
        # A check has no audio or output; health() reads only the engine options (models dir, landmarks...).
        options = _build_request(args, args.audio or Path(), args.output or Path())
        problem = _unhealthy(load_engine(engine_name).health(options))
    except EngineError as err:
        problem = Unhealthy(err.message, tuple(str(f) for f in err.details.get("fix", ())))
    obj = {
        "engine": engine_name,
        "healthy": problem is None,
        "reason": problem.reason if problem else None,
        "fix": list(problem.fix) if problem else [],
        "python": sys.executable,
        "schema_version": SCHEMA_VERSION,
    }
    return obj, EXIT_OK if problem is None else EXIT_BY_CODE[ErrorCode.ENGINE_UNAVAILABLE]


def _unhealthy(verdict: Unhealthy | str | None) -> Unhealthy | None:
    if verdict is None or isinstance(verdict, Unhealthy):
        return verdict
    return Unhealthy(str(verdict))


class _Signalled(KeyboardInterrupt):
    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _raise_interrupt(signum: int, frame: object) -> None:
    raise _Signalled(signum)


def main(argv: list[str] | None = None) -> int:
    json_mode = "--json-output" in (sys.argv[1:] if argv is None else argv)
    # Keep stdout for the single result object: point fd 1 at stderr while engines run.
    sys.stdout.flush()
    result_fd = os.dup(1)
    os.dup2(2, 1)
    result_stream = os.fdopen(result_fd, "w")
    holder: list[Progress] = []
    engine_name = None
    # `timeout`, systemd and the orchestrator stop an engine with SIGTERM: unwind like Ctrl-C so partial files go
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_interrupt)
    watch_parent()
    try:
        engine_name = _engine_from_argv(argv)
        obj, code = _run(argv, holder)
    except _UsageError as exc:
        obj, code = failure_object(engine_name, EngineError(ErrorCode.BAD_INPUT, f"usage: {exc}")), EXIT_USAGE
    except EngineError as err:
        obj, code = failure_object(engine_name, err), EXIT_BY_CODE[err.code]
    except KeyboardInterrupt as exc:
        signum = exc.signum if isinstance(exc, _Signalled) else signal.SIGINT
        obj = failure_object(
            engine_name, EngineError(ErrorCode.RUNTIME, f"interrupted ({signal.Signals(signum).name})")
        )
        code = EXIT_INTERRUPTED if signum == signal.SIGINT else 128 + signum
    except Exception as exc:  # a bug: one line on stdout, the traceback on stderr
        traceback.print_exc(file=sys.stderr)
        bug = EngineError(ErrorCode.RUNTIME, f"{type(exc).__name__}: {exc}".strip())
        obj, code = failure_object(engine_name, bug), EXIT_BY_CODE[ErrorCode.RUNTIME]
    finally:
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)  # the answer below must not be cut short
    try:
        if json_mode:
            result_stream.write(json.dumps(obj) + "\n")
        else:
            _print_human(obj, result_stream)
        result_stream.flush()
    except BrokenPipeError:  # nobody reads the answer any more (the caller died): the exit code still tells
        pass
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
        for fix in obj.get("fix", []):
            stream.write(f"  fix: {fix}\n")
    elif obj["success"] and "segments" in obj:
        for segment in obj["segments"]:
            _print_human(segment, stream)
    elif obj["success"]:
        stream.write(f"{obj['output_path']} ({obj['engine']}, {obj['duration_s']:.2f} s, {obj['frames']} frames)\n")
        for w in obj["warnings"]:
            stream.write(f"warning: {w}\n")
    else:
        stream.write(f"error [{obj['error']['code']}]: {obj['error']['message']}\n")
        frame = obj["error"].get("details", {}).get("frame_png")
        if frame:
            stream.write(f"  the frame that was judged: {frame}\n")
