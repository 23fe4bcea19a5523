"""``presgen env vendor``: put upstream MuseTalk's code, at a pinned commit, into ``vendor/MuseTalk``.

The clone happens in a temp folder beside the destination; its files (not ``.git``) are then moved in.
Our own ``vendor/MuseTalk/README.md`` stays; upstream's is kept as ``README.upstream.md``. A marker
(``.presgen-vendor.json``: url, commit, the entries it placed) is written last, so a re-run knows what it may
replace. Nothing it did not place is ever deleted (``models/`` holds the user's weights).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from presgen_training.envs.build import Say
from presgen_training.envs.locate import repo_root
from presgen_training.envs.proc import run_cmd
from presgen_training.errors import PresgenError

UPSTREAM_URL = "https://github.com/TMElyralab/MuseTalk.git"
DEFAULT_COMMIT = "0a89dec"  # 2025-09-26, the commit docs/musetalk-v15.md describes (Makefile MUSETALK_COMMIT)
VENDOR_MARKER = ".presgen-vendor.json"
OUR_README = "README.md"
UPSTREAM_README = "README.upstream.md"
GIT_TIMEOUT_S = 1800.0
NEVER_REPLACED = {"models", OUR_README, VENDOR_MARKER}  # the user's weights and our own files


class VendorError(PresgenError):
    pass


def default_vendor_dir() -> Path:
    return repo_root() / "vendor" / "MuseTalk"


def read_vendor_marker(dest: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((dest / VENDOR_MARKER).read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _git(args: list[str], cwd: Path | None = None) -> tuple[bool, str, str]:
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true"}  # never wait for a password
    result = run_cmd(["git", *args], cwd=cwd, env=env, timeout_s=GIT_TIMEOUT_S)
    return result.ok, result.stdout.strip(), result.last_line()


def vendor_musetalk(
    commit: str = DEFAULT_COMMIT, url: str = UPSTREAM_URL, dest: Path | None = None, say: Say = print
) -> Path:
    dest = (dest or default_vendor_dir()).resolve()
    if shutil.which("git") is None:
        raise VendorError("git is not installed; install it (e.g. apt install git) and run this again")
    marker = read_vendor_marker(dest)
    if marker and str(marker.get("commit", "")).startswith(commit) and (dest / "scripts").is_dir():
        say(f"upstream MuseTalk {marker['commit'][:12]} is already in {dest}")
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.clone-", dir=dest.parent))
    try:
        src = work / "src"
        say(f"cloning {url} ...")
        remote = "://" in url and not url.startswith("file://")
        ok, _, err = _git(
            ["clone", "--quiet", "--no-checkout", *(["--filter=blob:none"] if remote else []), url, str(src)]
        )
        if not ok:
            raise VendorError(f"cannot clone {url} (this needs network access to it): {err}")
        say(f"checking out {commit}")
        ok, _, err = _git(["-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach", commit], cwd=src)
        if not ok:
            raise VendorError(f"commit {commit} not found in {url}: {err}")
        _, full, _ = _git(["rev-parse", "HEAD"], cwd=src)
        dest.mkdir(exist_ok=True)
        placed = _place(src, dest, marker)
        _write_marker(
            dest,
            {
                "url": url,
                "commit": full,
                "requested": commit,
                "entries": placed,
                "vendored_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            },
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    say(f"vendored upstream MuseTalk {full[:12]} into {dest}")
    say(
        f"next: put its weights in {dest / 'models'} (see {dest / OUR_README}), "
        "then: presgen env create musetalk-upstream"
    )
    return dest


def _place(src: Path, dest: Path, old_marker: dict[str, Any] | None) -> list[str]:
    """Move the checkout's entries into ``dest``, replacing only what an earlier vendoring placed."""
    previous = set(old_marker.get("entries", [])) - NEVER_REPLACED if old_marker else set()
    entries = sorted(p.name for p in src.iterdir() if p.name not in {".git", "models", VENDOR_MARKER})
    targets = {name: (UPSTREAM_README if name == OUR_README else name) for name in entries}
    clashes = [t for t in targets.values() if (dest / t).exists() and t not in previous]
    if clashes:
        raise VendorError(
            f"{dest} already has {', '.join(clashes[:3])} that presgen did not put there; "
            "move them away and run this again"
        )
    for name in previous:
        path = dest / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
    for name, target in targets.items():
        os.rename(src / name, dest / target)
    return sorted(targets.values())


def _write_marker(dest: Path, data: dict[str, Any]) -> None:
    tmp = dest / (VENDOR_MARKER + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, dest / VENDOR_MARKER)
