"""MediaPipe's face mesh solution, imported without the rest of mediapipe.

``import mediapipe`` runs mediapipe/__init__.py, which imports every solution, the tasks API and the drawing
helpers, and those import matplotlib.pyplot: 1.5-3 s of every engine start (and every ``--check``) for code no
engine calls. The face mesh needs only the framework bindings (``mediapipe.python``) and its own module, so the two
package levels above it are registered as plain packages and just ``solutions.face_mesh`` is imported. The env pins
mediapipe (MEDIAPIPE_VERSION), whose layout this relies on; a process that imported mediapipe whole keeps it.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import importlib.util
import sys
from types import ModuleType
from typing import Any

MEDIAPIPE_VERSION = "0.10.21"  # the last release with mp.solutions and the face models inside the wheel
_PACKAGES = ("mediapipe", "mediapipe.python.solutions")  # whose __init__ imports what the face mesh never uses


@functools.lru_cache(maxsize=1)
def face_mesh_module() -> ModuleType:
    """``mediapipe.python.solutions.face_mesh``; ImportError when mediapipe is not installed, AttributeError-free
    otherwise (a mediapipe without it raises ImportError naming the module)."""
    whole = sys.modules.get("mediapipe")
    if whole is not None and hasattr(whole, "solutions"):
        module: ModuleType = whole.solutions.face_mesh
        return module
    for name in _PACKAGES:
        if name not in sys.modules:
            _register_plain_package(name)
    return importlib.import_module("mediapipe.python.solutions.face_mesh")


def _register_plain_package(name: str) -> None:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.submodule_search_locations is None:
        raise ImportError(f"No module named '{name}'", name=name)
    package = ModuleType(name)
    package.__path__ = list(spec.submodule_search_locations)
    package.__spec__ = spec
    package.__package__ = name
    sys.modules[name] = package
    parent, _, child = name.rpartition(".")
    if parent and parent in sys.modules:
        setattr(sys.modules[parent], child, package)


def new_face_mesh(**options: Any) -> Any:
    """A ``FaceMesh`` graph with ``options`` (static_image_mode, max_num_faces, refine_landmarks, ...)."""
    return face_mesh_module().FaceMesh(**options)


def mediapipe_version() -> str:
    try:
        return importlib.metadata.version("mediapipe")
    except importlib.metadata.PackageNotFoundError:
        return "not installed"
