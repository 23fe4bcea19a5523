"""``presgen cache info|prune``: what the render cache holds, and evicting it least-recently-used first."""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from typing import Any

from presgen_training import cache_store
from presgen_training.config import cache_dir
from presgen_training.errors import UsageError

SIZE_UNITS = {"": 1, "b": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}
SIZE_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?\s*$", re.IGNORECASE)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "cache",
        help="what the render cache holds; evict it least-recently-used first",
        description=f"The render cache ($PRESGEN_CACHE_DIR, now {cache_dir()}): narration clips, "
        "per-section presenter and overlay clips, and MuseTalk's prepared sources. "
        "Renders keep it under its limit ($PRESGEN_CACHE_MAX_GB, default "
        f"{cache_store.DEFAULT_MAX_BYTES / 2**30:.0f} GB) by evicting what was used "
        "longest ago.",
    )
    actions = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    info = actions.add_parser("info", help="size, entries and last use per area, and the limit")
    info.add_argument("--json", action="store_true", help="print it as JSON")
    info.set_defaults(func=run_info)
    prune = actions.add_parser("prune", help="remove least-recently-used entries until the cache fits a size")
    prune.add_argument(
        "--max-size",
        default=None,
        metavar="SIZE",
        help="e.g. 5G, 500M, 0 (default: the limit); entries in use or used in the last "
        f"{cache_store.MIN_AGE_TO_EVICT_S:.0f} s are kept",
    )
    prune.add_argument("--json", action="store_true", help="print the outcome as JSON")
    prune.set_defaults(func=run_prune)


def parse_size(text: str) -> int:
    match = SIZE_PATTERN.match(text)
    if not match:
        raise UsageError(f"--max-size {text!r}: expected a size such as 5G, 500M, 1.5GB or 0")
    return int(float(match.group(1)) * SIZE_UNITS[match.group(2).lower()])


def usage() -> dict[str, Any]:
    found = cache_store.entries()
    areas = {}
    for area in cache_store.AREAS:
        mine = [e for e in found if e.area == area]
        areas[area] = {
            "entries": len(mine),
            "bytes": sum(e.bytes for e in mine),
            "oldest_use": min((e.used for e in mine), default=None),
            "newest_use": max((e.used for e in mine), default=None),
        }
    return {
        "path": str(cache_dir()),
        "limit_bytes": cache_store.max_cache_bytes(),
        "total_bytes": sum(a["bytes"] for a in areas.values()),
        "areas": areas,
    }


def run_info(args: argparse.Namespace) -> int:
    info = usage()
    if args.json:
        json.dump(info, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    print(f"cache: {info['path']}")
    print(f"{'area':<10} {'entries':>8} {'size':>10}  {'oldest use':<16}  {'newest use':<16}")
    for area, a in info["areas"].items():
        print(
            f"{area:<10} {a['entries']:>8} {_size(a['bytes']):>10}  {_when(a['oldest_use']):<16}  "
            f"{_when(a['newest_use']):<16}"
        )
    share = 100 * info["total_bytes"] / info["limit_bytes"] if info["limit_bytes"] else 100.0
    print(
        f"{'total':<10} {sum(a['entries'] for a in info['areas'].values()):>8} {_size(info['total_bytes']):>10}"
        f"  limit {_size(info['limit_bytes'])} ({share:.0f}% used; set $PRESGEN_CACHE_MAX_GB to change it)"
    )
    return 0


def run_prune(args: argparse.Namespace) -> int:
    limit = parse_size(args.max_size) if args.max_size is not None else cache_store.max_cache_bytes()
    report = cache_store.prune(limit)
    if args.json:
        json.dump(
            {
                "max_bytes": limit,
                "removed": report.removed,
                "freed_bytes": report.freed_bytes,
                "kept_bytes": report.kept_bytes,
                "in_use": report.in_use,
            },
            sys.stdout,
            indent=2,
        )
        sys.stdout.write("\n")
        return 0
    line = (
        f"removed {report.removed} entries ({_size(report.freed_bytes)}); the cache now holds "
        f"{_size(report.kept_bytes)} (target {_size(limit)})"
    )
    if report.in_use:
        line += f"; kept {report.in_use} in use or used in the last {cache_store.MIN_AGE_TO_EVICT_S:.0f} s"
    print(line)
    return 0


def _size(n: int) -> str:
    for unit, factor in (("GB", 2**30), ("MB", 2**20), ("kB", 2**10)):
        if n >= factor:
            return f"{n / factor:.1f} {unit}"
    return f"{n} B"


def _when(stamp: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(stamp)) if stamp is not None else "-"
