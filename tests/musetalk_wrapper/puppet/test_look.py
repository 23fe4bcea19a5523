"""A contact sheet a person can look at (test-artifacts/puppet_contact_sheet.png): for each render, frames in
pauses and in loud speech, the face and the mouth enlarged. The test also checks what can be checked by
numbers: the mouth region darkens (an open cavity) in speech and not in pauses, on every source."""
from __future__ import annotations

import subprocess
import wave
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image, ImageDraw

pytestmark = [pytest.mark.slow, pytest.mark.puppet_env]

SHEET_RENDERS = ("man-timings-motion", "sun", "yongen")
PAUSE_FRAMES, SPEECH_FRAMES = 2, 4
FACE_PX = 300  # height of a face tile
MOUTH_ZOOM_W = 300  # width of an enlarged mouth tile
FPS = 25
DARK = 0.3  # cavity pixels are darker than this share of the mouth region's median (beard shadow is not)


def _frame_levels(wav_path: Path, n_frames: int) -> np.ndarray:
    with wave.open(str(wav_path)) as w:
        rate = w.getframerate()
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)
    hop = rate / FPS
    out = np.full(n_frames, -100.0)
    for i in range(n_frames):
        seg = data[int(i * hop):int((i + 1) * hop)]
        if len(seg):
            out[i] = 20 * np.log10(np.sqrt(np.mean(seg ** 2)) + 1e-9)
    return out


def _pick(levels: np.ndarray) -> tuple[list[int], list[int]]:
    """Frames deep inside pauses, and the loudest frames at least half a second apart."""
    quiet = levels < np.percentile(levels, 95) - 30
    pauses = [i for i in range(3, len(levels) - 3) if quiet[i - 3:i + 4].all()]
    pauses = [pauses[int(k)] for k in np.linspace(0, len(pauses) - 1, PAUSE_FRAMES)] if pauses else []
    loud: list[int] = []
    for i in np.argsort(-levels):
        if all(abs(int(i) - j) >= FPS // 2 for j in loud):
            loud.append(int(i))
        if len(loud) == SPEECH_FRAMES:
            break
    return pauses, sorted(loud)


def _frames(video: Path, indices: list[int], width: int, height: int) -> dict[int, np.ndarray]:
    select = "+".join(f"eq(n\\,{i})" for i in indices)
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(video), "-vf", f"select={select}",
           "-fps_mode", "passthrough", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    raw = subprocess.run(cmd, capture_output=True, check=True).stdout
    arr = np.frombuffer(raw, np.uint8).reshape(-1, height, width, 3)
    return dict(zip(sorted(indices), arr, strict=True))


def _mouth_box(face_box: list[int]) -> tuple[int, int, int, int]:
    x, y, w, h = face_box
    return int(x + 0.22 * w), int(y + 0.62 * h), int(x + 0.78 * w), int(y + 0.92 * h)


def _dark_share(mouth: np.ndarray) -> float:
    luma = mouth[..., 0] * 0.299 + mouth[..., 1] * 0.587 + mouth[..., 2] * 0.114
    return float(np.mean(luma < DARK * np.median(luma)))


def _tile(frame: np.ndarray, face_box: list[int], label: str) -> Image.Image:
    x, y, w, h = face_box
    m = int(0.25 * max(w, h))
    H, W = frame.shape[:2]
    face = Image.fromarray(frame[max(0, y - m):min(H, y + h + m // 2), max(0, x - m):min(W, x + w + m)])
    face = face.resize((int(face.width * FACE_PX / face.height), FACE_PX), Image.LANCZOS)
    mx0, my0, mx1, my1 = _mouth_box(face_box)
    mouth = Image.fromarray(frame[my0:my1, mx0:mx1])
    mouth = mouth.resize((MOUTH_ZOOM_W, int(mouth.height * MOUTH_ZOOM_W / mouth.width)), Image.LANCZOS)
    tile = Image.new("RGB", (max(face.width, mouth.width), face.height + mouth.height + 18), "white")
    tile.paste(face, (0, 18))
    tile.paste(mouth, (0, 18 + face.height))
    ImageDraw.Draw(tile).text((4, 3), label, fill="black")
    return tile


def test_contact_sheet_shows_a_moving_mouth(renders: Any, tools: Any, speech: Path, narration: tuple[Path, Path],
                                           artifacts_dir: Path) -> None:
    rows: list[Image.Image] = []
    darkness: dict[str, tuple[list[float], list[float]]] = {}
    for name in SHEET_RENDERS:
        r = renders[name]
        assert r.ok, r.result
        facts = tools.media_facts(r.output)
        wav = narration[0] if tools.render_cases[name][3] == "narration" else speech
        pauses, loud = _pick(_frame_levels(wav, facts.video_frames))
        assert len(pauses) == PAUSE_FRAMES and len(loud) == SPEECH_FRAMES
        frames = _frames(r.output, pauses + loud, facts.width, facts.height)
        box = r.result["details"]["face_box"]
        mx0, my0, mx1, my1 = _mouth_box(box)
        dark = {i: _dark_share(f[my0:my1, mx0:mx1]) for i, f in frames.items()}
        tiles = [_tile(frames[i], box, f"{name} #{i} {'pause' if i in pauses else 'speech'}")
                 for i in pauses + loud]
        row = Image.new("RGB", (sum(t.width for t in tiles), max(t.height for t in tiles)), "white")
        x = 0
        for t in tiles:
            row.paste(t, (x, 0))
            x += t.width
        rows.append(row)
        darkness[name] = ([dark[i] for i in pauses], [dark[i] for i in loud])
    sheet = Image.new("RGB", (max(r.width for r in rows), sum(r.height for r in rows)), "white")
    y = 0
    for row in rows:
        sheet.paste(row, (0, y))
        y += row.height
    sheet.save(artifacts_dir / "puppet_contact_sheet.png")
    for name, (in_pauses, in_speech) in darkness.items():  # an open mouth shows a dark cavity
        assert np.mean(in_speech) > 1.5 * max(in_pauses), (name, in_pauses, in_speech)
        assert sum(d > max(in_pauses) for d in in_speech) >= SPEECH_FRAMES - 1, (name, in_pauses, in_speech)
