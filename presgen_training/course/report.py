"""What a course run leaves beside its videos: ``course.manifest.json`` (for machines) and the summary table (for
people). Paths in the manifest are relative to the course output folder, so the folder can be moved or published."""

from __future__ import annotations

import datetime
import os
from pathlib import Path
from typing import Any

from presgen_training import __version__
from presgen_training.course.outputs import chapters
from presgen_training.course.runner import CourseRun, VariantRun
from presgen_training.files import sha256_file
from presgen_training.manifest import manifest_path_for, write_json_atomic

COURSE_MANIFEST = "course.manifest.json"
COURSE_MANIFEST_VERSION = 1


def course_manifest(run: CourseRun, cpu_s: float | None = None) -> dict[str, Any]:
    course = run.course
    variants = [_variant_entry(course.output, r) for r in run.runs]
    counts: dict[str, int] = {}
    for entry in variants:
        counts[entry["status"]] = counts.get(entry["status"], 0) + 1
    backend = run.backend
    remote_cpu = sum(j.get("cpu_s", 0.0) for r in run.runs for j in r.jobs) if not backend.shared else 0.0
    return {
        "course_manifest_version": COURSE_MANIFEST_VERSION,
        "presgen_version": __version__,
        "course": {"file": str(course.path), "sha256": sha256_file(course.path), "title": course.title},
        "output": str(course.output),
        "backend": {"name": backend.name, "workers": backend.heavy_slots},
        "written_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "wall_s": round(run.wall_s or 0.0, 3),
        "cpu_s": round((cpu_s or 0.0) + remote_cpu, 3) if cpu_s is not None else None,
        "counts": counts,
        "variants": variants,
    }


def write_course_manifest(run: CourseRun, cpu_s: float | None = None) -> Path:
    path = run.course.output / COURSE_MANIFEST
    write_json_atomic(path, course_manifest(run, cpu_s))
    return path


def _variant_entry(root: Path, run: VariantRun) -> dict[str, Any]:
    variant = run.variant
    m = run.manifest or {}
    entry: dict[str, Any] = {
        "name": variant.name,
        "module": variant.module.name,
        "title": variant.module.title or m.get("script", {}).get("title") or variant.module.name,
        "choices": {c.axis: c.name for c in variant.choices},
        "status": run.status,
        "reason": run.reason,
        "retries": run.retries,
        "seconds": round(run.ended - run.started, 3) if run.started is not None and run.ended is not None else None,
    }
    if run.status not in ("done", "unchanged") or not m:
        return entry
    out = run.out
    segments = m.get("segments", [])  # the video's windows: sections (presenter + overlay clip) and cards
    flags = [bool(s.get(k)) for s in segments for k in ("avatar_cached", "overlay_cached") if k in s]
    attempts = m.get("avatar", {}).get("attempts", [])
    auto = m.get("options", {}).get("avatar", {}).get("choice") == "auto"  # auto skipping an engine is no fallback
    entry.update(
        {
            "folder": _rel(out.parent, root),
            "video": _rel(out, root),
            "manifest": _rel(manifest_path_for(out), root),
            "thumbnail": _rel(out.with_suffix(".frame.png"), root),  # a frame of the video
            "poster": _rel(
                Path(m["output"]["thumbnail"])
                if Path(m["output"].get("thumbnail") or "").is_file()
                else out.with_suffix(".frame.png"),
                root,
            ),  # the render's title card, when it made one
            "chapters_file": _rel(out.with_suffix(".chapters.vtt"), root),
            "captions": {
                ext: _rel(out.with_suffix(f".{ext}"), root)
                for ext in ("vtt", "srt")
                if out.with_suffix(f".{ext}").exists()
            },
            "duration_s": m["output"]["duration_s"],
            "engine": m.get("avatar", {}).get("engine"),
            "voice": m.get("narration", {}).get("engine"),
            "fallbacks": [
                f"{a['engine']} {a['outcome']}"
                for a in attempts
                if a.get("outcome") == "failed" or (a.get("outcome") == "skipped" and not auto)
            ],
            "segments": sum(1 for s in segments if s.get("index") is not None),
            "cached_share": 1.0 if run.status == "unchanged" else round(sum(flags) / max(1, len(flags)), 3),
            "chapters": chapters(m),
        }
    )
    return entry


def _rel(path: Path, root: Path) -> str:
    return Path(os.path.relpath(path, root)).as_posix()


def summary_table(manifest: dict[str, Any]) -> str:
    """One line per video: module, duration, engine, fallbacks, seconds, cached share, status."""
    header = ("video", "duration", "engine", "fallbacks", "seconds", "cached", "status")
    rows = [header]
    for v in manifest["variants"]:
        ok = v["status"] in ("done", "unchanged")
        rows.append(
            (
                v["name"],
                f"{v['duration_s']:.1f} s" if ok else "-",
                (v.get("engine") or "-") if ok else "-",
                ", ".join(v.get("fallbacks") or []) or "-",
                f"{v['seconds']:.1f}" if v.get("seconds") is not None else "-",
                f"{100 * v['cached_share']:.0f}%" if ok else "-",
                v["status"] + (f": {v['reason']}" if v.get("reason") else ""),
            )
        )
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(header) - 1)]
    lines = ["  ".join(str(cell).ljust(w) for cell, w in zip(row[:-1], widths)) + "  " + row[-1] for row in rows]
    total = (
        f"{len(manifest['variants'])} videos in {manifest['wall_s']:.1f} s on {manifest['backend']['name']}"
        f" ({manifest['backend']['workers']} workers)"
    )
    if manifest.get("cpu_s") is not None:
        total += f", {manifest['cpu_s']:.1f} CPU s"
    counts = ", ".join(f"{n} {status}" for status, n in sorted(manifest["counts"].items()))
    return "\n".join([*lines, f"{total}: {counts}"])
