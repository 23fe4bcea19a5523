"""Fixtures for the musetalk engine tests: the official checkpoint manifests (shared/musetalk), a tiny-
configuration models folder built by the musetalk env, and short audio clips cut from eng.wav."""
from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import imageio_ffmpeg
import pytest

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
    proc = subprocess.run([str(musetalk_python), str(SUPPORT / "tiny_models.py"), str(out), str(manifests_dir)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


@pytest.fixture(scope="session")
def cut_audio(media_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Callable[[float, float], Path]:
    """cut_audio(start_s, seconds) -> a wav cut from eng.wav (60 s of English speech)."""
    folder = tmp_path_factory.mktemp("audio")

    def cut(start: float, seconds: float) -> Path:
        out = folder / f"eng_{start:g}_{seconds:g}.wav"
        if not out.exists():
            subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-ss", str(start), "-t",
                            str(seconds), "-i", str(media_dir / "eng.wav"), str(out)], check=True)
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
