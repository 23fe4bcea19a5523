"""Deck benchmark: a 10-slide deck (python-pptx) with 65 s of speaker notes, rendered at 1280x720.

Prints the deck conversion time (LibreOffice -> PDF -> 10 slide pictures at 720p) with an empty cache and again
with the cache filled, and the whole-render time of layout ``slides`` against layout ``side`` (same deck, same
narration, static presenter video). Target on a 2-core machine: slides <= 1.3x side. Needs ``make deck-tools``.

    .venv/bin/python bench/deck.py [--engine static|puppet] [--source VIDEO_OR_PHOTO]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "examples"))

from demo_deck import SlideSpec, build_deck, chart_picture  # noqa: E402

from presgen_training.avatar.chain import AvatarSettings  # noqa: E402
from presgen_training.deck import DeckPictures, read_deck  # noqa: E402
from presgen_training.deck.tools import INSTALL_COMMAND, missing  # noqa: E402
from presgen_training.pipeline import LookOptions, RenderOptions, render  # noqa: E402
from presgen_training.progress import StageReporter  # noqa: E402

MAX_RATIO = 1.3  # slides may cost at most this much more than side
NOTES = [  # ~18 words each: ~65 s of narration with piper's default voice
    "Welcome to this short security module. In ten slides you will learn the habits that stop most attacks.",
    "Phishing is the most common way in. One careless click can leak passwords, customer data or money. "
    "It happens every day.",
    "First, check the sender. Read the full address, not just the display name, before you reply.",
    "Attackers register look-alike domains, such as a zero in place of the letter o. Look twice.",
    "Second, pause before you click. Hover over every link to see where it really goes. Take a breath, and look again.",
    "Urgent requests are a red flag, like an invoice that must be paid today by a new account. Call the "
    "sender to check.",
    "Never open attachments you did not expect, even when they seem to come from a colleague.",
    "Third, report anything suspicious with the Report Phishing button, or forward it to security. "
    "They will thank you for it.",
    "Reports have doubled this year, and every report helps the team protect all of us.",
    "Thank you for taking the time. Reporting takes ten seconds and keeps our company safe.",
]


def bench_deck(folder: Path) -> Path:
    chart = chart_picture(folder / "chart.png")
    slides = []
    for i, notes in enumerate(NOTES):
        title = notes.split(".")[0][:40]
        if i == 0:
            slides.append(SlideSpec(title, subtitle="Security basics", notes=notes))
        elif i % 3 == 2:
            slides.append(SlideSpec(title, bullets=["Key point one", "Key point two"], image=chart, notes=notes))
        elif i % 3 == 1:
            slides.append(
                SlideSpec(
                    title,
                    table=[["Sign", "Action"], ["Odd sender", "Do not reply"], ["Urgent invoice", "Call to check"]],
                    notes=notes,
                )
            )
        else:
            slides.append(SlideSpec(title, bullets=[s.strip() for s in notes.split(",")][:3], notes=notes))
    return build_deck(folder / "security-10.pptx", slides)


def conversion(deck_path: Path, cache: Path) -> float:
    started = time.monotonic()
    deck = read_deck(deck_path)
    pictures = DeckPictures(deck, root=cache)
    for slide in deck.visible():
        pictures.picture(slide.number, (1280, 720))
    pictures.text_boxes(1)
    return round(time.monotonic() - started, 2)


def render_once(deck: Path, source: Path, layout: str, engine: str, folder: Path) -> dict:
    out = folder / f"{layout}.mp4"
    started = time.monotonic()
    report = render(
        RenderOptions(
            script=None,
            source=source,
            out=out,
            quality="standard",
            layout=layout,
            captions="off",
            avatar=AvatarSettings(choice=engine),
            look=LookOptions(deck=deck, chapters=True),
        ),
        StageReporter(enabled=False),
    )
    total = time.monotonic() - started
    m = report.manifest
    return {
        "layout": layout,
        "total_s": round(total, 2),
        "stages_s": m["stages_s"],
        "narration_s": m["narration"]["duration_s"],
        "engine": m["avatar"]["engine"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", default="static", choices=["static", "puppet"])
    parser.add_argument(
        "--source",
        type=Path,
        default=None,
        help="presenter video or photo (default: sun.mp4 from $PRESGEN_TEST_MEDIA, else a photo from scikit-image)",
    )
    args = parser.parse_args()
    if lacking := missing():
        print(f"bench: {', '.join(t.name for t in lacking)} missing; install with: {INSTALL_COMMAND}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="presgen-bench-deck-") as tmp:
        folder = Path(tmp)
        os.environ["PRESGEN_CACHE_DIR"] = str(folder / "cache")
        source = args.source
        if source is None:
            media = os.environ.get("PRESGEN_TEST_MEDIA")
            if media and (Path(media) / "sun.mp4").is_file():
                source = Path(media) / "sun.mp4"
            else:
                from PIL import Image
                from skimage import data

                source = folder / "astronaut.png"
                Image.fromarray(data.astronaut()).save(source)
        deck = bench_deck(folder)
        first = conversion(deck, folder / "conversion")
        cached = conversion(deck, folder / "conversion")
        render_once(deck, source, "side", args.engine, folder)  # warm-up: narration and deck caches filled
        runs = [render_once(deck, source, layout, args.engine, folder) for layout in ("side", "slides")]
        side, slides = runs
        ratio = slides["total_s"] / side["total_s"]
        overlay_ratio = slides["stages_s"]["overlay"] / side["stages_s"]["overlay"]
        result = {
            "slides": len(NOTES),
            "narration_s": side["narration_s"],
            "engine": side["engine"],
            "conversion_first_s": first,
            "conversion_cached_s": cached,
            "runs": runs,
            "slides_vs_side": round(ratio, 3),
            "overlay_slides_vs_side": round(overlay_ratio, 3),
            "target_max_ratio": MAX_RATIO,
            "ok": ratio <= MAX_RATIO,
        }
    print(json.dumps(result, indent=2))
    print(
        f"conversion: {first:.1f} s first, {cached:.2f} s cached; render {side['narration_s']:.0f} s at 720p: "
        f"side {side['total_s']:.1f} s, slides {slides['total_s']:.1f} s ({ratio:.2f}x, target <= {MAX_RATIO}x; "
        f"overlay stage {overlay_ratio:.2f}x)",
        file=sys.stderr,
    )
    return 0 if ratio <= MAX_RATIO else 1


if __name__ == "__main__":
    raise SystemExit(main())
