"""Engine venvs: specs live in ``envs/<name>/`` of the repo, built venvs in ``$PRESGEN_ENVS_HOME/<name>``."""
