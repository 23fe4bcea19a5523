"""Upstream's command line and inference config, and where its result lands.

Upstream names its output ``{video}_{audio}.mp4`` from the inputs' base names cut at the first '.', under
``<result_dir>/v15/``, and keeps a box cache at ``<result_dir>/../{video}.pkl``. So the inputs are linked into
the work folder as ``source.<ext>`` and ``audio.<ext>``, and the result dir is a child of the work folder.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from musetalk_wrapper.engines.musetalk_upstream.layout import UNET_CONFIG, UNET_WEIGHTS
from musetalk_wrapper.media import run_ffmpeg

VERSION = "v15"
# upstream's musetalk/utils/utils.py get_file_type() knows these; anything else is converted first
UPSTREAM_IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff"}
UPSTREAM_VIDEO_SUFFIXES = {".mp4", ".mkv", ".flv", ".avi", ".mov"}
UPSTREAM_AUDIO_SUFFIXES = {".wav", ".mp3", ".flac", ".ogg"}
SOURCE_STEM, AUDIO_STEM = "source", "audio"


@dataclass(frozen=True)
class UpstreamJob:
    work: Path
    source: Path  # inside work, named for upstream
    audio: Path
    config: Path
    result_dir: Path
    bin_dir: Path  # holds an `ffmpeg` link to our static ffmpeg

    @property
    def expected_output(self) -> Path:
        return self.result_dir / VERSION / f"{self.source.name.split('.')[0]}_{self.audio.name.split('.')[0]}.mp4"


def prepare_job(work: Path, source: Path, is_image: bool, audio: Path, bbox_shift: int, ffmpeg: str) -> UpstreamJob:
    inputs = work / "inputs"
    inputs.mkdir(parents=True)
    source_in = _link_or_convert(
        source,
        inputs,
        SOURCE_STEM,
        UPSTREAM_IMAGE_SUFFIXES if is_image else UPSTREAM_VIDEO_SUFFIXES,
        ".png" if is_image else ".mp4",
    )
    audio_in = _link_or_convert(audio, inputs, AUDIO_STEM, UPSTREAM_AUDIO_SUFFIXES, ".wav")
    config = work / "inference.yaml"
    write_inference_config(config, source_in, audio_in, bbox_shift)
    bin_dir = work / "bin"
    bin_dir.mkdir()
    os.symlink(ffmpeg, bin_dir / "ffmpeg")
    return UpstreamJob(work, source_in, audio_in, config, work / "results", bin_dir)


def _link_or_convert(path: Path, folder: Path, stem: str, known: set[str], fallback: str) -> Path:
    suffix = path.suffix.lower()
    if suffix in known:
        target = folder / f"{stem}{suffix}"
        try:
            os.symlink(path.resolve(), target)
        except OSError:
            shutil.copyfile(path, target)
        return target
    target = folder / f"{stem}{fallback}"
    if fallback == ".mp4":
        args = ["-i", f"file:{path}", "-an", "-c:v", "libx264", "-crf", "12", "-pix_fmt", "yuv420p", f"file:{target}"]
    elif fallback == ".wav":
        args = ["-i", f"file:{path}", "-vn", "-c:a", "pcm_s16le", f"file:{target}"]
    else:
        args = ["-i", f"file:{path}", "-frames:v", "1", f"file:{target}"]
    run_ffmpeg(args, f"converting {path.name} for upstream MuseTalk")
    return target


def write_inference_config(path: Path, video: Path, audio: Path, bbox_shift: int) -> None:
    """Upstream's config: ``task_0: {video_path, audio_path, bbox_shift}`` (JSON strings are valid YAML)."""
    path.write_text(
        "task_0:\n"
        f"  video_path: {json.dumps(str(video))}\n"
        f"  audio_path: {json.dumps(str(audio))}\n"
        f"  bbox_shift: {int(bbox_shift)}\n"
    )


def inference_argv(python: str, job: UpstreamJob, batch_size: int, fps: int, float16: bool) -> list[str]:
    """``python -m scripts.inference ...`` as upstream's inference.sh runs it for v1.5, run from the vendor dir."""
    argv = [
        python,
        "-m",
        "scripts.inference",
        "--inference_config",
        str(job.config),
        "--result_dir",
        str(job.result_dir),
        "--unet_model_path",
        UNET_WEIGHTS,
        "--unet_config",
        UNET_CONFIG,
        "--version",
        VERSION,
        "--ffmpeg_path",
        str(job.bin_dir),
        "--batch_size",
        str(batch_size),
        "--fps",
        str(fps),
    ]
    if float16:
        argv.append("--use_float16")
    return argv


def find_output(job: UpstreamJob) -> Path | None:
    """Upstream's video: the expected path, else the one file of that name anywhere under the result dir."""
    if job.expected_output.is_file() and job.expected_output.stat().st_size > 0:
        return job.expected_output
    if not job.result_dir.is_dir():
        return None
    found = [p for p in job.result_dir.rglob(job.expected_output.name) if p.is_file() and p.stat().st_size > 0]
    return found[0] if found else None
