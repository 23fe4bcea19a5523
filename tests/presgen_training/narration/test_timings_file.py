"""The --timings file the avatar engine reads: valid against the wrapper's schema file, same times as the
narration."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from presgen_training.narration import write_timings_json
from presgen_training.timeline import Narration

SCHEMA = Path(__file__).resolve().parents[3] / "musetalk_wrapper" / "timings.schema.json"


def test_timings_file_is_valid_and_faithful(demo_narration: Narration, tmp_path: Path) -> None:
    path = tmp_path / "timings.json"
    write_timings_json(demo_narration, path)
    document = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.validate(document, json.loads(SCHEMA.read_text(encoding="utf-8")))
    assert document["schema_version"] == 1
    assert abs(document["duration_s"] - demo_narration.duration_s) < 1e-3
    assert [w["text"] for w in document["words"]] == [w.text for w in demo_narration.words]
    assert len(document["phonemes"]) == len(demo_narration.phonemes) > 0
    assert " " not in {p["phoneme"] for p in document["phonemes"]}
    ends = [p["end_s"] for p in document["phonemes"]]
    starts = [p["start_s"] for p in document["phonemes"]]
    assert all(a <= b + 1e-4 for a, b in zip(ends, starts[1:])) and ends[-1] <= document["duration_s"]
    assert [s["title"] for s in document["sections"]] == [s.section.title for s in demo_narration.sections]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["timings.json"]
