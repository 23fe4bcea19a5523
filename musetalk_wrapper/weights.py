"""The MuseTalk V1.5 ``models/`` folder: where it is, what must be in it, and how to fetch what is missing.

Standard library only, so the orchestrator can run it with its own interpreter::

    python -m musetalk_wrapper.weights check [--models-dir D] [--json] [--verify-hashes]

Exit 0 when every required file is present and passes the cheap checks, 1 otherwise, 2 on a usage error.
The checks never load tensors: presence, JSON validity, container magic (torch zip / legacy pickle /
safetensors / ONNX), zip end record (a cut-off download has none), a lower size bound where the official
size is known, and the sha256 of the official files on request. Loading (every key, every shape) happens in
the engine and reports problems the same way: the file and the command that fixes it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shlex
import struct
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_MODELS_DIR = Path("models")
MODELS_ENV = "PRESGEN_MODELS"

HF_CLI_HINT = 'needs: pip install "huggingface_hub[cli]" (newer versions also call it "hf download")'

# First bytes of the containers torch.load and safetensors read.
ZIP_MAGIC = b"PK\x03\x04"
# torch's legacy (pre-1.6) format starts with the pickled magic number 0x1950a86a20f9469cfc6c (protocol 2).
LEGACY_TORCH_MAGIC = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19"
TAR_MAGIC_OFFSET, TAR_MAGIC = 257, b"ustar"  # torch's oldest (pre-0.4) format was a tar archive
ZIP_END_RECORD = b"PK\x05\x06"
ZIP_END_SEARCH_BYTES = 65536 + 22  # the end record sits within the last 64 KiB comment + its own 22 bytes
SAFETENSORS_MAX_HEADER_BYTES = 100 * 1024 * 1024

TABLE = Path(__file__).with_name("weights_files.json")  # every file, its sources (revisions pinned), size, sha256


@dataclass(frozen=True)
class Source:
    """Where a file can be downloaded: a Hugging Face repo file (at the table's pinned revision) or a URL."""

    hub: str | None = None  # repo id
    file: str | None = None  # path inside the repo
    url: str | None = None
    host: str | None = None  # who serves ``url``, for messages

    @property
    def label(self) -> str:
        return f"huggingface {self.hub}" if self.hub else str(self.host or self.url)


@dataclass(frozen=True)
class WeightFile:
    """One file of the official layout (paths are relative to the models folder)."""

    path: str
    kind: str  # "json" | "torch" | "onnx"
    needed_for: str
    sources: tuple[Source, ...]
    required: bool = True
    option: str | None = None  # fetched only when asked (``--with-dwpose``)
    alternatives: tuple[str, ...] = ()  # other accepted names in the same folder (e.g. a .safetensors copy)
    json_keys: tuple[str, ...] = ()  # keys a valid JSON file of this kind has
    min_bytes_official: int | None = None  # float32 tensor bytes of the official architecture
    official_config: str | None = None  # JSON file whose architecture decides whether min_bytes_official applies
    official_arch: dict[str, Any] = field(default_factory=dict)
    size_bytes: int | None = None  # of the official file
    sha256: str | None = None

    @property
    def source(self) -> str:
        return self.sources[0].label


@dataclass(frozen=True)
class Table:
    revisions: dict[str, str]  # hub repo -> pinned commit
    files: tuple[WeightFile, ...]


def load_table(path: Path = TABLE) -> Table:
    data = json.loads(path.read_text(encoding="utf-8"))
    files = []
    for entry in data["files"]:
        fields: dict[str, Any] = {k: tuple(v) if k in ("alternatives", "json_keys") else v for k, v in entry.items()}
        fields["sources"] = tuple(Source(**src) for src in entry["sources"])
        files.append(WeightFile(**fields))
    return Table(dict(data["revisions"]), tuple(files))


OFFICIAL = load_table()
FILES: tuple[WeightFile, ...] = OFFICIAL.files
BY_PATH = {f.path: f for f in FILES}


def resolve_models_dir(explicit: Path | None = None) -> Path:
    """``explicit`` (``--models-dir``), else ``$PRESGEN_MODELS``, else ``./models``."""
    if explicit is not None:
        return explicit.expanduser()
    env = os.environ.get(MODELS_ENV)
    return Path(env).expanduser() if env else DEFAULT_MODELS_DIR


def fetch_all_command(models_dir: Path) -> str:
    """The command that downloads, checks and puts every missing required file in place."""
    return f"presgen weights fetch --models-dir {shlex.quote(str(models_dir))}"


def fetch_command(wf: WeightFile, models_dir: Path) -> str:
    """The command that downloads, checks and puts ``wf`` in place (with everything else missing)."""
    option = f" --with-{wf.option}" if wf.option else ""
    return f"presgen weights fetch --models-dir {shlex.quote(str(models_dir))}{option}"


def manual_command(wf: WeightFile, models_dir: Path, table: Table = OFFICIAL) -> str:
    """The same file by hand, where there is network but no presgen: the pinned revision, the canonical URL."""
    q = shlex.quote
    src = wf.sources[0]
    if src.url:
        return f"curl -L --create-dirs -o {q(str(models_dir / wf.path))} {q(src.url)}"
    assert src.hub and src.file
    siblings = [
        f.sources[0].file
        for f in table.files
        if f.sources[0].hub == src.hub
        and f.option == wf.option
        and f.path.rsplit("/", 1)[0] == wf.path.rsplit("/", 1)[0]
    ]
    # the hub file's own folders (musetalkV15/) already match the layout; others go into the file's folder
    local = models_dir if "/" in src.file else models_dir / wf.path.rsplit("/", 1)[0]
    return (
        f"huggingface-cli download {src.hub} {' '.join(str(s) for s in siblings)}"
        f" --revision {table.revisions[src.hub]} --local-dir {q(str(local))}"
    )


def present_path(wf: WeightFile, models_dir: Path) -> Path | None:
    """The file in place for ``wf`` (the official name first, then accepted alternatives), or None."""
    first = models_dir / wf.path
    if first.is_file():
        return first
    for alt in wf.alternatives:
        candidate = first.parent / alt
        if candidate.is_file():
            return candidate
    return None


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _is_official_arch(wf: WeightFile, models_dir: Path) -> bool:
    if not wf.official_config:
        return True  # fixed architecture (BiSeNet, ResNet-18)
    try:
        cfg = _read_json(models_dir / wf.official_config)
    except (OSError, ValueError):
        return False
    return isinstance(cfg, dict) and all(cfg.get(k) == v for k, v in wf.official_arch.items())


def _head(path: Path, n: int = 64) -> bytes:
    with path.open("rb") as fh:
        return fh.read(n)


def _looks_like(head: bytes) -> str | None:
    """Name the common wrong things saved in place of a checkpoint."""
    text = head.lstrip().lower()
    if text.startswith(b"version https://git-lfs"):
        return "a Git LFS pointer, not the weights (the large file was never downloaded)"
    if text.startswith((b"<!doctype html", b"<html")):
        return "an HTML page, not the weights (a failed or blocked download)"
    if text.startswith((b"{", b"[")):
        return "a JSON/text file, not the weights"
    return None


def _check_zip(path: Path) -> str | None:
    size = path.stat().st_size
    with path.open("rb") as fh:
        fh.seek(max(0, size - ZIP_END_SEARCH_BYTES))
        tail = fh.read()
    if ZIP_END_RECORD not in tail:
        return "truncated: the archive has no end record (the download stopped early)"
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        return f"damaged zip archive ({exc})"
    if not any(i.filename.endswith("data.pkl") for i in infos):
        return "a zip archive but not a PyTorch checkpoint (no data.pkl inside)"
    end = max(
        (i.header_offset + 30 + len(i.filename.encode()) + len(i.extra) + i.compress_size for i in infos), default=0
    )
    if end > size:
        return f"truncated: its records reach byte {end:,} but the file has {size:,}"
    return None


def _check_safetensors(path: Path) -> str | None:
    size = path.stat().st_size
    with path.open("rb") as fh:
        raw = fh.read(8)
        if len(raw) < 8:
            return "truncated: shorter than a safetensors header"
        (n,) = struct.unpack("<Q", raw)
        if n > min(size - 8, SAFETENSORS_MAX_HEADER_BYTES):
            return "not a safetensors file (bad header length)"
        try:
            header = json.loads(fh.read(n))
        except ValueError:
            return "not a safetensors file (unreadable header)"
    ends = [v["data_offsets"][1] for k, v in header.items() if k != "__metadata__" and isinstance(v, dict)]
    need = 8 + n + max(ends, default=0)
    if need > size:
        return f"truncated: the header promises {need:,} bytes but the file has {size:,}"
    return None


def _check_torch(wf: WeightFile, path: Path, models_dir: Path) -> str | None:
    head = _head(path, TAR_MAGIC_OFFSET + len(TAR_MAGIC))
    if path.suffix == ".safetensors":
        problem = _check_safetensors(path)
    elif head.startswith(ZIP_MAGIC):
        problem = _check_zip(path)
    elif head.startswith(LEGACY_TORCH_MAGIC) or head[TAR_MAGIC_OFFSET:] == TAR_MAGIC:
        problem = None  # old torch.save formats: no end record to check; the size bound below still applies
    else:
        return _looks_like(head) or "not a PyTorch checkpoint (unknown file format)"
    if problem:
        return problem
    size = path.stat().st_size
    if wf.min_bytes_official and size < wf.min_bytes_official and _is_official_arch(wf, models_dir):
        return (
            f"truncated: {size:,} bytes, less than the {wf.min_bytes_official:,} bytes of tensor data"
            f" the official file holds"
        )
    return None


def _check_json(wf: WeightFile, path: Path) -> str | None:
    head = _head(path)
    if (kind := _looks_like(head)) and not kind.startswith("a JSON"):
        return kind
    try:
        data = _read_json(path)
    except (OSError, ValueError) as exc:
        return f"not valid JSON ({exc})"
    if not isinstance(data, dict):
        return "not a JSON object"
    missing = [k for k in wf.json_keys if k not in data]
    if missing:
        return f"not the expected config (no {', '.join(missing)})"
    return None


def _check_onnx(path: Path) -> str | None:
    head = _head(path)
    if (kind := _looks_like(head)) is not None:
        return kind
    if not head or head[0] != 0x08:  # protobuf field 1 (ir_version), varint
        return "not an ONNX model"
    return None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class FileStatus:
    path: str
    status: str  # "ok" | "missing" | "invalid"
    required: bool
    needed_for: str
    source: str
    found: str | None = None
    size_bytes: int | None = None
    problem: str | None = None
    fetch: str = ""  # the presgen command that fetches and checks it
    manual: str = ""  # the same by hand (huggingface-cli or curl, revision pinned)


def check_file(wf: WeightFile, models_dir: Path, verify_hashes: bool = False) -> FileStatus:
    st = FileStatus(
        wf.path,
        "ok",
        wf.required,
        wf.needed_for,
        wf.source,
        fetch=fetch_command(wf, models_dir),
        manual=manual_command(wf, models_dir),
    )
    path = present_path(wf, models_dir)
    if path is None:
        st.status, st.problem = "missing", "missing"
        return st
    st.found = str(path)
    try:
        st.size_bytes = path.stat().st_size
        if st.size_bytes == 0:
            problem: str | None = "empty file (0 bytes)"
        elif wf.kind == "json":
            problem = _check_json(wf, path)
        elif wf.kind == "onnx":
            problem = _check_onnx(path)
        else:
            problem = _check_torch(wf, path, models_dir)
        if (
            problem is None
            and verify_hashes
            and wf.sha256
            and path.name == Path(wf.path).name
            and sha256_of(path) != wf.sha256
        ):
            problem = f"sha256 differs from the official file ({wf.sha256[:12]}...)"
    except OSError as exc:
        problem = f"cannot read it ({exc.strerror or exc})"
    if problem:
        st.status, st.problem = "invalid", problem
    return st


@dataclass
class Report:
    models_dir: str
    complete: bool
    files: list[FileStatus]
    commands: list[str]  # the fetch command, then the manual ones, for the required files missing or invalid

    def to_json(self) -> dict[str, Any]:
        return {
            "models_dir": self.models_dir,
            "complete": self.complete,
            "files": [asdict(f) for f in self.files],
            "commands": self.commands,
        }


def check(models_dir: Path, verify_hashes: bool = False, include_optional: bool = True) -> Report:
    files = [check_file(wf, models_dir, verify_hashes) for wf in FILES if wf.required or include_optional]
    bad = [f for f in files if f.required and f.status != "ok"]
    commands: list[str] = []
    for cmd in [f.fetch for f in bad] + [f.manual for f in bad]:
        if cmd not in commands:
            commands.append(cmd)
    return Report(str(models_dir.resolve() if models_dir.exists() else models_dir), not bad, files, commands)


def first_problem(models_dir: Path, paths: tuple[str, ...] | None = None) -> str | None:
    """One line for an engine's health(): the first required file that is missing or invalid, and its fix."""
    report = check(models_dir, include_optional=False)
    bad = [f for f in report.files if f.status != "ok" and (paths is None or f.path in paths)]
    if not bad:
        return None
    f = bad[0]
    more = f" (and {len(bad) - 1} more file(s); see: presgen weights check)" if len(bad) > 1 else ""
    where = f.found or str(models_dir / f.path)
    what = "missing MuseTalk weights file" if f.status == "missing" else "unusable MuseTalk weights file"
    return f"{what} {where}: {f.problem}; fetch it with: {f.fetch} (by hand: {f.manual}){more}"


def _render_text(report: Report) -> str:
    lines = [f"MuseTalk models folder: {report.models_dir}"]
    for f in report.files:
        mark = {"ok": "ok     ", "missing": "MISSING", "invalid": "INVALID"}[f.status]
        opt = "" if f.required else " (optional)"
        extra = "" if f.status == "ok" else f": {f.problem}"
        lines.append(f"  {mark} {f.path}{opt} - {f.needed_for}{extra}")
    if report.complete:
        lines.append("All required files are in place.")
    else:
        fetch = [c for c in report.commands if c.startswith("presgen ")]
        manual = [c for c in report.commands if not c.startswith("presgen ")]
        lines.append("To fetch what is missing (downloads, checks sizes and sha256, resumes after an interrupt):")
        lines += [f"  {c}" for c in fetch]
        lines.append("Or by hand, where there is network (then copy the folder here):")
        lines += [f"  {c}" for c in manual]
        if any(c.startswith("huggingface-cli") for c in manual):
            lines.append(f"  ({HF_CLI_HINT})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m musetalk_wrapper.weights", description="Check the MuseTalk V1.5 models folder."
    )
    sub = parser.add_subparsers(dest="action", required=True)
    chk = sub.add_parser("check", help="list missing or broken files and the commands that fetch them")
    chk.add_argument("--models-dir", type=Path, help=f"models folder (default: ${MODELS_ENV} or ./models)")
    chk.add_argument("--json", action="store_true", help="print one JSON object")
    chk.add_argument("--verify-hashes", action="store_true", help="also compare sha256 where it is known (slow)")
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return 2 if exc.code else 0
    report = check(resolve_models_dir(args.models_dir), verify_hashes=args.verify_hashes)
    print(json.dumps(report.to_json()) if args.json else _render_text(report))
    return 0 if report.complete else 1


if __name__ == "__main__":
    raise SystemExit(main())
