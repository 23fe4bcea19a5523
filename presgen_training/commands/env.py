"""``presgen env``: list, create, check and remove engine venvs; vendor upstream MuseTalk.

presgen env list
presgen env create NAME [--if-needed] [--python PATH]
presgen env create --all [--if-needed]
presgen env check NAME
presgen env remove NAME
presgen env vendor [--commit C] [--url URL] [--dest DIR]
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

from presgen_training.commands.options import add_switches
from presgen_training.envs.build import (
    EnvBuildError,
    all_states,
    buildable_here,
    create_env,
    remove_env,
)
from presgen_training.envs.health import health_check
from presgen_training.envs.locate import env_python, env_var_name, envs_home
from presgen_training.envs.spec import SpecError, load_spec, spec_names
from presgen_training.envs.vendor import DEFAULT_COMMIT, UPSTREAM_URL, vendor_musetalk
from presgen_training.errors import PresgenError

EXIT_OK, EXIT_FAILED = 0, 1
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "env",
        help="engine environments: list, create, check, remove, vendor",
        description="Each avatar engine runs in its own venv, built from envs/<name>/ into "
        "$PRESGEN_ENVS_HOME/<name> (default <repo>/.envs).",
    )
    actions = p.add_subparsers(dest="env_action", metavar="ACTION", required=True)
    a = actions.add_parser("list", help="every env, whether it is ready, and what it needs")
    a.set_defaults(func=run)
    a = actions.add_parser("create", help="build an env (atomically: a half-built env never looks ready)")
    a.add_argument("name", nargs="?", help="env to build (see: presgen env list)")
    add_switches(
        a,
        {
            "--all": "every env this machine can build; says which it skipped",
            "--if-needed": "skip an env whose ready marker matches its spec",
            "--force": "rebuild even when the env looks ready (what a failing health check asks for)",
        },
    )
    a.add_argument("--python", type=Path, metavar="PATH", help="interpreter to base the venv on")
    a.set_defaults(func=run)
    a = actions.add_parser("check", help="health check: missing packages, wrong Python, engine problems")
    a.add_argument("name")
    a.set_defaults(func=run)
    a = actions.add_parser("remove", help="delete a built env")
    a.add_argument("name")
    a.set_defaults(func=run)
    a = actions.add_parser(
        "vendor", help="clone upstream MuseTalk at a pinned commit into vendor/MuseTalk (needs network)"
    )
    a.add_argument("--commit", default=DEFAULT_COMMIT, help="upstream commit (default: %(default)s)")
    a.add_argument("--url", default=UPSTREAM_URL, help="repository to clone (default: %(default)s)")
    a.add_argument("--dest", type=Path, default=None, help="destination (default: <repo>/vendor/MuseTalk)")
    a.set_defaults(func=run)


def say(line: str) -> None:
    print(line, flush=True)


def run(args: argparse.Namespace) -> int:
    action = args.env_action
    name = getattr(args, "name", None)
    if name is not None and not _NAME.match(name):
        raise PresgenError(f"not an env name: {name!r} (see: presgen env list)")
    if action == "list":
        return _list()
    if action == "create":
        return _create(args)
    if action == "check":
        return _check(args.name)
    if action == "remove":
        remove_env(args.name, say)
        return EXIT_OK
    vendor_musetalk(args.commit, args.url, args.dest, say)
    return EXIT_OK


def _list() -> int:
    states, invalid = all_states()
    if not states and not invalid:
        raise PresgenError("no env specs found (envs/<name>/env.json)")
    print(f"envs home: {envs_home()}")
    width = max(len(name) for name in [*(s.name for s in states), *invalid])
    for state in states:
        spec = state.spec
        engines = ", ".join(spec.engines) or "-"
        print(f"{state.name:<{width}}  {state.status:<9}  {spec.python.describe()}, engines: {engines}")
        why = buildable_here(spec)[1] if state.status == "not built" else None
        detail = f"cannot be built on this machine: {why}" if why else state.detail
        print(f"{'':<{width}}  {detail}")
    for name, error in invalid.items():
        print(f"{name:<{width}}  invalid    {error}")
    return EXIT_FAILED if invalid else EXIT_OK


def _create(args: argparse.Namespace) -> int:
    if args.all == bool(args.name):
        raise PresgenError("name one env, or use --all (see: presgen env list)")
    if args.force and args.if_needed:
        raise PresgenError("--force rebuilds, --if-needed skips a ready env: give one of them")
    if not args.all:
        create_env(args.name, python=args.python, if_needed=args.if_needed, say=say)
        return EXIT_OK
    if args.python is not None:
        raise PresgenError("--python applies to one env: presgen env create NAME --python PATH")
    built: list[str] = []
    skipped: list[str] = []
    failed: list[str] = []
    for name in spec_names():
        try:
            spec = load_spec(name)
        except SpecError as exc:
            print(f"presgen: error: {exc}", file=sys.stderr, flush=True)
            failed.append(name)
            continue
        _, why = buildable_here(spec)
        if why is not None:
            say(f"[{name}] skipped: cannot be built on this machine: {why}")
            skipped.append(name)
            continue
        try:
            result = create_env(name, if_needed=args.if_needed, say=say)
        except EnvBuildError as exc:
            print(f"presgen: error: {exc}", file=sys.stderr, flush=True)
            failed.append(name)
            continue
        built.append(f"{name} ({'up to date' if result.status == 'skipped' else 'built'})")
    summary = [f"ready: {', '.join(built) or 'none'}"]
    if skipped:
        summary.append(f"skipped (cannot be built here): {', '.join(skipped)}")
    if failed:
        summary.append(f"FAILED: {', '.join(failed)}")
    say("; ".join(summary))
    return EXIT_FAILED if failed else EXIT_OK


def _check(name: str) -> int:
    spec = load_spec(name)
    python, reason = env_python(name)
    if python is None:
        print(f"{name}: not ready: {reason}")
        if not os.environ.get(env_var_name(name)):
            cannot = buildable_here(spec)[1]
            if cannot is not None:
                print(f"  (and it cannot be built on this machine: {cannot})")
        return EXIT_FAILED
    source = f"{env_var_name(name)}" if os.environ.get(env_var_name(name)) else "built env"
    health = health_check(spec, python)
    version = f"Python {health.python_version}" if health.python_version else "Python ?"
    print(f"{name}: {python} ({version}, {source})")
    if health.problem is not None:
        print(f"  BROKEN  {health.problem}")
        for fix in health.fixes:
            print(f"  fix: {fix}")
        return EXIT_FAILED
    print(f"  ok      imports: {', '.join(spec.imports) or '(none listed)'}")
    for engine, verdict in health.engines.items():
        print(f"  {'ok' if verdict.healthy else 'PROBLEM':<7} engine {engine}: {verdict.reason or 'healthy'}")
    if health.healthy:
        print(f"{name}: healthy")
        return EXIT_OK
    print(f"{name}: not healthy: {health.reason}")
    for fix in health.fixes:
        print(f"  fix: {fix}")
    return EXIT_FAILED
