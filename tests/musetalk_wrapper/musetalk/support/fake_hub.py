"""A local stand-in for the Hugging Face Hub and for plain download hosts, on 127.0.0.1, for the fetch tests.

Hub layout and headers as huggingface_hub reads them (file_download.get_hf_file_metadata / http_get):
``HEAD|GET /<repo>/resolve/<rev>/<file>`` answers a small (git) file with 200, ``ETag`` = its git blob sha1,
``X-Repo-Commit`` and ``Content-Length``; an LFS file with a 302 to ``/cdn/<sha256>`` carrying
``X-Linked-Etag`` (the sha256), ``X-Linked-Size`` and ``X-Repo-Commit``. Unknown files get 404 with
``X-Error-Code: EntryNotFound``, unknown revisions 404 ``RevisionNotFound``. ``GET /cdn/<sha256>`` and
``GET /files/<name>`` serve bytes with ``Range: bytes=N-`` support (206 + ``Content-Range``).

Faults, per served name (the hub file path or the plain file name): ``cut_after`` N bytes on the first full
GET (the connection closes early), ``stall_after`` N bytes on the first GET (then waits until released),
``corrupt`` (one byte flipped in the body, headers still announce the good file). Every request is logged.
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

RANGE = re.compile(r"bytes=(\d+)-$")


@dataclass
class Served:
    data: bytes
    lfs: bool
    cut_after: int | None = None
    stall_after: int | None = None
    corrupt: bool = False
    full_gets: int = 0

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def git_sha1(self) -> str:
        return hashlib.sha1(b"blob %d\0" % len(self.data) + self.data).hexdigest()


@dataclass
class FakeHub:
    revisions: dict[str, str]  # repo -> the one commit it has
    hub_files: dict[tuple[str, str], Served] = field(default_factory=dict)
    plain_files: dict[str, Served] = field(default_factory=dict)
    log: list[tuple[str, str, str | None]] = field(default_factory=list)  # (method, path, Range header)
    release: threading.Event = field(default_factory=threading.Event)
    stalled: threading.Event = field(default_factory=threading.Event)
    url: str = ""

    def add_hub_file(self, repo: str, name: str, data: bytes, lfs: bool) -> Served:
        self.hub_files[(repo, name)] = served = Served(data, lfs)
        return served

    def add_plain_file(self, name: str, data: bytes) -> Served:
        self.plain_files[name] = served = Served(data, lfs=True)
        return served

    def by_name(self, name: str) -> Served:
        return (
            next(s for (_, n), s in self.hub_files.items() if n == name)
            if name not in self.plain_files
            else self.plain_files[name]
        )

    def _by_sha(self, sha: str) -> tuple[str, Served] | None:
        for (_, name), served in self.hub_files.items():
            if served.sha256 == sha:
                return name, served
        return None

    def start(self) -> ThreadingHTTPServer:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_HEAD(self) -> None:
                self._answer(body=False)

            def do_GET(self) -> None:
                self._answer(body=True)

            def _answer(self, body: bool) -> None:
                hub.log.append((self.command, self.path, self.headers.get("Range")))
                parts = self.path.split("?")[0].lstrip("/").split("/")
                if parts[0] == "cdn" and len(parts) == 2 and (found := hub._by_sha(parts[1])):
                    return self._bytes(found[1], body)
                if parts[0] == "files" and len(parts) == 2 and parts[1] in hub.plain_files:
                    return self._bytes(hub.plain_files[parts[1]], body)
                if len(parts) >= 5 and parts[2] == "resolve":
                    return self._resolve("/".join(parts[:2]), parts[3], "/".join(parts[4:]), body)
                self._status(404, {"X-Error-Code": "EntryNotFound"})
                return None

            def _resolve(self, repo: str, rev: str, name: str, body: bool) -> None:
                if repo not in hub.revisions:
                    return self._status(401, {"X-Error-Code": "RepoNotFound"})
                if rev != hub.revisions[repo]:
                    return self._status(404, {"X-Error-Code": "RevisionNotFound"})
                served = hub.hub_files.get((repo, name))
                if served is None:
                    return self._status(404, {"X-Error-Code": "EntryNotFound"})
                common = {"X-Repo-Commit": rev}
                if served.lfs:
                    return self._status(
                        302,
                        {
                            **common,
                            "Location": f"{hub.url}/cdn/{served.sha256}",
                            "X-Linked-Etag": f'"{served.sha256}"',
                            "X-Linked-Size": str(len(served.data)),
                            "ETag": f'"{served.git_sha1}"',
                        },
                    )
                self._bytes(served, body, {**common, "ETag": f'"{served.git_sha1}"'})
                return None

            def _status(self, code: int, headers: dict[str, str]) -> None:
                self.send_response(code)
                for k, v in {**headers, "Content-Length": "0"}.items():
                    self.send_header(k, v)
                self.end_headers()

            def _bytes(self, served: Served, body: bool, headers: dict[str, str] | None = None) -> None:
                data = bytearray(served.data)
                if served.corrupt:
                    data[len(data) // 2] ^= 0xFF
                start = 0
                if (m := RANGE.match(self.headers.get("Range") or "")) and int(m[1]) < len(data):
                    start = int(m[1])
                self.send_response(206 if start else 200)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data) - start))
                self.send_header("Accept-Ranges", "bytes")
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                self.end_headers()
                if not body:
                    return
                payload = bytes(data[start:])
                first = not start and served.full_gets == 0
                if not start:
                    served.full_gets += 1
                if first and served.cut_after is not None:
                    self.wfile.write(payload[: served.cut_after])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                if first and served.stall_after is not None:
                    self.wfile.write(payload[: served.stall_after])
                    self.wfile.flush()
                    hub.stalled.set()
                    hub.release.wait(60)
                    self.close_connection = True
                    return
                self.wfile.write(payload)

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    def stop(self, server: ThreadingHTTPServer) -> None:
        self.release.set()
        server.shutdown()
        server.server_close()


def served_table(hub: FakeHub, official: dict, models: Path, plain: dict[str, str]) -> dict:
    """The official table with each file's size and sha256 replaced by its stand-in's, and the plain URLs
    (``plain``: table path -> served name) pointing at the fake host."""
    table = {"revisions": dict(official["revisions"]), "files": []}
    for official_entry in official["files"]:
        entry = {**official_entry, "sources": [dict(s) for s in official_entry["sources"]]}
        data = (models / entry["path"]).read_bytes() if (models / entry["path"]).is_file() else None
        if data is None:
            continue
        entry["size_bytes"], entry["sha256"] = len(data), hashlib.sha256(data).hexdigest()
        for src in entry["sources"]:
            if "url" in src:
                src["url"] = f"{hub.url}/files/{plain[entry['path']]}"
        table["files"].append(entry)
    return table
