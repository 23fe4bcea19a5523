"""The ``musetalk`` engine: MuseTalk V1.5 inference with our own code on the official checkpoints.

``health()`` is cheap (no torch import): packages present, weights files present and sane. The heavy
imports happen in ``render()`` (see ``render.py``); the instance keeps what a render loaded and prepared, so
several renders on one instance load the networks and prepare a source once.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from musetalk_wrapper import weights
from musetalk_wrapper.contract import EngineOutput, Unhealthy, rebuild_env_command, unavailable_missing_package
from musetalk_wrapper.engines.musetalk.landmarks import DWPOSE_DEFAULT, dwpose_model_path
from musetalk_wrapper.progress import Progress
from musetalk_wrapper.request import RenderRequest

ENV_NAME = "musetalk"
# import name -> PyPI package
REQUIRED_PACKAGES = {
    "torch": "torch",
    "diffusers": "diffusers",
    "transformers": "transformers",
    "safetensors": "safetensors",
    "cv2": "opencv-contrib-python",
    "numpy": "numpy",
    "imageio_ffmpeg": "imageio-ffmpeg",
}
BACKEND_PACKAGES = {"mediapipe": ("mediapipe", "mediapipe"), "dwpose-onnx": ("onnxruntime", "onnxruntime")}


class MuseTalkEngine:
    """Keeps its networks and prepared sources between ``render()`` calls (a batch of sections)."""

    name = "musetalk"

    def __init__(self) -> None:
        self._session: Any = None

    def health(self, request: RenderRequest | None) -> Unhealthy | None:
        landmarks = request.landmarks if request is not None else "mediapipe"
        packages = dict(REQUIRED_PACKAGES)
        if landmarks in BACKEND_PACKAGES:
            module, package = BACKEND_PACKAGES[landmarks]
            packages[module] = package
        for module, package in packages.items():
            if importlib.util.find_spec(module) is None:
                return Unhealthy(
                    unavailable_missing_package(package, ENV_NAME, module).message, (rebuild_env_command(ENV_NAME),)
                )
        models_dir = weights.resolve_models_dir(request.models_dir if request is not None else None)
        problem = weights.first_problem(models_dir)
        if problem:
            return Unhealthy(problem, (weights.fetch_all_command(models_dir),))
        if request is not None and landmarks == "dwpose-onnx":
            path = dwpose_model_path(request, models_dir)
            if not path.is_file():
                wf = weights.BY_PATH[DWPOSE_DEFAULT]
                fix = f"{weights.fetch_command(wf, models_dir)} (by hand: {weights.manual_command(wf, models_dir)})"
                return Unhealthy(
                    f"--landmarks dwpose-onnx needs the DWPose ONNX model, not found at {path};"
                    f" pass --dwpose-model or fetch it with: {fix}",
                    (weights.fetch_command(wf, models_dir),),
                )
        return None

    def render(self, request: RenderRequest, progress: Progress) -> EngineOutput:
        from musetalk_wrapper.engines.musetalk.render import Session

        if self._session is None:
            self._session = Session()
        return self._session.render(request, progress)  # type: ignore[no-any-return]
