"""Build a slide deck with python-pptx: the demo deck (``make demo-deck``), and the decks tests and benches use.

python examples/demo_deck.py out/demo-deck.pptx
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw
from pptx import Presentation
from pptx.util import Emu, Inches, Pt

WIDE = (Inches(13.333), Inches(7.5))  # PowerPoint's 16:9
STANDARD = (Inches(10), Inches(7.5))  # 4:3
LAYOUT_TITLE, LAYOUT_CONTENT, LAYOUT_TITLE_ONLY = 0, 1, 5  # slide layouts of python-pptx's default template


@dataclass
class SlideSpec:
    title: str
    notes: str = ""
    bullets: list[str] = field(default_factory=list)
    subtitle: str = ""  # makes it a title slide
    image: Path | None = None  # a picture on the right half
    table: list[list[str]] = field(default_factory=list)  # rows of cells
    hidden: bool = False


def build_deck(path: Path, slides: list[SlideSpec], size: tuple[int, int] = WIDE) -> Path:
    prs = Presentation()
    prs.slide_width, prs.slide_height = Emu(size[0]), Emu(size[1])
    width, height = size
    margin = Inches(0.6)
    for spec in slides:
        if spec.subtitle:
            slide = prs.slides.add_slide(prs.slide_layouts[LAYOUT_TITLE])
            slide.placeholders[1].text = spec.subtitle
        elif spec.bullets and not spec.image:
            slide = prs.slides.add_slide(prs.slide_layouts[LAYOUT_CONTENT])
            body = slide.placeholders[1]
            body.left, body.top, body.width = margin, Inches(1.8), width - 2 * margin
            body.text_frame.text = spec.bullets[0]
            for bullet in spec.bullets[1:]:
                body.text_frame.add_paragraph().text = bullet
        else:
            slide = prs.slides.add_slide(prs.slide_layouts[LAYOUT_TITLE_ONLY])
        title = slide.shapes.title
        title.text = spec.title
        if not spec.subtitle:
            title.left, title.top, title.width, title.height = margin, Inches(0.4), width - 2 * margin, Inches(1.2)
        if spec.image is not None:
            if spec.bullets:
                box = slide.shapes.add_textbox(margin, Inches(1.8), width // 2 - margin, height - Inches(2.4))
                box.text_frame.word_wrap = True
                box.text_frame.text = spec.bullets[0]
                for bullet in spec.bullets[1:]:
                    box.text_frame.add_paragraph().text = bullet
                for paragraph in box.text_frame.paragraphs:
                    paragraph.runs[0].font.size = Pt(24)
            slide.shapes.add_picture(str(spec.image), width // 2, Inches(1.8), height=height - Inches(2.6))
        if spec.table:
            rows, cols = len(spec.table), len(spec.table[0])
            shape = slide.shapes.add_table(rows, cols, margin, Inches(1.9), width - 2 * margin, Inches(0.6) * rows)
            for r, row in enumerate(spec.table):
                for c, text in enumerate(row):
                    shape.table.cell(r, c).text = text
        if spec.notes:
            slide.notes_slide.notes_text_frame.text = spec.notes
        if spec.hidden:
            slide._element.set("show", "0")
    path.parent.mkdir(parents=True, exist_ok=True)
    prs.save(str(path))
    return path


def chart_picture(path: Path, values: tuple[int, ...] = (3, 5, 4, 7)) -> Path:
    """A bar chart drawn with Pillow (an image for a slide or a script section)."""
    image = Image.new("RGB", (800, 600), (248, 250, 252))
    draw = ImageDraw.Draw(image)
    bar_w = 800 // (2 * len(values) + 1)
    for i, value in enumerate(values):
        x = bar_w * (2 * i + 1)
        draw.rectangle((x, 560 - value * 70, x + bar_w, 560), fill=(37, 99, 235))
    draw.line((40, 560, 760, 560), fill=(15, 23, 42), width=4)
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path


def demo_slides(folder: Path) -> list[SlideSpec]:
    chart = chart_picture(folder / "demo-chart.png")
    return [
        SlideSpec(
            "Spotting Phishing Emails",
            subtitle="A two-minute security refresher",
            notes="Welcome. In the next two minutes you will learn to spot a phishing email before it "
            "costs you anything.",
        ),
        SlideSpec(
            "Check the sender",
            bullets=["Read the full address", "Watch for look-alike domains", "Odd address? Do not reply"],
            notes="First, check the sender. Read the full address, not just the display name, and watch "
            "for look-alike domains.",
        ),
        SlideSpec(
            "Reports are rising",
            bullets=["Reports doubled this year", "Most arrive on Mondays"],
            image=chart,
            notes="Reports have doubled this year, and most of them arrive on Mondays.",
        ),
        SlideSpec(
            "What to do",
            table=[
                ["Situation", "Action"],
                ["Odd sender", "Do not reply"],
                ["Unexpected link", "Hover first"],
                ["Suspicious mail", "Report it"],
            ],
            notes="Here is what to do in each case. When in doubt, report the message to the security team.",
        ),
    ]


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not argv[0].endswith(".pptx"):
        print("usage: python examples/demo_deck.py OUT.pptx", file=sys.stderr)
        return 2
    out = Path(argv[0])
    build_deck(out, demo_slides(out.parent))
    print(out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
