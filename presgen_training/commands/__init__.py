"""One module per ``presgen`` subcommand. Each has ``register(subparsers)`` which adds its parser and
sets ``func=run`` (``run(args) -> int``)."""
