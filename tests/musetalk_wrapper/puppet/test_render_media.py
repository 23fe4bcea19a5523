"""Real renders on the shared presenter media: in sync with the speech, mouth closed in pauses, the face above
the nose untouched, output format as the contract says."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from helpers import REPO

pytestmark = [pytest.mark.slow, pytest.mark.puppet_env]

MIN_CORRELATION = 0.6
MAX_LAG_FRAMES = 1
MIN_CLOSED_SHARE = 0.9
MIN_UPPER_PSNR_DB = 35.0
RESULT_SCHEMA = json.loads((REPO / "musetalk_wrapper" / "result.schema.json").read_text())


def _measure(tools: Any, puppet_python: Path, renders: Any, media_dir: Path, name: str,
             sync_report: dict[str, dict[str, Any]]) -> dict[str, Any]:
    r = renders[name]
    assert r.ok, r.result
    source = media_dir / tools.render_cases[name][1]
    code, m = tools.sync_eval(puppet_python, r.output, "--source", str(source))
    assert code == 0 and m["success"], m
    sync_report[name] = {k: m[k] for k in ("correlation", "lag_frames", "closed_share", "silent_frames",
                                           "upper_psnr_db", "frames")}
    return m


@pytest.mark.parametrize("name", ["sun", "yongen", "man"])
def test_speech_render_follows_the_audio_and_keeps_the_upper_face(
        name: str, tools: Any, puppet_python: Path, renders: Any, media_dir: Path, speech: Path,
        sync_report: dict[str, dict[str, Any]]) -> None:
    m = _measure(tools, puppet_python, renders, media_dir, name, sync_report)
    assert m["correlation"] >= MIN_CORRELATION, m
    assert abs(m["lag_frames"]) <= MAX_LAG_FRAMES, m
    assert m["silent_frames"] >= 20 and m["closed_share"] >= MIN_CLOSED_SHARE, m
    assert m["upper_psnr_db"] >= MIN_UPPER_PSNR_DB, m


@pytest.mark.parametrize("name", ["sun-timings", "man-timings-motion"])
def test_narration_with_timings_follows_the_phonemes(
        name: str, tools: Any, puppet_python: Path, renders: Any, media_dir: Path,
        sync_report: dict[str, dict[str, Any]]) -> None:
    r = renders[name]
    assert r.ok and r.result["details"]["mouth_driver"] == "timings", r.result
    m = _measure(tools, puppet_python, renders, media_dir, name, sync_report)
    assert m["correlation"] >= MIN_CORRELATION, m
    assert abs(m["lag_frames"]) <= MAX_LAG_FRAMES, m
    assert m["silent_frames"] >= 10 and m["closed_share"] >= MIN_CLOSED_SHARE, m
    if name == "sun-timings":  # a video keeps its own motion, so the face above the nose is the source's
        assert m["upper_psnr_db"] >= MIN_UPPER_PSNR_DB, m
    else:  # a photo with motion on sways and blinks: the upper face must move
        assert m["upper_psnr_db"] < 30.0, m


@pytest.mark.parametrize("name, width, height, source_frames", [
    ("sun", 576, 768, 300), ("yongen", 704, 1216, 268), ("man", 1024, 1536, 1)])
def test_output_matches_the_contract(name: str, width: int, height: int, source_frames: int, renders: Any,
                                     speech: Path, tools: Any) -> None:
    r = renders[name]
    assert r.ok, r.result
    jsonschema.validate(r.result, RESULT_SCHEMA)
    assert "Traceback" not in r.stderr
    facts = tools.media_facts(r.output)
    audio = tools.media_facts(speech)
    assert (facts.width, facts.height) == (width, height)
    assert facts.fps == 25.0 and facts.has_audio
    assert abs(facts.duration_s - audio.duration_s) <= 0.06, (facts, audio)
    assert facts.video_frames == r.result["frames"] == round(audio.duration_s * 25)
    # yongen (268 frames) is shorter than the speech: it plays back and forth rather than freezing
    assert r.result["details"]["source_frames"] == source_frames
    x, y, w, h = r.result["details"]["face_box"]
    assert 0 <= x and 0 <= y and x + w <= width and y + h <= height
    assert 48 <= w <= width and 48 <= h <= height
    assert {"audio", "track", "mouth", "render", "encode", "total"} <= set(r.result["timings_s"])
    assert not list(r.output.parent.glob("*.partial.mp4"))
