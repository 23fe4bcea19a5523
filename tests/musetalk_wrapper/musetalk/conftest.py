"""Fixtures for the musetalk engine tests: the official checkpoint manifests (shared/musetalk), a tiny-
configuration models folder built by the musetalk env, the same folder fetched by ``presgen weights fetch`` from
a local stand-in for the Hugging Face Hub, and short audio clips cut from eng.wav."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import redirect_stdout
from io import StringIO
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import pytest

from helpers import REPO

SUPPORT = Path(__file__).resolve().parent / "support"


@pytest.fixture(scope="session")
def manifests_dir(media_dir: Path) -> Path:
    """shared/musetalk beside shared/media ($PRESGEN_MUSETALK_MANIFESTS overrides)."""
    path = Path(os.environ.get("PRESGEN_MUSETALK_MANIFESTS") or media_dir.parent / "musetalk")
    if not (path / "unet_state_dict.json").is_file():
        pytest.fail(f"MuseTalk checkpoint manifests not found in {path}")
    return path


@pytest.fixture(scope="session")
def tiny_models(musetalk_python: Path, manifests_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random-weight models folder in the official layout and file formats, tiny UNet/VAE/whisper."""
    out = tmp_path_factory.mktemp("tiny-models")
    proc = subprocess.run(
        [str(musetalk_python), str(SUPPORT / "tiny_models.py"), str(out), str(manifests_dir)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


@pytest.fixture(scope="session")
def fetched(
    tiny_models: Path, musetalk_python: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Any]]:
    """``presgen weights fetch`` of the tiny folder, served in the hub's URL layout (the official repos and
    pinned revisions; resnet18 and BiSeNet from a plain host): {"models": folder, "report": its JSON report}."""
    sys.path.insert(0, str(SUPPORT))
    from fake_hub import FakeHub, served_table

    from presgen_training.commands import weights as weights_command

    work = tmp_path_factory.mktemp("fetched")
    official = json.loads((REPO / "musetalk_wrapper" / "weights_files.json").read_text())
    hub = FakeHub(dict(official["revisions"]))
    server = hub.start()
    plain = {}
    for entry in official["files"]:
        src = entry["sources"][0]
        if not (tiny_models / entry["path"]).is_file():
            continue
        data = (tiny_models / entry["path"]).read_bytes()
        if "hub" in src:
            hub.add_hub_file(src["hub"], src["file"], data, lfs=not entry["path"].endswith(".json"))
        else:
            plain[entry["path"]] = Path(entry["path"]).name
            hub.add_plain_file(plain[entry["path"]], data)
    table = work / "table.json"
    table.write_text(json.dumps(served_table(hub, official, tiny_models, plain)))
    saved = {k: os.environ.get(k) for k in ("HF_ENDPOINT", "HF_HOME", "HF_HUB_OFFLINE")}
    os.environ.update({"HF_ENDPOINT": hub.url, "HF_HOME": str(work / "hf")})
    os.environ.pop("HF_HUB_OFFLINE", None)
    parser = argparse.ArgumentParser(prog="presgen")
    weights_command.register(parser.add_subparsers(dest="command"))
    models = work / "models"
    args = parser.parse_args(["weights", "fetch", "--models-dir", str(models), "--table", str(table), "--json"])
    try:
        out = StringIO()
        with redirect_stdout(out):
            code = args.func(args)
        yield {"models": models, "report": json.loads(out.getvalue()), "code": code, "log": hub.log}
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        hub.stop(server)


@pytest.fixture(scope="session")
def cut_audio(media_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Callable[[float, float], Path]:
    """cut_audio(start_s, seconds) -> a wav cut from eng.wav (60 s of English speech)."""
    folder = tmp_path_factory.mktemp("audio")

    def cut(start: float, seconds: float) -> Path:
        out = folder / f"eng_{start:g}_{seconds:g}.wav"
        if not out.exists():
            subprocess.run(
                [
                    imageio_ffmpeg.get_ffmpeg_exe(),
                    "-v",
                    "error",
                    "-y",
                    "-ss",
                    str(start),
                    "-t",
                    str(seconds),
                    "-i",
                    str(media_dir / "eng.wav"),
                    str(out),
                ],
                check=True,
            )
        return out

    return cut


@pytest.fixture(scope="session")
def link_models() -> Callable[[Path, Path, dict[str, bytes | Path | None]], Path]:
    return _link_models


def _link_models(src: Path, dst: Path, replace: dict[str, bytes | Path | None]) -> Path:
    """A copy of models folder ``src`` made of symlinks, with some files replaced (bytes or a file) or removed."""
    for path in src.rglob("*"):
        if path.is_file():
            rel = path.relative_to(src).as_posix()
            target = dst / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if rel not in replace:
                target.symlink_to(path)
    for rel, content in replace.items():
        target = dst / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            target.write_bytes(content)
        elif isinstance(content, Path):
            target.symlink_to(content)
    return dst
