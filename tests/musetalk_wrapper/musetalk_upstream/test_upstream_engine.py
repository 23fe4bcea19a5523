"""The musetalk-upstream engine against a fake ``vendor/MuseTalk`` whose ``scripts/inference.py`` takes upstream's
command line and, depending on FAKE_UPSTREAM_MODE, writes a video the way upstream does (ffmpeg from PATH, its
own frame rate, audio muxed in, under <result_dir>/v15/), crashes, exits 0 without output, or hangs.

The wrapper runs under the orchestrator's interpreter (no torch): the engine only spawns upstream."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

import jsonschema
import pytest

from helpers import REPO, run_wrapper
from presgen_training.ffmpeg import count_frames, probe, run_ffmpeg

SCHEMA = json.loads((REPO / "musetalk_wrapper" / "result.schema.json").read_text())
WRAPPER_PYTHON = Path(sys.executable)
AUDIO_S = 3.0

FAKE_INFERENCE = Path(__file__).resolve().parent / "support" / "fake_inference.py"

MODEL_FILES = (
    "musetalkV15/unet.pth",
    "musetalkV15/musetalk.json",
    "sd-vae/config.json",
    "sd-vae/diffusion_pytorch_model.bin",
    "whisper/config.json",
    "whisper/pytorch_model.bin",
    "whisper/preprocessor_config.json",
    "dwpose/dw-ll_ucoco_384.pth",
    "face-parse-bisent/79999_iter.pth",
    "face-parse-bisent/resnet18-5c106cde.pth",
)


def make_fake_vendor(root: Path, with_models: bool = True) -> Path:
    vendor = root / "MuseTalk"
    (vendor / "scripts").mkdir(parents=True)
    (vendor / "scripts" / "__init__.py").write_text("")
    shutil.copyfile(FAKE_INFERENCE, vendor / "scripts" / "inference.py")
    if with_models:
        for rel in MODEL_FILES:
            path = vendor / "models" / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"\0")
    return vendor


@pytest.fixture(scope="module")
def inputs(media_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("upstream-inputs")
    audio = folder / "narration.take1.wav"  # a '.' inside the name: upstream cuts names at the first one
    run_ffmpeg(
        ["-i", f"file:{media_dir / 'eng.wav'}", "-t", str(AUDIO_S), "-ac", "1", "-ar", "16000", f"file:{audio}"],
        "cutting test audio",
    )
    return media_dir / "sit.jpeg", audio


@pytest.fixture(scope="module")
def vendor(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_fake_vendor(tmp_path_factory.mktemp("vendor"))


@pytest.fixture(autouse=True)
def _mode(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.setenv("FAKE_UPSTREAM_MODE", "ok")
    monkeypatch.delenv("PRESGEN_UPSTREAM_TIMEOUT_S", raising=False)
    return monkeypatch


def render(
    vendor: Path, inputs: tuple[Path, Path], out: Path, mode: str, *extra: str, source_flag: str = "--image"
) -> tuple[dict, int, str]:
    """Run the wrapper the way the orchestrator does; the fake reads FAKE_UPSTREAM_MODE from the environment."""
    source, audio = inputs
    os.environ["FAKE_UPSTREAM_MODE"] = mode  # restored by monkeypatch (see _mode)
    proc = run_wrapper(
        WRAPPER_PYTHON,
        "--engine",
        "musetalk-upstream",
        source_flag,
        str(source),
        "--audio",
        str(audio),
        "--output",
        str(out),
        "--vendor-dir",
        str(vendor),
        "--json-output",
        *extra,
        timeout=120,
    )
    obj = json.loads(proc.stdout)
    jsonschema.validate(obj, SCHEMA)
    return obj, proc.returncode, proc.stderr


def test_success_gives_a_25fps_video_of_the_audio_length(vendor, inputs, tmp_path, artifacts_dir):
    out = tmp_path / "avatar.mp4"
    obj, code, stderr = render(vendor, inputs, out, "ok")
    assert code == 0, obj
    assert obj["success"] and obj["engine"] == "musetalk-upstream"
    info = probe(out)
    assert info.video_codec == "h264" and info.pix_fmt == "yuv420p" and info.audio_codec == "aac"
    assert info.fps == 25
    assert info.width is not None and info.width % 2 == 0 and info.height % 2 == 0
    assert abs(info.duration_s - AUDIO_S) < 0.1
    frames = count_frames(out)
    assert abs(frames - AUDIO_S * 25) <= 1
    assert obj["frames"] == frames and abs(obj["duration_s"] - AUDIO_S) < 0.1
    # upstream's tqdm bars arrive as progress events; nothing of upstream's leaks onto our stdout
    events = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert any(e["event"] == "progress" and e["stage"] == "upstream" for e in events)
    assert not list(out.parent.glob(".*partial*"))
    run_ffmpeg(
        ["-ss", "1.5", "-i", f"file:{out}", "-frames:v", "1", f"file:{artifacts_dir / 'upstream-fake.png'}"],
        "grabbing a frame",
    )


def test_video_source_is_passed_as_a_video(vendor, inputs, media_dir, tmp_path):
    out = tmp_path / "avatar.mp4"
    obj, code, _ = render(vendor, (media_dir / "sun.mp4", inputs[1]), out, "ok", source_flag="--video")
    assert code == 0, obj
    assert abs(probe(out).duration_s - AUDIO_S) < 0.1


def test_crash_reports_the_last_stderr_line(vendor, inputs, tmp_path):
    out = tmp_path / "avatar.mp4"
    obj, code, _ = render(vendor, inputs, out, "crash")
    assert code == 6 and obj["error"]["code"] == "RUNTIME"
    assert obj["error"]["message"].endswith("RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB (fake)")
    assert "exit 1" in obj["error"]["message"]
    assert not out.exists() and not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    "mode, says",
    [("noop", "exited 0 without writing a video"), ("short", "of video for 3.00 s of audio")],
    ids=["exit-0-without-output", "video-shorter-than-the-audio"],
)
def test_no_full_video_is_a_runtime_error(vendor, inputs, tmp_path, mode, says):
    out = tmp_path / "avatar.mp4"
    obj, code, _ = render(vendor, inputs, out, mode)
    assert code == 6 and obj["error"]["code"] == "RUNTIME"
    assert says in obj["error"]["message"]
    assert not out.exists()


def test_missing_module_in_upstream_names_the_env_to_build(vendor, inputs, tmp_path):
    obj, code, _ = render(vendor, inputs, tmp_path / "avatar.mp4", "missing-module")
    assert code == 5 and obj["error"]["code"] == "ENGINE_UNAVAILABLE"
    assert "'mmpose'" in obj["error"]["message"]
    assert obj["error"]["message"].endswith("run: presgen env create musetalk-upstream")


def test_never_interactive_stdin_is_closed(vendor, inputs, tmp_path):
    started = time.monotonic()
    obj, code, _ = render(vendor, inputs, tmp_path / "avatar.mp4", "prompt")
    assert code == 6 and "EOFError" in obj["error"]["message"]
    assert time.monotonic() - started < 60


def test_timeout_stops_upstream(vendor, inputs, tmp_path, monkeypatch):
    monkeypatch.setenv("PRESGEN_UPSTREAM_TIMEOUT_S", "3")
    started = time.monotonic()
    obj, code, _ = render(vendor, inputs, tmp_path / "avatar.mp4", "hang")
    assert code == 6 and "did not finish within 3 s" in obj["error"]["message"]
    assert time.monotonic() - started < 60


def test_missing_vendor_dir_names_make_vendor(inputs, tmp_path):
    obj, code, _ = render(tmp_path / "nothing-here", inputs, tmp_path / "avatar.mp4", "ok")
    assert code == 5 and obj["error"]["code"] == "ENGINE_UNAVAILABLE"
    assert obj["error"]["message"].endswith("run: make vendor")


def test_missing_models_are_named(inputs, tmp_path):
    vendor = make_fake_vendor(tmp_path, with_models=False)
    obj, code, _ = render(vendor, inputs, tmp_path / "avatar.mp4", "ok")
    assert code == 5 and obj["error"]["code"] == "ENGINE_UNAVAILABLE"
    assert "models/musetalkV15/unet.pth" in obj["error"]["message"]
    assert "download_weights.sh" in obj["error"]["message"]


def test_check_reports_unvendored_default(tmp_path):
    proc = run_wrapper(WRAPPER_PYTHON, "--check", "--engine", "musetalk-upstream", "--json-output", timeout=60)
    obj = json.loads(proc.stdout)
    jsonschema.validate(obj, SCHEMA)
    if obj["healthy"]:
        pytest.skip("vendor/MuseTalk holds upstream and its weights on this machine")
    assert proc.returncode == 5 and obj["reason"]
