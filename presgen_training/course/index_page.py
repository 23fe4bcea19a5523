"""``index.html``: one static page for the whole course (no server, relative links, opens from the file system):
a contents list with thumbnails and durations, then every module with a player per variant, its captions and
chapters (click one to jump there). Written from the course manifest."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from presgen_training.files import atomic_output

INDEX = "index.html"

STYLE = """
body{font-family:system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:1.5rem;background:#f8fafc;color:#0f172a}
h1{margin:.2rem 0}.meta{color:#475569}ol.toc{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:1rem}
ol.toc li{width:200px}ol.toc img{width:200px;border-radius:6px;display:block}
section.module{background:#fff;border-radius:10px;padding:1rem 1.2rem;margin:1.2rem 0;box-shadow:0 1px 3px #0002}
.variants{display:flex;flex-wrap:wrap;gap:1.2rem}.variant{flex:1 1 440px;max-width:760px}
video{width:100%;border-radius:6px;background:#000}.choices{color:#475569;font-size:.9rem}
ol.chapters{padding-left:1.2rem}ol.chapters a{color:#0369a1;text-decoration:none}
.failed{color:#b91c1c}
"""

SCRIPT = """
document.querySelectorAll('a[data-seek]').forEach(function (a) {
  a.addEventListener('click', function (e) {
    e.preventDefault();
    var v = document.getElementById(a.dataset.video);
    v.currentTime = parseFloat(a.dataset.seek);
    v.play();
  });
});
document.querySelectorAll('video').forEach(function (v) {
  v.addEventListener('loadedmetadata', function () { v.dataset.loadedDuration = v.duration.toFixed(2); });
  v.addEventListener('error', function () { v.dataset.loadError = String(v.error && v.error.code); });
});
"""


def write_index(manifest: dict[str, Any], folder: Path) -> Path:
    path = folder / INDEX
    with atomic_output(path) as tmp:
        tmp.write_text(render_index(manifest), encoding="utf-8")
    return path


def render_index(manifest: dict[str, Any]) -> str:
    title = escape(manifest["course"]["title"])
    modules: dict[str, list[dict[str, Any]]] = {}
    for variant in manifest["variants"]:
        modules.setdefault(variant["module"], []).append(variant)
    counts = ", ".join(f"{n} {status}" for status, n in sorted(manifest["counts"].items()))
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title}</title><style>{STYLE}</style></head><body>",
        f"<h1>{title}</h1>",
        f'<p class="meta">{len(modules)} modules, {len(manifest["variants"])} videos ({escape(counts)}); '
        f"made by PresGen {escape(manifest['presgen_version'])} on {escape(manifest['written_at'])}</p>",
        '<ol class="toc">',
        *(_toc_entry(name, variants) for name, variants in modules.items()),
        "</ol>",
        *(_module(name, variants) for name, variants in modules.items()),
        f"<script>{SCRIPT}</script></body></html>",
    ]
    return "\n".join(parts) + "\n"


def _toc_entry(module: str, variants: list[dict[str, Any]]) -> str:
    first = next((v for v in variants if v.get("video")), None)
    title = escape(variants[0]["title"])
    if first is None:
        return f'<li><a href="#m-{escape(module)}">{title}</a> <span class="failed">(failed)</span></li>'
    return (
        f'<li><a href="#m-{escape(module)}"><img src="{escape(first["thumbnail"])}" alt=""'
        f' loading="lazy">{title}</a> <span class="meta">{_clock(first["duration_s"])}</span></li>'
    )


def _module(module: str, variants: list[dict[str, Any]]) -> str:
    title = escape(variants[0]["title"])
    cards = "\n".join(_variant(v) for v in variants)
    return (
        f'<section class="module" id="m-{escape(module)}" data-module="{escape(module)}">'
        f'<h2>{title}</h2><div class="variants">{cards}</div></section>'
    )


def _variant(v: dict[str, Any]) -> str:
    choices = " · ".join(
        f"{escape(axis.rstrip('s'))}: {escape(name)}" for axis, name in v["choices"].items() if name != "default"
    )
    head = f'<p class="choices">{choices}</p>' if choices else ""
    if not v.get("video"):
        return (
            f'<div class="variant" data-variant="{escape(v["name"])}">{head}'
            f'<p class="failed">{escape(v["status"])}: {escape(v.get("reason") or "no video")}</p></div>'
        )
    vid = "v-" + escape(v["name"])
    tracks = f'<track kind="chapters" src="{escape(v["chapters_file"])}" srclang="en" label="Chapters">'
    if "vtt" in v.get("captions", {}):
        tracks += f'<track kind="captions" src="{escape(v["captions"]["vtt"])}" srclang="en" label="Captions">'
    chapters = "".join(
        f'<li><a href="#{vid}" data-video="{vid}" data-seek="{c["start_s"]}">{escape(c["title"])}</a>'
        f' <span class="meta">{_clock(c["start_s"])}</span></li>'
        for c in v["chapters"]
    )
    return (
        f'<div class="variant" data-variant="{escape(v["name"])}">{head}'
        f'<video id="{vid}" controls preload="metadata" poster="{escape(v["poster"])}"'
        f' data-expected-duration="{v["duration_s"]:.2f}">'
        f'<source src="{escape(v["video"])}" type="video/mp4">{tracks}</video>'
        f'<p class="meta">{_clock(v["duration_s"])} · presenter engine {escape(str(v.get("engine")))} · '
        f'<a href="{escape(v["video"])}" download>MP4</a> · <a href="{escape(v["manifest"])}">manifest</a></p>'
        f'<ol class="chapters">{chapters}</ol></div>'
    )


def _clock(seconds: float) -> str:
    total = round(seconds)
    return f"{total // 60}:{total % 60:02d}"
