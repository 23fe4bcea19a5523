"""Editing one section re-renders only that section: render a 4-section script, edit section 3, render again.

The frames of sections 1, 2 and 4 are bit-identical to the first render's (the presenter's motion is a function of
the section's clock, not of what came before), section 3's are new, and the sound runs on across every joint exactly
as the narration does (one continuous AAC track: no gap, no click, no shift). ``--section N`` previews one section
from the same cached work.
"""

from __future__ import annotations

import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest

from helpers import presgen_json
from presgen_training.ffmpeg import OUTPUT_FPS, ffmpeg_exe, file_arg, probe, run_ffmpeg

pytestmark = [pytest.mark.slow]

FIRST_SENTENCE = "Before you answer any message, check the sender address and the name it shows very carefully."
SECTIONS = [
    ("Start", "Welcome to the team."),
    ("Passwords", "Use the password manager."),
    ("Phishing", f"{FIRST_SENTENCE} Then hover over each link before you click."),
    ("Next", "Thank you for your time."),
]
# section 3 (0-based 2): its second sentence gets new words, so only the presenter piece after its pause renders
EDITED = (2, f"{FIRST_SENTENCE} Then report every odd message to the team.")
JOINT_WINDOW_S = 0.1


def script_text(sections: list[tuple[str, str]]) -> str:
    lines = ["title: Joints", "sections:"]
    for title, narration in sections:
        lines += [f"  - title: {title}", f"    narration: {narration}", f"    bullets: [{title} matters]"]
    return "\n".join(lines) + "\n"


def render(folder: Path, name: str, source: Path, *extra: str) -> tuple[Path, dict, Path]:
    out, work = folder / f"{name}.mp4", folder / f"{name}-work"
    manifest = presgen_json(
        "render",
        "--script",
        str(folder / f"{name}.yaml"),
        "--source-image",
        str(source),
        "--out",
        str(out),
        "--quality",
        "fast",
        "--avatar",
        "puppet",
        "--work-dir",
        str(work),
        *extra,
    )
    return out, manifest, work


@pytest.fixture(scope="module")
def renders(tmp_path_factory: pytest.TempPathFactory, media_dir: Path, puppet_python: Path) -> dict[str, tuple]:
    folder = tmp_path_factory.mktemp("incremental")
    edited = list(SECTIONS)
    edited[EDITED[0]] = (SECTIONS[EDITED[0]][0], EDITED[1])
    (folder / "first.yaml").write_text(script_text(SECTIONS))
    (folder / "edited.yaml").write_text(script_text(edited))
    source = media_dir / "man.png"
    return {"first": render(folder, "first", source), "edited": render(folder, "edited", source)}


def frame_md5s(video: Path) -> list[str]:
    out = run_ffmpeg(["-i", file_arg(video), "-map", "0:v:0", "-f", "framemd5", "-"], "hashing frames")
    return [line.rsplit(",", 1)[1].strip() for line in out.decode().splitlines() if line and not line.startswith("#")]


def segment_frames(manifest: dict, hashes: list[str]) -> list[list[str]]:
    return [hashes[round(s["start_s"] * OUTPUT_FPS) : round(s["end_s"] * OUTPUT_FPS)] for s in manifest["segments"]]


def test_only_the_edited_section_changes(renders: dict[str, tuple]) -> None:
    (first, m1, _), (edited, m2, _) = renders["first"], renders["edited"]
    before, after = segment_frames(m1, frame_md5s(first)), segment_frames(m2, frame_md5s(edited))
    assert [len(s) for s in before] == [s["frames"] for s in m1["segments"]]
    for index in range(len(SECTIONS)):
        if index == EDITED[0]:
            assert before[index] != after[index], "the edited section must be rendered anew"
        else:
            assert before[index] == after[index], f"section {index + 1} changed although only section 3 was edited"
    flags = [(s["avatar_cached"], s["overlay_cached"]) for s in m2["segments"]]
    assert flags == [(True, True), (True, True), (False, False), (True, True)]
    pieces = [(s["avatar_pieces"], s["avatar_pieces_rendered"]) for s in m2["segments"]]
    assert pieces == [(1, 0), (1, 0), (2, 1), (1, 0)], "the first sentence's presenter piece is reused"


def test_the_kept_piece_is_the_same_frames(renders: dict[str, tuple]) -> None:
    """The edited section's first sentence shows the same presenter frames as before (its piece was reused and
    joined to the new one), and the pieces join frame-exactly: the section's clip has all its frames."""
    (_, m1, _), (_, m2, _) = renders["first"], renders["edited"]
    before, after = (Path(m["segments"][EDITED[0]]["avatar_clip"]) for m in (m1, m2))
    first, second = frame_md5s(before), frame_md5s(after)
    assert len(first) == m1["segments"][EDITED[0]]["frames"] and len(second) == m2["segments"][EDITED[0]]["frames"]
    same = next(i for i, (a, b) in enumerate(zip(first, second, strict=False)) if a != b)
    assert same >= 2 * OUTPUT_FPS, f"only {same} frames of the first sentence's piece kept"


def decoded_audio(video: Path, rate: int) -> np.ndarray:
    raw = subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-i",
            str(video),
            "-map",
            "0:a:0",
            "-ac",
            "1",
            "-ar",
            str(rate),
            "-f",
            "s16le",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, np.int16).astype(np.float64)


def wav_samples(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as w:
        assert w.getnchannels() == 1 and w.getsampwidth() == 2
        return np.frombuffer(w.readframes(w.getnframes()), np.int16).astype(np.float64), w.getframerate()


def test_sound_runs_on_across_every_joint(renders: dict[str, tuple]) -> None:
    video, manifest, work = renders["edited"]
    spoken, rate = wav_samples(work / "narration.wav")
    heard = decoded_audio(video, rate)
    assert abs(len(heard) - len(spoken)) <= rate * 0.05, "the soundtrack is not as long as the narration"
    n = min(len(heard), len(spoken))
    reach = rate // 500  # 2 ms: the whole track must line up with the narration, not drift at a joint
    best = max(
        range(-reach, reach + 1),
        key=lambda lag: float(np.dot(heard[max(0, lag) : n + min(0, lag)], spoken[max(0, -lag) : n - max(0, lag)])),
    )
    assert abs(best) <= rate // 1000, f"the soundtrack is shifted by {best} samples"
    half = int(JOINT_WINDOW_S * rate)
    for segment in manifest["segments"][1:]:
        at = round(segment["start_s"] * rate)
        a, b = heard[at - half : at + half], spoken[at - half : at + half]
        error = np.sqrt(np.mean((a - b) ** 2))  # AAC at 160 kb/s: ~0.3% of the speech level measured
        assert error <= 0.05 * np.sqrt(np.mean(b**2)) + 20, f"the sound differs from the narration at {at} samples"
        assert np.abs(a).max() <= 1.1 * np.abs(b).max() + 100, f"a click at the joint at {segment['start_s']:.2f} s"


def test_section_preview_reuses_the_full_render(renders: dict[str, tuple], tmp_path: Path, media_dir: Path) -> None:
    first, m1, _ = renders["first"]
    preview = tmp_path / "preview.mp4"
    script = first.with_suffix(".yaml")
    manifest = presgen_json(
        "render",
        "--script",
        str(script),
        "--source-image",
        str(media_dir / "man.png"),
        "--out",
        str(preview),
        "--quality",
        "fast",
        "--avatar",
        "puppet",
        "--section",
        "2",
        timeout=300,
    )
    segment = m1["segments"][1]
    assert [(s["index"], s["avatar_cached"], s["overlay_cached"]) for s in manifest["segments"]] == [(1, True, True)]
    assert abs(probe(preview).duration_s - segment["frames"] / OUTPUT_FPS) <= 0.05
    assert frame_md5s(preview) == segment_frames(m1, frame_md5s(first))[1]
