"""Engine venvs: specs live in ``envs/<name>/`` of the repo, built venvs in ``$PRESGEN_ENVS_HOME/<name>``.

Modules: ``locate`` (where things are, which interpreter is ready), ``spec`` (env.json), ``pythons`` (finding
a Python that fits), ``build`` (atomic create/remove, states), ``health`` (the health check), ``selection``
(``engine_python`` for the render pipeline), ``vendor`` (cloning upstream MuseTalk).
"""

from presgen_training.envs.selection import engine_python

__all__ = ["engine_python"]
