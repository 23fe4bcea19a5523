"""``python -m musetalk_wrapper.weights check`` (standard library only) and ``presgen weights check``, which
runs it in a subprocess and renders its JSON: what is missing or broken and the command that fetches it."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from helpers import REPO
from presgen_training.commands import weights as weights_command

OFFICIAL_UNET_CONFIG = {
    "block_out_channels": [320, 640, 1280, 1280],
    "cross_attention_dim": 384,
    "in_channels": 8,
    "layers_per_block": 2,
}


def check(models: Path, *extra: str, cwd: Path = REPO, env: dict[str, str] | None = None) -> tuple[dict, int]:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "musetalk_wrapper.weights",
            "check",
            "--json",
            *(["--models-dir", str(models)] if models else []),
            *extra,
        ],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={"PYTHONPATH": str(REPO), **(env or {})},
    )
    return json.loads(proc.stdout), proc.returncode


def by_path(report: dict) -> dict[str, dict]:
    return {f["path"]: f for f in report["files"]}


def fake_torch_zip(path: Path, payload_bytes: int = 1000) -> None:
    """A file in torch.save's zip layout (archive/data.pkl + a data record)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
        zf.writestr("archive/data/0", b"\0" * payload_bytes)


def test_empty_folder_lists_every_file_with_its_command(tmp_path: Path) -> None:
    report, code = check(tmp_path / "models")
    assert code == 1 and report["complete"] is False
    files = by_path(report)
    assert files["musetalkV15/unet.pth"]["status"] == "missing"
    assert files["dwpose/dw-ll_ucoco_384.onnx"]["required"] is False
    cmds = "\n".join(report["commands"])
    models = str(tmp_path / "models")
    revs = json.loads((REPO / "musetalk_wrapper" / "weights_files.json").read_text())["revisions"]
    assert report["commands"][0] == f"presgen weights fetch --models-dir {models}"  # one command fetches it all
    assert files["musetalkV15/unet.pth"]["fetch"] == report["commands"][0]
    # by hand: the pinned revisions and the canonical URLs
    assert (
        f"huggingface-cli download TMElyralab/MuseTalk musetalkV15/musetalk.json musetalkV15/unet.pth "
        f"--revision {revs['TMElyralab/MuseTalk']} --local-dir {models}" in cmds
    )
    assert f"--local-dir {models}/sd-vae" in cmds and "stabilityai/sd-vae-ft-mse" in cmds
    assert "openai/whisper-tiny config.json pytorch_model.bin preprocessor_config.json" in cmds
    assert "id=154JgKpzCPW82qINcVieuPH3fZ2e0P812" in cmds  # BiSeNet from its Google Drive host
    assert "https://download.pytorch.org/models/resnet18-5c106cde.pth" in cmds
    assert "dwpose" not in cmds  # optional files are listed, not demanded
    assert len(report["commands"]) == 6


def test_models_dir_from_env_then_default(tmp_path: Path) -> None:
    report, _ = check(None, env={"PRESGEN_MODELS": str(tmp_path / "elsewhere")})  # type: ignore[arg-type]
    assert report["models_dir"].endswith("elsewhere")
    report, _ = check(None, cwd=tmp_path)  # type: ignore[arg-type]
    assert report["models_dir"] == "models"


def test_broken_files_are_named(tmp_path: Path) -> None:
    models = tmp_path / "models"
    (models / "musetalkV15").mkdir(parents=True)
    (models / "musetalkV15" / "musetalk.json").write_text(json.dumps(OFFICIAL_UNET_CONFIG))
    fake_torch_zip(models / "musetalkV15" / "unet.pth")  # complete zip, but far below 3.4 GB of tensors
    (models / "sd-vae").mkdir()
    (models / "sd-vae" / "config.json").write_text("{not json")
    fake_torch_zip(models / "sd-vae" / "diffusion_pytorch_model.bin")
    data = (models / "sd-vae" / "diffusion_pytorch_model.bin").read_bytes()
    (models / "sd-vae" / "diffusion_pytorch_model.bin").write_bytes(data[:-40])  # cut off: no end record
    (models / "whisper").mkdir()
    (models / "whisper" / "pytorch_model.bin").write_text(
        "version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 151061672\n"
    )
    (models / "face-parse-bisent").mkdir()
    (models / "face-parse-bisent" / "79999_iter.pth").write_bytes(b"<!DOCTYPE html><html></html>")
    (models / "face-parse-bisent" / "resnet18-5c106cde.pth").write_bytes(b"")
    files = by_path(check(models)[0])
    assert "truncated" in files["musetalkV15/unet.pth"]["problem"]
    assert "3,399,791,376" in files["musetalkV15/unet.pth"]["problem"]
    assert "not valid JSON" in files["sd-vae/config.json"]["problem"]
    assert "no end record" in files["sd-vae/diffusion_pytorch_model.bin"]["problem"]
    assert "Git LFS pointer" in files["whisper/pytorch_model.bin"]["problem"]
    assert "HTML page" in files["face-parse-bisent/79999_iter.pth"]["problem"]
    assert "empty" in files["face-parse-bisent/resnet18-5c106cde.pth"]["problem"]
    assert files["whisper/config.json"]["status"] == "missing"
    # torch's legacy (pre-zip) format has no end record: a known size bound catches the cut-off copy
    legacy_magic = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19"
    (models / "face-parse-bisent" / "resnet18-5c106cde.pth").write_bytes(legacy_magic + b"\0" * 1000)
    problem = by_path(check(models)[0])["face-parse-bisent/resnet18-5c106cde.pth"]["problem"]
    assert "truncated" in problem and "46,796,448" in problem
    # A tiny (non-official) architecture has no size bound: a complete small zip is fine there.
    (models / "musetalkV15" / "musetalk.json").write_text(
        json.dumps({**OFFICIAL_UNET_CONFIG, "block_out_channels": [32, 64]})
    )
    assert by_path(check(models)[0])["musetalkV15/unet.pth"]["status"] == "ok"


def test_safetensors_alternative_is_accepted_and_checked(tmp_path: Path) -> None:
    folder = tmp_path / "models" / "sd-vae"
    folder.mkdir(parents=True)
    header = json.dumps({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}).encode()
    good = len(header).to_bytes(8, "little") + header + b"\0" * 16
    (folder / "diffusion_pytorch_model.safetensors").write_bytes(good)
    entry = by_path(check(tmp_path / "models")[0])["sd-vae/diffusion_pytorch_model.bin"]
    assert entry["status"] == "ok" and entry["found"].endswith(".safetensors")
    (folder / "diffusion_pytorch_model.safetensors").write_bytes(good[:-4])
    entry = by_path(check(tmp_path / "models")[0])["sd-vae/diffusion_pytorch_model.bin"]
    assert entry["status"] == "invalid" and "truncated" in entry["problem"]


def _presgen_weights(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="presgen")
    weights_command.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return int(args.func(args))


def test_presgen_weights_check_renders_and_fails_when_incomplete(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = _presgen_weights(["weights", "check", "--models-dir", str(tmp_path / "m")])
    out = capsys.readouterr().out
    assert code == 1
    assert "MISSING" in out and "musetalkV15/unet.pth" in out and "Incomplete" in out
    assert "presgen weights fetch --models-dir" in out and "huggingface-cli download openai/whisper-tiny" in out
    code = _presgen_weights(["weights", "check", "--models-dir", str(tmp_path / "m"), "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1 and report["complete"] is False and len(report["commands"]) == 6


def test_presgen_weights_uses_config_models_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "presgen.toml"
    config.write_text(f'[paths]\nmodels_dir = "{tmp_path / "from-config"}"\n')
    monkeypatch.setenv("PRESGEN_CONFIG", str(config))
    _presgen_weights(["weights", "check", "--json"])
    assert json.loads(capsys.readouterr().out)["models_dir"].endswith("from-config")


@pytest.mark.musetalk_env
def test_complete_tiny_folder_passes(tiny_models: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report, code = check(tiny_models)
    assert code == 0 and report["complete"] is True and report["commands"] == []
    assert _presgen_weights(["weights", "check", "--models-dir", str(tiny_models)]) == 0
    assert "Complete" in capsys.readouterr().out


@pytest.mark.musetalk_env
def test_fetch_from_the_hub_layout_loads_and_checks(fetched: dict[str, Any]) -> None:
    """``presgen weights fetch`` end to end: every required file from the hub layout (pinned revisions) or its
    plain host, size and sha256 checked, then loaded strictly in the musetalk env; the check then passes."""
    report = fetched["report"]
    assert fetched["code"] == 0, report
    files = {f["path"]: f for f in report["files"]}
    official = json.loads((REPO / "musetalk_wrapper" / "weights_files.json").read_text())
    assert set(files) == {f["path"] for f in official["files"] if f.get("required", True)}
    assert {f["status"] for f in files.values()} == {"fetched"}
    unet_rev = official["revisions"]["TMElyralab/MuseTalk"]
    assert files["musetalkV15/unet.pth"]["revision"] == unet_rev
    assert files["face-parse-bisent/resnet18-5c106cde.pth"]["source"] == "download.pytorch.org"
    assert ("HEAD", f"/TMElyralab/MuseTalk/resolve/{unet_rev}/musetalkV15/unet.pth", None) in fetched["log"]
    assert report["load_check"] == {"ok": True, "models_dir": str(fetched["models"])}
    assert report["check"]["complete"] is True
    assert check(fetched["models"])[0]["complete"] is True
