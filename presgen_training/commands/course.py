"""``presgen course COURSE.yaml``: every module of a course, for every presenter and voice, into one folder with an
index page; on this machine (``--jobs``) or on a Ray cluster (``--ray-address``)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from presgen_training.commands.options import add_command, add_switches
from presgen_training.course.backends import Backend, Local, default_jobs
from presgen_training.course.index_page import write_index
from presgen_training.course.report import course_manifest, summary_table, write_course_manifest
from presgen_training.course.runner import MAX_RETRIES, CourseRun, RunSettings
from presgen_training.course.spec import load_course
from presgen_training.errors import PresgenError, UsageError
from presgen_training.files import OutputBusy, output_lock
from presgen_training.progress import StageReporter
from presgen_training.segments.jobs import cpu_seconds

SUMMARY = "render every module of a course file, with an index page"
DESCRIPTION = (
    "Render a whole course: modules x presenters x voices, each video in its own "
    "folder, an index.html that plays them, and a summary table."
)
EXAMPLES = """examples:
  presgen course examples/course.yaml
  presgen course course.yaml --out site/ --jobs 2
  presgen course course.yaml --ray-address auto            # the Ray cluster this machine belongs to
  presgen course course.yaml --ray-address ray://head:10001 --only welcome --only passwords

The course file lists modules (a script each), presenters and voices; every module is rendered for every presenter
and voice. Output: one folder per video (MP4, manifest, captions, chapters, thumbnail), index.html (open it in a
browser) and course.manifest.json. Run it again after an edit: only what changed is rendered again.
"""


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = add_command(sub, "course", SUMMARY, DESCRIPTION, EXAMPLES)
    p.add_argument("course", type=Path, help="course file (.yaml); see examples/course.yaml")
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="output folder (default: the course file's 'output', else out/<course name>)",
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help="segment jobs at once on this machine (default: one per core, fewer if memory is short)",
    )
    where.add_argument(
        "--ray-address",
        default=None,
        metavar="ADDR",
        help="run the segment jobs on Ray: auto (this machine's cluster), ray://HOST:10001, "
        "HOST:6379, or local (start one here)",
    )
    p.add_argument(
        "--only", action="append", default=None, metavar="MODULE", help="render only this module (repeat for more)"
    )
    p.add_argument(
        "--retries",
        type=int,
        default=MAX_RETRIES,
        metavar="N",
        help="extra tries of a failed engine or overlay job, with backoff (default: %(default)s)",
    )
    add_switches(
        p,
        {
            "--force": "render every video again, even those up to date",
            "--keep-work": "keep the intermediate files in OUT/.work",
            "--json": "print the course manifest as JSON instead of the table",
            "--quiet": "no progress output",
        },
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be 1 or more")
    if args.retries < 0:
        raise UsageError("--retries must be 0 or more")
    course = load_course(args.course, args.out)
    only = set(args.only) if args.only else None
    unknown = sorted((only or set()) - {m.name for m in course.modules})
    if unknown:
        raise UsageError(
            f"--only {', '.join(unknown)}: no such module in {args.course} "
            f"(modules: {', '.join(m.name for m in course.modules)})"
        )
    console = StageReporter(enabled=not args.quiet)
    cpu_before = cpu_seconds()

    def publish(state: CourseRun) -> None:
        write_course_manifest(state, cpu_seconds() - cpu_before)
        write_index(course_manifest(state), course.output)

    state = CourseRun(
        course,
        console,
        RunSettings(retries=args.retries, force=args.force, keep_work=args.keep_work),
        only,
        on_change=publish,
    )
    engines = state.resolve_engines()
    backend = _backend(args, engines)  # an unreachable cluster fails here, before anything is written
    try:
        with output_lock(course.output / "index.html"), console.stage("course", unit="frame"):
            console.note(
                f"{len(state.runs)} videos of '{course.title}' into {course.output} "
                f"({backend.name}, {backend.heavy_slots} workers)"
            )
            try:
                state.run(backend)
            finally:  # also when stopped: the page and manifest show what is finished
                publish(state)
    except OutputBusy:
        backend.close(cancel=False)
        raise PresgenError(
            f"another presgen course is writing {course.output} right now; wait for it or choose another --out"
        ) from None
    manifest = course_manifest(state, cpu_seconds() - cpu_before)
    if args.json:
        json.dump(manifest, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(summary_table(manifest))
        print(f"index: {course.output / 'index.html'}")
    failed = manifest["counts"].get("failed", 0)
    if failed:
        print(
            f"presgen: error: {failed} of {len(state.runs)} videos failed (reasons in the table and in "
            f"{course.output / 'course.manifest.json'})",
            file=sys.stderr,
        )
        return 1
    return 0


def _backend(args: argparse.Namespace, engines: set[str]) -> Backend:
    if args.ray_address:
        from presgen_training.course.ray_backend import Ray

        return Ray(args.ray_address)
    jobs = args.jobs or min(default_jobs(engine) for engine in engines or {"puppet"})
    return Local(jobs)
