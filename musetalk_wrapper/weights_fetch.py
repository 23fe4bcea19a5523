"""Fetch the MuseTalk V1.5 models folder: ``python -m musetalk_wrapper.weights_fetch [--models-dir D] ...``.

Run by the orchestrator's interpreter (``presgen weights fetch``): it needs huggingface_hub, never torch. For
every file of the table (``weights_files.json``) that is missing from the models folder or differs from the
official file:

- hub files come through huggingface_hub at the pinned revision, into its cache (``HF_HOME`` /
  ``HF_HUB_CACHE``, ``HF_ENDPOINT`` and ``HF_HUB_OFFLINE`` honoured): an interrupted download resumes from
  the cache's ``.incomplete`` blob. Files off the hub come from their canonical URL into the download cache
  (``.part``, resumed with a Range request). When a source fails the next one is tried (the BiSeNet files
  have a hub mirror).
- every file is checked before it is used: size and sha256 against the table, and the hub's own ETag (the
  LFS sha256, or the git blob sha1 of a small file). A file that fails is deleted from the cache and never
  placed.
- a good file is linked (or copied) to a temp name beside its target, then renamed: the models folder never
  holds half a file.

With ``--revision REPO=REV`` the table's size and sha256 of that repo's files no longer apply; the hub's
ETag still does, and ``presgen weights fetch`` then loads every network strictly in the engine's env.

stdout: one JSON report with ``--json``, else one line per file; progress bars on stderr. Exit 0 when every
file asked for is in place and verified, 1 when one is not, 2 on a usage error, 130 when interrupted (run the
same command again: it resumes).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import re
import shutil
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from musetalk_wrapper import weights
from musetalk_wrapper.weights import Source, Table, WeightFile

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
HASH_BLOCK_BYTES = 1 << 20
URL_CHUNK_BYTES = 1 << 20
URL_TIMEOUT_S = 60.0
DEFAULT_DOWNLOAD_CACHE = Path("~/.cache/presgen/weights")
RECORD_NAME = ".presgen-fetch.json"  # files verified here: path -> size, mtime_ns, sha256 (re-runs skip hashing)
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
GIT_SHA1_HEX = re.compile(r"^[0-9a-f]{40}$")
USER_AGENT = "presgen-weights-fetch"


class FetchError(Exception):
    """One source failed for one file (a one-line reason)."""


@dataclass
class Outcome:
    path: str
    status: str  # "present" | "fetched" | "failed"
    source: str | None = None
    revision: str | None = None
    size_bytes: int | None = None
    sha256: str | None = None
    problem: str | None = None


@dataclass
class Settings:
    models_dir: Path
    table: Table
    options: frozenset[str] = frozenset()  # optional groups asked for ("dwpose")
    revisions: dict[str, str] = field(default_factory=dict)  # the table's pins with --revision applied
    overridden: frozenset[str] = frozenset()  # repos whose pins were replaced: their sizes/sha256 do not apply
    download_cache: Path = DEFAULT_DOWNLOAD_CACHE
    force: bool = False


def file_hashes(path: Path) -> tuple[str, str]:
    """sha256 and git blob sha1 (the hub's ETag of a file that is not in LFS), in one read."""
    sha256 = hashlib.sha256()
    sha1 = hashlib.sha1()
    sha1.update(b"blob %d\0" % path.stat().st_size)
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(HASH_BLOCK_BYTES), b""):
            sha256.update(block)
            sha1.update(block)
    return sha256.hexdigest(), sha1.hexdigest()


def _pinned(wf: WeightFile, src: Source, settings: Settings) -> bool:
    return src.hub is None or src.hub not in settings.overridden


def verify(path: Path, wf: WeightFile, pinned: bool, etag: str | None) -> str:
    """The file's sha256 once its size, its hub ETag and the table's sha256 all agree; else FetchError."""
    size = path.stat().st_size
    if pinned and wf.size_bytes is not None and size != wf.size_bytes:
        raise FetchError(f"{size:,} bytes where the official file has {wf.size_bytes:,}")
    sha256, sha1 = file_hashes(path)
    if etag and SHA256_HEX.match(etag) and sha256 != etag:
        raise FetchError(f"sha256 {sha256[:12]}... differs from the hub's LFS sha256 {etag[:12]}... (corrupted)")
    if etag and GIT_SHA1_HEX.match(etag) and sha1 != etag:
        raise FetchError(f"git sha1 {sha1[:12]}... differs from the hub's {etag[:12]}... (corrupted)")
    if pinned and wf.sha256 and sha256 != wf.sha256:
        raise FetchError(f"sha256 {sha256[:12]}... differs from the official {wf.sha256[:12]}...")
    return sha256


# --- sources ---------------------------------------------------------------------------------------------


def _offline() -> bool:
    from huggingface_hub import constants

    return bool(constants.HF_HUB_OFFLINE)


def _hub_url(src: Source, revision: str) -> str:
    from huggingface_hub import hf_hub_url

    return hf_hub_url(src.hub, src.file, revision=revision)  # type: ignore[arg-type]


def from_hub(src: Source, revision: str) -> tuple[Path, str | None]:
    """(the file in huggingface_hub's cache, its ETag when the cache shows it) or FetchError."""
    import requests
    from huggingface_hub import constants, hf_hub_download
    from huggingface_hub.errors import (
        EntryNotFoundError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    assert src.hub and src.file
    _no_progress_monitor_thread()
    url = _hub_url(src, revision)
    try:
        cached = Path(hf_hub_download(src.hub, src.file, revision=revision))
    except LocalEntryNotFoundError as exc:  # a subclass of EntryNotFoundError: first
        if constants.HF_HUB_OFFLINE:
            raise FetchError(
                f"offline (HF_HUB_OFFLINE=1) and not in the Hugging Face cache {constants.HF_HUB_CACHE}"
            ) from None
        raise FetchError(f"cannot reach {constants.ENDPOINT} ({_first_line(exc.__cause__ or exc)})") from None
    except EntryNotFoundError:
        raise FetchError(f"HTTP 404, not found: {url}") from None
    except RepositoryNotFoundError:
        raise FetchError(f"repository {src.hub} not found (or private) at {constants.ENDPOINT}") from None
    except RevisionNotFoundError:
        raise FetchError(f"revision {revision} of {src.hub} not found at {constants.ENDPOINT}") from None
    except HfHubHTTPError as exc:
        raise FetchError(f"{_first_line(exc)} ({url})") from None
    except (requests.RequestException, OSError) as exc:
        raise FetchError(f"download stopped ({_first_line(exc)}); run the same command again to resume") from None
    blob = cached.resolve()
    return cached, blob.name if blob != cached else None


def _no_progress_monitor_thread() -> None:
    """tqdm's monitor thread can be the one the kernel hands Ctrl-C to, and then the download's blocking read in the
    main thread is not interrupted (it goes on until it times out). With one thread, Ctrl-C interrupts the read."""
    from tqdm import tqdm

    tqdm.monitor_interval = 0


def _drop_from_hub_cache(cached: Path) -> None:
    blob = cached.resolve()
    cached.unlink(missing_ok=True)
    if blob != cached:
        blob.unlink(missing_ok=True)


def from_url(src: Source, wf: WeightFile, cache: Path) -> Path:
    """The file downloaded (or resumed) into the download cache, complete but not yet verified."""
    assert src.url
    cache.mkdir(parents=True, exist_ok=True)
    name = wf.sha256 or hashlib.sha256(src.url.encode()).hexdigest()
    target = cache / f"{name}-{Path(wf.path).name}"
    if target.is_file():
        return target
    if _offline():
        raise FetchError(f"offline (HF_HUB_OFFLINE=1) and not in the download cache {cache}")
    part = target.with_name(target.name + ".part")
    for _attempt in range(2):  # a second time from zero when the server refuses to resume
        resume = part.stat().st_size if part.is_file() else 0
        headers = {"User-Agent": USER_AGENT, **({"Range": f"bytes={resume}-"} if resume else {})}
        try:
            with urllib.request.urlopen(
                urllib.request.Request(src.url, headers=headers), timeout=URL_TIMEOUT_S
            ) as resp:
                if resume and resp.status != 206:
                    resume = 0  # the server sent the whole file
                length = resp.headers.get("Content-Length")
                total = resume + int(length) if length and length.isdigit() else None
                if wf.size_bytes is not None and total is not None and total != wf.size_bytes:
                    part.unlink(missing_ok=True)
                    raise FetchError(
                        f"the server offers {total:,} bytes where the official file has "
                        f"{wf.size_bytes:,} (not the file: an error page?)"
                    )
                _copy_stream(resp, part, resume, total, Path(wf.path).name, wf.size_bytes)
        except urllib.error.HTTPError as exc:
            if exc.code == 416 and resume:
                part.unlink(missing_ok=True)
                continue
            raise FetchError(f"HTTP {exc.code} {exc.reason}: {src.url}") from None
        except urllib.error.URLError as exc:
            raise FetchError(f"cannot reach {src.host or src.url} ({exc.reason})") from None
        except (OSError, ValueError) as exc:
            raise FetchError(f"download stopped ({_first_line(exc)}); run the same command again to resume") from None
        os.replace(part, target)
        return target
    raise FetchError(f"the server at {src.url} cannot resume this download")


def _copy_stream(resp: Any, part: Path, resume: int, total: int | None, label: str, limit: int | None) -> None:
    from tqdm.auto import tqdm

    with (
        part.open("ab" if resume else "wb") as fh,
        tqdm(
            total=total, initial=resume, unit="B", unit_scale=True, unit_divisor=1024, desc=label, file=sys.stderr
        ) as bar,
    ):
        done = resume
        while chunk := resp.read(URL_CHUNK_BYTES):
            fh.write(chunk)
            done += len(chunk)
            bar.update(len(chunk))
            if limit is not None and done > limit:
                raise ValueError(f"more than the official {limit:,} bytes")
    if total is not None and done != total:
        raise ValueError(f"the connection closed after {done:,} of {total:,} bytes")


# --- the models folder -----------------------------------------------------------------------------------


def place(file: Path, dest: Path) -> None:
    """Put ``file`` at ``dest`` atomically: a hard link (no second copy) or a copy, under a temp name, renamed."""
    file = file.resolve()  # the hub cache's snapshot entry is a relative symlink to its blob
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.presgen-{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        try:
            os.link(file, tmp)
        except OSError:
            shutil.copyfile(file, tmp)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class Record:
    """Files this command verified in the models folder, so a re-run does not hash gigabytes again."""

    def __init__(self, models_dir: Path) -> None:
        self.path = models_dir / RECORD_NAME
        try:
            self.files: dict[str, dict[str, Any]] = json.loads(self.path.read_text())["files"]
        except (OSError, ValueError, KeyError, TypeError):
            self.files = {}

    def matches(self, rel: str, dest: Path, sha256: str | None) -> bool:
        entry = self.files.get(rel)
        if entry is None or sha256 is None or entry.get("sha256") != sha256:
            return False
        st = dest.stat()
        return bool(entry.get("size") == st.st_size and entry.get("mtime_ns") == st.st_mtime_ns)

    def note(self, rel: str, dest: Path, outcome: Outcome) -> None:
        st = dest.stat()
        self.files[rel] = {
            "size": st.st_size,
            "mtime_ns": st.st_mtime_ns,
            "sha256": outcome.sha256,
            "source": outcome.source,
            "revision": outcome.revision,
        }
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"files": self.files}, indent=1, sort_keys=True))
        os.replace(tmp, self.path)


def already_in_place(wf: WeightFile, dest: Path, settings: Settings, record: Record) -> Outcome | None:
    """The official file is there already (checked once by hash, then by size and mtime)."""
    pinned = all(_pinned(wf, s, settings) for s in wf.sources)
    if settings.force or not pinned or not wf.sha256 or not dest.is_file():
        return None
    if record.matches(wf.path, dest, wf.sha256):
        return Outcome(wf.path, "present", size_bytes=dest.stat().st_size, sha256=wf.sha256)
    try:
        sha256 = verify(dest, wf, True, None)
    except FetchError:
        return None  # a different or damaged file: replaced below
    outcome = Outcome(wf.path, "present", size_bytes=dest.stat().st_size, sha256=sha256)
    record.note(wf.path, dest, outcome)
    return outcome


def fetch_file(wf: WeightFile, settings: Settings, record: Record) -> Outcome:
    dest = settings.models_dir / wf.path
    present = already_in_place(wf, dest, settings, record)
    if present is not None:
        return present
    problems = []
    for src in wf.sources:
        pinned = _pinned(wf, src, settings)
        revision = settings.revisions.get(src.hub) if src.hub else None
        try:
            _check_disk(wf, settings, src)
            if src.hub:
                assert revision is not None
                file, etag = from_hub(src, revision)
                try:
                    sha256 = verify(file, wf, pinned, etag)
                except FetchError as exc:
                    _drop_from_hub_cache(file)
                    raise FetchError(f"{exc}; removed from the cache, not placed") from None
            else:
                file = from_url(src, wf, settings.download_cache)
                try:
                    sha256 = verify(file, wf, pinned, None)
                except FetchError as exc:
                    file.unlink(missing_ok=True)
                    raise FetchError(f"{exc}; removed from the cache, not placed") from None
        except FetchError as exc:
            problems.append(f"{src.label}: {exc}")
            if src is not wf.sources[-1]:
                print(f"  {src.label}: {exc}; trying the next source", file=sys.stderr, flush=True)
            continue
        place(file, dest)
        outcome = Outcome(wf.path, "fetched", src.label, revision, dest.stat().st_size, sha256)
        record.note(wf.path, dest, outcome)
        return outcome
    return Outcome(wf.path, "failed", problem="; ".join(problems))


def _check_disk(wf: WeightFile, settings: Settings, src: Source) -> None:
    if not wf.size_bytes:
        return
    where = settings.download_cache if src.url else _hub_cache()
    while not where.exists() and where != where.parent:
        where = where.parent
    free = shutil.disk_usage(where).free
    if free < wf.size_bytes:
        raise FetchError(f"needs {wf.size_bytes / 2**30:.2f} GiB free in {where}, {free / 2**30:.2f} GiB left")


def _hub_cache() -> Path:
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def wanted(settings: Settings) -> list[WeightFile]:
    return [wf for wf in settings.table.files if wf.required or (wf.option and wf.option in settings.options)]


def fetch(settings: Settings) -> Iterator[Outcome]:
    files = wanted(settings)
    record = Record(settings.models_dir) if settings.models_dir.is_dir() else None
    for k, wf in enumerate(files, 1):
        print(f"[{k}/{len(files)}] {wf.path}", file=sys.stderr, flush=True)
        if record is None:
            settings.models_dir.mkdir(parents=True, exist_ok=True)
            record = Record(settings.models_dir)
        yield fetch_file(wf, settings, record)


# --- command line ----------------------------------------------------------------------------------------


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


def parse_revisions(items: list[str], table: Table) -> tuple[dict[str, str], frozenset[str]]:
    revisions = dict(table.revisions)
    overridden = set()
    for item in items:
        repo, sep, rev = item.partition("=")
        if not sep or not rev or repo not in revisions:
            raise ValueError(f"--revision takes REPO=REVISION with REPO one of: {', '.join(revisions)}")
        if rev != revisions[repo]:
            overridden.add(repo)
        revisions[repo] = rev
    return revisions, frozenset(overridden)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m musetalk_wrapper.weights_fetch",
        description="Download the MuseTalk V1.5 weights into a models folder, checked and resumable.",
    )
    p.add_argument("--models-dir", type=Path, help=f"models folder (default: ${weights.MODELS_ENV} or ./models)")
    p.add_argument(
        "--with-dwpose",
        action="store_true",
        help="also DWPose: the ONNX model (--landmarks dwpose-onnx) and the .pth (musetalk-upstream)",
    )
    p.add_argument(
        "--revision",
        action="append",
        default=[],
        metavar="REPO=REV",
        help="another revision of a hub repo than the pinned one (its sizes/sha256 then do not apply)",
    )
    p.add_argument(
        "--download-cache",
        type=Path,
        default=DEFAULT_DOWNLOAD_CACHE,
        help="where files off the hub are downloaded (default: %(default)s)",
    )
    p.add_argument(
        "--table",
        type=Path,
        default=weights.TABLE,
        help="the file table (default: the official one; a mirror can pass its own)",
    )
    p.add_argument("--force", action="store_true", help="fetch again even where the file is in place")
    p.add_argument("--json", action="store_true", help="print one JSON report on stdout")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return EXIT_USAGE if exc.code else EXIT_OK
    try:
        table = weights.load_table(args.table)
        revisions, overridden = parse_revisions(args.revision, table)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"error: {_first_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    settings = Settings(
        weights.resolve_models_dir(args.models_dir),
        table,
        frozenset({"dwpose"} if args.with_dwpose else ()),
        revisions,
        overridden,
        args.download_cache.expanduser(),
        args.force,
    )
    outcomes: list[Outcome] = []
    try:
        with _stdout_to_stderr():
            for outcome in fetch(settings):
                outcomes.append(outcome)
                print(
                    f"  {outcome.status}" + (f": {outcome.problem}" if outcome.problem else ""),
                    file=sys.stderr,
                    flush=True,
                )
    except KeyboardInterrupt:
        print("interrupted: run the same command again to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    complete = all(o.status != "failed" for o in outcomes)
    report = {
        "models_dir": str(settings.models_dir),
        "complete": complete,
        "offline": _offline(),
        "hub_cache": str(_hub_cache()),
        "download_cache": str(settings.download_cache),
        "overridden": sorted(overridden),
        "files": [asdict(o) for o in outcomes],
    }
    if args.json:
        print(json.dumps(report))
    else:
        for o in outcomes:
            print(f"{o.status:<8} {o.path}" + (f": {o.problem}" if o.problem else ""))
    return EXIT_OK if complete else EXIT_FAILED


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Libraries print: keep stdout for the report."""
    with contextlib.redirect_stdout(sys.stderr):
        yield


if __name__ == "__main__":
    raise SystemExit(main())
