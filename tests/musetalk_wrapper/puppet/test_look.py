"""Contact sheets a person can look at, one per test face (test-artifacts/puppet_sheet_<face>.png): mouth crops
of 10 consecutive frames at the loudest speech and in the longest pause, and eye crops across a blink for photos
that blink; each strip shows the source above the output. The test also checks what numbers can: an open mouth
shows a dark cavity in speech and not in pauses, and a blink darkens the eyes."""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image, ImageDraw

from musetalk_wrapper.engines.puppet.motion import blink_closure

pytestmark = [pytest.mark.slow, pytest.mark.puppet_env]

SHEET_RENDERS = ("sun", "yongen", "man", "sit", "talking", "man-timings-motion")
RUN = 10  # consecutive frames per strip
TILE_W = 170  # px per crop in the sheet
FPS = 25
DARKER = 0.55  # a pixel of the open mouth's cavity is this much darker than the lips or skin it replaces


def _frame_levels(wav_path: Path, n_frames: int) -> np.ndarray:
    with wave.open(str(wav_path)) as w:
        rate = w.getframerate()
        data = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.float64)
    hop = rate / FPS
    out = np.full(n_frames, -100.0)
    for i in range(n_frames):
        seg = data[int(i * hop) : int((i + 1) * hop)]
        if len(seg):
            out[i] = 20 * np.log10(np.sqrt(np.mean(seg**2)) + 1e-9)
    return out


def _windows(levels: np.ndarray) -> dict[str, int]:
    """First frame of a RUN-frame window around the loudest speech and in the middle of the longest pause."""
    n = len(levels)
    loud = int(np.clip(int(np.argmax(levels)) - RUN // 2, 0, n - RUN))
    quiet = levels < np.percentile(levels, 95) - 30
    best, start, i = (0, 0), 0, 0
    while i < n:
        if quiet[i]:
            j = i
            while j < n and quiet[j]:
                j += 1
            if j - i > best[0]:
                best = (j - i, i)
            i = j
        else:
            i += 1
    start = int(np.clip(best[1] + best[0] // 2 - RUN // 2, 0, n - RUN))
    return {"speech": loud, "pause": start}


def _decode(video: Path, indices: list[int], width: int, height: int) -> dict[int, np.ndarray]:
    wanted = sorted(set(indices))
    select = "+".join(f"eq(n\\,{i})" for i in wanted)
    cmd = [
        imageio_ffmpeg.get_ffmpeg_exe(),
        "-v",
        "error",
        "-i",
        str(video),
        "-vf",
        f"select={select}",
        "-fps_mode",
        "passthrough",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "rgb24",
        "-",
    ]
    raw = subprocess.run(cmd, capture_output=True, check=True).stdout
    arr = np.frombuffer(raw, np.uint8).reshape(-1, height, width, 3)
    return dict(zip(wanted, arr, strict=True))


def _source_frames(source: Path, indices: list[int], width: int, height: int, n_src: int) -> dict[int, np.ndarray]:
    """The source frame each output frame was made from (a photo; or a video played back and forth)."""
    if source.suffix.lower() in {".png", ".jpg", ".jpeg"}:
        img = np.asarray(Image.open(source).convert("RGB"))[:height, :width]
        return dict.fromkeys(indices, img)
    period = 2 * (n_src - 1)
    where = {i: (i % period if i % period < n_src else period - i % period) for i in indices}
    frames = _decode(source, list(where.values()), width, height)
    return {i: frames[k] for i, k in where.items()}


def _boxes(face_box: list[int]) -> dict[str, tuple[int, int, int, int]]:
    x, y, w, h = face_box
    return {
        "mouth": (int(x + 0.18 * w), int(y + 0.58 * h), int(x + 0.82 * w), int(y + 0.98 * h)),
        "eyes": (int(x + 0.05 * w), int(y + 0.25 * h), int(x + 0.95 * w), int(y + 0.52 * h)),
    }


def _strip(frames: list[np.ndarray], box: tuple[int, int, int, int]) -> Image.Image:
    x0, y0, x1, y1 = box
    tiles = [Image.fromarray(np.ascontiguousarray(f[y0:y1, x0:x1])) for f in frames]
    th = int(TILE_W * (y1 - y0) / max(x1 - x0, 1))
    strip = Image.new("RGB", (TILE_W * len(tiles), th), "white")
    for k, t in enumerate(tiles):
        strip.paste(t.resize((TILE_W, th), Image.LANCZOS), (k * TILE_W, 0))
    return strip


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., 0] * 0.299 + rgb[..., 1] * 0.587 + rgb[..., 2] * 0.114


def _darkened(out: np.ndarray, src: np.ndarray) -> float:
    """Share of pixels at under DARKER times the source's brightness (a mouth opened where lips or skin were)."""
    return float(np.mean(_luma(out.astype(np.float64)) < DARKER * _luma(src.astype(np.float64))))


def _luma_mean(crop: np.ndarray) -> float:
    return float(np.mean(_luma(crop.astype(np.float64))))


@pytest.mark.parametrize("name", SHEET_RENDERS)
def test_contact_sheet(
    name: str,
    renders: Any,
    tools: Any,
    speech: Path,
    other_speech: Path,
    narration: tuple[Path, Path],
    artifacts_dir: Path,
) -> None:
    r = renders[name]
    assert r.ok, r.result
    facts = tools.media_facts(r.output)
    audio_kind = tools.render_cases[name][3]
    wav = {"speech": speech, "other speech": other_speech, "narration": narration[0]}[audio_kind]
    n = facts.video_frames
    starts = _windows(_frame_levels(wav, n))
    animated = tools.render_cases[name][0] == "--image" and "off" not in tools.render_cases[name][2]
    if animated:  # the first full blink the motion clock gives this clip (it starts at 0 s)
        closed = [i for i in range(n) if blink_closure(float(i), FPS) >= 1.0]
        assert closed, "a 12 s photo clip blinks"
        starts["blink"] = max(0, min(n - RUN, closed[0] - 4))
    indices = sorted({s + k for s in starts.values() for k in range(RUN)})
    out = _decode(r.output, indices, facts.width, facts.height)
    source = renders.source(name)
    n_src = r.result["details"]["source_frames"] if source.suffix == ".mp4" else 1
    if source.suffix == ".mp4":
        n_src = tools.media_facts(source).video_frames
    src = _source_frames(source, indices, facts.width, facts.height, n_src)
    boxes = _boxes(r.result["details"]["face_box"])

    rows: list[Image.Image] = []
    for label, start in starts.items():
        part = "eyes" if label == "blink" else "mouth"
        run = list(range(start, start + RUN))
        head = Image.new("RGB", (TILE_W * RUN, 16), "white")
        ImageDraw.Draw(head).text(
            (4, 2), f"{name}: {label}, frames {start}-{start + RUN - 1} (top: source, bottom: output)", fill="black"
        )
        rows += [head, _strip([src[i] for i in run], boxes[part]), _strip([out[i] for i in run], boxes[part])]
    sheet = Image.new("RGB", (max(rw.width for rw in rows), sum(rw.height for rw in rows)), "white")
    y = 0
    for row in rows:
        sheet.paste(row, (0, y))
        y += row.height
    sheet.save(artifacts_dir / f"puppet_sheet_{name}.png")

    x0, y0, x1, y1 = boxes["mouth"]
    # pixels of the mouth region the output makes much darker than the source: a cavity in speech, none in pauses
    added = {
        label: [_darkened(out[i][y0:y1, x0:x1], src[i][y0:y1, x0:x1]) for i in range(s, s + RUN)]
        for label, s in starts.items()
        if label != "blink"
    }
    assert max(added["speech"]) > 0.01 and max(added["speech"]) > max(added["pause"]) + 0.01, added
    if animated:
        ex0, ey0, ex1, ey1 = boxes["eyes"]
        s = starts["blink"]
        eyes = [_luma_mean(out[i][ey0:ey1, ex0:ex1]) - _luma_mean(src[i][ey0:ey1, ex0:ex1]) for i in range(s, s + RUN)]
        assert max(eyes) - min(eyes) > 1.0, eyes  # the lids cover the eyes, then open again
