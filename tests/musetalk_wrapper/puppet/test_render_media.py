"""Real renders on the shared presenter media, judged by ``python -m musetalk_wrapper.sync_eval`` (what ``presgen
eval sync`` runs): in sync with the speech, the mouth at rest in pauses (a photo's own resting mouth), opening as
wide as real speech, natural blinks on photos, the face above the nose untouched; output as the contract says."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from helpers import REPO

pytestmark = [pytest.mark.slow, pytest.mark.puppet_env]

MIN_CORRELATION = 0.75  # at |lag| <= 1 frame
MIN_CLOSED_SHARE = 0.9
OPENING_P95 = (0.15, 0.25)  # inner-lip opening / outer eye-corner distance, as real speakers
BLINKS_PER_MIN = (10.0, 20.0)
MIN_UPPER_PSNR_DB = 35.0
RESULT_SCHEMA = json.loads((REPO / "musetalk_wrapper" / "result.schema.json").read_text())
KEPT = (
    "correlation",
    "lag_frames",
    "correlation_near",
    "closed_share",
    "silent_frames",
    "opening_p95",
    "blinks_per_min",
    "blink_frames",
    "upper_psnr_db",
    "frames",
)


def _measure(
    tools: Any, puppet_python: Path, renders: Any, name: str, sync_report: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    r = renders[name]
    assert r.ok, r.result
    code, m = tools.sync_eval(puppet_python, r.output, "--source", str(renders.source(name)))
    assert code == 0 and m["success"], m
    sync_report[name] = {k: m[k] for k in KEPT}
    if "mouth_bank" in r.result["details"]:
        sync_report[name]["bank_frames"] = r.result["details"]["mouth_bank"]["frames"]
    return m


@pytest.mark.parametrize("name", ["sun", "yongen", "man", "sit", "talking", "sun-timings", "man-timings-motion"])
def test_the_presenter_talks_in_sync(
    name: str, tools: Any, puppet_python: Path, renders: Any, sync_report: dict[str, dict[str, Any]]
) -> None:
    m = _measure(tools, puppet_python, renders, name, sync_report)
    assert m["correlation_near"] >= MIN_CORRELATION, m
    assert abs(m["lag_frames"]) <= 1, m
    assert m["silent_frames"] >= 10 and m["closed_share"] >= MIN_CLOSED_SHARE, m
    assert OPENING_P95[0] <= m["opening_p95"] <= OPENING_P95[1], m
    flag, _, extra, _ = tools.render_cases[name]
    if flag == "--video" or "off" in extra:  # the face above the nose is the source's
        assert m["upper_psnr_db"] >= MIN_UPPER_PSNR_DB, m
    else:  # a photo with motion: it blinks naturally, and sways, so the upper face differs from the photo
        assert BLINKS_PER_MIN[0] <= m["blinks_per_min"] <= BLINKS_PER_MIN[1], m
        assert m["upper_psnr_db"] < 32.0, m
    if name.endswith("timings"):
        assert renders[name].result["details"]["mouth_driver"] == "timings"


def test_a_talking_presenter_video_lends_its_own_mouths(renders: Any) -> None:
    """A source video whose mouth moves fills the bank; the result says which output frames used it."""
    talking, still = renders["talking"].result["details"], renders["sun"].result["details"]
    bank = talking["mouth_bank"]
    assert bank["entries"] >= 8 and bank["frames"] >= 30, bank
    assert sum(b - a for a, b in bank["runs"]) == bank["frames"]
    assert all(0 <= a < b <= renders["talking"].result["frames"] for a, b in bank["runs"])
    assert still["mouth_bank"]["entries"] >= 1  # sun smiles the whole time: few shapes to lend


@pytest.mark.parametrize(
    "name, width, height, source_frames",
    [("sun", 576, 768, 300), ("yongen", 704, 1216, 268), ("man", 1024, 1536, 1), ("sit", 450, 674, 1)],
)
def test_output_matches_the_contract(
    name: str, width: int, height: int, source_frames: int, renders: Any, speech: Path, tools: Any
) -> None:
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
    assert x >= 0 and y >= 0 and x + w <= width and y + h <= height
    assert 48 <= w <= width and 48 <= h <= height
    assert {"audio", "track", "render", "encode", "total"} <= set(r.result["timings_s"])
    assert not list(r.output.parent.glob("*.partial.mp4"))
