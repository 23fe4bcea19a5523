"""``presgen render``: the whole pipeline, from a script and a presenter photo or video to a finished MP4."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from presgen_training.avatar.chain import AVATAR_CHOICES, AvatarSettings
from presgen_training.config import load_config
from presgen_training.pipeline import CAPTION_MODES, LAYOUTS, QUALITIES, RenderOptions, render
from presgen_training.progress import StageReporter

EXAMPLES = """examples:
  presgen render --script talk.yaml --source-image me.jpg --out talk.mp4
  presgen render --script talk.md --source-video me.mp4 --out talk.mp4 --layout overlay --captions burn
  python -m presgen_training --script talk.txt --source-video me.mp4 --quality standard --out talk.mp4

The script is YAML (title, voice, language, rate, lexicon, sections: [{title, narration, bullets}]), Markdown
(# heading per section, '- ' bullets, paragraphs are narration) or plain text (one section per paragraph).
Narration may hold pauses: [pause 1.5s] or <break time="500ms"/>.
Beside the video: NAME.manifest.json (inputs, stages, engine attempts), and NAME.srt / NAME.vtt unless --captions off.
"""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("render", help="script + presenter photo/video -> presenter video",
                       description="Render a presenter video: narration from the script, a talking presenter, "
                                   "and title cards, bullets and captions timed to the narration.",
                       epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--script", type=Path, required=True, help="script file (.yaml, .md or .txt)")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--source-image", type=Path, metavar="IMAGE", help="a photo of the presenter")
    src.add_argument("--source-video", type=Path, metavar="VIDEO",
                     help="a video of the presenter (looped back and forth)")
    p.add_argument("--out", type=Path, default=None, help="output .mp4 (default: out/<script name>.mp4)")
    p.add_argument("--quality", choices=QUALITIES, default="standard",
                   help="fast 854x480, standard 1280x720, high 1920x1080 (default: %(default)s)")
    p.add_argument("--layout", choices=LAYOUTS, default="side",
                   help="side: presenter beside a bullet panel; overlay: lower-third card over the presenter")
    p.add_argument("--captions", choices=CAPTION_MODES, default="sidecar",
                   help="burn into the video (and write .srt/.vtt beside it), only write .srt/.vtt (sidecar), or off "
                        "(default: %(default)s)")
    p.add_argument("--tts", choices=["auto", "piper", "gtts", "espeak-ng"], default=None,
                   help="voice engine: auto (default: piper, else espeak-ng), piper (offline neural), gtts (online), "
                        "espeak-ng; an engine named here that cannot speak is an error")
    p.add_argument("--voice", default=None,
                   help="voice name (see: presgen voices), e.g. joe, or a piper .onnx model path")
    p.add_argument("--rate", type=float, default=None, metavar="FACTOR",
                   help="speaking rate: 1 is the narration pace (~155 words/min), 0.5 to 2 (default: the script's "
                        "'rate', else 1)")
    p.add_argument("--lexicon", type=Path, default=None, metavar="YAML",
                   help="pronunciations: a YAML mapping of word: respelling or word: /IPA/ (the script's own "
                        "'lexicon' entries win)")
    p.add_argument("--pause", type=float, default=0.8, metavar="SECONDS", help="silence between sections (default: 0.8)")
    a = p.add_argument_group("presenter (avatar)")
    a.add_argument("--avatar", choices=AVATAR_CHOICES, default="auto",
                   help="auto: musetalk if its env and weights are ready, else puppet, else static")
    a.add_argument("--env", default=None, metavar="NAME",
                   help="engine env to run the chosen engine in (e.g. musetalk-cuda)")
    a.add_argument("--engine-python", type=Path, default=None, metavar="PATH",
                   help="run the chosen engine with this interpreter instead of its env")
    a.add_argument("--models-dir", type=Path, default=None, help="MuseTalk weights folder (default: $PRESGEN_MODELS)")
    a.add_argument("--no-motion", action="store_true", help="photo: no head sway (puppet)")
    a.add_argument("--no-blink", action="store_true", help="photo: no blinks (puppet)")
    a.add_argument("--avatar-timeout", type=float, default=None, metavar="SECONDS",
                   help="give up on an engine after this long (default scales with narration length)")
    p.add_argument("--work-dir", type=Path, default=None,
                   help="keep intermediate files (narration.wav, avatar.mp4) here")
    p.add_argument("--json", action="store_true", help="print the run manifest as JSON on stdout")
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = load_config()
    source = args.source_image or args.source_video
    out = args.out or Path("out") / f"{args.script.stem}.mp4"
    tts = args.tts or config.render.get("tts", "auto")
    voice = args.voice or config.render.get("voice")
    opts = RenderOptions(
        script=args.script, source=source, out=out, quality=args.quality, layout=args.layout, tts=tts,
        voice=voice, rate=args.rate, lexicon=args.lexicon, captions=args.captions, pause_s=args.pause,
        work_dir=args.work_dir,
        source_is_image=args.source_image is not None,
        avatar=AvatarSettings(choice=args.avatar, env_override=args.env, python_override=args.engine_python,
                              models_dir=args.models_dir, motion=not args.no_motion, blink=not args.no_blink,
                              timeout_s=args.avatar_timeout, config=config),
    )
    reporter = StageReporter(enabled=not args.quiet)
    report = render(opts, reporter)
    if args.json:
        json.dump(report.manifest, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        m = report.manifest
        print(f"{report.output}  ({m['output']['duration_s']:.1f} s, presenter: {m['avatar']['engine']}, "
              f"voice: {m['narration']['engine']}, manifest: {report.manifest_path})")
    return 0
