"""A section's presenter in pieces: rendered once, kept per piece, joined frame-exactly; an edit of one sentence
renders only its piece; and when the engine fails on that piece, the fallback engine renders the kept pieces too,
so one section's clip never mixes two engines."""

from __future__ import annotations

import stat
import sys
import wave
from pathlib import Path

import numpy as np
import pytest

from presgen_training.avatar.chain import AvatarSettings, resolve
from presgen_training.cache_store import Store
from presgen_training.ffmpeg import AUDIO_SAMPLE_RATE, OUTPUT_FPS, count_frames, file_arg, run_ffmpeg
from presgen_training.segments import avatar_clips
from presgen_training.segments.avatar_clips import AvatarInputs
from presgen_training.segments.plan import Segment, piece_cuts

BROKEN = "broken"  # the fake engine fails while this file exists beside it
FAKE_ENGINE = f"""#!{sys.executable}
import json, os, subprocess, sys, wave
import imageio_ffmpeg
opts = dict(a[2:].split("=", 1) for a in sys.argv[1:] if a.startswith("--") and "=" in a)
if os.path.exists(os.path.join(os.path.dirname(__file__), {BROKEN!r})):
    print(json.dumps({{"success": False, "schema_version": 2, "error": {{"code": "RUNTIME", "message": "broke"}}}}))
    sys.exit(1)
batch = "segments" in opts
one = [{{"audio": opts.get("audio"), "output": opts.get("output")}}]
clips = json.load(open(opts["segments"]))["segments"] if batch else one
results = []
for clip in clips:
    with wave.open(clip["audio"]) as w:
        seconds = w.getnframes() / w.getframerate()
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-f", "lavfi", "-i",
        f"color=c=red:s=64x64:r=25:d={{seconds}}", "-i", clip["audio"], "-shortest", "-pix_fmt", "yuv420p",
        clip["output"]], check=True)
    results.append({{"success": True, "output_path": clip["output"], "engine": "puppet", "message": "ok",
        "duration_s": seconds, "fps": 25, "frames": round(seconds * 25), "timings_s": {{}}, "warnings": [],
        "details": {{"face_box": [10, 10, 20, 20]}}}})
if batch:
    print(json.dumps({{"success": True, "engine": "puppet", "message": "ok", "timings_s": {{}}, "warnings": [],
        "schema_version": 2, "segments": results}}))
else:
    print(json.dumps({{**results[0], "schema_version": 2}}))
"""


def write_speech(path: Path, spans_s: list[tuple[float, float, float]], length_s: float) -> None:
    """Tones of (start, end, Hz) over silence, 16-bit mono at 48 kHz."""
    x = np.zeros(round(length_s * AUDIO_SAMPLE_RATE))
    for a, b, hz in spans_s:
        first, end = round(a * AUDIO_SAMPLE_RATE), round(b * AUDIO_SAMPLE_RATE)
        x[first:end] = 8000 * np.sin(2 * np.pi * hz * np.arange(end - first) / AUDIO_SAMPLE_RATE)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(AUDIO_SAMPLE_RATE)
        w.writeframes(x.astype("<i2").tobytes())


def segment_of(wav: Path) -> Segment:
    with wave.open(str(wav), "rb") as w:
        samples = np.frombuffer(w.readframes(w.getnframes()), "<i2").astype(np.int16)
    frames = len(samples) // (AUDIO_SAMPLE_RATE // OUTPUT_FPS)
    return Segment(0, 1, 0.0, frames / OUTPUT_FPS, 0, frames, cuts=piece_cuts(samples, AUDIO_SAMPLE_RATE, 0))


@pytest.fixture
def setup(tmp_path: Path) -> tuple[AvatarSettings, Path, Path, Store]:
    fake = tmp_path / "fake-puppet"
    fake.write_text(FAKE_ENGINE)
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    image = tmp_path / "presenter.png"
    run_ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=320x240:d=1", "-frames:v", "1", file_arg(image)], "image")
    settings = AvatarSettings(choice="puppet", allow_fallback=True, python_override=fake, timeout_s=60.0)
    return settings, fake, image, Store("segments", tmp_path / "cache")


def render(settings: AvatarSettings, image: Path, store: Store, wav: Path, work: Path) -> avatar_clips.AvatarClip:
    work.mkdir()
    inputs = AvatarInputs(image, True, settings, resolve(settings), wav, None, work, (320, 240), store)
    segment = segment_of(wav)
    if (cached := avatar_clips.find_cached(inputs, [segment])).get(0) is not None:
        return cached[0]
    clips, _ = avatar_clips.render_missing(inputs, [segment])
    clip = clips[0]
    assert count_frames(clip.path) == segment.frames, "the joined pieces must be every frame of the section"
    return clip


def test_an_edit_renders_its_piece_and_a_fallback_renders_the_whole_section(
    setup: tuple[AvatarSettings, Path, Path, Store], tmp_path: Path
) -> None:
    settings, fake, image, store = setup
    first, edited = tmp_path / "first.wav", tmp_path / "edited.wav"
    write_speech(first, [(0.0, 4.6, 220), (4.9, 8.6, 330)], 9.4)
    write_speech(edited, [(0.0, 4.6, 220), (4.9, 9.8, 440)], 10.6)

    clip = render(settings, image, store, first, tmp_path / "w1")
    assert (clip.engine, clip.pieces, clip.pieces_rendered, clip.cached) == ("puppet", 2, 2, False)
    again = render(settings, image, store, first, tmp_path / "w2")
    assert (again.key, again.cached) == (clip.key, True)

    edit = render(settings, image, store, edited, tmp_path / "w3")
    assert (edit.engine, edit.pieces, edit.pieces_rendered) == ("puppet", 2, 1), "the first sentence's piece is kept"

    (fake.parent / BROKEN).write_text("")
    edited_again = tmp_path / "edited-again.wav"
    write_speech(edited_again, [(0.0, 4.6, 220), (4.9, 9.0, 550)], 9.8)
    fallback = render(settings, image, store, edited_again, tmp_path / "w4")
    assert (fallback.engine, fallback.pieces, fallback.pieces_rendered) == ("static", 2, 2), (
        "the kept puppet piece must not be joined to a static one"
    )
