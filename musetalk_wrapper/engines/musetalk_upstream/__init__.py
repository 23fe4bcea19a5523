"""The ``musetalk-upstream`` engine: upstream MuseTalk's own ``scripts/inference.py`` (from ``vendor/MuseTalk``),
run as a subprocess in the ``musetalk-upstream`` env, its result re-encoded to our output contract.

This process never imports torch: it writes upstream's config, runs upstream, checks and re-encodes the video.
"""
