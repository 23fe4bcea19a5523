"""The fault suite: hostile inputs and misbehaving engines against the real CLI, each in a sandbox with its own
TMPDIR, cache and output folder. Prints a table (case, expected, observed, leftovers, pass) and exits 1 if any
row fails. `make faults` runs it; tests/presgen_training/test_faults.py runs the same cases under pytest.

Leftovers are files left in the sandbox's TMPDIR, partial files in the output folder and processes still alive.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict, Unpack

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from presgen_training.envs.locate import env_python  # noqa: E402
from presgen_training.ffmpeg import ffmpeg_exe  # noqa: E402

ONE_SECTION = "title: Faults\nsections:\n  - title: Hello\n    narration: Hello there, this is a short test.\n"
TWO_SECTIONS = ONE_SECTION + "  - title: Again\n    narration: And a second short part.\n    bullets: [Second part]\n"
RUN_TIMEOUT_S = 600.0
SIGNAL_WAIT_S = 300.0  # until the engine starts (narration first: piper loads its voice)
# every file a finished render writes
RENDER_OUTPUTS = ("o.mp4", "o.manifest.json", "o.srt", "o.vtt", "o.chapters.vtt", "o.thumbnail.png")


@dataclass
class Outcome:
    passed: bool
    observed: str
    leftovers: list[str] = field(default_factory=list)
    skipped: str | None = None  # why the case could not run here
    details: list[str] = field(default_factory=list)  # the full error lines, for checks on long messages


@dataclass
class Run:
    returncode: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def lines(self) -> list[str]:
        return [ln for ln in self.stderr.splitlines() if ln.startswith("presgen: error:")]

    def brief(self) -> str:
        tail = (self.lines or self.stderr.strip().splitlines() or [""])[-1]
        return f"exit {self.returncode}: {tail[:140]}"


WARM_NARRATION: list[Path] = []  # a narration cache from an earlier case: spoken clips only, never engine work


class RenderFiles(TypedDict, total=False):
    image: Path | str  # the presenter photo, or
    video: Path | str  # the presenter video
    out: Path | str


class Sandbox:
    """A folder with its own TMPDIR, cache, inputs and outputs; `presgen` runs from REPO's venv. The narration
    clips of earlier cases are copied in (the cases are about engines and files, not about speaking again)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.tmp, self.cache, self.inputs, self.out = (root / n for n in ("tmp", "cache", "in", "out"))
        for folder in (self.tmp, self.cache, self.inputs, self.out):
            folder.mkdir(parents=True, exist_ok=True)
        if WARM_NARRATION and WARM_NARRATION[0].is_dir():
            shutil.copytree(WARM_NARRATION[0], self.cache / "narration", dirs_exist_ok=True)
        self.env = {
            **os.environ,
            "TMPDIR": str(self.tmp),
            "PRESGEN_CACHE_DIR": str(self.cache),
            "PRESGEN_CONFIG": "",
            "PYTHONUNBUFFERED": "1",
        }
        self.env.pop("PRESGEN_ENV_PUPPET", None)

    def file(self, name: str, text: str) -> Path:
        path = self.inputs / name
        path.write_text(text)
        return path

    def argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "presgen_training", *args]

    def presgen(
        self, *args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = RUN_TIMEOUT_S
    ) -> Run:
        started = time.monotonic()
        proc = subprocess.run(
            self.argv(*args),
            capture_output=True,
            text=True,
            cwd=cwd or self.root,
            env={**self.env, **(env or {})},
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        return Run(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started)

    def render(
        self,
        script: Path | str,
        *options: str,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        **files: Unpack[RenderFiles],
    ) -> Run:
        """``presgen render`` as render_args gives it, run as ``presgen`` runs."""
        return self.presgen(*self.render_args(script, *options, **files), cwd=cwd, env=env)

    def render_args(self, script: Path | str, *options: str, **files: Unpack[RenderFiles]) -> tuple[str, ...]:
        """``render`` of ``script`` with the presenter ``image`` or ``video`` into ``out`` (default out/o.mp4), then
        ``options``. The source is one ``--source-image=PATH`` word, so its file name may start with '-'."""
        image, video = files.get("image"), files.get("video")
        source = f"--source-image={image}" if image is not None else f"--source-video={video}"
        return ("render", "--script", str(script), source, "--out", str(files.get("out", self.out / "o.mp4")), *options)

    def start(self, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.argv(*args),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=self.root,
            env={**self.env, **(env or {})},
            stdin=subprocess.DEVNULL,
        )

    def leftovers(self, expected_outputs: tuple[str, ...] = ()) -> list[str]:
        found = [f"TMPDIR/{p.relative_to(self.tmp)}" for p in self.tmp.rglob("*")]
        found += [f"out/{p.name}" for p in self.out.iterdir() if p.name not in expected_outputs]
        found += [f"cache/{p.relative_to(self.cache)}" for p in self.cache.rglob("*") if ".partial" in p.name]
        return found


# ------------------------------------------------------------------ inputs the cases share


def face_photo(box: Sandbox) -> Path:
    """scikit-image's astronaut (a real frontal face that ships in the wheel)."""
    path = box.inputs / "me.png"
    if not path.exists():
        subprocess.run(
            [sys.executable, str(REPO / "examples" / "presenter_photo.py"), str(path)], check=True, capture_output=True
        )
    return path


def faceless_photo(box: Sandbox) -> Path:
    path = box.inputs / "wall.png"
    ff(["-f", "lavfi", "-i", "gradients=s=640x480:d=1", "-frames:v", "1", str(path)])
    return path


def tiny_video(box: Sandbox, name: str = "clip.mp4") -> Path:
    path = box.inputs / name
    ff(["-f", "lavfi", "-i", "testsrc2=s=320x240:r=25:d=2", "-pix_fmt", "yuv420p", str(path)])
    return path


def ff(args: list[str]) -> None:
    subprocess.run([ffmpeg_exe(), "-v", "error", "-y", *args], check=True, capture_output=True)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


FAKE_HEAD = f"""#!{sys.executable}
import json, os, signal, subprocess, sys, time
opts = dict(a[2:].split("=", 1) for a in sys.argv[1:] if a.startswith("--") and "=" in a)
out, audio = opts.get("output"), opts.get("audio")
if "--check" in sys.argv:
    print(json.dumps({{"engine": "puppet", "healthy": True, "reason": None, "fix": [], "schema_version": 2}}))
    sys.exit(0)
if opts.get("segments") == "-":  # started ahead: the one clip comes on stdin, the answer is a batch of one
    clip = (json.loads(sys.stdin.read() or "{{}}").get("segments") or [{{}}])[0]
    out, audio = clip.get("output"), clip.get("audio")
    one_object = json.dumps

    def as_batch(obj, **kw):
        if isinstance(obj, dict) and obj.get("success") and "output_path" in obj:
            clip_result = {{k: v for k, v in obj.items() if k != "schema_version"}}
            obj = {{"success": True, "engine": "puppet", "message": "fake", "segments": [clip_result],
                   "timings_s": {{}}, "warnings": [], "schema_version": 2}}
        return one_object(obj, **kw)

    json.dumps = as_batch
"""
FAKE_RENDER = """import imageio_ffmpeg
d = float(subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), '-i', audio], capture_output=True, text=True).stderr
          .split('Duration: ')[1].split(',')[0].split(':')[2])
subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), '-v', 'error', '-y', '-f', 'lavfi', '-i',
                f'testsrc2=s=320x240:r=25:d={d}', '-i', audio, '-shortest', '-pix_fmt', 'yuv420p', out], check=True)
RESULT = {'success': True, 'output_path': out, 'engine': 'puppet', 'message': 'fake', 'duration_s': d, 'fps': 25,
          'frames': round(d * 25), 'timings_s': {}, 'warnings': [], 'schema_version': 2}
"""


def fake_engine(box: Sandbox, name: str, body: str) -> Path:
    path = box.inputs / f"fake-{name}"
    path.write_text(FAKE_HEAD + textwrap.dedent(body))
    path.chmod(0o755)
    return path


def pid_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, IndexError):
        return False
    return state != "Z"


def group_members(pgid: int) -> list[int]:
    """The running processes (not zombies) of process group ``pgid``."""
    members = []
    for entry in Path("/proc").iterdir():
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split() if entry.name.isdigit() else []
        except (FileNotFoundError, ProcessLookupError):
            continue
        if fields and int(fields[2]) == pgid and fields[0] != "Z":
            members.append(int(entry.name))
    return members


def engine_child(pid: int) -> int | None:
    """The wrapper process ``pid`` started (``python -m musetalk_wrapper``), if it runs."""
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(FileNotFoundError, ProcessLookupError):
            for child in (task / "children").read_text().split():
                cmdline = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
                if b"musetalk_wrapper" in cmdline:
                    return int(child)
    return None


def wait_for(path: Path, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if path.exists() and path.stat().st_size:
            return True
        time.sleep(0.1)
    return False


def one_line_error(run: Run, *needles: str) -> bool:
    return (
        len(run.lines) == 1
        and "Traceback" not in run.stderr
        and all(n.lower() in run.lines[0].lower() for n in needles)
    )


# ------------------------------------------------------------------ the cases

Check = Callable[[Sandbox], Outcome]
CASES: dict[str, tuple[str, Check]] = {}


def case(name: str, expected: str, needs_puppet_env: bool = False) -> Callable[[Check], Check]:
    def register(fn: Check) -> Check:
        CASES[name] = (expected, _skipped_without_puppet_env(fn) if needs_puppet_env else fn)
        return fn

    return register


def _skipped_without_puppet_env(check: Check) -> Check:
    def guarded(box: Sandbox) -> Outcome:
        if env_python("puppet")[0] is None:
            return Outcome(False, "", skipped="the puppet env is not built (make env-puppet)")
        return check(box)

    return guarded


@case(
    "relative-paths",
    "run from another folder with relative paths and a '-' file name: puppet talks, exit 0",
    needs_puppet_env=True,
)
def relative_paths(box: Sandbox) -> Outcome:
    shutil.copy(face_photo(box), box.inputs / "-me.png")
    box.file("s.yaml", ONE_SECTION)
    elsewhere = box.root / "elsewhere"
    elsewhere.mkdir()
    run = box.render(
        "../in/s.yaml", "--quality", "fast", "--json", image="../in/-me.png", out="../out/o.mp4", cwd=elsewhere
    )
    engine = json.loads(run.stdout)["avatar"]["engine"] if run.returncode == 0 else None
    left = box.leftovers(RENDER_OUTPUTS)
    return Outcome(
        run.returncode == 0 and engine == "puppet" and not left,
        f"exit {run.returncode}, presenter {engine}" if run.returncode == 0 else run.brief(),
        left,
    )


@case("out-is-input", "--out naming an input (directly, via a symlink, via ./x/../): exit 2, input untouched")
def out_is_input(box: Sandbox) -> Outcome:
    video = tiny_video(box)
    script = box.file("s.yaml", ONE_SECTION)
    (box.inputs / "link.mp4").symlink_to(video)
    before = sha(video)
    observed, ok = [], True
    for out in (str(video), str(box.inputs / "link.mp4"), str(box.inputs / "x" / ".." / "clip.mp4")):
        run = box.render(script, video=video, out=out)
        ok &= run.returncode == 2 and one_line_error(run, "refusing to overwrite", str(video)) and run.seconds < 60
        observed.append(f"exit {run.returncode}")
    ok &= sha(video) == before
    left = box.leftovers()
    return Outcome(ok and not left, ", ".join(observed) + ("" if sha(video) == before else "; INPUT CHANGED"), left)


def _interrupt(box: Sandbox, sig: int) -> Outcome:
    """Stop a render while its engine is running (quiet, with a child): every child stopped, partial files and
    work folders removed, the previous output byte-identical, exit 128 + the signal."""
    marker = box.inputs / "engine.pid"
    fake = fake_engine(
        box,
        "slow",
        f"""
        child = subprocess.Popen(['sleep', '3600'])
        open({str(marker)!r}, 'w').write(f"{{os.getpid()}} {{child.pid}}")
        time.sleep(3600)
    """,
    )
    script = box.file("s.yaml", ONE_SECTION)
    previous = box.out / "o.mp4"
    previous.write_bytes(b"previous good video")
    before = sha(previous)
    proc = box.start(
        *box.render_args(
            script, "--avatar", "puppet", "--engine-python", str(fake), image=face_photo(box), out=previous
        )
    )
    if not wait_for(marker, SIGNAL_WAIT_S):
        proc.kill()
        return Outcome(False, f"the engine never started: {proc.communicate()[1][-200:]}")
    engine_pid, child_pid = (int(v) for v in marker.read_text().split())
    proc.send_signal(sig)
    try:
        _, _err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        return Outcome(False, "presgen did not stop within 30 s of the signal")
    alive = [pid for pid in (engine_pid, child_pid) if pid_alive(pid)]
    for pid in alive:
        os.kill(pid, signal.SIGKILL)
    left = box.leftovers(("o.mp4",)) + [f"process {pid}" for pid in alive]
    same = sha(previous) == before
    ok = proc.returncode == 128 + sig and same and not left
    return Outcome(ok, f"exit {proc.returncode}, previous output {'kept' if same else 'CHANGED'}", left)


@case("sigint-engine", "Ctrl-C while the engine is quiet: engine group stopped, nothing left, exit 130")
def sigint_engine(box: Sandbox) -> Outcome:
    return _interrupt(box, signal.SIGINT)


@case("sigterm-engine", "SIGTERM while the engine is quiet: engine group stopped, nothing left, exit 143")
def sigterm_engine(box: Sandbox) -> Outcome:
    return _interrupt(box, signal.SIGTERM)


@case("sighup-engine", "SIGHUP while the engine is quiet: engine group stopped, nothing left, exit 129")
def sighup_engine(box: Sandbox) -> Outcome:
    return _interrupt(box, signal.SIGHUP)


LONG_SECTION = (
    "title: Faults\nsections:\n  - title: Long\n    narration: >-\n      "
    + " ".join(["This part keeps the presenter talking for a while, so that the engine is busy."] * 6)
    + "\n"
)
ORPHAN_STOP_S = 8.0  # the engine polls its parent every 0.5 s, then unwinds (ffmpeg stopped, partial file removed)


@case(
    "sigkill-presgen",
    "presgen killed with SIGKILL while the engine renders (a killed Ray worker): engine stops, no partial clip",
    needs_puppet_env=True,
)
def sigkill_presgen(box: Sandbox) -> Outcome:
    python, _ = env_python("puppet")
    # the real engine, quiet: one that prints progress would die of the broken pipe at its next line anyway
    quiet = box.inputs / "quiet-puppet"
    quiet.write_text(f'#!/bin/sh\nexec {python} "$@" --quiet\n')
    quiet.chmod(0o755)
    script = box.file("s.yaml", LONG_SECTION)
    proc = box.start(
        *box.render_args(script, "--avatar", "puppet", "--engine-python", str(quiet), image=face_photo(box))
    )
    deadline = time.monotonic() + SIGNAL_WAIT_S
    while (engine := engine_child(proc.pid)) is None and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    if engine is None:
        proc.kill()
        return Outcome(False, f"the engine never started: {proc.communicate()[1][-200:]}")
    time.sleep(1.0)  # rendering, with its ffmpeg
    proc.kill()
    proc.communicate()
    deadline = time.monotonic() + ORPHAN_STOP_S
    while group_members(engine) and time.monotonic() < deadline:
        time.sleep(0.1)
    alive = group_members(engine)
    for pid in alive:
        os.kill(pid, signal.SIGKILL)
    # presgen itself had no chance to clean its work folder or its output's lock file (the lock itself went with
    # it): what the engine wrote is what counts
    left = [p for p in box.leftovers() if not p.startswith("TMPDIR/") and not p.endswith(".lock")]
    left += [f"process {pid}" for pid in alive]
    said = "engine stopped" if not alive else f"engine still running {ORPHAN_STOP_S:.0f} s later"
    return Outcome(not left, said, left)


@case("sigterm-ffmpeg", "SIGTERM while ffmpeg writes the final file: ffmpeg stopped, no partial file, exit 143")
def sigterm_ffmpeg(box: Sandbox) -> Outcome:
    marker = box.inputs / "ffmpeg.pid"
    slow = box.inputs / "slow-ffmpeg"
    slow.write_text(f"""#!/bin/sh
case "$*" in *concat*) echo $$ > {marker}; exec sleep 3600;; esac
exec {ffmpeg_exe()} "$@"
""")
    slow.chmod(0o755)
    script = box.file("s.yaml", ONE_SECTION)
    fake = fake_engine(box, "ok", FAKE_RENDER + "print(json.dumps(RESULT))\n")
    proc = box.start(
        *box.render_args(script, "--avatar", "puppet", "--engine-python", str(fake), image=face_photo(box)),
        env={"IMAGEIO_FFMPEG_EXE": str(slow)},
    )
    if not wait_for(marker, SIGNAL_WAIT_S):
        proc.kill()
        return Outcome(False, f"the join never started: {proc.communicate()[1][-300:]}")
    pid = int(marker.read_text())
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    try:
        proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        return Outcome(False, "presgen did not stop within 30 s of SIGTERM")
    alive = [pid] if pid_alive(pid) else []
    for p in alive:
        os.kill(p, signal.SIGKILL)
    left = box.leftovers() + [f"ffmpeg {p}" for p in alive]
    return Outcome(proc.returncode == 143 and not left, f"exit {proc.returncode}", left)


@case("grandchild-holds-stdout", "engine answers and exits, its child keeps stdout: answer used, child stopped")
def grandchild(box: Sandbox) -> Outcome:
    marker = box.inputs / "child.pid"
    fake = fake_engine(
        box,
        "grandchild",
        FAKE_RENDER
        + f"""
print(json.dumps(RESULT), flush=True)
child = subprocess.Popen(['sleep', '3600'])
open({str(marker)!r}, 'w').write(str(child.pid))
""",
    )
    script = box.file("s.yaml", ONE_SECTION)
    run = box.render(script, "--avatar", "puppet", "--engine-python", str(fake), "--json", image=face_photo(box))
    child = int(marker.read_text()) if marker.exists() else 0
    time.sleep(0.2)
    alive = pid_alive(child) if child else False
    if alive:
        os.kill(child, signal.SIGKILL)
    engine = json.loads(run.stdout)["avatar"]["engine"] if run.returncode == 0 else None
    left = box.leftovers(RENDER_OUTPUTS) + (["child"] if alive else [])
    return Outcome(
        run.returncode == 0 and engine == "puppet" and not left,
        f"exit {run.returncode}, presenter {engine}" if run.returncode == 0 else run.brief(),
        left,
    )


def _fake_engine_case(box: Sandbox, body: str, code: str) -> Outcome:
    """An explicitly chosen engine that misbehaves: exit 1, one line with the reason, nothing written."""
    script = box.file("s.yaml", ONE_SECTION)
    fake = fake_engine(box, code.lower(), body)
    run = box.render(
        script, "--avatar", "puppet", "--engine-python", str(fake), "--avatar-timeout", "5", image=face_photo(box)
    )
    left = box.leftovers()
    return Outcome(
        run.returncode == 1 and one_line_error(run, "puppet") and not left, run.brief(), left, details=run.lines
    )


BOUNDARY = {
    "engine-hangs": ("time.sleep(3600)\n", "gave no answer"),
    "engine-prints-junk": ("print('Loading...'); print('{not json')\n", "junk"),
    "engine-two-objects": ("print(json.dumps({'a': 1})); print(json.dumps({'b': 2}))\n", "more than one"),
    "engine-lies-about-output": (
        FAKE_RENDER + "RESULT['output_path'] = out + '.other.mp4'\nprint(json.dumps(RESULT))\n",
        "instead of the requested",
    ),
    "engine-wrong-duration": (FAKE_RENDER.replace("d={d}", "d={d / 2}") + "print(json.dumps(RESULT))\n", "lasts"),
    "engine-100mb-stdout": ("sys.stdout.write('x' * (100 << 20)); sys.stdout.flush()\n", "more than"),
    "engine-stderr-flood": (
        FAKE_RENDER + "[print('noise ' * 20, file=sys.stderr) for _ in range(300000)]\nprint(json.dumps(RESULT))\n",
        "",
    ),
    "engine-sigkilled": ("os.kill(os.getpid(), signal.SIGKILL)\n", "printed nothing"),
}


def _boundary_case(name: str, body: str, needle: str) -> None:
    expected = "a chatty engine still renders: exit 0" if not needle else f"exit 1, one line: '{needle}'"

    def check(box: Sandbox) -> Outcome:
        if not needle:
            script = box.file("s.yaml", ONE_SECTION)
            run = box.render(
                script,
                "--avatar",
                "puppet",
                "--engine-python",
                str(fake_engine(box, name, body)),
                image=face_photo(box),
            )
            left = box.leftovers(RENDER_OUTPUTS)
            return Outcome(run.returncode == 0 and not left, run.brief(), left)
        outcome = _fake_engine_case(box, body, name)
        outcome.passed &= needle in outcome.observed or any(needle in line for line in outcome.details)
        return outcome

    CASES[name] = (expected, check)


for _name, (_body, _needle) in BOUNDARY.items():
    _boundary_case(_name, _body, _needle)


@case("missing-interpreter", "--engine-python that does not exist: exit 1 at once, naming it")
def missing_interpreter(box: Sandbox) -> Outcome:
    script = box.file("s.yaml", ONE_SECTION)
    run = box.render(script, "--avatar", "puppet", "--engine-python", str(box.inputs / "nope"), image=face_photo(box))
    left = box.leftovers()
    return Outcome(
        run.returncode == 1 and one_line_error(run, "interpreter not found") and run.seconds < 30 and not left,
        run.brief(),
        left,
    )


@case("health-that-lies", "env check with a MediaPipe model file gone: not healthy, names the fix")
def health_lies(box: Sandbox) -> Outcome:
    python, _ = env_python("puppet")
    if python is None:
        return Outcome(False, "", skipped="the puppet env is not built (make env-puppet)")
    found = subprocess.run(
        [str(python), "-c", "import mediapipe, os; print(os.path.dirname(mediapipe.__file__))"],
        capture_output=True,
        text=True,
    )
    copy = box.root / "shadow" / "mediapipe"
    shutil.copytree(found.stdout.strip(), copy)
    for model in copy.rglob("face_landmark_with_attention.tflite"):
        model.unlink()
    shim = box.inputs / "python"
    shim.write_text(f'#!/bin/sh\nPYTHONPATH="{copy.parent}:$PYTHONPATH" exec {python} "$@"\n')
    shim.chmod(0o755)
    run = box.presgen("env", "check", "puppet", env={"PRESGEN_ENV_PUPPET": str(shim)})
    ok = run.returncode == 1 and "presgen env create puppet --force" in run.stdout and "Traceback" not in run.stdout
    last = (run.stdout.strip().splitlines() or [""])[-1]
    return Outcome(ok, f"exit {run.returncode}: {last[:120]}", box.leftovers())


@case("read-only-output-folder", "--out in a folder that cannot be written: exit 1 in seconds, one line")
def read_only_out(box: Sandbox) -> Outcome:
    locked = box.root / "locked"
    locked.mkdir()
    if subprocess.run(["chattr", "+i", str(locked)], capture_output=True).returncode != 0:
        return Outcome(False, "", skipped="chattr +i is not available (e2fsprogs, root, ext4)")
    try:
        script = box.file("s.yaml", ONE_SECTION)
        run = box.render(script, image=face_photo(box), out=locked / "o.mp4")
    finally:
        subprocess.run(["chattr", "-i", str(locked)], capture_output=True)
    left = box.leftovers() + [f"locked/{p.name}" for p in locked.iterdir()]
    ok = run.returncode == 1 and one_line_error(run, str(locked)) and run.seconds < 30 and not left
    return Outcome(ok, run.brief(), left)


@contextlib.contextmanager
def tiny_tmpfs(folder: Path, size: str) -> Iterator[bool]:
    folder.mkdir(parents=True, exist_ok=True)
    mounted = (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], capture_output=True
        ).returncode
        == 0
    )
    try:
        yield mounted
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(folder)], capture_output=True)


@case("full-tmpdir", "TMPDIR with 3 MB free: exit 1, one line saying where and how much, nothing left")
def full_tmpdir(box: Sandbox) -> Outcome:
    small = box.root / "small-tmp"
    with tiny_tmpfs(small, "3m") as mounted:
        if not mounted:
            return Outcome(False, "", skipped="cannot mount a tmpfs here (needs root)")
        script = box.file("s.yaml", TWO_SECTIONS)
        run = box.render(script, "--avatar", "static", image=face_photo(box), env={"TMPDIR": str(small)})
        left = [f"TMPDIR/{p.name}" for p in small.iterdir()] + box.leftovers()
    ok = run.returncode == 1 and one_line_error(run, "space") and not left
    return Outcome(ok, run.brief(), left)


@case(
    "explicit-puppet-no-face",
    "--avatar puppet with a photo without a face: exit 1 naming the cause and --fallback",
    needs_puppet_env=True,
)
def explicit_no_face(box: Sandbox) -> Outcome:
    script = box.file("s.yaml", ONE_SECTION)
    run = box.render(script, "--avatar", "puppet", image=faceless_photo(box))
    left = box.leftovers()
    ok = run.returncode == 1 and one_line_error(run, "no face", "--fallback") and not left
    return Outcome(ok, run.brief(), left)


@case(
    "fallback-flag", "the same with --fallback: exit 0, static presenter, the console says why", needs_puppet_env=True
)
def fallback_flag(box: Sandbox) -> Outcome:
    script = box.file("s.yaml", ONE_SECTION)
    run = box.render(script, "--avatar", "puppet", "--fallback", "--json", image=faceless_photo(box))
    engine = json.loads(run.stdout)["avatar"]["engine"] if run.returncode == 0 else None
    said = "puppet failed" in run.stderr and "no face" in run.stderr
    left = box.leftovers(RENDER_OUTPUTS)
    return Outcome(
        run.returncode == 0 and engine == "static" and said and not left,
        f"exit {run.returncode}, presenter {engine}, said why: {said}",
        left,
    )


@case("tiny-image", "a 1x1 photo: 'too small', with the minimum size, exit 1")
def tiny_image(box: Sandbox) -> Outcome:
    image = box.inputs / "dot.png"
    ff(["-f", "lavfi", "-i", "color=c=red:s=1x1:d=1", "-frames:v", "1", str(image)])
    run = box.render(box.file("s.yaml", ONE_SECTION), image=image)
    return Outcome(run.returncode == 1 and one_line_error(run, "too small", "64x64"), run.brief(), box.leftovers())


@case("video-as-image", "a video passed as --source-image: exit 2 at once, pointing at --source-video")
def video_as_image(box: Sandbox) -> Outcome:
    run = box.render(box.file("s.yaml", ONE_SECTION), image=tiny_video(box))
    ok = run.returncode == 2 and one_line_error(run, "--source-video") and run.seconds < 30
    return Outcome(ok, run.brief(), box.leftovers())


@case("two-renders-one-output", "two renders to the same --out at once: the second refuses, the first completes")
def two_renders(box: Sandbox) -> Outcome:
    script = box.file("s.yaml", ONE_SECTION)
    fake = fake_engine(box, "slowish", "time.sleep(8)\n" + FAKE_RENDER + "print(json.dumps(RESULT))\n")
    args = box.render_args(script, "--avatar", "puppet", "--engine-python", str(fake), image=face_photo(box))
    first = box.start(*args)
    time.sleep(2.0)
    second = box.presgen(*args)
    _, _err = first.communicate(timeout=RUN_TIMEOUT_S)
    ok = first.returncode == 0 and second.returncode == 1 and one_line_error(second, "another presgen")
    left = box.leftovers(RENDER_OUTPUTS)
    return Outcome(ok and not left, f"first exit {first.returncode}, second {second.brief()}", left)


@case("output-mode-follows-umask", "outputs get the mode the umask gives new files (0644 under umask 022)")
def output_mode(box: Sandbox) -> Outcome:
    script = box.file("s.yaml", ONE_SECTION)
    run = box.render(script, "--avatar", "static", image=face_photo(box))
    modes = {p.name: oct(p.stat().st_mode & 0o777) for p in box.out.iterdir()}
    ok = run.returncode == 0 and modes and set(modes.values()) == {oct(0o666 & ~_umask())}
    return Outcome(
        bool(ok),
        f"exit {run.returncode}, modes {sorted(set(modes.values()))}",
        box.leftovers(RENDER_OUTPUTS),
    )


def _umask() -> int:
    current = os.umask(0o022)
    os.umask(current)
    return current


@case("no-progress-tty", "stderr not a terminal: a line per stage, 'failed' for a failed stage")
def progress_lines(box: Sandbox) -> Outcome:
    script = box.file("s.yaml", ONE_SECTION)
    run = box.render(
        script, "--avatar", "puppet", "--engine-python", str(box.inputs / "nope"), image=faceless_photo(box)
    )
    ok_run = box.render(script, "--avatar", "static", image=face_photo(box))
    stages = [ln for ln in ok_run.stderr.splitlines() if ln.startswith("presgen: ") and " done in " in ln]
    ok = ok_run.returncode == 0 and len(stages) >= 4 and "done in" not in run.stderr
    return Outcome(ok, f"{len(stages)} stage lines", box.leftovers(RENDER_OUTPUTS))


# ------------------------------------------------------------------ running


def run_case(name: str, root: Path, warm: Path | None = None) -> Outcome:
    """Run one case in ``root``; ``warm``: a folder that keeps narration clips from case to case."""
    if warm is not None and not WARM_NARRATION:
        WARM_NARRATION.append(warm)
    _expected, check = CASES[name]
    box = Sandbox(root)
    try:
        return check(box)
    except Exception as exc:  # a case that crashes is a failed row, with its reason
        return Outcome(False, f"the case crashed: {type(exc).__name__}: {exc}"[:200])
    finally:
        spoken = box.cache / "narration"
        if WARM_NARRATION and spoken.is_dir():
            shutil.copytree(spoken, WARM_NARRATION[0], dirs_exist_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", help=f"cases to run (default: all): {', '.join(CASES)}")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args(argv)
    names = args.cases or list(CASES)
    unknown = [n for n in names if n not in CASES]
    if unknown:
        parser.error(f"unknown case(s): {', '.join(unknown)}")
    rows = []
    warm = Path(tempfile.mkdtemp(prefix="presgen-fault-narration-"))
    for name in names:
        with tempfile.TemporaryDirectory(prefix=f"presgen-fault-{name}-") as tmp:
            started = time.monotonic()
            outcome = run_case(name, Path(tmp), warm)
            rows.append(
                {
                    "case": name,
                    "expected": CASES[name][0],
                    "observed": outcome.observed,
                    "leftovers": outcome.leftovers,
                    "skipped": outcome.skipped,
                    "pass": outcome.passed or outcome.skipped is not None,
                    "seconds": round(time.monotonic() - started, 1),
                }
            )
        row = rows[-1]
        mark = "skip" if row["skipped"] else ("PASS" if row["pass"] else "FAIL")
        print(
            f"{mark:<5} {name:<26} {row['seconds']:>6.1f} s  {row['skipped'] or row['observed']}"
            + (f"  leftovers: {row['leftovers']}" if row["leftovers"] else ""),
            flush=True,
        )
    shutil.rmtree(warm, ignore_errors=True)
    failed = [r for r in rows if not r["pass"]]
    skipped = [r for r in rows if r["skipped"]]
    print(
        f"\nfault suite: {len(rows) - len(failed) - len(skipped)} passed, {len(failed)} failed, "
        f"{len(skipped)} skipped of {len(rows)} cases"
    )
    if args.json:
        print(json.dumps(rows, indent=1))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
