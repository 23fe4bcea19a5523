"""``UpstreamEngine``: run vendor/MuseTalk's ``scripts.inference`` and deliver its video under our contract.

Upstream can exit 0 having written nothing (it only prints its own errors in places), and it drops frames in
which it finds no face, so its result is checked: the file exists and its video covers the audio. The result
is then re-encoded to 25 fps H.264 + AAC with the narration audio, written to a temp name and renamed.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

from musetalk_wrapper.contract import EngineError, EngineOutput, ErrorCode, unavailable_missing_package
from musetalk_wrapper.engines.musetalk_upstream.command import find_output, inference_argv, prepare_job
from musetalk_wrapper.engines.musetalk_upstream.layout import (
    default_vendor_dir,
    s3fd_cached,
    unavailable_reason,
    vendored_commit,
)
from musetalk_wrapper.engines.musetalk_upstream.process import UpstreamRun, run_upstream
from musetalk_wrapper.media import (
    AUDIO_BITRATE,
    ffmpeg_exe,
    is_image,
    probe,
    read_video_frames,
    run_ffmpeg,
)
from musetalk_wrapper.progress import Progress
from musetalk_wrapper.request import RenderRequest

ENV = "musetalk-upstream"
TIMEOUT_ENV = "PRESGEN_UPSTREAM_TIMEOUT_S"
TIMEOUT_BASE_S = 600.0  # model loading, landmark extraction
TIMEOUT_PER_AUDIO_S = 250.0  # upstream on a CPU: ~8 s per frame, 25 frames per second of audio
DURATION_TOLERANCE_S = 0.2  # upstream renders floor(duration * fps) frames
UPSTREAM_BATCH = 8  # frames per batch when --batch-size 0 (auto): upstream's own default
_MISSING_MODULE = re.compile(r"ModuleNotFoundError: No module named '([^']+)'")


def _timeout_s(audio_s: float) -> float:
    value = os.environ.get(TIMEOUT_ENV)
    if value:
        try:
            return float(value)
        except ValueError:
            raise EngineError(
                ErrorCode.BAD_INPUT, f"{TIMEOUT_ENV} must be a number of seconds, not {value!r}"
            ) from None
    return TIMEOUT_BASE_S + TIMEOUT_PER_AUDIO_S * audio_s


def _float16(device: str) -> bool:
    # fp16 on a CPU is far slower than fp32 and lacks kernels in torch 2.0.1 (docs/musetalk-v15.md §5)
    return device == "cuda" or (device == "auto" and shutil.which("nvidia-smi") is not None)


def _video_seconds(path: Path, fps: int) -> float:
    """Length of upstream's video stream (its container lasts as long as the longer of audio and video)."""
    try:
        frames = sum(1 for _ in read_video_frames(path, fps=fps, max_side=64))
    except EngineError as err:  # our reader calls an unreadable file BAD_INPUT; here it is upstream's fault
        raise EngineError(ErrorCode.RUNTIME, f"upstream MuseTalk wrote an unreadable video: {err.message}") from err
    return frames / fps


class UpstreamEngine:
    name = "musetalk-upstream"

    def health(self, request: RenderRequest | None) -> str | None:
        if importlib.util.find_spec("imageio_ffmpeg") is None:
            return unavailable_missing_package("imageio-ffmpeg", ENV, "imageio_ffmpeg").message
        vendor = (request.vendor_dir if request and request.vendor_dir else default_vendor_dir()).resolve()
        return unavailable_reason(vendor)

    def render(self, request: RenderRequest, progress: Progress) -> EngineOutput:
        vendor = (request.vendor_dir or default_vendor_dir()).resolve()
        audio_s = probe(request.audio).duration_s
        if not audio_s:
            raise EngineError(ErrorCode.BAD_INPUT, f"cannot read the duration of {request.audio}")
        warnings: list[str] = []
        if request.bbox_shift:
            warnings.append("upstream MuseTalk v1.5 ignores bbox_shift (it forces 0)")
        timings: dict[str, float] = {}
        work = Path(
            tempfile.mkdtemp(
                prefix="presgen-upstream-",
                dir=request.cache_dir if request.cache_dir and request.cache_dir.is_dir() else None,
            )
        )
        try:
            progress.stage("prepare")
            job = prepare_job(
                work, request.source, is_image(request.source), request.audio, request.bbox_shift, ffmpeg_exe()
            )
            argv = inference_argv(
                sys.executable, job, request.batch_size or UPSTREAM_BATCH, request.fps, _float16(request.device)
            )
            env = {
                **os.environ,
                "PYTHONPATH": str(vendor),
                "PYTHONUNBUFFERED": "1",
                "PATH": f"{job.bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
                "FFMPEG_PATH": str(job.bin_dir),
            }
            if request.device == "cpu":
                env["CUDA_VISIBLE_DEVICES"] = ""
            timeout_s = _timeout_s(audio_s)
            progress.stage("upstream")
            progress.log(f"running upstream MuseTalk in {vendor} (time limit {timeout_s:.0f} s)")
            run = run_upstream(argv, vendor, env, timeout_s, progress)
            timings["upstream"] = run.seconds
            output = self._checked_output(run, job.expected_output, find_output(job), timeout_s)
            video_s = _video_seconds(output, request.fps)
            if video_s < audio_s - DURATION_TOLERANCE_S:
                raise EngineError(
                    ErrorCode.RUNTIME,
                    f"upstream MuseTalk wrote {video_s:.2f} s of video for {audio_s:.2f} s of audio "
                    "(it drops frames in which it finds no face)",
                    {"upstream_output_s": round(video_s, 3), "audio_s": round(audio_s, 3)},
                )
            progress.stage("encode")
            started = time.monotonic()
            self._encode(output, request, audio_s)
            timings["encode"] = time.monotonic() - started
        finally:
            shutil.rmtree(work, ignore_errors=True)
        frames = sum(1 for _ in read_video_frames(request.output, fps=request.fps, max_side=64))
        commit = vendored_commit(vendor)
        details: dict[str, object] = {"vendor_dir": str(vendor), "upstream_seconds": round(run.seconds, 2)}
        if commit:
            details["upstream_commit"] = commit
        return EngineOutput(
            frames=frames,
            fps=float(request.fps),
            duration_s=frames / request.fps,
            message=f"rendered {frames} frames with upstream MuseTalk" + (f" {commit[:12]}" if commit else ""),
            timings_s=timings,
            warnings=warnings,
            details=details,
        )

    @staticmethod
    def _checked_output(run: UpstreamRun, expected: Path, found: Path | None, timeout_s: float) -> Path:
        tail = {"stderr_tail": run.stderr_tail[-15:], "stdout_tail": run.stdout_tail[-5:]}
        if run.timed_out:
            raise EngineError(
                ErrorCode.RUNTIME,
                f"upstream MuseTalk did not finish within {timeout_s:.0f} s "
                f"(set {TIMEOUT_ENV} to allow longer); stopped it",
                tail,
            )
        if run.returncode != 0:
            last = run.last_error_line()
            if m := _MISSING_MODULE.search(last):
                package = m[1].split(".")[0]
                raise EngineError(
                    ErrorCode.ENGINE_UNAVAILABLE,
                    f"upstream MuseTalk cannot import '{m[1]}' in {sys.executable}; run: presgen env create {ENV}",
                    {"missing_package": package, "env": ENV, **tail},
                )
            hint = ""
            if not s3fd_cached() and any("s3fd" in ln or "URLError" in ln for ln in run.stderr_tail):
                hint = " (upstream downloads its S3FD face detector on first use; that needs network)"
            raise EngineError(
                ErrorCode.RUNTIME, f"upstream MuseTalk failed (exit {run.returncode}): {last}{hint}", tail
            )
        if found is None:
            where = f"{expected.parent.name}/{expected.name}"
            raise EngineError(
                ErrorCode.RUNTIME,
                f"upstream MuseTalk exited 0 without writing a video (expected "
                f"{where} under its --result_dir); its last output: "
                f"{run.last_error_line()}",
                tail,
            )
        try:
            info = probe(found)
        except EngineError as err:
            raise EngineError(
                ErrorCode.RUNTIME, f"upstream MuseTalk wrote an unreadable video: {err.message}", tail
            ) from err
        if not info.has_video:
            raise EngineError(ErrorCode.RUNTIME, f"upstream MuseTalk wrote {found.name} without a video stream", tail)
        return found

    @staticmethod
    def _encode(upstream_video: Path, request: RenderRequest, audio_s: float) -> None:
        """25 fps CFR, even size, yuv420p H.264 + AAC of the narration; the video's last frame is held if it
        ends a few ms early. Written beside the output and renamed."""
        output = request.output
        output.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{output.stem}.", suffix=".partial.mp4", dir=output.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        # out_range=tv: a source from a JPEG arrives full-range (yuvj420p), which players treat differently
        vf = (
            f"fps={request.fps},scale=trunc(iw/2)*2:trunc(ih/2)*2:out_range=tv,"
            f"tpad=stop_mode=clone:stop_duration={DURATION_TOLERANCE_S + 0.1},format=yuv420p"
        )
        try:
            run_ffmpeg(
                [
                    "-i",
                    f"file:{upstream_video}",
                    "-i",
                    f"file:{request.audio}",
                    "-map",
                    "0:v:0",
                    "-map",
                    "1:a:0",
                    "-vf",
                    vf,
                    "-c:v",
                    "libx264",
                    "-preset",
                    "veryfast",
                    "-crf",
                    "18",
                    "-pix_fmt",
                    "yuv420p",
                    "-color_range",
                    "tv",
                    "-c:a",
                    "aac",
                    "-b:a",
                    AUDIO_BITRATE,
                    "-t",
                    f"{audio_s:.3f}",
                    "-movflags",
                    "+faststart",
                    "-f",
                    "mp4",
                    f"file:{tmp}",
                ],
                "re-encoding upstream MuseTalk's video",
            )
            os.replace(tmp, output)
        finally:
            tmp.unlink(missing_ok=True)
