"""Engine registry. Engines are imported lazily by name so that one engine's missing
dependencies never stop another from running, and engines never import each other."""

from __future__ import annotations

import importlib
from typing import Protocol

from musetalk_wrapper.contract import EngineError, EngineOutput, ErrorCode, Unhealthy, rebuild_env_command
from musetalk_wrapper.progress import Progress
from musetalk_wrapper.request import RenderRequest


class Engine(Protocol):
    name: str

    def health(self, request: RenderRequest | None) -> Unhealthy | str | None:
        """Why this engine cannot run here (missing package, weights) and the fix, or None when it can. It runs
        what a render runs first (imports, model files, loading the graph), so a healthy answer can be trusted."""

    def render(self, request: RenderRequest, progress: Progress) -> EngineOutput:
        """Write ``request.output`` (atomically) or raise EngineError.

        An engine may also have ``prepare(request, progress)``: make the source ready before any clip is known
        (``--segments -``), so the render() calls that follow start at once."""


# name -> (module, class, venv that carries its dependencies)
ENGINES: dict[str, tuple[str, str, str]] = {
    "puppet": ("musetalk_wrapper.engines.puppet.engine", "PuppetEngine", "puppet"),
    "musetalk": ("musetalk_wrapper.engines.musetalk.engine", "MuseTalkEngine", "musetalk"),
    "musetalk-upstream": ("musetalk_wrapper.engines.musetalk_upstream.engine", "UpstreamEngine", "musetalk-upstream"),
}
DEFAULT_ENGINE = "puppet"


def load_engine(name: str) -> Engine:
    if name not in ENGINES:
        raise EngineError(ErrorCode.BAD_INPUT, f"unknown engine '{name}'; choose one of: {', '.join(ENGINES)}")
    module_name, class_name, env = ENGINES[name]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        missing = getattr(exc, "name", None) or str(exc)
        raise EngineError(
            ErrorCode.ENGINE_UNAVAILABLE,
            f"engine '{name}' cannot import '{missing}' in this interpreter; run: {rebuild_env_command(env)}",
            {"missing_package": missing, "env": env, "fix": [rebuild_env_command(env)]},
        ) from exc
    engine: Engine = getattr(module, class_name)()
    return engine
