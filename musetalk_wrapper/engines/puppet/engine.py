"""PuppetEngine: the default avatar engine where no MuseTalk weights exist (see the package docstring).

One engine instance keeps the sources it prepared (decoded frames, face track, mouth rig and bank), keyed by the
source file and the options that change preparation, so a batch of render() calls on one source (one clip per
script section) prepares it once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from musetalk_wrapper.contract import (
    EngineError,
    EngineOutput,
    Unhealthy,
    rebuild_env_command,
    unavailable_missing_package,
)
from musetalk_wrapper.engines.puppet import ENV
from musetalk_wrapper.face_mesh_solution import MEDIAPIPE_VERSION, face_mesh_module, mediapipe_version
from musetalk_wrapper.progress import Progress
from musetalk_wrapper.request import RenderRequest

if TYPE_CHECKING:
    from musetalk_wrapper.engines.puppet.prepared import PreparedSource

HEALTH_FRAME_PX = 64  # side of the blank frame the health check runs the face mesh on
MAX_KEPT_SOURCES = 2  # prepared sources kept between render() calls (each may hold up to 1 GiB of frames in RAM)


class PuppetEngine:
    name = "puppet"

    def __init__(self) -> None:
        self._sources: dict[tuple[object, ...], PreparedSource] = {}  # source_key -> PreparedSource, oldest first

    def health(self, request: RenderRequest | None) -> Unhealthy | None:
        fix = (rebuild_env_command(ENV),)
        for module, package in (("numpy", "numpy"), ("cv2", "opencv-contrib-python")):
            try:
                __import__(module)
            except ImportError:
                return Unhealthy(unavailable_missing_package(package, ENV, module).message, fix)
        try:
            face_mesh_module()
        except ImportError as exc:
            if mediapipe_version() == "not installed":
                return Unhealthy(unavailable_missing_package("mediapipe", ENV, "mediapipe").message, fix)
            return Unhealthy(
                f"mediapipe {mediapipe_version()} has no face mesh solution ({exc}); "
                f"the puppet engine needs mediapipe=={MEDIAPIPE_VERSION}; run: {fix[0]}",
                fix,
            )
        return _graph_starts()

    def prepare(self, request: RenderRequest, progress: Progress) -> None:
        """Prepare the request's source ahead of its clips (kept for the render() calls that use it)."""
        from musetalk_wrapper.engines.puppet.prepared import prepare_source, source_key

        key = source_key(request)
        if key not in self._sources:
            self._sources[key] = prepare_source(request, progress)

    def render(self, request: RenderRequest, progress: Progress) -> EngineOutput:
        from musetalk_wrapper.engines.puppet.prepared import no_face_error, prepare_source, source_key
        from musetalk_wrapper.engines.puppet.render import render_clip
        from musetalk_wrapper.engines.puppet.tracking import NoUsableFace

        key = source_key(request)
        source = self._sources.pop(key, None)
        reused = source is not None
        if source is None:
            source = prepare_source(request, progress)
        try:
            out = render_clip(request, source, progress)
        except NoUsableFace as exc:
            frame = source.frame(exc.frame_index)
            source.close()
            raise no_face_error(request, exc, frame) from None
        except BaseException:
            source.close()
            raise
        self._sources[key] = source
        while len(self._sources) > MAX_KEPT_SOURCES:
            self._sources.pop(next(iter(self._sources))).close()
        out.details["source_reused"] = reused
        return out

    def close(self) -> None:
        for source in self._sources.values():
            source.close()
        self._sources.clear()


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
