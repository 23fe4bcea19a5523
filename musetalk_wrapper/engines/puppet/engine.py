"""PuppetEngine: the default avatar engine where no MuseTalk weights exist (see the package docstring)."""
from __future__ import annotations

import time

from musetalk_wrapper.contract import EngineError, EngineOutput, Unhealthy, rebuild_env_command, unavailable_missing_package
from musetalk_wrapper.engines.puppet import ENV
from musetalk_wrapper.media import VideoWriter
from musetalk_wrapper.progress import Progress
from musetalk_wrapper.request import RenderRequest

MEDIAPIPE_VERSION = "0.10.21"
HEALTH_FRAME_PX = 64  # side of the blank frame the health check runs the face mesh on


class PuppetEngine:
    name = "puppet"

    def health(self, request: RenderRequest | None) -> Unhealthy | None:
        fix = (rebuild_env_command(ENV),)
        for module, package in (("numpy", "numpy"), ("cv2", "opencv-contrib-python"), ("mediapipe", "mediapipe")):
            try:
                __import__(module)
            except ImportError:
                return Unhealthy(unavailable_missing_package(package, ENV, module).message, fix)
        import mediapipe as mp

        if not hasattr(getattr(mp, "solutions", None), "face_mesh"):
            return Unhealthy(f"mediapipe {getattr(mp, '__version__', '?')} has no mp.solutions.face_mesh; "
                             f"the puppet engine needs mediapipe=={MEDIAPIPE_VERSION}; run: {fix[0]}", fix)
        return _graph_starts()

    def render(self, request: RenderRequest, progress: Progress) -> EngineOutput:
        from musetalk_wrapper.engines.puppet.landmarks import face_box
        from musetalk_wrapper.engines.puppet.pipeline import median_face_box, prepare, render_frames

        prep = prepare(request, progress)
        try:
            h, w = prep.frames.shape[1:3]
            boxes = []
            encode = 0.0
            progress.stage("render", total=prep.n_out)
            started = time.monotonic()
            with VideoWriter(request.output, w, h, request.audio, fps=request.fps) as writer:
                for i, (image, points) in enumerate(render_frames(prep)):
                    boxes.append(face_box(points))
                    t = time.monotonic()
                    writer.write(image)
                    encode += time.monotonic() - t
                    progress.update("render", i + 1, prep.n_out)
                t = time.monotonic()
            encode += time.monotonic() - t  # closing: x264 flushes its last frames
            timings = {**prep.timings_s, "render": time.monotonic() - started - encode, "encode": encode}
        finally:
            prep.close()
        kind = "photo" if request.image is not None else "video"
        return EngineOutput(
            frames=prep.n_out, fps=float(request.fps), duration_s=prep.audio_s,
            message=f"rendered {prep.n_out} frames with puppet ({kind} source, mouth from the {prep.driver})",
            timings_s=timings, warnings=prep.warnings,
            details={"face_box": median_face_box(boxes, w, h), "source_frames": int(len(prep.frames)),
                     "mouth_driver": prep.driver})


def _graph_starts() -> Unhealthy | None:
    """Run the face mesh once on a tiny blank frame: that loads every model file a render loads."""
    import numpy as np

    from musetalk_wrapper.engines.puppet.tracking import FaceMesh

    mesh = FaceMesh(video=False)
    try:
        mesh.detect(np.zeros((HEALTH_FRAME_PX, HEALTH_FRAME_PX, 3), np.uint8))
    except EngineError as err:
        return Unhealthy(err.message, tuple(err.details.get("fix", ())))
    finally:
        mesh.close()
    return None
