"""Bad input gets a clear error or a recorded warning, never a traceback, and never a half-written video.
Each case builds its own broken media from the shared test media."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from presgen_training.envs.locate import repo_root, wrapper_environ

pytestmark = pytest.mark.puppet_env

CLIP_S = 3.0


@pytest.fixture(scope="module")
def clip(speech: Path, tools: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("clip") / "clip.wav"
    tools.ffmpeg("-t", str(CLIP_S), "-i", str(speech), str(out))
    return out


def _no_leftovers(output: Path) -> None:
    assert not output.exists()
    assert not list(output.parent.glob("*.partial.mp4"))


def _assert_no_face(r: Any, reason: str) -> dict[str, Any]:
    assert r.returncode == 4 and r.result["success"] is False, r.result
    error = r.result["error"]
    assert error["code"] == "NO_FACE" and error["details"]["reason"] == reason, error
    png = Path(error["details"]["frame_png"])
    assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the judged frame sits beside the output and is named in details; the one-line message names the source
    assert png.parent == r.output.parent and "\n" not in error["message"] and str(png) not in error["message"]
    assert "Traceback" not in r.stderr
    _no_leftovers(r.output)
    return error


def test_flat_colour_image_has_no_face(tmp_path: Path, clip: Path, tools: Any, puppet_python: Path) -> None:
    img = tmp_path / "flat.png"
    tools.ffmpeg("-f", "lavfi", "-i", "color=c=0x5a8cc8:s=640x480", "-frames:v", "1", str(img))
    r = tools.render(puppet_python, tmp_path / "out.mp4", "--audio", str(clip), "--image", str(img))
    error = _assert_no_face(r, "no face found")
    assert "no face found in flat.png" in error["message"]


def test_face_of_30_px_is_too_small(
    tmp_path: Path, clip: Path, tools: Any, puppet_python: Path, media_dir: Path
) -> None:
    img = tmp_path / "small.png"  # man.png's face is ~400 px wide: 80 px of image width leaves ~30 px of face
    tools.ffmpeg("-i", str(media_dir / "man.png"), "-vf", "scale=80:120:flags=area", str(img))
    r = tools.render(puppet_python, tmp_path / "out.mp4", "--audio", str(clip), "--image", str(img))
    error = _assert_no_face(r, "face too small")
    assert error["details"]["face_px"] < 48 and "at least 48 px" in error["message"]


@pytest.mark.parametrize(
    "name, vf",
    [
        ("squeezed", "scale=iw*0.4:ih"),  # a face squeezed to 40% of its width, like a face seen from the side
        ("half-face", "crop=495:ih:0:0"),  # cut through the nose
    ],
)
def test_unreadable_face_is_refused(
    name: str, vf: str, tmp_path: Path, clip: Path, tools: Any, puppet_python: Path, media_dir: Path
) -> None:
    img = tmp_path / f"{name}.png"
    tools.ffmpeg("-i", str(media_dir / "man.png"), "-vf", vf, str(img))
    r = tools.render(puppet_python, tmp_path / "out.mp4", "--audio", str(clip), "--image", str(img))
    _assert_no_face(r, "no face found")


def test_face_cut_by_the_frame_edge_renders_with_a_warning(
    tmp_path: Path, clip: Path, tools: Any, puppet_python: Path, media_dir: Path
) -> None:
    img = tmp_path / "cheek.png"  # the right cheek is cut off, the mouth is whole
    tools.ffmpeg("-i", str(media_dir / "man.png"), "-vf", "crop=600:ih:0:0", str(img))
    r = tools.render(puppet_python, tmp_path / "out.mp4", "--audio", str(clip), "--image", str(img))
    assert r.ok, r.result
    assert any("outside the frame" in w for w in r.result["warnings"])
    x, _y, w, _h = r.result["details"]["face_box"]
    assert x + w <= 600


def test_small_face_in_a_large_photo_is_found(
    tmp_path: Path, clip: Path, tools: Any, puppet_python: Path, media_dir: Path
) -> None:
    """A 90 px face in a 1920x1080 frame: too small for MediaPipe's detector on the whole frame."""
    img = tmp_path / "wide.png"
    tools.ffmpeg(
        "-i", str(media_dir / "man.png"), "-vf", "scale=-2:340,pad=1920:1080:1300:740:color=0xe6e6e6", str(img)
    )
    r = tools.render(puppet_python, tmp_path / "out.mp4", "--audio", str(clip), "--image", str(img))
    assert r.ok, r.result
    x, y, w, h = r.result["details"]["face_box"]
    assert 1300 < x < x + w < 1300 + 230 and 740 < y < y + h < 1080 and 70 < w < 120


def test_small_face_in_a_large_video_is_tracked(
    tmp_path: Path, clip: Path, tools: Any, puppet_python: Path, media_dir: Path
) -> None:
    video = tmp_path / "wide.mp4"
    tools.ffmpeg(
        "-i",
        str(media_dir / "sun.mp4"),
        "-t",
        str(CLIP_S),
        "-an",
        "-vf",
        "scale=-2:500,pad=1920:1080:1200:580:color=gray",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-crf",
        "20",
        str(video),
    )
    r = tools.render(puppet_python, tmp_path / "out.mp4", "--audio", str(clip), "--video", str(video))
    assert r.ok and not r.result["warnings"], r.result
    x, y, w, h = r.result["details"]["face_box"]
    assert 1200 < x < x + w < 1200 + 376 and 580 < y < y + h < 1080 and 50 < w < 100


def test_frames_without_a_face_are_counted(
    tmp_path: Path, clip: Path, tools: Any, puppet_python: Path, media_dir: Path
) -> None:
    video = tmp_path / "cutaway.mp4"  # 1 s of presenter, 0.6 s cut to a blank card, presenter again
    tools.ffmpeg(
        "-i",
        str(media_dir / "sun.mp4"),
        "-t",
        str(CLIP_S),
        "-an",
        "-vf",
        "drawbox=x=0:y=0:w=iw:h=ih:color=gray:t=fill:enable='between(t,1,1.599)'",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-crf",
        "20",
        str(video),
    )
    r = tools.render(puppet_python, tmp_path / "out.mp4", "--audio", str(clip), "--video", str(video))
    assert r.ok, r.result
    assert any(w.startswith("15 of 75 source frames had no usable face") for w in r.result["warnings"]), r.result


def test_corrupt_chunk_in_a_video_is_recorded(
    tmp_path: Path, clip: Path, tools: Any, puppet_python: Path, media_dir: Path
) -> None:
    clean = tmp_path / "clean.mp4"
    tools.ffmpeg(
        "-i",
        str(media_dir / "sun.mp4"),
        "-t",
        "4",
        "-an",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-g",
        "25",
        "-crf",
        "23",
        str(clean),
    )
    data = bytearray(clean.read_bytes())
    lo, hi = int(len(data) * 0.45), int(len(data) * 0.55)  # the middle of the stream, not the headers
    data[lo:hi] = bytes((i * 151 + 17) % 256 for i in range(hi - lo))
    broken = tmp_path / "corrupt.mp4"
    broken.write_bytes(bytes(data))
    r = tools.render(puppet_python, tmp_path / "out.mp4", "--audio", str(clip), "--video", str(broken))
    assert r.ok, r.result
    assert any("corrupt" in w for w in r.result["warnings"]), r.result["warnings"]
    facts = tools.media_facts(r.output)
    assert abs(facts.duration_s - CLIP_S) <= 0.06 and facts.video_frames == round(CLIP_S * 25)
    # the clean file gives no such warning
    r2 = tools.render(puppet_python, tmp_path / "out2.mp4", "--audio", str(clip), "--video", str(clean))
    assert r2.ok and not r2.result["warnings"], r2.result


def test_audio_longer_than_10_minutes_is_refused(
    tmp_path: Path, tools: Any, puppet_python: Path, media_dir: Path
) -> None:
    long_audio = tmp_path / "long.wav"
    tools.ffmpeg("-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono", "-t", "601", str(long_audio))
    r = tools.render(
        puppet_python, tmp_path / "out.mp4", "--audio", str(long_audio), "--image", str(media_dir / "man.png")
    )
    assert r.returncode == 3 and r.result["error"]["code"] == "BAD_INPUT", r.result
    assert "10 min" in r.result["error"]["message"]
    _no_leftovers(r.output)


def test_broken_timings_file_is_bad_input(
    tmp_path: Path, clip: Path, tools: Any, puppet_python: Path, media_dir: Path
) -> None:
    timings = tmp_path / "timings.json"
    timings.write_text(
        json.dumps(
            {
                "schema_version": 1,
                "duration_s": 3.0,
                "words": [],
                "phonemes": [{"phoneme": "a", "start_s": 1.0, "end_s": 0.5}],
            }
        )
    )
    r = tools.render(
        puppet_python,
        tmp_path / "out.mp4",
        "--audio",
        str(clip),
        "--timings",
        str(timings),
        "--image",
        str(media_dir / "man.png"),
    )
    assert r.returncode == 3 and r.result["error"]["code"] == "BAD_INPUT", r.result
    assert "timings.json" in r.result["error"]["message"] and "phonemes[0]" in r.result["error"]["message"]
    _no_leftovers(r.output)


def test_timings_for_another_audio_fall_back_to_the_audio(
    tmp_path: Path, clip: Path, tools: Any, puppet_python: Path, media_dir: Path
) -> None:
    timings = tmp_path / "timings.json"
    timings.write_text(
        json.dumps(
            {
                "schema_version": 1,
                "duration_s": 20.0,
                "words": [],
                "phonemes": [{"phoneme": "a", "start_s": 0.5, "end_s": 19.0}],
            }
        )
    )
    r = tools.render(
        puppet_python,
        tmp_path / "out.mp4",
        "--audio",
        str(clip),
        "--timings",
        str(timings),
        "--image",
        str(media_dir / "man.png"),
        "--motion",
        "off",
    )
    assert r.ok and r.result["details"]["mouth_driver"] == "audio", r.result
    assert any("timings last 20.00 s" in w for w in r.result["warnings"])


def test_video_with_motion_off_is_animated_as_a_still(
    tmp_path: Path, clip: Path, tools: Any, puppet_python: Path, media_dir: Path
) -> None:
    r = tools.render(
        puppet_python,
        tmp_path / "out.mp4",
        "--audio",
        str(clip),
        "--video",
        str(media_dir / "sun.mp4"),
        "--motion",
        "off",
    )
    assert r.ok and r.result["details"]["source_frames"] == 1, r.result


@pytest.mark.parametrize("source", ["man.png", "sun.mp4"])
def test_max_side_renders_at_the_size_shown(
    source: str, tmp_path: Path, clip: Path, tools: Any, puppet_python: Path, media_dir: Path
) -> None:
    """--max-side scales the source down (aspect kept, even sizes) before the face is found, and the face box is
    given in the output's pixels."""
    flag = "--image" if source.endswith(".png") else "--video"
    r = tools.render(puppet_python, tmp_path / "out.mp4", "--audio", str(clip), flag, str(media_dir / source))
    small = tools.render(
        puppet_python, tmp_path / "small.mp4", "--audio", str(clip), flag, str(media_dir / source), "--max-side", "400"
    )
    assert r.returncode == 0 and small.returncode == 0, (r.result, small.result)
    full, shrunk = tools.media_facts(r.output), tools.media_facts(small.output)
    assert max(shrunk.width, shrunk.height) == 400 and shrunk.width % 2 == 0 and shrunk.height % 2 == 0
    assert abs(shrunk.width / shrunk.height - full.width / full.height) < 0.01
    assert shrunk.video_frames == full.video_frames
    factor = 400 / max(full.width, full.height)
    for a, b in zip(r.result["details"]["face_box"], small.result["details"]["face_box"]):
        assert abs(a * factor - b) <= 6, (r.result["details"]["face_box"], small.result["details"]["face_box"])


@pytest.mark.parametrize("side", ["10", "4000"])
def test_max_side_out_of_range_is_a_usage_error(
    side: str, tmp_path: Path, clip: Path, tools: Any, puppet_python: Path, media_dir: Path
) -> None:
    r = tools.render(
        puppet_python,
        tmp_path / "out.mp4",
        "--audio",
        str(clip),
        "--image",
        str(media_dir / "man.png"),
        "--max-side",
        side,
    )
    assert r.returncode == 2 and "--max-side must be between 64 and 1920" in r.result["error"]["message"]
    _no_leftovers(r.output)


def test_segment_list_on_stdin_after_the_source_is_prepared(
    tmp_path: Path, clip: Path, puppet_python: Path, media_dir: Path
) -> None:
    """``--segments -``: the engine starts and prepares the source first, then reads the clips from stdin (a caller
    starts it while it still makes the audio). Nothing on stdin is bad input, in one line."""
    argv = [str(puppet_python), "-m", "musetalk_wrapper", "--engine", "puppet", "--json-output", "--quiet"]
    argv += ["--image", str(media_dir / "man.png"), "--max-side", "640", "--segments", "-"]
    env, cwd = wrapper_environ(), repo_root()
    listing = {
        "segments": [
            {"audio": str(clip), "output": str(tmp_path / f"c{i}.mp4"), "start_s": i * 1000.0} for i in range(2)
        ]
    }
    proc = subprocess.run(
        argv, input=json.dumps(listing), capture_output=True, text=True, env=env, cwd=cwd, timeout=300
    )
    answer = json.loads(proc.stdout)
    assert proc.returncode == 0 and answer["success"], answer
    assert [s["details"]["source_reused"] for s in answer["segments"]] == [True, True]  # prepared before the list
    assert all((tmp_path / f"c{i}.mp4").is_file() for i in range(2))
    empty = subprocess.run(argv, input="", capture_output=True, text=True, env=env, cwd=cwd, timeout=300)
    error = json.loads(empty.stdout)["error"]
    assert empty.returncode == 3 and error["code"] == "BAD_INPUT" and "segment list on stdin" in error["message"]
