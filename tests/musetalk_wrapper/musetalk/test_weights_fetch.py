"""``python -m musetalk_wrapper.weights_fetch`` against a local stand-in for the Hugging Face Hub and a plain
download host (support/fake_hub.py): files land verified and atomically, an interrupted download resumes,
a corrupted one is rejected and removed, a 404 is one clear line, and offline mode works from the caches."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers import REPO

sys.path.insert(0, str(Path(__file__).resolve().parent / "support"))
from fake_hub import FakeHub

MIB = 1 << 20
HUB_CHUNK = 10 * MIB  # huggingface_hub writes its downloads in 10 MiB chunks
REPO_ID, MIRROR = "org/weights", "org/mirror"
REV, MIRROR_REV = "a" * 40, "b" * 40


def payload(n: int, seed: int) -> bytes:
    return hashlib.sha256(str(seed).encode()).digest() * (n // 32) + b"x" * (n % 32)


FILES = {  # table path -> (content, where it is served)
    "net/config.json": (b'{"layers": 2}\n', "hub"),
    "net/model.bin": (payload(12 * MIB, 1), "hub-lfs"),
    "parse/backbone.pth": (payload(5 * MIB, 2), "url"),
}


@pytest.fixture
def hub() -> Iterator[FakeHub]:
    fake = FakeHub({REPO_ID: REV, MIRROR: MIRROR_REV})
    server = fake.start()
    for rel, (data, where) in FILES.items():
        if where.startswith("hub"):
            fake.add_hub_file(REPO_ID, rel.split("/", 1)[1], data, lfs=where == "hub-lfs")
        else:
            fake.add_plain_file(Path(rel).name, data)
            fake.add_hub_file(MIRROR, Path(rel).name, data, lfs=True)
    yield fake
    fake.stop(server)


def table_for(hub: FakeHub, path: Path, drop: str | None = None) -> Path:
    files = []
    for rel, (data, where) in FILES.items():
        if where.startswith("hub"):
            sources: list[dict[str, str]] = [{"hub": REPO_ID, "file": rel.split("/", 1)[1]}]
        else:
            sources = [
                {"url": f"{hub.url}/files/{Path(rel).name}", "host": "the plain host"},
                {"hub": MIRROR, "file": Path(rel).name},
            ]
        files.append(
            {
                "path": rel,
                "kind": "json" if rel.endswith(".json") else "torch",
                "needed_for": "test",
                "size_bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
                "sources": sources,
            }
        )
    if drop:
        files = [f for f in files if f["path"] != drop]
    path.write_text(json.dumps({"revisions": {REPO_ID: REV, MIRROR: MIRROR_REV}, "files": files}))
    return path


class Fetch:
    """Runs the fetch module as the orchestrator does, with its own HF cache and download cache."""

    def __init__(self, hub: FakeHub, tmp: Path) -> None:
        self.hub, self.tmp = hub, tmp
        self.table = table_for(hub, tmp / "table.json")
        self.env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "HF_ENDPOINT": hub.url,
            "HF_HOME": str(tmp / "hf"),
            "HF_HUB_DISABLE_TELEMETRY": "1",
            "HF_HUB_DOWNLOAD_TIMEOUT": "5",
        }
        self.env.pop("HF_HUB_OFFLINE", None)

    def argv(self, models: Path, *extra: str) -> list[str]:
        return [
            sys.executable,
            "-m",
            "musetalk_wrapper.weights_fetch",
            "--json",
            "--models-dir",
            str(models),
            "--table",
            str(self.table),
            "--download-cache",
            str(self.tmp / "downloads"),
            *extra,
        ]

    def run(self, models: Path, *extra: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, Any], str]:
        proc = subprocess.run(
            self.argv(models, *extra),
            capture_output=True,
            text=True,
            timeout=300,
            env={**self.env, **(env or {})},
            cwd=REPO,
        )
        lines = proc.stdout.strip().splitlines()
        assert len(lines) == 1, f"stdout must be one JSON line: {proc.stdout!r}\n{proc.stderr[-3000:]}"
        assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
        return proc.returncode, json.loads(lines[0]), proc.stderr


def outcomes(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["path"]: f for f in report["files"]}


def assert_in_place(models: Path, *rels: str) -> None:
    for rel in rels:
        assert (models / rel).read_bytes() == FILES[rel][0], rel
    assert not list(models.rglob("*.tmp")), "no temp file may be left"


def test_fetch_places_verified_files_then_finds_them_in_place(hub: FakeHub, tmp_path: Path) -> None:
    fetch = Fetch(hub, tmp_path)
    models = tmp_path / "models"
    code, report, stderr = fetch.run(models)
    assert code == 0 and report["complete"], report
    files = outcomes(report)
    assert {f["status"] for f in files.values()} == {"fetched"}
    assert files["net/model.bin"]["revision"] == REV and files["net/model.bin"]["source"] == f"huggingface {REPO_ID}"
    assert files["parse/backbone.pth"]["source"] == "the plain host"  # the canonical URL first, not the mirror
    assert_in_place(models, *FILES)
    assert "%|" in stderr  # progress bars on stderr
    gets = [p for m, p, _ in hub.log if m == "GET"]
    hub.log.clear()
    code, report, _ = fetch.run(models)
    assert code == 0 and {f["status"] for f in report["files"]} == {"present"}
    assert not hub.log, "files in place and recorded: no request at all"
    assert len(gets) == 3


def test_interrupted_downloads_resume(hub: FakeHub, tmp_path: Path) -> None:
    fetch = Fetch(hub, tmp_path)
    models = tmp_path / "models"
    hub.by_name("model.bin").cut_after = HUB_CHUNK + MIB  # one whole 10 MiB chunk reaches the disk
    hub.by_name("backbone.pth").cut_after = 3 * MIB
    mirror = hub.hub_files[(MIRROR, "backbone.pth")]
    mirror.cut_after = 1  # the mirror is cut too, so the canonical URL's partial file is what resumes
    code, report, _ = fetch.run(models)
    files = outcomes(report)
    assert code == 1 and not report["complete"]
    for rel in ("net/model.bin", "parse/backbone.pth"):
        assert files[rel]["status"] == "failed" and "run the same command again to resume" in files[rel]["problem"]
        assert not (models / rel).exists(), "a half-downloaded file is never placed"
    assert_in_place(models, "net/config.json")
    model_sha = hashlib.sha256(FILES["net/model.bin"][0]).hexdigest()
    assert next((tmp_path / "hf").rglob(f"{model_sha}.incomplete")).stat().st_size == HUB_CHUNK
    assert (next((tmp_path / "downloads").glob("*.part"))).stat().st_size == 3 * MIB
    hub.log.clear()
    code, report, _ = fetch.run(models)
    assert code == 0 and report["complete"], report
    assert_in_place(models, *FILES)
    ranges = {path.split("/")[1]: rng for method, path, rng in hub.log if method == "GET" and rng}
    assert ranges == {"cdn": f"bytes={HUB_CHUNK}-", "files": f"bytes={3 * MIB}-"}, hub.log


def test_corrupted_file_is_rejected_and_not_left_in_place(hub: FakeHub, tmp_path: Path) -> None:
    fetch = Fetch(hub, tmp_path)
    models = tmp_path / "models"
    hub.by_name("model.bin").corrupt = True  # the hub announces the good sha256, sends one flipped byte
    hub.plain_files["backbone.pth"].corrupt = True  # the canonical host too: the mirror has the good file
    code, report, stderr = fetch.run(models)
    files = outcomes(report)
    assert code == 1
    problem = files["net/model.bin"]["problem"]
    assert "differs from the hub's LFS sha256" in problem and "removed from the cache, not placed" in problem
    assert not (models / "net/model.bin").exists()
    blobs = tmp_path / "hf" / "hub" / "models--org--weights" / "blobs"
    assert not [p for p in blobs.iterdir() if p.stat().st_size > MIB], "the corrupted blob is deleted from the cache"
    assert files["parse/backbone.pth"]["status"] == "fetched"
    assert files["parse/backbone.pth"]["source"] == f"huggingface {MIRROR}"
    assert_in_place(models, "parse/backbone.pth", "net/config.json")
    assert not list((tmp_path / "downloads").iterdir()), "the corrupted download is deleted"
    assert "differs from the official" in stderr  # the canonical host's bad copy was named on the way


def test_missing_file_is_one_clear_line(hub: FakeHub, tmp_path: Path) -> None:
    fetch = Fetch(hub, tmp_path)
    del hub.hub_files[(REPO_ID, "model.bin")]
    code, report, _ = fetch.run(tmp_path / "models")
    problem = outcomes(report)["net/model.bin"]["problem"]
    assert code == 1 and "\n" not in problem
    assert problem == f"huggingface {REPO_ID}: HTTP 404, not found: {hub.url}/{REPO_ID}/resolve/{REV}/model.bin"


def test_offline_mode_fetches_from_the_caches_only(hub: FakeHub, tmp_path: Path) -> None:
    fetch = Fetch(hub, tmp_path)
    code, _, _ = fetch.run(tmp_path / "first")
    assert code == 0
    hub.log.clear()
    code, report, _ = fetch.run(tmp_path / "second", env={"HF_HUB_OFFLINE": "1"})
    assert code == 0 and report["offline"] is True and not hub.log
    assert_in_place(tmp_path / "second", *FILES)
    code, report, _ = fetch.run(tmp_path / "third", env={"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "empty")})
    problem = outcomes(report)["net/model.bin"]["problem"]
    assert code == 1 and "offline (HF_HUB_OFFLINE=1) and not in the Hugging Face cache" in problem


def test_revision_override_and_usage_errors(hub: FakeHub, tmp_path: Path) -> None:
    fetch = Fetch(hub, tmp_path)
    code, report, _ = fetch.run(tmp_path / "models", "--revision", f"{REPO_ID}={'c' * 40}")
    assert code == 1 and report["overridden"] == [REPO_ID]
    assert "revision cccc" in outcomes(report)["net/model.bin"]["problem"]
    proc = subprocess.run(
        fetch.argv(tmp_path / "models", "--revision", "nobody/else=main"),
        capture_output=True,
        text=True,
        env=fetch.env,
        cwd=REPO,
    )
    assert proc.returncode == 2 and "--revision takes REPO=REVISION" in proc.stderr


def _ctrl_c_as_in_a_terminal() -> None:
    """In the child: SIGINT delivered and handled by default (a test run may have left it ignored or blocked in
    the process that starts the fetch; a child inherits both)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def _signal_state(pid: int) -> str:
    status = Path(f"/proc/{pid}/status")
    if not status.is_file():
        return "unknown"
    return ", ".join(ln.strip() for ln in status.read_text().splitlines() if ln.startswith(("Sig", "Threads")))


def test_killed_fetch_resumes(hub: FakeHub, tmp_path: Path) -> None:
    """A fetch killed mid-file (Ctrl-C, a closed laptop) leaves no file in the models folder and resumes."""
    fetch = Fetch(hub, tmp_path)
    models = tmp_path / "models"
    hub.by_name("model.bin").stall_after = HUB_CHUNK + MIB
    model_sha = hashlib.sha256(FILES["net/model.bin"][0]).hexdigest()
    # the client waits out the stall (its own read timeout would resume the file before the interrupt on a busy host)
    env = {**fetch.env, "HF_HUB_DOWNLOAD_TIMEOUT": "300"}
    proc = subprocess.Popen(
        fetch.argv(models),
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_ctrl_c_as_in_a_terminal,
    )
    try:
        assert hub.stalled.wait(120), "the download never started"
        partial = tmp_path / "hf" / "hub" / "models--org--weights" / "blobs" / f"{model_sha}.incomplete"
        deadline = time.monotonic() + 60
        while not (partial.is_file() and partial.stat().st_size >= HUB_CHUNK) and time.monotonic() < deadline:
            time.sleep(0.05)  # the first 10 MiB chunk is on disk
        assert partial.is_file() and partial.stat().st_size >= HUB_CHUNK, "the first chunk never reached the disk"
        signals = _signal_state(proc.pid)
        proc.send_signal(signal.SIGINT)
        try:
            _out, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the fetch went on after SIGINT; its signal state then: {signals}")
    finally:
        hub.release.set()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130 and "run the same command again to resume" in err, err[-2000:]
    assert not (models / "net/model.bin").exists()
    hub.log.clear()
    code, report, _ = fetch.run(models)
    assert code == 0 and report["complete"]
    assert_in_place(models, *FILES)
    assert ("GET", f"/cdn/{model_sha}", f"bytes={HUB_CHUNK}-") in hub.log
