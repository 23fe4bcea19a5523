"""``presgen doctor [--json]``: what works on this machine, and the command that fixes what does not.

Exit code 0 only when nothing is a problem.
"""

from __future__ import annotations

import argparse
import json

from presgen_training.commands.options import add_command
from presgen_training.config import load_config
from presgen_training.doctor import Report, default_checks, diagnose

EXIT_HEALTHY, EXIT_PROBLEMS = 0, 1
_LABEL = {"ok": "ok", "problem": "PROBLEM", "info": "info"}


SUMMARY = "check ffmpeg, engine envs, voices, weights, deck tools, disk and GPU"
DESCRIPTION = (
    "Check what PresGen needs on this machine and print the command that "
    "fixes each problem. Exit code 0 when the default render works here "
    "(optional engines that are not set up are notes)."
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = add_command(subparsers, "doctor", SUMMARY, DESCRIPTION)
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    report = diagnose(default_checks(load_config()))
    print(json.dumps(report.as_dict(), indent=2) if args.json else render(report))
    return EXIT_HEALTHY if report.healthy else EXIT_PROBLEMS


def render(report: Report) -> str:
    width = max((len(f.area) for f in report.findings), default=0)
    lines = [f"{_LABEL[f.status]:<7}  {f.area:<{width}}  {f.message}" for f in report.findings]
    problems = report.problems
    optional = [fix for f in report.findings if f.status == "info" for fix in f.fixes]
    if optional:
        lines.append("\nOptional (not needed for the default render):")
        lines += [f"  {fix}" for fix in dict.fromkeys(optional)]
    if not problems:
        lines.append("\nall healthy: the default render works here")
        return "\n".join(lines)
    lines.append(f"\n{len(problems)} problem{'s' if len(problems) != 1 else ''}. To fix:")
    lines += [f"  {fix}" for fix in report.fixes()]
    unfixed = [f for f in problems if not f.fixes]
    lines += [f"  ({f.area}: {f.message})" for f in unfixed]
    return "\n".join(lines)
