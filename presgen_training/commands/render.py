"""``presgen render``: the whole pipeline, from a script and a presenter photo or video to a finished MP4."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from presgen_training import engines
from presgen_training.avatar.chain import AvatarSettings
from presgen_training.commands.options import add_command, add_switches
from presgen_training.config import load_config
from presgen_training.errors import UsageError
from presgen_training.executors import Threads
from presgen_training.narration.voice import TTS_CHOICES
from presgen_training.overlay.config import ASPECTS, CAPTION_MODES, INTRO_MODES, LAYOUTS, PIP_CORNERS, QUALITY_SIZES
from presgen_training.overlay.themes import BUILT_IN as BUILT_IN_THEMES
from presgen_training.pipeline import LookOptions, RenderOptions, render
from presgen_training.progress import StageReporter
from presgen_training.records import by_name

SUMMARY = "script + presenter photo/video -> presenter video"
DESCRIPTION = (
    "Render a presenter video: narration from the script, a talking presenter, "
    "and title cards, bullets and captions timed to the narration."
)
EXAMPLES = """examples:
  presgen render --script talk.yaml --source-image me.jpg --out talk.mp4
  presgen render --script talk.md --source-video me.mp4 --out talk.mp4 --layout overlay --captions burn
  python -m presgen_training --script talk.txt --source-video me.mp4 --quality standard --out talk.mp4
  presgen render --deck talk.pptx --source-video me.mp4 --layout slides --out talk.mp4
  presgen render --deck talk.pdf --narrate-slide-text --source-image me.jpg --aspect 9:16 --out short.mp4

The script is YAML (title, voice, language, rate, lexicon, sections: [{title, narration, bullets}]), Markdown
(# heading per section, '- ' bullets, paragraphs are narration) or plain text (one section per paragraph).
Narration may hold pauses: [pause 1.5s] or <break time="500ms"/>.
A deck (.pptx, .odp, .pdf) gives one section per slide, narrated from its speaker notes; a YAML/Markdown script
can name one (deck: talk.pptx) and pick slides per section (slide: 3). Decks need: make deck-tools.
Beside the video: NAME.manifest.json (inputs, stages, engine attempts), NAME.chapters.vtt and NAME.thumbnail.png,
and NAME.srt / NAME.vtt unless --captions off.
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = add_command(sub, "render", SUMMARY, DESCRIPTION, EXAMPLES)
    p.add_argument("--script", type=Path, default=None, help="script file (.yaml, .md or .txt)")
    p.add_argument(
        "--deck",
        type=Path,
        default=None,
        help="slide deck (.pptx, .odp, .pdf): one section per slide, narrated from its speaker notes",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--source-image", type=Path, metavar="IMAGE", help="a photo of the presenter")
    src.add_argument(
        "--source-video", type=Path, metavar="VIDEO", help="a video of the presenter (looped back and forth)"
    )
    p.add_argument("--out", type=Path, default=None, help="output .mp4 (default: out/<script name>.mp4)")
    p.add_argument(
        "--quality",
        choices=tuple(QUALITY_SIZES),
        default="standard",
        help="fast 854x480, standard 1280x720, high 1920x1080 (default: %(default)s)",
    )
    p.add_argument(
        "--layout",
        choices=[*LAYOUTS, "auto"],
        default="auto",
        help="side: presenter beside a bullet panel; overlay: lower-third card over the presenter; "
        "slides: the slide fills the frame, the presenter in a corner (default auto: slides with "
        "a deck, else side)",
    )
    p.add_argument(
        "--captions",
        choices=CAPTION_MODES,
        default="sidecar",
        help="burn: drawn into the video (and .srt/.vtt beside it); sidecar: only .srt/.vtt beside it; "
        "off (default: %(default)s)",
    )
    p.add_argument(
        "--tts",
        choices=TTS_CHOICES,
        default=None,
        help="voice engine: auto (default: piper, else espeak-ng), piper (offline neural), gtts (online), "
        "espeak-ng; an engine named here that cannot speak is an error (unless --fallback)",
    )
    p.add_argument(
        "--voice", default=None, help="voice name (see: presgen voices), e.g. joe, or a piper .onnx model path"
    )
    p.add_argument(
        "--rate",
        type=float,
        default=None,
        metavar="FACTOR",
        help="speaking rate: 1 is the narration pace (~155 words/min), 0.5 to 2 (default: the script's 'rate', else 1)",
    )
    p.add_argument(
        "--lexicon",
        type=Path,
        default=None,
        metavar="YAML",
        help="pronunciations: a YAML mapping of word: respelling or word: /IPA/ (the script's own "
        "'lexicon' entries win)",
    )
    p.add_argument(
        "--pause", type=float, default=0.8, metavar="SECONDS", help="silence between sections (default: 0.8)"
    )
    d = p.add_argument_group("slides and look")
    d.add_argument(
        "--narrate-slide-text",
        action="store_true",
        help="slides without speaker notes are read from their own text (default: skipped, with a warning)",
    )
    d.add_argument("--slides", default=None, metavar="RANGE", help="which slides of --deck, e.g. 1-5,8")
    d.add_argument(
        "--aspect",
        choices=ASPECTS,
        default="16:9",
        help="16:9 (default), 9:16 (presenter on top, cards below), 1:1 (presenter with a lower third)",
    )
    d.add_argument(
        "--theme",
        default=None,
        metavar="NAME|FILE",
        help=f"built-in theme ({', '.join(BUILT_IN_THEMES)}) or a brand .yaml: colours, fonts, logo, "
        "background, card and caption style",
    )
    d.add_argument(
        "--pip-size",
        type=float,
        default=0.26,
        metavar="SHARE",
        help="slides layout: presenter width as a share of the frame width (default: %(default)s)",
    )
    d.add_argument(
        "--pip-corner",
        choices=PIP_CORNERS,
        default="auto",
        help="slides layout: the presenter's corner (default: where the slide has least content)",
    )
    d.add_argument(
        "--intro",
        choices=INTRO_MODES,
        default="off",
        help="title card for ~3 s: narration starts after it, or speaks over it (default: off)",
    )
    d.add_argument("--subtitle", default="", help="subtitle on the intro card")
    add_switches(
        d,
        {
            "--end-card": "a closing card for ~3 s after the last section",
            "--no-chapters": "no NAME.chapters.vtt and NAME.thumbnail.png (the MP4 keeps its chapter marks)",
        },
    )
    a = p.add_argument_group("presenter (avatar)")
    a.add_argument(
        "--avatar",
        choices=engines.CHOICES,
        default=engines.AUTO,
        help="auto: musetalk if its env and weights are ready, else puppet, else static (says so when it "
        "falls back). A named engine that cannot run is an error, unless --fallback",
    )
    a.add_argument(
        "--fallback",
        action="store_true",
        help="accept the next engine of the chain when the chosen one (presenter or voice) fails (for batches)",
    )
    a.add_argument(
        "--env", default=None, metavar="NAME", help="engine env to run the chosen engine in (e.g. musetalk-cuda)"
    )
    a.add_argument(
        "--engine-python",
        type=Path,
        default=None,
        metavar="PATH",
        help="run the chosen engine with this interpreter instead of its env",
    )
    a.add_argument("--models-dir", type=Path, default=None, help="MuseTalk weights folder (default: $PRESGEN_MODELS)")
    add_switches(a, {"--no-motion": "photo: no head sway (puppet)", "--no-blink": "photo: no blinks (puppet)"})
    a.add_argument(
        "--avatar-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="give up on an engine after this long (default scales with narration length)",
    )
    p.add_argument(
        "--section",
        type=int,
        default=None,
        metavar="N",
        help="render only section N (1-based) as a quick preview; reuses cached work of full renders",
    )
    p.add_argument(
        "--work-dir", type=Path, default=None, help="keep intermediate files (narration.wav, avatar.mp4) here"
    )
    p.add_argument(
        "--jobs",
        type=int,
        default=1,
        metavar="N",
        help="presenter batches and overlay clips rendered at once (default: 1)",
    )
    add_switches(p, {"--json": "print the run manifest as JSON on stdout", "--quiet": "no progress output"})
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = load_config()
    source = args.source_image or args.source_video
    named = args.script or args.deck
    if named is None:
        raise UsageError("give a script (--script talk.yaml) or a deck (--deck talk.pptx)")
    out = args.out or Path("out") / f"{named.stem}.mp4"
    tts = args.tts or config.render.get("tts", "auto")
    voice = args.voice or config.render.get("voice")
    values = vars(args)
    opts = by_name(
        RenderOptions,
        values,
        source=source,
        out=out,
        tts=tts,
        voice=voice,
        pause_s=args.pause,
        source_is_image=args.source_image is not None,
        avatar=AvatarSettings(
            choice=args.avatar,
            allow_fallback=args.fallback,
            env_override=args.env,
            # absolute, but not resolved: a venv's python is a symlink that must stay one
            python_override=Path(os.path.abspath(args.engine_python)) if args.engine_python else None,
            models_dir=args.models_dir,
            motion=not args.no_motion,
            blink=not args.no_blink,
            timeout_s=args.avatar_timeout,
            config=config,
        ),
        look=by_name(LookOptions, values, chapters=not args.no_chapters),
    )
    if args.jobs < 1:
        raise UsageError("--jobs must be 1 or more")
    reporter = StageReporter(enabled=not args.quiet)
    report = render(opts, reporter, Threads(args.jobs))
    if args.json:
        json.dump(report.manifest, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        m = report.manifest
        print(
            f"{report.output}  ({m['output']['duration_s']:.1f} s, presenter: {m['avatar']['engine']}, "
            f"voice: {m['narration']['engine']}, manifest: {report.manifest_path})"
        )
    return 0
