"""Broken set-ups give one clear error, never a traceback: missing weights, a wrong file or a truncated
checkpoint in place of a weights file (ENGINE_UNAVAILABLE naming the file and the command that fixes it),
no face in the source (NO_FACE), and no output file is left behind."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import jsonschema
import pytest

from helpers import REPO, run_musetalk, run_wrapper

pytestmark = pytest.mark.musetalk_env

SCHEMA = json.loads((REPO / "musetalk_wrapper" / "result.schema.json").read_text())
EXIT_NO_FACE, EXIT_UNAVAILABLE = 4, 5
ModelChanges = dict[str, bytes | Path | None]
LinkModels = Callable[[Path, Path, ModelChanges], Path]
RunOnSun = Callable[..., tuple[dict[str, Any], int, str]]


def run(python: Path, models: Path, audio: Path, out: Path, *options: str) -> tuple[dict[str, Any], int, str]:
    proc = run_musetalk(python, audio, out, models, *options)
    result = json.loads(proc.stdout)
    jsonschema.validate(result, SCHEMA)
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert not out.exists() and not list(out.parent.glob(f".{out.stem}*")), "no (partial) output may remain"
    return result, proc.returncode, proc.stderr


def unavailable(result: dict[str, Any], code: int, *fragments: str) -> str:
    assert code == EXIT_UNAVAILABLE and not result["success"], result
    assert result["error"]["code"] == "ENGINE_UNAVAILABLE"
    message = result["error"]["message"]
    for frag in fragments:
        assert frag in message, f"{frag!r} not in {message!r}"
    return message


@pytest.fixture(scope="module")
def short_audio(cut_audio: Callable[[float, float], Path]) -> Path:
    return cut_audio(3.2, 0.6)


@pytest.fixture
def run_on_sun(musetalk_python: Path, media_dir: Path, short_audio: Path, tmp_path: Path) -> RunOnSun:
    """run(models, *options) on short_audio and sun.mp4, into tmp_path."""
    return lambda models, *options: run(
        musetalk_python, models, short_audio, tmp_path / "o.mp4", "--video", str(media_dir / "sun.mp4"), *options
    )


@pytest.fixture
def models_with(tiny_models: Path, tmp_path: Path, link_models: LinkModels) -> Callable[[ModelChanges], Path]:
    """The tiny models with these files replaced (None: removed)."""
    return lambda changes: link_models(tiny_models, tmp_path / "models", changes)


def test_missing_models_folder(run_on_sun: RunOnSun, tmp_path: Path) -> None:
    result, code, _ = run_on_sun(tmp_path / "no-models")
    unavailable(
        result,
        code,
        "missing MuseTalk weights file",
        "musetalkV15/musetalk.json",
        "huggingface-cli download TMElyralab/MuseTalk",
        "presgen weights check",
    )


def test_missing_single_file_names_it_and_its_fix(
    tiny_models: Path, models_with: Callable[[ModelChanges], Path], run_on_sun: RunOnSun
) -> None:
    models = models_with({"face-parse-bisent/resnet18-5c106cde.pth": None})
    result, code, _ = run_on_sun(models)
    message = unavailable(
        result,
        code,
        "face-parse-bisent/resnet18-5c106cde.pth",
        "curl -L --create-dirs -o",
        "https://download.pytorch.org/models/resnet18-5c106cde.pth",
    )
    assert "more file" not in message


def test_truncated_checkpoint(
    tiny_models: Path, models_with: Callable[[ModelChanges], Path], run_on_sun: RunOnSun
) -> None:
    data = (tiny_models / "musetalkV15" / "unet.pth").read_bytes()
    models = models_with({"musetalkV15/unet.pth": data[: len(data) * 2 // 3]})
    result, code, _ = run_on_sun(models)
    unavailable(result, code, "musetalkV15/unet.pth", "truncated", "huggingface-cli download TMElyralab/MuseTalk")


def test_html_page_in_place_of_a_checkpoint(
    tiny_models: Path, models_with: Callable[[ModelChanges], Path], run_on_sun: RunOnSun
) -> None:
    page = b"<!DOCTYPE html>\n<html><body>Sign in to continue</body></html>\n"
    models = models_with({"face-parse-bisent/79999_iter.pth": page})
    result, code, _ = run_on_sun(models)
    unavailable(
        result,
        code,
        "face-parse-bisent/79999_iter.pth",
        "HTML page",
        "presgen weights fetch --models-dir",
        "id=154JgKpzCPW82qINcVieuPH3fZ2e0P812",
    )


def test_wrong_checkpoint_fails_at_load(
    tiny_models: Path, models_with: Callable[[ModelChanges], Path], run_on_sun: RunOnSun
) -> None:
    """A valid torch file of another network passes the cheap checks; the strict load names it."""
    models = models_with({"musetalkV15/unet.pth": tiny_models / "sd-vae" / "diffusion_pytorch_model.bin"})
    result, code, stderr = run_on_sun(models)
    unavailable(
        result,
        code,
        "musetalkV15/unet.pth",
        "does not match the MuseTalk UNet architecture",
        "missing key(s)",
        "huggingface-cli download TMElyralab/MuseTalk",
    )
    assert '"stage": "prepare"' not in stderr  # failed before the costly preparation


def test_no_face(musetalk_python: Path, tiny_models: Path, media_dir: Path, short_audio: Path, tmp_path: Path) -> None:
    wall = tmp_path / "wall.png"  # the red wall of sun.mp4's top-left corner
    subprocess.run(
        [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-v",
            "error",
            "-y",
            "-i",
            str(media_dir / "sun.mp4"),
            "-vf",
            "crop=180:200:0:0",
            "-frames:v",
            "1",
            str(wall),
        ],
        check=True,
    )
    result, code, _ = run(musetalk_python, tiny_models, short_audio, tmp_path / "o.mp4", "--image", str(wall))
    assert code == EXIT_NO_FACE and result["error"]["code"] == "NO_FACE", result
    assert "wall.png" in result["error"]["message"]


def test_dwpose_backend_without_its_model(tiny_models: Path, run_on_sun: RunOnSun, tmp_path: Path) -> None:
    missing = tmp_path / "dw-ll_ucoco_384.onnx"
    result, code, _ = run_on_sun(tiny_models, "--landmarks", "dwpose-onnx", "--dwpose-model", str(missing))
    unavailable(
        result,
        code,
        str(missing),
        "presgen weights fetch --models-dir",
        "--with-dwpose",
        "huggingface-cli download yzd-v/DWPose dw-ll_ucoco_384.onnx",
    )


def test_check_reports_health(musetalk_python: Path, tiny_models: Path, tmp_path: Path) -> None:
    proc = run_wrapper(musetalk_python, "--engine", "musetalk", "--check", "--json-output")
    result = json.loads(proc.stdout)
    jsonschema.validate(result, SCHEMA)
    assert result["engine"] == "musetalk"
    env = {"PRESGEN_MODELS": str(tiny_models)}
    ok = subprocess.run(
        [str(musetalk_python), "-m", "musetalk_wrapper", "--engine", "musetalk", "--check", "--json-output"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, **env, "PYTHONPATH": str(REPO)},
    )
    assert json.loads(ok.stdout)["healthy"] is True, ok.stdout
