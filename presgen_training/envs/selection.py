"""Which interpreter runs an engine: the render pipeline asks ``engine_python``.

The env comes from, first found wins: ``--env NAME``, the config's ``[engines] <engine>_env``, the default
(the engine table, ``presgen_training/engines.py``). Its interpreter comes from ``PRESGEN_ENV_<NAME>``, then the
config's ``[envs.<name>] python``, then the built venv (``locate.env_python``).
"""

from __future__ import annotations

import os
from pathlib import Path

from presgen_training.config import UserConfig
from presgen_training.engines import DEFAULT_ENGINE_ENVS
from presgen_training.envs.locate import env_python, env_var_name, specs_dir
from presgen_training.envs.spec import SpecError, load_spec


def engine_env(engine: str, env_override: str | None, config: UserConfig) -> str:
    return env_override or config.engine_envs.get(engine) or DEFAULT_ENGINE_ENVS.get(engine, engine)


def engine_python(engine: str, env_override: str | None, config: UserConfig) -> tuple[Path | None, str | None, str]:
    """(python, None, env name) for the env that runs ``engine``, or (None, reason, env name)."""
    env = engine_env(engine, env_override, config)
    if (specs_dir() / env).is_dir():
        try:
            spec = load_spec(env)
        except SpecError as exc:
            return None, str(exc), env
        if spec.engines and engine not in spec.engines:
            return (
                None,
                (
                    f"env '{env}' does not carry engine '{engine}' (envs/{env}/env.json lists: "
                    f"{', '.join(spec.engines)})"
                ),
                env,
            )
    if os.environ.get(env_var_name(env)):
        python, reason = env_python(env)
    elif env in config.env_pythons:
        python, reason = env_python(env, config.env_pythons[env])
        if reason is not None:
            reason = f"{reason} (set by [envs.{env}] python in {config.path})"
    else:
        python, reason = env_python(env)
    return python, reason, env
