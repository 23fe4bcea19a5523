"""Engine internals that need MediaPipe and OpenCV, run inside the puppet env as small scripts: the profile
check, the exactness of the warp outside the lower face, and mouth shapes re-detected by MediaPipe."""
from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest
from helpers import REPO

pytestmark = pytest.mark.puppet_env


def _run(python: Path, script: str, *args: str) -> Any:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.run([str(python), "-c", textwrap.dedent(script), *args], capture_output=True, text=True,
                          env=env, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_turned_faces_are_judged_by_yaw(puppet_python: Path, media_dir: Path) -> None:
    """Real landmarks of man.png, turned about the vertical axis in 3D and projected back."""
    out = _run(puppet_python, """
        import json, sys
        import numpy as np
        from pathlib import Path
        from musetalk_wrapper.media import load_image
        from musetalk_wrapper.engines.puppet.tracking import Detection, FaceMesh, check_face
        img = load_image(Path(sys.argv[1]))
        mesh = FaceMesh(video=False)
        det = mesh.detect(img)
        mesh.close()
        h, w = img.shape[:2]
        xyz = np.column_stack([det.points, det.depth])
        centre = xyz.mean(axis=0)
        result = {}
        for deg in (0, 20, 40, 70):
            a = np.radians(deg)
            rot = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])
            p = (xyz - centre) @ rot.T + centre
            check = check_face(Detection(points=p[:, :2], depth=p[:, 2]), w, h)
            result[deg] = [check.usable, check.reason, round(abs(check.yaw_deg))]
        print(json.dumps(result))
    """, str(media_dir / "man.png"))
    assert out["0"][0] and out["0"][2] < 10
    assert out["20"][0] and 10 <= out["20"][2] <= 30
    assert out["40"][0], out
    assert out["70"] [:2] == [False, "face in profile"] and out["70"][2] > 50


def test_only_the_lower_face_changes_and_the_mouth_obeys(puppet_python: Path, media_dir: Path,
                                                         tmp_path: Path) -> None:
    """Before encoding: every pixel above the nose tip equals the source's, in every frame; MediaPipe finds
    the mouth closed where the engine closed it and open where it opened it (sun.mp4 smiles with open lips)."""
    audio = tmp_path / "a.wav"
    out = _run(puppet_python, """
        import json, sys
        import numpy as np
        from pathlib import Path
        from musetalk_wrapper.media import run_ffmpeg
        from musetalk_wrapper.progress import Progress
        from musetalk_wrapper.request import RenderRequest
        from musetalk_wrapper.engines.puppet.landmarks import NOSE_TIP, inner_lip_gap
        from musetalk_wrapper.engines.puppet.lower_face import MouthShape, apply_mouth, build_rig
        from musetalk_wrapper.engines.puppet.pipeline import prepare, render_frames
        from musetalk_wrapper.engines.puppet.tracking import FaceMesh
        media, audio = Path(sys.argv[1]), Path(sys.argv[2])
        run_ffmpeg(["-ss", "2", "-t", "3", "-i", str(media / "eng.wav"), str(audio)], "cutting audio")
        changed_above, changed_below = 0, 0
        for kind, src in (("video", media / "sun.mp4"), ("image", media / "man.png")):
            req = RenderRequest(audio=audio, output=audio.with_suffix(".mp4"), motion=False, **{kind: src})
            prep = prepare(req, Progress(enabled=False))
            for i, (img, pts) in enumerate(render_frames(prep)):
                source = np.asarray(prep.frames[0 if prep.is_photo else i])
                nose_y = int(np.floor(prep.track.points[0 if prep.is_photo else i][NOSE_TIP, 1]))
                changed_above += int(np.any(img[:nose_y] != source[:nose_y]))
                changed_below += int(np.any(img[nose_y:] != source[nose_y:]))
            prep.close()
        # closing and opening sun's smile, judged by a fresh MediaPipe detection
        prep = prepare(RenderRequest(audio=audio, output=audio.with_suffix(".mp4"), video=media / "sun.mp4"),
                       Progress(enabled=False))
        frame, pts = np.array(prep.frames[0]), prep.track.points[0]
        rig = build_rig(pts, frame)
        mesh = FaceMesh(video=False)
        gaps = {}
        for label, shape in (("source", None), ("closed", MouthShape(0.0, 0.0, 0.3)),
                             ("open", MouthShape(1.0, 0.0, 0.3)), ("rounded", MouthShape(0.5, -1.0, 0.3))):
            img = frame.copy()
            if shape is not None:
                apply_mouth(img, pts, shape, rig)
            det = mesh.detect(img)
            p = det.points
            gaps[label] = [inner_lip_gap(p), float(np.hypot(*(p[291] - p[61])) / np.hypot(*(p[263] - p[33])))]
        prep.close()
        print(json.dumps({"changed_above": changed_above, "changed_below": changed_below, "gaps": gaps}))
    """, str(media_dir), str(audio))
    assert out["changed_above"] == 0
    assert out["changed_below"] >= 100  # 75 video frames + 75 photo frames, most of them speaking
    g = out["gaps"]
    assert g["source"][0] > 0.05  # sun smiles with her lips apart ...
    assert g["closed"][0] < 0.02  # ... the engine closes them
    assert g["open"][0] > 0.1
    assert g["rounded"][1] < 0.9 * g["open"][1]  # rounded lips make a narrower mouth
