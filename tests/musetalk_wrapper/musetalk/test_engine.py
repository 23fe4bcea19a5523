"""The whole musetalk engine on real media (sun.mp4 + 3 s of eng.wav) with a tiny random-weight models folder.

Random weights make the generated mouth noise, which is what lets these tests see exactly where the engine
writes: only inside the blend mask, only on frames with speech, everything else equal to the source up to
codec noise.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import jsonschema
import numpy as np
import pytest
from PIL import Image

from helpers import REPO, run_musetalk

pytestmark = [pytest.mark.musetalk_env, pytest.mark.slow]

SCHEMA = json.loads((REPO / "musetalk_wrapper" / "result.schema.json").read_text())
FPS = 25


def decode(path: Path, limit: int | None = None) -> np.ndarray:
    reader = imageio_ffmpeg.read_frames(str(path), pix_fmt="rgb24")
    meta = next(reader)
    w, h = meta["size"]
    frames = []
    for raw in reader:
        frames.append(np.frombuffer(raw, dtype=np.uint8).reshape(h, w, 3))
        if limit is not None and len(frames) >= limit:
            break
    reader.close()
    return np.stack(frames)


def audio_seconds(path: Path) -> float:
    """Length of the audio stream, from its decoded samples."""
    raw = subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-v",
            "error",
            "-i",
            str(path),
            "-vn",
            "-ac",
            "1",
            "-ar",
            "16000",
            "-f",
            "f32le",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    return len(raw) / 4 / 16000


def render(
    python: Path, audio: Path, source: Path, out: Path, models: Path, *extra: str, debug: Path | None = None
) -> tuple[dict[str, Any], int]:
    """The engine on the ``source`` video, its cache beside ``out``; ``debug``: a folder for its blend masks."""
    env_before = os.environ.get("PRESGEN_MUSETALK_DEBUG_DIR")
    if debug is not None:
        os.environ["PRESGEN_MUSETALK_DEBUG_DIR"] = str(debug)
    try:
        proc = run_musetalk(python, audio, out, models, "--video", str(source), *extra, timeout=900)
    finally:
        if debug is not None:
            if env_before is None:
                os.environ.pop("PRESGEN_MUSETALK_DEBUG_DIR", None)
            else:
                os.environ["PRESGEN_MUSETALK_DEBUG_DIR"] = env_before
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1, f"stdout must be one JSON line:\n{proc.stdout}\nstderr:\n{proc.stderr[-3000:]}"
    result = json.loads(lines[0])
    jsonschema.validate(result, SCHEMA)
    assert result.get("success"), f"{result}\n{proc.stderr[-3000:]}"
    return result, proc.returncode


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("musetalk-engine")


@pytest.fixture(scope="module")
def first(
    musetalk_python: Path, tiny_models: Path, media_dir: Path, cut_audio: Callable[[float, float], Path], workdir: Path
) -> dict[str, Any]:
    # 2.4 s .. 5.4 s of eng.wav: a 0.66 s pause, then speech
    audio = cut_audio(2.4, 3.0)
    out = workdir / "first.mp4"
    result, code = render(musetalk_python, audio, media_dir / "sun.mp4", out, tiny_models, debug=workdir / "debug")
    return {
        "result": result,
        "code": code,
        "audio": audio,
        "out": out,
        "debug": np.load(workdir / "debug" / "blend_masks.npz"),
    }


def test_first_render_contract_and_length(first: dict[str, Any]) -> None:
    result = first["result"]
    assert first["code"] == 0
    assert result["engine"] == "musetalk" and result["fps"] == FPS and result["frames"] == 75
    details = result["details"]
    assert details["cache"] == "miss" and details["prepared_frames"] == 75 and details["reused_frames"] == 0
    x, y, w, h = details["face_box"]
    assert 190 < x < 250 and 140 < y < 215 and 80 < w < 160 and 100 < h < 200
    frames = decode(first["out"])
    assert frames.shape == (75, 768, 576, 3)
    assert abs(len(frames) / FPS - audio_seconds(first["audio"])) <= 1 / FPS
    assert abs(audio_seconds(first["out"]) - 3.0) < 0.1
    for stage in ("landmarks", "vae_encode", "face_parsing", "unet", "vae_decode", "audio_features"):
        assert result["timings_s"][stage] > 0


def test_pixels_change_only_inside_blend_mask(first: dict[str, Any], media_dir: Path, artifacts_dir: Path) -> None:
    out = decode(first["out"]).astype(np.int16)
    src = decode(media_dir / "sun.mp4", limit=75).astype(np.int16)
    dbg = first["debug"]
    masks, blended, silent, mouth = dbg["masks"], dbg["blended"], dbg["silent"], dbg["mouth"]
    assert masks.shape == (75, 768, 576)
    # 2.4..3.06 s of eng.wav is a pause: those frames keep the source mouth; the speech after it moves it, and
    # the generated mouth fades in over the last 3 pause frames.
    assert silent[:14].all() and not silent[20:].any()
    assert np.array_equal(blended, mouth > 0) and np.array_equal(mouth == 1, ~silent)
    fade = np.flatnonzero((mouth > 0) & (mouth < 1))
    assert mouth[fade].tolist() == [0.25, 0.5, 0.75]
    diff = np.abs(out - src).mean(axis=3)
    mouth_area = masks.max(axis=0) == 255  # where any frame was generated
    assert mouth_area.sum() > 2000
    for i in range(75):
        # Re-encoding costs ~1.7 grey levels on average (sun.mp4 is itself H.264); chroma subsampling and the
        # deblocking filter smear a few pixels across the mask edge.
        outside = ~_grow(masks[i] > 0, 4)
        assert diff[i][outside].mean() < 3.0, (i, diff[i][outside].mean())
        assert np.percentile(diff[i][outside], 99.9) < 20, i
        if blended[i] and mouth[i] < 1:
            assert masks[i].max() <= round(255 * mouth[i]) and diff[i][masks[i] > 0].mean() > 2, i
        elif blended[i]:
            inside = masks[i] == 255
            assert inside.sum() > 2000
            assert diff[i][inside].mean() > 20, (i, diff[i][inside].mean())  # random weights: noise
        else:
            assert diff[i][mouth_area].mean() < 3.0, i  # silent frame: the source mouth
    row = np.concatenate([src[40], out[40], np.repeat(masks[40][..., None], 3, axis=2)], axis=1)
    Image.fromarray(row.astype(np.uint8)).save(artifacts_dir / "musetalk_tiny_frame40_src_out_mask.png")


def _grow(mask: np.ndarray, px: int) -> np.ndarray:
    out = mask.copy()
    for dy in range(-px, px + 1):
        for dx in range(-px, px + 1):
            out |= np.roll(np.roll(mask, dy, axis=0), dx, axis=1)
    return out


@pytest.fixture(scope="module")
def render_again(
    musetalk_python: Path, tiny_models: Path, media_dir: Path, cut_audio: Callable[[float, float], Path], workdir: Path
) -> Callable[..., dict[str, Any]]:
    """render_again(start_s, seconds, name, *extra): sun.mp4 to workdir/name with other audio, the first's cache."""

    def again(start_s: float, seconds: float, name: str, *extra: str) -> dict[str, Any]:
        audio = cut_audio(start_s, seconds)
        return render(musetalk_python, audio, media_dir / "sun.mp4", workdir / name, tiny_models, *extra)[0]

    return again


def test_new_audio_reuses_the_avatar_cache(
    first: dict[str, Any], render_again: Callable[..., dict[str, Any]], workdir: Path
) -> None:
    result = render_again(10.0, 2.0, "second.mp4")  # another sentence, 50 frames: all prepared by the first render
    details = result["details"]
    assert details["cache"] == "hit", details
    assert details["prepared_frames"] == 0 and details["reused_frames"] == 50
    assert details["cache_entry"] == first["result"]["details"]["cache_entry"]
    assert "landmarks" not in result["timings_s"] and "vae_encode" not in result["timings_s"]
    assert result["frames"] == 50 and len(decode(workdir / "second.mp4")) == 50


def test_changed_bbox_shift_misses_the_cache(
    first: dict[str, Any], render_again: Callable[..., dict[str, Any]]
) -> None:
    result = render_again(10.0, 1.0, "shifted.mp4", "--bbox-shift", "6")
    details = result["details"]
    assert details["cache"] == "miss" and details["prepared_frames"] == 25
    assert details["cache_entry"] != first["result"]["details"]["cache_entry"]
    x, y, w, h = details["face_box"]
    fx, fy, fw, fh = first["result"]["details"]["face_box"]
    assert (x, w) == (fx, fw) and y == fy + 12 and h == fh - 12  # the upper edge moves by 2 * bbox_shift
