"""Checks a render makes before any slow work: inputs exist and are what they claim, no output would overwrite an
input, the output folder is writable, and (once the narration's length is known) there is room for the work.

Paths are made absolute here: every path that crosses the engine boundary is absolute, so the engine's working
folder never matters.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from presgen_training.config import cache_dir
from presgen_training.errors import MediaError, PresgenError, UsageError
from presgen_training.ffmpeg import IMAGE_SUFFIXES, OUTPUT_FPS, probe

MIN_SOURCE_PX = 64  # pixels: the shorter side of a usable presenter photo or video
# Bytes per second of narration, generous: lossless presenter intermediates dominate the work folder.
WORK_BYTES_PER_S = 8 * 2**20
CACHE_BYTES_PER_S = 2 * 2**20
OUTPUT_BYTES_PER_S = 2**20
SPACE_MARGIN_BYTES = 64 * 2**20
STILL_CODECS = frozenset({"png", "mjpeg", "bmp", "tiff", "webp", "jpeg2000", "jpegls", "qoi"})


@dataclass(frozen=True)
class InputCheck:
    script: Path | None
    source: Path
    out: Path
    source_is_image: bool
    source_size: tuple[int, int]  # px, as decoded (upright)

    def check_space(self, narration_s: float, work: Path) -> None:
        """Refuse, before the slow stages, when a folder the render writes to is clearly too small."""
        for folder, per_s, what in (
            (work, WORK_BYTES_PER_S, "the work folder (TMPDIR)"),
            (cache_dir(), CACHE_BYTES_PER_S, "the cache ($PRESGEN_CACHE_DIR)"),
            (self.out.parent, OUTPUT_BYTES_PER_S, "the output folder"),
        ):
            need = int(narration_s * per_s) + SPACE_MARGIN_BYTES
            free = _free_bytes(folder)
            if free is not None and free < need:
                raise PresgenError(
                    f"not enough disk space in {what} {folder}: {free / 2**20:.0f} MB free, about "
                    f"{need / 2**20:.0f} MB needed for {narration_s / 60:.1f} min of video"
                )


def check_inputs(
    script: Path | None,
    source: Path,
    out: Path,
    source_is_image: bool | None,
    extra_inputs: Sequence[Path] = (),
    extra_outputs: Sequence[Path] = (),
) -> InputCheck:
    """The one place render inputs are judged; PresgenError (exit 1) or UsageError (exit 2) naming the file.
    ``script`` None: the sections come from a deck (one of ``extra_inputs``)."""
    if out.suffix.lower() != ".mp4":
        raise UsageError(f"--out must end in .mp4: {out}")
    source, out = _absolute(source), _absolute(out)
    script = _absolute(script) if script is not None else None
    is_image = source.suffix.lower() in IMAGE_SUFFIXES if source_is_image is None else source_is_image
    kind = "photo" if is_image else "video"
    if script is not None and not script.is_file():
        raise PresgenError(f"script not found: {script}")
    for extra in extra_inputs:
        if not extra.is_file():
            raise PresgenError(f"file not found: {extra}")
    if not source.is_file():
        raise PresgenError(f"presenter {kind} not found: {source}")
    inputs = {f"the presenter {kind}": source, **{f"input {p.name}": _absolute(p) for p in extra_inputs}}
    if script is not None:
        inputs["the script"] = script
    for written in (out, *(_absolute(p) for p in extra_outputs)):
        for label, path in inputs.items():
            if _same_file(written, path):
                raise UsageError(
                    f"refusing to overwrite {label} {path} with the output {written}; choose another --out"
                )
    size = _check_source(source, is_image)
    _check_writable(out.parent)
    return InputCheck(script, source, out, is_image, size)


def _absolute(path: Path) -> Path:
    """Absolute, with '..' and symlinks resolved (a name may start with '-': it stays a path)."""
    return Path(os.path.abspath(path.expanduser())).resolve()


def _same_file(a: Path, b: Path) -> bool:
    if a == b:
        return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _check_source(source: Path, is_image: bool) -> tuple[int, int]:
    kind = "photo" if is_image else "video"
    try:
        info = probe(source)
    except MediaError as exc:
        raise PresgenError(f"cannot read the presenter {kind}: {exc}") from None
    if not info.has_video:
        raise PresgenError(f"no picture in the presenter {kind} (is it an audio file?): {source}")
    if not info.width or not info.height:
        raise PresgenError(f"cannot tell the size of the presenter {kind}: {source}")
    if min(info.width, info.height) < MIN_SOURCE_PX:
        raise PresgenError(
            f"the presenter {kind} is too small ({info.width}x{info.height}); it needs at least "
            f"{MIN_SOURCE_PX}x{MIN_SOURCE_PX} pixels: {source}"
        )
    moving = info.video_codec not in STILL_CODECS and (info.duration_s or 0.0) > 1.5 / (info.fps or OUTPUT_FPS)
    if is_image and moving:
        raise UsageError(f"{source} is a video ({info.duration_s:.1f} s); pass it with --source-video")
    return info.width, info.height


def _check_writable(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe_path = tempfile.mkstemp(prefix=".presgen-write-check.", dir=folder)
        os.close(fd)
        os.unlink(probe_path)
    except OSError as exc:
        raise OSError(exc.errno, f"cannot write to the output folder ({exc.strerror})", str(folder)) from None


def _free_bytes(folder: Path) -> int | None:
    path = folder
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return None


def describe_os_error(exc: OSError) -> str:
    """One line for an OSError a user can act on: what failed, where, and for a full disk how much is free."""
    where = exc.filename or ""
    what = exc.strerror or str(exc)
    text = f"{what}: {where}" if where else what
    if exc.errno in (28, 122) and where:  # ENOSPC, EDQUOT
        free = _free_bytes(Path(str(where)).parent)
        if free is not None:
            text += f" ({free / 2**20:.0f} MB free there; free some space or point TMPDIR/--out elsewhere)"
    return text
